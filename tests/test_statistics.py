"""The statistics engine: the hand-built `world` (conftest.py) with values worked out by hand, the
published figures on the reference data, the cache, and query counts that do not grow with the data."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from counties import models
from counties.caching import keys
from counties.reads import statistics
from counties.reads.statistics import batch_composition, coverage, exits, funding_totals, province_table
from counties.writes.services import delete_record, rebuild_lineage, save_record

from .conftest import run_command
from .factories import FundingAllocationFactory, designate, poor, unit, withdraw

pytestmark = pytest.mark.django_db


def fields(c):
    return (
        c.batch_entries,
        c.demonstration_counties,
        c.new_entries,
        c.repeat_designations,
        c.poverty_counties_covered,
        str(c.poverty_coverage_pct),
    )


def test_coverage_by_hand(world):
    assert fields(coverage(2014)) == (0, 0, 0, 0, 0, "0.0")  # as of a year before any batch
    assert fields(coverage(2015)) == (2, 2, 2, 0, 2, "40.0")
    # 丙县 is covered, 丁县 is not: they were separate places until 2018.
    assert fields(coverage(2016)) == (5, 5, 3, 0, 3, "60.0")
    # From end-2018 丙县 and 丁县 are one place, 丙市, which holds 丙县's 2016 designation: 丁县 is
    # covered too (甲县, 乙县 as 乙区, 丙县 and 丁县 as 丙市: 4 of 5).
    assert fields(coverage(2018)) == (5, 5, 0, 0, 4, "80.0")
    # Three repeats: 甲县 again, 乙县 under its new code, 丙县 as 丙市 (which also covers 丁县).
    assert fields(coverage(2019)) == (8, 5, 3, 3, 4, "80.0")
    assert coverage(2019).poverty_counties_total == 5
    assert coverage(2019).includes_illustrative is False
    assert coverage().as_of == 2021  # default: the latest year with a batch


def test_batches_by_hand(world):
    rows = {b.year: b for b in batch_composition()}
    assert (rows[2015].size, rows[2015].poverty_counties, str(rows[2015].poverty_share_pct), rows[2015].meets_rule) == (
        2,
        2,
        "100.0",
        None,
    )
    b2016 = rows[2016]
    assert (b2016.size, b2016.poverty_counties, str(b2016.poverty_share_pct)) == (3, 1, "33.3")
    assert (b2016.min_poverty_share_pct, b2016.meets_rule) == (Decimal("50.00"), False)
    assert b2016.old_revolutionary_base_counties == 1
    assert (rows[2019].size, rows[2019].poverty_counties, rows[2019].meets_rule) == (3, 3, True)
    assert (rows[2017].size, rows[2017].poverty_share_pct, rows[2017].meets_rule) == (0, None, None)
    assert rows[2015].central_funds_allocated_yuan == Decimal("1000000.00")
    assert (rows[2015].central_funds_total_yuan, rows[2015].central_funds_per_county_yuan) == (
        Decimal("3700000000.00"),
        Decimal("18500000.00"),
    )
    # 2016 publishes no per-county amount: 3.6 bn over the published 240 is the registry's, kept apart.
    assert (rows[2016].central_funds_per_county_yuan, rows[2016].central_funds_per_county_derived_yuan) == (
        None,
        Decimal("15000000.00"),
    )
    assert rows[2015].central_funds_per_county_derived_yuan is None  # a published amount: nothing derived
    assert rows[2016].provinces == 1


def test_provinces_by_hand(world):
    rows = {p.code: p for p in province_table(2019)}
    a, b = rows["990000"], rows["980000"]
    assert (a.county_level_units, a.poverty_counties, a.batch_entries, a.demonstration_counties, a.poverty_counties_covered) == (
        5,
        4,
        8,
        5,
        4,
    )
    assert (str(a.poverty_coverage_pct), a.funds_yuan) == ("100.0", Decimal("1250000.50"))
    assert (b.county_level_units, b.poverty_counties, b.demonstration_counties, b.poverty_counties_covered) == (1, 1, 0, 0)
    assert (str(b.poverty_coverage_pct), b.funds_yuan) == ("0.0", Decimal("100.00"))
    assert rows["110000"].poverty_coverage_pct is None  # Beijing: no poverty counties, no percentage
    early = {p.code: p for p in province_table(2015)}["990000"]
    assert (early.county_level_units, early.poverty_counties_covered, early.funds_yuan) == (6, 2, Decimal("1000000.00"))


def test_poverty_demonstration_counties_are_places_by_hand(world):
    def part_and_whole(as_of, code="990000"):
        row = {p.code: p for p in province_table(as_of)}[code]
        return (row.demonstration_counties, row.poverty_demonstration_counties, row.poverty_counties_covered)

    assert part_and_whole(2015) == (2, 2, 2)  # 甲县, 乙县
    # 甲县, 乙区 (乙县), 丙县, 戊县, 己县: three of the five places are poverty counties.
    assert part_and_whole(2016) == (5, 3, 3)
    # From end-2018 丙市 is one place holding two poverty counties (丙县, 丁县): still three
    # places, but four poverty counties covered.
    assert part_and_whole(2018) == (5, 3, 4)
    assert part_and_whole(2019) == (5, 3, 4)
    assert part_and_whole(2019, "980000") == (0, 0, 0)  # 庚县: a poverty county, never designated
    # Without 戊县 and 己县 the province has three places and four poverty counties covered (as
    # Qinghai has 41 and 42, 茫崖市 holding 茫崖 and 冷湖): the part, a count of places, is
    # never more than the whole.
    withdraw(models.Designation.objects.filter(unit__code__in=["990107", "990109"]))
    models.DataVersion.objects.update(token="after-withdrawal")  # .update() sends no signal
    assert part_and_whole(2019) == (3, 3, 4)


def test_funding_by_hand(world):
    totals = funding_totals()
    assert totals.total_yuan == Decimal("1250100.50")
    assert [(t.key, t.total_yuan) for t in totals.by_year] == [
        ("2015", Decimal("1000000.00")),
        ("2016", Decimal("250000.50")),
        ("2019", Decimal("100.00")),
    ]
    assert [(t.key, t.total_yuan) for t in totals.by_province] == [
        ("980000", Decimal("100.00")),
        ("990000", Decimal("1250000.50")),
    ]
    assert {t.key: t.total_yuan for t in totals.by_level} == {
        "central": Decimal("1000000.00"),
        "county": Decimal("100.00"),
        "provincial": Decimal("250000.50"),
    }
    assert totals.includes_illustrative is False


def test_exits_by_hand(world):
    # 乙县 exited in 2016, the year its code became 乙区, and was designated (as 乙县) in 2015;
    # 丁县 exited at end-2018, when it had just become one place with 丙县 (designated 2016), so
    # both of 2018's exits were covered by then.
    assert [(e.exit_year, e.poverty_counties, e.designated_before_exit) for e in exits()] == [
        (2016, 2, 2),
        (2018, 2, 2),
        (2019, 1, 0),
    ]


def test_withdrawn_designation_does_not_count(world):
    withdraw(models.Designation.objects.filter(unit__code="990107"))
    models.DataVersion.objects.update(token="after-withdrawal")  # .update() sends no signal
    assert fields(coverage(2016)) == (4, 4, 2, 0, 3, "60.0")


# -- on the reference data and the illustrative roster ------------------------------------------


def test_published_figures_on_the_reference_data():
    assert fields(coverage(2018)) == (1016, 1016, 260, 0, 737, "88.6")
    assert fields(coverage(2019)) == (1231, 1180, 215, 51, 832, "100.0")
    b2016 = next(b for b in batch_composition() if b.year == 2016)
    assert (b2016.size, round(b2016.poverty_share_pct), b2016.meets_rule) == (240, 66, True)
    assert [c.as_of for c in statistics.coverage_series()] == list(range(2014, 2022))
    assert sum(p.demonstration_counties for p in province_table(2018)) == 1016


def test_coverage_report_prints_the_same_numbers():
    payload = json.loads(run_command("coverage_report", "--as-of", "2018", "--format", "json"))
    assert payload["coverage"]["demonstration_counties"] == 1016
    assert payload["coverage"]["poverty_counties_covered"] == 737
    assert payload["coverage"]["poverty_coverage_pct"] == "88.6"
    b2016 = next(b for b in payload["batches"] if b["year"] == 2016)
    assert (b2016["size"], b2016["poverty_counties"], b2016["meets_rule"]) == (240, 158, True)
    csv_text = run_command("coverage_report", "--as-of", "2018", "--section", "coverage", "--format", "csv")
    header, values = csv_text.strip().splitlines()
    row = dict(zip(header.split(","), values.split(","), strict=True))
    assert (row["batch_entries"], row["poverty_counties_covered"], row["poverty_coverage_pct"]) == ("1016", "737", "88.6")
    table = run_command("coverage_report", "--as-of", "2018", "--section", "coverage")
    title, names, figures = table.strip("\n").splitlines()
    assert title == "coverage (as of 2018)"
    cells = dict(zip(names.split(), figures.split(), strict=True))
    assert list(cells) == list(row)
    assert cells == row  # the CSV's cells, flags included (true/false in both)
    assert cells["includes_illustrative"] in {"true", "false"}
    assert (cells["demonstration_counties"], cells["poverty_counties_covered"], cells["poverty_coverage_pct"]) == ("1016", "737", "88.6")
    # Each value starts under its column's name.
    assert [m.start() for m in re.finditer(r"\S+", figures)] == [m.start() for m in re.finditer(r"\S+", names)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--as-of", "2013"),
            "--as-of: There are figures for the end of 2014 to the end of 2021 (the latest year with a batch), not 2013.",
        ),
        (("--format", "csv"), "--format csv prints one table"),
    ],
)
def test_coverage_report_refuses_bad_options(english, args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=re.escape(message)):
        run_command("coverage_report", *args)


# -- the cache --------------------------------------------------------------------------------


def test_cached_statistic_costs_one_query(django_assert_num_queries):
    coverage(2019)
    with django_assert_num_queries(1):  # the data token
        assert coverage(2019).batch_entries == 1231


def test_service_edit_changes_the_next_answer():
    assert coverage(2019).batch_entries == 1231
    batch = models.Batch.objects.get(year=2019)
    record = models.Designation(unit=models.Unit.objects.get(code="110101"), batch=batch, source="t", source_kind="official")
    save_record(record, user=None, reason="test")
    assert coverage(2019).batch_entries == 1232
    delete_record(record, user=None, reason="test")
    assert coverage(2019).batch_entries == 1231


def test_admin_edit_changes_the_next_answer(client):
    admin = get_user_model().objects.create_superuser("staff", "staff@example.cn", "correct-horse-battery")
    client.force_login(admin)
    before = coverage(2019)
    response = client.post(
        "/admin/counties/designation/add/",
        {
            "unit": models.Unit.objects.get(code="110101").pk,
            "batch": models.Batch.objects.get(year=2019).pk,
            "kind": "new",
            "is_old_revolutionary_base": "unknown",
            "name_as_reported": "东城",
            "source": "test notice",
            "source_kind": "official",
            "source_note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    after = coverage(2019)
    assert (after.batch_entries, after.demonstration_counties) == (before.batch_entries + 1, before.demonstration_counties + 1)


def test_reference_reload_changes_the_next_answer(tmp_path, settings):
    import shutil

    assert [e.poverty_counties for e in exits()][-1] == 52
    data = tmp_path / "data"
    shutil.copytree(settings.REFERENCE_DATA_DIR, data)
    path = data / "poverty_counties_832.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "130125,行唐县,130100,石家庄市,130125,行唐县,130100,石家庄市,130000,河北省,东部,east,2018",
            "130125,行唐县,130100,石家庄市,130125,行唐县,130100,石家庄市,130000,河北省,东部,east,2020",
            1,
        ),
        encoding="utf-8",
    )
    run_command("load_reference_data", "--data-dir", str(data))
    assert [e.poverty_counties for e in exits()][-1] == 53


# -- query counts do not grow with the data -----------------------------------------------------


def count_queries(function, *args):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        function(*args)
    return len(queries)


STATISTICS = [
    (coverage, (2019,)),
    (batch_composition, ()),
    (province_table, (2019,)),
    (funding_totals, ()),
    (exits, ()),
    (statistics.coverage_series, ()),
]


def test_query_counts_stay_the_same_when_the_data_grows_tenfold(world):
    small = [count_queries(f, *args) for f, args in STATISTICS]
    # Ten times the units, poverty counties, designations and funding of the hand-built world.
    for n in range(10, 100):
        u = unit(f"9902{n:02d}", f"扩{n}县")
        if n % 2:
            poor(u, 2016 + n % 5)
        designate(u, 2016 if n % 3 else 2019)
        FundingAllocationFactory(unit=u, fiscal_year=2016, amount=Decimal(n))
    rebuild_lineage()
    large = [count_queries(f, *args) for f, args in STATISTICS]
    assert large == small
    assert coverage(2019).batch_entries == 8 + 90  # the data did grow


def test_cached_statistics_belong_to_the_release_that_made_them(monkeypatch):
    """After a release the data token may be the same; what the old code cached (pickled objects
    of its own classes) is not read by the new code."""
    statistics.forget_loaded_rows()
    latest = statistics.latest_batch_year()

    def batch_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert statistics.latest_batch_year() == latest
        return sum('"counties_batch"' in q["sql"] for q in queries)

    assert batch_queries() == 0  # cached
    monkeypatch.setattr(keys, "code_fingerprint", lambda: "the-next-release")
    assert batch_queries() == 1  # not the old release's entry
    assert batch_queries() == 0


def test_province_unit_counts_say_which_units_the_official_count_leaves_out():
    """青海 counts 45 units: the official 44 and 大柴旦行委, which never had a county-level code. 海南
    counts 儋州市 460400 (a city without districts since 2015, the place 儋州市 469003 became). The
    end-2020 official total of county-level divisions, 2,844, stays what it was."""
    for year in (2018, 2020, 2021):
        rows = {p.code: p for p in province_table(year)}
        assert (rows["630000"].county_level_units, rows["630000"].units_outside_official_count) == (45, 1)
        assert rows["460000"].units_outside_official_count == 1
        assert sum(p.units_outside_official_count for p in rows.values()) == 2
    end_2020 = province_table(2020)
    assert sum(p.county_level_units for p in end_2020) == 2844 + 2
    assert sum(p.county_level_units - p.units_outside_official_count for p in end_2020) == 2844
