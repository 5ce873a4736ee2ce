"""The response cache's front door: a WSGI middleware around Django (registry/wsgi.py) that
answers an anonymous read from the finished responses its process keeps, before Django builds a
request or runs any middleware.

Why: with the answer already in the cache, what a hit cost was almost all Django's own work
around it (the request object, eight middleware, the response object), several times what it
costs to send the bytes (`bench/cache_hit.py` shows the three side by side).

What it keeps: the finished response (status, every header the outer middleware added, body) of
a GET that counties.caching.responses marked as the answer for any anonymous request of the same
variant (`FrontEntryMark`), whether Django made it or took it from the shared response cache. It
is kept in this process, keyed by the raw request values an answer can depend on (path, query,
scheme, host and the proxy headers naming them, Accept, Accept-Language), in a least-recently-used
store of at most FRONT_CACHE_BYTES (bodies, headers and keys counted).

When it answers, with nothing else: a GET or HEAD with no credentials and no cookie (a cookie may
be a session), not conditional (Django answers those, 304s included, from the shared cache), not
cross-origin (the CORS headers depend on Origin), not the admin or the health check, and only
while the entry's data token is the current one. The token's shared copy (counties.caching.token) is
read in one round trip to Redis, in which an anonymous request under a rate limit (the API, the
downloads) is also counted against it (counties.caching.throttling); so an edit through any instance is seen at once, and the
limit counts every answer. A refused request, a missing token copy, a stale entry or an error
goes on to Django, which answers it as if this layer were not there (with the throttle's decision
already made, so the request is counted once).

Only with a shared cache (Redis): with a per-process cache the token lives in the database alone,
and the Django-level cache, at one query, is the cheapest correct answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.conf import settings

from counties.caching.keys import FRONT_DOOR_VARIANT, PRIVATE_PATHS, TOKEN_COPY_KEY
from counties.caching.shared import read_and_count
from counties.caching.throttling import DECIDED, anonymous_throttle
from counties.caching.token import cache_is_shared

# A request carrying any of these is Django's to answer: credentials, cookies, conditions, ranges,
# an Origin (CORS headers are added for it).
PASS_THROUGH = (
    "HTTP_AUTHORIZATION",
    "HTTP_COOKIE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
    "HTTP_ORIGIN",
)
# What an entry costs beside its body, its headers and its key: the objects holding them.
ENTRY_OVERHEAD = 1024


class Kept(NamedTuple):
    token: str
    throttled: str | None  # the scope of the anonymous rate limit that counts it
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    size: int  # what it counts against FRONT_CACHE_BYTES: body, headers, key and overhead
    until: float | None  # made within its change's second, without Last-Modified: kept until then only


def entry_size(key: tuple[str | None, ...], headers: list[tuple[str, str]], body: bytes) -> int:
    """The memory an entry holds, as counted: the key is mostly what the client sent (a long
    Accept-Language is a new key for the same body), so it is counted like the body."""
    return len(body) + sum(len(n) + len(v) for n, v in headers) + sum(len(part or "") for part in key) + ENTRY_OVERHEAD


class FrontCache:
    def __init__(self, app: Callable[..., Iterable[bytes]], max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = settings.FRONT_CACHE_BYTES if max_bytes is None else max_bytes
        self.entries: OrderedDict[tuple[str | None, ...], Kept] = OrderedDict()
        self.size = 0
        self.token: str | None = None  # the newest token kept; older entries are dropped
        self.lock = threading.Lock()  # a threaded worker serves several requests at once

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = self.variant(environ)
        if key is None:
            return self.app(environ, start_response)
        kept = self.entries.get(key)
        if kept is not None:
            answer = self.answer(key, kept, environ, start_response)
            if answer is not None:
                return answer
        return self.fill(key, environ, start_response)

    def variant(self, environ: dict[str, Any]) -> tuple[str | None, ...] | None:
        """The key of an answer this layer may give, or None when Django must answer."""
        if not self.max_bytes or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if any(name in environ for name in PASS_THROUGH):
            return None
        if PRIVATE_PATHS.match(environ.get("PATH_INFO", "")) or not settings.RESPONSE_CACHE or not cache_is_shared():
            return None
        return tuple(environ.get(name) for name in FRONT_DOOR_VARIANT)

    def answer(self, key: tuple, kept: Kept, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes] | None:
        count = None
        if kept.throttled:
            throttle = anonymous_throttle(kept.throttled)
            throttle_key = throttle.client_key(SimpleNamespace(META=environ))
            now = throttle.timer()
            count = throttle.count(throttle_key, now)
        try:
            found, counted = read_and_count([TOKEN_COPY_KEY], count)
            decision = None if count is None or counted is None else throttle.settle(count, counted, now)
        except Exception:  # (read_and_count goes on through an outage) anything else: Django answers
            return None
        if decision is not None:
            environ.setdefault(DECIDED, {})[throttle_key] = decision
            if not decision.allowed:
                return None  # the view answers 429 with this decision
        copy = found.get(TOKEN_COPY_KEY)
        if copy is None:
            return None  # Django reads the token from the database and shares it again
        if copy[0] != kept.token or (kept.until is not None and time.time() >= kept.until):
            self.forget(key, kept)  # Django answers it again, dated (counties.caching.responses)
            return None
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
        start_response(kept.status, kept.headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [kept.body]

    def fill(self, key: tuple, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        mark = getattr(result, "front_cache", None)
        if mark is None or environ["REQUEST_METHOD"] != "GET" or not captured:
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):  # what the server would do (WSGI): Django's request_finished
                result.close()
        status, headers = captured
        size = entry_size(key, headers, body)
        if size <= self.max_bytes // 8 and not any(name.lower() == "set-cookie" for name, _ in headers):
            self.keep(key, Kept(mark.token, mark.throttled, status, list(headers), body, size, mark.until))
        return [body]

    def keep(self, key: tuple, kept: Kept) -> None:
        with self.lock:
            if kept.token != self.token:
                # A new data token: every entry kept so far is stale. (An answer still finishing
                # under an older token only clears the newer ones; they are made again.)
                self.entries.clear()
                self.size = 0
                self.token = kept.token
            old = self.entries.pop(key, None)
            self.size += kept.size - (old.size if old else 0)
            self.entries[key] = kept
            while self.size > self.max_bytes and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= dropped.size

    def forget(self, key: tuple, kept: Kept) -> None:
        with self.lock:
            if self.entries.get(key) is kept:
                del self.entries[key]
                self.size -= kept.size
