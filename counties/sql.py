"""SQL the reads need that Django does not write by itself.

`IdSet`: a set of primary keys as *one* query parameter, for `pk__in=IdSet(ids)`. The list index
(`statistics.list_index`) hands the county list and the API sets of a thousand units (ten thousand
with ten times the data); as a plain `pk__in=ids` Django prepares and binds one parameter per id,
which cost a cold list page more than its queries. As one JSON array (SQLite's `json_each`) or one
array (PostgreSQL's `unnest`) the database unpacks the set itself, and the query's text and its
preparation stay the same size whatever the number of ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from django.db.models import Expression, IntegerField


class IdSet(Expression):
    """`SELECT` of the given integer ids, as the right-hand side of an `in` lookup."""

    def __init__(self, ids: Iterable[int]) -> None:
        super().__init__(output_field=IntegerField())
        self.ids = list(ids)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # PostgreSQL: one bigint[] parameter.
        return "SELECT unnest(%s::bigint[])", [self.ids]

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "SELECT value FROM json_each(%s)", [orjson.dumps(self.ids).decode()]
