"""The illustrative roster reproduces every published figure it promises, leaves the real
designations alone, and can be removed and rebuilt identically."""

import csv
from collections import defaultdict

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from counties import models
from counties.reads.statistics import batch_composition, coverage
from counties.writes.roster import (
    CORPS_PREFIX,
    LOAD_REASON,
    ROSTER_SOURCE,
    RosterBuilder,
    RosterError,
    load_illustrative_roster,
    roster_targets,
    verify_roster,
)
from counties.writes.services import delete_record, save_record

from .conftest import admin_form_data, run_command
from .factories import illustrative, provincial_editor, withdraw

pytestmark = pytest.mark.django_db


def batch(year):
    return next(b for b in batch_composition() if b.year == year and b.sequence == 1)


# The loader checks its figures itself (verify_roster); these tests check that it reads them from
# the database and that the check catches a roster that misses them.


def test_targets_are_read_from_the_batches_and_the_published_figures():
    targets = roster_targets()
    assert targets.batch_sizes == {2014: 56, 2015: 200, 2016: 240, 2017: 260, 2018: 260, 2019: 215}
    # 2016 has only a published share: 66% of 240 = 158.4 → 158.
    assert targets.poverty_per_batch == {2016: 158, 2017: 237, 2018: 238, 2019: 138}
    assert targets.cumulative == {2018: (1016, 737), 2019: (1180, 832)}
    # 2014-2015 hold what the end-2018 headline leaves: 737 - 158 - 237 - 238.
    assert targets.poverty_before_first_published == 104
    models.Batch.objects.filter(year=2017).update(published_poverty_counties=236)
    models.ProgrammeFact.objects.filter(fact_id="C2018_pov").update(value=740)
    changed = roster_targets()
    assert (changed.poverty_per_batch[2017], changed.cumulative[2018]) == (236, (1016, 740))
    assert changed.poverty_before_first_published == 740 - 158 - 236 - 238


def test_the_check_compares_the_registry_with_the_published_figures():
    verify_roster()  # the loaded roster meets them
    models.Batch.objects.filter(year=2017).update(published_poverty_counties=236)
    with pytest.raises(RosterError, match="poverty 2017: expected 236, got 237"):
        verify_roster()


def test_the_check_catches_a_withdrawn_entry():
    entry = models.Designation.objects.filter(batch__year=2018, source_kind="illustrative").order_by("pk").first()
    withdraw(entry)
    models.DataVersion.objects.update(token="after-withdrawal")  # .update() sends no signal
    with pytest.raises(RosterError, match=r"batch entries 2018: expected 1016, got 1015.*size 2018: expected 260, got 259"):
        verify_roster()


def test_loading_fails_and_writes_nothing_when_the_figures_cannot_be_met():
    before = models.Designation.objects.count()
    models.ProgrammeFact.objects.filter(fact_id="C2020_cov").update(value=900)  # more than the 832 poverty counties
    with pytest.raises(CommandError, match="Illustrative roster not loaded, nothing was written"):
        run_command("load_illustrative_roster")
    assert models.Designation.objects.count() == before


def test_figures_the_check_does_not_cover():
    sizes = {b.year: b.size for b in batch_composition() if b.sequence == 1}
    assert sizes[2021] == 29  # the 2021 batch holds only its recorded designations
    assert coverage(2018).includes_illustrative is True
    # 2014-2016 hold 262 poverty counties: the headline 737 wins over the mid-2017 report of 261.
    assert coverage(2016).poverty_counties_covered == 262
    assert [batch(y).old_revolutionary_base_counties for y in (2017, 2018)] == [12, 22]


