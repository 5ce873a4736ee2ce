"""Shared fixtures.

The reference data and the illustrative roster are loaded once per test session, right after the
test database is created; each test then runs in a transaction that is rolled back, so tests may
change anything without affecting each other.
"""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_reference_data", stdout=StringIO())
        call_command("load_illustrative_roster", stdout=StringIO())


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the database rolls back between tests, the cache does not."""
    cache.clear()


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
