"""A property-based run of the whole API, generated from its own committed OpenAPI schema:
whatever the input, no response is a 5xx."""

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

SCHEMA = Path(__file__).resolve().parent.parent / "openapi" / "v1.yaml"

schema = schemathesis.openapi.from_path(SCHEMA)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "token": "100000/minute"}


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Called directly, the WSGI app closes the database connection after each request, which
    would end the test's transaction; Django's test client avoids this the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case):
    response = case.call(base_url="http://localhost")
    case.validate_response(response, checks=[not_a_server_error])
