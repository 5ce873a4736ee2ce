"""HTTP caching of reads, one mechanism for the pages and the API.

`PublicCacheMiddleware` sits right after the middleware that only add headers (security, CSP,
Permissions-Policy, CORS) and before sessions, language, CSRF, authentication, messages, history and
axes. For every GET or HEAD outside the admin it derives a *variant* from what changes the bytes of
the answer (scheme, host, path and query; for the API also the representation headers Accept and
the language), the running code, and the data token (counties.caching.token). From that:

- a strong ETag and Last-Modified: a matching conditional GET is answered 304 before any work;
- anonymous answers are `Cache-Control: public, max-age=CACHE_MAX_AGE`, so a proxy or CDN may keep
  them; answers to a request carrying credentials (Authorization, a session or any other cookie
  but the CSRF and language ones), and any answer that sets a cookie or varies on something the
  variant does not hold, are `private` and never kept;
- with RESPONSE_CACHE on, an anonymous 200 is kept in the default cache, and the next anonymous
  request for the same variant is answered from it without the rest of the stack. The entry records
  the token it was made under and is only served while that token is current, so an edit through
  any door (every one calls token.mark_data_changed) is seen at once. The security headers are
  added afresh by the middleware outside this one;
- every anonymous API request the cache handles is counted against the API's anonymous rate limit
  in the same round trip (counties.caching.throttling); once the limit is reached a cached answer is
  not given and the request goes on to the view, which answers 429 with Retry-After from that
  decision (the request is counted once). A conditional GET is counted too: within the limit a
  match is answered 304, over it the view answers 429 (a refused request is not counted);
- a response it would keep is also marked (`FrontEntryMark`) for the front door in front of
  Django (counties.caching.front_door), which keeps the finished response in its process and answers
  the next identical anonymous request before Django.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from counties.caching.keys import (
    API_VARY,
    PAGE_VARY,
    PRIVATE_PATHS,
    is_api,
    keeps_answer,
    normalize_query,
    request_variant,
    response_key,
    strong_etag,
    view_at,
)
from counties.caching.shared import keep
from counties.caching.throttling import DECIDED, AnonThrottle, anonymous_throttle, page_throttle_scope
from counties.caching.token import current_state_and, data_change_pending, pinned

# The cookies an anonymous visitor may carry: neither changes a cached answer (the API's language
# comes from Accept-Language alone, and is part of its variant).
ANONYMOUS_COOKIES = frozenset({settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME})
# A larger answer (a whole-registry export) is still served, just not kept in the cache.
MAX_ENTRY_BYTES = 8 * 1024 * 1024


class PublicCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or PRIVATE_PATHS.match(request.path):
            return self.get_response(request)
        api = is_api(request.path)
        anonymous = not carries_credentials(request)
        if not anonymous and not api:
            # Pages for a signed-in user may show what only they see: no ETag, kept by nobody.
            return keep_private(self.get_response(request))
        # The view is handed only the parameters it reads: a query no view reads is no new entry.
        as_sent = request.META.get("QUERY_STRING", "")
        normalize_query(request)
        variant = request_variant(request)
        use_cache = anonymous and settings.RESPONSE_CACHE and keeps_answer(request) and not data_change_pending()
        keys, count = [], None
        if use_cache:
            entry_key = response_key(variant)
            keys.append(entry_key)
        scope = AnonThrottle.scope if api else page_throttle_scope(view_at(request.path_info))
        if scope is not None and anonymous:
            # Counted here, in the same round trip, whatever answers it: the cache, a 304 or the view.
            throttle = anonymous_throttle(scope)
            throttle_key = throttle.client_key(request)  # an anonymous request, before authentication
            if throttle_key not in request.META.get(DECIDED, {}):  # not counted in front already
                now = throttle.timer()
                count = throttle.count(throttle_key, now)
        try:
            state, found, counted = current_state_and(*keys, count=count)
        except DatabaseError:
            # The database is down: the stack below answers that, in the request's language (503).
            return self.get_response(request)
        if count is not None and counted is not None:  # the view's throttle takes this decision rather than counting again
            request.META.setdefault(DECIDED, {})[throttle_key] = throttle.settle(count, counted, now)
        # Over the anonymous limit: neither a 304 nor a cached answer, the view's throttle answers
        # 429 with Retry-After (else revalidating would be a way around the limit).
        refused = scope is not None and anonymous and not request.META[DECIDED][throttle_key].allowed
        # An authenticated API client gets its own ETags (the data is the same, the answer may not be).
        etag = strong_etag(f"{state.token}|{variant}|{'' if anonymous else 'private'}")
        last_modified = whole_second_after(state.changed_at) if state.changed_at else None
        # Not before that second is over: a second change within it would carry the same date.
        dated = last_modified is None or last_modified <= timezone.now().timestamp()
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None and not refused:
            not_modified["ETag"] = etag
            # A 304 repeats the Vary its 200 sends (RFC 9110 15.4.5), or a shared cache may
            # hand the stored answer to a client of another language or format.
            patch_vary_headers(not_modified, ("Accept", "Accept-Language") if api else ("Accept-Language",))
            return cache_headers(not_modified, anonymous)
        entry = found.get(entry_key) if use_cache else None
        if entry is not None and entry[0] == state.token:
            _token, throttled, headers, content = entry
            if not (throttled and refused):
                response = replay(request, headers, content)
                if last_modified is not None and dated and not response.has_header("Last-Modified") and response.status_code == 200:
                    response["Last-Modified"] = http_date(last_modified)  # kept before its second was over
                if request.META.get("QUERY_STRING", "") == as_sent:  # the front door keys by the query as sent
                    mark_for_front_door(response, FrontEntryMark(state.token, throttled, None if dated else last_modified))
                return response
            # Over the limit: the view's throttle answers 429 with Retry-After.
        with pinned(state):
            response = self.get_response(request)
        if response.status_code != 200:
            return response
        public = anonymous and cacheable(response, API_VARY if api else PAGE_VARY)
        if public or api:
            if not response.has_header("ETag"):  # a record's own ETag (counties.api.preconditions) stands
                response["ETag"] = etag
            if last_modified is not None and dated:
                response["Last-Modified"] = http_date(last_modified)
        if not public:
            return keep_private(response)
        cache_headers(response, anonymous=True)
        if use_cache and request.method == "GET" and isinstance(response, HttpResponse) and len(response.content) <= MAX_ENTRY_BYTES:
            throttled = scope if not api or counts_as_throttled(response) else None
            keep(entry_key, (state.token, throttled, list(response.items()), response.content), settings.RESPONSE_CACHE_SECONDS)
            # An answer made within the change's second has no Last-Modified yet: served from this
            # cache once the second is over it is given one (above), and the front door, which
            # serves its bytes as they are, keeps it until then only.
            if request.META.get("QUERY_STRING", "") == as_sent:
                mark_for_front_door(response, FrontEntryMark(state.token, throttled, None if dated else last_modified))
        return response


class FrontEntryMark(NamedTuple):
    """Left on a response that any anonymous request for the same variant may be given while the
    data token is `token`: counties.caching.front_door keeps the finished response (with the headers the
    outer middleware added) in its process."""

    token: str
    throttled: str | None  # the scope of the anonymous rate limit that counts it ("anon": the API's)
    until: float | None = None  # to be kept until then only: it has no Last-Modified yet


def mark_for_front_door(response: HttpResponseBase, mark: FrontEntryMark) -> None:
    response.front_cache = mark  # type: ignore[attr-defined]  # an attribute of our own, which the front door reads back


def carries_credentials(request: HttpRequest) -> bool:
    """Whether the request may be answered differently for who sent it: an Authorization header
    (API token), a session, or any cookie but the CSRF and language ones (e.g. pending messages)."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    return "HTTP_COOKIE" in request.META and not ANONYMOUS_COOKIES.issuperset(request.COOKIES)


