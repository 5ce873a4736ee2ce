"""The public pages: thin views over the selectors, the shared filtersets and the statistics engine."""

from __future__ import annotations

import sys
from typing import Any

from django.core.paginator import Paginator
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import charts, selectors, statistics, tables, targets, targets_charts
from .api.exceptions import API_PREFIX, error_response
from .filtersets import UnitFilterSet
from .models import Batch, Designation, Province, Unit

PAGE_SIZES = (25, 50, 100, 200)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: 200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
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
    filterset = UnitFilterSet(request.GET, queryset=selectors.unit_list(scope))
    return filterset.qs if filterset.is_valid() else Unit.objects.none(), scope, filterset


@require_safe
def county_list(request: HttpRequest) -> HttpResponse:
    units, scope, filterset = _list_context(request)
    try:
        page_size = int(request.GET.get("page_size", 50))
    except ValueError:
        page_size = 50
    page_size = page_size if page_size in PAGE_SIZES else 50
    # One scan of the filtered list gives the count, the page's units and the facets.
    rows = selectors.list_rows(units)
    page = Paginator(rows, page_size).get_page(request.GET.get("page"))
    page.object_list = selectors.attach_place_records(selectors.units_in_order([pk for pk, _, _ in page.object_list]))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "scope": scope,
        "scope_label": selectors.SCOPE_LABELS[scope],
        "totals": selectors.scope_totals(),
        "as_of": statistics.latest_batch_year(),
        "filterset": filterset,
        "errors": _filter_errors(filterset),
        "facets": selectors.unit_facets(rows) if not filterset.errors else {},
        "query": query.urlencode(),
        "page_size": page_size,
        "page_sizes": PAGE_SIZES,
        "includes_illustrative": any(d.is_illustrative for u in page.object_list for d in u.place_entries),
        "provinces": Province.objects.order_by("code"),
    }
    status = 400 if context["errors"] else 200
    return render(request, "counties/county_list.html", context, status=status)


# What the list page calls each filter (its facet headings and form labels), for its error messages:
# a reader never sees the parameter's name (batch_year). Others fall back to the filter's label.
FILTER_NAMES = {
    "q": gettext_lazy("Code, Chinese name or pinyin"),
    "province": gettext_lazy("Province"),
    "batch_year": gettext_lazy("Batch year"),
    "poverty": gettext_lazy("Poverty county"),
    "exit_year": gettext_lazy("Exit year"),
    "type": gettext_lazy("Type"),
    "ordering": gettext_lazy("Sort by"),
}


def _filter_errors(filterset: UnitFilterSet) -> dict[str, list[str]]:
    """The refused filters, each under the name the page gives it."""
    if not filterset.is_bound or filterset.is_valid():
        return {}
    form = filterset.form
    return {str(FILTER_NAMES.get(name) or form.fields[name].label or name): messages for name, messages in filterset.errors.items()}


@require_safe
def county_export(request: HttpRequest, file_format: str) -> HttpResponse:
    units, scope, filterset = _list_context(request)
    if filterset.errors:
        return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()), status=400, content_type="text/plain")
    header, rows = selectors.export_rows(units)
    return tables.download(file_format, f"counties-{scope}", header, rows, sheet="counties")


@require_safe
def county_detail(request: HttpRequest, key: str) -> HttpResponse:
    unit = Unit.objects.select_related("province", "prefecture", "current").filter(key=key).first()
    if unit is None:
        raise Http404(_("No county-level unit has the code %(code)s.") % {"code": key})
    if unit.current_id and unit.current_id != unit.pk:
        # An old code's page is its successor's: the place is the same.
        return HttpResponsePermanentRedirect(reverse("counties:county", args=[unit.current.key]))
    place_targets = targets.place_targets(unit)
    context = {
        "unit": unit,
        "place": selectors.place(unit),
        # Targets and results (issue 14): the place's series, each with its chart.
        "targets": place_targets,
        "target_series": [(s, targets_charts.indicator_chart(s)) for s in place_targets.series],
    }
    return render(request, "counties/county_detail.html", context)


@require_safe
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
def province_list(request: HttpRequest) -> HttpResponse:
    as_of = statistics.latest_batch_year()
    rows = statistics.province_table(as_of)
    return render(
        request,
        "counties/province_list.html",
        {"rows": rows, "as_of": as_of, "includes_illustrative": any(r.includes_illustrative for r in rows)},
    )


