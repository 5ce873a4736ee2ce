"""Code changes: an old code finds the unit that replaced it, and a designation made under an old
code counts for the same place, once, without merging places that were separate."""

import pytest
from django.db import connection
from django.urls import reverse

from counties import models
from counties.reads.places import place_named
from counties.reads.statistics import coverage, forget_loaded_rows
from counties.writes import services
from counties.writes.services import UnitInUse, delete_record, delete_unit, rebuild_lineage, save_record

from .factories import BatchFactory, PovertyStatusFactory, PrefectureFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_designations():
    models.FundingAllocation.objects.all().delete()
    models.Designation.objects.all().delete()


def designate(code_or_key, year):
    designation = models.Designation.objects.create(
        unit=models.Unit.objects.get(key=code_or_key),
        batch=models.Batch.objects.get(year=year),
        source="test",
        source_kind=models.SourceKind.OFFICIAL,
    )
    # Written straight to the table, as no door writes (they bump the data token after commit):
    # drop the programme's rows the statistics keep for the unchanged token.
    forget_loaded_rows()
    return designation


def test_lookup_by_old_code_finds_the_successor():
    assert place_named("130721").code == "130705"
    assert place_named("130705").code == "130705"
    assert place_named("130223").name_zh == "滦州市"  # 滦县 → 滦州市 in 2018
    assert place_named("999999") is None


def test_designation_under_old_code_counts_for_the_new_unit(no_designations):
    designate("130721", 2015)  # 宣化县, a poverty county, designated before it became 宣化区
    c = coverage(2015)
    assert (c.batch_entries, c.demonstration_counties, c.poverty_counties_covered) == (1, 1, 1)
    designate("130705", 2019)  # the same place, under its new code
    c = coverage(2019)
    assert (c.batch_entries, c.demonstration_counties, c.poverty_counties_covered) == (2, 1, 1)
    assert c.repeat_designations == 1


def test_designation_under_new_code_covers_the_poverty_county_listed_under_the_old(no_designations):
    assert models.PovertyStatus.objects.get(unit__code="130721")  # listed as 宣化县
    designate("130705", 2019)
    assert coverage(2019).poverty_counties_covered == 1
    assert coverage(2018).poverty_counties_covered == 0  # as-of: the 2019 batch does not count yet


def test_merger_does_not_merge_places_before_it(no_designations):
    designate("X632802", 2016)  # 茫崖行委, before its 2018 merger with 冷湖 into 茫崖市
    c = coverage(2016)
    assert (c.demonstration_counties, c.poverty_counties_covered) == (1, 1)  # 冷湖 is not covered
    designate("632803", 2019)  # 茫崖市 is both places
    c = coverage(2019)
    assert (c.demonstration_counties, c.poverty_counties_covered) == (1, 2)


def test_split_off_districts_are_not_the_same_place(no_designations):
    designate("130702", 2016)  # 桥东区 received part of 宣化县 but did not become it
    assert coverage(2016).poverty_counties_covered == 0


def test_lineage_follows_units_and_successions_written_through_the_services():
    prefecture = PrefectureFactory()
    old, new = UnitFactory.build(last_year=2025, prefecture=prefecture), UnitFactory.build(first_year=2026, prefecture=prefecture)
    for unit in (old, new):
        save_record(unit, user=None, reason="test")
    PovertyStatusFactory(unit=old)
    old.refresh_from_db()
    assert old.current == old  # a new unit is its own current unit straight away
    succession = models.UnitSuccession(predecessor=old, successor=new, successor_code=new.key, year=2026, kind="replaced", is_primary=True)
    save_record(succession, user=None, reason="test")
    old.refresh_from_db()
    assert old.current == new
    assert place_named(old.key) == new
    assert models.UnitLineage.objects.filter(ancestor=old, descendant=new, depth=1).exists()
    assert rebuild_lineage() == 0  # nothing left to do: the service kept it up to date
    batch = BatchFactory(year=2030)
    models.Designation.objects.create(unit=new, batch=batch, source="test", source_kind="official")
    assert coverage(2030).poverty_counties_covered == 833  # the 832, and the test county through its successor

    delete_record(succession, user=None, reason="entered by mistake")
    old.refresh_from_db()
    assert old.current == old
    assert coverage(2030).poverty_counties_covered == 832


# -- deleting a unit that has successions -------------------------------------------------------


