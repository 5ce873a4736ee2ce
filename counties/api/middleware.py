"""The API's language (its conditional GETs and caching: counties.http_cache)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

API_PREFIX = "/api/v1/"


class ApiLanguageMiddleware:
    """API clients choose their language with Accept-Language.

    LocaleMiddleware gives every unprefixed path the default language (Chinese), because the
    site's pages put English under /en/; the API has no prefix, so it honours the header instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            language = api_language(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def api_language(request: HttpRequest) -> str:
    """The language of an API answer (also part of the response cache's key)."""
    return translation.get_language_from_request(request, check_path=False)
