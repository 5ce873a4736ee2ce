import secrets

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ApiToken,
    Batch,
    Designation,
    FundingAllocation,
    PovertyStatus,
    Prefecture,
    ProgrammeFact,
    Province,
    StaffProfile,
    Unit,
    UnitSuccession,
    hash_token,
)


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]
    search_fields = ["code", "name_zh", "name_pinyin", "name_en"]


@admin.register(Prefecture)
class PrefectureAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "province"]
    list_select_related = ["province"]
    list_filter = ["province"]
    search_fields = ["code", "name_zh", "name_pinyin"]


class SuccessionInline(admin.TabularInline):
    model = UnitSuccession
    fk_name = "predecessor"
    autocomplete_fields = ["successor"]
    extra = 0


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["key", "name_zh", "name_en", "unit_type", "province", "prefecture", "first_year", "last_year"]
    list_select_related = ["province", "prefecture"]
    list_filter = ["province", "unit_type", "parent_type"]
    search_fields = ["key", "name_zh", "name_pinyin", "other_names"]
    autocomplete_fields = ["prefecture"]
    readonly_fields = ["current"]
    inlines = [SuccessionInline]


@admin.register(PovertyStatus)
class PovertyStatusAdmin(admin.ModelAdmin):
    list_display = ["unit", "region", "exit_year", "is_key_county_2012", "is_contiguous_area_county", "contiguous_area"]
    list_select_related = ["unit"]
    list_filter = ["region", "exit_year", "is_key_county_2012", "is_contiguous_area_county", "source_kind"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "listed_name"]
    autocomplete_fields = ["unit"]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["year", "sequence", "title_zh", "planned_size", "central_funds_total", "min_poverty_share_pct", "source_kind"]
    list_filter = ["source_kind"]
    search_fields = ["title_zh", "title_en", "document_number"]


@admin.register(Designation)
class DesignationAdmin(admin.ModelAdmin):
    list_display = ["unit", "batch", "status", "source_kind"]
    list_select_related = ["unit", "batch"]
    list_filter = ["batch", "status", "source_kind"]
    search_fields = ["unit__key", "unit__name_zh", "unit__name_pinyin", "name_as_reported"]
    autocomplete_fields = ["unit"]


@admin.register(FundingAllocation)
class FundingAllocationAdmin(admin.ModelAdmin):
    list_display = ["unit", "fiscal_year", "level", "amount", "source_kind"]
    list_select_related = ["unit"]
    list_filter = ["fiscal_year", "level", "source_kind"]
    search_fields = ["unit__key", "unit__name_zh", "purpose", "document_number"]
    autocomplete_fields = ["unit", "designation"]


@admin.register(ProgrammeFact)
class ProgrammeFactAdmin(admin.ModelAdmin):
    list_display = ["fact_id", "period", "metric", "value_text", "value_unit", "source_kind"]
    list_filter = ["source_kind"]
    search_fields = ["fact_id", "metric", "source"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff issue and revoke partners' API tokens. The key is shown once, when issued."""

    list_display = ["name", "user", "key_prefix", "can_write", "expires_at", "last_used_at", "revoked_at", "created_at"]
    list_select_related = ["user"]
    list_filter = ["can_write", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "key_prefix"]
    autocomplete_fields = ["user"]
    readonly_fields = ["key_prefix", "last_used_at", "created_at"]
    fields = ["user", "name", "can_write", "expires_at", "revoked_at", "key_prefix", "last_used_at", "created_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key = ApiToken.KEY_PREFIX + secrets.token_urlsafe(32)
        obj.key_hash, obj.key_prefix = hash_token(key), key[:8]
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            _("The new token is %(key)s — copy it now: only its hash is stored, it cannot be shown again.") % {"key": key},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": count})


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "province"]
    list_select_related = ["user", "province"]
    autocomplete_fields = ["user", "province"]
