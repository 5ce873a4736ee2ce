"""Throttling by the real client address, and the state every worker must share, in a real Redis.

The throttle and cache tests run twice: on the per-process locmem cache and on Redis at
REDIS_TEST_URL (CI's .ci/run starts Redis and sets it). Without REDIS_TEST_URL the Redis runs are
skipped with a message; with it, an unreachable Redis fails them.
"""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache, caches
from django.test import RequestFactory

from counties import models
from counties.caching.clients import client_ip
from counties.reads import statistics
from counties.writes.services import save_record

from .conftest import PRODUCTION_ENV, REDIS_TEST_URL, ROOT, manage, redis_cache

pytestmark = pytest.mark.django_db


def anonymous(client, address="198.51.100.7", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.get("/api/v1/provinces/", **extra).status_code


def test_the_backend_is_the_one_configured(shared_cache):
    backend = type(caches["default"]).__name__
    assert backend == {"locmem": "LocMemCache", "redis": "RedisCache"}[shared_cache]


def test_every_cache_call_answers_as_django_s_backends_do(shared_cache):
    """The Redis backend is the registry's own (on Django's BaseCache): each call of Django's cache
    API keeps its meaning there, as on locmem."""
    assert cache.add("a", {"x": 1}) is True
    assert cache.add("a", 2) is False
    assert cache.get("a") == {"x": 1} and cache.get("missing", "default") == "default"
    cache.set("n", 5)
    assert (cache.incr("n", 2), cache.decr("n"), cache.get("n")) == (7, 6, 6)
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set_many({"b": [1, 2], "c": "三"}, timeout=60)
    assert cache.get_many(["b", "c", "missing"]) == {"b": [1, 2], "c": "三"}
    assert cache.get_many([]) == {}
    assert cache.has_key("b") and cache.delete("b") and not cache.has_key("b")
    cache.delete_many(["c", "n"])
    assert cache.get_many(["c", "n"]) == {}
    cache.set("gone", 1, timeout=0)  # kept for no time: not kept
    assert cache.get("gone") is None and cache.add("gone", 1, timeout=0) is True and cache.get("gone") is None
    assert cache.touch("a", 60) is True and cache.touch("missing") is False
    cache.set("v", "one", version=2)
    assert (cache.get("v"), cache.get("v", version=2)) == (None, "one")
    cache.clear()
    assert cache.get("a") is None


def test_values_pass_between_django_s_own_redis_backend_and_the_registry_s(settings):
    """The two write values alike, so processes of either kind can share one Redis (during a deploy)."""
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    settings.CACHES = {"default": redis_cache()}
    cache.clear()
    django_backend = DjangoRedisCache(REDIS_TEST_URL, {"KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"]})
    django_backend.set("from-django", {"值": [1, 2]})
    cache.set("from-registry", ("abc", 3))
    cache.set("counter", 4)
    assert cache.get("from-django") == {"值": [1, 2]}
    assert django_backend.get_many(["from-registry", "counter"]) == {"from-registry": ("abc", 3), "counter": 4}
    cache.clear()


