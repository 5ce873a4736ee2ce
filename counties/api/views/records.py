"""Views of the programme's records: units, provinces and batches (read-only), and designations,
funding allocations and poverty statuses, writable with a token through the one write service."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from counties.api.pagination import RegistryPagination
from counties.api.preconditions import check_if_match, representation_etag
from counties.api.serializers import records as s
from counties.models import (
    KEY_PATTERN,
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    Province,
    Unit,
)
from counties.models.programme import API_CREATED_REASON
from counties.reads import selectors, statistics
from counties.reads.filtersets.programme import (
    BatchFilterSet,
    DesignationFilterSet,
    FundingAllocationFilterSet,
    PovertyStatusFilterSet,
    UnitFilterSet,
)
from counties.writes import services
from counties.writes.services import OutOfScope, delete_record, save_record

REASON = OpenApiParameter(
    "reason",
    OpenApiTypes.STR,
    description="Why the record changes; required when deleting. Also accepted as the X-Change-Reason header.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description=(
        "Optional. The record's ETag as you read it (from a GET of the record or the response to your last write). "
        "If the record has changed since, nothing is written and the answer is 412 Precondition Failed. "
        "Without it the write goes ahead; PATCH writes only the fields it sends."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The record's version, for If-Match on the next write (and If-None-Match on a GET).",
)
ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {"code": serializers.CharField(), "message": serializers.CharField(), "fields": serializers.DictField(required=False)},
        )
    },
)
PRECONDITION_FAILED = OpenApiResponse(ERROR, description="If-Match named an ETag the record no longer has: nothing was written.")
WRITES = ("update", "partial_update", "destroy")


def record_schema(summary: str, serializer: type[BaseSerializer]) -> Any:
    """OpenAPI for a writable record: its list summary, the change reason on every write, its ETag,
    and If-Match (with its 412) on every write to an existing record."""
    schemas = {
        "list": extend_schema(summary=summary),
        "retrieve": extend_schema(parameters=[ETAG]),
        "create": extend_schema(parameters=[REASON, ETAG]),
        "destroy": extend_schema(parameters=[REASON, IF_MATCH], responses={204: None, 412: PRECONDITION_FAILED}),
    }
    for action in ("update", "partial_update"):
        schemas[action] = extend_schema(parameters=[REASON, IF_MATCH, ETAG], responses={200: serializer, 412: PRECONDITION_FAILED})
    return extend_schema_view(**schemas)


class RecordViewSet(viewsets.ModelViewSet):
    """A writable record: same validation, history and provincial rule as the admin."""

    # (Not in the docstring, which is the schema's description.) A write to an existing record
    # reads it under a row lock (services.locked) and checks If-Match against it in the same
    # transaction, then writes only the fields the request sends.

    def change_reason(self) -> str:
        return (self.request.query_params.get("reason") or self.request.headers.get("X-Change-Reason") or "").strip()

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        return services.locked(queryset) if self.action in WRITES else queryset

    def get_object(self) -> Model:
        record = super().get_object()
        if self.action in WRITES and "If-Match" in self.request.headers:
            check_if_match(self.request, representation_etag(self.get_serializer(record).data))
        return record

    @transaction.atomic
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @transaction.atomic
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action in ("retrieve", "create", "update", "partial_update") and response.status_code in (200, 201):
            # The record's own ETag replaces the site-wide one the conditional-GET middleware would set.
            response["ETag"] = representation_etag(response.data)
            if request.method in ("GET", "HEAD"):
                return get_conditional_response(request, etag=response["ETag"], response=response)
        return response

    def perform_create(self, serializer: BaseSerializer) -> None:
        instance = self.get_queryset().model(**serializer.validated_data)
        # Optional, as in the admin: a new record carries its source in its own fields.
        self.write(save_record, instance, self.change_reason() or API_CREATED_REASON)
        serializer.instance = instance

    def perform_update(self, serializer: BaseSerializer) -> None:
        # Required, as in the admin (the service refuses a change without one): a change replaces
        # a value that had its own source.
        instance = cast(Model, serializer.instance)  # an update's serializer holds its record
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        # Only the fields sent: a concurrent PATCH of other fields keeps its change.
        self.write(save_record, instance, self.change_reason(), fields=list(serializer.validated_data))

    def perform_destroy(self, instance: Model) -> None:
        self.write(delete_record, instance, self.change_reason())

    def write(self, service: Any, instance: Model, reason: str, **options: Any) -> None:
        """The same service as the admin and the imports: scope (stored and new), the reason,
        history, data version. Its refusals become the API's answers."""
        try:
            service(instance, user=self.request.user, reason=reason, **options)
        except OutOfScope as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except services.ReasonRefused as exc:
            messages = exc.messages
            if exc.code == "reason_required":  # the same refusal, saying how a client gives one
                messages = [
                    _("Give a reason for the deletion (?reason=… or the X-Change-Reason header).")
                    if service is delete_record
                    else _("Give a reason for the change (?reason=… or the X-Change-Reason header).")
                ]
            raise exceptions.ValidationError({"reason": messages}) from exc
        except DjangoValidationError as exc:  # the services' own checks (a link to another place, a code out of its year)
            raise exceptions.ValidationError(serializers.as_serializer_error(exc)) from exc


