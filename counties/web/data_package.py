"""/data/: the data package's versions, and their files as downloads."""

from __future__ import annotations

import hashlib

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from counties.caching.token import current_state
from counties.reads.data_package import descriptor, store

RETRY_SECONDS = 60
# A file at a version's URL never changes: a cache may keep it as long as it likes.
FILE_MAX_AGE = 24 * 3600


def revalidated(request: HttpRequest, response: HttpResponse) -> HttpResponseBase:
    """The listing changes when a build ends, which the data token does not say: it is never kept
    by the response cache (Cache-Control of its own) and carries an ETag of its own bytes."""
    patch_cache_control(response, no_cache=True)
    response["ETag"] = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


@require_safe
def data_package(request: HttpRequest) -> HttpResponseBase:
    listing = store.listing(current_state())
    context = {
        "listing": listing,
        "licences": descriptor.LICENCES,
        "sources": descriptor.SOURCES,
        "retry_seconds": RETRY_SECONDS,
        # The packages hold the illustrative roster while the registry does: the page says so.
        "includes_illustrative": any(version.includes_illustrative for version in listing.versions),
    }
    response = render(request, "counties/data_package.html", context, status=200 if listing.versions else 503)
    if not listing.versions:
        response["Retry-After"] = str(RETRY_SECONDS)
    return revalidated(request, response)


@require_safe
def data_package_file(request: HttpRequest, name: str, filename: str) -> HttpResponseBase:
    version = store.read(name)
    entry = version.file(filename) if version is not None else None
    if version is None or entry is None:
        raise Http404(_("No such file in the data package: %(name)s/%(file)s.") % {"name": name, "file": filename})
    try:  # opened first: a file pruned since the manifest was read is a 404, whatever the request's conditions
        handle = open(version.path(entry.name), "rb")  # noqa: SIM115  # FileResponse closes it
    except FileNotFoundError:
        raise Http404(_("No such file in the data package: %(name)s/%(file)s.") % {"name": name, "file": filename}) from None
    etag = f'"{entry.sha256}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        handle.close()
        not_modified["ETag"] = etag
        return not_modified
    response = FileResponse(handle, as_attachment=True, filename=entry.name, content_type=store.MEDIA_TYPES[entry.format])
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=FILE_MAX_AGE, immutable=True)
    return response