def test_a_forged_forwarded_for_does_not_escape_the_limit(client, settings, shared_cache):
    """200 requests, each with its own X-Forwarded-For, were all answered."""
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    statuses = [anonymous(client, forwarded=f"203.0.113.{n}") for n in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert anonymous(client, address="198.51.100.8") == 200  # another real client has its own count


def test_behind_trusted_proxies_the_address_they_saw_counts(client, settings, shared_cache):
    settings.API_THROTTLE_RATES = {"anon": "2/minute", "token": "5/minute"}
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy (REMOTE_ADDR 10.0.0.1) appends the address it saw; what the client wrote before it is ignored.
    same = [anonymous(client, "10.0.0.1", f"forged-{n}, 203.0.113.5") for n in range(3)]
    assert same == [200, 200, 429]
    assert anonymous(client, "10.0.0.1", "203.0.113.6") == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1, 2.2.2.2", "10.0.0.1"),
        (1, "1.1.1.1, 2.2.2.2", "2.2.2.2"),
        (2, "1.1.1.1, 2.2.2.2", "1.1.1.1"),
        (3, "1.1.1.1, 2.2.2.2", "1.1.1.1"),  # fewer hops than proxies: the leftmost there is
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


THROTTLE_IN_ANOTHER_PROCESS = """
import django; django.setup()
from django.test import RequestFactory
from rest_framework.request import Request
from counties.caching.throttling import AnonThrottle
def request():
    return Request(RequestFactory().get("/api/v1/provinces/", REMOTE_ADDR="192.0.2.44"))
print(" ".join(str(AnonThrottle().allow_request(request(), None)) for _ in range(2)))
"""


def test_workers_share_one_limit_in_redis(client, settings):
    """Three workers allowed three times the limit: each counted in its own memory."""
    settings.CACHES = {"default": redis_cache()}
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    cache.clear()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "registry.settings_test", "CACHE_URL": REDIS_TEST_URL, "API_ANON_RATE": "3/minute"}
    other_worker = subprocess.run(
        [sys.executable, "-c", THROTTLE_IN_ANOTHER_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert other_worker.returncode == 0, other_worker.stderr
    assert other_worker.stdout.split() == ["True", "True"]
    # This process sees the other worker's two requests: one more is allowed, then the limit holds.
    assert [anonymous(client, "192.0.2.44") for _ in range(2)] == [200, 429]
    cache.clear()


def test_statistics_are_cached_and_never_stale(shared_cache, django_assert_num_queries):
    first = statistics.coverage(2018)
    # The numbers come from the cache; the data token from the database with locmem (another
    # process's edit must be seen), from its copy in Redis with Redis (counties.caching.token).
    with django_assert_num_queries(1 if shared_cache == "locmem" else 0):
        assert statistics.coverage(2018) == first
    record = models.Designation(
        unit=models.Unit.objects.get(code="110101"), batch=models.Batch.objects.get(year=2018), source="t", source_kind="official"
    )
    save_record(record, user=None, reason="test")  # every door writes through the services
    assert statistics.coverage(2018).batch_entries == first.batch_entries + 1 == 1017


def test_cache_and_proxy_settings_are_validated():
    result = manage("check", **(PRODUCTION_ENV | {"CACHE_URL": "memcached://127.0.0.1:11211"}))
    assert result.returncode != 0
    assert "CACHE_URL must be redis://host:port/db" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"CACHE_URL": "redis://:secret@/x"}))
    assert "CACHE_URL must look like redis://host:6379/0" in result.stderr
    assert "secret" not in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"TRUSTED_PROXY_COUNT": "-1"}))
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"CACHE_URL": "redis://127.0.0.1:6379/1", "TRUSTED_PROXY_COUNT": "2"}))
    assert result.returncode == 0, result.stderr


def test_one_round_trip_reads_and_counts_after_redis_forgets_its_script_or_drops_the_connection(settings):
    """`read_and_count` sends its command on a pooled connection itself (counties.caching.redis_backend):
    a Redis that forgot the counting script (a restart, SCRIPT FLUSH) gets it again, and a
    connection Redis closed is replaced (the pool sees it closed when handing it out)."""
    import redis

    from counties.caching.shared import Count, Counted, read_and_count

    settings.CACHES = {"default": redis_cache()}
    cache.clear()
    cache.set("token-copy", ("abc", 1))
    count = Count("counter:7", "counter:6", 120)
    assert read_and_count(["token-copy", "missing"], count) == ({"token-copy": ("abc", 1)}, Counted(1, 0))
    server = redis.Redis.from_url(REDIS_TEST_URL)
    server.script_flush()
    assert read_and_count(["token-copy"], count) == ({"token-copy": ("abc", 1)}, Counted(2, 0))
    server.client_kill_filter(_type="normal", skipme=True)  # every connection but this one
    assert read_and_count(["token-copy"], count) == ({"token-copy": ("abc", 1)}, Counted(3, 0))
    assert read_and_count(["token-copy"]) == ({"token-copy": ("abc", 1)}, None)
    cache.clear()
