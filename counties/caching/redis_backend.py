"""The cache on Redis: Django's cache API on one redis-py client per cache, and one command for what
an anonymous read needs (`get_many_and_count`), sent on a pooled connection directly.

Django's own RedisCache builds a new `redis.Redis` object (and its table of response callbacks)
for every cache call; a response-cache hit makes one to three calls, so that construction was a
visible part of it. A client is thread-safe and takes its connections from its pool, so one serves
every call. Django's backend has no public way to choose its client or to reach its serializer,
so this one is built on BaseCache (Django's base for cache backends) with redis-py's public API;
values are written as Django's backend writes them (its RedisSerializer), so either reads the other's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisSerializer
from redis.exceptions import NoScriptError, ResponseError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from counties.caching.shared import Count, Counted


# Reads KEYS but the last two, adds one to the second-last (kept ARGV[1] seconds), reads the last.
COUNT_SCRIPT = """
local found = {}
if #KEYS > 2 then found = redis.call('MGET', unpack(KEYS, 1, #KEYS - 2)) end
local current = redis.call('INCR', KEYS[#KEYS - 1])
redis.call('EXPIRE', KEYS[#KEYS - 1], ARGV[1])
return {found, current, redis.call('GET', KEYS[#KEYS])}
"""


class RedisCache(BaseCache):
    """LOCATION is one redis:// URL; OPTIONS are redis-py's connection pool options."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(server, **params.get("OPTIONS", {})))
        self.serializer = RedisSerializer()
        self._count_sha: str | None = None

    # -- Django's cache API, as Django's RedisCache does it -------------------------------------

    def get_backend_timeout(self, timeout: float | None = DEFAULT_TIMEOUT) -> int | None:
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        # None keeps the key for good; 0 or less removes it.
        return None if timeout is None else max(0, int(timeout))

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        if seconds == 0:
            added = bool(self.client.set(key, self.serializer.dumps(value), nx=True))
            if added:
                self.client.delete(key)
            return added
        return bool(self.client.set(key, self.serializer.dumps(value), ex=seconds, nx=True))

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        value = self.client.get(self.make_and_validate_key(key, version=version))
        return default if value is None else self.load(value)

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        if seconds == 0:
            self.client.delete(key)
        else:
            self.client.set(key, self.serializer.dumps(value), ex=seconds)

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        return bool(self.client.persist(key) if seconds is None else self.client.expire(key, seconds))

    def delete(self, key: str, version: int | None = None) -> bool:
        return bool(self.client.delete(self.make_and_validate_key(key, version=version)))

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not made:
            return {}
        values = self.client.mget(list(made))
        return {made[key]: self.load(value) for key, value in zip(made, values, strict=True) if value is not None}

    def has_key(self, key: str, version: int | None = None) -> bool:
        return bool(self.client.exists(self.make_and_validate_key(key, version=version)))

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        if not self.client.exists(key):
            raise ValueError(f"Key '{key}' not found.")
        return int(self.client.incr(key, delta))

    def set_many(self, data: dict[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> list[str]:
        if not data:
            return []
        values = {self.make_and_validate_key(key, version=version): self.serializer.dumps(value) for key, value in data.items()}
        seconds = self.get_backend_timeout(timeout)
        pipeline = self.client.pipeline()
        pipeline.mset(values)
        if seconds is not None:  # MSET sets no expiry
            for key in values:
                pipeline.expire(key, seconds)
        pipeline.execute()
        return []

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        if made:
            self.client.delete(*made)

    def clear(self) -> None:
        self.client.flushdb()

    def load(self, value: bytes | str) -> Any:
        return self.serializer.loads(cast(bytes, value))  # the client leaves replies undecoded: bytes

    # -- the registry's own ----------------------------------------------------------------------

    def get_many_and_count(self, keys: list[str], count: Count | None) -> tuple[dict[str, Any], Counted | None]:
        """`get_many(keys)` and, in the same round trip, INCR of a window counter (with its expiry)
        and a read of the previous window's: see counties.caching.shared.read_and_count. One command
        (a script when counting). The keys are the registry's own (a constant, and the client's
        address for a counter), so they are not scanned for what memcached would refuse, as
        `make_and_validate_key` does, character by character, on every call: Redis takes any key."""
        from counties.caching.shared import Counted

        made = [self.make_key(key) for key in keys]
        if count is None:
            values = [self._command("GET", made[0])] if len(made) == 1 else self._command("MGET", *made) if made else []
            counted = None
        else:
            counter = [self.make_key(count.current), self.make_key(count.previous)]
            values, current, previous = self._script([*made, *counter], count.timeout)
            counted = Counted(int(current), int(previous or 0))
        loads = self.load
        return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}, counted

    def _script(self, keys: list[str], *args: Any) -> Any:
        """COUNT_SCRIPT by its digest, loaded into this Redis on first use (or after a restart)."""
        if self._count_sha is None:
            self._count_sha = self.client.script_load(COUNT_SCRIPT)
        try:
            return self._command("EVALSHA", self._count_sha, len(keys), *keys, *args)
        except NoScriptError:
            self._count_sha = None  # a restarted Redis has forgotten it
            return self._script(keys, *args)

    def _command(self, *args: Any) -> Any:
        """One command on a connection of the cache's pool, read with redis-py's (hiredis) parser.

        Not through `redis.Redis.execute_command`: its layers around the round trip (retry wrapper,
        response callbacks, the observability recorder) cost a cached answer more CPU than the
        round trip itself, on every request. Nothing is retried here: the caller (the front door,
        or the response cache) lets Django answer instead, whose cache calls retry. A connection
        that failed is closed, so the pool opens a new one next time."""
        pool = self.client.connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command(*args)
            return connection.read_response()
        except ResponseError:
            raise  # Redis answered: the connection is fine
        except BaseException:
            connection.disconnect()
            raise
        finally:
            pool.release(connection)
