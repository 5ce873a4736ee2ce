"""The admin for the programme's records and the units they name: search by old codes, imports
with preview, change history with reasons, provincial restrictions, no lost edits."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten, quote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.admin.base import CheckedAutocompleteMixin, ImportExportRegistryAdmin, RegistryAdmin, RegistryForm, UnitSearchMixin
from counties.models import (
    Batch,
    Designation,
    FundingAllocation,
    LifecycleRecord,
    PovertyStatus,
    Prefecture,
    ProgrammeFact,
    Province,
    PublishedProvinceCount,
    Unit,
    UnitSuccession,
    in_use_at_q,
)
from counties.models.programme import in_reader_language
from counties.reads import numbers, statistics
from counties.writes import services
from counties.writes.imports.programme import (
    DesignationResource,
    FundingAllocationResource,
    PovertyStatusResource,
)


@admin.register(Province)
class ProvinceAdmin(RegistryAdmin):
    natural_key = "code"
    natural_key_pattern = r"[1-9][0-9]0000"
    list_display = ["code", "name_zh", "name_pinyin", "name_en"]
    search_fields = ["code", "name_zh", "name_pinyin", "name_en"]


@admin.register(Prefecture)
class PrefectureAdmin(RegistryAdmin):
    natural_key = "code"
    natural_key_pattern = r"[1-9][0-9]{3}00"
    list_display = ["code", "name_zh", "name_en", "province"]
    list_select_related = ["province"]
    list_filter = ["province"]
    search_fields = ["code", "name_zh", "name_pinyin"]


class SuccessionInline(CheckedAutocompleteMixin, admin.TabularInline):
    model = UnitSuccession
    fk_name = "predecessor"
    autocomplete_fields = ["successor"]
    extra = 0


class ReadOnlyInline(admin.TabularInline):
    """Shown on the unit's page; changed on the record's own page, where history, reasons and the
    concurrent-edit check apply (and a unit with many records costs no more queries)."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return flatten(self.fields or ())

    @admin.display(description=gettext_lazy("source"))
    def source_in_words(self, obj: Designation | FundingAllocation) -> str:
        """The source as the reader reads it: a loader's in their language (`in_reader_language`)."""
        return in_reader_language(obj.source)


class DesignationInline(ReadOnlyInline):
    model = Designation
    fields = ["batch", "kind", "is_old_revolutionary_base", "source_in_words", "source_kind"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Designation]:
        return super().get_queryset(request).select_related("batch", "unit")


class FundingInline(ReadOnlyInline):
    model = FundingAllocation
    fields = ["fiscal_year", "level", "amount_in_words", "purpose_in_words", "source_in_words", "source_kind"]

    @admin.display(description=gettext_lazy("amount"))
    def amount_in_words(self, obj: FundingAllocation) -> str:
        return numbers.money(obj.amount)

    @admin.display(description=gettext_lazy("purpose"))
    def purpose_in_words(self, obj: FundingAllocation) -> str:
        return in_reader_language(obj.purpose)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FundingAllocation]:
        return super().get_queryset(request).select_related("unit")


class PovertyStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("poverty county")
    parameter_name = "poverty"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("yes")), ("no", _("no"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Unit]) -> QuerySet[Unit]:
        if self.value() in ("yes", "no"):
            # The place rule, as on the public list: 宣化区 is the poverty county 宣化县 became.
            poverty = Q(pk__in=statistics.list_index().poverty_units)
            return queryset.filter(poverty if self.value() == "yes" else ~poverty)
        return queryset


