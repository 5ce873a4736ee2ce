"""The writer's refresh of the statistics (counties.derived): once per committed transaction, never
for a dry run, a preview or a rolled-back write, never failing a write that committed, and giving
the numbers a read works out from scratch, so that a read after an edit reads instead of working.

The test's own transaction never commits: `commit()` runs what a commit would run."""

import logging

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from counties import derived, models, statistics, targets
from counties.data_token import data_version, pinned, stored_state
from counties.services import data_change_pending, save_record

from .conftest import run_command
from .test_imports import csv_file, import_in_admin
from .test_statistics import designate, world  # noqa: F401 (the hand-worked fixture)
from .test_write_paths import HEADER, OFFICIAL_HEBEI_2016

pytestmark = pytest.mark.django_db


def commit():
    """Run the on-commit callbacks queued so far as a commit does: off the queue first (Django
    clears it before running them), so that no write is pending while they run."""
    queued = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    for _ids, callback, _robust in queued:
        callback()


@pytest.fixture
def refreshes(monkeypatch):
    """The data states the refresh ran for."""
    seen = []
    real = derived.refresh

    def counted(state):
        seen.append(state)
        real(state)

    monkeypatch.setattr(derived, "refresh", counted)
    return seen


def a_new_designation(unit_key="110101", year=2019):
    unit = models.Unit.objects.get(key=unit_key)
    return models.Designation(unit=unit, batch=models.Batch.objects.get(year=year), source="test notice", source_kind="official")


def every_statistic():
    """What the pages, the API and the exports read, for every year the pages offer."""
    years = range(statistics.FIRST_YEAR, statistics.latest_batch_year() + 1)
    return {
        "latest": statistics.latest_batch_year(),
        "list_index": statistics.list_index(),
        "coverage_series": statistics.coverage_series(),
        "coverage": [statistics.coverage(y) for y in years],
        "batches": statistics.batch_composition(),
        "provinces": [statistics.province_table(y) for y in years],
        "funding": statistics.funding_totals(),
        "exits": statistics.exits(),
        "three_coverages": [targets.three_coverages(y) for y in years],
        "three_coverages_series": targets.three_coverages_series(),
        "attainment": targets.target_attainment(),
        "assessments": targets.assessment_summary(),
        "national": targets.national_series(),
    }


def from_scratch():
    """Every statistic worked out again, with nothing cached or kept."""
    statistics.cache.clear()
    statistics.forget_loaded_rows()
    return every_statistic()


# -- when it runs -------------------------------------------------------------------------------


def test_one_refresh_per_transaction_after_it_commits(tmp_path, refreshes):
    commit()  # the reference data's own queued bump, if any
    refreshes.clear()
    rows = "".join(f"{code},2016,designated,doc,official\n" for code in ("130102", "130104", "130105", "130108"))
    run_command("import_designations", str(csv_file(tmp_path, HEADER + rows)))
    assert refreshes == []  # nothing before the commit
    commit()
    assert [state.token for state in refreshes] == [data_version()]  # four rows, one refresh, the new token


def test_no_refresh_for_a_dry_run_a_preview_or_a_rolled_back_write(tmp_path, admin_client, refreshes):
    commit()
    refreshes.clear()
    run_command("import_designations", str(csv_file(tmp_path, OFFICIAL_HEBEI_2016)), "--dry-run")
    import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)  # the preview, not confirmed
    with pytest.raises(RuntimeError), transaction.atomic():
        save_record(a_new_designation(), user=None, reason="test")
        raise RuntimeError("rolled back")
    commit()
    assert refreshes == []


def test_a_failed_refresh_does_not_fail_the_committed_write(monkeypatch, caplog):
    commit()
    before = statistics.coverage(2019).batch_entries

    def broken():
        raise RuntimeError("the cache is full")

    monkeypatch.setattr(statistics, "batch_composition", broken)
    record = save_record(a_new_designation(), user=None, reason="test")
    with caplog.at_level(logging.ERROR, logger="counties.services"):
        commit()  # does not raise
    assert "Refreshing the statistics after an edit failed" in caplog.text
    assert models.Designation.objects.filter(pk=record.pk).exists()
    monkeypatch.undo()
    # What the refresh did not store, a read works out.
    assert statistics.coverage(2019).batch_entries == before + 1
    assert statistics.batch_composition() == from_scratch()["batches"]


# -- what it stores -----------------------------------------------------------------------------


