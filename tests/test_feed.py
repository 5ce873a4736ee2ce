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


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "token": "100000/minute"}


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
    if not kind.queryset().exists():  # the reference data has no values, assessments or pairings
        write_targets_records()
    instance = kind.queryset().first()
    shown = api_detail(client, kind_name, instance)
    assert public_record(instance) == {name: shown[name] for name in kind.fields}


# What a detail endpoint shows that is not a field of the record: worked out from other records,
# which the feed carries as kinds of their own (public_records' docstring).
SHOWN_FROM_OTHER_RECORDS = {
    "unit": {"successors", "poverty", "designations"},
    "batch": {"recorded_designations", "illustrative_designations", "poverty_counties", "known_in_part"},
    "designation": {"unit_name_zh", "province", "batch_year", "level", "counted", "outcomes", "lifecycle"},
    "funding": {"province"},
    "poverty_status": {"unit_name_zh", "province"},
}


@pytest.mark.parametrize("kind_name", [k.name for k in KINDS if k.detail_route])
def test_every_field_a_detail_endpoint_shows_is_fed(client, kind_name):
    """A field added to a record's API is added to its public fields (or named here as shown
    from other records): the feed and the data package would otherwise miss it."""
    kind = BY_NAME[kind_name]
    if not kind.queryset().exists():
        write_targets_records()
    shown = set(api_detail(client, kind_name, kind.queryset().first()))
    assert shown - SHOWN_FROM_OTHER_RECORDS.get(kind_name, set()) == set(kind.fields)


def write_targets_records() -> None:
    designation = models.Designation.objects.select_related("unit").filter(unit__code="130705").order_by("pk").first()
    funding = models.FundingAllocation(
        unit=designation.unit,
        designation=designation,
        fiscal_year=2017,
        level="central",
        amount=Decimal("1500000"),
        source="t",
        source_kind="official",
    )
    services.save_record(funding, user=None, reason="targets")
    records = [
        models.IndicatorValue(
            unit=designation.unit,
            indicator=models.Indicator.objects.order_by("pk").first(),
            year=2017,
            value=Decimal("12.5"),
            source="t",
            source_kind="official",
        ),
        models.Assessment(
            designation=designation,
            year=2017,
            result="passed",
            score=Decimal("88.5"),
            conditional_funding=funding,
            source="t",
            source_kind="official",
        ),
        models.Pairing(
            unit=designation.unit, partner_name="某平台", partner_kind="platform", start_year=2018, source="t", source_kind="official"
        ),
    ]
    for record in records:
        services.save_record(record, user=None, reason="targets")


def test_a_changed_key_is_a_tombstone_and_a_creation():
    indicator = models.Indicator.objects.order_by("pk").first()
    old = indicator.code
    before = feed_reads.latest_change_id()
    indicator.code = "renamed_indicator"
    services.save_record(indicator, user=None, reason="renamed")
    rows = [(c.kind, c.key, c.action) for c in Change.objects.filter(id__gt=before)]
    assert rows == [("indicator", old, "deleted"), ("indicator", "renamed_indicator", "created")]


def test_records_stored_before_the_feed_enter_it_once_as_created():
    from counties.writes.feed import record_unfed

    Change.objects.filter(kind="indicator").delete()
    assert record_unfed() == models.Indicator.objects.count() > 0
    assert set(Change.objects.filter(kind="indicator").values_list("action", flat=True)) == {"created"}
    assert record_unfed() == 0


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
    # Only the spelling the feed gives: one position, one cursor.
    import base64

    for text in ("feed:05", "feed:١٢", "feed:12\n", "feed:-1", "feed:"):
        with pytest.raises(feed_reads.BadCursor):
            decode_cursor(base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))
    with pytest.raises(feed_reads.BadCursor):
        decode_cursor(encode_cursor(12) + "==")


def test_a_cursor_past_the_newest_change_is_refused(client):
    beyond = encode_cursor(decode_cursor(current_cursor()) + 1)
    refused = client.get(FEED, {"after": beyond})
    assert refused.status_code == 400 and "is not a cursor of this feed" in str(refused.json())
    assert client.get(FEED, {"after": current_cursor() + "%0A"}).status_code == 400


