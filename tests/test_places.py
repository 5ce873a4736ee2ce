"""The place rule ("the place as of the end of Y", DESIGN.md) on the examples of the design brief
and the issue, worked out by hand: every statistic, filter and record counts a designation for the
place its unit had become by the end of the year asked about, and no later."""

import pytest

from counties import models
from counties.reads import statistics
from counties.reads.places import PlaceResolver
from counties.reads.statistics import batch_composition, coverage, province_table

from .factories import designate

pytestmark = pytest.mark.django_db


def unit(key):
    return models.Unit.objects.get(key=key)


@pytest.fixture
def no_designations():
    """The reference data (units, successions, the 832) without any designation."""
    models.FundingAllocation.objects.all().delete()
    models.Designation.objects.all().delete()


def counts(c):
    return (c.batch_entries, c.designated_units, c.demonstration_counties, c.poverty_counties_covered)


def province(code, as_of):
    row = next(p for p in province_table(as_of) if p.code == code)
    return (row.batch_entries, row.demonstration_counties, row.poverty_counties_covered)


# -- the resolver ---------------------------------------------------------------------------------


def test_resolver_follows_successions_up_to_the_year_only():
    # 1 → 2 in 2016 (a rename); 3 and 4 merge into 5 in 2018; 6 → 7 in 2020 (7 already existed).
    resolver = PlaceResolver({1: (2, 2016), 3: (5, 2018), 4: (5, 2018), 6: (7, 2020)})
    assert [resolver.place(1, year) for year in (2015, 2016, None)] == [1, 2, 2]
    assert [resolver.place(3, year) for year in (2017, 2018)] == [3, 5]
    assert resolver.places([3, 4], 2017) == {3, 4}
    assert resolver.places([3, 4], 2018) == {5}
    assert resolver.place(6, 2019) == 6 and resolver.place(6, 2020) == 7
    assert resolver.known_as(5) == {3, 4, 5}
    assert resolver.chain(1) == [1, 2] and resolver.chain(7) == [7]


# -- the brief's and the examples, on the reference data -----------------------------------


def test_known_as_from_the_lineage_is_the_resolvers():
    # The page's records read a unit's earlier codes from the lineage closure; the resolver works
    # them out from the primary successions. Every unit must get the same answer from both.
    from counties.reads.places import known_as, place_resolver

    resolver = place_resolver()
    pks = list(models.Unit.objects.values_list("pk", flat=True))
    assert known_as(pks) == {pk: resolver.known_as(pk) for pk in pks}
    assert {u.key for u in models.Unit.objects.filter(pk__in=known_as([unit("130705").pk])[unit("130705").pk])} == {"130705", "130721"}


def test_lenghu_and_mangya_designated_2016_are_counted_alike(no_designations):
    # 冷湖行委 and 茫崖行委, both poverty counties, merged into 茫崖市 in 2018.
    designate(unit("X632801"), 2016)
    designate(unit("X632802"), 2016)
    # End-2016: two places, two poverty counties covered (main counted 1 county but 2 covered).
    assert (coverage(2016).demonstration_counties, coverage(2016).poverty_counties_covered) == (2, 2)
    assert counts(coverage(2016)) == (2, 2, 2, 2)
    assert province("630000", 2016) == (2, 2, 2)
    # End-2018: one place, 茫崖市; both poverty counties are covered through it.
    assert counts(coverage(2018)) == (2, 2, 1, 2)
    assert coverage(2018).repeat_designations == 1
    assert province("630000", 2018) == (2, 1, 2)
    b2016 = next(b for b in batch_composition() if b.year == 2016)
    assert (b2016.size, b2016.poverty_counties) == (2, 2)


def test_changdao_and_penglai_are_two_places_until_they_merge(no_designations):
    # 长岛县 and 蓬莱市 merged into 蓬莱区 370614 in 2020.
    designate(unit("370634"), 2017)
    designate(unit("370684"), 2018)
    assert coverage(2018).demonstration_counties == 2  # main said 1 county at end-2018
    assert counts(coverage(2018)) == (2, 2, 2, 0)
    assert province("370000", 2018) == (2, 2, 0)
    assert counts(coverage(2020)) == (2, 2, 1, 0)
    assert province("370000", 2020) == (2, 1, 0)


def test_xuanhua_county_and_district_are_one_place(no_designations):
    # 宣化县 130721 (a poverty county, exit 2018) was merged into the existing 宣化区 130705 in 2016.
    designate(unit("130721"), 2015)
    designate(unit("130705"), 2018)
    assert counts(coverage(2015)) == (1, 1, 1, 1)
    assert counts(coverage(2018)) == (2, 2, 1, 1)
    assert province("130000", 2018) == (2, 1, 1)
    # 宣化区's 2018 entry is for the poverty county 宣化县's place.
    b2018 = next(b for b in batch_composition() if b.year == 2018)
    assert (b2018.size, b2018.poverty_counties) == (1, 1)


def test_a_merger_into_a_unit_that_keeps_its_code_counts_from_its_year(no_designations):
    # 宣化区 existed before 2016: at end-2015 it and 宣化县 were two places, from 2016 one.
    designate(unit("130721"), 2015)
    designate(unit("130705"), 2015)
    assert counts(coverage(2015)) == (2, 2, 2, 1)
    assert counts(coverage(2016)) == (2, 2, 1, 1)


# -- a place's record carries its poverty status and designations --------------------------------


def test_xuanhua_district_is_a_poverty_county_in_the_list_row(client):
    page = client.get("/counties/?scope=all&code=130705").content.decode()
    # The row says it is a poverty county, as 宣化县 130721, and when it exited (main showed "—").
    assert "是 (原为 宣化县 130721) (2018 年摘帽)" in page


def test_xuanhua_district_is_a_poverty_county_in_the_api(client):
    record = client.get("/api/v1/counties/130705/").json()
    assert record["poverty"][0]["listed_as"] == "130721"  # main answered `poverty: null`
    assert (record["poverty"][0]["listed_name"], record["poverty"][0]["exit_year"]) == ("宣化县", 2018)
    # Its designations include those under the old code, each saying which code was designated.
    designated_as = {(d["batch_year"], d["designated_as"]) for d in record["designations"]}
    under_old_code = set(models.Designation.objects.filter(unit__key="130721").values_list("batch__year", "unit__key"))
    assert under_old_code and under_old_code <= designated_as
    listed = client.get("/api/v1/counties/?code=130705").json()["results"]
    assert [(r["key"], r["poverty"][0]["listed_as"]) for r in listed] == [("130705", "130721")]
    assert "130705" in {r["key"] for r in client.get("/api/v1/counties/?poverty=true&province=130000&page_size=1000").json()["results"]}


def test_the_list_index_and_the_coverage_agree():
    index = statistics.list_index()
    c = coverage()
    assert (len(index.places), len(index.designated_units)) == (c.demonstration_counties, c.designated_units)
