"""Who may change which record: one rule, used by the admin, the imports and the API."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from .models import Province, Unit


def restricted_province(user: AbstractBaseUser | AnonymousUser) -> Province | None:
    """The one province a provincial editor may change records of; None for everyone else."""
    if not user.is_authenticated or user.is_superuser:
        return None
    profile = getattr(user, "registry_profile", None)
    return profile.province if profile is not None else None


def record_province_id(record: models.Model) -> int | None:
    if isinstance(record, Unit):
        return record.province_id
    unit = getattr(record, "unit", None)
    return unit.province_id if unit is not None else None


def may_change_record(user: AbstractBaseUser | AnonymousUser, record: models.Model) -> bool:
    """Provincial editors change only their province's records (everyone may read everything)."""
    province = restricted_province(user)
    return province is None or record_province_id(record) == province.pk
