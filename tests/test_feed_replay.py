"""The feed's promise: a client that replays the feed from its start, or from a snapshot's cursor,
into an empty store holds exactly the public records, as the API's detail endpoints show them,
after a scripted sequence of writes through every door; and after random sequences (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counties import models
from counties.models import Change
from counties.reads.changes import current_cursor, decode_cursor, replay
from counties.reads.public_records import BY_NAME, KINDS, public_rows
from counties.writes import services

from .conftest import run_command
from .factories import HEADER, csv_file

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def unthrottled(settings):
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "token": "100000/minute"}


def stored_public_records() -> dict:
    return {
        (row.kind.name, row.key): row.record for kind in KINDS for row in public_rows(kind, kind.queryset().values_list("pk", flat=True))
    }


def replayed(after: int = 0, store: dict | None = None) -> dict:
    store = {} if store is None else store
    replay(Change.objects.filter(id__gt=after).order_by("id").iterator(), store)
    return store


def api_detail(client, kind_name: str, key: str):
    kind = BY_NAME[kind_name]
    lookup = {"pk": int(key)} if kind.key_field == "pk" else {kind.key_field: key}
    response = client.get(reverse(kind.detail_route, kwargs=lookup))
    return None if response.status_code == 404 else response.json()


def assert_mirror_exact(client, store: dict, touched: set) -> None:
    """The store holds every public record as stored, and for every record the script touched that
    has a detail endpoint, what that endpoint shows (or the record is gone from both)."""
    assert store == stored_public_records()
    for kind_name, key in sorted(touched):
        if BY_NAME[kind_name].detail_route is None:
            continue
        shown = api_detail(client, kind_name, key)
        held = store.get((kind_name, key))
        if shown is None:
            assert held is None, (kind_name, key)
        else:
            assert held == {name: shown.get(name, "(not shown)") for name in BY_NAME[kind_name].fields}, (kind_name, key, shown)


def editor_token() -> str:
    user = User.objects.create_user("feed-api-editor", password="x")
    perms = [f"{a}_{m}" for a in ("add", "change", "delete") for m in ("designation", "fundingallocation", "povertystatus")]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="counties", codename__in=perms))
    _, key = models.ApiToken.issue(user, "feed", can_write=True)
    return key


def new_unit(code: str, name: str, *, first_year: int = 1983, last_year: int | None = None) -> models.Unit:
    province = models.Province.objects.get(code="130000")
    record = models.Unit(
        key=code,
        code=code,
        name_zh=name,
        name_pinyin=name,
        name_en=name,
        unit_type="county",
        parent_type="province-administered",
        province=province,
        first_year=first_year,
        last_year=last_year,
    )
    services.save_record(record, user=None, reason="a new code")
    return record


def test_a_replay_of_the_feed_holds_what_the_api_shows_after_every_kind_of_write(client, tmp_path, django_capture_on_commit_callbacks):
    start = decode_cursor(current_cursor())
    key = editor_token()
    auth = {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_X_CHANGE_REASON": "script"}
    batch_2018 = models.Batch.objects.get(year=2018)

    # The API: create, edit, delete.
    created = client.post(
        "/api/v1/designations/",
        data=json.dumps(
            {"unit": "110101", "batch": batch_2018.pk, "kind": "new", "source": "商建函〔2018〕1号", "source_kind": "official"}
        ),
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert (
        client.patch(
            f"/api/v1/designations/{pk}/", data=json.dumps({"name_as_reported": "东城"}), content_type="application/json", **auth
        ).status_code
        == 200
    )
    funding = client.post(
        "/api/v1/funding-allocations/",
        data=json.dumps(
            {
                "unit": "110101",
                "designation": pk,
                "fiscal_year": 2018,
                "level": "central",
                "amount": "1500000",
                "source": "财建〔2018〕1号",
                "source_kind": "official",
            }
        ),
        content_type="application/json",
        **auth,
    )
    assert funding.status_code == 201, funding.content
    assert client.delete(f"/api/v1/funding-allocations/{funding.json()['id']}/?reason=wrong", **auth).status_code == 204

    # A snapshot taken here, and its cursor.
    snapshot, snapshot_cursor = stored_public_records(), decode_cursor(current_cursor())

    # Code changes: a new code replaces an old one; two codes merge into a third.
    old = new_unit("139901", "旧县", last_year=2018)
    services.save_record(
        models.Designation(unit=old, batch=models.Batch.objects.get(year=2017), source="t", source_kind="official"),
        user=None,
        reason="designated",
    )
    renamed = new_unit("139902", "新区", first_year=2019)
    services.save_record(
        models.UnitSuccession(predecessor=old, successor=renamed, successor_code="139902", year=2019, kind="replaced", is_primary=True),
        user=None,
        reason="code change",
    )
    a, b = new_unit("139903", "甲县", last_year=2019), new_unit("139904", "乙县", last_year=2019)
    merged = new_unit("139905", "甲乙市", first_year=2020)
    services.save_records(
        [
            models.UnitSuccession(predecessor=a, successor=merged, successor_code="139905", year=2020, kind="replaced", is_primary=True),
            models.UnitSuccession(predecessor=b, successor=merged, successor_code="139905", year=2020, kind="replaced", is_primary=True),
        ],
        [],
        user=None,
        reason="merger",
    )
    assert models.Unit.objects.get(pk=a.pk).current_id == merged.pk

    # An official import replaces a cell's illustrative records (and their illustrative funding).
    cell = models.Designation.objects.filter(source_kind="illustrative", batch__year=2016, unit__province__code="130000")
    replaced = set(cell.values_list("pk", flat=True))
    assert replaced
    run_command("import_designations", str(csv_file(tmp_path, HEADER + "130102,2016,new,财建〔2016〕1号,official\n")))
    assert not models.Designation.objects.filter(pk__in=replaced).exists()

    # A rolled-back import: an 833rd poverty county is refused after its rows were written.
    with pytest.raises(Exception, match=r"832|poverty"):
        run_command(
            "import_poverty_statuses",
            str(
                csv_file(tmp_path, "code,listed_name,region,exit_year,source,source_kind\n110101,东城区,east,2018,doc,official\n", "p.csv")
            ),
        )

    # The loaders run again: the roster follows the official records; the reference data is as it was.
    run_command("load_illustrative_roster")
    run_command("load_reference_data")

    # Edits and a deletion through the services (the admin's path), a unit deleted with its successions.
    status = models.PovertyStatus.objects.order_by("pk").first()
    status.exit_year_note = "checked"
    services.save_record(status, user=None, reason="note")
    services.delete_record(models.Designation.objects.get(unit=old), user=None, reason="mistake")
    services.delete_unit(old, user=None, reason="never existed")

    touched = set(Change.objects.filter(id__gt=start).values_list("kind", "key"))
    assert {"unit", "succession", "designation", "funding"} <= {kind for kind, _key in touched}
    assert_mirror_exact(client, replayed(), touched)  # from the start
    assert_mirror_exact(client, replayed(snapshot_cursor, dict(snapshot)), touched)  # from the snapshot
    assert not Change.objects.filter(id__gt=start, kind="poverty_status", key__in=[]).exists()
    # The rolled-back import left nothing: the only poverty status changed is the one edited.
    assert set(Change.objects.filter(id__gt=start, kind="poverty_status").values_list("key", flat=True)) == {str(status.pk)}


# -- random sequences --------------------------------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "edit designation",
                "create designation",
                "delete designation",
                "create funding",
                "delete funding",
                "new code",
                "bulk edit",
                "rolled back",
            ]
        ),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=6,
)


def apply(operation: str, n: int, counter: list[int]) -> None:
    designations = models.Designation.objects.order_by("pk")
    pick = designations[n % designations.count()]
    if operation == "edit designation":
        pick.name_as_reported = f"名{n}"
        services.save_record(pick, user=None, reason="random edit")
    elif operation == "create designation":
        units = models.Unit.objects.filter(last_year__isnull=True, province__code="110000").order_by("pk")
        unit = units[n % units.count()]
        batch = models.Batch.objects.order_by("-year", "-sequence").first()
        if not models.Designation.objects.filter(unit=unit, batch=batch).exists():
            services.save_record(models.Designation(unit=unit, batch=batch, source="t", source_kind="official"), user=None, reason="random")
    elif operation == "delete designation":
        if not pick.funding.exists() and not pick.assessments.exists():
            services.delete_record(pick, user=None, reason="random delete")
    elif operation == "create funding":
        services.save_record(
            models.FundingAllocation(
                unit=pick.unit,
                designation=pick,
                fiscal_year=pick.batch.year,
                level="provincial",
                amount=Decimal(n),
                source="t",
                source_kind="illustrative" if pick.is_illustrative else "official",
            ),
            user=None,
            reason="random",
        )
    elif operation == "delete funding":
        funding = models.FundingAllocation.objects.filter(conditional_on__isnull=True).order_by("pk")
        services.remove_funding(funding.filter(pk=funding[n % funding.count()].pk), user=None, reason="random")
    elif operation == "new code":
        counter[0] += 1
        code = f"13{counter[0]:04d}"[:6]
        old = models.Unit.objects.filter(province__code="130000", last_year__isnull=True).order_by("pk")[n % 50]
        if models.Unit.objects.filter(key=code).exists() or old.successions.exists():
            return
        with transaction.atomic():
            old.last_year = 2020
            services.save_record(old, user=None, reason="retired")
            successor = new_unit(code, old.name_zh + "区", first_year=2021)
            services.save_record(
                models.UnitSuccession(
                    predecessor=old, successor=successor, successor_code=code, year=2021, kind="replaced", is_primary=True
                ),
                user=None,
                reason="code change",
            )
    elif operation == "bulk edit":
        rows = list(designations.filter(source_kind="official")[:3])
        for row in rows:
            row.is_old_revolutionary_base = not row.is_old_revolutionary_base
        services.write_records(models.Designation, [], rows, fields=["is_old_revolutionary_base"], user=None, reason="bulk")
    elif operation == "rolled back":
        try:
            with transaction.atomic():
                pick.name_as_reported = "never"
                services.save_record(pick, user=None, reason="rolled back")
                raise RuntimeError
        except RuntimeError:
            pass


@pytest.fixture(scope="module")
def counter():
    return [9000]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_random_writes_through_every_door_keep_the_replay_exact(operations, counter):
    with transaction.atomic():  # each example starts from the session's data
        for operation, n in operations:
            apply(operation, n, counter)
        assert replayed() == stored_public_records()
        transaction.set_rollback(True)
