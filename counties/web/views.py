"""The public pages: thin views over the selectors, the shared filtersets and the statistics engine."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from counties.caching.keys import reads_query
from counties.caching.responses import carries_credentials
from counties.caching.throttling import THROTTLE_SCOPE, PageThrottle
from counties.models import FIRST_PROGRAMME_YEAR, Batch, Designation, ProgrammeLevel, Province, Unit, local_name
from counties.reads import numbers, selectors, statistics, tables
from counties.reads.filtersets.programme import AsOfForm, DesignationFilterSet, StrictBooleanField, UnitFilterSet, api_query, page_query
from counties.reads.statistics import targets
from counties.web import charts, feeds
from counties.web.charts import targets as targets_charts

PAGE_SIZES = (25, 50, 100, 200)
# What the county list and its downloads read of the query: the filters, the scope, the page.
LIST_QUERY = (*UnitFilterSet.base_filters, "scope")


def rate_limited(scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous clients get the view at most as often as API_THROTTLE_RATES[scope] allows (by
    address, as the API's limit: counties.caching.throttling), then a 429 page with Retry-After.
    The response cache counts the requests it answers itself under the same limit."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Asked without touching the session when there is none (that would add Vary: Cookie,
            # and keep the answer out of the response cache).
            if not carries_credentials(request) or not request.user.is_authenticated:
                throttle = PageThrottle(scope)
                decision = throttle.decide_once(request, throttle.client_key(request))
                if not decision.allowed:
                    wait = math.ceil(round(decision.wait or 1, 6))
                    response = render(request, "429.html", {"retry_after": wait}, status=429)
                    response["Retry-After"] = str(wait)
                    add_never_cache_headers(response)  # for this client, for now: no proxy keeps it
                    return response
            return view(request, *args, **kwargs)

        setattr(limited, THROTTLE_SCOPE, scope)
        return limited

    return decorate


@require_safe
@reads_query()
def home(request: HttpRequest) -> HttpResponse:
    coverage = statistics.coverage()
    batches = statistics.batch_composition()
    context = {
        "coverage": coverage,
        "coverage_2018": statistics.coverage(2018),
        "batches": batches,
        "illustrative_count": sum(b.illustrative_entries for b in batches),
    }
    return render(request, "counties/home.html", context)


def _list_context(request: HttpRequest) -> tuple[Any, str, UnitFilterSet]:
    scope = request.GET.get("scope", selectors.PLACES)
    if scope not in selectors.SCOPES:
        scope = selectors.PLACES
    units = selectors.unit_list(scope, request.GET.get("province") or None)
    filterset = UnitFilterSet(page_query(request.GET, scope), queryset=units)
    return filterset.qs if filterset.is_valid() else Unit.objects.none(), scope, filterset


# The county list's facets, in the order shown, and how many values a facet shows before "show all".
FACETS = {
    "province": gettext_lazy("Province"),
    "batch_year": gettext_lazy("Batch year"),
    "poverty": gettext_lazy("Poverty county"),
    "exit_year": gettext_lazy("Exit year"),
    "type": gettext_lazy("Type"),
}
FACET_SHOWN = 8
# Filters that can be chosen on the page or come in a link, with the name a chip gives them.
CHIP_LABELS = {
    **FACETS,
    "q": gettext_lazy("Search"),
    "prefecture": gettext_lazy("Prefecture (code)"),
    "code": gettext_lazy("Code"),
    "designated": gettext_lazy("Demonstration county"),
    "designated_unit": gettext_lazy("Designated under its own code"),
    "in_use": gettext_lazy("Code in use"),
    "updated_since": gettext_lazy("Updated since"),
}
# Sortable columns: the column and the ordering parameter (UnitFilterSet's whitelist) it sorts by.
SORTABLE = {"code": "code", "name": "pinyin", "province": "province"}
# The list's order when the query names none (UnitFilterSet orders by the model's, the code).
DEFAULT_ORDERING = "code"


def _query(params: QueryDict, **changes: str | None) -> str:
    """`params` as a query string with `changes` applied (None removes), always leaving page 1.
    (Written pair by pair as QueryDict.urlencode writes them: a page makes one for every facet
    value, and copying the QueryDict for each cost more than the rest of the facets.)"""
    pairs: list[tuple[str, str]] = []
    for name, values in params.lists():
        if name == "page":
            continue
        value = changes.get(name, values)
        if isinstance(value, list):
            pairs.extend((name, v) for v in value)
        elif value is not None:
            pairs.append((name, value))
    pairs.extend((name, value) for name, value in changes.items() if value is not None and (name == "page" or name not in params))
    return "?" + urlencode(pairs)


def _chips(params: QueryDict, provinces: list[Province], facets: dict[str, list[selectors.Facet]]) -> list[dict[str, Any]]:
    """The filters in force, each as a chip whose link removes that filter only."""
    names = {p.code: local_name(p.name_zh, p.name_en) for p in provinces}
    labels = {(f.name, f.value): f.label for items in facets.values() for f in items}
    chips = []
    for name, title in CHIP_LABELS.items():
        value = params.get(name, "")
        if not value:
            continue
        if name == "province":
            shown = names.get(value, value)
        elif name in ("poverty", "designated", "designated_unit", "in_use"):
            answer = {**dict.fromkeys(StrictBooleanField.TRUE, _("yes")), **dict.fromkeys(StrictBooleanField.FALSE, _("no"))}
            shown = answer.get(value.lower(), value)
        elif name == "type":
            shown = labels.get((name, value), value)  # the unit type's name, in the page's language
        else:
            shown = value
        # A value shown as the reader typed it is in no language of the page's (lang="zxx").
        typed = shown == value and name != "province"
        chips.append({"name": name, "label": str(title), "value": shown, "typed": typed, "remove": _query(params, **{name: None})})
    return chips


def _facet_groups(params: QueryDict, facets: dict[str, list[selectors.Facet]]) -> list[dict[str, Any]]:
    """Each facet's values with a count, the chosen one linking to its removal; past FACET_SHOWN
    values, the rest go behind "show all" (open when the chosen value is among them)."""
    groups = []
    for name, title in FACETS.items():
        chosen = params.get(name, "")
        items = [
            {
                "facet": f,
                "selected": f.value == chosen,
                "url": _query(params, **{name: None}) if f.value == chosen else _query(params, **{name: f.value}),
            }
            for f in facets.get(name, [])
            if f.count or f.value == chosen
        ]
        more = items[FACET_SHOWN:] if len(items) > FACET_SHOWN + 1 else []
        shown = items[: len(items) - len(more)]
        groups.append(
            {"name": name, "title": title, "shown": shown, "more": more, "open": any(i["selected"] for i in more), "total": len(items)}
        )
    return groups


def _sort_headers(params: QueryDict) -> dict[str, dict[str, str | None]]:
    """For each sortable column, the link that sorts by it (or reverses it) and its aria-sort."""
    current = params.get("ordering") or DEFAULT_ORDERING
    headers = {}
    for column, field in SORTABLE.items():
        state = "ascending" if current == field else "descending" if current == f"-{field}" else None
        headers[column] = {"url": _query(params, ordering=f"-{field}" if state == "ascending" else field), "sort": state}
    return headers


def _sort_menu(filterset: UnitFilterSet, params: QueryDict) -> list[dict[str, Any]]:
    """The narrow screen's sort menu (where the column headers do not show): every ordering once,
    the one in force chosen, the default order when the query names none."""
    current = params.get("ordering") or DEFAULT_ORDERING
    ordering = filterset.filters["ordering"]
    return [{"value": value, "label": label, "selected": value == current} for value, label in ordering.menu_choices()]


@require_safe
@reads_query(*LIST_QUERY, "page", "page_size")
def county_list(request: HttpRequest) -> HttpResponse:
    units, scope, filterset = _list_context(request)
    try:
        page_size = int(request.GET.get("page_size", 50))
    except ValueError:
        page_size = 50
    page_size = page_size if page_size in PAGE_SIZES else 50
    # One scan of the filtered list gives the count, the page's units and the facets.
    rows = selectors.list_rows(units)
    paginator = Paginator(rows, page_size)
    asked = request.GET.get("page") or "1"
    try:
        page: Page[Any] = paginator.page(paginator.num_pages if asked == "last" else asked)  # its rows, then its units
    except InvalidPage as error:
        raise Http404(str(selectors.INVALID_PAGE_MESSAGE).format(page_number=asked[:20], message=error)) from None
    page.object_list = selectors.listed_units([pk for pk, _, _ in page.object_list])
    # The province menu, the facet's and the chips' province names, the rows' provinces: one read.
    provinces = list(Province.objects.order_by("code").only("code", "name_zh", "name_en", "short_name_zh", "short_name_en"))
    errors = _filter_errors(filterset)
    facets: dict[str, list[selectors.Facet]] = {}
    if not errors:
        # A chosen facet counts its values over the list filtered by everything else; the province
        # facet over the whole scope (the list's own is narrowed to the chosen province).
        others: dict[str, Any] = {
            name: filterset.qs_without(name, selectors.unit_list(scope) if name == "province" else None)
            for name in FACETS
            if request.GET.get(name)
        }
        by_pk = {p.pk: p for p in provinces}
        if scope == selectors.PLACES and filterset.in_force() == {"province"}:
            # Only a province chosen: its facet counts every demonstration county by province,
            # the statistics' number, read instead of counted again (ten thousand with 10x data).
            others["province"] = selectors.places_by_province(by_pk)
        facets = selectors.unit_facets(rows, by_pk, others, filterset.counting())
    export_query = request.GET.copy()
    for name in ("page", "page_size"):
        export_query.pop(name, None)
    context = {
        "elsewhere": _found_outside_the_scope(request, scope) if not page.paginator.count and not errors else None,
        "page": page,
        "scope": scope,
        "scope_label": selectors.SCOPE_LABELS[scope],
        "totals": selectors.scope_totals(),
        "as_of": statistics.latest_batch_year(),
        "filterset": filterset,
        "errors": errors,
        "facet_groups": _facet_groups(request.GET, facets) if facets else [],
        "chips": _chips(request.GET, provinces, facets),
        "clear_filters": _query(QueryDict(mutable=True), scope=scope),
        "sort": _sort_headers(request.GET),
        "sort_menu": _sort_menu(filterset, request.GET),
        "query": export_query.urlencode(),
        "api_query": urlencode(api_query(request.GET, scope)),
        "page_size": page_size,
        "page_sizes": PAGE_SIZES,
        "includes_illustrative": any(d.is_illustrative for u in page.object_list for d in u.place_entries),
        "provinces": provinces,
    }
    status = 400 if context["errors"] else 200
    return render(request, "counties/county_list.html", context, status=status)


def _found_outside_the_scope(request: HttpRequest, scope: str) -> dict[str, Any] | None:
    """What an empty list's filters find among all units (东城区 is a unit, not a demonstration
    county): their number, the one unit when there is one, and the link to them all."""
    if scope == selectors.ALL:
        return None
    everywhere = UnitFilterSet(
        page_query(request.GET, selectors.ALL), queryset=selectors.unit_list(selectors.ALL, request.GET.get("province") or None)
    ).qs
    found = list(everywhere.order_by("key")[:2])
    if not found:
        return None
    return {
        "count": 1 if len(found) == 1 else everywhere.count(),
        "unit": found[0] if len(found) == 1 else None,
        "name": local_name(found[0].name_zh, found[0].name_en),
        "url": _query(request.GET, scope=selectors.ALL),
    }


# What the list page calls each filter (its facet headings and form labels), for its error messages:
# a reader never sees the parameter's name (batch_year). Others fall back to the filter's label.
FILTER_NAMES = {**CHIP_LABELS, "q": gettext_lazy("Code, Chinese name or pinyin"), "ordering": gettext_lazy("Sort by")}


def _filter_errors(filterset: UnitFilterSet) -> dict[str, list[str]]:
    """The refused filters, each under the name the page gives it."""
    if not filterset.is_bound or filterset.is_valid():
        return {}
    form = filterset.form
    return {str(FILTER_NAMES.get(name) or form.fields[name].label or name): messages for name, messages in filterset.errors.items()}


@require_safe
@reads_query(*LIST_QUERY)
@rate_limited("export")
def county_export(request: HttpRequest, file_format: str) -> HttpResponse:
    units, scope, filterset = _list_context(request)
    if filterset.errors:
        return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()), status=400, content_type="text/plain")
    header, rows = selectors.export_rows(units)
    return tables.download(file_format, f"counties-{scope}", header, rows, sheet="counties")


@require_safe
@reads_query("from")
def county_detail(request: HttpRequest, key: str) -> HttpResponse:
    unit = Unit.objects.select_related("province", "prefecture", "current").filter(key=key).first()
    if unit is None:
        raise Http404(_("No county-level unit has the code %(code)s.") % {"code": key})
    if (current := unit.became) is not None:
        # An old code's page is its successor's: the place is the same. The old code rides along,
        # so the page can say how the code changed instead of landing the reader silently.
        # The rest of the query the page reads comes along too (none yet; others never reach the
        # view: counties.caching.keys.normalize_query).
        query = request.GET.copy()
        query["from"] = unit.key
        target = reverse("counties:county", args=[current.key])
        return HttpResponsePermanentRedirect(f"{target}?{query.urlencode()}")
    place = selectors.place(unit)
    place_targets = targets.place_targets(unit)
    context = {
        "unit": unit,
        "place": place,
        "came_from": place.path_from(request.GET.get("from", "")),
        # Targets and results: the place's series, each with its chart.
        "targets": place_targets,
        "target_series": [(s, targets_charts.indicator_chart(s)) for s in place_targets.series],
    }
    return render(request, "counties/county_detail.html", context)


@require_safe
@reads_query()
def province_detail(request: HttpRequest, code: str) -> HttpResponse:
    province = get_object_or_404(Province, code=code)
    as_of = statistics.latest_batch_year()
    row = next(p for p in statistics.province_table(as_of) if p.code == code)
    designations = (
        Designation.objects.counted()
        .filter(unit__province=province)
        .select_related("unit", "batch")
        .order_by("batch__year", "batch__sequence", "unit__key", "pk")
    )
    return render(
        request,
        "counties/province_detail.html",
        {
            "province": province,
            "row": row,
            "as_of": as_of,
            "designations": designations,
            "poverty_designations": set().union(*(b.poverty_entry_ids for b in statistics.batch_composition())),
            "includes_illustrative": row.includes_illustrative,
        },
    )


@require_safe
@reads_query()
def province_list(request: HttpRequest) -> HttpResponse:
    as_of = statistics.latest_batch_year()
    rows = statistics.province_table(as_of)
    return render(
        request,
        "counties/province_list.html",
        {"rows": rows, "as_of": as_of, "includes_illustrative": any(r.includes_illustrative for r in rows)},
    )


def _filtered_designations(request: HttpRequest, batches: list[Batch]) -> tuple[Any, DesignationFilterSet | None]:
    """The designations a batch page lists: those the counts count, or, with a `kind` or `outcome`
    filter (the API's filterset), those of the batch that match it, withdrawn ones included."""
    rows = Designation.objects.select_related("unit__province", "unit__current", "batch").order_by(
        "batch__sequence", "unit__province__code", "unit__key", "pk"
    )
    if not any(request.GET.get(name) for name in BATCH_FILTERS):
        return rows.counted().filter(batch__in=batches), None
    filterset = DesignationFilterSet({k: request.GET.get(k, "") for k in BATCH_FILTERS} | {"level": "all"}, rows.filter(batch__in=batches))
    return filterset.qs if filterset.is_valid() else rows.none(), filterset


# The filters of a batch page's list: those of the API's designations (one filterset), with their choices.
BATCH_FILTERS = ("kind", "outcome")


def _filter_choices() -> dict[str, Any]:
    fields = DesignationFilterSet().form.fields
    return {"kind_choices": fields["kind"].choices[1:], "outcome_choices": fields["outcome"].choices[1:]}


def _filter_refusal(filterset: DesignationFilterSet | None) -> HttpResponse | None:
    if filterset is None or filterset.is_valid():
        return None
    return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()), status=400, content_type="text/plain")


