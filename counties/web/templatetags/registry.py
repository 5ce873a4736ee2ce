"""Display helpers: money in 万元/亿元, counts and percentages, bilingual unit names, provenance badges."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from counties.models import is_government_url, is_url, local_name, source_parts
from counties.models.programme import in_reader_language
from counties.reads import numbers
from counties.web import punctuation

register = template.Library()


@register.filter
def bracketed(note: object) -> str:
    """`note` in brackets as the page's language writes them after a word (`punctuation.bracketed`)."""
    return punctuation.bracketed(note)


@register.filter
def yuan(value: Decimal | int | None, scale: numbers.MoneyScale | None = None) -> str:
    """Money as people read it (counties.reads.numbers). Alone, with its own unit: 3700000000 →
    '37 亿元' (zh) or '3.7 billion yuan' (en). With a scale (`value|yuan:scale`, the scale from
    `money_column`), the number only, in the column's unit named once in its header."""
    return numbers.money(value, scale)


@register.simple_tag
def money_column(rows: Iterable[object], attribute: str) -> numbers.MoneyScale:
    """`{% money_column rows "funds_yuan" as scale %}`: the one unit for a column of amounts."""
    values = []
    for row in rows:
        value: Any = row
        for part in attribute.split("."):
            value = getattr(value, part, None) if value is not None else None
        values.append(value)
    return numbers.money_scale(values)


@register.filter
def thousands(value: int | Decimal | None, missing: str = "—") -> str:
    """A count as the pages write it (counties.reads.numbers): `n|thousands` → 1,218; an unknown count
    shows `missing` (`size|thousands:"?"`)."""
    return numbers.count(value, missing)


@register.filter
def pct(value: Decimal | None) -> str:
    """A percentage as the pages write it (counties.reads.numbers): one decimal, 88.6%, 100.0%."""
    return numbers.percent(value)


@register.filter
def decimal(value: Decimal | None) -> str:
    """A figure with the decimals its statistic keeps (counties.reads.numbers): 0.895, 1.7."""
    return numbers.decimal(value)


@register.filter
def share(value: Decimal | None) -> str:
    """A percentage's number alone, for a sentence that writes the % sign itself: 88.6."""
    return numbers.share(value)


@register.filter
def unit_name(unit: object) -> SafeString:
    """The Chinese name, with the romanised name beside it in English mode."""
    name_zh = getattr(unit, "name_zh", "")
    if punctuation.chinese():
        return format_html("{}", name_zh)
    return format_html('{} <span class="romanised" lang="en">{}</span>', name_zh, getattr(unit, "name_en", ""))


@register.filter
def place_name(obj: Any, form: str = "") -> SafeString:
    """Provinces, prefectures and statistics rows (anything with name_zh/name_en):

    - `place|place_name`: as unit_name, the Chinese name with the English one beside it on English pages;
    - `place|place_name:"plain"`: the name in the page's language as plain text (titles, breadcrumbs, menus);
    - `place|place_name:"short"`: the short name in the page's language (新疆 / Xinjiang) for narrow
      columns, menus and chart labels; an object without one (a prefecture) gets its plain name.
    """
    name_zh, name_en = getattr(obj, "name_zh", ""), getattr(obj, "name_en", "")
    if form == "short" and bool(getattr(obj, "short_name_zh", "")):
        name_zh, name_en = obj.short_name_zh, getattr(obj, "short_name_en", "")
    elif form not in {"short", "plain"}:
        return unit_name(obj)
    return format_html("{}", local_name(name_zh, name_en))


