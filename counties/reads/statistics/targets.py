"""Targets and results, computed: one module, as `counties.reads.statistics` is for coverage, so every door
(county and batch pages, statistics page, API, `coverage_report`) shows the same numbers.

Rules (the same place and as-of rules as coverage, see DESIGN.md):

* **Same place.** A place's values are those recorded for its unit and for every unit that became
  it (`counties.reads.places`), so a code change mid-series keeps the series (宣化县 130721 in 2015, 宣化区
  130705 from 2016). A designated unit is judged, in year Y, as the place it had become by the end
  of Y (following code changes up to Y, not later ones), as coverage counts it. If two units of one
  place reported the same year (before a merger), that year has no single value: *not applicable*.
* **When a target applies.** From the year of the place's first batch (withdrawn designations never
  count): a county designated in the 2015 batch is held to its targets for 2015 and later years.
* **Status of a year** for an indicator with a target rule:
  - *not applicable*: the indicator has no target, the place was not yet (or never) a demonstration
    county, the base year's value is zero (no growth can be computed), or several units reported;
  - *not reported*: no value for the year, or none for the year before to compare with (a missing
    year is never "missed");
  - *met* / *missed*: for a growth rule (the 2014 notice's "年均增长30%以上"), the compound
    average annual growth from the base year (the year before the batch) to the year, decided on
    the exact figures (`average_annual_growth`): 60% then 10% is 32.7% a year and meets a ≥ 30%
    rule in its second year; a missing base year is *not reported*. For a rise / a fall: on the
    year before.
  The year-on-year growth shown beside it is (value − previous) ÷ previous × 100, rounded half up
  to one decimal; it informs, it does not judge.
* **Per batch and year**: of the batch's entries, how many *reported* (status met or missed: both
  years needed were reported) and how many *met* each target.
* **The three full coverages** as of the end of year Y, each over the 832 poverty counties:
  1. demonstration coverage: `statistics.coverage(Y)`;
  2. village coverage, where villages are reported: the poor villages covered by e-commerce poverty
     alleviation over the registered poor villages, summed over the poverty counties that reported
     both in the same year (their latest such year ≤ Y);
  3. platform coverage: poverty counties with a pairing that began by Y, over 832.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from counties.models import FIRST_PROGRAMME_YEAR, Batch, Designation, ProgrammeFact, ProgrammeLevel, SourceKind, Unit
from counties.models.targets import (
    NOTICE_TARGETS,
    PASSING_RESULTS,
    Assessment,
    AssessmentResult,
    Indicator,
    IndicatorValue,
    NoticeRule,
    NoticeTarget,
    Pairing,
    TargetRule,
)
from counties.reads import numbers, statistics
from counties.reads.places import PlaceResolver, place_resolver

MET, MISSED, NOT_REPORTED, NOT_APPLICABLE = "met", "missed", "not_reported", "not_applicable"
STATUS_LABELS = {
    MET: _("met"),
    MISSED: _("missed"),
    NOT_REPORTED: _("not reported"),
    NOT_APPLICABLE: _("not applicable"),
}

# Why a year has the status it has (codes, so the API stays language-neutral; labels for pages).
NO_TARGET, NOT_DESIGNATED, NO_VALUE, NO_BASE, NO_BASE_YEAR, ZERO_BASE, SEVERAL_UNITS, NO_NATIONAL, ACROSS_BREAK = (
    "no_target",
    "not_designated",
    "no_value",
    "no_previous_value",
    "no_base_year_value",
    "zero_base",
    "several_units",
    "no_national_figure",
    "across_national_break",
)
REASON_LABELS = {
    NO_TARGET: _("no target for this indicator"),
    NOT_DESIGNATED: _("not yet a demonstration county"),
    NO_VALUE: _("no value reported"),
    NO_BASE: _("no value for the year before"),
    NO_BASE_YEAR: _("no value for the base year (the year before the batch)"),
    ZERO_BASE: _("the base year was zero"),
    SEVERAL_UNITS: _("reported by several units before a merger"),
    NO_NATIONAL: _("no national figure recorded here for these years"),
    ACROSS_BREAK: _("the national series changed its definition in 2016: not comparable across it"),
}

POOR_VILLAGES, POOR_VILLAGES_COVERED = "poor_villages", "poor_villages_covered"
RURAL, POVERTY_COUNTIES = "rural_online_retail_sales", "poverty_counties_online_retail_sales"
NATIONAL_METRICS = {
    "rural online retail sales": RURAL,
    "online retail sales of the 832 national poverty counties": POVERTY_COUNTIES,
}
# From 2016 the published rural online retail sales include service retail (服务型网络零售额: 315.3
# of 2016's 894.54 billion yuan, MOFCOM 2017-03-02): 2014 and 2015 are not comparable with later years.
NATIONAL_BREAK_YEAR = 2016
BEFORE_BREAK, FROM_BREAK = "before_2016", "from_2016"
DEFINITION_LABELS = {
    BEFORE_BREAK: _("earlier definition (2014–2015), not comparable with later years"),
    FROM_BREAK: _("including service retail (from 2016)"),
}


# -- one year's status ------------------------------------------------------------------------


@dataclass(frozen=True)
class YearStatus:
    year: int
    value: Decimal | None
    source_kind: str
    source: str
    growth_pct: Decimal | None
    status: str
    reason: str
    # For a growth rule: the compound average annual growth since the base year, which judges the year.
    base_year: int | None = None
    average_growth_pct: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def display_value(self) -> str:
        """The value without trailing zeros, thousands grouped: 26000.0000 → 26,000; 8.5000 → 8.5."""
        return numbers.decimal(self.value, missing="")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, ""))


@dataclass(frozen=True)
class Reported:
    """What a place reported for one indicator in one year: a value, or several (a merger)."""

    value: Decimal | None
    source_kind: str = ""
    source: str = ""
    several: bool = False


@dataclass(frozen=True)
class AverageGrowth:
    """The compound average annual growth from a base year to a last year (`average_annual_growth`)."""

    base_year: int
    last_year: int
    status: str
    reason: str = ""
    pct: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def average_growth_pct(base: Decimal, last: Decimal, years: int, places: int = 1) -> Decimal:
    """((last / base)^(1 / years) − 1) × 100, rounded half up to one decimal (or `places`): 100 →
    176 over two years (60% then 10%) is 32.7. Decimal arithmetic at 28 significant digits (the
    root of a non-integral power is correctly rounded at that precision), then `numbers.rounded`."""
    with localcontext() as context:
        context.prec = 28
        ratio = last / base
        root = ratio if years == 1 else ratio ** (Decimal(1) / Decimal(years))
        return numbers.rounded((root - 1) * 100, places)


def average_annual_growth(
    base_year: int, base: Decimal | None, last_year: int, last: Decimal | None, threshold_pct: Decimal
) -> AverageGrowth:
    """The 2014 notice's "年均增长30%以上" as written: the compound average annual growth from the
    base year to the last year, against the threshold.

    * no value for the base year or for the last → *not reported* (never "missed");
    * a base of zero → *not applicable* (no growth can be computed);
    * otherwise *met* when last ≥ base × (1 + threshold/100)^years, decided exactly (in whole
      Decimal powers, no root and no rounding): exactly 30.0% a year meets a ≥ 30% rule, 29.95%
      misses it. The figure shown is `average_growth_pct`, to two decimals where one would round a
      miss up to the threshold itself (29.95, never a missed "30.0").
    """
    years = last_year - base_year
    if base is None:
        return AverageGrowth(base_year, last_year, NOT_REPORTED, NO_BASE_YEAR)
    if last is None or years < 1:
        return AverageGrowth(base_year, last_year, NOT_REPORTED, NO_VALUE)
    if base == 0:
        return AverageGrowth(base_year, last_year, NOT_APPLICABLE, ZERO_BASE)
    with localcontext() as context:
        context.prec = 200  # exact for the powers of the values a county reports
        met = last * 100**years >= base * (100 + threshold_pct) ** years
    shown = average_growth_pct(base, last, years)
    if not met and shown >= threshold_pct:
        shown = average_growth_pct(base, last, years, places=2)
    return AverageGrowth(base_year, last_year, MET if met else MISSED, "", shown)


def year_status(indicator: Indicator, year: int, reported: dict[int, Reported], applies_from: int | None) -> YearStatus:
    """The status of one year of one indicator for one place (the rules are in the module docstring)."""
    current, previous = reported.get(year), reported.get(year - 1)
    value = current.value if current and not current.several else None
    before = previous.value if previous and not previous.several else None
    growth = numbers.percentage(value - before, before) if value is not None and before else None

    def result(status: str, reason: str = "", base_year: int | None = None, average: Decimal | None = None) -> YearStatus:
        kind, source = (current.source_kind, current.source) if current else ("", "")
        return YearStatus(year, value, kind, source, growth, status, reason, base_year, average)

    if indicator.rule == TargetRule.NONE:
        return result(NOT_APPLICABLE, NO_TARGET)
    if applies_from is None or year < applies_from:
        return result(NOT_APPLICABLE, NOT_DESIGNATED)
    if indicator.rule == TargetRule.GROWTH_AT_LEAST:
        base_year = applies_from - 1
        base = reported.get(base_year)
        if current is None:
            return result(NOT_REPORTED, NO_VALUE, base_year)
        if current.several or (base is not None and base.several):
            return result(NOT_APPLICABLE, SEVERAL_UNITS, base_year)
        assert indicator.rule_threshold_pct is not None  # Indicator's constraint: this rule has its threshold
        judged = average_annual_growth(base_year, base.value if base else None, year, value, indicator.rule_threshold_pct)
        return result(judged.status, judged.reason, base_year, judged.pct)
    if current is None:
        return result(NOT_REPORTED, NO_VALUE)
    if current.several or (previous is not None and previous.several):
        return result(NOT_APPLICABLE, SEVERAL_UNITS)
    if previous is None:
        return result(NOT_REPORTED, NO_BASE)
    assert value is not None and before is not None  # one report each: only several have no value
    met = value > before if indicator.rule == TargetRule.RISES else value < before
    return result(MET if met else MISSED)


# -- the place's values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Lineage:
    """The place rule of `counties.reads.places` (the one every statistic uses), as the targets read it."""

    resolver: PlaceResolver[int]

    @classmethod
    def load(cls, units: Iterable[int] | None = None) -> Lineage:
        # The primary successions are a few hundred rows: one query, whatever `units` asks for.
        return cls(place_resolver())

    def place_as_of(self, unit_id: int, year: int) -> int:
        """The unit in use at the end of `year` that `unit_id` had become by then (itself if none)."""
        return self.resolver.place(unit_id, year)

    def units_of(self, place: int) -> set[int]:
        """The place's units: itself and every unit that became it."""
        return self.resolver.known_as(place)


