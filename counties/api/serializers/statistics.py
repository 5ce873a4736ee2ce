"""Serializers of the statistics (`counties.reads.statistics`): the as-of parameter and each
statistic's row, as the API gives them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from counties.models import LAST_PLAUSIBLE_YEAR, as_of_year

PCT: dict[str, Any] = {"max_digits": 5, "decimal_places": 1, "allow_null": True}
YUAN: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.IntegerField(required=False, help_text="Year-end (default: the latest year with a batch).")

    def __init__(self, *args: Any, latest: int = LAST_PLAUSIBLE_YEAR, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest = latest

    def validate_as_of(self, value: int) -> int:
        return as_of_year(value, self.latest)


class CoverageSerializer(serializers.Serializer):
    as_of = serializers.IntegerField()
    batch_entries = serializers.IntegerField(help_text="Designations in batches up to as_of (withdrawn ones excluded).")
    designated_units = serializers.IntegerField(help_text="Distinct units (codes) among them, retired codes included.")
    demonstration_counties = serializers.IntegerField(help_text="Distinct places as of the end of as_of among them.")
    new_entries = serializers.IntegerField(help_text="Designations recorded in the batches of as_of; read with the two fields below.")
    new_entries_published = serializers.IntegerField(
        allow_null=True, help_text="The published size of the batches of as_of; null: not recorded (or no batch that year)."
    )
    new_entries_known_in_part = serializers.BooleanField(
        help_text="The batches of as_of are known only in part: new_entries is what is recorded so far, not the batch's size."
    )
    repeat_designations = serializers.IntegerField()
    poverty_counties_total = serializers.IntegerField()
    poverty_counties_covered = serializers.IntegerField()
    poverty_coverage_pct = serializers.DecimalField(**PCT)
    includes_illustrative = serializers.BooleanField()


class BatchStatisticsSerializer(serializers.Serializer):
    """A national batch (provincial batches are never counted with them)."""

    year = serializers.IntegerField()
    sequence = serializers.IntegerField()
    title_zh = serializers.CharField()
    title_en = serializers.CharField()
    published_size = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField(help_text="Batch entries recorded (withdrawn designations excluded).")
    illustrative_entries = serializers.IntegerField()
    poverty_counties = serializers.IntegerField()
    poverty_share_pct = serializers.DecimalField(**PCT)
    min_poverty_share_pct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    meets_rule = serializers.BooleanField(allow_null=True)
    old_revolutionary_base_counties = serializers.IntegerField()
    provinces = serializers.IntegerField()
    central_funds_total_yuan = serializers.DecimalField(**YUAN, allow_null=True)
    central_funds_per_county_yuan = serializers.DecimalField(**YUAN, allow_null=True, help_text="Published per-county amount only.")
    central_funds_per_county_derived_yuan = serializers.DecimalField(
        **YUAN,
        allow_null=True,
        help_text="DERIVED by the registry, not published: the published total over the published size, where no "
        "per-county amount is published.",
    )
    central_funds_allocated_yuan = serializers.DecimalField(**YUAN)
    roster_complete = serializers.BooleanField()
    known_in_part = serializers.BooleanField(help_text="Known only in part (fewer recorded than published, or size not recorded).")
    includes_illustrative = serializers.BooleanField()
    # The outcomes of the batch's designations (withdrawn ones included); one may count under several.
    outcome_assessed = serializers.IntegerField(help_text="Designations with an assessment result (not pending).")
    outcome_passed = serializers.IntegerField(help_text="Of which the latest result passed (excellent or passed).")
    outcome_rectify = serializers.IntegerField(help_text="Of which the latest result was to rectify.")
    outcome_failed = serializers.IntegerField(help_text="Of which the latest result failed.")
    outcome_accepted = serializers.IntegerField(help_text="Designations whose acceptance (验收) is recorded.")
    outcome_withdrawn = serializers.IntegerField(help_text="Designations whose withdrawal (退出) is recorded.")
    outcome_not_recorded = serializers.IntegerField(help_text="Designations with no assessment result, acceptance or withdrawal recorded.")
    funds_withheld_yuan = serializers.DecimalField(
        **YUAN, allow_null=True, help_text="Central funds withheld, as the designations' lifecycle records state; null: none recorded."
    )
    funds_recovered_yuan = serializers.DecimalField(
        **YUAN, allow_null=True, help_text="Central funds recovered, as the designations' lifecycle records state; null: none recorded."
    )


class ProvinceStatisticsSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    short_name_zh = serializers.CharField()
    short_name_en = serializers.CharField()
    county_level_units = serializers.IntegerField(
        help_text="County-level units in use at the year-end, including those in `units_outside_official_count`."
    )
    units_outside_official_count = serializers.IntegerField(
        help_text="Of which the official count of county-level divisions leaves out: units with no county-level code "
        "(青海's 大柴旦行委: 45 units = 44 official + 1) and a city without districts a county became (海南's 儋州市 460400)."
    )
    poverty_counties = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    demonstration_counties = serializers.IntegerField()
    poverty_demonstration_counties = serializers.IntegerField(
        help_text="Of which places that are, or hold, a poverty county: a count of places, never more than "
        "`demonstration_counties` (茫崖市, which two poverty counties merged into, is one here and two in "
        "`poverty_counties_covered`)."
    )
    poverty_counties_covered = serializers.IntegerField()
    poverty_coverage_pct = serializers.DecimalField(**PCT)
    funds_yuan = serializers.DecimalField(**YUAN, allow_null=True, help_text="Funding recorded; null: none recorded for the province.")
    includes_illustrative = serializers.BooleanField()


class FundingTotalSerializer(serializers.Serializer):
    key = serializers.CharField()
    total_yuan = serializers.DecimalField(**YUAN)
    allocations = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()


class FundingStatisticsSerializer(serializers.Serializer):
    total_yuan = serializers.DecimalField(**YUAN)
    by_year = FundingTotalSerializer(many=True)
    by_province = FundingTotalSerializer(many=True)
    by_level = FundingTotalSerializer(many=True)
    by_source_kind = FundingTotalSerializer(many=True)
    includes_illustrative = serializers.BooleanField()


class ExitStatisticsSerializer(serializers.Serializer):
    exit_year = serializers.IntegerField(allow_null=True)
    poverty_counties = serializers.IntegerField()
    designated_before_exit = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()
