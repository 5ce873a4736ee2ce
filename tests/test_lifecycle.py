"""A designation's level, kind and path: provincial designations never count with the national ones,
an upgraded selection is a batch entry but not a new county, a withdrawal counts from its year, and
the outcomes per batch are the same number on every door. Values worked out by hand on the
reference data (1,016 entries and 737 poverty counties covered at end-2018)."""

from collections import Counter
from datetime import UTC
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from counties import models
from counties.reads import statistics
from counties.reads.places import place_resolver, repeat_selections
from counties.reads.statistics.batches import batch_outcomes
from counties.writes import services

from .conftest import run_command
from .factories import provincial_editor

pytestmark = pytest.mark.django_db

SOURCE = {"source": "商办建函〔2019〕29号", "source_kind": "official"}


def step(designation, kind, year=None, **fields):
    return models.LifecycleRecord(designation=designation, step=kind, year=year, **SOURCE, **fields)


def numbers(as_of):
    c = statistics.coverage(as_of)
    return (c.batch_entries, c.demonstration_counties, c.poverty_counties_covered, str(c.poverty_coverage_pct))


def test_the_rule_itself():
    assert models.counts_at_end_of(2018, 2016, 2019) is True  # withdrawn in 2019: counted at end-2018
    assert models.counts_at_end_of(2019, 2016, 2019) is False  # ... not at end-2019
    assert models.counts_at_end_of(2015, 2016, None) is False  # not before its batch
    national = models.Designation.objects.filter(batch__level="national").count()
    assert models.Designation.objects.counted().count() == national  # nothing withdrawn in the reference data


def test_a_provincial_batch_does_not_change_the_national_figures(client):
    before = (numbers(2016), numbers(2018), [b.size for b in statistics.batch_composition()])
    assert numbers(2018) == (1016, 1016, 737, "88.6")
    sichuan = models.Province.objects.get(code="510000")
    batch = models.Batch(
        year=2016,
        sequence=1,
        level="provincial",
        province=sichuan,
        title_zh="四川省2016年省级示范县",
        title_en="Sichuan 2016 provincial",
        central_funds_per_county=5_000_000,
        **SOURCE,
    )
    services.save_record(batch, user=None, reason="provincial notice")
    units = models.Unit.objects.filter(province=sichuan, last_year__isnull=True).order_by("key")[:2]
    for unit in units:
        services.save_record(models.Designation(unit=unit, batch=batch, **SOURCE), user=None, reason="provincial notice")
    assert (numbers(2016), numbers(2018), [b.size for b in statistics.batch_composition()]) == before
    # Each door gives the national number, whatever the provincial batch holds.
    counties = statistics.coverage().demonstration_counties
    assert client.get("/api/v1/stats/coverage/").json()["demonstration_counties"] == counties
    assert client.get("/api/v1/counties/?designated=true&page_size=1").json()["count"] == counties
    sichuan_row = next(p for p in client.get("/api/v1/stats/provinces/").json() if p["code"] == "510000")
    assert sichuan_row["batch_entries"] == models.Designation.objects.counted().filter(unit__province=sichuan).count()
    assert sichuan_row["batch_entries"] == next(p for p in statistics.province_table(2021) if p.code == "510000").batch_entries
    # The API's list: national by default, the provincial two when asked, never both unless asked.
    national = client.get("/api/v1/designations/?batch_year=2016").json()["count"]
    assert national == 240
    assert client.get("/api/v1/designations/?batch_year=2016&level=provincial").json()["count"] == 2
    assert client.get("/api/v1/designations/?batch_year=2016&level=all").json()["count"] == 242
    assert client.get("/api/v1/designations/?level=county").status_code == 400
    assert client.get("/batches/2016/").status_code == 200  # the national batch page, unchanged address
    page = client.get("/en/batches/provinces/510000/2016/").content.decode()
    assert all(f"({u.key})" in page for u in units) and 'data-outcome="not_recorded">2</td>' in page
    assert "<dt>Funds per county, from the province</dt><dd>5 million yuan</dd>" in page  # as the notice gives it
    assert "<dt>Published size</dt><dd>not recorded</dd>" in page
    assert "/batches/provinces/510000/2016/" in client.get("/en/batches/").content.decode()
    assert client.get("/en/batches/provinces/510000/2017/").status_code == 404


