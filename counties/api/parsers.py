"""The API's JSON request parser: DRF's, except that a body nested deeper than Python's JSON reader
can follow (50,000 `[`) is the client's error, a 400 that says so, not a RecursionError and a 500."""

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The reader gave up deep in the body and has unwound: nothing of it was kept.
            raise ParseError(
                _("JSON parse error - the body's lists and objects are nested too deeply to read; a record is one object of fields.")
            ) from None