# unit, indicator (its id, or its code), year, value, source kind, source
ValueRow = tuple[int, int | str, int, Decimal, str, str]


class Reports:
    """What each place reported, per indicator and year, merging the units that became it."""

    def __init__(self, lineage: Lineage, values: Iterable[ValueRow]) -> None:
        self.lineage = lineage
        self.by_unit: dict[int, list[tuple[int | str, int, Decimal, str, str]]] = defaultdict(list)
        for unit_id, indicator_id, year, value, kind, source in values:
            self.by_unit[unit_id].append((indicator_id, year, value, kind, source))
        self._places: dict[int, dict[int | str, dict[int, Reported]]] = {}

    def reporting_places(self) -> set[int]:
        """The places whose table is not empty: every reporting unit and every unit it became."""
        return {place for unit in self.by_unit for place in self.lineage.resolver.chain(unit)}

    def of(self, place: int) -> dict[int | str, dict[int, Reported]]:
        """indicator id → year → what the place reported (two units the same year: `several`)."""
        if place not in self._places:
            table: dict[int | str, dict[int, Reported]] = defaultdict(dict)
            for unit_id in self.lineage.units_of(place):
                for indicator_id, year, value, kind, source in self.by_unit.get(unit_id, ()):
                    table[indicator_id][year] = (
                        Reported(None, several=True) if year in table[indicator_id] else Reported(value, kind, source)
                    )
            self._places[place] = table
        return self._places[place]


