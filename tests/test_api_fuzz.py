"""A property-based run of the whole API, generated from its own committed OpenAPI schema:
whatever the input, no response is a 5xx."""

from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

SCHEMA = Path(__file__).resolve().parent.parent / "openapi" / "v1.yaml"

schema = schemathesis.openapi.from_path(SCHEMA)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "token": "100000/minute"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case):
    response = case.call(base_url="http://localhost")
    case.validate_response(response, checks=[not_a_server_error])
