"""The API's front door, /api/v1/: every endpoint with its absolute URL and what it gives, in the
request's language (Accept-Language), and the links to the docs, the schema and the site."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from counties.models import Batch

# (URL name in the "api" namespace, the lookup in a record's URL or None, what it gives). Every
# route of counties/api/urls.py is here; a test holds the two together.
ENDPOINTS: tuple[tuple[str, str | None, Any], ...] = (
    (
        "county-list",
        None,
        _(
            "County-level units whose codes were in use at any year-end 2014–2024 (the reference data's years), "
            "retired codes included: filters, search by code, Chinese name or pinyin, CSV."
        ),
    ),
    ("county-detail", "key", _("One county-level unit by its code; an old code returns the unit it was, with the unit it became.")),
    ("county-targets", "key", _("A county's targets and results: reported values, target status, assessments and pairings.")),
    ("province-list", None, _("Provinces.")),
    ("province-detail", "code", _("One province by its code.")),
    ("batch-list", None, _("Demonstration batches with their published figures and recorded counts.")),
    ("batch-detail", "pk", _("One batch.")),
    ("designation-list", None, _("Designations of counties in batches, each with its source; writable with a token.")),
    ("designation-detail", "pk", _("One designation.")),
    ("funding-allocation-list", None, _("Funding allocations in yuan, each with its source; writable with a token.")),
    ("funding-allocation-detail", "pk", _("One funding allocation.")),
    ("poverty-status-list", None, _("The 832 national poverty counties: region, exit year and source; writable with a token.")),
    ("poverty-status-detail", "pk", _("One poverty-county status.")),
    ("indicator-list", None, _("The catalogue of target indicators.")),
    ("indicator-detail", "code", _("One indicator by its code.")),
    ("indicator-value-list", None, _("Values reported by counties for the indicators.")),
    ("indicator-value-detail", "pk", _("One reported value.")),
    ("assessment-list", None, _("Assessments of designated counties (scores and grades).")),
    ("assessment-detail", "pk", _("One assessment.")),
    ("pairing-list", None, _("Pairings of poverty counties with platforms, enterprises or stronger counties.")),
    ("pairing-detail", "pk", _("One pairing.")),
    ("stats-coverage", None, _("Coverage at the end of a year (?as_of=YEAR; default: the latest batch year).")),
    ("stats-coverage-series", None, _("Coverage at the end of every year.")),
    ("stats-batches", None, _("Every batch's composition against the poverty-share rule, with central funds.")),
    ("stats-provinces", None, _("Provinces compared at the end of a year (?as_of=YEAR).")),
    ("stats-funding", None, _("Funding totals by year, province, level and source kind.")),
    ("stats-exits", None, _("Poverty exits by year, and how many of those counties were designated by then.")),
    ("stats-three-coverages", None, _("The three full coverages at the end of a year (?as_of=YEAR).")),
    ("stats-three-coverages-series", None, _("The three full coverages at the end of every year.")),
    (
        "stats-service-system",
        None,
        _(
            "The service system (two centres and a station) at the end of a year (?as_of=YEAR): "
            "what the reporting counties reported, added up."
        ),
    ),
    ("stats-targets", None, _("Target attainment by batch, indicator and year.")),
    ("stats-notice-targets", None, _("The 2018 and 2019 notices' targets by batch they cover: entries that reported and met each.")),
    ("stats-assessments", None, _("Assessment results by batch.")),
    ("stats-national-series", None, _("National rural online retail sales as published, each figure with its source.")),
    (
        "changes",
        None,
        _("Every change to every public record, oldest first, paged by cursor (?after=); filters by kind and province."),
    ),
    (
        "data-package",
        None,
        _(
            "The whole public registry per data version: CSV files with a Frictionless datapackage.json, a SQLite file, "
            "checksums and the feed cursor."
        ),
    ),
    ("schema", None, _("The OpenAPI 3 description of this API (YAML; ?format=json for JSON).")),
    ("docs", None, _("Interactive documentation of this API.")),
)
# A value every lookup pattern accepts, replaced by the lookup's name in braces.
EXAMPLE = "130705"


def endpoint_url(request: Request, name: str, lookup: str | None) -> str:
    """The endpoint's absolute URL; a record's is a template such as …/counties/{key}/ or …/batches/{id}/."""
    if lookup is None:
        return request.build_absolute_uri(reverse(f"api:{name}"))
    path = reverse(f"api:{name}", kwargs={lookup: EXAMPLE})
    shown = "id" if lookup == "pk" else lookup  # as the OpenAPI schema and the docs name it
    return request.build_absolute_uri(path).replace(f"/{EXAMPLE}/", f"/{{{shown}}}/")


ROOT = inline_serializer(
    "ApiRoot",
    {
        "title": serializers.CharField(),
        "version": serializers.CharField(),
        "docs": serializers.URLField(),
        "schema": serializers.URLField(),
        "site": serializers.URLField(),
        "language": serializers.CharField(help_text="The language of the descriptions and messages (Accept-Language)."),
        "endpoints": inline_serializer(
            "ApiEndpoint",
            {"name": serializers.CharField(), "url": serializers.CharField(), "description": serializers.CharField()},
            many=True,
        ),
    },
)


class ApiRootView(APIView):
    """/api/v1/: what the API offers. JSON unless a browser asks for HTML."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    filter_backends: list[Any] = []
    query_names: frozenset[str] = frozenset()  # it reads none (counties.caching.keys)

    def get_queryset(self) -> Any:  # for the permission class: the root is read-only
        return Batch.objects.none()

    @extend_schema(summary="Every endpoint of the API, with the docs and the schema", responses=ROOT, tags=["root"])
    def get(self, request: Request) -> Response:
        language = translation.get_language()
        return Response(
            {
                "title": str(_("Rural e-commerce demonstration county registry API")),
                "version": "v1",
                "docs": request.build_absolute_uri(reverse("api:docs")),
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "site": request.build_absolute_uri(reverse("counties:home")),  # in the same language
                "language": language,
                "endpoints": [
                    {"name": name, "url": endpoint_url(request, name, lookup), "description": str(description)}
                    for name, lookup, description in ENDPOINTS
                ],
            }
        )