@require_safe
@reads_query(*BATCH_FILTERS)
def batch_detail(request: HttpRequest, year: int) -> HttpResponse:
    batches = list(Batch.objects.filter(level=ProgrammeLevel.NATIONAL, year=year).order_by("sequence"))
    if not batches:
        raise Http404(_("No batch in %(year)s.") % {"year": year})
    compositions = {(b.year, b.sequence): b for b in statistics.batch_composition()}
    designations, filterset = _filtered_designations(request, batches)
    if (refused := _filter_refusal(filterset)) is not None:
        return refused
    items = [(b, compositions[(b.year, b.sequence)]) for b in batches]
    poverty_units = set().union(*(c.poverty_entry_ids for _, c in items))
    return render(
        request,
        "counties/batch_detail.html",
        {
            "year": year,
            "items": items,
            "designations": designations,
            "poverty_designations": poverty_units,
            "includes_illustrative": any(c.includes_illustrative for _, c in items),
            # 2014 and 2015 had no poverty-share rule (nor has 2021): their pages do not speak of one.
            "has_rule": any(c.min_poverty_share_pct is not None for _, c in items),
            # What is known of a roster not recorded: each province's published count (2020: Sichuan 17).
            "published_counts": statistics.published_province_counts(year),
            # Targets and results: the batch's assessments and target attainment.
            "assessments": [a for a in targets.assessment_summary() if a.batch_year == year],
            "attainment": [r for r in targets.target_attainment() if r.batch_year == year and r.reported],
            "indicator_names": targets.indicator_names(),
            "filtered": filterset is not None,
            **_filter_choices(),
        },
    )


