"""Conditional GET for the API: ETag and Last-Modified from the data token, 304 before any work."""

import hashlib
import math
from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

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


class ApiLanguageMiddleware:
    """API clients choose their language with Accept-Language.

    LocaleMiddleware gives every unprefixed path the default language (Chinese), because the
    site's pages put English under /en/; the API has no prefix, so it honours the header instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