@dataclass(frozen=True)
class IndicatorSeries:
    indicator: Indicator
    years: list[YearStatus]

    @property
    def reported(self) -> list[YearStatus]:
        return [y for y in self.years if y.value is not None]

    @property
    def includes_illustrative(self) -> bool:
        return any(y.source_kind == SourceKind.ILLUSTRATIVE for y in self.years)

    @property
    def judgement(self) -> YearStatus | None:
        """The series' judgement: its last year reported once the targets apply (for a growth rule,
        the compound average since the base year to that year); None when there is none."""
        judged = [y for y in self.years if y.value is not None and y.reason not in (NO_TARGET, NOT_DESIGNATED)]
        return judged[-1] if judged else None


# -- the 2018 and 2019 notices' targets ----------------------------------------------------------


@dataclass(frozen=True)
class NoticeJudgement:
    """One notice target judged for one place: `value` is what was judged (a percentage for a
    share or a coverage, a total, or the county's average annual growth in percent), `year` the
    last year it rests on, `national_pct` the national rural series' average growth over the
    same years (the faster-than-national rule)."""

    target: NoticeTarget
    batch_year: int
    status: str
    reason: str = ""
    value: Decimal | None = None
    year: int | None = None
    national_pct: Decimal | None = None

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, ""))


def _single(reports: dict[int, Reported]) -> dict[int, Decimal | None]:
    """year → the value, None where several units reported (no one figure)."""
    return {year: (None if r.several else r.value) for year, r in reports.items()}


