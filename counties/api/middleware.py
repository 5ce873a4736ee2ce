"""Conditional GET for the API: ETag and Last-Modified from the data token, 304 before any work."""

import hashlib
import math
from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from counties.models import DataVersion

API_PREFIX = "/api/v1/"
# The schema and docs change with the code, not with the data.
EXCLUDED = ("/api/v1/schema/", "/api/v1/docs/")


class ApiConditionalGetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not request.path.startswith(API_PREFIX) or request.path.startswith(EXCLUDED):
            return self.get_response(request)
        version = DataVersion.objects.filter(pk=1).values_list("token", "changed_at").first() or ("initial", None)
        token, changed_at = version
        variant = "|".join((token, request.get_full_path(), request.headers.get("Accept", ""), request.headers.get("Accept-Language", "")))
        etag = f'"{hashlib.sha256(variant.encode()).hexdigest()[:32]}"'
        last_modified = whole_second_after(changed_at) if changed_at else None
        cached = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if cached is not None:
            return cached
        response = self.get_response(request)
        if response.status_code == 200:
            if not response.has_header("ETag"):  # a record's own ETag (counties.api.preconditions) stands
                response["ETag"] = etag
            # Not before that second is over: a second change within it would carry the same date.
            if last_modified is not None and last_modified <= timezone.now().timestamp():
                response["Last-Modified"] = http_date(last_modified)
        return response


def whole_second_after(moment: datetime) -> int:
    """Last-Modified for data changed at `moment`, safe with HTTP dates' whole seconds.

    The data token (the ETag) changes with every edit; HTTP dates cannot tell two edits within one
    second apart. So Last-Modified is the first whole second *after* the change, and it is only
    sent once that second has begun: every edit made before a client read the data is then
    strictly earlier than the date it holds, every edit after is not, and an If-Modified-Since
    built from it (or from the response's Date) can never produce a 304 that hides a change.
    """
    return math.floor(moment.timestamp()) + 1


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
        language = api_language(request.headers.get("Accept-Language", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language",))
        return response


def api_language(accept_language: str) -> str:
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
