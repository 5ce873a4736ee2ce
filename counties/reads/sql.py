"""SQL the reads need that Django does not write by itself.

`IdSet`: a set of primary keys as *one* query parameter, for `pk__in=IdSet(ids)`. The list index
(`statistics.list_index`) hands the county list and the API sets of a thousand units (ten thousand
with ten times the data); as a plain `pk__in=ids` Django prepares and binds one parameter per id,
which cost a cold list page more than its queries. As one JSON array (SQLite's `json_each`) or one
array (PostgreSQL's `unnest`) the database unpacks the set itself, and the query's text and its
preparation stay the same size whatever the number of ids.

`in_ids`: the same, for the list index's thousands of ids: `pk__in_ids=ids`. Inside `IN (...)`
PostgreSQL cannot know how many distinct ids `unnest` gives (it assumes 200) and plans a nested
loop of index lookups, one per id; `= ANY(array)` is one array constant it hashes. A page's few
ids (`IdSetQuery`) keep `IN`, where that loop is right. Either way the array goes as one text
literal: psycopg adapting a long list of ints one by one costs more than the query.

`IdSetQuery`: a `values_list` query whose only parameter is such a set (the records of a page's
units), compiled once per database connection and then run with each new set. Django builds and
compiles a query each time it runs it, which for these small reads cost three times running them;
the rows still pass through Django's converters (booleans on SQLite, dates), so they are what the
queryset itself would give, and the query is counted and logged like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from django.db import connections
from django.db.models import Expression, Field, IntegerField, Lookup, QuerySet

# One output field for every set: building an IntegerField (its choices, validators) for each
# cost more than the rest of the expression.
_ID = IntegerField()


def array_literal(ids: Iterable[int]) -> str:
    """PostgreSQL's text form of a bigint[] ("{1,2,3}")."""
    return "{" + _integers(ids) + "}"


def json_array(ids: Iterable[int]) -> str:
    return "[" + _integers(ids) + "]"


def _integers(ids: Iterable[int]) -> str:
    """`ids` as "1,2,3", checked to be integers. orjson writes ten thousand in a tenth of the time
    joining their str() took (a millisecond, for each set of each cold list request)."""
    text = orjson.dumps(list(ids))
    if text.translate(None, b"0123456789,-[]"):  # a string, a float, a boolean, None
        raise TypeError(f"not a list of integers: {text[:80]!r}")
    return text[1:-1].decode()


class IdSet(Expression):
    """`SELECT` of the given integer ids, as the right-hand side of an `in` lookup."""

    def __init__(self, ids: Iterable[int]) -> None:
        super().__init__(output_field=_ID)
        self.ids = list(ids)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str]]:
        # PostgreSQL: one bigint[] parameter.
        return "SELECT unnest(%s::bigint[])", (array_literal(self.ids),)

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[str]]:
        return "SELECT value FROM json_each(%s)", (json_array(self.ids),)


@Field.register_lookup
class InIds(Lookup):
    """`field__in_ids=ids`: the field's value is one of `ids` (a set of any size, one parameter)."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*params, array_literal(self.rhs))

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", (*params, json_array(self.rhs))


# An id no row has: the compiled query's parameter for the set is found by its value.
_PLACEHOLDER = [-20140101]


class IdSetQuery:
    """`build(IdSet(ids))`, a `values_list` queryset, read as a list of tuples; the queryset is
    built and compiled on its first use in each thread's database connection."""

    def __init__(self, build: Callable[[IdSet], QuerySet]) -> None:
        self.build = build
        self.compiled = threading.local()

    def rows(self, ids: Iterable[int]) -> list[tuple[Any, ...]]:
        # Django's SQL compiler is no documented API, but it is the only way to run a compiled query
        # again with new parameters and still have the rows converted as the queryset converts them.
        found = getattr(self.compiled, "found", None)
        if found is None or found[0] is not connections[found[0].alias]:
            queryset = self.build(IdSet(_PLACEHOLDER))
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            _, (placeholder,) = compiler.compile(IdSet(_PLACEHOLDER))
            (position,) = (i for i, param in enumerate(params) if param == placeholder)
            found = self.compiled.found = (compiler.connection, compiler, sql, list(params), position)
        connection, compiler, sql, params, position = found
        _, (value,) = compiler.compile(IdSet(ids))
        with connection.cursor() as cursor:
            cursor.execute(sql, [value if i == position else param for i, param in enumerate(params)])
            return list(compiler.results_iter(results=[cursor.fetchall()], tuple_expected=True))
