"""A property-based run of the whole API, generated from its own committed OpenAPI schema:
whatever the input, anonymous or with a write token (so every POST, PUT, PATCH and DELETE is
tried), no response is a 5xx, and every documented response matches its schema and media type.
Hostile bodies the generator would not think of (a JSON body nested 50,000 deep) are sent to
every write as explicit cases, checked the same way.
CI runs it on SQLite and on PostgreSQL (whose refusals, e.g. of a NUL byte, SQLite does not make).
"""

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from counties.models import ApiToken, Designation, FundingAllocation, PovertyStatus

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


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def write_token(django_user_model):
    """A superuser's write token: every write the schema describes is allowed, so it gets tried."""
    user = django_user_model.objects.create_superuser("fuzzer", "fuzzer@example.org", "x")
    _, key = ApiToken.issue(user, "fuzz", can_write=True)
    return key


@pytest.mark.django_db
@schema.parametrize()
# Fewer examples than the token run below, which sends the same reads and every write as well.
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case):
    response = case.call(base_url="http://localhost")
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_write_with_a_token_produces_a_server_error(case, write_token):
    response = case.call(base_url="http://localhost", headers={"Authorization": f"Token {write_token}"})
    case.validate_response(response, checks=CHECKS)


# Every write of the schema with a body, and the records an {id} in its path names.
WRITES = [operation for result in schema.get_all_operations() if (operation := result.ok()).method in ("post", "put", "patch")]
RECORDS = {"designations": Designation, "funding-allocations": FundingAllocation, "poverty-statuses": PovertyStatus}

# Deeper than Python's JSON reader follows: it raised RecursionError, a 500.
DEEPLY_NESTED = b"[" * 50_000


@pytest.mark.django_db
@pytest.mark.parametrize("operation", WRITES, ids=[f"{o.method.upper()} {o.path}" for o in WRITES])
def test_a_body_nested_too_deeply_is_a_400(operation, write_token):
    model = RECORDS[operation.path.split("/")[3]]
    parameters = {"id": model.objects.order_by("pk").first().pk} if "{id}" in operation.path else {}
    before = list(model.objects.order_by("pk").values())
    case = operation.Case(path_parameters=parameters, body=DEEPLY_NESTED, media_type="application/json")
    response = case.call(base_url="http://localhost", headers={"Authorization": f"Token {write_token}"})
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("JSON parse error - the body's lists and objects are nested too deeply to read")
    assert list(model.objects.order_by("pk").values()) == before