def test_the_batches_api_answers_with_a_provincial_batch(client):
    sichuan = models.Province.objects.get(code="510000")
    batch = models.Batch(
        year=2016, level="provincial", province=sichuan, title_zh="四川省2016年省级示范县", title_en="Sichuan 2016", **SOURCE
    )
    services.save_record(batch, user=None, reason="provincial notice")
    listed = client.get("/api/v1/batches/?page_size=100").json()["results"]
    provincial = next(b for b in listed if b["id"] == batch.pk)
    assert (provincial["level"], provincial["province"], provincial["recorded_designations"], provincial["known_in_part"]) == (
        "provincial",
        "510000",
        None,
        None,
    )
    assert client.get(f"/api/v1/batches/{batch.pk}/").status_code == 200
    assert client.get("/api/v1/batches/?format=csv").status_code == 200
    assert [b["id"] for b in client.get("/api/v1/batches/?level=provincial").json()["results"]] == [batch.pk]
    assert client.get("/api/v1/batches/?level=county").status_code == 400


def test_the_kind_rule_itself(english):
    assert models.designation_kind_problem("new", 2019, selected_before=False) is None
    assert models.designation_kind_problem("repeat", 2019, selected_before=True) is None
    assert models.designation_kind_problem("upgraded", 2019, selected_before=True) is None
    assert "earlier batch" in models.designation_kind_problem("new", 2019, selected_before=True)
    assert "first selection" in models.designation_kind_problem("repeat", 2019, selected_before=False)
    assert "from 2019" in models.designation_kind_problem("upgraded", 2018, selected_before=True)


def test_the_service_holds_a_designation_to_its_kind(english):
    earlier = (  # a real (secondary) designation: an invented illustrative one makes no real selection a repeat
        models.Designation.objects.counted()
        .filter(batch__year=2015, unit__last_year__isnull=True, source_kind="secondary")
        .exclude(unit__designations__batch__year__in=[2018, 2019])
        .order_by("pk")
        .first()
    )
    batch_2018 = models.Batch.objects.get(year=2018, level="national")
    again = models.Designation(unit=earlier.unit, batch=batch_2018, kind="new", **SOURCE)
    with pytest.raises(services.KindRefused, match="earlier batch"):
        services.save_record(again, user=None, reason="2018 notice")
    again = models.Designation(unit=earlier.unit, batch=batch_2018, kind="upgraded", **SOURCE)
    with pytest.raises(services.KindRefused, match="from 2019"):
        services.save_record(again, user=None, reason="2018 notice")
    assert not models.Designation.objects.filter(unit=earlier.unit, batch=batch_2018).exists()  # nothing half-written
    services.save_record(models.Designation(unit=earlier.unit, batch=batch_2018, kind="repeat", **SOURCE), user=None, reason="2018 notice")
    never = models.Unit.objects.filter(last_year__isnull=True, designations__isnull=True, unit_type="county").order_by("key").first()
    with pytest.raises(services.KindRefused, match="first selection"):
        services.save_record(models.Designation(unit=never, batch=batch_2018, kind="repeat", **SOURCE), user=None, reason="2018 notice")


def test_a_place_designated_again_is_loaded_as_a_repeat(client):
    # Every loaded selection of a place designated in an earlier batch says so; the API's filter finds them.
    rows = list(models.Designation.objects.filter(batch__level="national").values_list("pk", "unit_id", "batch__year", "kind"))
    again = {pk for pk, _unit, _year, kind in rows if kind != "new"}
    assert len(again) == 50  # the roster's 2019 selections of places it designated before
    assert again <= repeat_selections(place_resolver(), [(pk, unit, year) for pk, unit, year, _kind in rows])
    assert client.get("/api/v1/designations/?kind=repeat&page_size=1").json()["count"] == len(again)
    assert client.get("/batches/2019/?kind=repeat").status_code == 200


def test_a_provincial_batch_names_its_province():
    batch = models.Batch(year=2016, sequence=1, level="provincial", title_zh="x", title_en="x", **SOURCE)
    with pytest.raises(ValidationError) as refused:
        batch.full_clean()
    assert list(refused.value.message_dict) == ["province"]


def test_an_upgraded_selection_adds_a_batch_entry_not_a_county():
    before = numbers(2019)
    assert before == (1231, 1180, 832, "100.0")
    earlier = (
        models.Designation.objects.counted()
        .filter(batch__year=2015, unit__last_year__isnull=True)
        .exclude(unit__designations__batch__year=2019)
        .order_by("pk")
        .first()
    )
    batch_2019 = models.Batch.objects.get(year=2019, level="national")
    services.save_record(
        models.Designation(unit=earlier.unit, batch=batch_2019, kind="upgraded", **SOURCE), user=None, reason="2019 notice"
    )
    assert numbers(2019) == (1232, 1180, 832, "100.0")


