"""How a loader writes without undoing what staff did: the one mechanism every loader uses.

A loader remembers what it last wrote to each record (`ReferenceSnapshot`, one per record and
loader) and changes a field only while the record still holds that value. A value changed since,
or a record deleted since, stays as staff left it and is reported by name. A loader removes a
record it no longer wants only while the record still holds everything the loader wrote to it.
Every write goes through `services.write_records` (or its removals), as every door's does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models

from counties.models import ReferenceSnapshot
from counties.reads import numbers
from counties.writes.services import write_records


@dataclass
class ModelCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Fields where the registry holds a value someone put there since the last load, and which
    # the reload therefore left alone although the loader would write otherwise (one line each).
    kept: list[str] = field(default_factory=list)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a reference to a record the registry no longer has under the loader's key


def _json(value: Any) -> Any:
    """A field value as stored in a snapshot."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def describe_key(row_key: tuple) -> str:
    return ", ".join("?" if part is MISSING else str(part) for part in row_key)


def snapshot_key(row_key: tuple) -> str:
    return json.dumps([_json(k) for k in row_key], ensure_ascii=False)


@dataclass(frozen=True)
class Loaded:
    """Whose snapshots these are: `namespace` keeps two loaders' snapshots of the same model
    apart (none: the model's label, load_reference_data's), and the reasons their history gives."""

    model: type[models.Model]
    created_reason: str
    changed_reason: str
    namespace: str = ""
    says: str = "the reference data says"  # how a kept value's report names what the loader wanted

    @property
    def label(self) -> str:
        return f"{self.namespace}:{self.model._meta.label}" if self.namespace else self.model._meta.label


def sync_records(
    loaded: Loaded,
    label: str,
    key: tuple[str, ...],
    rows: list[dict[str, Any]],
    keep: Any = None,
    describe: Callable[[tuple], str] = describe_key,
    among: models.QuerySet | None = None,
) -> tuple[ModelCount, dict[tuple, int]]:
    """Create or update `rows` (dicts of field values, FKs as *_id) matched on `key`; `label`
    names the records in the report, `describe(key)` each record.

    A field is written only while the record still holds what the previous load wrote (its
    snapshot); a value someone changed since is kept and reported, and a record someone
    deleted is not recreated. Every record written gets a history entry whose reason names the
    loader. `keep(existing_values, row)` may drop fields the loader must not consider at all.
    Returns the counts and a map from key to primary key for every row. `among` narrows the stored
    records the rows are matched with (the national batches: a province's own batch of the same
    year and sequence is not one of the files').
    """
    model: Any = loaded.model
    count = ModelCount()
    # A row whose province, unit or batch is no longer in the registry under the files' key
    # (someone changed that key, or deleted the record) cannot be placed: it is reported.
    orphans = [row for row in rows if MISSING in row.values()]
    for row in orphans:
        missing = ", ".join(name.removesuffix("_id") for name, value in row.items() if value is MISSING)
        count.kept.append(f"{label} {describe_key(tuple(row[k] for k in key))}: not loaded, its {missing} is not in the registry")
    rows = [row for row in rows if MISSING not in row.values()]
    if not rows:
        return count, {}
    fields = list(rows[0].keys())
    stored = model._default_manager.all() if among is None else among
    existing = {tuple(v[k] for k in key): v for v in stored.values("pk", *fields)}
    snapshots = {s.key: s for s in ReferenceSnapshot.objects.filter(model=loaded.label)}
    to_create: list[models.Model] = []
    to_update: dict[Any, dict[str, Any]] = {}  # primary key -> the fields the loader changes
    changed_fields: set[str] = set()
    new_snapshots, changed_snapshots = [], []
    for row in rows:
        row_key = tuple(row[k] for k in key)
        skey = snapshot_key(row_key)
        snapshot = snapshots.get(skey)
        current = existing.get(row_key)
        if current is None:
            if snapshot is not None:
                count.kept.append(f"{label} {describe(row_key)}: deleted in the registry, not recreated")
                continue
            to_create.append(model(**row))
            new_snapshots.append(ReferenceSnapshot(model=loaded.label, key=skey, values={f: _json(v) for f, v in row.items()}))
            continue
        wanted = keep(current, row) if keep else row
        before = snapshot.values if snapshot is not None else {}
        recorded = dict(before)
        diff = {}
        for name, value in wanted.items():
            if current[name] == value:
                recorded[name] = _json(value)
            elif name in before and current[name] == model._meta.get_field(name).to_python(before[name]):
                diff[name] = value  # nobody changed it since the last load: the new value goes in
                recorded[name] = _json(value)
            elif snapshot is not None and name not in before and current[name] == model._meta.get_field(name).get_default():
                # A column the files gained since the last load (a new field, still empty): filled in.
                diff[name] = value
                recorded[name] = _json(value)
            else:  # someone changed it since (or it predates snapshots): theirs stands
                count.kept.append(f"{label} {describe(row_key)}: {name} is {_shown(current[name])}, {loaded.says} {_shown(value)}")
        if diff:
            to_update[current["pk"]] = diff
            changed_fields.update(diff)
            count.updated += 1
        else:
            count.unchanged += 1
        if snapshot is None:
            new_snapshots.append(ReferenceSnapshot(model=loaded.label, key=skey, values=recorded))
        elif recorded != before:
            snapshot.values = recorded
            changed_snapshots.append(snapshot)
    # Written by the service every door writes through, so the loader's records are held to the
    # same rules (the replacement rule, the 832, lineage upkeep) and get the same history.
    if to_create:
        write_records(model, to_create, [], official=to_create, fields=[], user=None, reason=loaded.created_reason)
    if to_update:
        # The records whole, as the history records every field (bulk_update writes only the changed ones).
        changed = list(model._default_manager.in_bulk(list(to_update)).values())
        for record in changed:
            for name, value in to_update[record.pk].items():
                setattr(record, name, value)
        write_records(model, [], changed, official=changed, fields=sorted(changed_fields), user=None, reason=loaded.changed_reason)
    ReferenceSnapshot.objects.bulk_create(new_snapshots, batch_size=500)
    ReferenceSnapshot.objects.bulk_update(changed_snapshots, ["values"], batch_size=500)
    count.created = len(to_create)
    ids = {tuple(v[k] for k in key): v["pk"] for v in stored.values("pk", *key)}
    return count, ids


