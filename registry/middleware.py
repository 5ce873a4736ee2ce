"""Site-wide request checks that no view should have to repeat."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _

from counties.api.exceptions import error_response
from counties.caching.keys import api_language, is_api
from registry.handlers import page_not_found, too_many_fields


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


class RefuseTooManyFieldsMiddleware:
    """More query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS get the site's own 400 (JSON on the
    API), in the reader's language. Left to Django, the refusal comes before any language is chosen,
    as its bare English page, and under DEBUG its debug page reads the parameters again and fails
    with a 500. It runs before the first middleware that reads the query (the response cache)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018  (parsing the query is the check)
        except TooManyFieldsSent:
            request.GET = QueryDict()  # the page below must not parse them again
            if is_api(request.path):
                language = api_language(request)
            else:
                language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
            with translation.override(language):
                response = too_many_fields(request)
            response.headers["Content-Language"] = language
            return response
        return self.get_response(request)


class SiteNotFoundMiddleware:
    """Under DEBUG a page that is not found still gets the site's 404, as in production: Django's
    debug page (the URL patterns tried) is what a developer reads in urls.py, and `make run` is
    where the pages' own 404 is looked at. The API keeps DRF's JSON 404 in both modes. Last in
    MIDDLEWARE, so that CommonMiddleware's slash and LocaleMiddleware's language redirects still
    see the 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG and not is_api(request.path):
            try:
                resolve(request.path_info)
            except Resolver404 as error:
                return page_not_found(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404) and not is_api(request.path):
            return page_not_found(request, exception)
        return None
