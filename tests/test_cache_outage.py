"""The cache's Redis stopping, for real: reads go on uncached and correct, the health checks say so,
a write made meanwhile is reported as committed and seen once Redis is back, and the site uses the
cache again by itself (counties.caching.shared, redis_backend, token).

Each test starts its own `redis-server` on a free port (in memory only) and stops it under the
app's feet: killed (a crash, a restart empties it) or paused (a hang, or a network partition: it
comes back with what it held); in the test client, and under gunicorn with clients reading all
along. The test fails, never skips, without the redis-server binary (.ci/run installs it).
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.urls import reverse

from counties import models
from counties.caching import redis_backend
from registry.settings import cache_from_url

from .conftest import PRODUCTION_ENV, Instance, committed, database_url, free_port, manage, run
from .factories import designation_payload

pytestmark = pytest.mark.django_db

# Timeouts short enough for a test, as CACHE_SOCKET_TIMEOUT and CACHE_RETRY_SECONDS would set them.
SOCKET_TIMEOUT = 0.2
READS = [
    "/en/provinces/",
    "/en/batches/2018/",
    "/api/v1/stats/coverage/?as_of=2018",
    "/api/v1/designations/?batch_year=2018&page_size=5",
    "/api/v1/counties/130705/",
    "/en/counties/export.csv?scope=all&province=130000",
]


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; these tests need it (.ci/run installs it: apt-get install redis-server)")
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def keys(self) -> int:
        return redis.Redis.from_url(self.url, socket_timeout=2).dbsize()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.kill()


@pytest.fixture
def own_redis(settings):
    from django.core.cache import cache

    server = RedisServer()
    server.start()
    config = cache_from_url(server.url)
    config["OPTIONS"] = {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT}
    settings.CACHES = {"default": config}
    settings.CACHE_RETRY_SECONDS = 0.5
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"anon": "10000/minute"}
    try:
        yield server
    finally:
        server.stop()
        cache.close()


@pytest.fixture
def connections_made(monkeypatch):
    """How many times a connection to Redis was attempted."""
    made = []
    connect = redis.connection.AbstractConnection.connect

    def counting(self, *args, **kwargs):
        made.append(1)
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counting)
    return made


def read_all(client) -> dict[str, bytes]:
    answers = {url: client.get(url) for url in READS}
    assert {url: a.status_code for url, a in answers.items()} == dict.fromkeys(READS, 200)
    return {url: a.content for url, a in answers.items()}


def health(client, path: str) -> tuple[int, dict]:
    response = client.get(path)
    return response.status_code, response.json()


def write_during(client, admin_user) -> int:
    """An API write while the cache is down: answered 201, as committed."""
    _, key = models.ApiToken.issue(admin_user, "outage writer", can_write=True)
    with committed():
        response = client.post(
            "/api/v1/designations/?reason=notice", designation_payload(), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
        )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_killed_redis_leaves_reads_correct_and_the_site_recovers(client, own_redis, settings, connections_made, admin_user):
    before = read_all(client)
    assert own_redis.keys() > len(READS)  # answers, statistics and the token's copy are cached
    assert read_all(client) == before  # now from the cache
    assert health(client, "/readyz") == (200, {"status": "ok", "database": "ok", "cache": "ok"})

    # Killed while reads go on: every one of them is answered, with the same bytes.
    settings.CACHE_RETRY_SECONDS = 60
    killer = threading.Timer(0.05, own_redis.kill)
    killer.start()
    during = [read_all(client) for _ in range(6)]
    killer.join()
    assert all(answers == before for answers in during)
    assert read_all(client) == before

    # Liveness stays (the site answers), readiness does not; both say why.
    assert health(client, "/healthz") == (200, {"status": "ok", "database": "ok", "cache": "failing"})
    assert health(client, "/readyz") == (503, {"status": "error", "database": "ok", "cache": "failing"})

    # The breaker is open: a read waits for no timeout, it does not even try to connect.
    connections_made.clear()
    assert read_all(client) == before
    assert connections_made == []

    # A write while Redis is down is reported as committed and shows in the next reads.
    record = write_during(client, admin_user)
    assert client.get(f"/api/v1/designations/{record}/").status_code == 200
    after_write = read_all(client)
    assert after_write["/api/v1/designations/?batch_year=2018&page_size=5"] != before["/api/v1/designations/?batch_year=2018&page_size=5"]

    # Back (empty, as after a restart): after the retry interval the cache is used again.
    own_redis.start()
    settings.CACHE_RETRY_SECONDS = 0.5
    time.sleep(0.6)
    assert read_all(client) == after_write
    assert own_redis.keys() > len(READS)
    assert health(client, "/healthz") == (200, {"status": "ok", "database": "ok", "cache": "ok"})
    assert health(client, "/readyz")[0] == 200


def test_a_hung_redis_that_comes_back_serves_nothing_stale(client, own_redis, settings, admin_user):
    """Paused, Redis keeps the old token's copy and the answers cached under it; a write made
    meanwhile could not publish its new token. Back, it must not serve those answers."""
    url = "/api/v1/designations/?batch_year=2018&page_size=5"
    before = client.get(url).json()
    assert client.get(url).json() == before  # cached under the current token
    own_redis.pause()
    try:
        started = time.monotonic()
        assert client.get(url).json() == before  # one timeout, then without the cache
        assert time.monotonic() - started < 5 * SOCKET_TIMEOUT + 2
        write_during(client, admin_user)
        during = client.get(url).json()
        assert during["count"] == before["count"] + 1
    finally:
        own_redis.resume()
    time.sleep(0.6)  # the retry interval
    assert client.get(url).json() == during
    assert client.get(url).json() == during  # and again, now from the cache
    assert own_redis.keys() > 0


def test_a_write_is_committed_and_answered_when_the_cache_fails_after_it(client, own_redis, admin_user):
    """The token's bump runs after the commit: Redis failing there must not turn the write into a 500."""
    own_redis.kill()
    before = models.Designation.objects.count()
    write_during(client, admin_user)
    assert models.Designation.objects.count() == before + 1


