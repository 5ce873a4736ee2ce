"""Staff and housekeeping records: reference snapshots, the data version, import records, files kept
for an import's confirmation, staff profiles and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from counties.models.base import CHANGE_REASON_MAX_LENGTH, no_control_characters
from counties.models.units import Province


class ReferenceSnapshot(models.Model):
    """What a loader (`load_reference_data`, or the illustrative roster under its own `model`
    prefix) last wrote to one record, field by field (JSON values); counties.writes.snapshots
    reads and writes them.

    A reload changes a field only while the record still holds the value recorded here: any other
    value was put there since by a person (or another door), and the reload keeps it and reports
    it. A snapshot whose record is gone means someone deleted it; the reload does not bring it back.
    """

    model = models.CharField(max_length=64)
    key = models.CharField(max_length=200)  # the record's natural key in the reference files, as JSON
    values = models.JSONField()

    class Meta:
        ordering = ["model", "key"]
        verbose_name = _("reference data snapshot")
        verbose_name_plural = _("reference data snapshots")
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="reference_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.model} {self.key}"


class DataVersion(models.Model):
    """One row whose token changes whenever a record the statistics read changes.

    Cached statistics are keyed by the token, so an edit made in any process is seen by every
    other process at its next read, whatever cache backend each uses. A random token (not a
    counter) also stays correct when a transaction that changed it is rolled back.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data version")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="data_version_single_row")]

    def __str__(self) -> str:
        return self.token


class ImportRecord(models.Model):
    """One import that was written (admin or command line): who, when, which file, what it did.

    Written by `services.write_records` in the import's own transaction, so a rolled-back import
    leaves no record; the data officer's dashboard lists the recent ones.
    """

    created_at = models.DateTimeField(_("imported at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    model = models.CharField(_("records"), max_length=64, help_text=_("The model's label, e.g. counties.designation."))
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    rows = models.PositiveIntegerField(_("rows in the file"))
    created = models.PositiveIntegerField(_("created"))
    changed = models.PositiveIntegerField(_("changed"))
    unchanged = models.PositiveIntegerField(_("unchanged"))
    removed = models.PositiveIntegerField(_("removed"))
    reason = models.CharField(_("reason"), max_length=CHANGE_REASON_MAX_LENGTH)
    # Whose staff data the import is (`WriteScope.sees_staff_data`): its file name and reason are
    # shown to a provincial editor of this province; none is shown for an import across provinces.
    province = models.ForeignKey(
        Province,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("The one province whose records the import wrote or removed; empty when it wrote those of several, or of none."),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.model} {self.file_name}"

    @property
    def model_class(self) -> type[models.Model] | None:
        from django.apps import apps

        try:
            return apps.get_model(self.model)
        except (LookupError, ValueError):
            return None


class KeptImport(models.Model):
    """A file read on the admin's import page, kept for its confirmation (`counties.writes.imports.kept`).

    In the database, not a cache: an evicting cache could drop it between the preview and the
    confirmation. It belongs to the staff member who uploaded it, in the session they uploaded it in, and is written once: the
    confirmation locks it, writes the records and marks it used in one transaction, so a second
    confirmation finds it used and is told which import wrote it.
    """

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    session = models.CharField(max_length=64, blank=True)  # a digest of the uploader's session key, never the key
    model = models.CharField(max_length=64, blank=True)  # the records' label, e.g. counties.designation
    file_format = models.CharField(max_length=8, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    import_record = models.OneToOneField(ImportRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("kept import file")
        verbose_name_plural = _("kept import files")

    def __str__(self) -> str:
        return f"{self.file_name or self.key} ({self.model})"


class StaffProfile(models.Model):
    """What a staff account may touch beyond its permissions: a provincial editor's province."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_profile", verbose_name=_("user"))
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("province"),
        help_text=_("A provincial editor changes only records of this province (everything stays visible)."),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.province or _('all provinces')})"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class ApiToken(models.Model):
    """A partner's API token. Only its SHA-256 hash is stored; the key is shown once, when issued."""

    KEY_PREFIX = "dcr_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("Who or what the token is for."), validators=[no_control_characters])
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    can_write = models.BooleanField(
        _("may write"), default=False, help_text=_("Read-only unless set; writes also need the user's permissions.")
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str, **fields: object) -> tuple[ApiToken, str]:
        """Create a token; returns it with the plain key, which is not stored anywhere."""
        token = cls(user=user, name=name, **fields)
        key = token.new_key()
        token.save(force_insert=True)
        return token, key

    def new_key(self) -> str:
        """Give the token a new key (not saved yet) and return it: only its hash is kept, so the
        key is shown once, by whoever issues it (`issue`, the admin)."""
        key = self.KEY_PREFIX + secrets.token_urlsafe(32)
        self.key_hash, self.key_prefix = hash_token(key), key[:8]
        return key

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


# -- staff roles: permission groups (created by counties.writes.roles.ensure_roles) ----------------

DATA_MODELS = ["designation", "fundingallocation", "povertystatus"]
REFERENCE_MODELS = ["unit", "unitsuccession", "batch", "province", "prefecture", "programmefact", "publishedprovincecount"]
# Targets and results: values, assessments and pairings are data; the catalogue is reference.
DATA_MODELS += ["indicatorvalue", "assessment", "pairing"]
REFERENCE_MODELS += ["indicator"]
# The list of the 832 the poverty statuses are held to (kept by load_reference_data).
REFERENCE_MODELS += ["listedpovertycounty"]
# A designation's path (acceptance, withdrawal, funds): data, a provincial editor's for their province.
DATA_MODELS += ["lifecyclerecord"]
ALL_MODELS = DATA_MODELS + REFERENCE_MODELS

# Each role's group is stored under its English name, the key the code finds it by; staff read it
# in their own language (`role_name`, `Role`).
DATA_EDITORS = gettext_noop("data editors")
PROVINCIAL_EDITORS = gettext_noop("provincial editors")
REFERENCE_ADMINISTRATORS = gettext_noop("reference-data administrators")
VIEWERS = gettext_noop("read-only viewers")


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


def role_name(name: str) -> str:
    """A group's name as the reader reads it: a role's in the reader's language, any other group's
    as it was named."""
    return gettext(name) if name in ROLES else name


class Role(Group):
    """A permission group as the staff site shows it: named by `role_name` wherever it appears
    (the roles' list and page, a user's groups, the users' filter)."""

    class Meta:
        proxy = True
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return role_name(self.name)


# Django stores its own permissions' names in English ("Can change designation"); they are shown
# as what they let a person do, in the reader's language.
PERMISSION_ACTIONS = {"add": _("may add"), "change": _("may change"), "delete": _("may delete"), "view": _("may view")}


def permission_name(permission: Permission) -> str:
    """'示范县认定 | 可修改' for Django's own permissions (the records, by their model's name, and the
    action); any other as it was named."""
    action, _separator, model = permission.codename.partition("_")
    model_class = permission.content_type.model_class()
    if action in PERMISSION_ACTIONS and model == permission.content_type.model and model_class is not None:
        return f"{model_class._meta.verbose_name} | {PERMISSION_ACTIONS[action]}"
    return str(permission)
