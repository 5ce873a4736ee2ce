"""The response cache's front door (counties.caching.front_door): anonymous reads answered from the
finished responses a process keeps, before Django, with the data token and the API's rate limit
still read and counted in the shared cache (Redis at REDIS_TEST_URL, conftest's `redis_cache`).

The app is called as a WSGI server calls it (registry/wsgi.py wraps Django the same way); a
spy on the Django application says whether a request reached Django at all.
"""

from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from counties.caching.front_door import FrontCache
from counties.caching.shared import Counted
from counties.caching.throttling import AnonThrottle
from counties.caching.token import mark_data_changed

from .conftest import PRODUCTION_ENV, SECURITY_HEADERS, call, committed, manage, redis_cache

pytestmark = pytest.mark.django_db


class Django:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self):
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def redis(settings):
    from django.core.cache import cache

    settings.CACHES = {"default": redis_cache()}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def django_app():
    # As Django's test client does: the start and end of a request must not close the test's
    # connection (on PostgreSQL, its open transaction is "unusable" to close_old_connections).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield Django()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@contextmanager
def reaches(django_app, expected):
    before = django_app.calls
    yield
    assert django_app.calls - before == expected


@pytest.mark.parametrize(
    "url",
    ["/counties/?province=530000", "/en/counties/130705/", "/api/v1/counties/?province=530000&page_size=50", "/sitemap.xml"],
)
@pytest.mark.usefixtures("changes_long_past")
def test_a_kept_answer_is_given_without_django(redis, django_app, url):
    front = FrontCache(django_app)
    with reaches(django_app, 1):
        first = call(front, url)
    with reaches(django_app, 0):
        again = call(front, url)
    assert first[0] == "200 OK" and again == first
    # The headers the outer middleware added are kept with it.
    assert all(name in again[1] for name in SECURITY_HEADERS), url
    assert again[1]["Cache-Control"] == "public, max-age=60"


@pytest.mark.usefixtures("changes_long_past")
def test_head_gets_the_headers_of_get_and_no_body(redis, django_app):
    front = FrontCache(django_app)
    status, headers, _ = call(front, "/provinces/")
    with reaches(django_app, 0):
        assert call(front, "/provinces/", method="HEAD") == (status, headers, b"")


@pytest.mark.usefixtures("changes_long_past")
def test_each_variant_is_its_own_entry(redis, django_app):
    front = FrontCache(django_app)
    as_json = call(front, "/api/v1/provinces/?page_size=1", accept="application/json")
    as_csv = call(front, "/api/v1/provinces/?page_size=1", accept="text/csv")
    in_english = call(front, "/api/v1/provinces/?page_size=1", accept="application/json", accept_language="en")
    in_chinese = call(front, "/api/v1/provinces/?page_size=1", accept="application/json", accept_language="zh-hans")
    with reaches(django_app, 0):
        assert call(front, "/api/v1/provinces/?page_size=1", accept="text/csv") == as_csv
        assert call(front, "/api/v1/provinces/?page_size=1", accept="application/json") == as_json
        assert call(front, "/api/v1/provinces/?page_size=1", accept="application/json", accept_language="zh-hans") == in_chinese
    assert as_json[1]["Content-Type"] == "application/json" and as_csv[1]["Content-Type"].startswith("text/csv")
    assert len(front.entries) == 4 and in_english[0] == in_chinese[0] == "200 OK"
    with reaches(django_app, 1):
        other_host = call(front, "/api/v1/provinces/?page_size=1", accept="application/json", host="localhost")
    assert b"http://localhost/" in other_host[2]


@pytest.mark.usefixtures("changes_long_past")
def test_an_edit_is_seen_at_once(redis, django_app, client):
    front = FrontCache(django_app)
    before = call(front, "/api/v1/stats/coverage/?as_of=2019")
    with committed():
        mark_data_changed()
    with reaches(django_app, 1):
        after = call(front, "/api/v1/stats/coverage/?as_of=2019")
    assert after[1]["ETag"] != before[1]["ETag"]
    with reaches(django_app, 0):
        assert call(front, "/api/v1/stats/coverage/?as_of=2019") == after


def test_an_answer_made_within_its_changes_second_is_kept_until_that_second_is_over(redis, django_app):
    """It has no Last-Modified yet: kept longer, it would be served without one until the next edit
    (If-Modified-Since never answered 304). Once the second is over it is made again once, dated
    (from the shared cache, without running the view), and kept as such."""
    from datetime import timedelta
    from unittest import mock

    from counties.caching.token import stored_state

    front = FrontCache(django_app)
    with committed():
        mark_data_changed()
    changed = stored_state().changed_at
    url = "/api/v1/stats/coverage/?as_of=2019"
    # The moment of the change itself: whatever its fraction of a second, its second is not over.
    with mock.patch("counties.caching.responses.timezone.now", return_value=changed):
        with reaches(django_app, 1):
            first = call(front, url)
        with mock.patch("counties.caching.front_door.time.time", return_value=changed.timestamp()), reaches(django_app, 0):
            assert call(front, url) == first  # within the second: kept
    assert "Last-Modified" not in first[1]
    over = changed + timedelta(seconds=1.5)
    with (
        mock.patch("counties.caching.responses.timezone.now", return_value=over),
        mock.patch("counties.caching.front_door.time.time", return_value=over.timestamp()),
    ):
        with reaches(django_app, 1):
            dated = call(front, url)
        with reaches(django_app, 0):
            assert call(front, url) == dated
    assert dated[1]["Last-Modified"] and dated[2] == first[2] and dated[1]["ETag"] == first[1]["ETag"]