@extend_schema_view(
    list=extend_schema(
        summary="County-level units",
        description=(
            "Every county-level unit whose code was in use at any year-end 2014–2024 (the reference data's years), retired "
            "codes included. `poverty`, `batch_year` and `exit_year` count as `count_as` says: by default the places as of "
            "the latest batch year (a unit in use then, counting records under its earlier codes), as the county list page does; "
            "`units` the units holding the record under their own code (`poverty=true&count_as=units`: the 832 as listed); "
            "`codes` every code of those places."
        ),
    ),
    retrieve=extend_schema(summary="One unit by registry key (official code)"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.UnitSerializer
    filterset_class = UnitFilterSet
    lookup_field = "key"
    lookup_value_regex = KEY_PATTERN
    # Poverty status and designations follow the place through code changes. A JSON answer is
    # built from plain rows by serializers.unit_records (the same output as UnitSerializer, which
    # describes it); the CSV has the county list's export shape.
    queryset = Unit.objects.select_related("province", "prefecture", "current").order_by("key", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        units = self.filter_queryset(self.get_queryset())
        if request.accepted_renderer.format == "csv":
            # The same columns as the page's download.
            page = self.paginate_queryset(units)
            rows = [selectors.county_row(unit) for unit in selectors.attach_place_records(units if page is None else page)]
        else:
            page = cast(RegistryPagination, self.paginator).paginate_rows(units, s.UNIT_VALUES, request, view=self)
            rows = s.unit_records(units.values_list(*s.UNIT_VALUES) if page is None else page)
        return Response(rows) if page is None else self.get_paginated_response(rows)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # get_object's lookup, as plain rows: a missing key is the same 404.
        units = self.filter_queryset(self.get_queryset()).filter(key=self.kwargs[self.lookup_field])
        rows = list(units.values_list(*s.UNIT_VALUES))
        if not rows:
            raise Http404(f"No {Unit._meta.object_name} matches the given query.")
        return Response(s.unit_records(rows)[0])


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
    queryset = Batch.objects.select_related("province").order_by("year", "sequence", "pk")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "compositions": {(b.year, b.sequence): b for b in statistics.batch_composition()}}


@record_schema("Designations (batch entries)", s.DesignationSerializer)
class DesignationViewSet(RecordViewSet):
    serializer_class = s.DesignationSerializer
    filterset_class = DesignationFilterSet
    queryset = (
        Designation.objects.select_related("unit__province", "batch")
        .prefetch_related("lifecycle")
        .with_outcome()
        .annotate(counts=Exists(Designation.objects.counted().filter(pk=OuterRef("pk"))))
        .order_by("batch__year", "batch__sequence", "unit__key", "pk")
    )


@record_schema("Funding allocations (yuan)", s.FundingAllocationSerializer)
class FundingAllocationViewSet(RecordViewSet):
    serializer_class = s.FundingAllocationSerializer
    filterset_class = FundingAllocationFilterSet
    queryset = FundingAllocation.objects.select_related("unit__province").order_by("fiscal_year", "unit__key", "level", "pk")


@record_schema("Poverty-county statuses (the 832)", s.PovertyStatusSerializer)
class PovertyStatusViewSet(RecordViewSet):
    serializer_class = s.PovertyStatusSerializer
    filterset_class = PovertyStatusFilterSet
    queryset = PovertyStatus.objects.select_related("unit__province").order_by("unit__key", "pk")