def judge_notice_target(
    target: NoticeTarget, batch_year: int, reported: dict[int | str, dict[int, Reported]], national: dict[int, Decimal]
) -> NoticeJudgement:
    """A notice target for a place of one of the batches it covers (`NoticeTarget` says how the
    value is read). Missing data is *not reported*; several units in a year is *not applicable*."""

    def judged(
        status: str, reason: str = "", value: Decimal | None = None, year: int | None = None, nat: Decimal | None = None
    ) -> NoticeJudgement:
        return NoticeJudgement(target, batch_year, status, reason, value, year, nat)

    last_allowed = target.by_year if target.by_year is not None else 9999
    values = {y: v for y, v in _single(reported.get(target.indicator, {})).items() if batch_year <= y <= last_allowed}
    if target.rule == NoticeRule.FASTER_THAN_NATIONAL:
        base_year = batch_year - 1
        everything = _single(reported.get(target.indicator, {}))
        later = sorted(y for y in values if y > base_year)
        if not later:
            return judged(NOT_REPORTED, NO_VALUE)
        last_year = later[-1]
        base, last = everything.get(base_year), values[last_year]
        if base_year not in everything:
            return judged(NOT_REPORTED, NO_BASE_YEAR, year=last_year)
        if base is None or last is None:
            return judged(NOT_APPLICABLE, SEVERAL_UNITS, year=last_year)
        if base == 0:
            return judged(NOT_APPLICABLE, ZERO_BASE, year=last_year)
        if base_year < NATIONAL_BREAK_YEAR <= last_year:
            return judged(NOT_APPLICABLE, ACROSS_BREAK, year=last_year)
        county_pct = average_growth_pct(base, last, last_year - base_year)
        if base_year not in national or last_year not in national:
            return judged(NOT_REPORTED, NO_NATIONAL, county_pct, last_year)
        national_base, national_last = national[base_year], national[last_year]
        national_pct = average_growth_pct(national_base, national_last, last_year - base_year)
        # Faster: last / base > national last / national base, decided on the exact figures.
        met = last * national_base > base * national_last
        return judged(MET if met else MISSED, "", county_pct, last_year, national_pct)
    assert target.threshold is not None  # every other rule has its threshold
    if target.denominator:
        denominators = {y: v for y, v in _single(reported.get(target.denominator, {})).items() if batch_year <= y <= last_allowed}
        both = sorted(set(values) & set(denominators))
        if not both:
            return judged(NOT_REPORTED, NO_VALUE)
        year = both[-1]
        part, whole = values[year], denominators[year]
        if part is None or whole is None:
            return judged(NOT_APPLICABLE, SEVERAL_UNITS, year=year)
        if not whole:
            return judged(NOT_APPLICABLE, ZERO_BASE, year=year)
        pct = numbers.percentage(part, whole)
        ok = part * 100 >= target.threshold * whole if target.rule == NoticeRule.AT_LEAST else part * 100 <= target.threshold * whole
        return judged(MET if ok else MISSED, "", pct, year)
    if not values:
        return judged(NOT_REPORTED, NO_VALUE)
    year = max(values)
    if any(v is None for v in values.values()):
        return judged(NOT_APPLICABLE, SEVERAL_UNITS, year=year)
    value = sum((v for v in values.values() if v is not None), Decimal(0)) if target.total else values[year]
    assert value is not None
    ok = value >= target.threshold if target.rule == NoticeRule.AT_LEAST else value <= target.threshold
    return judged(MET if ok else MISSED, "", value, year)


def national_rural() -> dict[int, Decimal]:
    """year → the national rural online retail sales as published (trillion yuan)."""
    return {p.year: p.published_trillion_yuan for p in national_series() if p.series == RURAL}


def notice_judgements(
    batch_years: Iterable[int], reported: dict[int | str, dict[int, Reported]], national: dict[int, Decimal]
) -> list[NoticeJudgement]:
    """Each notice target that applies to a place designated in `batch_years` (its earliest batch the
    notice covers), judged; the targets of notices that do not cover its batches are left out."""
    years = set(batch_years)
    result = []
    for target in NOTICE_TARGETS:
        covered = sorted(years & set(target.batches))
        if covered:
            result.append(judge_notice_target(target, covered[0], reported, national))
    return result


@dataclass(frozen=True)
class PlaceTargets:
    designated_from: int | None
    series: list[IndicatorSeries] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    pairings: list[Pairing] = field(default_factory=list)
    notice_targets: list[NoticeJudgement] = field(default_factory=list)

    @property
    def has_values(self) -> bool:
        return any(s.reported for s in self.series)

    @property
    def includes_illustrative(self) -> bool:
        return (
            any(s.includes_illustrative for s in self.series)
            or any(a.is_illustrative for a in self.assessments)
            or any(p.is_illustrative for p in self.pairings)
        )


def place_targets(unit: Unit) -> PlaceTargets:
    """Every indicator's values and target status per year for the unit's place (the unit and the
    units that became it), with the place's assessments and pairings (seven queries).

    Each indicator's years run from the first to the last year the place reported it (the years
    between that it did not report are shown as such); an indicator never reported is left out.
    """
    lineage = Lineage.load([unit.pk])
    units = lineage.units_of(unit.pk)
    values = IndicatorValue.objects.filter(unit__in=units).values_list("unit", "indicator", "year", "value", "source_kind", "source")
    reported = Reports(lineage, values).of(unit.pk)
    # From its first national designation, a later withdrawal included: the years it was a
    # demonstration county are judged against the targets it was given.
    designated = Designation.objects.filter(batch__level=ProgrammeLevel.NATIONAL, unit__in=units)
    batch_years = set(designated.values_list("batch__year", flat=True))
    applies_from = min(batch_years, default=None)
    assessments = list(
        Assessment.objects.filter(designation__unit__in=units)
        .select_related("designation__batch", "designation__unit", "conditional_funding")
        .order_by("designation__batch__year", "year", "pk")
    )
    pairings = list(
        Pairing.objects.filter(unit__in=units).select_related("unit", "partner_unit").order_by("start_year", "partner_name", "pk")
    )
    series = []
    by_code: dict[int | str, dict[int, Reported]] = {}
    for indicator in Indicator.objects.order_by("position", "code"):
        by_year = reported.get(indicator.pk)
        if by_year:
            by_code[indicator.code] = by_year
            span = range(min(by_year), max(by_year) + 1)
            series.append(IndicatorSeries(indicator, [year_status(indicator, y, by_year, applies_from) for y in span]))
    # The national series only when a faster-than-national target applies and has values to judge (cached).
    compares = any(
        t.rule == NoticeRule.FASTER_THAN_NATIONAL and set(t.batches) & batch_years and t.indicator in by_code for t in NOTICE_TARGETS
    )
    national = national_rural() if compares else {}
    return PlaceTargets(applies_from, series, assessments, pairings, notice_judgements(batch_years, by_code, national))


