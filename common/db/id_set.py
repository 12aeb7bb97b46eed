"""`column IN (a batch of ids)` for set-based statements (accounts' dunning run, disputes' SLA
sweeper), compiled per dialect: on PostgreSQL `column = ANY(CAST(:ids AS VARCHAR[]))`, one array
parameter, so a batch of 500 customers or 200 cases is not that many placeholders rendered and
bound on every execution; elsewhere (SQLite) the expanding `IN`. Either way the statement is built
once and `ids` is a list of strings."""

from __future__ import annotations

from sqlalchemy import String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean


class InIds(ColumnElement[bool]):
    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a predicate: SQLite must not get "… = 1" appended

    def __init__(self, column, name: str = "ids"):
        self.column, self.name = column, name

    # the cache key: which column, which parameter (values are bound, never part of it)
    def _gen_cache_key(self, anon_map, bindparams):
        return (InIds, self.column._gen_cache_key(anon_map, bindparams), self.name)


@compiles(InIds)
def _in_list(element: InIds, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InIds, "postgresql")
def _any_array(element: InIds, compiler, **kw) -> str:
    column = compiler.process(element.column, **kw)
    array = compiler.process(bindparam(element.name, type_=ARRAY(String)), **kw)
    return f"{column} = ANY({array})"


def in_ids(column, name: str = "ids") -> InIds:
    return InIds(column, name)