@pytest.fixture
def chain():
    """old → middle → new, each replaced by the next (primary successions), lineage built."""
    old, middle, new = UnitFactory(last_year=2025), UnitFactory(first_year=2026, last_year=2027), UnitFactory(first_year=2028)
    for predecessor, successor, year in ((old, middle, 2026), (middle, new, 2028)):
        models.UnitSuccession.objects.create(
            predecessor=predecessor, successor=successor, successor_code=successor.key, year=year, kind="replaced", is_primary=True
        )
    rebuild_lineage()
    old.refresh_from_db()
    assert old.current == new
    return old, middle, new


def delete_in_the_admin(client, unit, reason="entered by mistake"):
    return client.post(reverse("admin:counties_unit_delete", args=[unit.pk]), {"post": "yes", "reason": reason})


def test_deleting_a_unit_in_the_middle_of_a_chain_keeps_the_lineage_consistent(admin_client, chain):
    old, middle, new = chain
    assert delete_in_the_admin(admin_client, middle).status_code == 302
    connection.check_constraints()  # deferred foreign keys: no row points at the deleted unit
    assert not models.Unit.objects.filter(pk=middle.pk).exists()
    # old's succession keeps the code it went to, with no unit behind it (as for a code outside the
    # registry); old is now the end of its own chain, new is a unit of its own.
    succession = models.UnitSuccession.objects.get(predecessor=old)
    assert (succession.successor_id, succession.successor_code) == (None, middle.key)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.current, new.current) == (old, new)
    assert set(models.UnitLineage.objects.filter(ancestor__in=[old, new]).values_list("ancestor", "descendant", "depth")) == {
        (old.pk, old.pk, 0),
        (new.pk, new.pk, 0),
    }
    assert rebuild_lineage() == 0  # the lineage is already what the successions say
    # Every change is in history with the reason.
    assert models.Unit.history.get(id=middle.pk, history_type="-").history_change_reason == "entered by mistake"
    assert succession.history.latest().history_change_reason == "entered by mistake"
    deleted = models.UnitSuccession.history.get(predecessor_id=middle.pk, history_type="-")
    assert deleted.history_change_reason == "entered by mistake"


def test_deleting_the_first_unit_of_a_chain(admin_client, chain):
    old, middle, new = chain
    assert delete_in_the_admin(admin_client, old).status_code == 302
    connection.check_constraints()
    assert not models.UnitSuccession.objects.filter(predecessor_id=old.pk).exists()
    middle.refresh_from_db()
    assert middle.current == new
    assert not models.UnitLineage.objects.filter(ancestor_id=old.pk).exists()


@pytest.mark.usefixtures("english")
def test_a_unit_that_records_point_at_is_refused_with_the_reason(admin_client, chain):
    old, middle, _new = chain
    BatchFactory(year=2026)
    models.Designation.objects.create(unit=middle, batch=models.Batch.objects.get(year=2026), source="t", source_kind="official")
    page = delete_in_the_admin(admin_client, middle)
    assert page.status_code == 200  # the confirmation page again, naming what is in the way
    assert "designation" in page.content.decode().lower()
    assert models.Unit.objects.filter(pk=middle.pk).exists()
    with pytest.raises(UnitInUse, match=r"cannot be deleted while records point at it \(designations: 1\)"):
        delete_unit(middle, user=None, reason="test")
    connection.check_constraints()
    old.refresh_from_db()
    assert place_named(old.key) == _new  # nothing changed


def test_a_plain_orm_save_does_no_hidden_work():
    """No signals: lineage and the data version are the services' work, visible at each door."""
    unit = UnitFactory()
    assert unit.current_id is None and not models.UnitLineage.objects.filter(ancestor=unit).exists()


def test_a_form_with_several_successions_rebuilds_the_lineage_once(monkeypatch, admin_user):
    """An admin page's inline rows are one change: each row checked and in history, the lineage
    rebuilt after the last of them (not once per row, which reads every unit each time)."""
    old, middle, new = UnitFactory(last_year=2025), UnitFactory(first_year=2026, last_year=2027), UnitFactory(first_year=2028)
    rebuild_lineage()
    rebuilds = []
    monkeypatch.setattr(services, "rebuild_lineage", lambda: rebuilds.append(1) or rebuild_lineage())
    rows = [
        models.UnitSuccession(predecessor=p, successor=s, successor_code=s.key, year=y, kind="replaced", is_primary=True)
        for p, s, y in ((old, middle, 2026), (middle, new, 2028))
    ]
    services.save_records(rows, [], user=admin_user, reason="two code changes")
    assert rebuilds == [1]
    old.refresh_from_db()
    assert old.current == new
    assert models.UnitLineage.objects.get(ancestor=old, descendant=new).depth == 2
    assert [r.history.get().history_change_reason for r in rows] == ["two code changes", "two code changes"]
