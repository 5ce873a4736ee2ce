"""Admin for targets and results: the indicator catalogue, values (with the import), assessments
and pairings. Same house rules as every record (history with reasons, provincial editors, no lost
edits), through the shared `RegistryAdmin`.

Saves and deletions go through `RegistryAdmin` (services.save_record / delete_record): scope,
history with the reason and the data-version change, as for every record. An assessment belongs to
the province of its designation (permissions.record_province_id).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from counties.admin.base import ImportExportRegistryAdmin, RegistryAdmin, UnitSearchMixin
from counties.models.targets import Assessment, Indicator, IndicatorValue, Pairing
from counties.reads import tables
from counties.writes.imports.targets import IndicatorValueResource, template_rows


@admin.register(Indicator)
class IndicatorAdmin(RegistryAdmin):
    list_display = ["code", "name_zh", "name_en", "unit_zh", "higher_is_better", "rule", "rule_threshold_pct", "position"]
    list_filter = ["rule", "higher_is_better"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(UnitSearchMixin, ImportExportRegistryAdmin):
    resource_classes = [IndicatorValueResource]
    template_name = "indicator_values"
    list_display = ["unit", "indicator", "year", "value", "source_kind"]
    list_select_related = ["unit", "indicator"]
    list_filter = ["indicator", "year", "source_kind", "unit__province"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "source"]
    autocomplete_fields = ["unit"]
    unit_path = "unit__"

    def template_view(self, request: HttpRequest) -> HttpResponse:
        """A CSV template with the expected columns and one example row (the registry's table writer)."""
        header, *rows = template_rows()
        return tables.download("csv", "indicator_values-template", header, rows)


class BatchYearFilter(admin.SimpleListFilter):
    """Assessments by the batch of their designation."""

    title = gettext_lazy("batch year")
    parameter_name = "batch_year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        years = Assessment.objects.order_by().values_list("designation__batch__year", flat=True).distinct()
        return [(str(y), str(y)) for y in sorted(years)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> QuerySet[Assessment]:
        return queryset.filter(designation__batch__year=year) if (year := self.value()) else queryset


@admin.register(Assessment)
class AssessmentAdmin(UnitSearchMixin, RegistryAdmin):
    list_display = ["designation", "year", "result", "score", "conditional_funding", "source_kind"]
    list_select_related = ["designation__unit", "designation__batch", "conditional_funding__unit"]
    list_filter = ["result", "year", BatchYearFilter, "source_kind", "designation__unit__province"]
    search_fields = ["designation__unit__key", "designation__unit__name_zh", "document_number", "source"]
    autocomplete_fields = ["designation", "conditional_funding"]
    unit_path = "designation__unit__"


@admin.register(Pairing)
class PairingAdmin(UnitSearchMixin, RegistryAdmin):
    list_display = ["unit", "partner_name", "partner_kind", "partner_unit", "start_year", "end_year", "source_kind"]
    list_select_related = ["unit", "partner_unit"]
    list_filter = ["partner_kind", "start_year", "source_kind", "unit__province"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "partner_name"]
    autocomplete_fields = ["unit", "partner_unit"]
    unit_path = "unit__"
