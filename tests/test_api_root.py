"""The API's front door and its language: /api/v1/ lists every endpoint; answers are in English
unless the client asks for Chinese, and say which language they are in (issue 13)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from counties.api.root import ENDPOINTS
from counties.caching.keys import language_from_header

pytestmark = pytest.mark.django_db


def test_root_lists_every_endpoint_with_absolute_urls_and_links_the_docs(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"  # JSON by default
    body = response.json()
    assert body["docs"] == "http://testserver/api/v1/docs/"
    assert body["schema"] == "http://testserver/api/v1/schema/"
    assert body["site"] == "http://testserver/en/"  # the site in the answer's language
    urls = {e["name"]: e["url"] for e in body["endpoints"]}
    assert urls["county-list"] == "http://testserver/api/v1/counties/"
    assert urls["county-detail"] == "http://testserver/api/v1/counties/{key}/"
    assert urls["county-targets"] == "http://testserver/api/v1/counties/{key}/targets/"
    assert urls["batch-detail"] == "http://testserver/api/v1/batches/{id}/"  # as the schema names it
    assert urls["stats-coverage"] == "http://testserver/api/v1/stats/coverage/"
    assert all(e["description"] for e in body["endpoints"])
    # Every listed list or statistic answers.
    for name, url in urls.items():
        if "{" not in url and name not in ("schema", "docs"):
            assert client.get(url).status_code == 200, name


def test_root_names_every_route_of_the_api():
    """A new endpoint cannot be forgotten here: every named route of counties/api/urls.py is listed."""
    api = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "api")
    routes = {p.name for p in api.url_patterns if isinstance(p, URLPattern) and p.name} - {"root"}
    assert routes == {name for name, _lookup, _description in ENDPOINTS}


def test_root_speaks_the_requested_language(client):
    english = client.get("/api/v1/").json()
    chinese = client.get("/api/v1/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert english["language"] == "en" and chinese["language"] == "zh-hans"
    assert english["title"] == "Rural e-commerce demonstration county registry API"
    assert chinese["title"] == "电子商务进农村综合示范县名录 API"
    described = {e["name"]: e["description"] for e in chinese["endpoints"]}
    assert described["stats-coverage-series"] == "各年年末的覆盖情况。"
    assert chinese["site"] == "http://testserver/"


@pytest.mark.parametrize(
    ("accept_language", "language", "message"),
    [
        (None, "en", "No such API endpoint: /api/v1/nowhere/"),
        ("fr-FR,fr;q=0.9", "en", "No such API endpoint: /api/v1/nowhere/"),
        ("en-GB", "en", "No such API endpoint: /api/v1/nowhere/"),
        ("zh", "zh-hans", "没有这个 API 端点：/api/v1/nowhere/"),
        ("zh-CN", "zh-hans", "没有这个 API 端点：/api/v1/nowhere/"),
        ("zh-Hans", "zh-hans", "没有这个 API 端点：/api/v1/nowhere/"),
        ("fr;q=1, zh-CN;q=0.8, en;q=0.5", "zh-hans", "没有这个 API 端点：/api/v1/nowhere/"),
    ],
)
def test_errors_are_english_unless_chinese_is_asked_for(client, accept_language, language, message):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client.get("/api/v1/nowhere/", **headers)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == message
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]


def test_a_bad_filter_is_named_in_the_language_asked_for(client):
    english = client.get("/api/v1/counties/", {"batch_year": "abc"})
    chinese = client.get("/api/v1/counties/", {"batch_year": "abc"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.status_code == chinese.status_code == 400
    assert english.json()["error"]["fields"]["batch_year"] == ["Enter a year, years separated by commas, or a range such as 2015-2017."]
    assert chinese.json()["error"]["fields"]["batch_year"] == ["请输入年份、以逗号分隔的多个年份，或如 2015-2017 的范围。"]


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/counties/?page_size=1", "/api/v1/stats/coverage/", "/api/v1/docs/"])
def test_every_answer_says_its_language_and_varies_on_the_header(client, path):
    for accept, language in ((None, "en"), ("zh-CN", "zh-hans")):
        response = client.get(path, **({"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}))
        assert response.status_code == 200
        assert response["Content-Language"] == language
        assert "Accept-Language" in response["Vary"]


def test_a_304_varies_on_the_language_too(client):
    first = client.get("/api/v1/stats/coverage/")
    again = client.get("/api/v1/stats/coverage/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304  # (a 304 need not repeat Content-Language: RFC 9110 §15.4.5)
    assert first["Content-Language"] == "en" and "Accept-Language" in first["Vary"]
    # The Chinese answer is another representation: the English ETag does not match it.
    chinese = client.get("/api/v1/stats/coverage/", HTTP_IF_NONE_MATCH=first["ETag"], HTTP_ACCEPT_LANGUAGE="zh")
    assert chinese.status_code == 200


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "en"),
        ("*", "en"),
        ("de", "en"),
        ("zh-TW", "zh-hans"),
        ("en-US,zh;q=0.9", "en"),
        ("zh;q=0.9,en;q=0.8", "zh-hans"),
        ("x;;;", "en"),
    ],
)
def test_language_from_header(header, language):
    assert language_from_header(header) == language


def test_docs_page_links_back_to_the_site_and_the_root(client):
    english = client.get("/api/v1/docs/").content.decode()
    assert '<html lang="en">' in english
    assert '<a href="/en/">Back to the registry</a>' in english and '<a href="/api/v1/">' in english
    chinese = client.get("/api/v1/docs/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="zh-hans">' in chinese and '<a href="/">返回名录</a>' in chinese


def test_the_illustrative_notice_and_the_as_of_message_follow_the_language(client):
    english = client.get("/api/v1/designations/", {"page_size": 1, "source_kind": "illustrative"})
    chinese = client.get("/api/v1/designations/", {"page_size": 1, "source_kind": "illustrative"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.json()["includes_illustrative"] and chinese.json()["includes_illustrative"]
    assert english.json()["notice"].startswith("This page includes illustrative records")
    assert chinese.json()["notice"].startswith("本页包含示意记录")
    late = client.get("/api/v1/stats/coverage/", {"as_of": 2099}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert late.status_code == 400
    assert late.json()["error"]["fields"]["as_of"] == ["统计数据仅涵盖 2014 年末至 2021 年末（最近有批次的年份），没有 2099 年的数据。"]
    assert client.get("/api/v1/stats/coverage/", {"as_of": 2099}).json()["error"]["fields"]["as_of"] == [
        "There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 2099."
    ]
