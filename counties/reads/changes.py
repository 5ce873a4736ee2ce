"""Reading the change feed: the opaque cursor, a page of changes after one, the filters, and what
has been pruned. The rows are written by `counties.writes.feed`; what they hold is defined by
`counties.reads.public_records`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, QuerySet

from counties.models import Change, ChangePruning

_PREFIX = "feed:"


class BadCursor(ValueError):
    """A cursor the feed did not give out."""


def encode_cursor(change_id: int) -> str:
    """The opaque cursor of the change `change_id` (0: before the first change)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The change id a cursor stands for; BadCursor for anything the feed did not give out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(cursor) from None
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise BadCursor(cursor)
    return int(text[len(_PREFIX) :])


def latest_change_id() -> int:
    return Change.objects.aggregate(latest=Max("id"))["latest"] or 0


def current_cursor() -> str:
    """The cursor of the newest change: a client that holds every record as it is now (a snapshot
    taken in the same transaction) follows the feed from here."""
    return encode_cursor(latest_change_id())


def pruned_through() -> int:
    """The last change id pruned (0: none ever was); a cursor before it cannot be followed."""
    return ChangePruning.objects.aggregate(through=Max("pruned_through"))["through"] or 0


def is_gone(after: int) -> bool:
    """Whether changes after `after` have been pruned: the client must start again from a snapshot."""
    return after < pruned_through()


@dataclass(frozen=True)
class ChangePage:
    changes: list[Change]
    next_cursor: str  # the cursor to ask next (the last change's, or the one asked when none)
    has_more: bool


def changes_after(
    after: int = 0,
    *,
    kinds: Iterable[str] = (),
    provinces: Iterable[str] = (),
    unit_ids: Iterable[int] | None = None,
    limit: int = 100,
) -> ChangePage:
    """The changes after the change `after`, oldest first, at most `limit`, filtered by kind, by
    province (codes) and by unit (ids, for a county through its code changes). One query."""
    rows: QuerySet[Change] = Change.objects.filter(id__gt=after)
    kinds, provinces = list(kinds), list(provinces)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    if provinces:
        rows = rows.filter(province__in=provinces)
    if unit_ids is not None:
        rows = rows.filter(unit_id__in=list(unit_ids))
    found = list(rows.order_by("id")[: limit + 1])
    page = found[:limit]
    return ChangePage(page, encode_cursor(page[-1].id if page else after), len(found) > limit)


def recent_changes(
    *, kinds: Iterable[str] = (), provinces: Iterable[str] = (), unit_ids: Iterable[int] | None = None, limit: int = 100
) -> list[Change]:
    """The newest changes, newest first (the people's page and the Atom feed). One query."""
    rows: QuerySet[Change] = Change.objects.all()
    kinds, provinces = list(kinds), list(provinces)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    if provinces:
        rows = rows.filter(province__in=provinces)
    if unit_ids is not None:
        rows = rows.filter(unit_id__in=list(unit_ids))
    return list(rows.order_by("-id")[:limit])


def replay(changes: Iterable[Change | dict[str, Any]], store: dict[tuple[str, str], Any]) -> None:
    """Apply changes to a mirror held as {(kind, key): public fields}: the one rule a client follows
    (a created or changed record replaces what is held under its key; a tombstone removes it)."""
    for change in changes:
        kind, key, action, record = (
            (change.kind, change.key, change.action, change.record)
            if isinstance(change, Change)
            else (change["kind"], change["key"], change["action"], change.get("record"))
        )
        if action == "deleted":
            store.pop((kind, key), None)
        else:
            store[(kind, key)] = record
