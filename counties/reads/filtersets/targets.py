"""Filters for targets and results, shared by the API (and any export of these lists): validated
parameters (a bad one is a 400 naming it), whitelisted orderings ending with the primary key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from counties.models import Province, SourceKind, Unit, UnitLineage
from counties.models.targets import Assessment, AssessmentResult, Indicator, IndicatorValue, Pairing, PartnerKind, TargetRule
from counties.reads.filtersets.programme import (
    OrderingFilter,
    RecordFilterSet,
    UpdatedSinceFilter,
    YearFilter,
    YearsFilter,
    code_filter_field,
)


def place_units(code: str) -> QuerySet[UnitLineage, Mapping[str, Any]]:
    """The units of the place a code names today: the unit it has become and every unit that became it."""
    return UnitLineage.objects.filter(descendant__in=Unit.objects.filter(key=code).values("current")).values("ancestor")


PLACE_CODE_LABEL = _("unit code; finds the records of the place it names, under every code it had")


class PlaceRecordFilterSet(RecordFilterSet):
    """`code` finds the whole place's records, as the county page shows them."""

    code = django_filters.CharFilter(method="filter_code", label=PLACE_CODE_LABEL, **code_filter_field())

    def filter_code(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(unit__in=place_units(value)) if value else qs


class IndicatorFilterSet(django_filters.FilterSet):
    rule = django_filters.ChoiceFilter(choices=TargetRule.choices, label=_("target rule"))

    class Meta:
        model = Indicator
        fields: list[str] = []


class IndicatorValueFilterSet(PlaceRecordFilterSet):
    indicator = django_filters.ModelChoiceFilter(queryset=Indicator.objects.all(), to_field_name="code", label=_("indicator (code)"))
    year = YearsFilter(field_name="year", label=_("year(s)"))
    ordering = OrderingFilter(fields=(("year", "year"), ("unit__key", "code"), ("value", "value"), ("updated_at", "updated_at")))

    class Meta:
        model = IndicatorValue
        fields: list[str] = []


class AssessmentFilterSet(django_filters.FilterSet):
    province = django_filters.ModelChoiceFilter(
        field_name="designation__unit__province", queryset=Province.objects.all(), to_field_name="code", label=_("province (code)")
    )
    code = django_filters.CharFilter(method="filter_code", label=PLACE_CODE_LABEL, **code_filter_field())
    batch_year = YearsFilter(field_name="designation__batch__year", label=_("batch year(s)"))
    year = YearsFilter(field_name="year", label=_("assessment year(s)"))
    result = django_filters.ChoiceFilter(choices=AssessmentResult.choices, label=_("result"))
    source_kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label=_("source kind"))
    updated_since = UpdatedSinceFilter()
    ordering = OrderingFilter(fields=(("designation__batch__year", "batch_year"), ("year", "year"), ("score", "score")))

    class Meta:
        model = Assessment
        fields: list[str] = []

    def filter_code(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(designation__unit__in=place_units(value)) if value else qs


class PairingFilterSet(PlaceRecordFilterSet):
    partner_kind = django_filters.ChoiceFilter(choices=PartnerKind.choices, label=_("partner kind"))
    start_year = YearsFilter(field_name="start_year", label=_("first year(s)"))
    active_in = YearFilter(method="filter_active_in", label=_("in force in this year"))
    ordering = OrderingFilter(fields=(("start_year", "start_year"), ("unit__key", "code")))

    class Meta:
        model = Pairing
        fields: list[str] = []

    def filter_active_in(self, qs: QuerySet[Pairing], name: str, value: int | None) -> QuerySet[Pairing]:
        if value is None:
            return qs
        return qs.filter(start_year__lte=value).filter(Q(end_year__isnull=True) | Q(end_year__gte=value))
