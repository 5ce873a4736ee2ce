"""Django's Redis cache, with one Redis client per connection pool instead of one per operation,
and one pipelined call for what an anonymous read needs (`get_many_and_count`).

Django's RedisCacheClient builds a new `redis.Redis` object (and its table of response callbacks)
for every cache call; a response-cache hit makes one to three calls, so that construction was a
visible part of it. A client is thread-safe and takes its connections from the pool, so one per
pool serves every thread of the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.cache.backends import redis as django_redis

if TYPE_CHECKING:
    from counties.shared_cache import Count, Counted


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
        self._count_script = None

    def get_many_and_count(self, keys: list[str], count: Count | None) -> tuple[dict[str, Any], Counted | None]:
        """`get_many(keys)` and, in the same round trip, INCR of a window counter (with its expiry)
        and a read of the previous window's: see counties.shared_cache.read_and_count. One command
        (a script when counting): on a cache hit redis-py's own work per command is a good part of
        the cost, beside the round trip itself."""
        from counties.shared_cache import Counted

        made = [self.make_and_validate_key(key) for key in keys]
        client = self._cache.get_client(write=count is not None)
        if count is None:
            values = [client.get(made[0])] if len(made) == 1 else client.mget(made) if made else []
            counted = None
        else:
            counter = [self.make_and_validate_key(count.current), self.make_and_validate_key(count.previous)]
            if self._count_script is None:
                self._count_script = client.register_script(COUNT_SCRIPT)  # loaded on first use
            values, current, previous = self._count_script([*made, *counter], [count.timeout], client=client)
            counted = Counted(int(current), int(previous or 0))
        loads = self._cache._serializer.loads
        return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}, counted