def test_a_withdrawal_counts_from_its_year(client):
    designation = models.Designation.objects.filter(batch__year=2018, unit__last_year__isnull=True).order_by("pk").first()
    services.record_lifecycle(
        step(
            designation, "withdrawn", 2019, reason="failed its assessment", document_number="商办建函〔2019〕1号", funds_recovered=1_000_000
        ),
        user=None,
        reason="withdrawal notice",
    )
    assert designation in models.Designation.objects.counted(2018)
    assert designation in models.Designation.objects.counted(2018).filter(batch__year=2018)
    assert designation not in models.Designation.objects.counted(2019)
    assert statistics.coverage(2018).batch_entries == 1016
    assert statistics.coverage(2019).batch_entries == 1230
    # It was a demonstration county from 2018: its targets apply from then, withdrawn or not.
    from counties.reads.statistics import targets

    assert targets.place_targets(designation.unit).designated_from == 2018
    # The 2018 batch as of each year-end: whole until the withdrawal, one entry fewer from then.
    assert [b.size for b in statistics.batch_composition_until(2018) if b.year == 2018] == [260]
    assert [b.size for b in statistics.batch_composition_until(2019) if b.year == 2018] == [259]
    # The recovered funds add up per batch on every door; a batch with none recorded says so.
    row = next(b for b in client.get("/api/v1/stats/batches/").json() if b["year"] == 2018)
    assert (row["funds_recovered_yuan"], row["funds_withheld_yuan"]) == ("1000000.00", None)
    page = client.get("/batches/2018/").content.decode()
    assert "扣减的中央资金： 未记录；收回： 100 万元" in page
    assert "扣减的中央资金： 未记录；收回： 未记录" in client.get("/batches/2017/").content.decode()
    with pytest.raises(ValidationError):  # one withdrawal per designation
        services.record_lifecycle(step(designation, "withdrawn", 2020, reason="again"), user=None, reason="again")


def test_a_withdrawal_needs_its_reason():
    designation = models.Designation.objects.order_by("pk").first()
    with pytest.raises(ValidationError):
        services.record_lifecycle(step(designation, "withdrawn", 2019), user=None, reason="withdrawal notice")
    assert not models.LifecycleRecord.objects.exists()


def test_a_provincial_editor_records_only_their_provinces_path():
    editor = provincial_editor("130000")
    shanxi = models.Designation.objects.filter(unit__province__code="140000").order_by("pk").first()
    with pytest.raises(services.OutOfScope):
        services.record_lifecycle(step(shanxi, "withdrawn", 2019, reason="failed"), user=editor, reason="notice")
    hebei = models.Designation.objects.filter(unit__province__code="130000").order_by("pk").first()
    services.record_lifecycle(step(hebei, "accepted", hebei.batch.year + 2), user=editor, reason="acceptance notice")
    record = models.LifecycleRecord.objects.get()
    assert (record.designation_id, record.history.get().history_change_reason) == (hebei.pk, "acceptance notice")


def test_outcomes_per_batch_agree_on_every_door(client):
    d1, d2, d3 = models.Designation.objects.filter(batch__year=2016).order_by("pk")[:3]
    for d, result in ((d1, "passed"), (d2, "rectify")):
        services.save_record(models.Assessment(designation=d, year=2018, result=result, **SOURCE), user=None, reason="assessment")
    services.save_record(models.Assessment(designation=d3, year=2018, result="failed", **SOURCE), user=None, reason="assessment")
    services.record_lifecycle(step(d1, "accepted", 2019), user=None, reason="acceptance")
    services.record_lifecycle(step(d3, "withdrawn", 2019, reason="failed its assessment"), user=None, reason="withdrawal")
    # By hand: three assessed (one each passed, rectify, failed), one accepted, one withdrawn, 237 with nothing.
    batch = models.Batch.objects.get(year=2016, level="national")
    expected = Counter(assessed=3, passed=1, rectify=1, failed=1, accepted=1, withdrawn=1, not_recorded=237)
    assert batch_outcomes()[batch.pk] == expected
    api = next(b for b in client.get("/api/v1/stats/batches/").json() if b["year"] == 2016)
    assert {k.removeprefix("outcome_"): v for k, v in api.items() if k.startswith("outcome_")} == expected
    page = client.get("/en/batches/2016/").content.decode()
    for outcome, n in expected.items():
        assert f'data-outcome="{outcome}">{n}</td>' in page
    row = client.get("/en/statistics/").content.decode().split('data-batch="2016-1"')[1].split("</tr>")[0]
    for outcome, n in expected.items():
        assert f'data-outcome="{outcome}">{n}</td>' in row
    assert client.get("/api/v1/designations/?batch_year=2016&outcome=withdrawn").json()["count"] == 1
    # The batch page's list takes the same filters, withdrawn ones included when filtered.
    listed = client.get("/en/batches/2016/?outcome=withdrawn").content.decode()
    assert f"({d3.unit.key})" in listed and f"({d1.unit.key})" not in listed.split("matching the filter")[1]
    assert client.get("/en/batches/2016/?outcome=maybe").status_code == 400
    assert client.get("/api/v1/designations/?batch_year=2016&outcome=not_recorded").json()["count"] == 237
    # The filter and the loaded rows' rule agree (`outcome` and `outcomes_of`).
    for outcome in models.Outcome.values:
        assert models.Designation.objects.filter(batch=batch).outcome(outcome).count() == expected[outcome]