def test_a_filtered_follower_moves_on_with_the_feed(client):
    start = current_cursor()
    designation = models.Designation.objects.order_by("pk").first()
    designation.name_as_reported = "改"
    services.save_record(designation, user=None, reason="not a pairing")
    page = read_feed(client, start, kind="pairing")
    # Nothing of its kind, and nothing missed: its next cursor is the feed's newest, not its own old one.
    assert (page["changes"], page["has_more"], page["next"]) == ([], False, current_cursor())


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
    # A change the assessment does not show feeds the designation alone (nothing else to report).
    before = feed_reads.latest_change_id()
    designation.name_as_reported = "改名"
    services.save_record(designation, user=None, reason="name as in the notice")
    assert [(c.kind, c.key) for c in Change.objects.filter(id__gt=before)] == [("designation", str(designation.pk))]


def test_money_is_fed_as_the_api_writes_it():
    funding = models.FundingAllocation.objects.order_by("pk").first()
    funding.amount = Decimal("12.5")
    services.save_record(funding, user=None, reason="corrected")
    assert Change.objects.order_by("-id").first().record["amount"] == "12.50"


# -- the API -----------------------------------------------------------------------------------------

FEED = "/api/v1/changes/"


def read_feed(client, after: str | None = None, **params) -> dict:
    query = {**({"after": after} if after else {}), **params}
    response = client.get(FEED, query)
    assert response.status_code == 200, response.content
    return response.json()


def follow(client, after: str | None = None, **params) -> tuple[list[dict], str]:
    """Every change after `after`, page by page, and the cursor to ask next."""
    got: list[dict] = []
    while True:
        page = read_feed(client, after, **params)
        got += page["changes"]
        after = page["next"]
        if not page["has_more"]:
            return got, after


def test_a_client_following_the_feed_from_a_cursor_gets_each_change_once_in_order(client):
    start = current_cursor()
    designations = list(models.Designation.objects.order_by("pk")[:3])
    with transaction.atomic():  # three changes in one transaction and within one second
        for n, designation in enumerate(designations):
            designation.name_as_reported = f"名{n}"
            services.save_record(designation, user=None, reason="one transaction")
    got, cursor = follow(client, start, limit=2)
    assert [(c["kind"], c["key"], c["record"]["name_as_reported"]) for c in got] == [
        ("designation", str(d.pk), f"名{n}") for n, d in enumerate(designations)
    ]
    assert len({c["at"] for c in got}) <= 3 and len({c["cursor"] for c in got}) == 3
    assert cursor == got[-1]["cursor"] == current_cursor()
    assert read_feed(client, cursor) == {"changes": [], "next": cursor, "has_more": False}


def test_the_feed_filters_by_kind_and_province_and_names_an_unknown_one(client):
    start = current_cursor()
    hebei = models.Designation.objects.filter(unit__province__code="130000").order_by("pk").first()
    hunan = models.Designation.objects.filter(unit__province__code="430000").order_by("pk").first()
    for designation in (hebei, hunan):
        designation.name_as_reported = "改"
        services.save_record(designation, user=None, reason="filters")
    batch = models.Batch.objects.order_by("pk").first()
    batch.title_en += " (corrected)"
    services.save_record(batch, user=None, reason="filters")
    assert [c["key"] for c in follow(client, start, province="130000")[0]] == [str(hebei.pk)]
    assert [c["key"] for c in follow(client, start, kind="batch")[0]] == [str(batch.pk)]
    assert [c["key"] for c in follow(client, start, kind="designation,batch", province="430000")[0]] == [str(hunan.pk)]
    for params, field, named in (({"kind": "designations"}, "kind", "designations"), ({"province": "990000"}, "province", "990000")):
        response = client.get(FEED, params)
        assert response.status_code == 400
        assert named in response.json()["error"]["fields"][field][0]
    assert client.get(FEED, {"after": "12345"}).status_code == 400


def test_the_feed_shows_no_reason_no_user_and_no_internal_notes(client):
    from django.contrib.auth.models import User

    editor = User.objects.create_superuser("feed-editor", "e@example.cn", "x")
    start = current_cursor()
    unit = models.Unit.objects.get(code="130705")
    unit.notes = "internal note"
    unit.name_en = "Xuanhua District (checked)"
    services.save_record(unit, user=editor, reason="a confidential reason")
    text = client.get(FEED, {"after": start}).content.decode()
    assert "Xuanhua District (checked)" in text
    for private in ("internal note", "a confidential reason", "feed-editor", "notes"):
        assert private not in text


