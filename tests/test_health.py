"""/healthz queries the database: 200 when it answers, 503 when it does not; /readyz also needs the
cache (a real Redis stopping is in test_cache_outage.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthy(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok", "cache": "ok"})
    assert "no-cache" in ready["Cache-Control"]


def test_database_unreachable_is_503():
    """A real process whose DATABASE_URL points at a port nothing listens on."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/healthz')\n"
        "print(response.status_code, response.content.decode())\n"
        "response = Client().get('/readyz')\n"
        "print(response.status_code, response.content.decode())\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "registry.settings_test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing?connect_timeout=2",
    }
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    live, ready = result.stdout.splitlines()
    assert live.startswith("503 ") and ready.startswith("503 ")
    assert '"database": "unavailable"' in live and '"database": "unavailable"' in ready


def test_database_unreachable_api_is_a_json_503_and_pages_a_plain_503():
    """The API answered with Django's HTML 500 when the database was down."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client(raise_request_exception=False)\n"
        "api = client.get('/api/v1/counties/', HTTP_ACCEPT_LANGUAGE='en')\n"
        "print(api.status_code, api['Content-Type'], api['Retry-After'], api.content.decode())\n"
        "page = client.get('/en/counties/')\n"
        "print(page.status_code, page['Content-Type'], page.content.decode().count('<script'))\n"
        "print('Temporarily unavailable' in page.content.decode())\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "registry.settings_test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing?connect_timeout=2",
    }
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    api, page, plain = result.stdout.splitlines()
    status, content_type, retry_after, body = api.split(" ", 3)
    assert (status, content_type, retry_after) == ("503", "application/json", "60")
    assert json.loads(body) == {
        "error": {"code": "service_unavailable", "message": "The registry's database is not answering. Please try again in a minute."}
    }
    assert page.split(" ")[:2] == ["503", "text/html;"]
    assert plain == "True"


@pytest.mark.django_db
def test_the_site_recovers_when_the_database_answers_again(client):
    """The connection failing mid-request (as when PostgreSQL restarts) is a 503; the next request
    after the database is back is answered normally, without a restart."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    client.raise_request_exception = False
    with connection.execute_wrapper(refuse):
        down = client.get("/api/v1/provinces/")
        page = client.get("/provinces/")
    assert (down.status_code, down.json()["error"]["code"]) == (503, "service_unavailable")
    assert page.status_code == 503
    assert client.get("/api/v1/provinces/").status_code == 200
    assert client.get("/provinces/").status_code == 200
