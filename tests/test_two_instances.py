"""Two app servers (gunicorn) on different ports, sharing one database and one Redis, as production
runs N instances: an edit through one is seen at once through the other, in its cached pages and API
answers alike, and the anonymous rate limit is one limit across both.

The database is the suite's kind: a fresh SQLite file (both servers on the same file) or a fresh
PostgreSQL database beside the test database, built with the real commands. Like the other Redis
tests it is skipped only when REDIS_TEST_URL is unset (CI sets it); a Redis that does not answer,
or a missing gunicorn (it is in requirements.txt), fails it.
"""

import importlib.util
import json
import os
import sys

import pytest

from .conftest import REDIS_TEST_URL, Instance, database_url, redis_cache, run

ANON_RATE = 6
# Both servers are told there is one proxy in front (as in docker-compose), so each test can speak
# for its own client address through X-Forwarded-For and start with a fresh count.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "registry.settings_test",
    "CACHE_URL": REDIS_TEST_URL,
    "API_ANON_RATE": f"{ANON_RATE}/minute",
    "TRUSTED_PROXY_COUNT": "1",
    "RESPONSE_CACHE": "1",
    "LOG_LEVEL": "WARNING",
}

WRITER_SCRIPT = """
import django; django.setup()
from django.contrib.auth.models import User
from counties.models import ApiToken, Batch
user = User.objects.create_superuser("two-instances", password="unused-password-7f3a")
_, key = ApiToken.issue(user, "two instances", can_write=True)
print(key, Batch.objects.get(year=2018).pk)
"""


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory):
    cache = redis_cache()  # skips without REDIS_TEST_URL; fails if it does not answer
    if importlib.util.find_spec("gunicorn") is None:
        pytest.fail("gunicorn is not installed; it is in requirements.txt (make test installs it)")
    import redis

    redis.Redis.from_url(cache["LOCATION"]).flushdb()
    url, drop = database_url(tmp_path_factory)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | SERVER_ENV | {"DATABASE_URL": url}
    instances = []
    try:
        manage = [sys.executable, "manage.py"]
        run([*manage, "migrate", "--noinput"], env)
        run([*manage, "load_reference_data"], env)
        key, batch_2018 = run([sys.executable, "-c", WRITER_SCRIPT], env).split()
        logs = tmp_path_factory.mktemp("gunicorn")
        instances = [Instance(env, logs / f"{name}.log") for name in ("a", "b")]
        for instance in instances:
            instance.wait()
        yield instances[0], instances[1], key, int(batch_2018)
    finally:
        for instance in instances:
            instance.stop()
        redis.Redis.from_url(cache["LOCATION"]).flushdb()
        drop()


def designations(instance: Instance, client: str) -> int:
    status, _, body = instance.get("/api/v1/designations/?unit=110101", **{"X-Forwarded-For": client})
    assert status == 200
    return json.loads(body)["count"]


def test_an_edit_through_one_instance_is_seen_at_once_through_the_other(two_instances):
    a, b, key, batch_2018 = two_instances
    client = "203.0.113.10"
    page = "/en/counties/110101/"
    before_page = b.get(page)[2]
    assert b.get(page)[2] == before_page  # the second answer is the cached one
    before = designations(b, client)
    assert designations(b, client) == before
    assert b.get(page, **{"If-None-Match": b.get(page)[1]["ETag"]})[0] == 304

    payload = {"unit": "110101", "batch": batch_2018, "kind": "new", "source": "商建函〔2018〕1号", "source_kind": "official"}
    status, _, body = a.request("POST", "/api/v1/designations/?reason=two-instances", payload, Authorization=f"Token {key}")
    assert status == 201, body

    # No delay, no purge: the other instance's next answers are made from the new data.
    assert designations(b, client) == before + 1
    after_page = b.get(page)[2]
    assert after_page != before_page
    assert designations(a, client) == before + 1


def test_the_anonymous_limit_is_one_limit_across_both_instances(two_instances):
    a, b, _key, _batch = two_instances
    client = {"X-Forwarded-For": "203.0.113.20"}
    url = "/api/v1/stats/coverage/?as_of=2019"
    statuses = [(a if n % 2 else b).get(url, **client)[0] for n in range(ANON_RATE)]
    assert statuses == [200] * ANON_RATE  # three through each, most of them cached answers
    for instance in (a, b):
        status, headers, _ = instance.get(url, **client)
        assert status == 429
        assert int(headers["Retry-After"]) > 0
    assert a.get(url, **{"X-Forwarded-For": "203.0.113.21"})[0] == 200  # another client has its own count