@require_safe
@reads_query(*BATCH_FILTERS)
def provincial_batch_detail(request: HttpRequest, code: str, year: str) -> HttpResponse:
    """A province's own batch (Sichuan 2016): its designations and their outcomes, never counted with
    the national ones."""
    province = get_object_or_404(Province, code=code)
    batches = list(Batch.objects.filter(level=ProgrammeLevel.PROVINCIAL, province=province, year=int(year)).order_by("sequence"))
    if not batches:
        raise Http404(_("No provincial batch of %(province)s in %(year)s.") % {"province": province.name_zh, "year": year})
    designations, filterset = _filtered_designations(request, batches)
    if (refused := _filter_refusal(filterset)) is not None:
        return refused
    if filterset is None:  # a provincial batch's entries: those not withdrawn (counted() is national only)
        designations = (
            Designation.objects.filter(batch__in=batches)
            .standing()
            .select_related("unit__province", "batch")
            .order_by("batch__sequence", "unit__key", "pk")
        )
    outcomes = statistics.batch_outcomes([b.pk for b in batches])
    items = [(b, statistics.outcome_rows(outcomes.get(b.pk, Counter()))) for b in batches]
    return render(
        request,
        "counties/provincial_batch.html",
        {
            "province": province,
            "year": year,
            "items": items,
            "designations": designations,
            "filtered": filterset is not None,
            **_filter_choices(),
        },
    )


