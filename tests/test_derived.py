"""Derived data (every statistic, the list index) is worked out by the first read that needs it
after a change, under the new data token, and read from the cache after that: an edit's own request
works nothing out, a dry run, a preview or a rolled-back write leaves the token as it was, and what
a read works out after an edit equals what it would work out from scratch.

The test's own transaction never commits: `commit()` runs what a commit would run."""

import inspect

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from counties import models
from counties.caching.token import data_change_pending, data_version, pinned, stored_state
from counties.reads import statistics
from counties.reads.statistics import targets
from counties.writes.services import save_record

from .conftest import import_in_admin, run_command
from .factories import HEADER, OFFICIAL_HEBEI_2016, csv_file

pytestmark = pytest.mark.django_db


def commit():
    """Run the on-commit callbacks queued so far as a commit does: off the queue first (Django
    clears it before running them), so that no write is pending while they run. Returns them."""
    queued = list(connection.run_on_commit)
    connection.run_on_commit.clear()
    for _ids, callback, _robust in queued:
        callback()
    return [callback for _ids, callback, _robust in queued]


def a_new_designation(unit_key="110101", year=2019):
    unit = models.Unit.objects.get(key=unit_key)
    return models.Designation(unit=unit, batch=models.Batch.objects.get(year=year), source="test notice", source_kind="official")


def every_statistic():
    """What the pages, the API and the exports read, for every year the pages offer."""
    years = range(models.FIRST_PROGRAMME_YEAR, statistics.latest_batch_year() + 1)
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
    cache.clear()
    statistics.forget_loaded_rows()
    return every_statistic()


# -- what an edit costs --------------------------------------------------------------------------


def test_an_edit_works_nothing_out_and_changes_the_token_once_after_its_commit(tmp_path):
    rows = "".join(f"{code},2016,new,doc,official\n" for code in ("130102", "130104", "130105", "130108"))
    commit()  # the reference data's own queued change, if any
    before = data_version()
    with CaptureQueriesContext(connection) as queries:
        run_command("import_designations", str(csv_file(tmp_path, HEADER + rows)))
        assert len(commit()) == 1  # four rows, one new token
    assert data_version() != before
    read = [q["sql"] for q in queries if "counties_designation" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")]
    # The import reads what it checks (the rows it replaces, the 832), never a whole statistic:
    # no query groups designations, and none of the cached statistics was filled.
    assert not any("GROUP BY" in sql.upper() for sql in read), read
    state = stored_state()
    with pinned(state), CaptureQueriesContext(connection) as queries:
        statistics.coverage(2019)
    assert len(queries) > 0  # worked out by this first read, not by the writer


def test_no_new_token_for_a_dry_run_a_preview_or_a_rolled_back_write(tmp_path, admin_client):
    commit()
    before = data_version()
    run_command("import_designations", str(csv_file(tmp_path, OFFICIAL_HEBEI_2016)), "--dry-run")
    import_in_admin(admin_client, "designation", OFFICIAL_HEBEI_2016)  # the preview, not confirmed
    with pytest.raises(RuntimeError), transaction.atomic():
        save_record(a_new_designation(), user=None, reason="test")
        raise RuntimeError("rolled back")
    assert commit() == [] and data_version() == before


def test_a_statistic_read_inside_an_uncommitted_write_is_neither_cached_nor_read_from_the_cache():
    """It would store, under the old token, numbers of rows that may be rolled back."""
    commit()
    before = statistics.coverage(2019).batch_entries
    save_record(a_new_designation(), user=None, reason="test")
    assert data_change_pending()
    assert statistics.coverage(2019).batch_entries == before + 1


# -- what a read after an edit works out ------------------------------------------------------------


def test_after_an_edit_the_statistics_equal_those_worked_out_from_scratch(world):
    commit()
    # 庚县 (U8, the one poverty county never designated) in the 2019 batch: every poverty county
    # is covered at end-2019 (5 of 5), and province 98 has its first demonstration county.
    save_record(
        models.Designation(unit=world[8], batch=models.Batch.objects.get(year=2019), source="t", source_kind="official"),
        user=None,
        reason="t",
    )
    refreshed = every_statistic()
    c = refreshed["coverage"][2019 - models.FIRST_PROGRAMME_YEAR]
    assert (c.batch_entries, c.demonstration_counties, c.poverty_counties_covered, str(c.poverty_coverage_pct)) == (9, 6, 5, "100.0")
    b2019 = next(b for b in refreshed["batches"] if b.year == 2019)
    assert (b2019.size, b2019.poverty_counties, b2019.provinces) == (4, 4, 2)
    p98 = next(p for p in refreshed["provinces"][2019 - models.FIRST_PROGRAMME_YEAR] if p.code == "980000")
    assert (p98.demonstration_counties, p98.poverty_counties_covered, str(p98.poverty_coverage_pct)) == (1, 1, "100.0")
    assert [(e.exit_year, e.designated_before_exit) for e in refreshed["exits"]] == [(2016, 2), (2018, 2), (2019, 1)]
    assert world[8].pk in refreshed["list_index"].places
    assert refreshed == from_scratch()


def test_the_first_read_after_an_edit_works_a_statistic_out_once_and_stores_it():
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    state = stored_state()
    with pinned(state):
        assert statistics.coverage(2019).batch_entries == 1232
        statistics.forget_loaded_rows()  # as another process: nothing kept in memory, only the cache
        with CaptureQueriesContext(connection) as queries:
            assert statistics.coverage(2019).batch_entries == 1232
        assert len(queries) == 0


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
def test_queries_of_a_read_once_the_first_read_after_an_edit_has_worked_it_out(client, settings, path, headers, expected):
    settings.RESPONSE_CACHE = False  # the statistics' cache is what is measured, not the response's
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    assert client.get(path, **headers).status_code == 200  # the first read works it out
    statistics.forget_loaded_rows()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    assert len(queries) == expected, [q["sql"][:120] for q in queries]
    assert not data_change_pending()


def test_every_cached_statistic_is_read_from_the_cache_once_worked_out():
    """Each one, for every as-of year the pages offer: the first read works it out under the new
    token, the next (another process's: no rows kept in memory) runs no query."""
    commit()
    save_record(a_new_designation(), user=None, reason="test")
    commit()
    state = stored_state()
    with pinned(state):
        years = range(models.FIRST_PROGRAMME_YEAR, statistics.latest_batch_year() + 1)
        calls = []
        for function in statistics.EVERY_CACHED:
            takes_a_year = len(inspect.signature(function.uncached).parameters) == 1
            calls += [(function, args) for args in ([(y,) for y in years] if takes_a_year else [()])]
        first = [function(*args) for function, args in calls]
        statistics.forget_loaded_rows()
        for (function, args), value in zip(calls, first, strict=True):
            with CaptureQueriesContext(connection) as queries:
                assert function(*args) == value
            assert len(queries) == 0, f"{function.__name__}{args} is not kept under the data token"
    assert len(statistics.EVERY_CACHED) >= 13


def test_the_list_index_another_process_unpickles_holds_no_container_per_unit(world):
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
