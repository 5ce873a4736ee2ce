"""The staff roles as permission groups: created after every `migrate` (and by `setup_roles`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from counties.models.staff import ROLES


def ensure_roles(**kwargs: Any) -> dict[str, int]:
    """Create or update the groups; returns the number of permissions of each."""
    result = {}
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="counties", codename__in=codenames)
        group.permissions.set(permissions)
        result[name] = permissions.count()
    return result