def test_the_admin_reports_a_save_made_while_the_cache_is_down(client, own_redis, admin_client):
    record = models.Designation.objects.filter(batch__year=2019, source_kind="secondary").first()
    own_redis.kill()
    form = {"unit": record.unit_id, "batch": record.batch_id, "kind": record.kind, "is_old_revolutionary_base": "true"}
    form |= {"source": record.source, "source_kind": record.source_kind, "source_note": "", "loaded_version": record.updated_at.isoformat()}
    form |= {"change_reason": "an old revolutionary base county"}
    with committed():
        response = admin_client.post(reverse("admin:counties_designation_change", args=[record.pk]), form)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.is_old_revolutionary_base is True
    assert client.get(f"/api/v1/designations/{record.pk}/").json()["is_old_revolutionary_base"] is True


def test_rate_limits_count_in_the_process_while_the_cache_is_down(client, own_redis, settings):
    """Stated direction: never refused because of the outage; each worker then counts on its own."""
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"anon": "3/minute"}
    own_redis.kill()
    answers = [client.get("/api/v1/provinces/", REMOTE_ADDR="198.51.100.90").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]


def test_the_breaker_is_one_per_process_and_redis(own_redis):
    assert redis_backend.breaker_for(own_redis.url) is redis_backend.breaker_for(own_redis.url)
    assert redis_backend.breaker_for(own_redis.url) is not redis_backend.breaker_for(own_redis.url + "1")


def test_the_timeouts_are_validated():
    for name, value, message in [
        ("CACHE_SOCKET_TIMEOUT", "0", "CACHE_SOCKET_TIMEOUT must be more than 0 and at most 10 seconds, got '0'"),
        ("CACHE_SOCKET_TIMEOUT", "soon", "CACHE_SOCKET_TIMEOUT must be a number of seconds, got 'soon'"),
        ("CACHE_RETRY_SECONDS", "-1", "CACHE_RETRY_SECONDS must be more than 0 and at most 300 seconds, got '-1'"),
    ]:
        result = manage("check", **(PRODUCTION_ENV | {name: value}))
        assert result.returncode != 0 and message in result.stderr, result.stderr
    fine = manage("check", **(PRODUCTION_ENV | {"CACHE_SOCKET_TIMEOUT": "0.25", "CACHE_RETRY_SECONDS": "2"}))
    assert fine.returncode == 0, fine.stderr


def test_a_real_server_under_load_keeps_answering_while_redis_is_killed_and_restarted(tmp_path_factory):
    """gunicorn (two workers, the front door included) on a database of its own, four clients
    reading all along: Redis killed, then started again."""
    own_redis = RedisServer()
    own_redis.start()
    url, drop = database_url(tmp_path_factory)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "DJANGO_SETTINGS_MODULE": "registry.settings_test",
        "DATABASE_URL": url,
        "CACHE_URL": own_redis.url,
        "CACHE_SOCKET_TIMEOUT": str(SOCKET_TIMEOUT),
        "CACHE_RETRY_SECONDS": "0.5",
        "API_ANON_RATE": "100000/minute",
        "EXPORT_ANON_RATE": "100000/minute",
        "LOG_LEVEL": "ERROR",
    }
    server = None
    try:
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        run([sys.executable, "manage.py", "load_reference_data"], env)
        server = Instance(env, tmp_path_factory.mktemp("outage") / "gunicorn.log", workers=2)
        server.wait()
        expected = {path: server.get(path)[2] for path in READS}
        assert own_redis.keys() > 0

        answers: list[tuple[str, int, bool]] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                for path in READS:
                    status, _, body = server.get(path)
                    answers.append((path, status, body == expected[path]))

        readers = [threading.Thread(target=reader) for _ in range(4)]
        for thread in readers:
            thread.start()
        try:
            time.sleep(1)
            own_redis.kill()
            time.sleep(2)
            live, ready = server.get("/healthz"), server.get("/readyz")
            during = len(answers)
            own_redis.start()
            time.sleep(2)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=60)
        assert len(answers) > during > 0
        assert [answer for answer in answers if answer[1:] != (200, True)] == []
        assert (live[0], ready[0]) == (200, 503)
        assert b'"cache": "failing"' in live[2] and b'"cache": "failing"' in ready[2]
        assert server.get("/readyz")[0] == 200
        assert own_redis.keys() > 0  # in use again
    finally:
        if server is not None:
            server.stop()
        own_redis.stop()
        drop()
