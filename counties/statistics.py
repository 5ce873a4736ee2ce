"""Coverage statistics, as defined in the design brief ("Coverage statistics: definitions").

Every door (pages, API, exports, commands) reads its numbers from here, so a number is the same
wherever it is shown. Each function runs a fixed number of aggregate queries whatever the number
of rows.

Counting rules:

* A *batch entry* is a designation that has not been withdrawn.
* *Distinct demonstration counties* are counted by the unit each designated unit has become
  (`Unit.current`), so a county designated under its old code and again under its new one is one
  county.
* A poverty county is *covered* when some designation is for the same place: its own unit, a unit
  it became, or a unit that became it (`UnitLineage`). Two units that merged later are not the
  same place before the merger, so covering one does not cover the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import Batch, Designation, DesignationStatus, PovertyStatus, SourceKind

POVERTY_COUNTIES_TOTAL = 832


def percentage(part: int, whole: int) -> Decimal | None:
    """part / whole × 100 to one decimal, rounding halves up (88.58 → 88.6)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def counted_designations(as_of: int | None = None) -> QuerySet[Designation]:
    entries = Designation.objects.counted()
    if as_of is not None:
        entries = entries.filter(batch__year__lte=as_of)
    return entries


def poverty_place_filter(designations: QuerySet[Designation]) -> Q:
    """A filter on PovertyStatus: the poverty county is the same place as one of `designations`."""
    # The designated unit is the poverty unit or a unit it became (lineage depth >= 0) ...
    later = designations.filter(unit__lineage_ancestors__ancestor=OuterRef("unit"))
    # ... or a unit that became the poverty unit.
    earlier = designations.filter(unit__lineage_descendants__descendant=OuterRef("unit"))
    return Q(Exists(later)) | Q(Exists(earlier))


def is_poverty_designation() -> Q:
    """A filter on Designation: the designated unit is the same place as one of the 832."""
    later = PovertyStatus.objects.filter(unit__lineage_descendants__descendant=OuterRef("unit"))
    earlier = PovertyStatus.objects.filter(unit__lineage_ancestors__ancestor=OuterRef("unit"))
    return Q(Exists(later)) | Q(Exists(earlier))


@dataclass(frozen=True)
class Coverage:
    as_of: int
    batch_entries: int
    demonstration_counties: int
    poverty_counties_total: int
    poverty_counties_covered: int
    poverty_coverage_pct: Decimal | None
    repeat_designations: int
    includes_illustrative: bool


def coverage(as_of: int) -> Coverage:
    """Coverage at the end of `as_of`: designations in batches up to that year only."""
    entries = counted_designations(as_of)
    totals = entries.aggregate(
        batch_entries=Count("pk"),
        demonstration_counties=Count("unit__current", distinct=True),
        illustrative=Count("pk", filter=Q(source_kind=SourceKind.ILLUSTRATIVE)),
    )
    covered = PovertyStatus.objects.filter(poverty_place_filter(entries)).count()
    return Coverage(
        as_of=as_of,
        batch_entries=totals["batch_entries"],
        demonstration_counties=totals["demonstration_counties"],
        poverty_counties_total=POVERTY_COUNTIES_TOTAL,
        poverty_counties_covered=covered,
        poverty_coverage_pct=percentage(covered, POVERTY_COUNTIES_TOTAL),
        repeat_designations=totals["batch_entries"] - totals["demonstration_counties"],
        includes_illustrative=totals["illustrative"] > 0,
    )


@dataclass(frozen=True)
class BatchComposition:
    year: int
    sequence: int
    size: int
    poverty_counties: int
    poverty_share_pct: Decimal | None
    min_poverty_share_pct: Decimal | None
    meets_rule: bool | None
    old_revolutionary_base_counties: int
    includes_illustrative: bool


def batch_composition() -> list[BatchComposition]:
    """Per batch: entries, poverty counties among them, share and whether the batch met its rule."""
    counted = ~Q(designations__status=DesignationStatus.WITHDRAWN)
    rows = (
        Batch.objects.order_by("year", "sequence")
        .annotate(
            size=Count("designations", filter=counted),
            illustrative=Count(
                "designations",
                filter=counted & Q(designations__source_kind=SourceKind.ILLUSTRATIVE),
            ),
            old_base=Count(
                "designations",
                filter=counted & Q(designations__is_old_revolutionary_base=True),
            ),
        )
        .values("pk", "year", "sequence", "size", "illustrative", "old_base", "min_poverty_share_pct")
    )
    poverty = dict(
        Designation.objects.counted()
        .filter(is_poverty_designation())
        .values("batch")
        .annotate(n=Count("pk"))
        .values_list("batch", "n")
    )
    result = []
    for row in rows:
        share = percentage(poverty.get(row["pk"], 0), row["size"])
        rule = row["min_poverty_share_pct"]
        result.append(
            BatchComposition(
                year=row["year"],
                sequence=row["sequence"],
                size=row["size"],
                poverty_counties=poverty.get(row["pk"], 0),
                poverty_share_pct=share,
                min_poverty_share_pct=rule,
                # Compare the exact ratio, not the rounded share: 49.96% does not meet a 50% rule.
                meets_rule=None if rule is None or not row["size"] else poverty.get(row["pk"], 0) * 100 >= rule * row["size"],
                old_revolutionary_base_counties=row["old_base"],
                includes_illustrative=row["illustrative"] > 0,
            )
        )
    return result
