"""Optimistic concurrency for API writes: a record's ETag, and `If-Match` on PUT, PATCH and DELETE.

A record's ETag is a hash of the record as the API shows it, so it changes whenever anything a
client read changes. A write that sends `If-Match` is refused with 412 when the record no longer
has that ETag. `If-Match` is optional: v1 promises not to change the meaning of requests that
worked before, and PATCH writes only the fields it sends, so two clients changing different
fields never undo each other even without it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils.http import parse_etags
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = _("The record has changed since you read it. Read it again and send its new ETag in If-Match.")


def representation_etag(data: Any) -> str:
    """A strong ETag for a record's JSON representation (the same for every output format)."""
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Request, current_etag: str) -> None:
    """Raise PreconditionFailed unless `If-Match` is absent, `*`, or names `current_etag`.

    Strong comparison (RFC 9110 §13.1.1): a weak tag (W/"…") never matches.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = parse_etags(header)
    if tags == ["*"] or current_etag in tags:
        return
    raise PreconditionFailed(
        _("The record has changed since you read it (its ETag is now %(etag)s). Read it again, then retry with the new ETag in If-Match.")
        % {"etag": current_etag}
    )
