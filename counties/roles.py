"""The staff roles, as permission groups. Created after every `migrate` (and by `setup_roles`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

DATA_MODELS = ["designation", "fundingallocation", "povertystatus"]
REFERENCE_MODELS = ["unit", "unitsuccession", "batch", "province", "prefecture", "programmefact", "publishedprovincecount"]
# Targets and results (issue 14): values, assessments and pairings are data; the catalogue is reference.
DATA_MODELS += ["indicatorvalue", "assessment", "pairing"]
REFERENCE_MODELS += ["indicator"]
ALL_MODELS = DATA_MODELS + REFERENCE_MODELS

DATA_EDITORS = "data editors"
PROVINCIAL_EDITORS = "provincial editors"
REFERENCE_ADMINISTRATORS = "reference-data administrators"
VIEWERS = "read-only viewers"


def _codenames(actions: tuple[str, ...], models: list[str]) -> list[str]:
    return [f"{action}_{model}" for action in actions for model in models]


EDIT = ("add", "change", "delete", "view")
ROLES: dict[str, list[str]] = {
    # Designations, funding and poverty status, everywhere; everything else read-only.
    DATA_EDITORS: _codenames(EDIT, DATA_MODELS) + _codenames(("view",), REFERENCE_MODELS),
    # The same, limited to the province set in the user's staff profile.
    PROVINCIAL_EDITORS: _codenames(EDIT, DATA_MODELS) + _codenames(("view",), REFERENCE_MODELS),
    # Units, code successions, batches and the published figures.
    REFERENCE_ADMINISTRATORS: _codenames(EDIT, REFERENCE_MODELS) + _codenames(("view",), DATA_MODELS),
    VIEWERS: _codenames(("view",), ALL_MODELS),
}


def ensure_roles(**kwargs: Any) -> dict[str, int]:
    """Create or update the groups; returns the number of permissions of each."""
    result = {}
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="counties", codename__in=codenames)
        group.permissions.set(permissions)
        result[name] = permissions.count()
    return result