# -- per batch and year -------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetAttainment:
    batch_year: int
    batch_sequence: int
    indicator: str
    year: int
    batch_entries: int
    reported: int
    met: int
    missed: int
    not_reported: int
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@statistics.cached
def target_attainment() -> list[TargetAttainment]:
    """Per batch, indicator with a target, and year from the batch year to the last year reported:
    how many of the batch's entries reported (both years needed) and met the target (four queries).
    """
    indicators = list(Indicator.objects.exclude(rule=TargetRule.NONE).order_by("position", "code"))
    if not indicators:
        return []
    values = list(
        IndicatorValue.objects.filter(indicator__in=indicators).values_list("unit", "indicator", "year", "value", "source_kind", "source")
    )
    if not values:
        return []
    last_year = {i: max(y for _, ind, y, *_rest in values if ind == i) for i in {v[1] for v in values}}
    entries = list(
        Designation.objects.counted()
        .order_by("batch__year", "batch__sequence", "unit__key", "pk")
        .values_list("unit", "batch__year", "batch__sequence")
    )
    lineage = Lineage.load()
    reports = Reports(lineage, values)
    batches: dict[tuple[int, int], list[int]] = defaultdict(list)
    for unit, year, sequence in entries:
        batches[(year, sequence)].append(unit)
    rows = []
    for (batch_year, sequence), units in batches.items():
        for indicator in indicators:
            for year in range(batch_year, last_year.get(indicator.pk, batch_year - 1) + 1):
                # Each entry is judged as the place it was at the end of the year; its targets apply
                # from its batch year.
                statuses = [
                    year_status(indicator, year, reports.of(lineage.place_as_of(u, year)).get(indicator.pk, {}), batch_year) for u in units
                ]
                met = sum(s.status == MET for s in statuses)
                missed = sum(s.status == MISSED for s in statuses)
                rows.append(
                    TargetAttainment(
                        batch_year=batch_year,
                        batch_sequence=sequence,
                        indicator=indicator.code,
                        year=year,
                        batch_entries=len(units),
                        reported=met + missed,
                        met=met,
                        missed=missed,
                        not_reported=sum(s.status == NOT_REPORTED for s in statuses),
                        includes_illustrative=any(s.source_kind == SourceKind.ILLUSTRATIVE for s in statuses),
                    )
                )
    return rows


@dataclass(frozen=True)
class NoticeAttainment:
    """Per notice target and batch it covers: how many of the batch's entries reported what it is
    judged on, and met it."""

    target: str
    batch_year: int
    batch_sequence: int
    batch_entries: int
    reported: int
    met: int
    missed: int
    not_reported: int
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def notice_target(self) -> NoticeTarget:
        return next(t for t in NOTICE_TARGETS if t.code == self.target)


@statistics.cached
def notice_attainment() -> list[NoticeAttainment]:
    """Each notice target for each batch it covers (three queries). An entry is judged as the place
    it had become by the end of the target's deadline, or of the last year reported (the place rule
    of coverage), with the values of every unit of that place."""
    codes = {t.indicator for t in NOTICE_TARGETS} | {t.denominator for t in NOTICE_TARGETS if t.denominator}
    values = list(
        IndicatorValue.objects.filter(indicator__code__in=codes).values_list(
            "unit", "indicator__code", "year", "value", "source_kind", "source"
        )
    )
    covered = sorted({year for t in NOTICE_TARGETS for year in t.batches})
    entries = list(
        Designation.objects.counted()
        .filter(batch__year__in=covered)
        .order_by("batch__year", "batch__sequence", "unit__key", "pk")
        .values_list("unit", "batch__year", "batch__sequence")
    )
    if not entries:
        return []
    lineage = Lineage(statistics.Programme.current().resolver)
    reports = Reports(lineage, values)
    last_year = max((year for _u, _c, year, *_rest in values), default=covered[-1])
    national = national_rural()
    batches: dict[tuple[int, int], list[int]] = defaultdict(list)
    for unit, year, sequence in entries:
        batches[(year, sequence)].append(unit)
    rows = []
    for target in NOTICE_TARGETS:
        for (batch_year, sequence), units in batches.items():
            if batch_year not in target.batches:
                continue
            as_of = target.by_year or max(last_year, batch_year)
            judged = [judge_notice_target(target, batch_year, reports.of(lineage.place_as_of(u, as_of)), national) for u in units]
            illustrative = False
            for u in units:
                table = reports.of(lineage.place_as_of(u, as_of))
                kinds = {r.source_kind for code in (target.indicator, target.denominator) for r in table.get(code, {}).values()}
                illustrative |= SourceKind.ILLUSTRATIVE in kinds
            met = sum(j.status == MET for j in judged)
            missed = sum(j.status == MISSED for j in judged)
            rows.append(
                NoticeAttainment(
                    target=target.code,
                    batch_year=batch_year,
                    batch_sequence=sequence,
                    batch_entries=len(units),
                    reported=met + missed,
                    met=met,
                    missed=missed,
                    not_reported=sum(j.status == NOT_REPORTED for j in judged),
                    includes_illustrative=illustrative,
                )
            )
    return rows


