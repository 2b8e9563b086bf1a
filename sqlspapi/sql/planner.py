"""The pushdown planner: SQLite constraints in, a Plan out; then a Plan plus values in, API requests out.

Pure functions, no I/O. :func:`choose` runs inside BestIndexObject: it asks each of the table's routes, in the
definition's order (get, bulk, nested, batch, list, window, document, report, python), and takes the first that can
serve the access without a missing filter (else the first at all, whose plan then names what is missing).
:func:`bind` runs inside Filter, when the values are known, and asks the plan's route for the concrete requests. The
rules of each route are in its module (:mod:`sqlspapi.sql.routes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlspapi.definitions.schema import TableSpec
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.plan import (
    EQ,
    GE,
    GT,
    IMPOSSIBLE_COST,
    LE,
    LIMIT,
    LT,
    OFFSET,
    OTHER,
    UNKNOWN,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Plan,
    Request,
)
from sqlspapi.sql.routes import route_for

__all__ = ["choose", "bind", "Plan", "Choice", "Constraint", "Bound", "BindContext", "Request", "EQ", "GT", "GE",
           "LT", "LE", "LIMIT", "OFFSET", "OTHER", "UNKNOWN", "IMPOSSIBLE_COST"]


def choose(table: TableSpec, constraints: Sequence[Constraint], n_orderby: int = 0,
           columns_used: Iterable[int] | None = None, env: CostEnv | None = None) -> Choice:
    """Pick the route and the constraints to push for one table access; ``env`` (what the account's calls were seen
    to do, the ``Route`` mode) lets a route weigh the data's volume (the ``bulk`` route; None: never the report in
    auto mode)."""
    used = frozenset(columns_used) if columns_used is not None else None
    first: Choice | None = None
    for spec in table.routes:
        choice = route_for(spec.kind).choose_in(table, spec, constraints, n_orderby, used, env)
        if choice is None:
            continue
        if not choice.plan.missing:
            return choice
        first = first or choice
    assert first is not None, f"{table.name}: no route can serve this access"
    return first


def bind(plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
    """Turn a plan and its Filter arguments into concrete requests; an impossible filter gives none."""
    return route_for(plan.route.kind).bind(plan, values, ctx)
