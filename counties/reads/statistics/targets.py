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
  - *met* / *missed*: growth ≥ threshold (decided on the exact figures: 100 → 130 is exactly 30%
    and meets a ≥ 30% rule), or a rise / a fall on the year before.
  The growth figure shown is (value − previous) ÷ previous × 100, rounded half up to one decimal.
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
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from counties.models import FIRST_PROGRAMME_YEAR, Batch, Designation, ProgrammeFact, ProgrammeLevel, SourceKind, Unit
from counties.models.targets import PASSING_RESULTS, Assessment, AssessmentResult, Indicator, IndicatorValue, Pairing, TargetRule
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
NO_TARGET, NOT_DESIGNATED, NO_VALUE, NO_BASE, ZERO_BASE, SEVERAL_UNITS = (
    "no_target",
    "not_designated",
    "no_value",
    "no_previous_value",
    "zero_base",
    "several_units",
)
REASON_LABELS = {
    NO_TARGET: _("no target for this indicator"),
    NOT_DESIGNATED: _("not yet a demonstration county"),
    NO_VALUE: _("no value reported"),
    NO_BASE: _("no value for the year before"),
    ZERO_BASE: _("the year before was zero"),
    SEVERAL_UNITS: _("reported by several units before a merger"),
}

POOR_VILLAGES, POOR_VILLAGES_COVERED = "poor_villages", "poor_villages_covered"
NATIONAL_METRICS = {
    "rural online retail sales": "rural_online_retail_sales",
    "online retail sales of the 832 national poverty counties": "poverty_counties_online_retail_sales",
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


def year_status(indicator: Indicator, year: int, reported: dict[int, Reported], applies_from: int | None) -> YearStatus:
    """The status of one year of one indicator for one place (the rules are in the module docstring)."""
    current, previous = reported.get(year), reported.get(year - 1)
    value = current.value if current and not current.several else None
    base = previous.value if previous and not previous.several else None
    growth = numbers.percentage(value - base, base) if value is not None and base else None

    def result(status: str, reason: str = "") -> YearStatus:
        return YearStatus(year, value, current.source_kind if current else "", current.source if current else "", growth, status, reason)

    if indicator.rule == TargetRule.NONE:
        return result(NOT_APPLICABLE, NO_TARGET)
    if applies_from is None or year < applies_from:
        return result(NOT_APPLICABLE, NOT_DESIGNATED)
    if current is None:
        return result(NOT_REPORTED, NO_VALUE)
    if current.several or (previous is not None and previous.several):
        return result(NOT_APPLICABLE, SEVERAL_UNITS)
    if previous is None:
        return result(NOT_REPORTED, NO_BASE)
    assert value is not None and base is not None  # one report each: only several have no value
    if indicator.rule == TargetRule.GROWTH_AT_LEAST:
        if base == 0:
            return result(NOT_APPLICABLE, ZERO_BASE)
        assert indicator.rule_threshold_pct is not None  # Indicator's constraint: this rule has its threshold
        # Exact comparison, no rounding: (value − base) / base ≥ threshold / 100.
        met = (value - base) * 100 >= indicator.rule_threshold_pct * base
    elif indicator.rule == TargetRule.RISES:
        met = value > base
    else:
        met = value < base
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


@dataclass(frozen=True)
class PlaceTargets:
    designated_from: int | None
    series: list[IndicatorSeries] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    pairings: list[Pairing] = field(default_factory=list)

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
    applies_from = min(Designation.objects.counted().filter(unit__in=units).values_list("batch__year", flat=True), default=None)
    assessments = list(
        Assessment.objects.filter(designation__unit__in=units)
        .select_related("designation__batch", "designation__unit", "conditional_funding")
        .order_by("designation__batch__year", "year", "pk")
    )
    pairings = list(
        Pairing.objects.filter(unit__in=units).select_related("unit", "partner_unit").order_by("start_year", "partner_name", "pk")
    )
    series = []
    for indicator in Indicator.objects.order_by("position", "code"):
        by_year = reported.get(indicator.pk)
        if by_year:
            span = range(min(by_year), max(by_year) + 1)
            series.append(IndicatorSeries(indicator, [year_status(indicator, y, by_year, applies_from) for y in span]))
    return PlaceTargets(applies_from, series, assessments, pairings)


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
        platform_coverage_pct=numbers.percentage(platform["covered"], total),
        includes_illustrative=demonstration.includes_illustrative or village_illustrative or platform["illustrative"] > 0,
    )


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@statistics.cached
def national_series() -> list[NationalPoint]:
    """Rural online retail sales, and the 832 poverty counties' online retail sales, as published
    (programme figures loaded from data/programme_facts.csv), each point with its source.

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
            )
        )
    return sorted(points, key=lambda p: (p.series != "rural_online_retail_sales", p.year))


def national_series_until(as_of: int | None = None) -> list[NationalPoint]:
    """The published points up to `as_of` (every year when None), as the statistics page shows them."""
    return [p for p in national_series() if as_of is None or p.year <= as_of]


def indicator_names() -> dict[str, Indicator]:
    """The catalogue by code, for labelling rows that name an indicator by its code (one query)."""
    return {i.code: i for i in Indicator.objects.order_by("position", "code")}


# -- the flat tables `coverage_report` prints ----------------------------------------------------------

REPORT_SECTIONS = ("three_coverages", "targets", "assessments", "national")


def report_rows(section: str, as_of: int) -> list[dict[str, Any]]:
    if section == "three_coverages":
        return [three_coverages(as_of).as_dict()]
    if section == "targets":
        return [row.as_dict() for row in target_attainment()]
    if section == "assessments":
        return [row.as_dict() for row in assessment_summary()]
    return [point.as_dict() for point in national_series()]
