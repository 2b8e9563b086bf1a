"""The ``get`` route: one call per key value (``getOrder`` by id, ``getCatalogItem`` by ASIN).

``key = v`` → one call (a unique row). ``key IN (…)`` → one call per value (the planner's "multiget" mode), but
only when the table's list route cannot take the whole list in one parameter (then the list route batches it).
A 404 means zero rows (the id does not exist), as SQL expects; a success answer without the object at ``row`` (``{}``,
an empty payload) is not: the client retries it, then raises ``IncompleteResponse``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import GetSpec, RouteSpec, TableSpec
from sqlspapi.errors import SPAPIError
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.plan import EQ, Arg, BindContext, Bound, Choice, Constraint, Plan, Request, Row
from sqlspapi.sql.routes.base import (
    Route,
    Scope,
    apply_derived,
    apply_parts,
    base_query,
    collect,
    connection_path,
    describe,
    filter_for,
    restricted_notice,
    usable_on,
)
from sqlspapi.sql.rows import dig


class GetRoute(Route):
    """One call per key value."""

    kind = "get"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice | None:
        """``key = v``; ``key IN (…)`` unless the list route takes the list in one parameter; never beside a hidden
        search input, which the get operation cannot send (SQLite would then drop every row)."""
        assert isinstance(spec, GetSpec)
        if any(c.usable and c.op == EQ and 0 <= c.column < len(table.columns) and table.columns[c.column].hidden
               for c in constraints):
            return None  # a search input (keywords) is given: only the list route can honour it
        eq = usable_on(table, constraints, spec.column, EQ, is_in=False)
        if eq:
            i, c = eq[0]
            plan = describe(Plan(table, spec, (Arg("key", spec.column),), columns_used=used, mode="get"), [c], self)
            return Choice(plan, [(i, 1, True, False)], cost=1.0, rows=1, unique=True)
        ins = usable_on(table, constraints, spec.column, EQ, is_in=True)
        lst = table.list
        id_filter = filter_for(lst.filters, spec.column) if lst else None
        if ins and not (id_filter and "IN" in id_filter.ops):
            i, c = ins[0]
            plan = describe(Plan(table, spec, (Arg("key", spec.column, is_in=True),), columns_used=used,
                                 mode="multiget"), [c], self)
            return Choice(plan, [(i, 1, True, True)], cost=20.0, rows=20)
        return None

    def note(self, plan: Plan) -> str:
        """One call, or one per value."""
        return "one call" if plan.mode == "get" else "one call per value"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """One call, or one per value of the IN list."""
        return Calls(plan.route.operation, 1.0, per="" if plan.mode == "get" else f"{plan.route.column} value")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """One request per distinct key value."""
        spec = plan.route
        assert isinstance(spec, GetSpec)
        got = collect(plan, values)
        if got.empty:
            return Bound()
        restricted_notice(plan, ctx)
        keys = sorted(next(iter(got.sets.values()), set()))
        return Bound([request_for(plan.table, spec, key, ctx, plan.columns_used) for key in keys],
                     stop_after=got.stop_after)

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Each found object once; a 404 is no row."""
        spec = plan.route
        assert isinstance(spec, GetSpec)
        for req in bound.requests:
            obj = fetch_one(spec, req, scope)
            if obj is not None:
                yield obj, req, None


def request_for(table: TableSpec, spec: GetSpec, key: str, ctx: BindContext | None,
                used: frozenset[int] | None = None, parts: Sequence[str] = ()) -> Request:
    """The get request for one key (``parts`` adds to the "which parts" parameter, for nested readers)."""
    include = ctx.include_restricted if ctx else False
    query = base_query(spec, include)
    apply_parts(table, query, used)
    if parts and table.parts is not None:
        query[table.parts.param] = sorted(set(query.get(table.parts.param, ())) | set(parts))
    path = {spec.path_param: key}
    if ctx is not None:
        apply_derived(spec, query, ctx)
        path = {**connection_path(spec.operation, ctx, path), **path}
    assert spec.operation is not None
    return Request(spec.operation, path, query)


def fetch_one(spec: GetSpec, req: Request, scope: Scope) -> Mapping[str, Any] | None:
    """The object at ``spec.row`` of one get call; None for a 404 (no such id). An answer without that object (or
    with an empty one) is an incomplete answer, retried then raised by the client, never "no row"."""
    try:
        data = scope.call(req.operation, req.path, req.query, expect=Envelope(row=spec.row))
    except SPAPIError as exc:
        if exc.status == 404 and spec.not_found_empty:
            return None
        raise
    obj = dig(data, spec.row) if spec.row else data
    return obj if isinstance(obj, Mapping) else None
