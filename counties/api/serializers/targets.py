"""Serializers of targets and results: the indicator catalogue, values, assessments and pairings,
a county's target status per year, and the statistics of `counties.reads.statistics.targets`."""

from __future__ import annotations

from rest_framework import serializers

from counties.api.serializers.records import PROVENANCE_FIELDS
from counties.api.serializers.statistics import PCT, YUAN
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads.statistics import targets

# -- records ------------------------------------------------------------------------------------


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "unit_zh",
            "unit_en",
            "higher_is_better",
            "rule",
            "rule_threshold_pct",
            "rule_source",
            "position",
        ]


class IndicatorValueSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="unit.key", read_only=True)
    indicator: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = ["id", "code", "indicator", "year", "value", *PROVENANCE_FIELDS, "updated_at"]


class AssessmentSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="designation.unit.key", read_only=True)
    batch_year = serializers.IntegerField(source="designation.batch.year", read_only=True)
    batch_sequence = serializers.IntegerField(source="designation.batch.sequence", read_only=True)
    conditional_funding_yuan = serializers.DecimalField(source="conditional_funding.amount", read_only=True, allow_null=True, **YUAN)
    releases_funding = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "code",
            "batch_year",
            "batch_sequence",
            "year",
            "date",
            "result",
            "score",
            "grade",
            "document_number",
            "document_url",
            "conditional_funding",
            "conditional_funding_yuan",
            "releases_funding",
            *PROVENANCE_FIELDS,
            "updated_at",
        ]


class PairingSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="unit.key", read_only=True)
    partner_code = serializers.CharField(source="partner_unit.key", read_only=True, allow_null=True)

    class Meta:
        model = Pairing
        fields = ["id", "code", "partner_name", "partner_kind", "partner_code", "start_year", "end_year", *PROVENANCE_FIELDS, "updated_at"]


# -- a county's targets ----------------------------------------------------------------------------


class YearStatusSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    growth_pct = serializers.DecimalField(**PCT)
    # Not an enum field: a second "status" enum would rename the designations' one in the schema.
    status = serializers.CharField(help_text="Target status: " + ", ".join(targets.STATUS_LABELS))
    reason = serializers.CharField(help_text="Why a year is not met or missed: " + ", ".join(targets.REASON_LABELS))
    source_kind = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named source: DRF's metaclass takes it off the class
    base_year = serializers.IntegerField(allow_null=True, help_text="Growth rule: the base year (the year before the batch).")
    average_growth_pct = serializers.DecimalField(
        **PCT, help_text="Growth rule: the compound average annual growth from the base year to this year, which judges it."
    )


class IndicatorSeriesSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code")
    rule = serializers.CharField(source="indicator.rule")
    rule_threshold_pct = serializers.DecimalField(source="indicator.rule_threshold_pct", max_digits=6, decimal_places=2, allow_null=True)
    years = YearStatusSerializer(many=True)
    judgement = YearStatusSerializer(
        allow_null=True, help_text="The series' judgement: its last year reported once the targets apply (null when none)."
    )


class NoticeJudgementSerializer(serializers.Serializer):
    target = serializers.CharField(source="target.code")
    indicator = serializers.CharField(source="target.indicator")
    denominator = serializers.CharField(source="target.denominator", help_text="A coverage: the indicator it is a share of.")
    rule = serializers.CharField(source="target.rule", help_text="at_least, at_most or faster_than_national")
    threshold = serializers.DecimalField(source="target.threshold", max_digits=8, decimal_places=2, allow_null=True)
    by_year = serializers.IntegerField(source="target.by_year", allow_null=True)
    notice = serializers.CharField(source="target.source")
    notice_url = serializers.CharField(source="target.source_url")
    batch_year = serializers.IntegerField()
    status = serializers.CharField(help_text="met, missed, not_reported or not_applicable")
    reason = serializers.CharField()
    value = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True, help_text="The value judged (a % for a share).")
    year = serializers.IntegerField(allow_null=True)
    national_growth_pct = serializers.DecimalField(source="national_pct", **PCT)


