"""The admin for staff records: API tokens, staff profiles, and the accounts and roles (Django's own
user and group pages, with each role named in the reader's language)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.admin.base import CheckedAutocompleteMixin
from counties.models import (
    ApiToken,
    Role,
    StaffProfile,
)
from counties.models.staff import permission_name, role_name


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


# The groups are listed and edited as roles, so that their names read in the reader's language.
admin.site.unregister(Group)
admin.site.unregister(User)


def named_in_reader_language(field: Any) -> Any:
    """A form field of permissions whose options are named by `permission_name`."""
    if field is not None:
        field.label_from_instance = permission_name
    return field


@admin.register(Role)
class RoleAdmin(GroupAdmin):
    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest | None = None, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return named_in_reader_language(field) if db_field.name == "permissions" else field


class RoleListFilter(admin.RelatedFieldListFilter):
    """The users' filter by group, each group named as a role."""

    def field_choices(self, field: models.Field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(str(pk), role_name(name)) for pk, name in Group.objects.order_by("name").values_list("pk", "name")]


class StaffProfileInline(CheckedAutocompleteMixin, admin.StackedInline):
    """A provincial editor's province, set on the same page as their role."""

    model = StaffProfile
    can_delete = False
    max_num = 1
    autocomplete_fields = ["province"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_filter = ["is_staff", "is_superuser", "is_active", ("groups", RoleListFilter)]
    inlines = [StaffProfileInline]

    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups":
            kwargs["queryset"] = Role.objects.order_by("name")
        if db_field.name == "user_permissions":
            kwargs["queryset"] = Permission.objects.select_related("content_type")
            return named_in_reader_language(super().formfield_for_manytomany(db_field, request, **kwargs))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
