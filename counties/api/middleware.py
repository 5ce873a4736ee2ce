"""The API's language (its conditional GETs and caching: counties.caching.responses)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from counties.caching.keys import api_language, is_api


class ApiLanguageMiddleware:
    """API clients choose their language with Accept-Language; without it the API answers in English.

    LocaleMiddleware gives every unprefixed path the site's default language (Chinese), because the
    pages put English under /en/. The API has no prefix, so it reads the header alone (no cookie,
    no path) and says which language it answered in (Content-Language) and that the answer depends
    on the header (Vary: Accept-Language), so no cache hands one client's language to another.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request.path):
            return self.get_response(request)
        language = api_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language",))
        return response