class PlaceTargetsSerializer(serializers.Serializer):
    code = serializers.CharField()
    designated_from = serializers.IntegerField(allow_null=True)
    series = IndicatorSeriesSerializer(many=True)
    notice_targets = NoticeJudgementSerializer(many=True)
    includes_illustrative = serializers.BooleanField()


# -- statistics --------------------------------------------------------------------------------------


class ThreeCoveragesSerializer(serializers.Serializer):
    as_of = serializers.IntegerField()
    poverty_counties_total = serializers.IntegerField()
    demonstration_covered = serializers.IntegerField()
    demonstration_coverage_pct = serializers.DecimalField(**PCT)
    village_reporting_counties = serializers.IntegerField()
    poor_villages = serializers.DecimalField(max_digits=20, decimal_places=4)
    poor_villages_covered = serializers.DecimalField(max_digits=20, decimal_places=4)
    village_coverage_pct = serializers.DecimalField(**PCT)
    platform_covered = serializers.IntegerField()
    platform_coverage_pct = serializers.DecimalField(**PCT, help_text="null: no pairing recorded (not 0.0).")
    includes_illustrative = serializers.BooleanField()


class ServiceMeasureSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    reporting_counties = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=24, decimal_places=4, allow_null=True, help_text="null: not recorded.")
    includes_illustrative = serializers.BooleanField()


class ServiceSystemSerializer(serializers.Serializer):
    as_of = serializers.IntegerField()
    public_service_centres = ServiceMeasureSerializer()
    logistics_centres = ServiceMeasureSerializer()
    village_stations = ServiceMeasureSerializer()
    includes_illustrative = serializers.BooleanField()


class TargetAttainmentSerializer(serializers.Serializer):
    batch_year = serializers.IntegerField()
    batch_sequence = serializers.IntegerField()
    indicator = serializers.CharField()
    year = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    reported = serializers.IntegerField()
    met = serializers.IntegerField()
    missed = serializers.IntegerField()
    not_reported = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()


class NoticeAttainmentSerializer(serializers.Serializer):
    target = serializers.CharField(help_text="The notice target's code (see a county's targets: notice_targets).")
    batch_year = serializers.IntegerField()
    batch_sequence = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    reported = serializers.IntegerField()
    met = serializers.IntegerField()
    missed = serializers.IntegerField()
    not_reported = serializers.IntegerField()
    includes_illustrative = serializers.BooleanField()


class AssessmentSummarySerializer(serializers.Serializer):
    batch_year = serializers.IntegerField()
    batch_sequence = serializers.IntegerField()
    batch_entries = serializers.IntegerField()
    assessed = serializers.IntegerField()
    excellent = serializers.IntegerField()
    passed = serializers.IntegerField()
    rectify = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    not_assessed = serializers.IntegerField()
    mean_score = serializers.DecimalField(**PCT)
    conditional_funding_yuan = serializers.DecimalField(**YUAN)
    conditional_funding_released_yuan = serializers.DecimalField(**YUAN)
    includes_illustrative = serializers.BooleanField()


class NationalPointSerializer(serializers.Serializer):
    series = serializers.ChoiceField(choices=sorted(targets.NATIONAL_METRICS.values()))
    year = serializers.IntegerField()
    trillion_yuan = serializers.DecimalField(max_digits=12, decimal_places=3)
    published_trillion_yuan = serializers.DecimalField(max_digits=20, decimal_places=6)
    fact_id = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named source: DRF's metaclass takes it off the class
    source_kind = serializers.CharField()
    note = serializers.CharField()
    note_zh = serializers.CharField(help_text="The note in Chinese, where the reference data gives one.")
    definition = serializers.CharField(
        help_text="Rural series: before_2016 (not comparable with later years) or from_2016 (including service retail); empty otherwise."
    )
