"""A 304 never hides a change, even two changes within one second (HTTP dates have whole seconds)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils.http import http_date

from counties import models

pytestmark = pytest.mark.django_db
URL = "/api/v1/stats/coverage/?as_of=2018"
NOON = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)


def at(seconds: float):
    """Make the middleware's clock read NOON + seconds."""
    return mock.patch("counties.caching.responses.timezone.now", return_value=NOON + timedelta(seconds=seconds))


def change(token: str, seconds: float) -> None:
    models.DataVersion.objects.update_or_create(pk=1, defaults={"token": token})
    models.DataVersion.objects.filter(pk=1).update(changed_at=NOON + timedelta(seconds=seconds))


def test_two_changes_within_one_second_are_never_hidden(client):
    change("a" * 32, 0.3)
    with at(0.4):  # the second of the change is not over: a date could not tell the next change apart
        first = client.get(URL)
    assert first.status_code == 200
    assert "Last-Modified" not in first
    change("b" * 32, 0.7)  # a second change within the same second
    with at(0.8):
        # A client that derives If-Modified-Since from the Date of its copy (or from the whole-second
        # Last-Modified the old code sent, 12:00:00) must not be told its copy of change "a" is current.
        stale = client.get(URL, HTTP_IF_MODIFIED_SINCE=http_date(NOON.timestamp()))
    assert stale.status_code == 200


def test_if_modified_since_still_saves_the_transfer(client):
    change("c" * 32, 0.3)
    with at(5):
        response = client.get(URL)
    # The first whole second after the change: every change the copy holds is before it.
    assert response["Last-Modified"] == http_date(NOON.timestamp() + 1) == "Mon, 05 Jan 2026 12:00:01 GMT"
    with at(6):
        assert client.get(URL, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    change("d" * 32, 6.5)  # after the client read the data
    with at(7):
        later = client.get(URL, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert later.status_code == 200
    assert later["Last-Modified"] == "Mon, 05 Jan 2026 12:00:07 GMT"


@pytest.mark.parametrize("url", [URL, "/en/counties/130705/"])
def test_an_answer_made_within_the_changes_second_is_dated_when_served_after_it(client, settings, url):
    """The response cache kept the answer made before the second was over, and served it without
    Last-Modified until the next edit: If-Modified-Since never got its 304."""
    settings.RESPONSE_CACHE = True
    change("e" * 32, 0.3)
    with at(0.4):
        assert "Last-Modified" not in client.get(url)
    with at(3):
        later = client.get(url)
    assert later["Last-Modified"] == "Mon, 05 Jan 2026 12:00:01 GMT"
    with at(4):
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=later["Last-Modified"]).status_code == 304
