"""What an anonymous client can make the registry keep or compute: a query parameter no view reads
makes no new cache entry (counties.caching.keys: `reads_query`, `normalize_query`), and the
downloads are rate-limited per address as the API is (counties.caching.throttling, "export").

Every test runs on the per-process cache and on Redis at REDIS_TEST_URL (conftest's `shared_cache`).
"""

import uuid

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from counties.caching.front_door import FrontCache
from counties.caching.keys import view_at, view_query_names

from .conftest import PRODUCTION_ENV, call, manage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]

EXPORT = "/en/counties/export.csv?scope=all&province=130000"


@pytest.fixture
def generous(settings):
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"anon": "1000/minute", "export": "1000/minute"}


def junk() -> str:
    return uuid.uuid4().hex


@pytest.mark.usefixtures("generous")
@pytest.mark.parametrize("url", [EXPORT, "/en/counties/export.xlsx?scope=all", "/en/provinces/", "/api/v1/stats/coverage/?as_of=2018"])
def test_a_flood_of_junk_query_strings_adds_no_cache_entries(client, stored, url):
    first = client.get(url)
    assert first.status_code == 200 and len(stored) == 1
    separator = "&" if "?" in url else "?"
    flood = [client.get(f"{url}{separator}junk={junk()}&utm_source={junk()}") for _ in range(15)]
    assert {a.status_code for a in flood} == {200}
    assert {a.content for a in flood} == {first.content}
    assert len(stored) == 1  # every one of them answered from the first's entry


@pytest.mark.usefixtures("generous")
def test_parameters_a_view_reads_still_make_their_own_answers(client, stored):
    everything = client.get("/en/counties/export.csv?scope=all")
    hebei = client.get("/en/counties/export.csv?scope=all&province=130000")
    assert hebei.content != everything.content and len(stored) == 2
    one, two = client.get("/api/v1/provinces/?page_size=1"), client.get("/api/v1/provinces/?page_size=2")
    assert len(one.json()["results"]) == 1 and len(two.json()["results"]) == 2


@pytest.mark.usefixtures("generous")
def test_a_page_never_writes_a_junk_parameter_back(client):
    """The county list writes its query into its links: it is handed only what it reads, so the
    entry one junk value made holds no junk for the next."""
    page = client.get(f"/en/counties/?q=xuanhua&junk={junk()}").content.decode()
    assert "junk" not in page and "q=xuanhua" in page
    api = client.get(f"/api/v1/counties/?page_size=1&junk={junk()}").json()
    assert "junk" not in api["next"] and "page_size=1" in api["next"]


def test_what_each_view_reads():
    export = view_query_names(view_at("/counties/export.xlsx"))
    assert {"scope", "province", "q", "batch_year", "ordering"} <= export and "junk" not in export and "page" not in export
    assert view_query_names(view_at("/en/counties/130705/")) == {"from"}
    assert view_query_names(view_at("/api/v1/stats/coverage/")) == {"as_of", "format"}
    records = view_query_names(view_at("/api/v1/designations/"))
    assert {"batch_year", "level", "kind", "outcome", "page", "page_size", "format"} <= records
    assert view_query_names(view_at("/sitemap.xml")) == {"p"}
    assert view_at("/no/such/page/") is None


def test_the_front_door_keeps_no_answer_for_a_junk_query(shared_cache, generous):
    if shared_cache != "redis":
        pytest.skip("the front door only runs with a shared cache")
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        front = FrontCache(WSGIHandler())
        assert call(front, "/en/provinces/")[0].startswith("200")
        kept = len(front.entries)
        assert kept == 1
        for _ in range(5):
            assert call(front, f"/en/provinces/?junk={junk()}")[0].startswith("200")
        assert len(front.entries) == kept
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_anonymous_downloads_beyond_the_limit_get_429_in_both_languages(client, settings, stored):
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"export": "3/minute"}
    address = "198.51.100.61"
    answers = [client.get(EXPORT, REMOTE_ADDR=address) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]  # two of the 200s from the cache
    refused = answers[3]
    wait = int(refused["Retry-After"])
    assert 0 < wait <= 120  # the sliding window: at most two of its periods
    assert f"Please try again in {wait} second" in refused.content.decode()
    chinese = client.get("/counties/export.xlsx?scope=all", REMOTE_ADDR=address)
    assert chinese.status_code == 429 and "秒后重试" in chinese.content.decode()
    assert "no-cache" in chinese["Cache-Control"] and "public" not in chinese["Cache-Control"]
    # Another address is not affected; pages and the API are not counted under this limit.
    assert client.get(EXPORT, REMOTE_ADDR="198.51.100.62").status_code == 200
    assert client.get("/en/counties/", REMOTE_ADDR=address).status_code == 200
    assert client.get("/api/v1/provinces/", REMOTE_ADDR=address).status_code == 200


def test_signed_in_staff_are_not_limited(admin_client, settings):
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"export": "1/minute"}
    assert [admin_client.get(EXPORT).status_code for _ in range(3)] == [200, 200, 200]


def test_the_export_rate_is_validated():
    result = manage("check", **(PRODUCTION_ENV | {"EXPORT_ANON_RATE": "lots"}))
    assert result.returncode != 0 and "EXPORT_ANON_RATE must be a number of requests" in result.stderr


@pytest.mark.usefixtures("generous")
@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("/en/counties/?q=", ["xuanhua", "52", "9999", junk()[:8]]),
        ("/api/v1/counties/?q=", ["xuanhua", "52", "9999", junk()[:8]]),
        ("/api/v1/designations/?updated_since=", [f"2026-01-01T00:{minute:02}:00Z" for minute in (1, 2, 3, 4)]),
    ],
)
def test_free_text_is_answered_every_time_and_never_kept(client, stored, path, values):
    """A search or a moment takes any value: a flood of them keeps nothing (each is worked out, as
    cheaply as a search is), while the same page without them is kept once."""
    answers = [client.get(path + value) for value in values]
    assert [a.status_code for a in answers] == [200, 200, 200, 200] and stored == []
    plain = path.split("?")[0]
    assert client.get(plain).content == client.get(plain).content and len(stored) == 1