@require_safe
def batch_detail(request: HttpRequest, year: int) -> HttpResponse:
    batches = list(Batch.objects.filter(year=year).order_by("sequence"))
    if not batches:
        raise Http404(_("No batch in %(year)s.") % {"year": year})
    compositions = {(b.year, b.sequence): b for b in statistics.batch_composition()}
    designations = (
        Designation.objects.counted()
        .filter(batch__year=year)
        .select_related("unit__province", "unit__current", "batch")
        .order_by("batch__sequence", "unit__province__code", "unit__key", "pk")
    )
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
            # Targets and results (issue 14): the batch's assessments and target attainment.
            "assessments": [a for a in targets.assessment_summary() if a.batch_year == year],
            "attainment": [r for r in targets.target_attainment() if r.batch_year == year and r.reported],
            "indicator_names": targets.indicator_names(),
        },
    )


@require_safe
def batch_list(request: HttpRequest) -> HttpResponse:
    rows = statistics.batch_composition()
    return render(request, "counties/batch_list.html", {"rows": rows, "includes_illustrative": any(r.includes_illustrative for r in rows)})


@require_safe
def statistics_page(request: HttpRequest) -> HttpResponse:
    latest = statistics.latest_batch_year()
    try:
        as_of = int(request.GET.get("as_of", latest))
    except ValueError:
        as_of = latest
    if not statistics.FIRST_YEAR <= as_of <= latest:
        as_of = latest
    series = statistics.coverage_series()
    batches = statistics.batch_composition()
    provinces = [p for p in statistics.province_table(as_of) if p.poverty_counties or p.demonstration_counties]
    funding = statistics.funding_totals()
    years = [str(c.as_of) for c in series]
    context = {
        "as_of": as_of,
        "years_available": range(statistics.FIRST_YEAR, latest + 1),
        "coverage": statistics.coverage(as_of),
        "series": series,
        "batches": batches,
        "provinces": provinces,
        "funding": funding,
        "exits": statistics.exits(),
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
            [charts.Series(_("Poverty share (%)"), [b.poverty_share_pct for b in batches])],
            percent=True,
            rule=50,
            rule_label=_("Rule: at least half"),
        ),
        "province_chart": charts.bar_chart(
            _("Poverty coverage by province"),
            _("Share of each province's poverty counties covered by a designation, as of the year chosen."),
            [p.short_name for p in provinces if p.poverty_counties],
            [charts.Series(_("Covered (%)"), [p.poverty_coverage_pct for p in provinces if p.poverty_counties])],
            percent=True,
        ),
        # Targets and results (issue 14): the three full coverages, attainment by batch, the national series.
        "three_coverages": targets.three_coverages(as_of),
        "three_coverages_series": targets.three_coverages_series(),
        "attainment": [r for r in targets.target_attainment() if r.reported],
        "indicator_names": targets.indicator_names(),
        "national": targets.national_series(),
        "national_chart": targets_charts.national_chart(targets.national_series()),
        "funding_chart": charts.bar_chart(
            _("Funding by fiscal year"),
            _("Funding allocations recorded, in yuan, by fiscal year."),
            [t.key for t in funding.by_year],
            [charts.Series(_("Yuan"), [t.total_yuan for t in funding.by_year])],
        ),
    }
    return render(request, "counties/statistics.html", context)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that does not answer is a 503 (try again), not a fault of the site.

    Django calls this while handling the exception, so sys.exc_info() names it. The database
    errors meant are a refused or dropped connection (OperationalError, InterfaceError); the next
    request opens a new connection, so the site recovers by itself when the database is back. The
    API answers in its own JSON error format; pages get a plain page that needs no database.
    """
    exception = sys.exc_info()[1]
    unavailable = isinstance(exception, OperationalError | InterfaceError)
    api = request.path.startswith(API_PREFIX)
    if unavailable:
        message = _("The registry's database is not answering. Please try again in a minute.")
        response = error_response("service_unavailable", message, 503) if api else render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
    if api:
        return error_response("server_error", _("The server failed to answer this request; the fault is logged."), 500)
    return render(request, "500.html", status=500)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception.args[0]) if exception and exception.args and isinstance(exception.args[0], str) else ""
    return render(request, "404.html", {"message": message}, status=404)
