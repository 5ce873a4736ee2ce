"""Rate limits, read from settings.API_THROTTLE_RATES at request time (so they can be configured).

Counted as a *sliding-window counter*: one counter per client and fixed window (a minute for
"60/minute"), and a request is allowed while

    previous window's count × (share of the sliding window still inside it) + this window's count

stays within the limit. That is one INCR per request in the shared cache, where DRF's own
throttles read and rewrite the client's whole list of request times (up to 1,200 floats at the
token rate) on every request; the estimate assumes the previous window's requests were evenly
spread, the usual approximation (it never lets through more than the limit in any window of the
period's length when requests are evenly spread, and at most the limit plus what the weighting
forgives at a window's edge otherwise).

A refused request is not counted (its count is taken back), so a client that waits the
Retry-After it was given is let through, as with DRF's throttles.

When the shared cache does not answer, the limits fail open to each worker: the window is counted
in the process's own memory (counties.caching.shared.OUTAGE_COUNTERS) until the cache answers
again, so a client may get up to one limit per worker process, and no request is refused because
the cache is down. (Refusing everything would turn a cache outage into a site outage; not counting
at all would leave the expensive answers, now uncached, unlimited.)

The response cache (counties.caching.responses, counties.caching.front_door) counts anonymous API requests it
answers itself, in the same round trip as its other reads; it leaves its decision in the request's
META so the view's throttle, if the request reaches it, uses that decision instead of counting the
same request twice.

The pages that cost the most to make (the downloads) are limited for anonymous clients the same
way, under their own scope and rate (`PageThrottle`, "export": EXPORT_ANON_RATE): the page view
says so (`THROTTLE_SCOPE`, set by counties.web's `rate_limited`), the response cache counts its
requests as it counts the API's, cached answers included, and the view answers 429 with Retry-After.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from rest_framework.request import Request

if TYPE_CHECKING:  # importing rest_framework.views here would be circular (DRF imports this module)
    from rest_framework.views import APIView
from rest_framework.throttling import SimpleRateThrottle

from counties.caching.clients import client_ip
from counties.caching.keys import THROTTLE_FORMAT
from counties.caching.shared import Count, Counted, read_and_count, uncount
from counties.models import ApiToken

# Where a decision already made for a request is left (in request.META, i.e. the WSGI environ).
DECIDED = "registry.throttle_decided"
# The attribute a page view names its anonymous rate limit's scope in (a key of API_THROTTLE_RATES).
THROTTLE_SCOPE = "anonymous_throttle_scope"


class Decision(NamedTuple):
    allowed: bool
    wait: float | None  # seconds until a request would be allowed again (refused ones)


class CountingThrottle(SimpleRateThrottle):
    """DRF's throttle interface (rate strings, get_cache_key, wait), counted as described above."""

    timer = staticmethod(time.time)
    scope: str
    # Read from the rate by DRF's __init__ (parse_rate).
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def count(self, key: str, now: float) -> Count:
        """The counting to do for `key` at `now` (to send with other reads: see read_and_count)."""
        window = int(now // self.duration)
        return Count(f"{key}:{window}", f"{key}:{window - 1}", 2 * self.duration)

    def settle(self, count: Count, counted: Counted, now: float) -> Decision:
        """Whether the request just counted is allowed; a refused one's count is taken back (one
        more round trip, for refused requests only)."""
        decision = self.decide(counted, now)
        if not decision.allowed:
            uncount(count)
        return decision

    def decide(self, counted: Counted, now: float) -> Decision:
        """Whether the request just counted is allowed, and if not how long to wait."""
        limit, duration = self.num_requests, self.duration
        elapsed = now % duration
        if counted.previous * (1 - elapsed / duration) + counted.current <= limit:
            return Decision(True, None)
        # Refused and taken back, so the next request counts what this one did. Within this
        # window it is allowed once the previous window's weight has fallen far enough; if this
        # window is full, in the next one, once this window's weight has.
        if counted.current <= limit:
            wait = duration * (1 - (limit - counted.current) / counted.previous) - elapsed
        else:
            full = counted.current - 1
            wait = (duration - elapsed) + duration * max(0.0, 1 - (limit - 1) / full)
        return Decision(False, max(wait, 1.0))

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.decision = self.decide_once(request, key)
        return self.decision.allowed

    def decide_once(self, request: Any, key: str) -> Decision:
        """The decision for the request, counted now unless the response cache already did."""
        decided: dict[str, Decision] = request.META.setdefault(DECIDED, {})
        decision = decided.get(key)
        if decision is None:  # not counted yet by the response cache
            now = self.timer()
            count = self.count(key, now)
            decision = decided[key] = self.settle(count, read_and_count([], count)[1], now)
        return decision

    def client_key(self, request: Any) -> str:
        """The counter of the client that sent `request`. Also called by the response caches before
        any authentication: `request` may be a plain HttpRequest, or anything with the WSGI environ
        as META."""
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or ""}

    def wait(self) -> float | None:
        decision = getattr(self, "decision", None)
        # Whole seconds, up (rounded first: 60 × (1 − 2/3) is 20.000000000000004 in floating point).
        return None if decision is None or decision.wait is None else math.ceil(round(decision.wait, 6))


class AnonThrottle(CountingThrottle):
    """Anonymous clients by address (counties.caching.clients: X-Forwarded-For only from trusted proxies).

    The counters live in the default cache: shared by every worker when it is Redis.
    """

    scope = "anon"
    cache_format = THROTTLE_FORMAT

    def allow_request(self, request: Request, view: APIView) -> bool:
        if isinstance(getattr(request, "auth", None), ApiToken):
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: APIView | None) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.client_key(request)


class PageThrottle(CountingThrottle):
    """An anonymous client's requests to the pages of one scope ("export"), by address as the API's."""

    cache_format = THROTTLE_FORMAT

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()


def anonymous_throttle(scope: str) -> CountingThrottle:
    """The throttle that counts an anonymous request under `scope` ("anon" is the API's)."""
    return AnonThrottle() if scope == AnonThrottle.scope else PageThrottle(scope)


def page_throttle_scope(view: Any) -> str | None:
    """The scope of the anonymous rate limit a page view is under, if any."""
    return getattr(view, THROTTLE_SCOPE, None)


class TokenThrottle(CountingThrottle):
    scope = "token"
    cache_format = THROTTLE_FORMAT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
