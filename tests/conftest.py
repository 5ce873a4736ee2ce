"""Shared fixtures.

The reference data and the illustrative roster are loaded once per test session, right after the
test database is created; each test then runs in a transaction that is rolled back, so tests may
change anything without affecting each other.
"""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection


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


@pytest.fixture
def changes_long_past(monkeypatch):
    """The response cache reads a clock an hour ahead: every change to the data (the session's load,
    or one the test makes) is long past. An answer gets its Last-Modified only once its change's
    second is over, and the front door keeps an undated one until then only
    (registry.caching.responses): on the real clock, two answers a test compares differ whenever a
    second ends between the change and the second answer."""
    from django.utils import timezone

    from registry.caching import responses

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


# The browser fixtures are session-wide: one server and one Chromium for every browser test.
from .browser import browser, live_site  # noqa: E402, F401
