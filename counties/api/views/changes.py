"""The change feed, /api/v1/changes/: every change to every public record, oldest first, paged by
an opaque cursor (counties.reads.changes); what a change holds is counties.reads.public_records."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from counties.api.views.records import ERROR
from counties.models import Change, ChangeAction, Province
from counties.reads import changes, public_records

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Where a client whose cursor is too old starts again: the data package's index (its versions, each
# with the cursor it holds), in every language the same address.
SNAPSHOT_PATH = "/api/v1/data/"


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


CHANGE_FIELDS: dict[str, serializers.Field] = {
    "cursor": serializers.CharField(help_text="This change's cursor: ?after= it gives the changes that follow it."),
    # Not an enum field: a second "kind" enum would rename the successions' one in the schema.
    "kind": serializers.CharField(help_text="The record's kind: " + ", ".join(public_records.kind_names())),
    "key": serializers.CharField(help_text="The record's key within its kind: a unit's registry key, an indicator's code, else its id."),
    "action": serializers.ChoiceField(choices=ChangeAction.values),
    "record": serializers.DictField(
        allow_null=True,
        help_text="The record's public fields after the change, as its detail endpoint shows them; null for a deletion.",
    ),
    "province": serializers.CharField(help_text="The code of the record's province, empty for a national record."),
    "at": serializers.DateTimeField(),
}
PAGE = inline_serializer(
    "ChangePage",
    {
        "changes": inline_serializer("Change", CHANGE_FIELDS, many=True),
        "next": serializers.CharField(help_text="The cursor to ask next (?after=); the same cursor when nothing newer is there yet."),
        "has_more": serializers.BooleanField(help_text="Whether more changes are waiting after this page."),
    },
)
GONE = OpenApiResponse(
    ERROR,
    description=(
        "The cursor is older than the changes the feed keeps: take a snapshot from the data package (/api/v1/data/) "
        "and follow on from its cursor."
    ),
)


def _values(request: Request, name: str) -> list[str]:
    """A filter's values: repeated (?kind=a&kind=b) or separated by commas (?kind=a,b)."""
    return [value.strip() for raw in request.query_params.getlist(name) for value in raw.split(",") if value.strip()]


class ChangeFeedView(APIView):
    """Every change to every public record (created, changed, deleted), in commit order."""

    renderer_classes = [JSONRenderer]  # a change's record is nested: JSON only
    filter_backends: list[Any] = []
    query_names = frozenset({"after", "kind", "province", "limit"})  # what the response cache keys an answer by

    def get_queryset(self) -> QuerySet:  # for the permission class: the feed is read-only
        return Change.objects.none()

    @extend_schema(
        summary="The change feed",
        description=(
            "Every change to every public record, oldest first: its kind, key, action (created, changed, deleted), its public "
            "fields after the change (null for a deletion) and its time. Page with ?after=<next> until has_more is false, then "
            "ask again later with the last next. A client that applies the changes in order (a created or changed record "
            "replaces what it holds under the kind and key, a deletion removes it) holds what the detail endpoints show. "
            "Start from the beginning (no cursor) or from the cursor of a snapshot of the data package (/data/). A cursor "
            "older than the changes kept is answered 410 Gone; one past the newest change, 400."
        ),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="The cursor after which to read (a change's, or a page's next)."),
            OpenApiParameter(
                "kind", OpenApiTypes.STR, description="Only these kinds, comma-separated: " + ", ".join(public_records.kind_names())
            ),
            OpenApiParameter("province", OpenApiTypes.STR, description="Only records of these provinces (codes, comma-separated)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Changes per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
        ],
        responses={200: PAGE, 400: OpenApiResponse(ERROR, description="A filter or cursor the feed does not know, named."), 410: GONE},
    )
    def get(self, request: Request) -> Response:
        after = self.after(request)
        if changes.is_gone(after):
            raise Gone(
                _("Changes after this cursor are no longer kept; take a snapshot from %(snapshot)s and follow the feed from its cursor.")
                % {"snapshot": request.build_absolute_uri(SNAPSHOT_PATH)}
            )
        kinds, provinces, limit = self.kinds(request), self.provinces(request), self.limit(request)
        try:
            page = changes.changes_after(after, kinds=kinds, provinces=provinces, limit=limit)
        except changes.BadCursor as beyond:  # past the newest change: not a cursor this feed gave out
            raise serializers.ValidationError(
                {"after": [_("%(cursor)s is not a cursor of this feed.") % {"cursor": str(beyond)[:100]}]}
            ) from None
        return Response(
            {
                "changes": [
                    {
                        "cursor": changes.encode_cursor(change.id),
                        "kind": change.kind,
                        "key": change.key,
                        "action": change.action,
                        "record": change.record,
                        "province": change.province,
                        "at": serializers.DateTimeField().to_representation(change.at),
                    }
                    for change in page.changes
                ],
                "next": page.next_cursor,
                "has_more": page.has_more,
            }
        )

    def after(self, request: Request) -> int:
        cursor = request.query_params.get("after", "")
        if not cursor:
            return 0
        try:
            return changes.decode_cursor(cursor)
        except changes.BadCursor:
            raise serializers.ValidationError(
                {"after": [_("%(cursor)s is not a cursor of this feed.") % {"cursor": cursor[:100]}]}
            ) from None

    def kinds(self, request: Request) -> list[str]:
        kinds = _values(request, "kind")
        unknown = [kind for kind in kinds if kind not in public_records.BY_NAME]
        if unknown:
            raise serializers.ValidationError(
                {
                    "kind": [
                        _("%(kind)s is not a kind of record of the feed (%(kinds)s).")
                        % {"kind": unknown[0][:100], "kinds": ", ".join(public_records.kind_names())}
                    ]
                }
            )
        return kinds

    def provinces(self, request: Request) -> list[str]:
        codes = _values(request, "province")
        known = set(Province.objects.filter(code__in=[c[:6] for c in codes]).values_list("code", flat=True)) if codes else set()
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise serializers.ValidationError({"province": [_("%(code)s is not the code of a province.") % {"code": unknown[0][:100]}]})
        return codes

    def limit(self, request: Request) -> int:
        raw = request.query_params.get("limit", "").strip()
        if not raw:
            return DEFAULT_LIMIT
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise serializers.ValidationError({"limit": [_("The limit is a number from 1 to %(max)s.") % {"max": MAX_LIMIT}]})
        return int(raw)