@require_safe
@reads_query()
def batch_list(request: HttpRequest) -> HttpResponse:
    rows = statistics.batch_composition()
    # Each national batch's notice is on its record; the notices that followed the last batch, apart.
    notices = list(Batch.objects.filter(level=ProgrammeLevel.NATIONAL).order_by("year", "sequence", "pk"))
    provincial = (
        Batch.objects.filter(level=ProgrammeLevel.PROVINCIAL).select_related("province").order_by("year", "province__code", "sequence")
    )
    return render(
        request,
        "counties/batch_list.html",
        {
            "rows": rows,
            "notices": notices,
            "provincial": provincial,
            "successors": statistics.successor_notices(),
            "includes_illustrative": any(r.includes_illustrative for r in rows),
        },
    )


@require_safe
@reads_query("as_of")
def statistics_page(request: HttpRequest) -> HttpResponse:
    latest = statistics.latest_batch_year()
    form = AsOfForm(request.GET, latest=latest)
    # A bad year is a 400 that names it; the page then shows the latest year, and says so.
    as_of = form.cleaned_data["as_of"] if form.is_valid() else latest
    # Every year-keyed table and chart stops at the year chosen: later years are not shown.
    series = statistics.coverage_series_until(as_of)
    batches = statistics.batch_composition_until(as_of)
    provinces = [p for p in statistics.province_table(as_of) if p.poverty_counties or p.demonstration_counties]
    charted = sorted((p for p in provinces if p.demonstration_counties), key=lambda p: (-p.demonstration_counties, p.code))
    funding_years = statistics.funding_totals(as_of).by_year
    money = numbers.money_scale(t.total_yuan for t in funding_years)
    years = [str(c.as_of) for c in series]
    national = targets.national_series_until(as_of)
    context = {
        "as_of": as_of,
        "as_of_errors": form.errors.get("as_of", []),
        "latest": latest,
        "later_years_hidden": as_of < latest,
        "years_available": range(FIRST_PROGRAMME_YEAR, latest + 1),
        "coverage": statistics.coverage(as_of),
        "series": series,
        "batches": batches,
        "partial_batches": [b for b in batches if b.known_in_part],
        "provinces": provinces,
        "funding_years": funding_years,
        "exits": statistics.exits_until(as_of),
        "includes_illustrative": any(c.includes_illustrative for c in series),
        "coverage_chart": charts.line_chart(
            _("Coverage over time"),
            _("Cumulative demonstration counties and the share of the 832 poverty counties covered, by year-end."),
            years,
            [
                charts.Series(_("Poverty counties covered (%)"), [c.poverty_coverage_pct for c in series], charts.PALETTE[1]),
            ],
            percent=True,
        ),
        "counties_chart": charts.bar_chart(
            _("Demonstration counties by year-end"),
            _("Distinct demonstration counties at the end of each year."),
            years,
            [charts.Series(_("Demonstration counties"), [c.demonstration_counties for c in series])],
        ),
        "batch_chart": charts.bar_chart(
            _("Poverty share of each batch"),
            _("The share of each batch that were national poverty counties, against the rule, from 2016, that at least half be."),
            [f"{b.year}" + (f"-{b.sequence}" if b.sequence > 1 else "") for b in batches],
            # A batch known only in part has no meaningful share: no bar (the table says "partial").
            [charts.Series(_("Poverty share (%)"), [None if b.known_in_part else b.poverty_share_pct for b in batches])],
            percent=True,
            # Each batch's own rule (none before 2016), as the batch table and `meets_rule` have it.
            rules=[b.min_poverty_share_pct for b in batches],
            rule_label=_("Rule: at least half"),
        ),
        "province_chart": charts.hbar_chart(
            _("Demonstration counties by province"),
            _("Demonstration counties (places) per province at the end of the year chosen, most first, with their poverty counties."),
            [charts.province_label(p) for p in charted],
            [
                charts.Series(_("Demonstration counties (places)"), [p.demonstration_counties for p in charted], charts.PALETTE[3]),
                # Drawn inside the bar, so a part of it: places that are poverty counties, not the
                # poverty counties covered (茫崖市 holds two: Qinghai's 42 of 41 stuck out).
                charts.Series(
                    _("Of which poverty counties (places)"), [p.poverty_demonstration_counties for p in charted], charts.PALETTE[0]
                ),
            ],
            unit=_("counties"),
            columns=2,
        ),
        # Targets and results: the three full coverages, attainment by batch, the national series.
        "three_coverages": targets.three_coverages(as_of),
        "three_coverages_series": targets.three_coverages_series_until(as_of),
        "attainment": [r for r in targets.target_attainment_until(as_of) if r.reported],
        "notice_attainment": targets.notice_attainment_until(as_of),
        "indicator_names": targets.indicator_names(),
        "national": national,
        "national_chart": targets_charts.national_chart(national),
        "national_gaps": targets_charts.national_gaps(national),
        # The 2016 break is spoken of once the figures shown reach it.
        "national_break_year": targets.NATIONAL_BREAK_YEAR if any(p.year >= targets.NATIONAL_BREAK_YEAR for p in national) else None,
        "service_system": targets.service_system(as_of),
        "service_system_published": targets.service_system_published(),
        "funding_chart": charts.bar_chart(
            _("Funding by fiscal year"),
            _("Funding allocations recorded, by fiscal year, in %(unit)s.") % {"unit": money},
            [t.key for t in funding_years],
            # Each bar's tooltip writes its amount as the table beside the chart does.
            [charts.Series(_("Funding"), [money.of(t.total_yuan) for t in funding_years], write=money.write)],
            unit=str(money),
        ),
    }
    return render(request, "counties/statistics.html", context, status=400 if form.errors else 200)


@require_safe
@reads_query(*feeds.QUERY)
def change_list(request: HttpRequest) -> HttpResponse:
    """The latest public changes in words, with links; by province or county (an old code finds its place)."""
    chosen = feeds.change_filter(request)
    items = [] if chosen.errors else chosen.recent()
    atom = reverse("counties:changes-atom") + (f"?{request.GET.urlencode()}" if request.GET and not chosen.errors else "")
    context = {
        "items": [(item, feeds.heading(item), feeds.item_url(item)) for item in items],
        "chosen": chosen,
        "provinces": Province.objects.order_by("code"),
        "atom": atom,
        "limit": feeds.RECENT,
    }
    return render(request, "counties/changes.html", context, status=400 if chosen.errors else 200)
