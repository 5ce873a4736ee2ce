"""Every page type sends a Content-Security-Policy that allows only the site itself and a
Permissions-Policy, and no page needs an inline script (the API docs page included)."""

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/en/",
    "/counties/",
    "/counties/130705/",
    "/provinces/",
    "/provinces/130000/",
    "/batches/",
    "/batches/2016/",
    "/statistics/",
    "/counties/000000/",  # the 404 page
    "/admin/login/",
    "/admin/",
    "/admin/counties/designation/",
    "/admin/counties/designation/import/",
    "/api/v1/docs/",
    "/api/v1/counties/?format=api",  # DRF's browsable API
]
OTHER = ["/api/v1/counties/", "/api/v1/docs/?script=", "/api/v1/schema/", "/sitemap.xml", "/healthz", "/counties/export.csv"]
# A <script> element with a body, unless it is a data block the browser never runs.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>\s*\S", re.IGNORECASE)


def fetch(client, admin_client, path):
    # The sign-in page as someone signed out (signed in, it redirects); everything else as staff.
    return (client if path == "/admin/login/" else admin_client).get(path)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", PAGES + OTHER)
def test_every_response_carries_the_policies(client, admin_client, path):
    response = fetch(client, admin_client, path)
    assert response.status_code in (200, 404), path
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_has_an_inline_script_or_style(client, admin_client, path):
    response = fetch(client, admin_client, path)
    page = response.content.decode()
    assert "<html" in page.lower()
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page).group()
    if not path.startswith(("/admin/", "/api/v1/counties/")):  # Django's and DRF's own templates, not ours
        assert "<style" not in page and "style=" not in page


def test_the_docs_set_up_script_is_a_file_on_the_site(client):
    page = client.get("/api/v1/docs/").content.decode()
    assert '<script src="/api/v1/docs/?script="></script>' in page
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