def published_table():
    """The 2014-2016 province table, read straight from the reference file."""
    counts = {}
    autonomous_region_only = {}
    with (settings.REFERENCE_DATA_DIR / "demo_counties_province_counts.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year = int(row["batch_year"])
            if year > 2016:
                continue
            if "autonomous region only" in row["note"]:
                autonomous_region_only[(year, row["province_name"])] = int(row["counties_stated"])
            elif "table" in row["note"]:
                counts[(year, row["province_name"])] = int(row["counties_stated"])
    return counts, autonomous_region_only


def test_2014_2016_batches_match_the_published_province_table():
    table, autonomous_region_only = published_table()
    assert len(table) == 3 * 26
    recorded = defaultdict(int)
    outside_corps = defaultdict(int)
    for year, province, key in (
        models.Designation.objects.counted()
        .filter(batch__year__lte=2016)
        .values_list("batch__year", "unit__province__name_zh", "unit__key")
    ):
        recorded[(year, province)] += 1
        outside_corps[(year, province)] += not key.startswith(CORPS_PREFIX)
    assert {k: recorded[k] for k in table} == table
    assert sum(recorded.values()) == 56 + 200 + 240
    # Xinjiang's figure includes the Corps; the autonomous region's own notices name 7 and 19.
    assert autonomous_region_only == {(2015, "新疆维吾尔自治区"): 7, (2016, "新疆维吾尔自治区"): 19}
    assert {k: outside_corps[k] for k in autonomous_region_only} == autonomous_region_only


def test_real_designations_are_kept_and_every_other_one_is_illustrative():
    designations = models.Designation.objects.filter(batch__year__lte=2019)
    real = designations.exclude(source_kind=models.SourceKind.ILLUSTRATIVE)
    assert real.count() == 85  # the 114 found, less the 29 of 2021
    assert set(real.values_list("source_kind", flat=True)) == {models.SourceKind.SECONDARY}
    illustrative = designations.filter(source_kind=models.SourceKind.ILLUSTRATIVE)
    assert illustrative.count() == 1231 - 85
    assert set(illustrative.values_list("source", flat=True)) == {ROSTER_SOURCE}
    assert models.Designation.objects.get(unit__code="220822", batch__year=2015).source_kind == models.SourceKind.SECONDARY


def test_2021_batch_has_no_illustrative_fill():
    b2021 = models.Batch.objects.get(year=2021)
    assert b2021.designations.count() == 29
    assert not b2021.designations.filter(source_kind=models.SourceKind.ILLUSTRATIVE).exists()
    assert b2021.planned_size == 148 and b2021.roster_complete is False
    assert batch(2021).includes_illustrative is False


def test_repeats_follow_code_changes():
    """Some 2019 repeats are recorded under a code that replaced the one first designated."""
    xuanhua = models.Designation.objects.filter(unit__current__code="130705").order_by("batch__year")
    assert [(d.unit.code, d.batch.year) for d in xuanhua] == [("130721", 2015), ("130705", 2019)]


def test_illustrative_funding_matches_the_published_total():
    funding = models.FundingAllocation.objects.filter(fiscal_year=2015, level="central")
    assert funding.count() == 200
    assert {f.amount for f in funding} == {18_500_000}
    assert sum(f.amount for f in funding) == models.Batch.objects.get(year=2015).central_funds_total
    assert set(funding.values_list("source_kind", flat=True)) == {models.SourceKind.ILLUSTRATIVE}


def test_second_run_changes_nothing():
    before = set(models.Designation.objects.values_list("pk", flat=True))
    assert "Nothing changed" in run_command("load_illustrative_roster")
    assert set(models.Designation.objects.values_list("pk", flat=True)) == before


def test_remove_and_rebuild_gives_the_same_roster():
    roster = set(
        models.Designation.objects.filter(source_kind="illustrative").values_list("unit__key", "batch__year", "is_old_revolutionary_base")
    )
    output = run_command("load_illustrative_roster", "--remove")
    assert "Removed 1146 illustrative designations" in output
    assert not models.Designation.objects.filter(source_kind="illustrative").exists()
    assert not models.FundingAllocation.objects.filter(source_kind="illustrative").exists()
    assert models.Designation.objects.count() == 114
    assert coverage(2019).includes_illustrative is False

    assert "1146 designations created" in run_command("load_illustrative_roster")
    rebuilt = set(
        models.Designation.objects.filter(source_kind="illustrative").values_list("unit__key", "batch__year", "is_old_revolutionary_base")
    )
    assert rebuilt == roster


def test_roster_fills_around_a_newly_recorded_secondary_designation():
    """A secondary record added by staff stays; the roster still meets every figure around it."""
    run_command("load_illustrative_roster", "--remove")
    unit = models.Unit.objects.get(code="621123")  # 渭源县, a poverty county in Gansu
    models.Designation.objects.create(
        unit=unit, batch=models.Batch.objects.get(year=2017), source="test document", source_kind=models.SourceKind.SECONDARY
    )
    run_command("load_illustrative_roster")
    assert unit.designations.get().source_kind == models.SourceKind.SECONDARY
    assert (coverage(2018).poverty_counties_covered, coverage(2019).demonstration_counties) == (737, 1180)


def test_roster_never_refills_a_cell_that_has_official_records():
    run_command("load_illustrative_roster", "--remove")
    unit = models.Unit.objects.get(code="621123")  # 渭源县, Gansu
    models.Designation.objects.create(
        unit=unit, batch=models.Batch.objects.get(year=2017), source="test document", source_kind=models.SourceKind.OFFICIAL
    )
    output = run_command("load_illustrative_roster")
    gansu_2017 = models.Designation.objects.filter(batch__year=2017, unit__province__code="620000")
    assert list(gansu_2017.values_list("unit__code", "source_kind")) == [("621123", "official")]
    assert models.Designation.objects.filter(batch__year=2018, unit__province__code="620000", source_kind="illustrative").exists()
    assert "no longer reproduced" in output  # says which published figures the official cell changes
    assert "Nothing changed" in run_command("load_illustrative_roster")


def roster_state():
    """Every designation's id and values, the history's size and the data token: what a reload must not change."""
    return (
        sorted(models.Designation.objects.values_list("pk", "unit_id", "batch_id", "kind", "is_old_revolutionary_base")),
        sorted(models.FundingAllocation.objects.values_list("pk", "designation_id", "amount")),
        models.Designation.history.count(),
        models.FundingAllocation.history.count(),
        models.DataVersion.objects.get().token,
    )


def test_a_rerun_with_no_edits_writes_nothing():
    before = roster_state()
    with CaptureQueriesContext(connection) as queries:
        output = run_command("load_illustrative_roster")
    assert "Nothing changed" in output and "Kept" not in output
    assert roster_state() == before
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


@pytest.mark.parametrize("editor", ["staff", "provincial"])
def test_a_staff_edit_survives_a_reload_with_its_id_and_history(editor, admin_user):
    designation = illustrative(batch__year=2017, is_old_revolutionary_base=True).select_related("unit__province").order_by("pk").first()
    province = designation.unit.province
    user = admin_user if editor == "staff" else provincial_editor(province.code)
    designation.is_old_revolutionary_base = False
    save_record(designation, user=user, reason="not an old base county after all", fields=["is_old_revolutionary_base"])
    history = list(designation.history.values_list("history_id", "history_type", "history_change_reason"))
    assert [h[1] for h in history] == ["~", "+"]
    others = roster_state()[0]
    token = models.DataVersion.objects.get().token

    output = run_command("load_illustrative_roster")

    designation.refresh_from_db()  # same id: the record is still there
    assert designation.is_old_revolutionary_base is False
    assert list(designation.history.values_list("history_id", "history_type", "history_change_reason")) == history
    assert roster_state()[0] == others
    assert models.DataVersion.objects.get().token == token
    assert "Nothing changed" in output
    name = f"2017-1 {province.name_zh} {designation.unit.name_zh} ({designation.unit.key})"
    assert f"illustrative designation {name}: is_old_revolutionary_base is no, the roster would write yes" in output
    # The next reload says the same and still writes nothing.
    assert run_command("load_illustrative_roster") == output


def test_a_reload_updates_what_nobody_changed_and_keeps_what_someone_did(admin_user, monkeypatch):
    """When the roster would write a new value, it goes in where the record still holds the roster's
    last one, and not where a person changed it."""
    from counties.writes import roster

    untouched, edited = illustrative(batch__year=2017, is_old_revolutionary_base=True).order_by("pk")[:2]
    edited.source_note = "checked against the provincial notice"
    save_record(edited, user=admin_user, reason="checked", fields=["source_note"])
    new_note = "A reworded note."
    monkeypatch.setattr(roster, "ROSTER_NOTE", new_note)  # a later version of the roster words it differently
    report = roster.load_illustrative_roster()
    untouched.refresh_from_db()
    edited.refresh_from_db()
    assert untouched.source_note == new_note
    assert untouched.history.first().history_change_reason == roster.LOAD_REASON
    assert edited.source_note == "checked against the provincial notice"
    assert report.updated == models.Designation.objects.filter(source_kind="illustrative").count() - 1
    assert report.created == report.removed == 0
    assert [line for line in report.kept if "source_note" in line] == [
        f"illustrative designation 2017-1 {edited.unit.province.name_zh} {edited.unit.name_zh} ({edited.unit.key}): "
        f"source_note is “checked against the provincial notice”, the roster would write “{new_note}”"
    ]


def test_a_designation_staff_deleted_is_not_recreated(admin_user):
    designation = illustrative(batch__year=2018).order_by("pk").first()
    models.FundingAllocation.objects.filter(designation=designation).delete()
    delete_record(designation, user=admin_user, reason="not a demonstration county")
    count = models.Designation.objects.count()
    output = run_command("load_illustrative_roster")
    assert models.Designation.objects.count() == count
    assert f"{designation.unit.name_zh} ({designation.unit.key}): deleted in the registry, not recreated" in output
    # The published figure it departs from is reported, not an error.
    assert "size 2018: expected 260, got 259" in output


def test_a_roster_record_no_longer_wanted_is_removed_unless_someone_changed_it(admin_user):
    """A secondary record recorded later takes a roster place; the roster moves the others, but keeps
    an illustrative record a person has changed."""
    unit = models.Unit.objects.get(code="621123")  # 渭源县, a poverty county in Gansu
    save_record(
        models.Designation(unit=unit, batch=models.Batch.objects.get(year=2017), source="test document", source_kind="secondary"),
        user=admin_user,
        reason="found in a provincial notice",
    )
    plan = RosterBuilder().build().designations
    dropped = [d for d in illustrative().select_related("batch").order_by("pk") if (d.unit_id, d.batch.year) not in plan]
    assert len(dropped) >= 2
    kept, *others = dropped
    kept.is_old_revolutionary_base = True
    save_record(kept, user=admin_user, reason="accepted after assessment", fields=["is_old_revolutionary_base"])

    report = load_illustrative_roster()

    assert illustrative(pk=kept.pk).get().is_old_revolutionary_base is True
    assert not illustrative(pk__in=[d.pk for d in others]).exists()
    assert report.removed == len(others) and report.created >= len(others)
    name = f"{kept.batch.year}-1 {kept.unit.province.name_zh} {kept.unit.name_zh} ({kept.unit.key})"
    assert f"illustrative designation {name}: is_old_revolutionary_base changed since the roster wrote it, not removed" in report.kept
    removed = models.Designation.history.filter(id=others[0].pk, history_type="-").get()
    assert removed.history_change_reason == LOAD_REASON
    # Once moved, a second run writes nothing.
    assert not load_illustrative_roster().changed


def test_a_start_builds_the_roster_only_into_a_registry_that_has_none(admin_user):
    designation = illustrative().order_by("pk").first()
    designation.is_old_revolutionary_base = not designation.is_old_revolutionary_base
    save_record(designation, user=admin_user, reason="corrected", fields=["is_old_revolutionary_base"])
    before = roster_state()
    assert "already loaded: left as it is" in run_command("load_illustrative_roster", "--if-absent")
    assert roster_state() == before
    run_command("load_illustrative_roster", "--remove")
    assert "1146 designations created" in run_command("load_illustrative_roster", "--if-absent")
    assert illustrative().count() == 1146


def test_an_edit_made_in_the_admin_survives_a_reload(admin_client):
    designation = illustrative(batch__year=2018, is_old_revolutionary_base=True).order_by("pk").first()
    url = reverse("admin:counties_designation_change", args=[designation.pk])
    data = admin_form_data(admin_client.get(url), change_reason="not an old base county")
    data.pop("is_old_revolutionary_base", None)
    data["is_old_revolutionary_base"] = "false"
    assert admin_client.post(url, data).status_code == 302
    designation.refresh_from_db()
    assert designation.is_old_revolutionary_base is False
    output = run_command("load_illustrative_roster")
    designation.refresh_from_db()
    assert designation.is_old_revolutionary_base is False
    assert admin_client.get(f"/api/v1/designations/{designation.pk}/").status_code == 200  # the same id
    assert f"({designation.unit.key}): is_old_revolutionary_base is no, the roster would write yes" in output
