"""API for targets and results: the indicator catalogue, values, assessments and pairings (read-only;
staff write them in the admin or by import), a county's target status per year, and the statistics
(three full coverages, attainment by batch, assessment results, the national series). Every number
comes from `counties.reads.statistics.targets`, as on the pages and in `coverage_report`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from counties.api.serializers import PCT, PROVENANCE_FIELDS, YUAN
from counties.api.views import AS_OF, StatisticsView
from counties.models import Unit
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads.filtersets.targets import AssessmentFilterSet, IndicatorFilterSet, IndicatorValueFilterSet, PairingFilterSet
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
            "result",
            "score",
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


@extend_schema_view(list=extend_schema(summary="Indicator catalogue"), retrieve=extend_schema(summary="One indicator by code"))
class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    lookup_field = "code"
    lookup_value_regex = "[-a-z0-9_]+"
    queryset = Indicator.objects.order_by("position", "code", "pk")


@extend_schema_view(list=extend_schema(summary="Indicator values (per unit and year, as reported)"))
class IndicatorValueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorValueSerializer
    filterset_class = IndicatorValueFilterSet
    queryset = IndicatorValue.objects.select_related("unit", "indicator").order_by("unit__key", "indicator__position", "year", "pk")


@extend_schema_view(list=extend_schema(summary="Assessments of designations"))
class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    queryset = Assessment.objects.select_related("designation__unit", "designation__batch", "conditional_funding").order_by(
        "designation__batch__year", "designation__unit__key", "year", "pk"
    )


@extend_schema_view(list=extend_schema(summary="Pairings with poverty counties"))
class PairingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PairingSerializer
    filterset_class = PairingFilterSet
    queryset = Pairing.objects.select_related("unit", "partner_unit").order_by("unit__key", "start_year", "partner_name", "pk")


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


class IndicatorSeriesSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code")
    rule = serializers.CharField(source="indicator.rule")
    rule_threshold_pct = serializers.DecimalField(source="indicator.rule_threshold_pct", max_digits=6, decimal_places=2, allow_null=True)
    years = YearStatusSerializer(many=True)


class PlaceTargetsSerializer(serializers.Serializer):
    code = serializers.CharField()
    designated_from = serializers.IntegerField(allow_null=True)
    series = IndicatorSeriesSerializer(many=True)
    includes_illustrative = serializers.BooleanField()


class CountyTargetsView(StatisticsView):
    @extend_schema(
        summary="A county's target status per indicator and year",
        description="The place the code names today (an old code gives its successor's place), with every code it had.",
        responses=PlaceTargetsSerializer,
    )
    def get(self, request: Request, key: str) -> Response:
        unit = Unit.objects.select_related("current").filter(key=key).first()
        if unit is None:
            raise Http404(_("No county-level unit has the code %(code)s.") % {"code": key})
        place = unit.current or unit
        result = targets.place_targets(place)
        data = {"code": place.key, "designated_from": result.designated_from, "series": result.series}
        return Response(PlaceTargetsSerializer({**data, "includes_illustrative": result.includes_illustrative}).data)


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
    platform_coverage_pct = serializers.DecimalField(**PCT)
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


class ThreeCoveragesView(StatisticsView):
    @extend_schema(summary="The three full coverages as of a year", parameters=[AS_OF], responses=ThreeCoveragesSerializer)
    def get(self, request: Request) -> Response:
        return Response(ThreeCoveragesSerializer(targets.three_coverages(self.as_of(request))).data)


class ThreeCoveragesSeriesView(StatisticsView):
    @extend_schema(summary="The three full coverages at the end of every year", responses=ThreeCoveragesSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ThreeCoveragesSerializer(targets.three_coverages_series(), many=True).data)


INDICATOR = OpenApiParameter("indicator", OpenApiTypes.STR, description="Only this indicator (catalogue code).")


class TargetAttainmentView(StatisticsView):
    @extend_schema(
        summary="Target attainment per batch, indicator and year", parameters=[INDICATOR], responses=TargetAttainmentSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        rows: list[Any] = targets.target_attainment()
        code = request.query_params.get("indicator")
        if code:
            if not Indicator.objects.filter(code=code).exists():
                raise serializers.ValidationError({"indicator": [_("%(code)s is not an indicator of the catalogue.") % {"code": code}]})
            rows = [r for r in rows if r.indicator == code]
        return Response(TargetAttainmentSerializer(rows, many=True).data)


class AssessmentStatisticsView(StatisticsView):
    @extend_schema(summary="Assessment results per batch", responses=AssessmentSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(AssessmentSummarySerializer(targets.assessment_summary(), many=True).data)


class NationalSeriesView(StatisticsView):
    @extend_schema(
        summary="National online retail sales as published, each point with its source", responses=NationalPointSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(NationalPointSerializer(targets.national_series(), many=True).data)