def notice_attainment_until(as_of: int | None = None) -> list[NoticeAttainment]:
    """The rows of batches of `as_of` and earlier (every row when None)."""
    return [r for r in notice_attainment() if as_of is None or r.batch_year <= as_of]


def target_attainment_until(as_of: int | None = None) -> list[TargetAttainment]:
    """The rows of batches of `as_of` and earlier, for years up to `as_of` (every row when None):
    what was known at the end of that year, as the statistics page and its CSV show it."""
    return [r for r in target_attainment() if as_of is None or (r.batch_year <= as_of and r.year <= as_of)]


# -- assessments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentSummary:
    batch_year: int
    batch_sequence: int
    batch_entries: int
    assessed: int
    excellent: int
    passed: int
    rectify: int
    failed: int
    pending: int
    not_assessed: int
    mean_score: Decimal | None
    conditional_funding_yuan: Decimal
    conditional_funding_released_yuan: Decimal
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@statistics.cached
def assessment_summary() -> list[AssessmentSummary]:
    """Per batch: its entries by the result of their latest assessment, the mean score where given,
    and the funding that depended on a result and how much of it the results released (3 queries)."""
    sizes = dict(Designation.objects.counted().values("batch").annotate(n=Count("pk")).order_by().values_list("batch", "n"))
    latest: dict[int, tuple[int, str, Decimal | None, str, Decimal | None]] = {}
    rows = (
        Assessment.objects.filter(designation__in=Designation.objects.counted())
        .order_by("designation", "year", "pk")
        .values_list("designation", "designation__batch", "year", "result", "score", "source_kind", "conditional_funding__amount")
    )
    by_batch_funding: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for designation, batch, _year, result, score, kind, amount in rows:
        latest[designation] = (batch, result, score, kind, amount)  # ordered by year: the last one wins
        if amount is not None:
            by_batch_funding[batch].append((result, amount))
    per_batch: dict[int, list[tuple[str, Decimal | None, str]]] = defaultdict(list)
    for batch, result, score, kind, _amount in latest.values():
        per_batch[batch].append((result, score, kind))
    summary = []
    for row in Batch.objects.filter(level=ProgrammeLevel.NATIONAL).order_by("year", "sequence").values("pk", "year", "sequence"):
        results = per_batch.get(row["pk"], [])
        scores = [score for _r, score, _k in results if score is not None]
        funding = by_batch_funding.get(row["pk"], [])
        counts = {choice: sum(r == choice for r, _s, _k in results) for choice in AssessmentResult.values}
        size = sizes.get(row["pk"], 0)
        summary.append(
            AssessmentSummary(
                batch_year=row["year"],
                batch_sequence=row["sequence"],
                batch_entries=size,
                assessed=len(results),
                excellent=counts[AssessmentResult.EXCELLENT],
                passed=counts[AssessmentResult.PASSED],
                rectify=counts[AssessmentResult.RECTIFY],
                failed=counts[AssessmentResult.FAILED],
                pending=counts[AssessmentResult.PENDING],
                not_assessed=size - len(results),
                mean_score=numbers.rounded(sum(scores, Decimal(0)) / len(scores), 1) if scores else None,
                conditional_funding_yuan=numbers.yuan(sum(a for _r, a in funding)),
                conditional_funding_released_yuan=numbers.yuan(sum(a for r, a in funding if r in PASSING_RESULTS)),
                includes_illustrative=any(k == SourceKind.ILLUSTRATIVE for _r, _s, k in results),
            )
        )
    return summary


# -- the three full coverages ----------------------------------------------------------------------


@dataclass(frozen=True)
class ThreeCoverages:
    as_of: int
    poverty_counties_total: int
    demonstration_covered: int
    demonstration_coverage_pct: Decimal | None
    village_reporting_counties: int
    poor_villages: Decimal
    poor_villages_covered: Decimal
    village_coverage_pct: Decimal | None
    platform_covered: int
    platform_coverage_pct: Decimal | None
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def three_coverages(as_of: int | None = None) -> ThreeCoverages:
    return _three_coverages(statistics.resolve_as_of(as_of))


