"""The ``nested`` route: rows that live inside a parent entity (2026 ``order_items`` inside the order).

``column = v`` / ``IN`` gives the parent keys. A parent already in the statement's entity cache (because the
query also scans the parent table, e.g. ``orders JOIN order_items``) costs no call, provided it was fetched with
the parts the nested table needs; otherwise the parent table's get route fetches it (and caches it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlspapi.definitions.schema import NestedSpec, RouteSpec, TableSpec
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.plan import EQ, IMPOSSIBLE_COST, Arg, BindContext, Bound, Choice, Constraint, Plan, Row
from sqlspapi.sql.routes.base import Route, Scope, collect, describe, usable_on
from sqlspapi.sql.routes.get import fetch_one, request_for
from sqlspapi.sql.rows import as_rows, dig


class NestedRoute(Route):
    """Child arrays of a parent entity, from the cache or through the parent's get."""

    kind = "nested"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """The parent key must be given (= or IN): without it the plan is impossible (an error names it)."""
        assert isinstance(spec, NestedSpec)
        keys = usable_on(table, constraints, spec.column, EQ)
        if not keys:
            plan = describe(Plan(table, spec, (), missing=(spec.column,), columns_used=used), [], self)
            return Choice(plan, [], cost=IMPOSSIBLE_COST, rows=2**62)
        i, c = keys[0]
        plan = describe(Plan(table, spec, (Arg("key", spec.column, is_in=c.is_in),), columns_used=used), [c], self)
        return Choice(plan, [(i, 1, True, c.is_in)], cost=5.0, rows=5)

    def operation_name(self, plan: Plan) -> str:
        """EXPLAIN names the array read."""
        assert isinstance(plan.route, NestedSpec)
        return plan.route.items

    def note(self, plan: Plan) -> str:
        """Where the rows come from."""
        assert isinstance(plan.route, NestedSpec)
        return f"read from the cached {plan.route.entity}, else one get call per key"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """None when the statement also reads the parents, else one parent get per key."""
        assert isinstance(plan.route, NestedSpec)
        return Calls(None, None, basis=f"no call for {plan.route.entity} this statement already read, else one get "
                                       "call per key")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The parent keys."""
        got = collect(plan, values)
        if got.empty:
            return Bound()
        bound = Bound(keys=sorted(next(iter(got.sets.values()), set())), stop_after=got.stop_after)
        bound.inputs["context"] = ctx
        return bound

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """For each key: the cached parent (with the needed parts) or one parent get; then its child array."""
        spec = plan.route
        assert isinstance(spec, NestedSpec)
        parent_table = scope.entity_source(plan.table)
        get = parent_table.get
        assert get is not None
        ctx = bound.inputs.get("context")
        for key in bound.keys:
            parent = scope.entity(spec.entity, key, spec.parts)
            if parent is None:
                req = request_for(parent_table, get, key, ctx, parts=spec.parts)
                parent = fetch_one(get, req, scope)
                if parent is None:
                    continue
                scope.remember(parent_table, parent, req, parts=_parts_of(parent_table, req))
            for obj in as_rows(dig(parent, spec.items)):
                yield obj, None, parent


def _parts_of(table: TableSpec, req: Any) -> frozenset[str]:
    if table.parts is None:
        return frozenset()
    value = req.query.get(table.parts.param) or ()
    return frozenset(value if isinstance(value, list | tuple) else [value])
