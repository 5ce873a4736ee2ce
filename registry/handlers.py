"""Site-wide answers outside any one door: the health checks and the error pages (handler400, 403,
404, 500). Each answers the API in its JSON error format and the pages as pages, so they live with
the project that wires both doors, not inside either."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import DisallowedHost, TooManyFieldsSent
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from counties.api.exceptions import error_response
from counties.caching.keys import api_language, is_api
from counties.caching.shared import cache_answers
from counties.reads.permissions import scope_note


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


def _checks() -> dict[str, str]:
    return {
        "database": "ok" if _database_answers() else "unavailable",
        # Without the cache the site still answers, uncached (counties.caching.shared).
        "cache": "ok" if cache_answers() else "failing",
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 while this instance can answer correctly, which needs the database (503 when
    it does not answer) but not the cache; the body says how each is."""
    checks = _checks()
    alive = checks["database"] == "ok"
    return JsonResponse({"status": "ok" if alive else "error", **checks}, status=200 if alive else 503)


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 only while the database and the cache both answer, 503 otherwise (with the
    same body as /healthz). The README's *Operations* says which check to give a load balancer."""
    checks = _checks()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "error", **checks}, status=200 if ready else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that does not answer is a 503 (try again), not a fault of the site.

    Django calls this while handling the exception, so sys.exc_info() names it. The database
    errors meant are a refused or dropped connection (OperationalError, InterfaceError); the next
    request opens a new connection, so the site recovers by itself when the database is back. The
    API answers in its own JSON error format; pages get a plain page that needs no database.
    """
    exception = sys.exc_info()[1]
    unavailable = isinstance(exception, OperationalError | InterfaceError)
    api = is_api(request.path)
    if unavailable:
        message = _("The registry's database is not answering. Please try again in a minute.")
        response = error_response("service_unavailable", message, 503) if api else render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
    if api:
        return error_response("server_error", _("The server failed to answer this request; the fault is logged."), 500)
    return render(request, "500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (a Host the site does not serve, a malformed request): the API answers in its
    JSON error format; a page refused for its Host gets a bare page, which reads nothing from the
    request (the site's templates build links from the Host that was just refused), and any other
    gets the site's page."""
    if isinstance(exception, TooManyFieldsSent):
        return too_many_fields(request)
    if is_api(request.path):
        with translation.override(api_language(request)):
            message = _("This request cannot be answered: its Host header or its form is not accepted.")
        return error_response("bad_request", message, 400)
    if isinstance(exception, DisallowedHost):
        # Refused before LocaleMiddleware: the path alone says the language (a prior request's may still be active).
        with translation.override(translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE):
            message = _("This site does not answer to the host name asked.")
            language = get_language()
        bare = '<!DOCTYPE html><html lang="{}"><title>400</title><p>{}</p></html>'
        return HttpResponseBadRequest(format_html(bare, language, message))
    return render(request, "400.html", {"message": _("This request cannot be answered: its form is not accepted.")}, status=400)


def too_many_fields(request: HttpRequest) -> HttpResponse:
    """More parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS: the 400 names the limit, in the
    language active (registry.middleware.RefuseTooManyFieldsMiddleware chooses it)."""
    maximum = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    message = _("This request carries more than %(maximum)s parameters, more than any page or filter of the registry reads.") % {
        "maximum": f"{maximum:,}"
    }
    if is_api(request.path):
        return error_response("bad_request", message, 400)
    return render(request, "400.html", {"message": message}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: says why (the refusal's own message, and a provincial editor's scope) and leads
    back, in the page's language; the API answers in its JSON error format."""
    message = str(exception.args[0]) if exception and exception.args and isinstance(exception.args[0], str) else ""
    if is_api(request.path):
        return error_response("permission_denied", message or _("Your account may not do this."), 403)
    context = {"message": message, "scope_note": scope_note(request.user) if hasattr(request, "user") else None}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception.args[0]) if exception and exception.args and isinstance(exception.args[0], str) else ""
    return render(request, "404.html", {"message": message}, status=404)
