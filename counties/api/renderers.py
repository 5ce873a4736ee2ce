"""The API's renderers: JSON through orjson, and CSV for every list and statistic (`?format=csv`):
one row per item, nested fields flattened, written by the registry's one table writer (BOM,
formula neutralising)."""

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from counties.reads import tables

_FALLBACK = JSONEncoder()


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON (compact, UTF-8, the same bytes for the same data), encoded by orjson.

    orjson writes what DRF's encoder writes for str, int, bool, None, lists and dicts (their
    subclasses included); every other type (a datetime, whose microseconds DRF cuts to
    milliseconds, a lazy translation, a Decimal, a date, a UUID) goes to DRF's own encoder. An indented
    answer (`Accept: application/json; indent=4`, the browsable API's) is DRF's renderer's.
    """

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        if self.get_indent(accepted_media_type or "", renderer_context) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        options = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
        rendered = orjson.dumps(data, default=_FALLBACK.default, option=options)
        # As DRF does: the two line separators JavaScript would read as line ends, escaped.
        if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
            rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return rendered


def flatten(item: Any, prefix: str = "") -> dict[str, Any]:
    """{"province": {"code": "1"}} → {"province.code": "1"}; lists of scalars are joined with ';'."""
    if not isinstance(item, dict):
        return {prefix or "value": item}
    row: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            row.update(flatten(value, name))
        elif isinstance(value, list):
            row[name] = ";".join(str(v.get("code", v.get("key", v))) if isinstance(v, dict) else str(v) for v in value)
        else:
            row[name] = value
    return row


def rows_of(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        return [flatten(item) for item in data]
    if isinstance(data, dict) and any(isinstance(v, list) for v in data.values()):
        # A statistic made of groups (funding by year, by province, ...): one row per group item.
        return [{"group": key, **flatten(item)} for key, value in data.items() if isinstance(value, list) for item in value]
    return [flatten(data)]


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None) -> bytes:
        if data is None:
            return b""
        rows = rows_of(data)
        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        return tables.csv_bytes(columns, ([row.get(c) for c in columns] for row in rows))


class FormatNegotiation(DefaultContentNegotiation):
    """`?format=` must name one of the API's formats. Another is refused with a 400 that lists
    them: DRF answers 404, which a partner reads as a missing record, not a mistyped format."""

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        renderers = list(renderers)
        chosen = [renderer for renderer in renderers if renderer.format == format]
        if not chosen:
            message = _("No format %(asked)r: use one of %(formats)s.")
            formats = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise ValidationError({"format": [message % {"asked": format[:20], "formats": formats}]})
        return chosen

    def select_renderer(self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: str | None = None) -> Any:
        """A media type the client gives `q=0` is one it does not accept (RFC 9110; DRF reads no q
        values): no renderer of it answers, even for `*/*` beside it, and `application/json;q=0`
        alone is answered 406. A `?format=` names the answer outright, whatever Accept says."""
        if format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE):
            return super().select_renderer(request, renderers, format_suffix)
        refused = {token.split(";")[0].strip().lower() for token in super().get_accept_list(request) if _refused(token)}
        allowed = [renderer for renderer in renderers if renderer.media_type.split(";")[0].strip().lower() not in refused]
        return super().select_renderer(request, allowed, format_suffix)


def _refused(token: str) -> bool:
    for parameter in token.split(";")[1:]:
        name, _sep, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip()) == 0
            except ValueError:
                return False
    return False