class InUseFilter(admin.SimpleListFilter):
    title = gettext_lazy("code in use")
    parameter_name = "in_use"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("yes")), ("no", _("retired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Unit]) -> QuerySet[Unit]:
        if self.value() in ("yes", "no"):
            return queryset.filter(in_use_at_q()) if self.value() == "yes" else queryset.exclude(in_use_at_q())
        return queryset


@admin.register(Unit)
class UnitAdmin(UnitSearchMixin, RegistryAdmin):
    # Short cells (names without their codes, the years in one column), so that a row fits on one
    # line at 1280 px beside the filters.
    list_display = ["key", "name_zh", "name_pinyin", "unit_type", "province_name", "prefecture_name", "years_in_use"]
    list_select_related = ["province", "prefecture"]
    list_filter = [InUseFilter, PovertyStatusFilter, "unit_type", "parent_type", "province"]
    search_fields = ["key", "name_zh", "name_pinyin", "name_en", "other_names"]
    autocomplete_fields = ["province", "prefecture"]
    readonly_fields = ["current"]
    inlines = [SuccessionInline, DesignationInline, FundingInline]
    unit_path = ""
    natural_key = "key"

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, obj: Model | None = None, **kwargs: Any) -> Any:
        # A retired code is a unit of its own (its page is its record); it says what it became.
        if request.method == "GET" and isinstance(obj, Unit) and (current := obj.became) is not None:
            messages.info(
                request,
                format_html(
                    _("{code} {name} is a retired code; it became {link}."),
                    code=obj.key,
                    name=obj.name_zh,
                    link=format_html(
                        '<a href="{}">{} {}</a>',
                        reverse("admin:counties_unit_change", args=[quote(current.key)], current_app=self.admin_site.name),
                        current.key,
                        current.name_zh,
                    ),
                ),
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    @admin.display(description=gettext_lazy("province"), ordering="province__code")
    def province_name(self, obj: Unit) -> str:
        return obj.province.name_zh

    @admin.display(description=gettext_lazy("prefecture"), ordering="prefecture__code")
    def prefecture_name(self, obj: Unit) -> str:
        return obj.prefecture.name_zh if obj.prefecture else "—"

    @admin.display(description=gettext_lazy("years in use"), ordering="first_year")
    def years_in_use(self, obj: Unit) -> str:
        return f"{obj.first_year or '…'}–{obj.last_year or ''}"

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        # The delete page has already refused a unit that records point at (they are PROTECTed
        # and listed there); the service refuses again if one was added since.
        try:
            services.delete_unit(cast(Unit, obj), user=request.user, reason=self.deletion_reason(request))  # this admin's records
        except services.UnitInUse as exc:
            raise PermissionDenied(str(exc)) from exc


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(RegistryAdmin):
    list_display = ["predecessor", "successor_code", "successor", "year", "kind", "is_primary"]
    list_select_related = ["predecessor", "successor"]
    list_filter = ["kind", "is_primary", "year"]
    search_fields = ["predecessor__key", "predecessor__name_zh", "successor_code", "successor__name_zh"]
    autocomplete_fields = ["predecessor", "successor"]


@admin.register(Batch)
class BatchAdmin(RegistryAdmin):
    list_display = [
        "year",
        "sequence",
        "level",
        "province",
        "title_zh",
        "document_number",
        "planned_size",
        "central_funds_total",
        "min_poverty_share_pct",
        "roster_complete",
        "source_kind",
    ]
    list_filter = ["level", "source_kind", "roster_complete"]
    search_fields = ["title_zh", "title_en", "document_number"]


# -- the records data editors keep ---------------------------------------------------------


class DesignationForm(RegistryForm):
    """The designation form shows the services' refusal of a kind the record contradicts on the
    form (the services refuse it again whatever reaches them)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        unit, batch, kind = cleaned.get("unit"), cleaned.get("batch"), cleaned.get("kind")
        if unit is not None and batch is not None and kind:
            refusal = services.designation_kind_refusal(self.instance.pk, unit, batch, kind, cleaned.get("source_kind", ""))
            if refusal:
                self.add_error("kind", refusal)
        return cleaned


@admin.register(Designation)
class DesignationAdmin(UnitSearchMixin, ImportExportRegistryAdmin):
    form = DesignationForm
    resource_classes = [DesignationResource]
    template_name = "designations"
    list_display = ["unit", "unit_province", "batch", "kind", "is_old_revolutionary_base", "source_kind"]
    list_select_related = ["unit__province", "batch"]
    list_filter = ["batch__level", "batch", "kind", "source_kind", "is_old_revolutionary_base", "unit__province"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "name_as_reported", "source"]
    autocomplete_fields = ["unit"]
    unit_path = "unit__"

    @admin.display(description=gettext_lazy("province"), ordering="unit__province__code")
    def unit_province(self, obj: Designation) -> str:
        return obj.unit.province.name_zh


@admin.register(LifecycleRecord)
class LifecycleRecordAdmin(UnitSearchMixin, RegistryAdmin):
    """A designation's path after its notice: acceptance, withdrawal, funds withheld or recovered.
    Its own form, not an inline of the designation's, so that a designation's form stays as every
    door posts it; saved through `RegistryAdmin.save_model` (services.save_record): scope, reason,
    history as every other write."""

    list_display = ["designation", "step", "year", "date", "document_number", "funds_withheld", "funds_recovered", "source_kind"]
    list_select_related = ["designation__unit", "designation__batch"]
    list_filter = ["step", "year", "designation__batch__level", "source_kind", "designation__unit__province"]
    search_fields = ["designation__unit__key", "designation__unit__name_zh", "document_number", "reason"]
    autocomplete_fields = ["designation"]
    unit_path = "designation__unit__"


@admin.register(FundingAllocation)
class FundingAllocationAdmin(UnitSearchMixin, ImportExportRegistryAdmin):
    resource_classes = [FundingAllocationResource]
    template_name = "funding"
    list_display = ["unit", "fiscal_year", "level", "amount", "purpose", "source_kind"]
    list_select_related = ["unit"]
    list_filter = ["fiscal_year", "level", "source_kind", "unit__province"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "purpose", "document_number"]
    autocomplete_fields = ["unit", "designation"]
    unit_path = "unit__"


@admin.register(PovertyStatus)
class PovertyStatusAdmin(UnitSearchMixin, ImportExportRegistryAdmin):
    resource_classes = [PovertyStatusResource]
    template_name = "poverty"
    list_display = ["unit", "listed_name", "region", "exit_year", "is_key_county_2012", "is_contiguous_area_county", "contiguous_area"]
    list_select_related = ["unit"]
    list_filter = ["region", "exit_year", "is_key_county_2012", "is_contiguous_area_county", "source_kind", "unit__province"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "listed_name"]
    autocomplete_fields = ["unit"]
    unit_path = "unit__"


@admin.register(ProgrammeFact)
class ProgrammeFactAdmin(RegistryAdmin):
    list_display = ["fact_id", "period", "metric", "value_text", "value_unit", "derived", "source_kind"]
    list_filter = ["source_kind", "derived"]
    search_fields = ["fact_id", "metric", "source"]


@admin.register(PublishedProvinceCount)
class PublishedProvinceCountAdmin(RegistryAdmin):
    list_display = ["year", "province", "count", "source_kind"]
    list_select_related = ["province"]
    list_filter = ["year", "province"]
