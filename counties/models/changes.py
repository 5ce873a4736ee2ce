"""The change feed: one row per public record written, in commit order.

The write services (`counties.writes.feed`, called from `counties.writes.services`) add the rows in
the transaction that writes the records, so a rolled-back write leaves none; the reads
(`counties.reads.changes`) page through them by id, which the API gives out as an opaque cursor.
A row holds only what the public sees of the record (`counties.reads.public_records`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChangeAction(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    DELETED = "deleted", _("deleted")


class Change(models.Model):
    """One change to one public record: its kind and key, what was done, and the record's public
    fields after it (empty for a deletion: a tombstone)."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=40)
    key = models.CharField(_("key"), max_length=64)
    action = models.CharField(_("action"), max_length=8, choices=ChangeAction.choices)
    record = models.JSONField(_("record"), null=True, blank=True)
    # For the filters: the province (code) of the record, through its unit; and the unit's id, with
    # which a county's changes are found through its code changes (not a foreign key: a deleted unit's
    # changes stay).
    province = models.CharField(_("province"), max_length=6, blank=True)
    unit_id = models.BigIntegerField(_("unit"), null=True, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["kind", "id"], name="change_kind_id"),
            models.Index(fields=["province", "id"], name="change_province_id"),
            models.Index(fields=["unit_id", "id"], name="change_unit_id"),
            # A record's last change: what the feed last gave for it (a dependent unchanged, a removed record named).
            models.Index(fields=["kind", "key", "id"], name="change_kind_key_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=ChangeAction.values), name="change_action_valid"),
            models.CheckConstraint(
                condition=Q(action=ChangeAction.DELETED, record__isnull=True) | (~Q(action=ChangeAction.DELETED) & Q(record__isnull=False)),
                name="change_tombstone_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.action} {self.kind} {self.key}"


class ChangePruning(models.Model):
    """One pruning of the feed (`manage.py prune_changes`): every change up to `pruned_through` is
    gone, so a cursor before it can no longer be followed (the API answers 410 Gone)."""

    pruned_through = models.BigIntegerField(_("pruned through"))
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-pruned_through"]
        verbose_name = _("pruning of the change feed")
        verbose_name_plural = _("prunings of the change feed")

    def __str__(self) -> str:
        return f"≤ {self.pruned_through}"