def test_a_lifecycle_record_is_a_change_of_its_designation_for_a_partner_syncing(client):
    designation = models.Designation.objects.filter(batch__year=2017).order_by("pk").first()
    since = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    url = f"/api/v1/designations/?updated_since={since}"
    assert client.get(url).json()["count"] == 0
    services.record_lifecycle(step(designation, "accepted", 2019), user=None, reason="acceptance notice")
    found = client.get(url).json()
    assert [d["id"] for d in found["results"]] == [designation.pk]
    (record,) = found["results"][0]["lifecycle"]
    assert (record["step"], record["year"], record["source"], found["results"][0]["outcomes"]) == (
        "accepted",
        2019,
        SOURCE["source"],
        ["accepted"],
    )


def test_an_illustrative_designation_with_a_recorded_path_is_not_removed_with_the_roster():
    designation = models.Designation.objects.filter(source_kind="illustrative").order_by("pk").first()
    services.record_lifecycle(step(designation, "accepted", designation.batch.year + 2), user=None, reason="acceptance notice")
    with pytest.raises(services.ReplacementBlocked, match=str(designation.pk)):
        services.remove_designations(models.Designation.objects.filter(pk=designation.pk), user=None, reason="replaced")
    assert models.Designation.objects.filter(pk=designation.pk).exists()


def test_the_reference_loader_never_takes_a_provincial_batch_for_a_national_one():
    sichuan = models.Province.objects.get(code="510000")
    batch = models.Batch(year=2016, sequence=1, level="provincial", province=sichuan, title_zh="四川省级", title_en="Sichuan", **SOURCE)
    services.save_record(batch, user=None, reason="provincial notice")
    national = models.Batch.objects.get(year=2016, level="national")
    output = run_command("load_reference_data")
    assert "Nothing changed" in output
    batch.refresh_from_db()
    assert (batch.title_zh, batch.level, models.Batch.objects.get(year=2016, level="national").pk) == (
        "四川省级",
        "provincial",
        national.pk,
    )


def test_the_poverty_list_says_why_it_holds_fewer_places_than_832(client, english):
    page = client.get("/en/counties/?poverty=true").content.decode()
    assert "of 831" in page and "the 832 poverty counties are fewer places (茫崖市 holds 冷湖 and 茫崖)" in page
    assert client.get("/api/v1/counties/?poverty=true&page_size=1").json()["count"] == 831


def test_a_province_with_no_funding_recorded_says_so(client):
    # Funding is recorded for the 2015 batch only (the roster's illustrative allocations): a province
    # with none is "not recorded", never 0.
    funded = set(models.FundingAllocation.objects.values_list("unit__province__code", flat=True))
    row = next(p for p in client.get("/api/v1/stats/provinces/").json() if p["code"] not in funded)
    assert row["funds_yuan"] is None
    page = client.get(f"/provinces/{row['code']}/").content.decode()
    assert "<dt>已记录资金</dt><dd>未记录</dd>" in page
    funded_row = next(p for p in client.get("/api/v1/stats/provinces/").json() if p["code"] in funded)
    assert Decimal(funded_row["funds_yuan"]) > 0


def test_the_admin_form_shows_the_kind_refusal(admin_client, english):
    from django.urls import reverse

    record = models.Designation.objects.filter(batch__year=2019, source_kind="secondary").order_by("pk").first()
    form = {"unit": record.unit_id, "batch": record.batch_id, "kind": "repeat", "is_old_revolutionary_base": "unknown"}
    form |= {"source": record.source, "source_kind": record.source_kind, "source_note": "", "loaded_version": record.updated_at.isoformat()}
    form |= {"change_reason": "a selection again?"}
    response = admin_client.post(reverse("admin:counties_designation_change", args=[record.pk]), form)
    assert response.status_code == 200  # the form again, with the refusal on the kind, nothing saved
    assert "its first selection is “new”" in response.content.decode()
    record.refresh_from_db()
    assert record.kind == "new"