@statistics.cached
def _three_coverages(as_of: int) -> ThreeCoverages:
    demonstration = statistics.coverage(as_of)
    # Platform coverage: a poverty county is covered when its place as of the year is the place of
    # a paired unit then (the place rule of coverage: a pairing with a unit that merged into it
    # later counts from the merger on).
    # The place rule and the poverty counties from the rows coverage has loaded for this data
    # token (not a query each per year: the statistics page reads every year).
    programme = statistics.Programme.current()
    lineage = Lineage(programme.resolver)
    pairings = list(Pairing.objects.filter(start_year__lte=as_of).values_list("unit", "source_kind"))
    paired = {lineage.place_as_of(unit, as_of) for unit, _kind in pairings}
    paired_illustrative = {lineage.place_as_of(unit, as_of) for unit, kind in pairings if kind == SourceKind.ILLUSTRATIVE}
    poverty_places = [lineage.place_as_of(county.unit, as_of) for county in programme.poverty]
    platform = {
        "covered": sum(1 for place in poverty_places if place in paired),
        "illustrative": sum(1 for place in poverty_places if place in paired_illustrative),
    }
    total = demonstration.poverty_counties_total

    # Villages: per distinct poverty place as of the year (two poverty counties that merged are one
    # place), its latest year up to as_of reporting both figures.
    values = IndicatorValue.objects.filter(indicator__code__in=(POOR_VILLAGES, POOR_VILLAGES_COVERED), year__lte=as_of).values_list(
        "unit", "indicator__code", "year", "value", "source_kind", "source"
    )
    reports = Reports(lineage, values)
    places = set(poverty_places) & reports.reporting_places()  # the others reported nothing
    villages = covered = Decimal(0)
    reporting, village_illustrative = 0, False
    for place in places:
        table = reports.of(place)
        totals, covers = table.get(POOR_VILLAGES, {}), table.get(POOR_VILLAGES_COVERED, {})
        for year in sorted(set(totals) & set(covers), reverse=True):
            villages_then, covered_then = totals[year].value, covers[year].value
            if villages_then is None or covered_then is None:  # several units reported that year: no one figure
                continue
            reporting += 1
            villages += villages_then
            covered += covered_then
            village_illustrative |= SourceKind.ILLUSTRATIVE in (totals[year].source_kind, covers[year].source_kind)
            break
    return ThreeCoverages(
        as_of=as_of,
        poverty_counties_total=total,
        demonstration_covered=demonstration.poverty_counties_covered,
        demonstration_coverage_pct=demonstration.poverty_coverage_pct,
        village_reporting_counties=reporting,
        poor_villages=villages,
        poor_villages_covered=covered,
        village_coverage_pct=numbers.percentage(covered, villages),
        platform_covered=platform["covered"],
        # No pairing recorded at all: the measure is not recorded, not 0.0%.
        platform_coverage_pct=numbers.percentage(platform["covered"], total) if pairings else None,
        includes_illustrative=demonstration.includes_illustrative or village_illustrative or platform["illustrative"] > 0,
    )


# -- the service system (两中心一站点) ---------------------------------------------------------------

CENTRE, LOGISTICS, STATIONS = "public_service_centre", "logistics_centre", "village_service_stations"
# Published national totals of the service system (programme figures, data/programme_facts.csv).
SERVICE_SYSTEM_METRICS = {
    "county logistics distribution centres built or upgraded (national total)": _("County logistics centres built or upgraded"),
    "village e-commerce and express service stations (national total)": _("Village e-commerce and express service stations"),
    "county e-commerce public service centres and logistics distribution centres (national total)": _(
        "County public service centres and logistics centres, together"
    ),
}


@dataclass(frozen=True)
class ServiceMeasure:
    """One part of the service system at the end of a year: the places that reported it (their
    latest year up to then) and what they reported, added up (centres in operation, or stations)."""

    indicator: str
    reporting_counties: int
    total: Decimal | None  # None: not recorded (no place reported)
    includes_illustrative: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ServiceSystem:
    """The county public service centre, the county logistics centre and the village stations
    (两中心一站点): a service system, a measure of its own, not one of the three full coverages."""

    as_of: int
    public_service_centres: ServiceMeasure
    logistics_centres: ServiceMeasure
    village_stations: ServiceMeasure

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def measures(self) -> list[ServiceMeasure]:
        return [self.public_service_centres, self.logistics_centres, self.village_stations]

    @property
    def includes_illustrative(self) -> bool:
        return any(m.includes_illustrative for m in self.measures)


def service_system(as_of: int | None = None) -> ServiceSystem:
    return _service_system(statistics.resolve_as_of(as_of))


@statistics.cached
def _service_system(as_of: int) -> ServiceSystem:
    """Per part, over the places (as of the year) that reported it: each place's latest value up to
    the year (a centre is 1 when in operation, 0 when not), added up (one query)."""
    lineage = Lineage(statistics.Programme.current().resolver)
    values = IndicatorValue.objects.filter(indicator__code__in=(CENTRE, LOGISTICS, STATIONS), year__lte=as_of).values_list(
        "unit", "indicator__code", "year", "value", "source_kind", "source"
    )
    reports = Reports(lineage, values)
    places = {lineage.place_as_of(unit, as_of) for unit in reports.by_unit}

    def measure(code: str) -> ServiceMeasure:
        total, counties, illustrative = Decimal(0), 0, False
        for place in places:
            by_year = reports.of(place).get(code, {})
            latest = [by_year[y] for y in sorted(by_year, reverse=True) if not by_year[y].several][:1]
            if latest and latest[0].value is not None:
                counties += 1
                total += latest[0].value
                illustrative |= latest[0].source_kind == SourceKind.ILLUSTRATIVE
        return ServiceMeasure(code, counties, total if counties else None, illustrative)

    return ServiceSystem(as_of, measure(CENTRE), measure(LOGISTICS), measure(STATIONS))


