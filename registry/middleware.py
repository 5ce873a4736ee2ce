"""Site-wide request checks that no view should have to repeat."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from counties.api.exceptions import error_response
from counties.caching.keys import is_api


class RefuseNulMiddleware:
    """A NUL byte in a query parameter is refused with a 400 before any view sees it.

    No legitimate link carries one, PostgreSQL cannot store or compare one (a search such as the
    admin's autocomplete `?term=%00` would end in a database error), and forms refuse it anyway.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            message = _("A query parameter contains a NUL character, which no search or filter accepts.")
            if is_api(request.path):
                return error_response("invalid", message, 400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