def test_a_cursor_older_than_what_is_kept_is_gone_with_where_to_start_again(client, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    old = current_cursor()
    Change.objects.update(at=timezone.now() - timedelta(days=settings.CHANGE_FEED_KEPT_DAYS + 1))
    designation = models.Designation.objects.order_by("pk").first()
    designation.name_as_reported = "新"
    services.save_record(designation, user=None, reason="after the pruning")
    call_command("prune_changes", stdout=__import__("io").StringIO())
    assert Change.objects.count() == 1
    gone = client.get(FEED, {"after": encode_cursor(decode_cursor(old) - 1)})
    assert gone.status_code == 410
    assert "/api/v1/data/" in gone.json()["error"]["message"]
    assert client.get(FEED).status_code == 410  # from the beginning: gone too
    assert [c["record"]["name_as_reported"] for c in read_feed(client, old)["changes"]] == ["新"]


def test_the_feed_answers_a_conditional_get_until_a_change(client, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    models.DataVersion.objects.update(changed_at=timezone.now() - timedelta(seconds=5))
    cursor = current_cursor()
    first = client.get(FEED, {"after": cursor})
    assert client.get(FEED, {"after": cursor}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    designation = models.Designation.objects.order_by("pk").first()
    designation.name_as_reported = "变"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_record(designation, user=None, reason="etag")
    after = client.get(FEED, {"after": cursor}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and len(after.json()["changes"]) == 1


def test_a_feed_page_is_one_query_for_its_changes(client, django_assert_max_num_queries):
    start = encode_cursor(0)
    with django_assert_max_num_queries(7):  # the pruning horizon, the head, the page; the middleware's data token
        page = read_feed(client, start, limit=1000)
    assert len(page["changes"]) == 1000 and page["has_more"]


# -- the people's page and the Atom feed --------------------------------------------------------------


def test_the_changes_page_says_each_change_in_words_with_a_link(client):
    unit = models.Unit.objects.get(code="130705")
    unit.name_en = "Xuanhua (checked)"
    services.save_record(unit, user=None, reason="words")
    page = client.get("/changes/")
    assert page.status_code == 200
    text = page.content.decode()
    assert '县级单位修改：<a href="/counties/130705/">宣化区 (130705)</a>' in text
    english = client.get("/en/changes/").content.decode()
    assert 'County-level unit changed: <a href="/en/counties/130705/">Xuanhua (checked) (130705)</a>' in english


def test_the_changes_page_follows_a_county_by_an_old_code_and_a_province(client):
    # 宣化县 (130721) became 宣化区 (130705): the old code finds the place's changes.
    designation = models.Designation.objects.filter(unit__code="130705").order_by("pk").first()
    other = models.Designation.objects.filter(unit__province__code="430000").order_by("pk").first()
    for record in (designation, other):
        record.name_as_reported = "新"
        services.save_record(record, user=None, reason="follow")
    by_county = client.get("/en/changes/", {"county": "130721"}).content.decode()
    assert f"change-{Change.objects.get(kind='designation', key=str(designation.pk), action='changed').id}" in by_county
    assert f"change-{Change.objects.get(kind='designation', key=str(other.pk), action='changed').id}" not in by_county
    by_province = client.get("/en/changes/", {"province": "430000"}).content.decode()
    assert f"change-{Change.objects.get(kind='designation', key=str(other.pk), action='changed').id}" in by_province
    assert client.get("/en/changes/", {"province": "990000"}).status_code == 400
    assert client.get("/en/changes/", {"county": "999999"}).status_code == 400


def test_the_atom_feed_lists_the_same_changes(client):
    designation = models.Designation.objects.filter(unit__code="130705").order_by("pk").first()
    designation.name_as_reported = "新"
    services.save_record(designation, user=None, reason="atom")
    response = client.get("/en/changes/atom/", {"county": "130705"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert (
        body.count("<entry>") == Change.objects.filter(unit_id__in=feed_reads.place_unit_ids("130705")).count()
        or body.count("<entry>") == 100
    )
    assert "Designation changed" in body and "/en/counties/130705/" in body


def test_the_changes_page_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):  # the data token, the provinces, the changes, their units and batches
        assert client.get("/en/changes/").status_code == 200


def test_a_renamed_province_feeds_its_units_again():
    province = models.Province.objects.get(code="650000")
    before = feed_reads.latest_change_id()
    province.name_en = "Xinjiang Uygur Autonomous Region (renamed)"
    services.save_record(province, user=None, reason="renamed")
    changes = Change.objects.filter(id__gt=before)
    assert changes.count() == models.Unit.objects.filter(province=province).count() > 0
    assert {c.record["province"]["name_en"] for c in changes} == {"Xinjiang Uygur Autonomous Region (renamed)"}
