"""The API's language (its conditional GETs and caching: counties.http_cache)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

API_PREFIX = "/api/v1/"
# Partners are international: a client that names no language the registry has gets English.
API_DEFAULT_LANGUAGE = "en"


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
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        language = api_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language",))
        return response


def api_language(request: HttpRequest) -> str:
    """The language of an API answer (also part of the response cache's key)."""
    return language_from_header(request.headers.get("Accept-Language", ""))


def language_from_header(accept_language: str) -> str:
    """The first language of the header, in the client's order of preference, that the registry
    has (zh, zh-CN, zh-Hans and zh-TW → zh-hans; en, en-GB → en); else English."""
    for code, _quality in parse_accept_lang_header(accept_language):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return API_DEFAULT_LANGUAGE
