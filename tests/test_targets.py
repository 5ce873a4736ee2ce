"""Targets and results, computed: hand-worked fixtures for each target rule, the batch attainment,
the assessments summary, the three full coverages as of several years and the national series."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from counties import models
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads import statistics
from counties.reads.statistics import targets
from counties.reads.statistics.targets import MET, MISSED, NOT_APPLICABLE, NOT_REPORTED

from .factories import FundingAllocationFactory, designate, poor, succeed, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def report(u, code, year, value, kind="official"):
    return IndicatorValue.objects.create(
        unit=u, indicator=Indicator.objects.get(code=code), year=year, value=Decimal(value), source="test", source_kind=kind
    )


@pytest.fixture
def province_99():
    """Province 99, worked by hand (e-commerce transaction volume, target: grows ≥ 30% a year):

    甲县 U1  designated 2015: 2014 200, 2015 259.9 (+29.95%: missed, shown as 29.95, not a rounded 30.0)
    乙县 U2  retired 2015 → 乙区 U3 (2016); U2 designated 2015, base year 2014 (compound average a year
             since 2014, 年均): 2014 100 (U2), 2015 130 (U2, exactly 30.0%: met), 2016 150 (U3, 22.5%
             a year: missed), 2017 not reported, 2018 300 (31.6% a year over four years: met), 2019 390
             (31.3% a year over five: met)
    丙县 U4 } poverty, merged in 2018 into 丙市 U6; U4 designated 2016:
    丁县 U5 }   2017: U4 100 and U5 50; 2018: U6 200 (the place had two values in 2017: n/a)
    戊县 U7  never designated: 2016 100, 2017 200 (not applicable)
    """
    models.FundingAllocation.objects.all().delete()
    models.Designation.objects.all().delete()
    models.PovertyStatus.objects.all().delete()
    u = {
        1: unit("990101", "甲县"),
        2: unit("990102", "乙县", last_year=2015),
        3: unit("990103", "乙区", first_year=2016),
        4: unit("990104", "丙县", last_year=2017),
        5: unit("990105", "丁县", last_year=2017),
        6: unit("990106", "丙市", first_year=2018),
        7: unit("990107", "戊县"),
    }
    succeed(u[2], u[3], 2016)
    succeed(u[4], u[6], 2018)
    succeed(u[5], u[6], 2018)
    for n in (1, 2, 4, 5):
        poor(u[n], 2019)
    u["d1"] = designate(u[1], 2015)
    u["d2"] = designate(u[2], 2015)
    u["d4"] = designate(u[4], 2016)
    for year, value in ((2014, "200"), (2015, "259.9")):
        report(u[1], "ec_transaction_volume", year, value)
    for n, year, value in ((2, 2014, "100"), (2, 2015, "130"), (3, 2016, "150"), (3, 2018, "300"), (3, 2019, "390")):
        report(u[n], "ec_transaction_volume", year, value)
    for n, year, value in ((4, 2017, "100"), (5, 2017, "50"), (6, 2018, "200"), (7, 2016, "100"), (7, 2017, "200")):
        report(u[n], "ec_transaction_volume", year, value)
    return u


def statuses(series):
    return [(y.year, y.status, None if y.growth_pct is None else str(y.growth_pct)) for y in series.years]


def only(place_targets, code):
    return next(s for s in place_targets.series if s.indicator.code == code)


def averages(series):
    return [(y.year, y.status, None if y.average_growth_pct is None else str(y.average_growth_pct)) for y in series.years]


def test_growth_rule_across_a_code_change(province_99):
    series = only(targets.place_targets(province_99[3]), "ec_transaction_volume")
    # Judged on the compound average a year from the base year 2014 (the year before the 2015 batch).
    assert averages(series) == [
        (2014, NOT_APPLICABLE, None),  # before the 2015 batch
        (2015, MET, "30.0"),  # exactly 30.0% meets a ≥ 30% rule
        (2016, MISSED, "22.5"),  # 乙区's 150 on 乙县's 100: √1.5 − 1; the series survives the code change
        (2017, NOT_REPORTED, None),  # a missing year is not reported, never missed
        (2018, MET, "31.6"),  # 300 / 100 over four years: ⁴√3 − 1 (a missing year in between does not matter)
        (2019, MET, "31.3"),  # ⁵√3.9 − 1
    ]
    # The year-on-year growth is still shown beside it, for information.
    assert [g for _y, _s, g in statuses(series)] == [None, "30.0", "15.4", None, None, "30.0"]
    assert series.years[3].reason == targets.NO_VALUE and {y.base_year for y in series.years[1:]} == {2014}
    assert series.years[2].source == "test" and series.years[2].display_value == "150"
    assert (series.judgement.year, series.judgement.status, series.judgement.average_growth_pct) == (2019, MET, Decimal("31.3"))


@pytest.mark.parametrize(
    ("base", "last", "years", "status", "pct"),
    [
        ("100", "176", 2, MET, "32.7"),  # 60% then 10%: 1.6 × 1.1 = 1.76, √1.76 = 1.32665 → 32.7% a year: meets
        ("100", "169", 2, MET, "30.0"),  # exactly 30.0% a year (1.3² = 1.69): meets
        ("100", "130", 1, MET, "30.0"),
        ("200", "259.9", 1, MISSED, "29.95"),  # 29.95%: below 30%, misses; never shown as a missed "30.0"
        ("100", "168.870025", 2, MISSED, "29.95"),  # 29.95% a year for two years (1.2995²): misses
        ("100", "371.293", 5, MET, "30.0"),  # 1.3⁵ = 3.71293 exactly: meets
    ],
)
def test_average_annual_growth_hand_worked(base, last, years, status, pct):
    judged = targets.average_annual_growth(2014, Decimal(base), 2014 + years, Decimal(last), Decimal(30))
    assert (judged.status, str(judged.pct)) == (status, pct)


def test_average_annual_growth_without_a_base_is_not_reported():
    judged = targets.average_annual_growth(2014, None, 2016, Decimal(176), Decimal(30))
    assert (judged.status, judged.reason, judged.pct) == (NOT_REPORTED, targets.NO_BASE_YEAR, None)
    zero = targets.average_annual_growth(2014, Decimal(0), 2016, Decimal(176), Decimal(30))
    assert (zero.status, zero.reason) == (NOT_APPLICABLE, targets.ZERO_BASE)


def test_sixty_then_ten_percent_meets_in_its_second_year(province_99):
    """The county that grew 60% then 10% (32.7% a year on average) meets the target in its second
    year on every door that reads `place_targets` and `target_attainment`: judged year by year it
    was "missed"."""
    u = unit("990108", "己县")
    designate(u, 2015)
    for year, value in ((2014, "100"), (2015, "160"), (2016, "176")):
        report(u, "ec_transaction_volume", year, value)
    series = only(targets.place_targets(u), "ec_transaction_volume")
    assert averages(series) == [(2014, NOT_APPLICABLE, None), (2015, MET, "60.0"), (2016, MET, "32.7")]
    assert series.judgement.status == MET
    rows = {(r.batch_year, r.year): r for r in targets.target_attainment() if r.indicator == "ec_transaction_volume"}
    assert rows[(2015, 2016)].met == 1 + 0  # 己县 met; 甲县 did not report 2016, 乙区 missed
    assert (rows[(2015, 2016)].missed, rows[(2015, 2016)].not_reported) == (1, 1)


def test_a_missing_base_year_is_not_reported(province_99):
    u = unit("990108", "己县")
    designate(u, 2016)
    report(u, "ec_transaction_volume", 2016, "100")  # no 2015, the base year
    report(u, "ec_transaction_volume", 2017, "200")
    series = only(targets.place_targets(u), "ec_transaction_volume")
    assert [(y.status, y.reason) for y in series.years] == [(NOT_REPORTED, targets.NO_BASE_YEAR)] * 2


def test_growth_is_decided_on_the_exact_figures(province_99):
    series = only(targets.place_targets(province_99[1]), "ec_transaction_volume")
    # 259.9 / 200 is +29.95% on the year before (rounded half up: 30.0), below 30%, so missed; the
    # average a year that judges it is shown as 29.95, never a missed "30.0".
    assert statuses(series)[1] == (2015, MISSED, "30.0")
    assert str(series.years[1].average_growth_pct) == "29.95"


def test_rises_and_falls_rules(province_99):
    for year, share, cost in ((2015, "10", "8.5"), (2016, "12", "8.5"), (2017, "11", "7.9")):
        report(province_99[1], "online_share_of_retail", year, share)
        report(province_99[1], "logistics_cost_per_parcel", year, cost)
    place = targets.place_targets(province_99[1])
    assert [y.status for y in only(place, "online_share_of_retail").years] == [NOT_REPORTED, MET, MISSED]
    # Lower is better: an unchanged cost has not fallen.
    assert [y.status for y in only(place, "logistics_cost_per_parcel").years] == [NOT_REPORTED, MISSED, MET]
    assert [y.growth_pct for y in only(place, "logistics_cost_per_parcel").years] == [None, Decimal("0.0"), Decimal("-7.1")]


def test_indicator_without_a_target_and_a_zero_base(province_99):
    report(province_99[1], "people_trained", 2015, "300")
    report(province_99[1], "people_trained", 2016, "0")
    report(province_99[1], "ec_transaction_volume", 2016, "0")
    report(province_99[1], "ec_transaction_volume", 2017, "10")
    place = targets.place_targets(province_99[1])
    assert {y.status for y in only(place, "people_trained").years} == {NOT_APPLICABLE}
    assert [y.year for y in only(place, "people_trained").years] == [2015, 2016]  # its own years only
    assert only(place, "people_trained").years[1].growth_pct == Decimal("-100.0")
    # 2016's zero is no base: the base year is 2014 (200), and 10 in 2017 is far below it.
    last = only(place, "ec_transaction_volume").years[-1]
    assert (last.year, last.status, last.reason, last.average_growth_pct) == (2017, MISSED, "", Decimal("-63.2"))  # ∛(10 / 200) − 1


def test_merged_place_and_undesignated_county(province_99):
    merged = statuses(only(targets.place_targets(province_99[6]), "ec_transaction_volume"))
    # Two units reported 2017: no one figure; 2018 has no base year (2015, the year before the 2016 batch).
    assert merged == [(2017, NOT_APPLICABLE, None), (2018, NOT_REPORTED, None)]
    assert {s for _y, s, _g in statuses(only(targets.place_targets(province_99[7]), "ec_transaction_volume"))} == {NOT_APPLICABLE}
    assert targets.place_targets(province_99[7]).designated_from is None


def test_attainment_by_batch_and_year(province_99):
    rows = {(r.batch_year, r.year): r for r in targets.target_attainment() if r.indicator == "ec_transaction_volume"}
    fields = lambda r: (r.batch_entries, r.reported, r.met, r.missed, r.not_reported)  # noqa: E731
    assert fields(rows[(2015, 2015)]) == (2, 2, 1, 1, 0)  # 乙县 met, 甲县 missed
    assert fields(rows[(2015, 2016)]) == (2, 1, 0, 1, 1)  # 乙区 missed, 甲县 did not report
    assert fields(rows[(2015, 2017)]) == (2, 0, 0, 0, 2)
    assert fields(rows[(2015, 2018)]) == (2, 1, 1, 0, 1)  # 乙区: 31.6% a year since 2014
    assert fields(rows[(2015, 2019)]) == (2, 1, 1, 0, 1)
    # 丙县 reported 2017 but not the base year 2015; nor did 丙市 (2018).
    assert fields(rows[(2016, 2017)]) == (1, 0, 0, 0, 1)
    assert fields(rows[(2016, 2018)]) == (1, 0, 0, 0, 1)
    assert max(year for _b, year in rows) == 2019
    assert not any(r.indicator == "online_share_of_retail" for r in targets.target_attainment())  # nothing reported


def test_assessments_summary_and_conditional_funding(province_99):
    funds = FundingAllocationFactory(unit=province_99[1], designation=province_99["d1"], fiscal_year=2016, amount=Decimal("1500000.00"))
    funds2 = FundingAllocationFactory(unit=province_99[3], fiscal_year=2016, amount=Decimal("1500000.00"))
    Assessment.objects.create(designation=province_99["d1"], year=2015, result="pending", source="t", source_kind="official")
    Assessment.objects.create(
        designation=province_99["d1"],
        year=2016,
        result="passed",
        score=Decimal("85.5"),
        conditional_funding=funds,
        source="t",
        source_kind="official",
    )
    Assessment.objects.create(
        designation=province_99["d2"],
        year=2016,
        result="rectify",
        score=Decimal("70"),
        conditional_funding=funds2,
        source="t",
        source_kind="official",
    )
    row = next(r for r in targets.assessment_summary() if r.batch_year == 2015)
    assert (row.batch_entries, row.assessed, row.passed, row.rectify, row.pending, row.not_assessed) == (2, 2, 1, 1, 0, 0)
    assert row.mean_score == Decimal("77.8")  # (85.5 + 70) / 2 = 77.75, half up
    assert (row.conditional_funding_yuan, row.conditional_funding_released_yuan) == (Decimal("3000000.00"), Decimal("1500000.00"))
    assert next(r for r in targets.assessment_summary() if r.batch_year == 2016).not_assessed == 1


def test_assessment_validation(province_99):
    other = FundingAllocationFactory(unit=province_99[7], fiscal_year=2016)
    bad = Assessment(
        designation=province_99["d1"], year=2014, result="passed", conditional_funding=other, source="t", source_kind="official"
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert "year" in error.value.message_dict
    bad.year = 2016
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    (message,) = error.value.message_dict["conditional_funding"]
    assert f"cannot point at {other}" in message and str(province_99["d1"].unit) in message
    pending = Assessment(designation=province_99["d1"], year=2016, result="pending", score=Decimal("1"), source="t", source_kind="official")
    with pytest.raises(ValidationError, match="A pending assessment has no score"):
        pending.full_clean()


def test_three_coverages_as_of_several_years(province_99):
    Pairing.objects.create(
        unit=province_99[3], partner_name="某平台", partner_kind="platform", start_year=2018, source="t", source_kind="official"
    )
    Pairing.objects.create(
        unit=province_99[5],
        partner_name="某县",
        partner_kind="county",
        partner_unit=province_99[1],
        start_year=2019,
        source="t",
        source_kind="secondary",
    )
    report(province_99[2], "poor_villages", 2015, "40")
    report(province_99[2], "poor_villages_covered", 2015, "10")
    report(province_99[3], "poor_villages", 2018, "40")
    report(province_99[3], "poor_villages_covered", 2018, "30")
    report(province_99[6], "poor_villages", 2019, "25")  # 丙市 reports only the total: not counted
    report(province_99[1], "poor_villages", 2017, "20")
    report(province_99[1], "poor_villages_covered", 2017, "20")

    def fields(c):
        return (
            c.poverty_counties_total,
            c.demonstration_covered,
            c.village_reporting_counties,
            c.poor_villages,
            c.poor_villages_covered,
            c.village_coverage_pct,
            c.platform_covered,
            c.platform_coverage_pct,
        )

    d = Decimal
    # No pairing recorded by then: the pairing coverage is not recorded (None), never 0.0%.
    assert fields(targets.three_coverages(2014)) == (4, 0, 0, 0, 0, None, 0, None)
    # 2016: 甲县 and 乙县 (now 乙区) designated, 丙县 too; villages: 乙's 10 of 40.
    assert fields(targets.three_coverages(2016)) == (4, 3, 1, 40, 10, d("25.0"), 0, None)
    # 2018: 丁县 merged into 丙市, a designated place (丙县 2016): covered from its merger on, as
    # DESIGN.md has it. 乙区 covers 30 of 40, 甲县 20 of 20: 50 / 60 = 83.3%; 乙区 paired.
    assert fields(targets.three_coverages(2018)) == (4, 4, 2, 60, 50, d("83.3"), 1, d("25.0"))
    # 2019: 丁县 (now part of 丙市) paired with a stronger county: by the same place rule the pairing
    # covers the place 丙市, so both 丙县 and 丁县 count, with 乙县 (as 乙区): 3 of 4.
    assert fields(targets.three_coverages(2019)) == (4, 4, 2, 60, 50, d("83.3"), 3, d("75.0"))
    series = targets.three_coverages_series()
    assert [c.as_of for c in series] == list(range(2014, 2022))
    assert series[4] == targets.three_coverages(2018)


def test_pairing_needs_a_poverty_county(province_99):
    pairing = Pairing(
        unit=province_99[7], partner_name="某平台", partner_kind="platform", start_year=2018, source="t", source_kind="official"
    )
    with pytest.raises(ValidationError) as error:
        pairing.full_clean()
    assert error.value.message_dict == {"unit": ["Pairings are recorded for national poverty counties; this unit is not one."]}
    county = Pairing(unit=province_99[3], partner_name="某县", partner_kind="county", start_year=2018, source="t", source_kind="official")
    with pytest.raises(ValidationError) as error:
        county.full_clean()
    assert error.value.message_dict == {"partner_unit": ["A county partner needs its unit."]}


def test_national_series_with_sources():
    points = targets.national_series()
    rural = [(p.year, str(p.trillion_yuan)) for p in points if p.series == "rural_online_retail_sales"]
    # Every year 2014–2022 has its published figure (2015's 0.353 and 2018's 1.37 were "no published figure").
    assert rural == [
        (2014, "0.18"),
        (2015, "0.353"),
        (2016, "0.895"),
        (2017, "1.245"),
        (2018, "1.37"),
        (2019, "1.7"),
        (2020, "1.79"),
        (2021, "2.05"),
        (2022, "2.17"),
    ]
    poverty = [p for p in points if p.series == "poverty_counties_online_retail_sales"]
    assert [(p.year, str(p.trillion_yuan), str(p.published_trillion_yuan)) for p in poverty] == [(2020, "0.301", "0.30145")]
    by_year = {p.year: p for p in points if p.series == "rural_online_retail_sales"}
    assert by_year[2016].source == "http://csvscnns.com/news/105298301/70661.html"
    # 2020's 1.79 is MOFCOM's own figure, found with its source (it was labelled unverified).
    assert by_year[2020].source_kind == "secondary" and by_year[2020].source == "http://en.people.cn/n3/2021/1213/c90000-9931941.html"
    assert all(p.source for p in points)
    # The 2016 break: 2014–2015 follow the earlier definition, 2016 on include service retail.
    assert [(p.year, p.definition) for p in points if p.series == "rural_online_retail_sales"][:3] == [
        (2014, "before_2016"),
        (2015, "before_2016"),
        (2016, "from_2016"),
    ]
    assert {p.definition for p in poverty} == {""}


def test_no_values_are_loaded_by_default():
    assert IndicatorValue.objects.count() == 0
    assert Indicator.objects.filter(rule="growth_at_least", rule_threshold_pct=30).get().code == "ec_transaction_volume"
    assert Indicator.objects.count() == 16  # with the three the 2018 and 2019 notices' targets need


# -- the 2018 and 2019 notices' targets -----------------------------------------------------------


def judgements(u):
    return {j.target.code: (j.status, None if j.value is None else str(j.value), j.year) for j in targets.place_targets(u).notice_targets}


def test_the_2018_notice_targets_apply_to_the_2018_batch(province_99):
    u = unit("990108", "己县")
    designate(u, 2018)
    report(u, "funds_agri_upward_share", 2018, "55")  # ≥ 50%: met
    report(u, "funds_service_centre_share", 2019, "15")  # exactly 15%: at most 15%, met
    report(u, "villages_covered", 2019, "40")
    report(u, "administrative_villages", 2019, "80")  # 40 / 80 = 50.0%: met
    assert judgements(u) == {
        "funds_agri_upward_2018": (MET, "55.0000", 2018),
        "funds_service_centre_2018": (MET, "15.0000", 2019),
        "poor_village_coverage_2018": (NOT_REPORTED, None, None),  # nothing reported is never "missed"
        "village_coverage_2018": (MET, "50.0", 2019),
    }
    # The 2015 batch is covered by neither notice: no notice target applies.
    assert targets.place_targets(province_99[1]).notice_targets == []


def test_the_2019_notice_targets_and_the_national_comparison(province_99):
    u = unit("990108", "己县")
    designate(u, 2019)
    report(u, "people_trained", 2019, "1800")
    report(u, "people_trained", 2020, "1200")  # 3,000 in all: met
    report(u, "villages_covered", 2020, "79")
    report(u, "administrative_villages", 2020, "100")  # 79% at the end of 2020: missed
    report(u, "villages_covered", 2021, "90")  # after the deadline: not counted
    report(u, "administrative_villages", 2021, "100")
    report(u, "online_retail_sales", 2018, "100")
    report(u, "online_retail_sales", 2020, "140")
    got = judgements(u)
    assert got["people_trained_2019"] == (MET, "3000.0000", 2020)
    assert got["village_coverage_2019"] == (MISSED, "79.0", 2020)
    # 100 → 140 over 2018–2020 (√1.4 − 1 = 18.3% a year) against the national 1.37 → 1.79 trillion
    # (√1.3066 − 1 = 14.3% a year): faster, met.
    assert got["online_retail_faster_2019"] == (MET, "18.3", 2020)
    faster = next(j for j in targets.place_targets(u).notice_targets if j.target.code == "online_retail_faster_2019")
    assert faster.national_pct == Decimal("14.3")

    slower = unit("990109", "庚县")
    designate(slower, 2019)
    report(slower, "online_retail_sales", 2018, "100")
    report(slower, "online_retail_sales", 2019, "110")  # +10.0% against the national 1.37 → 1.7 (+24.1%)
    judged = next(j for j in targets.place_targets(slower).notice_targets if j.target.code == "online_retail_faster_2019")
    assert (judged.status, judged.value, judged.national_pct) == (MISSED, Decimal("10.0"), Decimal("24.1"))
    assert judgements(slower)["people_trained_2019"] == (NOT_REPORTED, None, None)

    no_base = unit("990110", "辛县")
    designate(no_base, 2019)
    report(no_base, "online_retail_sales", 2020, "500")
    judged = next(j for j in targets.place_targets(no_base).notice_targets if j.target.code == "online_retail_faster_2019")
    assert (judged.status, judged.reason) == (NOT_REPORTED, targets.NO_BASE_YEAR)


def test_faster_than_national_is_not_judged_across_the_2016_break():
    from counties.models.targets import NOTICE_TARGETS

    target = next(t for t in NOTICE_TARGETS if t.code == "online_retail_faster_2019")
    reported = {"online_retail_sales": {2015: targets.Reported(Decimal(100)), 2017: targets.Reported(Decimal(200))}}
    judged = targets.judge_notice_target(target, 2016, reported, targets.national_rural())
    assert (judged.status, judged.reason) == (NOT_APPLICABLE, targets.ACROSS_BREAK)


# -- the service system (两中心一站点) ----------------------------------------------------------------


def test_service_system_totals_and_not_recorded(province_99):
    empty = targets._service_system.uncached(2019)
    assert [(m.indicator, m.reporting_counties, m.total) for m in empty.measures] == [
        ("public_service_centre", 0, None),  # not recorded, never 0
        ("logistics_centre", 0, None),
        ("village_service_stations", 0, None),
    ]
    report(province_99[1], "public_service_centre", 2018, "1")
    report(province_99[3], "public_service_centre", 2019, "0")
    report(province_99[3], "logistics_centre", 2019, "1")
    report(province_99[1], "village_service_stations", 2017, "12")
    report(province_99[1], "village_service_stations", 2019, "15")  # its latest year counts
    report(province_99[2], "village_service_stations", 2015, "8")  # 乙县, now 乙区: the same place
    got = targets._service_system.uncached(2019)
    assert [(m.reporting_counties, m.total) for m in got.measures] == [(2, Decimal(1)), (1, Decimal(1)), (2, Decimal(23))]
    # As of 2018 乙区's centre and 甲县's 2019 stations are not yet reported.
    earlier = targets._service_system.uncached(2018)
    assert [(m.reporting_counties, m.total) for m in earlier.measures] == [(1, Decimal(1)), (0, None), (2, Decimal(20))]
    published = {t.fact.fact_id: t.fact.value_text for t in targets.service_system_published()}
    assert published == {
        "S2021_logistics": "1212",
        "S2021_stations": "148000",
        "S2022_centres": "2,600+",
        "S2022_stations": "150,000+",
    }


def test_notice_attainment_per_batch(province_99):
    met = unit("990108", "己县")
    missed = unit("990109", "庚县")
    silent = unit("990110", "辛县")
    for u in (met, missed, silent):
        designate(u, 2019)
    report(met, "people_trained", 2019, "3000")
    report(missed, "people_trained", 2019, "2999")
    rows = {(r.target, r.batch_year): r for r in targets.notice_attainment()}
    trained = rows[("people_trained_2019", 2019)]
    size = models.Designation.objects.counted().filter(batch__year=2019).count()
    assert (trained.batch_entries, trained.reported, trained.met, trained.missed, trained.not_reported) == (size, 2, 1, 1, size - 2)
    # The 2018 notice's targets are counted for the 2018 batch only.
    assert {year for target, year in rows if target.endswith("_2018")} <= {2018}
    assert {year for target, year in rows if target.endswith("_2019")} == {2019}
    assert targets.notice_attainment_until(2018) == [r for r in targets.notice_attainment() if r.batch_year <= 2018]


def test_new_measures_cost_the_same_queries_whatever_the_values(province_99):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(function, *args):
        cache.clear()  # the national series is a cached statistic: worked out each time here
        statistics.Programme.current()  # the place rule's rows, loaded once per data version, not counted
        with CaptureQueriesContext(connection) as captured:
            function(*args)
        return len(captured)

    first = unit("990119", "扩县")
    designate(first, 2019)
    report(first, "people_trained", 2019, "100")
    # The service system: the data token (the place rule), the values. The notices: the values, the
    # entries, the data token (the place rule), then the national series (its token and its rows).
    small = [queries(targets._service_system.uncached, 2019), queries(targets.notice_attainment.uncached)]
    assert small == [2, 5]
    for n in range(20, 40):
        u = unit(f"9902{n:02d}", f"扩{n}县")
        designate(u, 2018 if n % 2 else 2019)
        for code, value in (("village_service_stations", "5"), ("people_trained", "100"), ("funds_agri_upward_share", "60")):
            report(u, code, 2019, value)
    assert [queries(targets._service_system.uncached, 2019), queries(targets.notice_attainment.uncached)] == small
