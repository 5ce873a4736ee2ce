"""Shared fixtures, and the helpers that drive the app from a test (a command, the admin's import,
manage.py in a fresh process). Builders of records, files and payloads are in factories.py.

The reference data and the illustrative roster are loaded once per test session, right after the
test database is created; each test then runs in a transaction that is rolled back, so tests may
change anything without affecting each other.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from counties import models
from counties.caching import responses
from counties.writes.services import rebuild_lineage
from registry.settings import cache_from_url

from .factories import FundingAllocationFactory, designate, poor, succeed, unit


def load_reference_data_and_roster():
    call_command("load_reference_data", stdout=StringIO())
    call_command("load_illustrative_roster", stdout=StringIO())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data_and_roster()


@pytest.fixture(autouse=True)
def reference_data_after_a_flush(request, django_db_blocker):
    """A test on `transactional_db` ends with Django emptying every table (pytest-django runs such
    tests after all the others). A later one that expects the reference data gets it loaded again."""
    if "transactional_db" not in request.fixturenames or "separate_connections" in request.fixturenames:
        return
    from counties.models import Unit

    with django_db_blocker.unblock():
        if not Unit.objects.exists():
            load_reference_data_and_roster()


SQLITE_HAS_NO_ROW_LOCKS = (
    "SQLite has no row locks and the in-memory test database is shared between threads through a cache that "
    "raises 'table is locked' instead of waiting; concurrent writes are tested on PostgreSQL, the production database"
)


@pytest.fixture
def separate_connections(transactional_db):
    """For tests of what two simultaneous requests do: each thread has its own database connection
    and sees what the others commit. Such tests build the records they need (the reference data
    is not there after the first of them). Mark their module with `postgresql_only`, so that on
    SQLite they are skipped before the database is touched (and emptied)."""


postgresql_only = pytest.mark.skipif(connection.vendor == "sqlite", reason=SQLITE_HAS_NO_ROW_LOCKS)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the database rolls back between tests, the cache does not
    (nor the statistics' rows kept per data token, which stays the same when a test rolls back)."""
    from counties.reads.statistics import forget_loaded_rows

    cache.clear()
    forget_loaded_rows()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's default language. A request to an /en/ page leaves English
    active in the test's own thread (the locale middleware activates a language and never puts the
    old one back), which would otherwise carry over into the next test's reverse() and messages."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def changes_long_past(monkeypatch):
    """The response cache reads a clock an hour ahead: every change to the data (the session's load,
    or one the test makes) is long past. An answer gets its Last-Modified only once its change's
    second is over, and the front door keeps an undated one until then only
    (counties.caching.responses): on the real clock, two answers a test compares differ whenever a
    second ends between the change and the second answer."""
    monkeypatch.setattr(responses, "timezone", SimpleNamespace(now=lambda: timezone.now() + timedelta(hours=1)))


def admin_form_data(response, **changes):
    """The POST data of an admin change page as it was opened (its inlines included), with `changes`."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data |= {formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()}
        for form in formset.initial_forms:
            add(form)
    return data | changes


def run_command(name: str, *args: str) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def english():
    """Run a test in English: messages are compared with their English source text, and
    reverse() gives the /en/ pages."""
    from django.utils import translation

    with translation.override("en"):
        yield


# -- the shared cache ------------------------------------------------------------------------------

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "")


def redis_cache() -> dict:
    if not REDIS_TEST_URL:
        pytest.skip("REDIS_TEST_URL is not set; CI sets it (.ci/run). Locally: REDIS_TEST_URL=redis://127.0.0.1:6379/1")
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_TEST_URL={REDIS_TEST_URL} does not answer: {exc}")
    return cache_from_url(REDIS_TEST_URL)


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The default cache (throttles, statistics) on each backend, empty before and after."""
    config = redis_cache() if request.param == "redis" else cache_from_url("locmemcache://registry-test")
    settings.CACHES = {"default": config}
    cache.clear()
    yield request.param
    cache.clear()


SECURITY_HEADERS = [
    "Content-Security-Policy",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
]


@contextmanager
def committed():
    """Run a write as if its transaction had committed: its on-commit callbacks run (the data token
    changes) and are gone, as after a real commit (the test's own transaction stays open)."""
    connection = transaction.get_connection()
    start = len(connection.run_on_commit)
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
    del connection.run_on_commit[start:]


