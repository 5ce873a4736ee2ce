"""The change feed for people: /changes/ (recent public changes in words, with links) and its Atom
feed (/changes/atom/), both filterable by province (?province=CODE) and by county (?county=CODE:
an old code finds its place). What a change holds and says: counties.reads.changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from counties.models import Province, Unit, local_name
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
    query: str = ""  # the query string that chose them, for the Atom feed's own address and id
    root: str = ""  # the site's absolute address, for the Atom feed's ids

    def recent(self, limit: int = RECENT) -> list[ChangeItem]:
        unit_ids = changes.place_unit_ids(self.county.key) if self.county is not None else None
        provinces = [self.province.code] if self.province is not None else []
        return changes.in_words(changes.recent_changes(provinces=provinces, unit_ids=unit_ids, limit=limit))


def change_filter(request: HttpRequest) -> ChangeFilter:
    """The filter a reader asked for, the one home of its validation (the page and the Atom feed)."""
    chosen = ChangeFilter()
    query = {name: request.GET[name].strip() for name in QUERY if request.GET.get(name, "").strip()}
    chosen.query = urlencode(query)
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


@dataclass(frozen=True)
class Entry:
    """A change in the Atom feed, with its id: the change's absolute address on the changes page."""

    item: ChangeItem
    id: str


class BadFilter(Exception):
    """A filter the Atom feed cannot use: answered 400 naming the problem, as the page is."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(" ".join(errors))
        self.errors = errors


class ChangeAtomFeed(Feed):
    """The changes as Atom 1.0 (RFC 4287): the registry as author, each entry's id the absolute
    address of the change on the changes page, a filtered feed with its own id and self link."""

    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().__call__(request, *args, **kwargs)
        except BadFilter as bad:
            return HttpResponseBadRequest("\n".join(bad.errors), content_type="text/plain; charset=utf-8")

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> ChangeFilter:
        chosen = change_filter(request)
        if chosen.errors:
            raise BadFilter(chosen.errors)
        chosen.root = request.build_absolute_uri("/").rstrip("/")
        return chosen

    def title(self, obj: ChangeFilter) -> str:
        where = obj.county or obj.province
        base = _("Changes to the demonstration county registry")
        return punctuation.labelled(base, local_name(where.name_zh, where.name_en)) if where else base

    def link(self, obj: ChangeFilter) -> str:
        return reverse("counties:changes") + (f"?{obj.query}" if obj.query else "")

    def feed_url(self, obj: ChangeFilter) -> str:
        return reverse("counties:changes-atom") + (f"?{obj.query}" if obj.query else "")

    def feed_guid(self, obj: ChangeFilter) -> str:
        return obj.root + self.feed_url(obj)

    def author_name(self) -> str:
        return _("Demonstration county registry")

    def subtitle(self, obj: ChangeFilter) -> str:
        return _("Every change to a public record: added, changed or removed, newest first.")

    def items(self, obj: ChangeFilter) -> list[Entry]:
        page = reverse("counties:changes")
        return [Entry(item, f"{obj.root}{page}#change-{item.id}") for item in obj.recent()]

    def item_title(self, entry: Entry) -> str:
        return heading(entry.item) + entry.item.title

    def item_description(self, entry: Entry) -> str:
        return heading(entry.item) + entry.item.title

    def item_link(self, entry: Entry) -> str:
        return item_url(entry.item)

    def item_guid(self, entry: Entry) -> str:
        return entry.id

    item_guid_is_permalink = False

    def item_pubdate(self, entry: Entry) -> Any:
        return entry.item.at

    def item_updateddate(self, entry: Entry) -> Any:
        return entry.item.at