@pytest.mark.parametrize(
    "method, headers",
    [
        ("GET", {"authorization": "Token abc"}),
        ("GET", {"cookie": "sessionid=abc"}),
        ("GET", {"cookie": "csrftoken=abc"}),
        ("GET", {"if_none_match": '"abc"'}),
        ("GET", {"if_modified_since": "Mon, 30 Nov 2026 00:00:00 GMT"}),
        ("GET", {"origin": "https://partner.example"}),
        ("GET", {"range": "bytes=0-10"}),
        ("POST", {}),
    ],
)
def test_what_goes_on_to_django(redis, django_app, method, headers):
    front = FrontCache(django_app)
    call(front, "/api/v1/provinces/")  # kept
    with reaches(django_app, 1):
        call(front, "/api/v1/provinces/", method=method, **headers)


@pytest.mark.parametrize("url", ["/admin/login/", "/healthz"])
def test_the_admin_and_the_health_check_are_never_kept(redis, django_app, url):
    front = FrontCache(django_app)
    with reaches(django_app, 2):
        call(front, url)
        call(front, url)
    assert front.entries == {}


@pytest.mark.usefixtures("changes_long_past")
def test_the_anonymous_limit_counts_kept_answers(redis, django_app, settings):
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    front = FrontCache(django_app)
    with reaches(django_app, 3):  # the first, then the two refused ones (the view answers 429)
        answers = [call(front, "/api/v1/stats/coverage/?as_of=2019") for _ in range(5)]
    assert [status for status, _, _ in answers] == ["200 OK"] * 3 + ["429 Too Many Requests"] * 2
    assert int(answers[3][1]["Retry-After"]) > 0 and b'"throttled"' in answers[3][2]
    # Pages are not rate-limited: kept pages are not counted.
    assert {call(front, "/provinces/")[0] for _ in range(5)} == {"200 OK"}


def test_only_with_a_shared_cache(settings, django_app):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    front = FrontCache(django_app)
    with reaches(django_app, 2):
        call(front, "/provinces/")
        call(front, "/provinces/")


def test_memory_is_bounded(redis, django_app):
    front = FrontCache(django_app, max_bytes=200_000)
    for url in ["/provinces/", "/en/provinces/", "/batches/", "/en/batches/", "/api/v1/provinces/"]:
        call(front, url)
    assert 0 < front.size <= 200_000 and front.size == sum(kept.size for kept in front.entries.values())
    # What the client sends in the key counts too: a long Accept-Language per request does not
    # grow the store past its bound, however small the answer.
    small = FrontCache(django_app, max_bytes=50_000)
    for n in range(20):
        call(small, "/api/v1/provinces/?page_size=1", accept_language="en;q=0.5," + "x" * 4000 + str(n))
    assert small.size <= 50_000 and len(small.entries) < 20
    assert all(kept.size > len(kept.body) + 4000 for kept in small.entries.values())
    call(front, "/counties/export.csv")  # larger than an eighth of the store: given, not kept
    assert all(key[1] != "/counties/export.csv" for key in front.entries)
    assert FrontCache(django_app, max_bytes=0).variant({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}) is None


@pytest.mark.parametrize(
    "previous, current, elapsed, allowed, wait",
    [
        # 10 a minute, half-way through a window: the previous window's 10 weigh 5.
        (10, 5, 30, True, None),
        # One more is refused (and not counted); at 36 s the previous weighs 4, and 4 + 6 = 10.
        (10, 6, 30, False, 6),
        # This window is full (10, and this refused one): in the next at 6 s they weigh 9, 9 + 1 = 10.
        (10, 11, 30, False, 36),
        (0, 11, 0, False, 66),
        (0, 10, 59, True, None),
    ],
)
def test_the_sliding_window_counter(settings, previous, current, elapsed, allowed, wait):
    settings.API_THROTTLE_RATES = {"anon": "10/minute", "token": "5/minute"}
    decision = AnonThrottle().decide(Counted(current, previous), 60 * 1000 + elapsed)
    assert decision.allowed is allowed
    assert decision.wait == (None if wait is None else pytest.approx(wait))


def test_front_cache_and_rate_settings_are_validated():
    result = manage("check", **(PRODUCTION_ENV | {"FRONT_CACHE_BYTES": "-1"}))
    assert result.returncode != 0 and "FRONT_CACHE_BYTES must be 0 or more bytes" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"API_ANON_RATE": "60 per minute"}))
    assert result.returncode != 0 and "API_ANON_RATE must be a number of requests per second" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"API_TOKEN_RATE": "0/hour"}))
    assert result.returncode != 0 and "API_TOKEN_RATE must be" in result.stderr
    assert manage("check", **(PRODUCTION_ENV | {"API_ANON_RATE": "100/hour", "FRONT_CACHE_BYTES": "0"})).returncode == 0


@pytest.mark.usefixtures("shared_cache")
def test_a_client_that_waits_its_retry_after_is_let_through(client, settings, monkeypatch):
    """Refused requests are not counted: hammering on does not push the wait further."""
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    now = [60.0 * 29_000_000]  # the start of a window
    monkeypatch.setattr(AnonThrottle, "timer", staticmethod(lambda: now[0]))

    def status():
        response = client.get("/api/v1/provinces/", REMOTE_ADDR="198.51.100.31")
        return response.status_code, response.get("Retry-After")

    assert [status()[0] for _ in range(3)] == [200, 200, 200]
    refused = [status() for _ in range(5)]
    # The window is full: in the next one, once its 3 weigh 2 (at 20 s): 60 + 20 seconds.
    assert refused == [(429, "80")] * 5
    now[0] += 60
    assert status() == (429, "20")  # at the start of the next window the 3 still weigh 3
    now[0] += 20
    assert [status()[0] for _ in range(2)] == [200, 429]
