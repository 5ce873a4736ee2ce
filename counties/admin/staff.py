"""The admin for staff records: API tokens and staff profiles."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.admin.base import CheckedAutocompleteMixin
from counties.models import (
    ApiToken,
    StaffProfile,
)


@admin.register(ApiToken)
class ApiTokenAdmin(CheckedAutocompleteMixin, admin.ModelAdmin):
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
        key = obj.new_key()
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            _("The new token is %(key)s — copy it now: only its hash is stored, it cannot be shown again.") % {"key": key},
            messages.WARNING,
        )

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": count})


@admin.register(StaffProfile)
class StaffProfileAdmin(CheckedAutocompleteMixin, admin.ModelAdmin):
    list_display = ["user", "province"]
    list_select_related = ["user", "province"]
    autocomplete_fields = ["user", "province"]
