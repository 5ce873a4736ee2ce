"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django's RedisCacheClient builds a new `redis.Redis` object (and its table of response callbacks)
for every cache call; a response-cache hit makes one to three calls, so that construction was a
visible part of it. A client is thread-safe and takes its connections from the pool, so one per
pool serves every thread of the process.
"""

from django.core.cache.backends import redis as django_redis


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