# -- manage.py in a fresh process, as production starts it -----------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-private-production-key-that-is-long-enough-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
    "ALLOWED_HOSTS": "registry.example.cn",
    "DATABASE_URL": "sqlite:///unused.sqlite3",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Drop every variable the settings read (the test settings set some of them in this process).
    read = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CSRF_TRUSTED_ORIGINS"}
    clean = {k: v for k, v in os.environ.items() if k not in read and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | {"DJANGO_SETTINGS_MODULE": "registry.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- app servers (gunicorn) on a database of their own ----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], env: dict) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def database_url(tmp_path_factory) -> tuple[str, callable]:
    """A fresh database of the suite's kind, and how to drop it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("two-instances") / "registry.sqlite3"
        return f"sqlite:///{path}", lambda: None
    import psycopg

    name = f"{db['NAME']}_two_instances"[:63]
    server = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}

    def admin(sql: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
            connection.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}"')
    admin(f'CREATE DATABASE "{name}"')
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"postgres://{credentials}@{server['host']}:{server['port']}/{name}"
    return url, lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Instance:
    """A gunicorn server of the app (registry.wsgi, the front door included) on a free port."""

    def __init__(self, env: dict, log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        command = [sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn on {self.port} exited: {Path(self.log.name).read_text()[-3000:]}"
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"gunicorn on {self.port} did not answer /healthz within 60 s")

    def request(self, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, path: str, **headers: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path, **headers)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def cells(page: str) -> str:
    """A page's markup without the column names its tables carry for a phone's cards (data-label),
    so that a test reads a table's row as the desktop table shows it."""
    return re.sub(r' data-label="[^"]*"', "", page)


# -- the admin's import ----------------------------------------------------------------------------


def import_in_admin(client, model_name, content, filename="file.csv", file_format="csv"):
    url = reverse(f"admin:counties_{model_name}_import")
    upload = BytesIO(content if isinstance(content, bytes) else content.encode("utf-8"))
    upload.name = filename
    form_page = client.get(url).content.decode()
    format_value = re.search(rf'<option value="(\d+)"[^>]*>{file_format}</option>', form_page)[1]
    return client.post(url, {"import_file": upload, "format": format_value, "resource": "0"})


def confirm(client, model_name, preview, reason="2016 roster received"):
    page = preview.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))
    return client.post(reverse(f"admin:counties_{model_name}_process_import"), {**fields, "reason": reason})


# -- the hand-worked programme ---------------------------------------------------------------------


@pytest.fixture
def world():
    """A programme small enough to work out by hand.

    Province 99:
      甲县 U1  poverty (exit 2016), designated 2015 and again 2019 (a repeat)
      乙县 U2  poverty (exit 2016, as 乙区), retired 2016 → 乙区 U3; designated as U2 in 2015, as U3 in 2019
      丙县 U4  poverty (exit 2018) } merged in 2018 into 丙市 U6;
      丁县 U5  poverty (exit 2018) } U4 designated 2016, U6 designated 2019 (covers U5 too)
      戊县 U7, 己县 U9: not poverty, designated 2016 (U9 as an old revolutionary base county)
    Province 98 (no designations):
      庚县 U8  poverty (exit 2019)
    The 2016 batch is 1 poverty county of 3 (33.3%), below its 50% rule.
    """
    models.FundingAllocation.objects.all().delete()
    models.Designation.objects.all().delete()
    models.PovertyStatus.objects.all().delete()
    u = {
        1: unit("990101", "甲县"),
        2: unit("990102", "乙县", last_year=2015),
        3: unit("990103", "乙区", first_year=2016),
        4: unit("990104", "丙县", last_year=2017),
        5: unit("990105", "丁县", last_year=2017),
        6: unit("990106", "丙市", first_year=2018),
        7: unit("990107", "戊县"),
        8: unit("980101", "庚县", province="980000"),
        9: unit("990109", "己县"),
    }
    succeed(u[2], u[3], 2016)
    succeed(u[4], u[6], 2018)
    succeed(u[5], u[6], 2018)
    for n, exit_year in ((1, 2016), (2, 2016), (4, 2018), (5, 2018), (8, 2019)):
        poor(u[n], exit_year)
    d1 = designate(u[1], 2015)
    designate(u[2], 2015)
    designate(u[4], 2016)
    designate(u[7], 2016)
    designate(u[9], 2016, is_old_revolutionary_base=True)
    designate(u[1], 2019)
    designate(u[3], 2019)
    designate(u[6], 2019)
    FundingAllocationFactory(unit=u[1], designation=d1, fiscal_year=2015, level="central", amount=Decimal("1000000.00"))
    FundingAllocationFactory(unit=u[1], fiscal_year=2016, level="provincial", amount=Decimal("250000.50"))
    FundingAllocationFactory(unit=u[8], fiscal_year=2019, level="county", amount=Decimal("100.00"))
    rebuild_lineage()  # built through the ORM, not the services, which would have done this
    return u


# The browser fixtures are session-wide: one server and one Chromium for every browser test.
from .browser import browser, indicator_values_imported, live_site  # noqa: E402, F401

# -- the response cache and the front door, as a test sees them -------------------------------------


@pytest.fixture
def stored(monkeypatch):
    """The keys of the entries the response cache stores during a test."""
    keys = []
    real = responses.keep

    def spy(key, *args, **kwargs):
        keys.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(responses, "keep", spy)
    return keys


def call(app, path, method="GET", **headers):
    """Call a WSGI app (the front door, Django's handler) as a server would; (status, headers, body)."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "198.51.100.30",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(),
        "wsgi.errors": sys.stderr,
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=status, headers=response_headers)

    result = app(environ, start_response)
    body = b"".join(result)
    getattr(result, "close", lambda: None)()
    return started["status"], dict(started["headers"]), body
