"""/api/v1/data/: the data package's versions, their files (with URLs, sizes and checksums), the
feed cursor of each, the licences and the sources; the JSON twin of the /data/ page."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from counties.caching.token import current_state
from counties.models import Batch
from counties.reads.data_package import descriptor, store

RETRY_SECONDS = 60

FILE = inline_serializer(
    "DataPackageFile",
    {
        "name": serializers.CharField(),
        "format": serializers.ChoiceField(choices=["zip", "sqlite", "sha256"]),
        "url": serializers.URLField(),
        "bytes": serializers.IntegerField(),
        "sha256": serializers.CharField(help_text="Also the download's ETag."),
    },
    many=True,
)
TABLE = inline_serializer(
    "DataPackageTable",
    {
        "name": serializers.CharField(),
        "rows": serializers.IntegerField(),
        "csv_bytes": serializers.IntegerField(),
        "csv_sha256": serializers.CharField(),
        "illustrative": serializers.IntegerField(help_text="Rows whose source_kind is illustrative (invented, not official)."),
    },
    many=True,
)
VERSION = inline_serializer(
    "DataPackageVersion",
    {
        "name": serializers.CharField(),
        "current": serializers.BooleanField(help_text="Whether this is the current data version."),
        "data_version": serializers.CharField(),
        "data_changed_at": serializers.DateTimeField(allow_null=True),
        "feed_cursor": serializers.JSONField(
            allow_null=True, help_text="The change-feed cursor the tables correspond to: follow the feed from here."
        ),
        "built_at": serializers.DateTimeField(),
        "files": FILE,
        "tables": TABLE,
    },
    many=True,
)
INDEX = inline_serializer(
    "DataPackageIndex",
    {
        "current": serializers.CharField(help_text="The name of the current data version."),
        "current_built": serializers.BooleanField(help_text="False until the current version's package is built."),
        "page": serializers.URLField(),
        "versions": VERSION,
        "licenses": inline_serializer(
            "DataPackageLicence",
            {"name": serializers.CharField(), "title": serializers.CharField(), "path": serializers.CharField()},
            many=True,
        ),
        "sources": inline_serializer("DataPackageSource", {"title": serializers.CharField(), "path": serializers.CharField()}, many=True),
    },
)


class DataPackageView(APIView):
    """The data package's versions, newest first. While the current data version is being built,
    `current_built` is false, the newest version listed (if any: none before the first build) is
    an earlier one, and the answer carries Retry-After."""

    renderer_classes = [JSONRenderer]
    filter_backends: list[Any] = []
    query_names: frozenset[str] = frozenset()

    def get_queryset(self) -> Any:  # for the permission class: read-only
        return Batch.objects.none()

    @extend_schema(
        summary="The data package: every public table per data version, as CSV (Frictionless) and SQLite",
        responses={200: INDEX},
        tags=["data"],
    )
    def get(self, request: Request) -> Any:
        listing = store.listing(current_state())
        body = {
            "current": listing.current,
            "current_built": listing.current_built,
            "page": request.build_absolute_uri(reverse("counties:data-package")),
            "versions": [self.version(request, version, listing.current) for version in listing.versions],
            "licenses": [{"name": lic.name, "title": str(lic.title), "path": lic.path} for lic in descriptor.LICENCES],
            "sources": [{"title": str(source.title), "path": source.path} for source in descriptor.SOURCES],
        }
        # The listing changes when a build ends, which the data token does not say: an ETag of
        # its own, and never kept by the response cache.
        etag = '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32] + '"'
        not_modified = get_conditional_response(request, etag=etag)
        response = Response(body) if not_modified is None else Response(status=304)
        response["ETag"] = etag
        if not listing.current_built:  # when to ask again for the current version
            response["Retry-After"] = str(RETRY_SECONDS)
        patch_cache_control(response, no_cache=True)
        return response

    def version(self, request: Request, version: store.Version, current: str) -> dict[str, Any]:
        data = version.as_json()
        data["current"] = version.name == current
        for entry in data["files"]:
            entry["url"] = request.build_absolute_uri(reverse("counties:data-package-file", args=[version.name, entry["name"]]))
        return data
