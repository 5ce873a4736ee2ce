"""Reading the change feed: the opaque cursor, a page of changes after one, the filters, and what
has been pruned. The rows are written by `counties.writes.feed`; what they hold is defined by
`counties.reads.public_records`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counties.models import Batch, Change, ChangeAction, ChangePruning, Indicator, Unit, local_name
from counties.reads import numbers
from counties.reads.places import place_units

_PREFIX = "feed:"


class BadCursor(ValueError):
    """A cursor the feed did not give out."""


def encode_cursor(change_id: int) -> str:
    """The opaque cursor of the change `change_id` (0: before the first change)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The change id a cursor stands for; BadCursor for anything the feed did not give out. Only
    the spelling the feed gives is read (no padding, no leading zero, ASCII digits only), so one
    position has one cursor."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(cursor) from None
    digits = text[len(_PREFIX) :]
    if not text.startswith(_PREFIX) or not digits.isascii() or not digits.isdigit() or encode_cursor(int(digits)) != cursor:
        raise BadCursor(cursor)
    return int(digits)


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
    unit_ids: Iterable[int] | QuerySet | None = None,
    limit: int = 100,
) -> ChangePage:
    """The changes after the change `after`, oldest first, at most `limit`, filtered by kind, by
    province (codes) and by unit (ids, for a county through its code changes). Two queries.

    The page is read up to the newest change when it starts (its head), so the cursor it gives
    next, when nothing more is waiting, is the head's: a filtered follower that has seen every
    change it asked for moves on with the feed and is never left behind a pruning. A cursor past
    the head is not one this feed gave out (another deployment's, or from before a restore)."""
    head = latest_change_id()
    if after > head:
        raise BadCursor(encode_cursor(after))
    rows: QuerySet[Change] = Change.objects.filter(id__gt=after, id__lte=head)
    kinds, provinces = list(kinds), list(provinces)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    if provinces:
        rows = rows.filter(province__in=provinces)
    if unit_ids is not None:
        rows = rows.filter(unit_id__in=unit_ids if isinstance(unit_ids, QuerySet) else list(unit_ids))
    found = list(rows.order_by("id")[: limit + 1])
    page, has_more = found[:limit], len(found) > limit
    return ChangePage(page, encode_cursor(page[-1].id if has_more else head), has_more)


def recent_changes(
    *, kinds: Iterable[str] = (), provinces: Iterable[str] = (), unit_ids: Iterable[int] | QuerySet | None = None, limit: int = 100
) -> list[Change]:
    """The newest changes, newest first (the people's page and the Atom feed). One query; by unit,
    one a unit (a place has a few): each reads its unit's newest on the index (unit_id, id), where one
    query for all would walk the whole feed backwards until it had found enough."""
    rows: QuerySet[Change] = Change.objects.all()
    kinds, provinces = list(kinds), list(provinces)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    if provinces:
        rows = rows.filter(province__in=provinces)
    if unit_ids is None:
        return list(rows.order_by("-id")[:limit])
    found = [change for unit in sorted(set(unit_ids)) for change in rows.filter(unit_id=unit).order_by("-id")[:limit]]
    return sorted(found, key=lambda change: -change.id)[:limit]


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


def place_unit_ids(code: str) -> list[int]:
    """The ids of every unit of the place `code` names today (an old code finds its place), for the
    county filter: the place's changes under any of its codes. One query."""
    return [row["ancestor"] for row in place_units(Unit.objects.filter(key=code))]


# -- in words, for the people's page and the Atom feed ----------------------------------------------

