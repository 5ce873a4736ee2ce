"""Rate limits, read from settings.API_THROTTLE_RATES at request time (so they can be configured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache as default_cache
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:  # importing rest_framework.views here would be circular (DRF imports this module)
    from rest_framework.views import APIView
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from counties.clients import client_ip
from counties.models import ApiToken


class AnonThrottle(AnonRateThrottle):
    """Anonymous clients by address (counties.clients: X-Forwarded-For only from trusted proxies).

    The counters live in the default cache: shared by every worker when it is Redis.
    """

    scope = "anon"

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or ""

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def allow_request(self, request: Request | HttpRequest, view: APIView | None) -> bool:
        """Also called by the response cache (counties.http_cache) with the plain HttpRequest of an
        anonymous answer it serves without the view: the same counter, in the same cache."""
        if isinstance(getattr(request, "auth", None), ApiToken):
            return True
        return super().allow_request(request, view)

    def allow_prefetched(self, request: HttpRequest, history: list[float] | None) -> bool:
        """`allow_request` for a counter the caller already read (in the same round trip to the
        cache as its other keys): DRF's own logic, then the count is written as usual."""
        self.cache = _Prefetched(history)
        return self.allow_request(request, None)

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str | None:
        user = getattr(request, "user", None)  # none yet before the authentication middleware
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class _Prefetched:
    """The default cache, except that the throttle's one read returns what was prefetched."""

    def __init__(self, history: list[float] | None) -> None:
        self.history = history

    def get(self, key: str, default: object = None) -> object:
        return default if self.history is None else self.history

    def set(self, key: str, value: object, timeout: float | None = None) -> None:
        default_cache.set(key, value, timeout)