def whole_second_after(moment: datetime) -> int:
    """Last-Modified for data changed at `moment`, safe with HTTP dates' whole seconds.

    The data token (the ETag) changes with every edit; HTTP dates cannot tell two edits within one
    second apart. So Last-Modified is the first whole second *after* the change, and it is only
    sent once that second has begun: every edit made before a client read the data is then
    strictly earlier than the date it holds, every edit after is not, and an If-Modified-Since
    built from it (or from the response's Date) can never produce a 304 that hides a change.
    """
    return math.floor(moment.timestamp()) + 1


def cacheable(response: HttpResponseBase, understood_vary: frozenset[str]) -> bool:
    """A response that is the same for every anonymous visitor asking for the same variant."""
    if response.streaming or response.cookies:
        return False
    if response.has_header("Cache-Control"):  # the view decided (never_cache and the like)
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
    return vary <= understood_vary


def counts_as_throttled(response: HttpResponseBase) -> bool:
    """Whether the view that made `response` counts anonymous requests (DRF views do)."""
    view = getattr(response, "renderer_context", {}).get("view")
    return view is not None and any(isinstance(throttle, AnonThrottle) for throttle in view.get_throttles())


def cache_headers(response: HttpResponseBase, anonymous: bool) -> HttpResponseBase:
    if anonymous:
        patch_cache_control(response, public=True, max_age=settings.CACHE_MAX_AGE)
        return response
    return keep_private(response)


def keep_private(response: HttpResponseBase) -> HttpResponseBase:
    """For the client only: a proxy or CDN must not keep it (the view's own Cache-Control stands)."""
    if not response.has_header("Cache-Control"):
        patch_cache_control(response, private=True, no_cache=True)
    return response


def replay(request: HttpRequest, headers: list[tuple[str, str]], content: bytes) -> HttpResponseBase:
    response = HttpResponse(b"" if request.method == "HEAD" else content, headers=dict(headers))
    etag = response.get("ETag")
    # The entry may hold a record's own ETag (API details), which the variant's does not match.
    return get_conditional_response(request, etag=etag, response=response) or response