KIND_LABELS = {
    "unit": gettext_lazy("County-level unit"),
    "succession": gettext_lazy("Code change"),
    "poverty_status": gettext_lazy("Poverty-county status"),
    "batch": gettext_lazy("Batch"),
    "designation": gettext_lazy("Designation"),
    "funding": gettext_lazy("Funding"),
    "programme_fact": gettext_lazy("Programme figure"),
    "published_province_count": gettext_lazy("Published province count"),
    "indicator": gettext_lazy("Indicator"),
    "indicator_value": gettext_lazy("Indicator value"),
    "assessment": gettext_lazy("Assessment"),
    "pairing": gettext_lazy("Pairing"),
    "lifecycle_record": gettext_lazy("Lifecycle record"),
    "listed_poverty_county": gettext_lazy("Entry of the list of 832"),
}
# The field of a kind's public record that names its county (a unit's own key is its change's key).
COUNTY_FIELD = {
    "succession": "predecessor",
    "poverty_status": "unit",
    "designation": "unit",
    "funding": "unit",
    "indicator_value": "code",
    "assessment": "code",
    "pairing": "code",
    "lifecycle_record": "code",
    "listed_poverty_county": "unit",
}
ACTION_LABELS: dict[str, Any] = {
    ChangeAction.CREATED: gettext_lazy("added"),
    ChangeAction.CHANGED: gettext_lazy("changed"),
    ChangeAction.DELETED: gettext_lazy("removed"),
}


@dataclass(frozen=True)
class ChangeItem:
    """One change in words: what it is (kind and action, in the reader's language), which record
    (`title`), and what to link: the county's page (`county`, a registry key) or a batch's (`batch_year`)."""

    id: int
    at: Any
    action: str
    kind: str
    kind_label: str
    action_label: str
    title: str
    county: str | None
    batch_year: int | None
    province: str


def last_fed(kind: str, keys: Sequence[str]) -> dict[str, Any]:
    """The public fields the feed last gave for the records `keys` of `kind` (None after a
    tombstone; absent when never fed): two queries per 900 keys."""
    found: dict[str, Any] = {}
    for start in range(0, len(keys), 900):
        chunk = list(keys[start : start + 900])
        last = Change.objects.filter(kind=kind, key__in=chunk).values("key").annotate(last=Max("id")).values("last")
        found.update(Change.objects.filter(id__in=last).values_list("key", "record"))
    return found


def removed_records(changes: list[Change]) -> dict[tuple[str, str], dict[str, Any]]:
    """For the tombstones among `changes`: the record each removed (the last change of its kind and
    key that had one), by (kind, key). One query whatever their number, none without a tombstone."""
    gone = {(c.kind, c.key) for c in changes if not c.record}
    if not gone:
        return {}
    which = Q()
    for kind, key in sorted(gone):
        which |= Q(kind=kind, key=key)
    last = Change.objects.filter(which).exclude(record=None).values("kind", "key").annotate(last=Max("id")).values("last")
    return {(c.kind, c.key): c.record or {} for c in Change.objects.filter(id__in=last).only("kind", "key", "record")}


def in_words(changes: list[Change]) -> list[ChangeItem]:
    """The changes in words, in a few queries whatever their number: the records tombstones removed
    (when there are any), the units, batches and indicators they name."""
    removed = removed_records(changes)
    records = [c.record or removed.get((c.kind, c.key)) or {} for c in changes]
    keys = {c.key if c.kind == "unit" else r.get(COUNTY_FIELD.get(c.kind, "")) for c, r in zip(changes, records, strict=True)} - {None}
    unit_ids = {c.unit_id for c in changes if c.unit_id is not None}
    units = {}
    if keys or unit_ids:
        rows = Unit.objects.filter(key__in=sorted(keys)) | Unit.objects.filter(pk__in=sorted(unit_ids))
        units = {pk: (key, name_zh, name_en) for pk, key, name_zh, name_en in rows.values_list("pk", "key", "name_zh", "name_en")}
    by_key = {key: (name_zh, name_en) for key, name_zh, name_en in units.values()}
    # A removed unit is named as its last record named it.
    names = {c.key: (r.get("name_zh", ""), r.get("name_en", "")) for c, r in zip(changes, records, strict=True) if c.kind == "unit" and r}
    names.update(by_key)
    batch_ids: set[int] = {r["batch"] for r in records if r.get("batch")}
    batches = dict(Batch.objects.filter(pk__in=batch_ids).values_list("pk", "year")) if batch_ids else {}
    indicator_codes = {r["indicator"] for c, r in zip(changes, records, strict=True) if c.kind == "indicator_value" and r.get("indicator")}
    indicators = (
        {
            code: (name_zh, name_en, unit_zh, unit_en)
            for code, name_zh, name_en, unit_zh, unit_en in Indicator.objects.filter(code__in=indicator_codes).values_list(
                "code", "name_zh", "name_en", "unit_zh", "unit_en"
            )
        }
        if indicator_codes
        else {}
    )

    def county_named(key: str | None) -> str:
        if not key:
            return ""
        named = names.get(key)
        return f"{local_name(*named)} ({key})" if named and named[0] else key

    items = []
    for change, record in zip(changes, records, strict=True):
        county = change.key if change.kind == "unit" else record.get(COUNTY_FIELD.get(change.kind, ""))
        if county is None and change.unit_id is not None and change.unit_id in units:
            county = units[change.unit_id][0]
        batch_year = (
            record.get("batch_year") or batches.get(record.get("batch") or 0) or (record.get("year") if change.kind == "batch" else None)
        )
        items.append(
            ChangeItem(
                id=change.id,
                at=change.at,
                action=change.action,
                kind=change.kind,
                kind_label=str(KIND_LABELS.get(change.kind, change.kind)),
                action_label=str(ACTION_LABELS.get(change.action, change.action)),
                title=_title(change, record, county_named(county), batch_year, indicators),
                county=county if county in by_key else None,
                batch_year=batch_year,
                province=change.province,
            )
        )
    return items


