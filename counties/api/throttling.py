"""Rate limits, read from settings.API_THROTTLE_RATES at request time (so they can be configured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
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
