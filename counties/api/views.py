from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from counties import selectors, statistics
from counties.filtersets import (
    BatchFilterSet,
    DesignationFilterSet,
    FundingAllocationFilterSet,
    PovertyStatusFilterSet,
    UnitFilterSet,
)
from counties.models import (
    KEY_PATTERN,
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    Province,
    Unit,
)
from counties.permissions import may_change_record

from . import serializers as s

REASON = OpenApiParameter(
    "reason",
    OpenApiTypes.STR,
    description="Why the record changes; required when deleting. Also accepted as the X-Change-Reason header.",
)


def record_schema(summary: str) -> Any:
    """OpenAPI for a writable record: its list summary, and the change reason on every write."""
    writes = {action: extend_schema(parameters=[REASON]) for action in ("create", "update", "partial_update", "destroy")}
    return extend_schema_view(list=extend_schema(summary=summary), **writes)


class RecordViewSet(viewsets.ModelViewSet):
    """A writable record: same validation, history and provincial rule as the admin."""

    def change_reason(self) -> str:
        return (self.request.query_params.get("reason") or self.request.headers.get("X-Change-Reason") or "").strip()

    def check_province(self, record: Model) -> None:
        if not may_change_record(self.request.user, record):
            raise exceptions.PermissionDenied(_("Your account may change records of its own province only."))

    def perform_create(self, serializer: BaseSerializer) -> None:
        self.check_province(serializer.Meta.model(**{"unit": serializer.validated_data["unit"]}))
        instance = serializer.Meta.model(**serializer.validated_data)
        instance._change_reason = self.change_reason() or "created through the API"
        instance.save()
        serializer.instance = instance

    def perform_update(self, serializer: BaseSerializer) -> None:
        if "unit" in serializer.validated_data:
            self.check_province(serializer.Meta.model(**{"unit": serializer.validated_data["unit"]}))
        serializer.instance._change_reason = self.change_reason() or "changed through the API"
        serializer.save()

    def perform_destroy(self, instance: Model) -> None:
        reason = self.change_reason()
        if not reason:
            raise exceptions.ValidationError({"reason": [_("Give a reason for the deletion (?reason=…).")]})
        instance._change_reason = reason
        instance.delete()


@extend_schema_view(
    list=extend_schema(summary="County-level units", description="Every county-level unit 2014–2020, retired codes included."),
    retrieve=extend_schema(summary="One unit by registry key (official code)"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.UnitSerializer
    filterset_class = UnitFilterSet
    lookup_field = "key"
    lookup_value_regex = KEY_PATTERN
    # Poverty status and designations follow the place through code changes: the serializer loads
    # them for the whole page (selectors.attach_place_records).
    queryset = Unit.objects.select_related("province", "prefecture", "current").prefetch_related("successions").order_by("key", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.accepted_renderer.format != "csv":
            return super().list(request, *args, **kwargs)
        # The CSV has the county list's one export shape, the same columns as the page's download.
        units = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(units)
        rows = [selectors.county_row(unit) for unit in selectors.attach_place_records(units if page is None else page)]
        return Response(rows) if page is None else self.get_paginated_response(rows)


@extend_schema_view(list=extend_schema(summary="Provinces"), retrieve=extend_schema(summary="One province by code"))
class ProvinceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ProvinceSerializer
    queryset = Province.objects.order_by("code", "pk")
    lookup_field = "code"
    lookup_value_regex = "[0-9]{6}"
    filterset_class = None


@extend_schema_view(list=extend_schema(summary="Batches"), retrieve=extend_schema(summary="One batch"))
class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.BatchSerializer
    filterset_class = BatchFilterSet
    queryset = Batch.objects.order_by("year", "sequence", "pk")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "compositions": {(b.year, b.sequence): b for b in statistics.batch_composition()}}


@record_schema("Designations (batch entries)")
class DesignationViewSet(RecordViewSet):
    serializer_class = s.DesignationSerializer
    filterset_class = DesignationFilterSet
    queryset = Designation.objects.select_related("unit__province", "batch").order_by("batch__year", "batch__sequence", "unit__key", "pk")


@record_schema("Funding allocations (yuan)")
class FundingAllocationViewSet(RecordViewSet):
    serializer_class = s.FundingAllocationSerializer
    filterset_class = FundingAllocationFilterSet
    queryset = FundingAllocation.objects.select_related("unit__province").order_by("fiscal_year", "unit__key", "level", "pk")


@record_schema("Poverty-county statuses (the 832)")
class PovertyStatusViewSet(RecordViewSet):
    serializer_class = s.PovertyStatusSerializer
    filterset_class = PovertyStatusFilterSet
    queryset = PovertyStatus.objects.select_related("unit__province").order_by("unit__key", "pk")


# -- statistics -------------------------------------------------------------------------------


class StatisticsView(APIView):
    """Statistics come from counties.statistics, the same numbers as the pages and coverage_report."""

    filter_backends: list[Any] = []

    def as_of(self, request: Request) -> int:
        latest = statistics.latest_batch_year()
        params = s.AsOfSerializer(data=request.query_params, latest=latest)
        params.is_valid(raise_exception=True)
        return params.validated_data.get("as_of", latest)

    def get_queryset(self) -> QuerySet:  # for the permission class: statistics are read-only
        return Batch.objects.none()


AS_OF = OpenApiParameter("as_of", OpenApiTypes.INT, description="Year-end, 2014 to the latest batch year (default: the latest).")


class CoverageView(StatisticsView):
    @extend_schema(summary="Coverage as of a year", parameters=[AS_OF], responses=s.CoverageSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.CoverageSerializer(statistics.coverage(self.as_of(request))).data)


class CoverageSeriesView(StatisticsView):
    @extend_schema(summary="Coverage at the end of every year", responses=s.CoverageSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.CoverageSerializer(statistics.coverage_series(), many=True).data)


class BatchStatisticsView(StatisticsView):
    @extend_schema(summary="Composition of every batch", responses=s.BatchStatisticsSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.BatchStatisticsSerializer(statistics.batch_composition(), many=True).data)


class ProvinceStatisticsView(StatisticsView):
    @extend_schema(summary="Provinces compared, as of a year", parameters=[AS_OF], responses=s.ProvinceStatisticsSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.ProvinceStatisticsSerializer(statistics.province_table(self.as_of(request)), many=True).data)


class FundingStatisticsView(StatisticsView):
    @extend_schema(summary="Funding totals by year, province, level and source kind", responses=s.FundingStatisticsSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.FundingStatisticsSerializer(statistics.funding_totals()).data)


class ExitStatisticsView(StatisticsView):
    @extend_schema(summary="Poverty exits by year, and how many were designated by then", responses=s.ExitStatisticsSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.ExitStatisticsSerializer(statistics.exits(), many=True).data)
