"""Rate limits, read from settings.API_THROTTLE_RATES at request time (so they can be configured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
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

    def allow_request(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, ApiToken):
            return True
        return super().allow_request(request, view)


class TokenThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