def _indicator_value(record: dict[str, Any], county: str, indicators: dict[str, tuple[str, str, str, str]]) -> str:
    """ "蛟河市 (220281)，网络零售额，2017年：100.5 亿元" / "Jiaohe (220281), online retail sales, 2017: 100.5 …":
    the indicator by its name in the reader's language, the value as the site writes figures."""
    code = record.get("indicator") or ""
    name_zh, name_en, unit_zh, unit_en = indicators.get(code, (code, "", "", ""))
    try:
        value = numbers.decimal(Decimal(str(record.get("value"))))
    except (InvalidOperation, ValueError):
        value = str(record.get("value"))
    unit = local_name(unit_zh, unit_en)
    return (
        _("%(county)s, %(indicator)s, %(year)s: %(value)s %(unit)s")
        % {
            "county": county,
            "indicator": local_name(name_zh, name_en) or code,
            "year": record.get("year"),
            "value": value,
            "unit": unit,
        }
        if unit
        else _("%(county)s, %(indicator)s, %(year)s: %(value)s")
        % {
            "county": county,
            "indicator": local_name(name_zh, name_en) or code,
            "year": record.get("year"),
            "value": value,
        }
    )


def _title(
    change: Change, record: dict[str, Any], county: str, batch_year: int | None, indicators: dict[str, tuple[str, str, str, str]]
) -> str:
    """Which record a change is of, in a few words in the reader's language; a tombstone is named
    by the record it removed (`record`), else by its key."""
    kind = change.kind
    if not record:  # a record never seen: its key, and its county where known
        if kind == "unit":
            return county or change.key
        return f"{county} #{change.key}" if county else f"#{change.key}"
    if kind == "unit":
        return county
    if kind == "succession":
        return _("%(county)s → %(successor)s (%(year)s)") % {
            "county": county,
            "successor": record["successor_code"],
            "year": record["year"],
        }
    if kind == "batch":
        return local_name(record.get("title_zh", ""), record.get("title_en", ""))
    if kind in ("designation", "assessment"):
        return _("%(county)s, batch of %(year)s") % {"county": county, "year": batch_year}
    if kind == "funding":
        return _("%(county)s, %(year)s: %(amount)s yuan") % {"county": county, "year": record["fiscal_year"], "amount": record["amount"]}
    if kind == "programme_fact":
        return f"{record['period']} {record['metric']}: {record['value_text']} {record['value_unit']}".strip()
    if kind == "published_province_count":
        return f"{record['year']} {record['province']}: {record['count']}"
    if kind == "indicator":
        return local_name(record.get("name_zh", ""), record.get("name_en", ""))
    if kind == "indicator_value":
        return _indicator_value(record, county, indicators)
    if kind == "pairing":
        return f"{county} — {record['partner_name']}"
    return county or change.key
