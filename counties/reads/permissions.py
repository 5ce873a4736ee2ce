"""Who may change which record: one rule, used by the admin, the imports, the API and the services.

A provincial editor writes only records of the province in their staff profile. The rule fails
closed: a member of *provincial editors* whose profile names no province writes nothing, and a
record that belongs to no province (a batch, a programme figure) is out of a restricted account's
reach. A change is checked against the record's province as stored *and* as it would be after
the change, so a record cannot be moved into, or out of, someone's province by naming a new unit.

The same scope says whose *staff data* an account sees (who changed a record, when and why; which
file an import read): `WriteScope.sees_staff_data`, asked by the change log, the History pages
and the dashboard's recent imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.models import Prefecture, Province, PublishedProvinceCount, Unit, UnitSuccession
from counties.models.staff import PROVINCIAL_EDITORS

# What a refused write says, whichever door it came through: the services, the admin's forms and
# index, the imports, the API and the 403 page all take their words from here.
NO_PROVINCE = gettext_lazy("Your account is a provincial editor without a province: ask an administrator to set it.")
OTHER_PROVINCE = gettext_lazy("You may change records of %(province)s only; %(record)s is not one of them.")
# An import's row: the code the row names (or the stored record's id) and its province.
OTHER_PROVINCE_ROW = gettext_lazy("%(code)s is in %(other)s; you may import records of %(own)s only")
# What a restricted account is told before it tries (the admin's index, a refused page).
ONE_PROVINCE_NOTE = gettext_lazy("Your account may change records of %(province)s only.")
NO_PROVINCE_NOTE = gettext_lazy(
    "Your staff profile names no province, so you can read records but change none. Ask an administrator to set your province."
)


@dataclass(frozen=True)
class WriteScope:
    """The provinces an account may write records of: every province, one, or none."""

    unrestricted: bool
    province: Province | None = None

    def allows(self, province_id: int | None) -> bool:
        """May this account write a record of this province?"""
        if self.unrestricted:
            return True
        return self.province is not None and province_id is not None and province_id == self.province.pk

    @property
    def writes_nothing(self) -> bool:
        return not self.unrestricted and self.province is None

    def refusal(self, record: models.Model, *stored_province_ids: int | None) -> str | None:
        """Why this account may not write `record`, or None: the one check every door and service asks.

        The record is judged by its province as it would be saved, and by each of
        `stored_province_ids` (its province as stored, for a change of a stored record): moving
        another province's record into one's own is a change of that other province's record.
        """
        if self.unrestricted:
            return None
        if self.province is None:
            return str(NO_PROVINCE)
        for province_id in (record_province_id(record), *stored_province_ids):
            if not self.allows(province_id):
                return OTHER_PROVINCE % {"province": self.province.name_zh, "record": record}
        return None

    def row_refusal(self, record: models.Model, stored_province_id: int | None = None) -> str | None:
        """`refusal` in an import's words, or None: the code the row names (or, for a stored record
        moved out of another province, its id) and that province. A row whose province is not
        known yet (its code is in error) is left to that error."""
        if self.unrestricted:
            return None
        if self.province is None:
            return str(NO_PROVINCE)
        other: Any = record  # a record of a unit, told apart by its field
        unit = other.unit if getattr(other, "unit_id", None) else None
        for province_id in (record_province_id(record), stored_province_id):
            if province_id is not None and not self.allows(province_id):
                named = unit if unit is not None and unit.province_id == province_id else None  # else: the record as stored
                return OTHER_PROVINCE_ROW % {
                    "code": named.key if named else f"id {record.pk}",
                    "other": named.province.name_zh if named else _("another province"),
                    "own": self.province.name_zh,
                }
        return None

    def note(self) -> str | None:
        """What a restricted account is told of its scope: the province it may change records of,
        or that it may change none and why. None for an unrestricted account."""
        if self.unrestricted:
            return None
        if self.province is None:
            return str(NO_PROVINCE_NOTE)
        return ONE_PROVINCE_NOTE % {"province": self.province.name_zh}

    # -- staff data: who changed a record, when and why, and which file an import read --------------

    def sees_staff_data(self, province_id: int | None) -> bool:
        """May this account see the staff data of a record of this province (or of an import that
        wrote records of this province only)? The one rule of the change log, the History pages and
        the dashboard's recent imports: a provincial editor sees their own province's, nothing of a
        record of no province (a batch) or of an import across provinces; an editor without a
        province sees none; every other account sees all. The records themselves stay readable."""
        return self.allows(province_id)

    def staff_data_q(self, path: str | None) -> Q | None:
        """`sees_staff_data` as a filter of rows whose province is at `path` (None: rows of no
        province); None when the account sees none of those rows."""
        if self.unrestricted:
            return Q()
        if self.province is None or path is None:
            return None
        return Q(**{path: self.province.pk})


EVERYWHERE = WriteScope(unrestricted=True)
NOWHERE = WriteScope(unrestricted=False)


def write_scope(user: AbstractUser | AnonymousUser | None) -> WriteScope:
    """The scope of an account. `None` is the command line run without --user: unrestricted."""
    if user is None or (user.is_authenticated and user.is_superuser):
        return EVERYWHERE
    if not user.is_authenticated:
        return NOWHERE
    profile = getattr(user, "registry_profile", None)
    if profile is not None and profile.province_id is not None:
        return WriteScope(unrestricted=False, province=profile.province)
    if user.groups.filter(name=PROVINCIAL_EDITORS).exists():
        return NOWHERE  # a provincial editor whose province was never set: fail closed
    return EVERYWHERE


def scope_note(user: AbstractUser | AnonymousUser) -> str | None:
    """What a restricted account is told (the admin's index, a refused page): which province it
    may change, or that it may change none and why. None for an unrestricted account."""
    return write_scope(user).note() if user.is_authenticated else None


def restricted_province(user: AbstractUser | AnonymousUser) -> Province | None:
    """The one province a provincial editor may change records of; None for everyone else."""
    return write_scope(user).province


def record_province_id(record: models.Model) -> int | None:
    """The province a record belongs to, or None for a record of no province."""
    if isinstance(record, Province):
        return record.pk
    if isinstance(record, Unit | Prefecture | PublishedProvinceCount):
        return record.province_id
    if isinstance(record, UnitSuccession):
        return record.predecessor.province_id if record.predecessor_id else None
    other: Any = record  # the other models are told apart by their fields, not by their class
    if getattr(other, "unit_id", None) is not None:
        return other.unit.province_id
    if getattr(other, "designation_id", None) is not None:  # an assessment: its designation's province
        return other.designation.unit.province_id
    return None


def provinces_of(records: Iterable[models.Model]) -> set[int | None]:
    """The provinces `records` belong to (`record_province_id`; None for a record of no province),
    those of a unit read in one query per 900 units."""
    found: set[int | None] = set()
    unit_ids: set[int] = set()
    for record in records:
        unit_id = getattr(record, "unit_id", None)
        if unit_id is not None:
            unit_ids.add(unit_id)
        else:
            found.add(record_province_id(record))
    ids = sorted(unit_ids)
    for start in range(0, len(ids), 900):
        found.update(Unit.objects.filter(pk__in=ids[start : start + 900]).order_by().values_list("province_id", flat=True).distinct())
    return found


def province_path(model: type[models.Model]) -> str | None:
    """`record_province_id` as a query path from `model` (or its history model, whose foreign keys
    reach the same records) to the province's id; None for a model of no province."""
    if issubclass(model, Province):
        return "id"
    if issubclass(model, Unit | Prefecture | PublishedProvinceCount):
        return "province_id"
    if issubclass(model, UnitSuccession):
        return "predecessor__province_id"
    names = {f.name for f in model._meta.concrete_fields}
    if "unit" in names:
        return "unit__province_id"
    if "designation" in names:  # an assessment: its designation's province
        return "designation__unit__province_id"
    return None


def stored_province_ids(model: type[models.Model], pks: Sequence[Any]) -> dict[Any, int | None]:
    """The provinces of records of `model` as they are in the database, by primary key (a record
    of no province, or not stored, is absent), in a query per 900 records."""
    path = province_path(model)
    if path is None:
        return {}
    found: dict[Any, int | None] = {}
    for start in range(0, len(pks), 900):
        found.update(model._default_manager.filter(pk__in=pks[start : start + 900]).values_list("pk", path))
    return found


def sees_staff_data_of(user: AbstractUser | AnonymousUser | None, record: models.Model) -> bool:
    """May `user` see who changed `record`, when and why (its History pages)? `WriteScope.sees_staff_data`."""
    return write_scope(user).sees_staff_data(record_province_id(record))


def may_change_record(user: AbstractUser | AnonymousUser | None, record: models.Model | None = None) -> bool:
    """May `user` write `record` as it now is (the doors pass it as stored), or, without a record,
    any record at all? What the doors ask to offer or hide a change; the services ask again."""
    scope = write_scope(user)
    return not scope.writes_nothing if record is None else scope.refusal(record) is None
