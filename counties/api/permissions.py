from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # importing rest_framework.views here would be circular (DRF imports this module)
    from rest_framework.views import APIView

from counties.models import ApiToken
from counties.reads.permissions import NO_PROVINCE, may_change_record, write_scope


class RegistryApiPermission(permissions.DjangoModelPermissions):
    """Anyone reads. A write needs a token that may write, the user's model permission and, for a
    provincial editor, a record of their province."""

    message: str | Promise = _("Writing needs an API token that may write, and the matching permission.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        if not isinstance(token, ApiToken) or not token.can_write:
            self.message = _("This API token is read-only.") if isinstance(token, ApiToken) else self.message
            return False
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return False
        if not may_change_record(request.user):
            self.message = NO_PROVINCE
            return False
        return super().has_permission(request, view)

    def has_object_permission(self, request: Request, view: APIView, obj: Model) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        refusal = write_scope(request.user).refusal(obj)  # obj is as stored; the service checks the change too
        if refusal is not None:
            self.message = refusal
            return False
        return True
