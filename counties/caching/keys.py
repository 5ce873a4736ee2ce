"""What a cached answer is keyed and varied on: the one home of every cache key the registry
builds and of what makes two answers differ.

An answer depends on the data (the data token, `counties.caching.token`), on the code that made it
(`code_fingerprint`), and on the request: scheme, host, path and query, and for the API also the
representation headers (Accept and the language). The response cache keys an answer by
`request_variant`, read from Django's request; its front door, which runs before Django builds a
request, keys it by the raw WSGI values those are read from (`FRONT_DOOR_VARIANT`): a superset, so
it never serves one variant's bytes for another.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from functools import cache as memoize
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import get_supported_language_variant

# Everything under it is the partner API: JSON errors, its own language rule and cache variance.
API_PREFIX = "/api/"
# Partners are international: a client that names no language the registry has gets English.
API_DEFAULT_LANGUAGE = "en"
# What a cacheable answer may Vary on: the API on its representation headers, the pages on the
# language only (an unprefixed page is always in LANGUAGE_CODE, whatever Accept-Language says).
API_VARY = frozenset({"accept", "accept-language"})
PAGE_VARY = frozenset({"accept-language"})
# Never cached, never given a public ETag: the admin in every language, the health checks (they
# must reach the database and the cache), the language switch.
PRIVATE_PATHS = re.compile(r"^/(?:[a-z]{2}(?:-[a-z]+)?/)?admin/|^/(?:healthz|readyz)$|^/i18n/")
# Everything in the WSGI environ an anonymous answer can depend on (besides the data and the code).
FRONT_DOOR_VARIANT = (
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_LANGUAGE",
)

# The data token's shared copy (counties.caching.token).
TOKEN_COPY_KEY = "data-token"


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


@memoize
def code_fingerprint() -> str:
    """A digest of the code, templates, translations and static files this process serves: an
    entry (and an ETag) made by one release is never served by another, even with the same data."""
    base = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    roots = [base / "counties", base / "registry", base / "templates", base / "locale", base / "static"]
    files = sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc")
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    for path in [*files, manifest] if manifest.is_file() else files:
        digest.update(str(path.relative_to(base) if path.is_relative_to(base) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def api_language(request: HttpRequest) -> str:
    """The language of an API answer (also part of the response cache's key)."""
    return language_from_header(request.headers.get("Accept-Language", ""))


def language_from_header(accept_language: str) -> str:
    """The language of the header the registry has, in the client's order of preference
    (zh, zh-CN, zh-Hans and zh-TW → zh-hans; en, en-GB → en); else English."""
    for code in accepted_languages(accept_language):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return API_DEFAULT_LANGUAGE


def accepted_languages(header: str) -> list[str]:
    """The language ranges of an Accept-Language header (RFC 9110 12.5.4), most preferred first;
    those with q=0 (refused) and malformed ones are left out, ties keep the header's order."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        code, _, params = item.strip().partition(";")
        code = code.strip().lower()
        well_formed = code == "*" or all(part.isascii() and part.isalnum() and 0 < len(part) <= 8 for part in code.split("-"))
        if not well_formed:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if 0 < quality <= 1:
            ranked.append((-quality, position, code))
    return [code for _q, _p, code in sorted(ranked)]


# -- the query a view reads -----------------------------------------------------------------------
#
# A parameter no view reads (`?junk=<random>`) must not make a new cache entry per value: a flood of
# them would evict what is worth keeping. So a view says which parameters it reads, and the
# response cache hands it only those (`normalize_query`) before it keys the answer: the answer then
# depends on nothing the key leaves out, even where a page writes its own query back into its
# links. A view that says nothing is given its query as it came.

V = TypeVar("V", bound=Callable[..., Any])
QUERY_NAMES = "query_names"  # the attribute a view (function, or DRF view class) declares them in


def reads_query(*names: str) -> Callable[[V], V]:
    """Declare the query parameters a page view reads (DRF views: see `view_query_names`)."""

    def declare(view: V) -> V:
        @functools.wraps(view)
        def reading(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        setattr(reading, QUERY_NAMES, frozenset(names))
        return cast(V, reading)

    return declare


def view_query_names(view: Callable[..., Any]) -> frozenset[str] | None:
    """The parameters `view` reads, or None when it does not say. A DRF generic view (a viewset)
    reads its filterset's, its paginator's and the format parameter, and what its class adds in
    `query_names`; another DRF view what its class declares."""
    from rest_framework.generics import GenericAPIView
    from rest_framework.settings import api_settings

    cls = getattr(view, "cls", None)
    if cls is None:
        return getattr(view, QUERY_NAMES, None)
    declared = getattr(cls, QUERY_NAMES, None)
    if not issubclass(cls, GenericAPIView):
        return None if declared is None else frozenset(declared) | {api_settings.URL_FORMAT_OVERRIDE}
    names = set(declared or ()) | {api_settings.URL_FORMAT_OVERRIDE}
    if cls.filterset_class is not None:
        names |= set(cls.filterset_class.base_filters)
    if cls.pagination_class is not None:
        paginator = cls.pagination_class
        names |= {
            name for name in (getattr(paginator, "page_query_param", None), getattr(paginator, "page_size_query_param", None)) if name
        }
    return frozenset(names)


@lru_cache(maxsize=4096)
def view_at(path: str) -> Callable[..., Any] | None:
    """The view that answers `path`, found as Django will find it (a page under /en/ in English)."""
    language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            return resolve(path).func
    except Resolver404:
        return None


def normalize_query(request: HttpRequest) -> None:
    """Take out of `request` the query parameters its view does not read (the rest stay as sent,
    in their order), so that a parameter no view reads is no new variant."""
    view = view_at(request.path_info)
    names = None if view is None else view_query_names(view)
    if names is None or not request.META.get("QUERY_STRING"):
        return
    unread = [name for name in request.GET if name not in names]
    if unread:
        kept = request.GET.copy()
        for name in unread:
            del kept[name]
        request.META["QUERY_STRING"] = kept.urlencode()
        request.GET = QueryDict(request.META["QUERY_STRING"], encoding=request.encoding)


# Parameters whose values are free text (a search, a moment): each value would be a variant of its
# own, so an answer to one is worked out each time (a search's is cheap) and never kept. What the
# cache keeps is then bounded by what the pages offer: provinces, years, pages that exist.
FREE_TEXT_QUERY = frozenset({"q", "updated_since"})


def keeps_answer(request: HttpRequest) -> bool:
    """Whether the response cache may keep (and look up) the answer to `request`: not to free text."""
    return not any(request.GET.get(name) for name in FREE_TEXT_QUERY)


def request_variant(request: HttpRequest) -> str:
    """Everything that changes the bytes of an answer, but the data: the running code, scheme,
    host, path and query, and for the API its representation headers."""
    parts = [code_fingerprint(), request.scheme or "", request.get_host(), request.get_full_path()]
    if is_api(request.path):
        parts += [request.headers.get("Accept", ""), api_language(request)]
    return "|".join(parts)


def response_key(variant: str) -> str:
    """Where the response cache keeps the answer of a variant."""
    return "response:" + hashlib.sha256(variant.encode()).hexdigest()


def strong_etag(variant: str) -> str:
    return f'"{hashlib.sha256(variant.encode()).hexdigest()[:32]}"'


def statistic_key(token: str, name: str, args: tuple[object, ...]) -> str:
    """Where a statistic is kept: by the code as well as the data token, so that after a release
    the new code never unpickles objects the old one stored (a class without a field it reads)."""
    return f"statistics:{code_fingerprint()}:{token}:{name}:{':'.join(map(str, args))}"


# A client's rate-limit counters (DRF's cache_format; `counties.caching.throttling` adds the window).
THROTTLE_FORMAT = "throttle:%(scope)s:%(ident)s"
