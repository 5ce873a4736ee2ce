"""The response cache for anonymous reads and the HTTP caching headers (counties.caching.responses).

Every test runs on the per-process cache (locmem) and on Redis at REDIS_TEST_URL (conftest's
`shared_cache`). A cache hit reads nothing but the data token: from the database with locmem
(one query: a per-process copy could not see other processes' edits), from Redis's copy with Redis
(no query at all).
"""

import shutil

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties import models
from counties.caching.keys import code_fingerprint

from .conftest import PRODUCTION_ENV, SECURITY_HEADERS, committed, manage, run_command
from .factories import HEADER, csv_file, designation_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_cache")]

# Every kind of anonymous read: pages in both languages, API list, detail and statistics, the
# API's CSV, the list's exports and the sitemap.
READS = [
    "/",
    "/en/",
    "/counties/?province=130000",
    "/en/counties/130705/",
    "/statistics/?as_of=2018",
    "/batches/2016/",
    "/provinces/",
    "/en/provinces/130000/",
    "/en/batches/",
    "/counties/export.csv?province=650000",
    "/counties/export.xlsx?province=640000",
    "/sitemap.xml",
    "/api/v1/counties/?province=530000&page_size=50",
    "/api/v1/counties/130705/",
    "/api/v1/stats/coverage/?as_of=2019",
    "/api/v1/designations/?format=csv",
]


@pytest.fixture
def hit_queries(shared_cache):
    """What a cache hit queries: the data token from the database with locmem, nothing with Redis."""
    return 1 if shared_cache == "locmem" else 0


def headers(response):
    return dict(response.items())


@pytest.mark.parametrize("url", READS)
@pytest.mark.usefixtures("changes_long_past")
def test_a_hit_is_the_same_answer_without_the_work(client, django_assert_num_queries, hit_queries, url):
    miss = client.get(url)
    assert miss.status_code == 200
    with django_assert_num_queries(hit_queries):
        hit = client.get(url)
    assert hit.status_code == 200
    assert hit.content == miss.content
    assert headers(hit) == headers(miss)
    assert hit["Cache-Control"] == "public, max-age=60"
    assert hit["ETag"].startswith('"') and not hit["ETag"].startswith("W/")  # strong
    for name in SECURITY_HEADERS:
        assert hit[name] == miss[name], name
    assert "Content-Language" in hit
    # Nothing in an anonymous answer depends on a cookie, so nothing keeps it out of a shared cache.
    assert not hit.cookies and not miss.cookies
    assert "cookie" not in hit.get("Vary", "").lower()


def test_head_is_answered_from_the_entry_of_get(client, django_assert_num_queries, hit_queries):
    full = client.get("/api/v1/provinces/")
    with django_assert_num_queries(hit_queries):
        head = client.head("/api/v1/provinces/")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(full.content)) and head["ETag"] == full["ETag"]


