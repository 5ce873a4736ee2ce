"""The cache on Redis: Django's cache API on one redis-py client per cache, and one command for what
an anonymous read needs (`get_many_and_count`), sent on a pooled connection directly.

Django's own RedisCache builds a new `redis.Redis` object (and its table of response callbacks)
for every cache call; a response-cache hit makes one to three calls, so that construction was a
visible part of it. A client is thread-safe and takes its connections from its pool, so one serves
every call. Django's backend has no public way to choose its client or to reach its serializer,
so this one is built on BaseCache (Django's base for cache backends) with redis-py's public API;
values are written as Django's backend writes them (its RedisSerializer), so either reads the other's.

When Redis does not answer. Every command is bounded by the socket timeouts of CACHE_URL's options
(CACHE_SOCKET_TIMEOUT, to connect and to read each reply). A command that fails (refused, reset,
timed out, an error reply) raises `CacheUnavailable` and opens the process's breaker for this
Redis: for CACHE_RETRY_SECONDS every command raises `CacheUnavailable` at once, without touching
the network, so an outage costs one timeout per process and interval, not one per request. Then
one command tries again; if Redis answers, the breaker closes. What a caller does without the
cache is its own to say (counties.caching.shared: the registry's reads go on uncached).

The first command after an outage first deletes the data token's shared copy
(`STALE_AFTER_OUTAGE`): a write committed while this process could not reach Redis could not
publish its new token, and a Redis that was unreachable rather than restarted still holds the old
one; deleted, the next reader takes the token from the database (counties.caching.token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisSerializer
from redis.exceptions import NoScriptError, RedisError, ResponseError

from counties.caching.keys import TOKEN_COPY_KEY
from counties.caching.shared import CacheUnavailable, Counted

if TYPE_CHECKING:
    from collections.abc import Iterable

    from counties.caching.shared import Count

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Deleted by the first command after an outage (see the module's docstring).
STALE_AFTER_OUTAGE = (TOKEN_COPY_KEY,)


# Reads KEYS but the last two, adds one to the second-last (kept ARGV[1] seconds), reads the last.
COUNT_SCRIPT = """
local found = {}
if #KEYS > 2 then found = redis.call('MGET', unpack(KEYS, 1, #KEYS - 2)) end
local current = redis.call('INCR', KEYS[#KEYS - 1])
redis.call('EXPIRE', KEYS[#KEYS - 1], ARGV[1])
return {found, current, redis.call('GET', KEYS[#KEYS])}
"""


class Breaker:
    """Whether this process skips a Redis for now, after a command to it failed. One per Redis
    and process: Django makes a cache object per thread, and every thread should skip it."""

    def __init__(self) -> None:
        self.failed_at = 0.0  # time.monotonic() of the last failure
        self.failed = False  # a command failed and none has succeeded since
        self.lock = threading.Lock()

    def check(self) -> None:
        if self.failed and time.monotonic() < self.failed_at + settings.CACHE_RETRY_SECONDS:
            raise CacheUnavailable("the cache did not answer a moment ago; it is skipped until the retry interval is over")

    def trip(self, error: BaseException) -> None:
        with self.lock:
            if not self.failed:
                logger.warning("The cache (Redis) is not answering; reads go on without it for now: %s", error)
            self.failed = True
            self.failed_at = time.monotonic()

    def close(self) -> None:
        with self.lock:
            if self.failed:
                logger.warning("The cache (Redis) answers again.")
            self.failed = False


_BREAKERS: dict[str, Breaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(server: str) -> Breaker:
    with _BREAKERS_LOCK:
        return _BREAKERS.setdefault(server, Breaker())


class RedisCache(BaseCache):
    """LOCATION is one redis:// URL; OPTIONS are redis-py's connection pool options."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(server, **params.get("OPTIONS", {})))
        self.serializer = RedisSerializer()
        self._count_sha: str | None = None
        self.breaker = breaker_for(server)

    def _guarded(self, command: Callable[[], T]) -> T:
        """Run `command` unless the breaker is open; a failure opens it (see the module's docstring)."""
        breaker = self.breaker
        breaker.check()
        try:
            if breaker.failed:  # the first command after an outage
                self.client.delete(*(self.make_key(key) for key in STALE_AFTER_OUTAGE))
                breaker.close()
            return command()
        except NoScriptError:
            raise  # Redis answered: _script loads the script again
        except (RedisError, OSError) as error:
            breaker.trip(error)
            raise CacheUnavailable(str(error)) from error

    def ping(self) -> bool:
        """Whether Redis answers (the health check's question), through the breaker."""
        try:
            return bool(self._guarded(self.client.ping))
        except CacheUnavailable:
            return False

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
            added = bool(self._guarded(lambda: self.client.set(key, self.serializer.dumps(value), nx=True)))
            if added:
                self._guarded(lambda: self.client.delete(key))
            return added
        return bool(self._guarded(lambda: self.client.set(key, self.serializer.dumps(value), ex=seconds, nx=True)))

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        made = self.make_and_validate_key(key, version=version)
        value = self._guarded(lambda: self.client.get(made))
        return default if value is None else self.load(value)

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        if seconds == 0:
            self._guarded(lambda: self.client.delete(key))
        else:
            self._guarded(lambda: self.client.set(key, self.serializer.dumps(value), ex=seconds))

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        return bool(self._guarded(lambda: self.client.persist(key) if seconds is None else self.client.expire(key, seconds)))

    def delete(self, key: str, version: int | None = None) -> bool:
        made = self.make_and_validate_key(key, version=version)
        return bool(self._guarded(lambda: self.client.delete(made)))

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not made:
            return {}
        values = self._guarded(lambda: self.client.mget(list(made)))
        return {made[key]: self.load(value) for key, value in zip(made, values, strict=True) if value is not None}

    def has_key(self, key: str, version: int | None = None) -> bool:
        made = self.make_and_validate_key(key, version=version)
        return bool(self._guarded(lambda: self.client.exists(made)))

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        if not self._guarded(lambda: self.client.exists(key)):
            raise ValueError(f"Key '{key}' not found.")
        return int(self._guarded(lambda: self.client.incr(key, delta)))

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
        self._guarded(pipeline.execute)
        return []

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        if made:
            self._guarded(lambda: self.client.delete(*made))

    def clear(self) -> None:
        self._guarded(self.client.flushdb)

    def load(self, value: bytes | str) -> Any:
        return self.serializer.loads(cast(bytes, value))  # the client leaves replies undecoded: bytes

    # -- the registry's own ----------------------------------------------------------------------

    def get_many_and_count(self, keys: list[str], count: Count | None) -> tuple[dict[str, Any], Counted | None]:
        """`get_many(keys)` and, in the same round trip, INCR of a window counter (with its expiry)
        and a read of the previous window's: see counties.caching.shared.read_and_count. One command
        (a script when counting). The keys are the registry's own (a constant, and the client's
        address for a counter), so they are not scanned for what memcached would refuse, as
        `make_and_validate_key` does, character by character, on every call: Redis takes any key."""
        made = [self.make_key(key) for key in keys]
        if count is None:
            if not made:
                return {}, None
            if len(made) == 1:
                values = [self._guarded(lambda: self._command("GET", made[0]))]
            else:
                values = self._guarded(lambda: self._command("MGET", *made))
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
            self._count_sha = self._guarded(lambda: self.client.script_load(COUNT_SCRIPT))
        sha = self._count_sha
        try:
            return self._guarded(lambda: self._command("EVALSHA", sha, len(keys), *keys, *args))
        except NoScriptError:
            self._count_sha = None  # a restarted Redis has forgotten it
            return self._script(keys, *args)

    def _command(self, *args: Any) -> Any:
        """One command on a connection of the cache's pool, read with redis-py's (hiredis) parser.

        Not through `redis.Redis.execute_command`: its layers around the round trip (retry wrapper,
        response callbacks, the observability recorder) cost a cached answer more CPU than the
        round trip itself, on every request. Nothing is retried here (a failure opens the breaker:
        the caller goes on without the cache). A connection that failed is closed, so the pool
        opens a new one next time."""
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
