"""Who a client is, for the API's rate limits and the sign-in lock-outs: one rule for both."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address that
    many places from the right of X-Forwarded-For (each proxy appends the address it saw).

    Addresses further left are whatever the client wrote and would let it choose its identity,
    so they are never used. The same rule as DRF's NUM_PROXIES.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [address.strip() for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if address.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]
