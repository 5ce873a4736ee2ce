"""Views of targets and results: the indicator catalogue, values, assessments and pairings (read-only;
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

from counties.api.serializers.targets import (
    AssessmentSerializer,
    AssessmentSummarySerializer,
    IndicatorSerializer,
    IndicatorValueSerializer,
    NationalPointSerializer,
    NoticeAttainmentSerializer,
    PairingSerializer,
    PlaceTargetsSerializer,
    ServiceSystemSerializer,
    TargetAttainmentSerializer,
    ThreeCoveragesSerializer,
)
from counties.api.views.statistics import AS_OF, UNTIL, StatisticsView
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads import places
from counties.reads.filtersets.targets import AssessmentFilterSet, IndicatorFilterSet, IndicatorValueFilterSet, PairingFilterSet
from counties.reads.statistics import targets


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


class CountyTargetsView(StatisticsView):
    @extend_schema(
        summary="A county's target status per indicator and year",
        description="The place the code names today (an old code gives its successor's place), with every code it had.",
        responses=PlaceTargetsSerializer,
    )
    def get(self, request: Request, key: str) -> Response:
        place = places.place_named(key)
        if place is None:
            raise Http404(_("No county-level unit has the code %(code)s.") % {"code": key})
        result = targets.place_targets(place)
        data = {
            "code": place.key,
            "designated_from": result.designated_from,
            "series": result.series,
            "notice_targets": result.notice_targets,
        }
        return Response(PlaceTargetsSerializer({**data, "includes_illustrative": result.includes_illustrative}).data)


class ThreeCoveragesView(StatisticsView):
    @extend_schema(summary="The three full coverages as of a year", parameters=[AS_OF], responses=ThreeCoveragesSerializer)
    def get(self, request: Request) -> Response:
        return Response(ThreeCoveragesSerializer(targets.three_coverages(self.as_of(request))).data)


class ThreeCoveragesSeriesView(StatisticsView):
    @extend_schema(
        summary="The three full coverages at the end of every year", parameters=[UNTIL], responses=ThreeCoveragesSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(ThreeCoveragesSerializer(targets.three_coverages_series_until(self.until(request)), many=True).data)


class ServiceSystemView(StatisticsView):
    @extend_schema(
        summary="The service system (两中心一站点) as of a year: what the reporting counties reported, added up",
        parameters=[AS_OF],
        responses=ServiceSystemSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(ServiceSystemSerializer(targets.service_system(self.as_of(request))).data)


INDICATOR = OpenApiParameter("indicator", OpenApiTypes.STR, description="Only this indicator (catalogue code).")


class TargetAttainmentView(StatisticsView):
    query_names = frozenset({"as_of", "indicator"})

    @extend_schema(
        summary="Target attainment per batch, indicator and year",
        parameters=[INDICATOR, UNTIL],
        responses=TargetAttainmentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows: list[Any] = targets.target_attainment_until(self.until(request))
        code = request.query_params.get("indicator")
        if code:
            if not Indicator.objects.filter(code=code).exists():
                raise serializers.ValidationError({"indicator": [_("%(code)s is not an indicator of the catalogue.") % {"code": code}]})
            rows = [r for r in rows if r.indicator == code]
        return Response(TargetAttainmentSerializer(rows, many=True).data)


class NoticeAttainmentView(StatisticsView):
    @extend_schema(
        summary="The 2018 and 2019 notices' targets per batch they cover: entries that reported and met each",
        parameters=[UNTIL],
        responses=NoticeAttainmentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(NoticeAttainmentSerializer(targets.notice_attainment_until(self.until(request)), many=True).data)


class AssessmentStatisticsView(StatisticsView):
    @extend_schema(summary="Assessment results per batch", responses=AssessmentSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(AssessmentSummarySerializer(targets.assessment_summary(), many=True).data)


class NationalSeriesView(StatisticsView):
    @extend_schema(
        summary="National online retail sales as published, each point with its source",
        parameters=[UNTIL],
        responses=NationalPointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(NationalPointSerializer(targets.national_series_until(self.until(request)), many=True).data)
