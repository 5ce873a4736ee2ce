"""The county list's rows and facet values, written as HTML in Python.

A 50-row page has some 2,500 template nodes in its rows (two loops per row, a URL, translations
and filters per cell) and a facet value was an included template: rendering them with the
template engine cost a cold list page more than all its queries. Here each piece of text the
page repeats (a translation, a URL pattern, a province's name) is worked out once per page and
each row is one string. The output is exactly what the templates wrote (the tests of the pages
read it), escaped as the template engine escapes: every value from the database through
`escape` (the standard library's, which Django's wraps: these values are all plain text),
translations of fixed text too, and the Chinese and English of each string are the same msgids
as before (`gettext` here, `{% translate %}` there), so no translation changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from counties.models import UNIT_TYPE_LABELS, Province
from counties.reads import numbers
from counties.reads.selectors import ListedUnit
from counties.web.templatetags.registry import place_name, unit_name

register = template.Library()


def _url_of(name: str, sample: str) -> Callable[[object], str]:
    """`reverse(name, args=[value])` for many values at the cost of one reverse (a reverse per
    row was a tenth of the page): the URL of `sample`, with the value in its place."""
    before, found, after = reverse(name, args=[sample]).rpartition(sample)
    assert found, f"{name} does not show its argument {sample!r}"
    before, after = escape(before), escape(after)
    return lambda value: f"{before}{escape(str(value))}{after}"


@register.simple_tag
def county_rows(units: list[ListedUnit], provinces: Iterable[Province]) -> SafeString:
    """The rows of the county list's table (`<tr>` each), or its "no unit" row."""
    if not units:
        nothing = escape(gettext("No unit matches these filters."))
        return mark_safe(f'<tr><td colspan="6">{nothing}</td></tr>')
    county_url, batch_url = _url_of("counties:county", "000000"), _url_of("counties:batch", "2000")
    shown = {unit.province_id for unit in units}
    province_names = {p.pk: place_name(p, "short") for p in provinces if p.pk in shown}
    # gettext outside the f-strings: xgettext (makemessages) does not look inside them.
    retired_word, illustrative_word = escape(gettext("retired")), escape(gettext("illustrative"))
    retired = f' <span class="badge badge-retired">{retired_word}</span>'
    # Each string written out, so that makemessages finds it here.
    labels = {
        "Province": escape(gettext("Province")),
        "Type": escape(gettext("Type")),
        "Poverty county": escape(gettext("Poverty county")),
        "Batches": escape(gettext("Batches")),
    }
    yes, illustrative = escape(gettext("yes")), f'<abbr title="{illustrative_word}">*</abbr>'
    listed_as, exited = gettext("as %(name)s %(code)s"), gettext("exited %(year)s")
    type_names: dict[str, str] = {}
    rows = []
    for unit in units:
        if unit.unit_type not in type_names:
            type_names[unit.unit_type] = escape(str(UNIT_TYPE_LABELS.get(unit.unit_type, unit.unit_type)))
        statuses = []
        for status in unit.place_poverty:
            text = yes
            if status.unit_id != unit.pk:
                text += " (" + listed_as % {"name": escape(status.unit.name_zh), "code": escape(status.unit.key)} + ")"
            if status.exit_year:
                text += " (" + exited % {"year": status.exit_year} + ")"
            statuses.append(text)
        entries = []
        for d in unit.place_entries:
            text = f'<a href="{batch_url(d.batch.year)}">{d.batch.year}</a>'
            if d.unit_id != unit.pk:
                text += f' <span class="hint">({escape(d.unit.key)})</span>'
            if d.is_illustrative:
                text += illustrative
            entries.append(text)
        badge = "" if unit.is_in_use else retired
        rows.append(
            "<tr>\n"
            f'      <td class="card-title"><a href="{county_url(unit.key)}">{escape(unit.key)}</a>{badge}</td>\n'
            f'      <td class="card-title name">{unit_name(unit)}</td>\n'
            f'      <td data-label="{labels["Province"]}">{province_names.get(unit.province_id, "")}</td>\n'
            f'      <td data-label="{labels["Type"]}">{type_names[unit.unit_type]}</td>\n'
            f'      <td data-label="{labels["Poverty county"]}">{"; ".join(statuses) or "—"}</td>\n'
            f'      <td data-label="{labels["Batches"]}">{", ".join(entries) or "—"}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(rows))


@register.simple_tag
def facet_items(items: list[dict[str, Any]]) -> SafeString:
    """A facet's values as `<li>`s: the link that chooses the value (or, when chosen, removes
    it), its name and how many units it has."""
    hidden = escape(gettext("(remove this filter)"))
    answers = {"true": escape(gettext("yes")), "false": escape(gettext("no"))}
    remove = f' <span aria-hidden="true" class="chip-x">×</span><span class="visually-hidden">{hidden}</span>'
    html = []
    for item in items:
        facet = item["facet"]
        if facet.name == "poverty":
            label = answers["true" if facet.value == "true" else "false"]
        elif facet.name == "type":
            label = escape(gettext(facet.label))
        else:
            label = escape(facet.label)
        url = escape(item["url"])
        if item["selected"]:
            html.append(f'<li class="selected"><a href="{url}" aria-current="true" class="current">{label}{remove}</a>')
        else:
            html.append(f'<li><a href="{url}">{label}</a>')
        html.append(f' <span class="count">{numbers.count(facet.count)}</span></li>\n')
    return mark_safe("".join(html))


@register.simple_tag
def province_options(provinces: Iterable[Province], chosen: str) -> SafeString:
    """The province menu's `<option>`s, the chosen one selected, each named as the facet names it."""
    options = []
    for p in provinces:
        selected = " selected" if p.code == chosen else ""
        options.append(f'<option value="{escape(p.code)}"{selected}>{place_name(p, "short")}</option>')
    return mark_safe("".join(options))
