"""The change feed for people: /changes/ (recent public changes in words, with links) and its Atom
feed (/changes/atom/), both filterable by province (?province=CODE) and by county (?county=CODE:
an old code finds its place). What a change holds and says: counties.reads.changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from counties.models import Province, Unit
from counties.reads import changes
from counties.reads.changes import ChangeItem
from counties.reads.places import place_named
from counties.web import punctuation

RECENT = 100
QUERY = ("province", "county")


@dataclass
class ChangeFilter:
    """The province and county a reader asked for, and what could not be used."""

    province: Province | None = None
    county: Unit | None = None
    errors: list[str] = field(default_factory=list)

    def recent(self, limit: int = RECENT) -> list[ChangeItem]:
        unit_ids = changes.place_unit_ids(self.county.key) if self.county is not None else None
        provinces = [self.province.code] if self.province is not None else []
        return changes.in_words(changes.recent_changes(provinces=provinces, unit_ids=unit_ids, limit=limit))


def change_filter(request: HttpRequest) -> ChangeFilter:
    chosen = ChangeFilter()
    code = request.GET.get("province", "").strip()
    if code:
        chosen.province = Province.objects.filter(code=code[:6]).first() if len(code) == 6 else None
        if chosen.province is None:
            chosen.errors.append(_("%(code)s is not the code of a province.") % {"code": code[:20]})
    key = request.GET.get("county", "").strip()
    if key:
        chosen.county = place_named(key[:7]) if len(key) <= 7 else None
        if chosen.county is None:
            chosen.errors.append(_("No county-level unit has the code %(code)s.") % {"code": key[:20]})
    return chosen


def heading(item: ChangeItem) -> str:
    """What happened, before the record's name: "示范县认定修改：" / "Designation changed: "."""
    if punctuation.chinese():
        return punctuation.labelled(f"{item.kind_label}{item.action_label}", "")
    return punctuation.labelled(f"{item.kind_label} {item.action_label}", "")


def item_url(item: ChangeItem) -> str:
    """The page where the changed record is shown: its county's, its batch's, else the changes page."""
    if item.county:
        return reverse("counties:county", args=[item.county])
    if item.batch_year:
        return reverse("counties:batch", args=[item.batch_year])
    return reverse("counties:changes") + f"#change-{item.id}"


class ChangeAtomFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> ChangeFilter:
        return change_filter(request)

    def title(self, obj: ChangeFilter) -> str:
        where = obj.county.name_zh if obj.county else (obj.province.name_zh if obj.province else "")
        base = _("Changes to the demonstration county registry")
        return f"{base}: {where}" if where else base

    def link(self, obj: ChangeFilter) -> str:
        return reverse("counties:changes")

    def subtitle(self, obj: ChangeFilter) -> str:
        return _("Every change to a public record: added, changed or removed, newest first.")

    def items(self, obj: ChangeFilter) -> list[ChangeItem]:
        return [] if obj.errors else obj.recent()

    def item_title(self, item: ChangeItem) -> str:
        return heading(item) + item.title

    def item_description(self, item: ChangeItem) -> str:
        return heading(item) + item.title

    def item_link(self, item: ChangeItem) -> str:
        return item_url(item)

    def item_guid(self, item: ChangeItem) -> str:
        return f"change-{item.id}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: ChangeItem) -> Any:
        return item.at

    def item_updateddate(self, item: ChangeItem) -> Any:
        return item.at