def test_after_an_edit_the_statistics_equal_those_worked_out_from_scratch(world):  # noqa: F811
    commit()
    # 庚县 (U8, the one poverty county never designated) in the 2019 batch: every poverty county
    # is covered at end-2019 (5 of 5), and province 98 has its first demonstration county.
    save_record(
        models.Designation(unit=world[8], batch=models.Batch.objects.get(year=2019), source="t", source_kind="official"),
        user=None,
        reason="t",
    )
    commit()
    refreshed = every_statistic()
    c = refreshed["coverage"][2019 - statistics.FIRST_YEAR]
    assert (c.batch_entries, c.demonstration_counties, c.poverty_counties_covered, str(c.poverty_coverage_pct)) == (9, 6, 5, "100.0")
    b2019 = next(b for b in refreshed["batches"] if b.year == 2019)
    assert (b2019.size, b2019.poverty_counties, b2019.provinces) == (4, 4, 2)
    p98 = next(p for p in refreshed["provinces"][2019 - statistics.FIRST_YEAR] if p.code == "980000")
    assert (p98.demonstration_counties, p98.poverty_counties_covered, str(p98.poverty_coverage_pct)) == (1, 1, "100.0")
    assert [(e.exit_year, e.designated_before_exit) for e in refreshed["exits"]] == [(2016, 2), (2018, 2), (2019, 1)]
    assert world[8].pk in refreshed["list_index"].places
    assert refreshed == from_scratch()


def test_a_read_after_an_edit_reads_what_the_writer_stored(django_assert_num_queries):
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    statistics.forget_loaded_rows()  # as another process: nothing kept in memory, only the cache
    state = stored_state()  # read once per request, as the response cache does
    with pinned(state), django_assert_num_queries(0):  # no rows loaded, nothing worked out
        index = statistics.list_index()
        assert statistics.coverage(2019).batch_entries == 1232
        statistics.province_table(2016)
        statistics.batch_composition()
    assert models.Unit.objects.get(key="110101").pk in index.places


# -- what a request after an edit costs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        # The data token, the indicator catalogue (not cached: one small query), and nothing else.
        ("/statistics/", {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, 2),
        ("/statistics/?as_of=2016", {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, 2),
        ("/api/v1/stats/coverage/?as_of=2019", {"HTTP_ACCEPT": "application/json"}, 1),
        ("/api/v1/stats/provinces/?as_of=2017", {"HTTP_ACCEPT": "application/json"}, 1),
        ("/", {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, 1),
    ],
)
def test_queries_of_a_read_after_an_edit(client, path, headers, expected):
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    statistics.forget_loaded_rows()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    assert len(queries) == expected, [q["sql"][:120] for q in queries]
    assert not data_change_pending()


def test_the_refresh_does_nothing_inside_an_uncommitted_write():
    """It would work the numbers out from rows that may be rolled back, under the old token."""
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    state = stored_state()
    with CaptureQueriesContext(connection) as queries:
        derived.refresh(state)
    assert len(queries) == 0


def test_the_list_index_another_process_unpickles_holds_no_container_per_unit(world):  # noqa: F811
    """Sets of ids only, no container per unit: what the list reads is worked out from them."""
    import pickle
    from collections import Counter

    commit()
    index = statistics.list_index()
    # 丙县 U4 and 丁县 U5 exited in 2018 and became 丙市 U6; 乙县 U2 became 乙区 U3 (both exited in 2016, with 甲县 U1).
    assert index.exited_in(2018) == {world[4].pk, world[5].pk, world[6].pk}
    assert index.exited_in(2016) == {world[1].pk, world[2].pk, world[3].pk}
    assert index.poverty_units == {world[n].pk for n in (1, 2, 3, 4, 5, 6, 8)}
    assert index.exit_year_counts({world[n].pk for n in (3, 4, 5, 6)}) == Counter({2018: 3, 2016: 1})
    # The places by province: 乙县 U2 is counted as 乙区 U3, 丙县 U4 as 丙市 U6; 庚县 U8 (980000) was
    # never designated.
    places = {world[n].pk for n in (1, 3, 6, 7, 9)}
    assert index.places == index.places_in("990000") == places and index.places_in("980000") == frozenset()
    assert index.designated_in("990000") == index.designated_units == {world[n].pk for n in (1, 2, 3, 4, 6, 7, 9)}
    copy = pickle.loads(pickle.dumps(index))
    assert copy == index and all(isinstance(value, frozenset | dict | int) for value in copy.__dict__.values())
    assert "places" not in copy.__dict__ and copy.places == places  # the union is each process's own


def test_the_refresh_covers_every_cached_statistic():
    """Each one, for every as-of year the pages offer, is read after the refresh without working
    anything out (a statistic worked out runs a query: its rows, or the ones it reads)."""
    import inspect

    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    statistics.forget_loaded_rows()
    state = stored_state()
    with pinned(state):
        years = range(statistics.FIRST_YEAR, statistics.latest_batch_year() + 1)
        for function in statistics.EVERY_CACHED:
            takes_a_year = len(inspect.signature(function.uncached).parameters) == 1
            with CaptureQueriesContext(connection) as queries:
                for args in [(y,) for y in years] if takes_a_year else [()]:
                    function(*args)
            assert len(queries) == 0, f"{function.__name__} is not refreshed after an edit"
    assert len(statistics.EVERY_CACHED) >= 13