@dataclass(frozen=True)
class PublishedTotal:
    fact: ProgrammeFact
    label: str


def service_system_published() -> list[PublishedTotal]:
    """The published national totals of the service system, each with its source and a label in
    the reader's language (one query)."""
    return [PublishedTotal(fact, str(SERVICE_SYSTEM_METRICS[fact.metric])) for fact in _service_system_facts()]


@statistics.cached
def _service_system_facts() -> list[ProgrammeFact]:
    # Cached without their labels: a label is read in the reader's language, not the first reader's.
    return list(ProgrammeFact.objects.filter(metric__in=SERVICE_SYSTEM_METRICS).order_by("period", "fact_id"))


@statistics.cached
def three_coverages_series() -> list[ThreeCoverages]:
    return [_three_coverages(year) for year in range(FIRST_PROGRAMME_YEAR, statistics.latest_batch_year() + 1)]


def three_coverages_series_until(as_of: int | None = None) -> list[ThreeCoverages]:
    """The series up to the end of `as_of` (every year when None), as the statistics page shows it."""
    return [c for c in three_coverages_series() if as_of is None or c.as_of <= as_of]


# -- the national series ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalPoint:
    series: str
    year: int
    trillion_yuan: Decimal
    published_trillion_yuan: Decimal
    fact_id: str
    source: str
    source_kind: str
    note: str
    note_zh: str
    # Which definition the figure follows (rural series: before or from the 2016 break; "" for the 832's).
    definition: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def definition_label(self) -> str:
        return str(DEFINITION_LABELS.get(self.definition, ""))


def national_definition(series: str, year: int) -> str:
    """The rural series' definition in `year` (the 2016 break); "" for a series without one."""
    if series != RURAL:
        return ""
    return FROM_BREAK if year >= NATIONAL_BREAK_YEAR else BEFORE_BREAK


@statistics.cached
def national_series() -> list[NationalPoint]:
    """Rural online retail sales, and the 832 poverty counties' online retail sales, as published
    (programme figures loaded from data/programme_facts.csv), each point with its source and, for
    the rural series, its definition (`NATIONAL_BREAK_YEAR`). A year with no figure here is "not
    recorded here", not "not published".

    `trillion_yuan` is the published value rounded half up to three decimals (0.89454 → 0.895);
    `published_trillion_yuan` is the value as the source gives it.
    """
    points = []
    facts = ProgrammeFact.objects.filter(metric__in=NATIONAL_METRICS, value__isnull=False, value_unit="trillion CNY")
    for fact in facts.order_by("metric", "period", "fact_id"):
        if fact.value is None or not fact.period[:4].isdigit():
            continue
        points.append(
            NationalPoint(
                series=NATIONAL_METRICS[fact.metric],
                year=int(fact.period[:4]),
                trillion_yuan=numbers.rounded(fact.value, 3).normalize(),
                published_trillion_yuan=fact.value.normalize(),
                fact_id=fact.fact_id,
                source=fact.source,
                source_kind=fact.source_kind,
                note=fact.source_note,
                note_zh=fact.source_note_zh,
                definition=national_definition(NATIONAL_METRICS[fact.metric], int(fact.period[:4])),
            )
        )
    return sorted(points, key=lambda p: (p.series != RURAL, p.year))


def national_series_until(as_of: int | None = None) -> list[NationalPoint]:
    """The published points up to `as_of` (every year when None), as the statistics page shows them."""
    return [p for p in national_series() if as_of is None or p.year <= as_of]


def indicator_names() -> dict[str, Indicator]:
    """The catalogue by code, for labelling rows that name an indicator by its code (one query)."""
    return {i.code: i for i in Indicator.objects.order_by("position", "code")}


# -- the flat tables `coverage_report` prints ----------------------------------------------------------

REPORT_SECTIONS = ("three_coverages", "service_system", "targets", "notice_targets", "assessments", "national")


def report_rows(section: str, as_of: int) -> list[dict[str, Any]]:
    if section == "three_coverages":
        return [three_coverages(as_of).as_dict()]
    if section == "service_system":
        return [{"as_of": as_of, **m.as_dict()} for m in service_system(as_of).measures]
    if section == "targets":
        return [row.as_dict() for row in target_attainment()]
    if section == "notice_targets":
        return [row.as_dict() for row in notice_attainment()]
    if section == "assessments":
        return [row.as_dict() for row in assessment_summary()]
    return [point.as_dict() for point in national_series()]