@register.simple_tag
def source_badge(kind: str) -> SafeString:
    labels = {
        "official": _("official"),
        "secondary": _("secondary"),
        "unverified": _("unverified"),
        "illustrative": _("illustrative"),
    }
    return format_html('<span class="badge badge-{}">{}</span>', kind, labels.get(kind, kind))


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@register.simple_tag
def recorded(text: str | None) -> SafeString:
    """Text recorded with a record (its source, a note), as a reader of the page gets it.

    Text the registry's own loaders write (the illustrative roster's source and notes, which it has
    no source of its own for, and the list of the 832) is said in the page's language
    (`in_reader_language`). Other text is shown as it was
    recorded, in the language it was written in; where that is not the page's language it is
    marked (lang="en" on a Chinese page, lang="zh-hans" on an English one) so browsers, screen
    readers and translation tools know, and so a Chinese page never passes English off as Chinese.
    """
    if text and in_reader_language(text) != text:
        return format_html("{}", in_reader_language(text))
    if not text:
        return format_html("")
    written_in = "zh-hans" if len(HAN.findall(text)) * 2 >= len(LATIN.findall(text)) else "en"
    if written_in == ("zh-hans" if punctuation.chinese() else "en"):
        return format_html("{}", text)
    return format_html('<span lang="{}">{}</span>', written_in, text)


@register.simple_tag
def sources(text: str | None) -> SafeString:
    """A record's source as a reader gets it: each part (separated by ' ; ', models.source_parts)
    on its own, every URL a link of its own whose text is its site's name.

    Government sources come first: a URL whose host is gov.cn or ends in .gov.cn (models.
    is_government_url). Any other URL is marked as not a government site: a news page, a copy of a
    notice, or a domain that has since changed hands (the reference data keeps such URLs as they
    were found), so a reader knows which link carries the authority. Text parts are shown as
    `recorded` shows them.
    """
    parts = source_parts(text or "")
    if not parts:
        return format_html("")
    ordered = sorted(parts, key=lambda part: not (is_url(part) and is_government_url(part)))
    shown = [_source_part(part) for part in ordered]
    if len(shown) == 1:
        return shown[0]
    return format_html('<ul class="sources">{}</ul>', format_html_join("", "<li>{}</li>", ((part,) for part in shown)))


def _source_part(part: str) -> SafeString:
    if not is_url(part):
        return recorded(part)
    site = (urlsplit(part).hostname or part).removeprefix("www.")
    if is_government_url(part):
        return format_html('<a href="{}" rel="nofollow noopener">{}</a>', part, site)
    note = punctuation.bracketed(_("not a government site"))
    return format_html('<a href="{}" rel="nofollow noopener">{}</a><span class="hint">{}</span>', part, site, note)


@register.filter
def yes_no(value: bool | None) -> str:
    if value is None:
        return _("not determined")
    return _("yes") if value else _("no")


@register.filter
def get_item(mapping: object, key: str) -> object:
    """request.GET|get_item:name — the current value of a query parameter."""
    getter = getattr(mapping, "get", None)
    return getter(key) if getter else None


@register.simple_tag(takes_context=True)
def with_param(context: dict, name: str, value: object) -> str:
    """The current query string with `name` set to `value` and the page reset (for facet links)."""
    query = context["request"].GET.copy()
    query[name] = str(value)
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def language_links(context: dict) -> list[dict]:
    """This page in every language, as plain links (both ways, and cacheable: no form, no CSRF token).

    `translate_url` re-reverses the current URL under the other language, keeping the query string;
    a path that does not resolve (a 404 page) gets the other language's prefix swapped by hand.
    """
    request = context.get("request")
    current = get_language() or settings.LANGUAGE_CODE
    here = request.get_full_path() if request is not None else "/"
    bare = strip_language_prefix(here)
    links = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(here, code)
        if url == here and code != current:
            url = bare if code == settings.LANGUAGE_CODE else f"/{code}{bare}"
        links.append({"code": code, "name": get_language_info(code)["name_local"], "url": url, "current": code == current})
    return links


def strip_language_prefix(path: str) -> str:
    """'/en/counties/?q=1' → '/counties/?q=1'; a path without a language prefix is returned as it is."""
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path
