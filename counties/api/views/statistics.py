"""Views of the statistics: each answers with one statistic of `counties.reads.statistics`, the
same numbers as the pages and `coverage_report`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from counties.api.serializers import statistics as s
from counties.models import FIRST_PROGRAMME_YEAR, Batch
from counties.reads import statistics


class StatisticsView(APIView):
    """Statistics come from counties.statistics, the same numbers as the pages and coverage_report."""

    filter_backends: list[Any] = []
    query_names = frozenset({"as_of"})  # what the response cache keys an answer by (counties.caching.keys)

    def as_of(self, request: Request) -> int:
        latest = statistics.latest_batch_year()
        params = s.AsOfSerializer(data=request.query_params, latest=latest)
        params.is_valid(raise_exception=True)
        return params.validated_data.get("as_of", latest)

    def until(self, request: Request) -> int | None:
        """For a statistic by year: the year-end its rows stop at when `as_of` is given (checked as
        `as_of` is everywhere), None (every year) when it is not. The statistics page's downloads
        give the page's year, so the file holds what the page shows."""
        return self.as_of(request) if "as_of" in request.query_params else None

    def get_queryset(self) -> QuerySet:  # for the permission class: statistics are read-only
        return Batch.objects.none()


AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.INT, description=f"Year-end, {FIRST_PROGRAMME_YEAR} to the latest batch year (default: the latest)."
)
UNTIL = OpenApiParameter(
    "as_of",
    OpenApiTypes.INT,
    description=f"Only the years up to this year-end, {FIRST_PROGRAMME_YEAR} to the latest batch year (default: every year).",
)


class CoverageView(StatisticsView):
    @extend_schema(summary="Coverage as of a year", parameters=[AS_OF], responses=s.CoverageSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.CoverageSerializer(statistics.coverage(self.as_of(request))).data)


class CoverageSeriesView(StatisticsView):
    @extend_schema(summary="Coverage at the end of every year", parameters=[UNTIL], responses=s.CoverageSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.CoverageSerializer(statistics.coverage_series_until(self.until(request)), many=True).data)


class BatchStatisticsView(StatisticsView):
    @extend_schema(summary="Composition of every batch", parameters=[UNTIL], responses=s.BatchStatisticsSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.BatchStatisticsSerializer(statistics.batch_composition_until(self.until(request)), many=True).data)


class ProvinceStatisticsView(StatisticsView):
    @extend_schema(summary="Provinces compared, as of a year", parameters=[AS_OF], responses=s.ProvinceStatisticsSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.ProvinceStatisticsSerializer(statistics.province_table(self.as_of(request)), many=True).data)


class FundingStatisticsView(StatisticsView):
    @extend_schema(
        summary="Funding totals by year, province, level and source kind", parameters=[UNTIL], responses=s.FundingStatisticsSerializer
    )
    def get(self, request: Request) -> Response:
        return Response(s.FundingStatisticsSerializer(statistics.funding_totals(self.until(request))).data)


class ExitStatisticsView(StatisticsView):
    @extend_schema(
        summary="Poverty exits by year, and how many were designated by then",
        parameters=[UNTIL],
        responses=s.ExitStatisticsSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(s.ExitStatisticsSerializer(statistics.exits_until(self.until(request)), many=True).data)
