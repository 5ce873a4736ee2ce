"""Django's Redis cache, with one Redis client per connection pool instead of one per operation,
and one command for what an anonymous read needs (`get_many_and_count`), sent on a pooled
connection directly.

Django's RedisCacheClient builds a new `redis.Redis` object (and its table of response callbacks)
for every cache call; a response-cache hit makes one to three calls, so that construction was a
visible part of it. A client is thread-safe and takes its connections from the pool, so one per
pool serves every thread of the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.cache.backends import redis as django_redis
from redis.exceptions import NoScriptError, ResponseError

if TYPE_CHECKING:
    from registry.caching.shared import Count, Counted


# Reads KEYS but the last two, adds one to the second-last (kept ARGV[1] seconds), reads the last.
COUNT_SCRIPT = """
local found = {}
if #KEYS > 2 then found = redis.call('MGET', unpack(KEYS, 1, #KEYS - 2)) end
local current = redis.call('INCR', KEYS[#KEYS - 1])
redis.call('EXPIRE', KEYS[#KEYS - 1], ARGV[1])
return {found, current, redis.call('GET', KEYS[#KEYS])}
"""


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._count_sha: str | None = None

    def get_many_and_count(self, keys: list[str], count: Count | None) -> tuple[dict[str, Any], Counted | None]:
        """`get_many(keys)` and, in the same round trip, INCR of a window counter (with its expiry)
        and a read of the previous window's: see registry.caching.shared.read_and_count. One command
        (a script when counting). The keys are the registry's own (a constant, and the client's
        address for a counter), so they are not scanned for what memcached would refuse, as
        `make_and_validate_key` does, character by character, on every call: Redis takes any key."""
        from registry.caching.shared import Counted

        made = [self.make_key(key) for key in keys]
        write = count is not None
        if count is None:
            values = [self._command(write, "GET", made[0])] if len(made) == 1 else self._command(write, "MGET", *made) if made else []
            counted = None
        else:
            counter = [self.make_key(count.current), self.make_key(count.previous)]
            values, current, previous = self._script(write, [*made, *counter], count.timeout)
            counted = Counted(int(current), int(previous or 0))
        loads = self._cache._serializer.loads
        return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}, counted

    def _script(self, write: bool, keys: list[str], *args: Any) -> Any:
        """COUNT_SCRIPT by its digest, loaded into this Redis on first use (or after a restart)."""
        if self._count_sha is None:
            self._count_sha = self._cache.get_client(write=True).script_load(COUNT_SCRIPT)
        try:
            return self._command(write, "EVALSHA", self._count_sha, len(keys), *keys, *args)
        except NoScriptError:
            self._count_sha = None  # a restarted Redis has forgotten it
            return self._script(write, keys, *args)

    def _command(self, write: bool, *args: Any) -> Any:
        """One command on a connection of the cache's pool, read with redis-py's (hiredis) parser.

        Not through `redis.Redis.execute_command`: its layers around the round trip (retry wrapper,
        response callbacks, the observability recorder) cost a cached answer more CPU than the
        round trip itself, on every request. Nothing is retried here: the caller (the front door,
        or the response cache) lets Django answer instead, whose cache calls retry. A connection
        that failed is closed, so the pool opens a new one next time."""
        pool = self._cache._get_connection_pool(write)
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
