"""The change feed: every write to a public record, through every write service, leaves one row
holding what the public sees after it (or a tombstone), in the write's own transaction; replaying
the rows from the start gives exactly the public records the API shows."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from counties import models
from counties.models import Change, ChangeAction
from counties.reads import changes as feed_reads
from counties.reads.changes import current_cursor, decode_cursor, encode_cursor, replay
from counties.reads.public_records import BY_NAME, KINDS, public_record, public_rows
from counties.writes import services

pytestmark = [pytest.mark.django_db]


def stored_public_records() -> dict:
    """Every public record as stored now, by (kind, key)."""
    return {
        (row.kind.name, row.key): row.record for kind in KINDS for row in public_rows(kind, kind.queryset().values_list("pk", flat=True))
    }


def replayed() -> dict:
    store: dict = {}
    replay(Change.objects.order_by("id").iterator(), store)
    return store


def api_detail(client, kind_name: str, instance) -> dict:
    kind = BY_NAME[kind_name]
    lookup = {"pk": instance.pk} if kind.key_field == "pk" else {kind.key_field: getattr(instance, kind.key_field)}
    response = client.get(reverse(kind.detail_route, kwargs=lookup))
    assert response.status_code == 200, response.content
    return response.json()


def test_the_loaders_feed_every_public_record_they_write():
    # The session's database was loaded by load_reference_data and the illustrative roster: the
    # feed, replayed from its start, holds every public record as stored.
    store = replayed()
    assert store == stored_public_records()
    assert {kind for kind, _key in store} >= {"unit", "succession", "poverty_status", "batch", "designation", "funding", "programme_fact"}


@pytest.mark.parametrize("kind_name", [k.name for k in KINDS if k.detail_route])
def test_a_public_record_holds_what_the_api_detail_shows(client, kind_name):
    kind = BY_NAME[kind_name]
    instance = kind.queryset().first()
    if instance is None:  # no indicator values, assessments or pairings in the reference data
        pytest.skip(f"no {kind_name} stored")
    shown = api_detail(client, kind_name, instance)
    assert public_record(instance) == {name: shown[name] for name in kind.fields}


def test_saving_a_record_feeds_its_public_fields_after_the_change_and_no_reason(client):
    designation = models.Designation.objects.select_related("unit__province").order_by("pk").first()
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    designation.name_as_reported = "新名"
    services.save_record(designation, user=None, reason="a secret reason")
    (change,) = Change.objects.filter(id__gt=before)
    assert (change.kind, change.key, change.action, change.province) == (
        "designation",
        str(designation.pk),
        "changed",
        designation.unit.province.code,
    )
    assert change.record["name_as_reported"] == "新名"
    assert change.record == {name: api_detail(client, "designation", designation)[name] for name in BY_NAME["designation"].fields}
    assert "a secret reason" not in str(change.record)


def test_deleting_a_record_feeds_a_tombstone():
    funding = models.FundingAllocation.objects.filter(conditional_on__isnull=True).order_by("pk").first()
    pk = funding.pk
    before = feed_reads.latest_change_id()
    services.delete_record(funding, user=None, reason="wrong")
    (change,) = Change.objects.filter(id__gt=before)
    assert (change.kind, change.key, change.action, change.record) == ("funding", str(pk), ChangeAction.DELETED, None)


def test_a_rolled_back_write_leaves_no_change():
    designation = models.Designation.objects.order_by("pk").first()
    before = feed_reads.latest_change_id()
    with pytest.raises(RuntimeError), transaction.atomic():
        designation.name_as_reported = "回滚"
        services.save_record(designation, user=None, reason="test")
        assert Change.objects.filter(id__gt=before).count() == 1
        raise RuntimeError
    assert not Change.objects.filter(id__gt=before).exists()


def test_the_cursor_is_opaque_and_gives_back_its_change():
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert "12345" not in encode_cursor(12345)
    assert decode_cursor(current_cursor()) == Change.objects.order_by("-id").first().id
    with pytest.raises(feed_reads.BadCursor):
        decode_cursor("not-a-cursor")


def test_a_changed_designation_feeds_its_assessments_again():
    designation = models.Designation.objects.select_related("unit").order_by("pk").first()
    assessment = models.Assessment.objects.create(
        designation=designation, year=2017, result="pending", source="test", source_kind="secondary"
    )
    other = models.Batch.objects.exclude(pk=designation.batch_id).order_by("year").last()
    before = feed_reads.latest_change_id()
    designation.batch = other
    services.save_record(designation, user=None, reason="the right batch")
    rows = {(c.kind, c.key): c.record for c in Change.objects.filter(id__gt=before)}
    assert rows[("assessment", str(assessment.pk))]["batch_year"] == other.year
    assert rows[("designation", str(designation.pk))]["batch"] == other.pk


def test_money_is_fed_as_the_api_writes_it():
    funding = models.FundingAllocation.objects.order_by("pk").first()
    funding.amount = Decimal("12.5")
    services.save_record(funding, user=None, reason="corrected")
    assert Change.objects.order_by("-id").first().record["amount"] == "12.50"