def test_each_variant_has_its_own_entry(client):
    """Language (path for pages, Accept-Language for the API), query, Accept, host."""
    zh, en = client.get("/statistics/"), client.get("/en/statistics/")
    assert zh["Content-Language"] == "zh-hans" and en["Content-Language"] == "en"
    assert client.get("/en/statistics/").content == en.content and client.get("/statistics/").content == zh.content
    assert zh["ETag"] != en["ETag"]

    def api(**extra):
        return client.get("/api/v1/provinces/?page_size=2", **extra)

    chinese, english = api(HTTP_ACCEPT_LANGUAGE="zh-hans"), api(HTTP_ACCEPT_LANGUAGE="en")
    assert (chinese["Content-Language"], english["Content-Language"]) == ("zh-hans", "en")
    # Each from its own entry (the header says which language it was made in).
    assert api(HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"
    assert api(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")["Content-Language"] == "zh-hans"
    as_csv = api(HTTP_ACCEPT="text/csv")
    assert as_csv["Content-Type"].startswith("text/csv") and api(HTTP_ACCEPT="text/csv").content == as_csv.content
    assert api(HTTP_ACCEPT="application/json")["Content-Type"] == "application/json"

    one, two = client.get("/api/v1/provinces/?page_size=1"), client.get("/api/v1/provinces/?page_size=2")
    assert len(one.json()["results"]) == 1 and len(two.json()["results"]) == 2
    assert len(client.get("/api/v1/provinces/?page_size=1").json()["results"]) == 1

    here = client.get("/api/v1/provinces/?page_size=1")
    elsewhere = client.get("/api/v1/provinces/?page_size=1", HTTP_HOST="localhost")
    assert "http://testserver/" in here.json()["next"] and "http://localhost/" in elsewhere.json()["next"]
    assert "http://localhost/" in client.get("/api/v1/provinces/?page_size=1", HTTP_HOST="localhost").json()["next"]


def test_a_conditional_get_is_304_from_the_cache(client, django_assert_num_queries, hit_queries):
    for url in ("/en/counties/130705/", "/api/v1/stats/coverage/?as_of=2019", "/api/v1/counties/130705/"):
        first = client.get(url)
        with django_assert_num_queries(hit_queries):
            again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, url
        assert again["ETag"] == first["ETag"] and again["Cache-Control"] == "public, max-age=60"
        # The 304 repeats the Vary of its 200, language and (on the API) format.
        vary = {v.strip() for v in again.get("Vary", "").split(",") if v.strip()}
        assert {v.strip() for v in first.get("Vary", "").split(",") if v.strip()} <= vary | {"origin", "Origin"}, url
        assert ("Accept" in vary) == url.startswith("/api/"), url
        assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_the_anonymous_limit_counts_cached_answers(client, settings):
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    answers = [client.get("/api/v1/stats/coverage/?as_of=2019", REMOTE_ADDR="198.51.100.20") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]  # two of the 200s were cached
    assert int(answers[3]["Retry-After"]) > 0
    assert answers[3].json()["error"]["code"] == "throttled"
    chinese = client.get("/api/v1/stats/coverage/?as_of=2019", REMOTE_ADDR="198.51.100.20", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 429 and chinese.json()["error"]["message"].startswith("请求已被限流。预计")
    # Another client is not affected, and its first answer comes from the cache.
    assert client.get("/api/v1/stats/coverage/?as_of=2019", REMOTE_ADDR="198.51.100.21").status_code == 200


@pytest.mark.parametrize("response_cache", [True, False])
def test_conditional_gets_count_against_the_anonymous_limit(client, settings, response_cache):
    """Revalidating was a way around the limit: a matching If-None-Match got its 304 uncounted,
    over the limit too."""
    settings.API_THROTTLE_RATES = {"anon": "3/minute", "token": "5/minute"}
    settings.RESPONSE_CACHE = response_cache
    url, address = "/api/v1/counties/130705/", "198.51.100.30"
    etag = client.get(url, REMOTE_ADDR=address)["ETag"]
    answers = [client.get(url, REMOTE_ADDR=address, HTTP_IF_NONE_MATCH=etag) for _ in range(3)]
    assert [a.status_code for a in answers] == [304, 304, 429]
    assert int(answers[2]["Retry-After"]) > 0 and answers[2].json()["error"]["code"] == "throttled"
    # Pages are not rate-limited: their 304s stay.
    page_etag = client.get("/provinces/", REMOTE_ADDR=address)["ETag"]
    assert client.get("/provinces/", REMOTE_ADDR=address, HTTP_IF_NONE_MATCH=page_etag).status_code == 304


def test_pages_are_not_throttled_from_the_cache(client, settings):
    settings.API_THROTTLE_RATES = {"anon": "1/minute", "token": "5/minute"}
    assert [client.get("/provinces/").status_code for _ in range(3)] == [200, 200, 200]


def test_signed_in_and_token_requests_are_never_stored_nor_served(client, admin_client, admin_user, stored):
    staff = admin_client.get("/")
    assert staff.status_code == 200 and stored == []
    assert staff["Cache-Control"] == "private, no-cache" and "ETag" not in staff
    anonymous = client.get("/")  # made for the visitor, not the staff member's copy
    assert anonymous["Cache-Control"] == "public, max-age=60" and len(stored) == 1
    again = admin_client.get("/")  # the anonymous entry is not given to the signed-in user
    assert again["Cache-Control"] == "private, no-cache" and "ETag" not in again

    _, key = models.ApiToken.issue(admin_user, "reader")
    client.get("/api/v1/provinces/")  # an anonymous entry exists
    with CaptureQueriesContext(connection) as queries:
        partner = client.get("/api/v1/provinces/", HTTP_AUTHORIZATION=f"Token {key}")
    assert partner.status_code == 200
    assert any("counties_apitoken" in q["sql"] for q in queries)  # authenticated by the view, not the cache
    assert partner["Cache-Control"] == "private, no-cache"
    assert partner["ETag"] != client.get("/api/v1/provinces/")["ETag"]
    assert len(stored) == 2  # the two anonymous answers


def test_a_token_answer_is_not_stored_for_anonymous_visitors(client, admin_user, django_assert_num_queries, hit_queries):
    _, key = models.ApiToken.issue(admin_user, "reader")
    client.get("/api/v1/batches/", HTTP_AUTHORIZATION=f"Token {key}")
    anonymous = client.get("/api/v1/batches/")  # made for the visitor: nothing was stored for it
    with django_assert_num_queries(hit_queries):
        assert client.get("/api/v1/batches/").content == anonymous.content


@pytest.mark.parametrize(
    ("url", "extra", "status"),
    [
        ("/counties/999999/", {}, 404),  # not a 200
        ("/counties/130721/", {}, 301),  # an old code's redirect
        ("/healthz", {}, 200),  # must reach the database every time
        ("/admin/login/", {}, 200),
        ("/en/admin/login/", {}, 200),
        ("/api/v1/provinces/", {"HTTP_ACCEPT": "text/html"}, 200),  # the browsable API sets a CSRF cookie
        ("/", {"HTTP_COOKIE": "messages=abc"}, 200),  # a visitor with something pending for them
    ],
)
def test_what_is_never_stored(client, url, extra, status, stored):
    first = client.get(url, **extra)
    assert first.status_code == status
    if status == 200:
        assert "public" not in first.get("Cache-Control", "")
    assert client.get(url, **extra).status_code == status
    assert stored == []


def test_writes_are_never_answered_from_the_cache(client):
    client.get("/api/v1/designations/")
    response = client.post("/api/v1/designations/", {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_the_cache_can_be_turned_off(client, settings, stored):
    settings.RESPONSE_CACHE = False
    client.get("/provinces/")
    response = client.get("/provinces/")
    assert stored == []
    assert response["Cache-Control"] == "public, max-age=60"  # still cacheable by what sits in front


def test_max_age_is_the_setting(client, settings):
    settings.CACHE_MAX_AGE = 5
    assert client.get("/batches/")["Cache-Control"] == "public, max-age=5"


# -- an edit through any door is seen at once ---------------------------------------------------------


def designation_count(client, url="/api/v1/designations/?page_size=1"):
    return client.get(url).json()["count"]


def test_an_admin_save_is_seen_at_once(client, admin_client):
    record = models.Designation.objects.filter(batch__year=2019, source_kind="secondary").first()
    page = f"/en/counties/{record.unit.key}/"
    detail = f"/api/v1/designations/{record.pk}/"
    before_page = client.get(page).content
    form = {"unit": record.unit_id, "batch": record.batch_id, "kind": record.kind, "is_old_revolutionary_base": "unknown"}
    form |= {
        "source": "商建函〔2019〕99号",
        "source_kind": record.source_kind,
        "source_note": "",
        "loaded_version": record.updated_at.isoformat(),
    }
    form |= {"change_reason": "the notice itself"}
    with committed():
        assert admin_client.post(reverse("admin:counties_designation_change", args=[record.pk]), form).status_code == 302
    assert client.get(detail).json()["source"] == "商建函〔2019〕99号"
    assert client.get(page).content != before_page


def test_an_api_write_is_seen_at_once(client, admin_user):
    _, key = models.ApiToken.issue(admin_user, "writer", can_write=True)
    before = designation_count(client)
    payload = designation_payload()
    with committed():
        response = client.post(
            "/api/v1/designations/?reason=notice", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
        )
    assert response.status_code == 201, response.content
    assert designation_count(client) == before + 1


def test_an_import_command_is_seen_at_once(client, tmp_path):
    before = designation_count(client)
    page = client.get("/en/counties/130102/").content
    with committed():
        run_command("import_designations", str(csv_file(tmp_path, HEADER + "130102,2016,new,doc,official\n")))
    assert designation_count(client) != before  # (the import replaces Hebei's illustrative 2016 records)
    assert client.get("/en/counties/130102/").content != page


def test_a_reference_reload_is_seen_at_once(client, tmp_path, settings):
    url = "/api/v1/counties/110101/"
    assert client.get(url).json()["name_zh"] == "东城区"
    data = tmp_path / "data"
    shutil.copytree(settings.REFERENCE_DATA_DIR, data)
    rows = data / "counties_2014_2020.csv"
    rows.write_text(rows.read_text(encoding="utf-8").replace("东城区", "东城新区", 1), encoding="utf-8")
    with committed():
        run_command("load_reference_data", "--data-dir", str(data))
    assert client.get(url).json()["name_zh"] == "东城新区"


def test_an_uncommitted_write_is_never_cached(client):
    """Inside a write's transaction the token is still the old one: no entry is read or stored."""
    from counties.caching.token import mark_data_changed

    before = designation_count(client)

    with transaction.atomic():
        mark_data_changed()  # a change waits for the commit
        assert designation_count(client) == before
    # the callback is still pending in the test's transaction: the cache stays out of the way
    assert designation_count(client) == before


def test_the_fingerprint_follows_the_code_and_only_the_code(settings, tmp_path):
    """An entry (and an ETag) made by one release is never served by another: a changed, renamed or
    added file among the code, templates, translations and static files, or a new static manifest,
    is a new fingerprint; the same tree is the same fingerprint, whatever else changes around it."""
    for name, text in {
        "counties/views.py": "VIEW = 1\n",
        "registry/urls.py": "urlpatterns = []\n",
        "templates/home.html": "<h1>首页</h1>\n",
        "locale/en/LC_MESSAGES/django.po": 'msgid "首页"\n',
        "static/css/site.css": "body {}\n",
        "README.md": "not served\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings.BASE_DIR, settings.STATIC_ROOT = tmp_path, tmp_path / "staticfiles"
    template = tmp_path / "templates" / "home.html"

    def started_afresh():
        code_fingerprint.cache_clear()  # as a process started on the tree as it is now
        return code_fingerprint()

    try:
        first = started_afresh()
        assert len(first) == 16 and started_afresh() == first
        (tmp_path / "README.md").write_text("changed\n", encoding="utf-8")
        (tmp_path / "counties" / "__pycache__").mkdir()
        (tmp_path / "counties" / "__pycache__" / "views.cpython-311.pyc").write_bytes(b"compiled")
        assert started_afresh() == first  # neither is served

        template.write_text("<h1>首页 </h1>\n", encoding="utf-8")
        assert code_fingerprint() == first  # a running process keeps the fingerprint of what it loaded
        edited = started_afresh()
        assert edited != first
        template.write_text("<h1>首页</h1>\n", encoding="utf-8")
        assert started_afresh() == first  # the contents, not the file's time
        template.rename(tmp_path / "templates" / "index.html")
        renamed = started_afresh()
        assert renamed not in (first, edited)
        (tmp_path / "static" / "css" / "print.css").write_text("body {}\n", encoding="utf-8")
        added = started_afresh()
        assert added not in (first, edited, renamed)
        (tmp_path / "staticfiles").mkdir()
        (tmp_path / "staticfiles" / "staticfiles.json").write_text('{"paths": {}}', encoding="utf-8")
        assert started_afresh() not in (first, edited, renamed, added)
    finally:
        code_fingerprint.cache_clear()  # the next test's is the real tree's again


def test_cache_settings_are_validated():
    result = manage("check", **(PRODUCTION_ENV | {"CACHE_MAX_AGE": "-1"}))
    assert "CACHE_MAX_AGE must be 0 or more seconds" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"CACHE_MAX_AGE": "soon"}))
    assert "CACHE_MAX_AGE must be an integer" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"RESPONSE_CACHE": "maybe"}))
    assert "RESPONSE_CACHE must be a boolean" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"RESPONSE_CACHE_SECONDS": "0"}))
    assert "RESPONSE_CACHE_SECONDS must be a positive number" in result.stderr
    result = manage("check", **(PRODUCTION_ENV | {"RESPONSE_CACHE": "0", "CACHE_MAX_AGE": "0"}))
    assert result.returncode == 0, result.stderr