def changed_since_loaded(loaded: Loaded, key: tuple[str, ...], records: Iterable[dict[str, Any]]) -> dict[tuple, list[str]]:
    """Of `records` (dicts holding `key`'s fields and those the loader wrote), the ones someone has
    changed since the loader wrote them, by key, each with the fields changed. A record with no
    snapshot counts as changed: nothing says what the loader wrote to it, so it is not the loader's
    to remove."""
    model: Any = loaded.model
    snapshots = dict(ReferenceSnapshot.objects.filter(model=loaded.label).values_list("key", "values"))
    changed: dict[tuple, list[str]] = {}
    for record in records:
        row_key = tuple(record[k] for k in key)
        before = snapshots.get(snapshot_key(row_key))
        if before is None:
            changed[row_key] = []
            continue
        fields = [name for name, value in before.items() if name in record and record[name] != model._meta.get_field(name).to_python(value)]
        if fields:
            changed[row_key] = fields
    return changed


def forget(loaded: Loaded, keys: Iterable[tuple] | None = None) -> None:
    """Drop the snapshots of records the loader itself removed (all of them when `keys` is None),
    so that wanting such a record again creates it rather than reading as a deletion by staff."""
    snapshots = ReferenceSnapshot.objects.filter(model=loaded.label)
    if keys is not None:
        wanted = [snapshot_key(k) for k in keys]
        for start in range(0, len(wanted), 900):
            snapshots.filter(key__in=wanted[start : start + 900]).delete()
        return
    snapshots.delete()


def _shown(value: Any) -> str:
    """A value in a loader's report, as a person reads it: yes/no, a plain number, "empty"."""
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return numbers.decimal(value)
    return f"“{value}”" if isinstance(value, str) else str(value)
