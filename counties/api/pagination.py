from collections.abc import Sequence
from functools import partial
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from counties.reads import selectors

# In the client's language (Accept-Language), like every message of the API.
ILLUSTRATIVE_NOTICE = _(
    "This page includes illustrative records (source_kind 'illustrative'): invented to match published totals "
    "because no official roster is available. They are not official."
)


def has_illustrative(data: Any) -> bool:
    if isinstance(data, dict):
        return data.get("source_kind") == "illustrative" or any(has_illustrative(v) for v in data.values())
    if isinstance(data, list):
        return any(has_illustrative(v) for v in data)
    return False


class RowsPaginator(Paginator):
    """Django's paginator over a queryset whose page is read as plain rows (`values_list(*columns)`).

    The queryset is counted as it is, before its columns are chosen: a count of the rows with
    their columns joined the tables those come from (a unit's province, prefecture and current
    unit) for every row counted, most of an unfiltered list's time with 30,000 units."""

    def __init__(self, object_list: QuerySet, per_page: int, *, columns: Sequence[str]) -> None:
        super().__init__(object_list, per_page)
        self.columns = tuple(columns)

    def page(self, number: int | str) -> Page:
        page = super().page(number)
        page.object_list = cast(QuerySet, page.object_list).values_list(*self.columns)  # the page's slice, still unread
        return page


class RegistryPagination(PageNumberPagination):
    """50 a page by default, up to 1,000 with ?page_size=; the count and next/previous links come along,
    and a page that includes illustrative records says so."""

    page_size = 50
    invalid_page_message = cast(str, selectors.INVALID_PAGE_MESSAGE)  # lazy, as DRF's own: translated when refused
    page_size_query_param = "page_size"
    max_page_size = 1000
    columns: Sequence[str] = ()

    def get_page_size(self, request: Any) -> int:
        """The asked size, capped at the maximum; a size that is not a whole number of 1 or more is
        refused with a 400 naming it (DRF's own pagination silently ignores it)."""
        asked = request.query_params.get(self.page_size_query_param, "")
        if asked == "":
            return self.page_size
        try:
            size = int(asked)
        except ValueError:
            size = 0
        if size < 1:
            message = _("page_size must be a whole number from 1 to %(maximum)d (larger sizes give %(maximum)d); got %(asked)r.")
            raise ValidationError({self.page_size_query_param: [message % {"maximum": self.max_page_size, "asked": asked[:20]}]})
        return min(size, self.max_page_size)

    @property
    def django_paginator_class(self) -> Any:  # type: ignore[override]  # DRF only calls it, as (queryset, page_size)
        return partial(RowsPaginator, columns=self.columns) if self.columns else Paginator

    def paginate_rows(self, queryset: QuerySet, columns: Sequence[str], request: Request, view: Any = None) -> list[tuple] | None:
        """`paginate_queryset`, the page read as plain rows: `values_list(*columns)` (`RowsPaginator`)."""
        self.columns = columns
        return self.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        illustrative = has_illustrative(data)
        response.data["includes_illustrative"] = illustrative
        if illustrative:
            response.data["notice"] = str(ILLUSTRATIVE_NOTICE)
        # The count and the other pages in headers too (RFC 8288 links): a CSV page has no room for
        # them, and a partner reading one could not tell it was not the whole list.
        response["X-Total-Count"] = str(response.data["count"])
        pages = [(self.get_next_link(), "next"), (self.get_previous_link(), "prev")]
        if links := ", ".join(f'<{url}>; rel="{rel}"' for url, rel in pages if url):
            response["Link"] = links
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["includes_illustrative"] = {"type": "boolean"}
        schema["properties"]["notice"] = {"type": "string", "description": "Present when the page includes illustrative records."}
        schema["required"] = [*schema.get("required", []), "includes_illustrative"]
        return schema
