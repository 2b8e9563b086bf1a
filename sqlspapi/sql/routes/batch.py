"""The ``batch`` route: one POST carrying up to ``max_items`` sub-requests (pricing and fees batch operations).

``key = v`` / ``IN (…)`` gives the values; each value (per marketplace, when the table has a marketplace column)
becomes one sub-request built from the definition's ``template`` (``{value}``, ``{marketplace}`` filled in), and
the values are sent ``max_items`` at a time. Each response of the batch answer (at ``rows``) yields the object at
``row``; a sub-response with an error status yields nothing for that value (the API says it has no answer), while
the whole batch failing raises as any call does, and so does an answer without its ``rows`` array (retried first).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import BatchSpec, RouteSpec, TableSpec
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.plan import EQ, IMPOSSIBLE_COST, Arg, BindContext, Bound, Choice, Constraint, Plan, Request, Row
from sqlspapi.sql.routes.base import Route, Scope, base_query, collect, describe, missing_groups, usable_on
from sqlspapi.sql.rows import as_rows, dig


class BatchRoute(Route):
    """Values in, batched POSTs out."""

    kind = "batch"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """The key column must be given; a marketplace column filter narrows the marketplaces."""
        assert isinstance(spec, BatchSpec)
        usage: list[tuple[int, int, bool, bool]] = []
        args: list[Arg] = []
        shown: list[Constraint] = []
        for column in filter(None, (spec.column, spec.marketplace_column)):
            found = usable_on(table, constraints, column, EQ)
            if found:
                i, c = found[0]
                usage.append((i, len(usage) + 1, True, c.is_in))
                args.append(Arg("key" if column == spec.column else "marketplace", column, is_in=c.is_in))
                shown.append(c)
        missing = missing_groups(table, args, [spec.column])
        plan = describe(Plan(table, spec, tuple(args), missing=missing, columns_used=used), shown, self)
        if missing:
            return Choice(plan, usage, cost=IMPOSSIBLE_COST, rows=2**62)
        return Choice(plan, usage, cost=10.0, rows=20)

    def note(self, plan: Plan) -> str:
        """How many values one call carries."""
        assert isinstance(plan.route, BatchSpec)
        return f"{plan.route.max_items} values per call"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """One call per ``max_items`` values."""
        assert isinstance(plan.route, BatchSpec)
        return Calls(plan.route.operation, 1.0, per=f"{plan.route.max_items} {plan.route.column} values")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """One POST per ``max_items`` (value, marketplace) pairs."""
        spec = plan.route
        assert isinstance(spec, BatchSpec) and spec.operation is not None
        got = collect(plan, values)
        if got.empty:
            return Bound()
        keys: list[str] = []
        markets: list[str] = []
        for (role, _column, _param), vals in got.sets.items():
            (keys if role == "key" else markets).extend(sorted(vals))
        if spec.marketplace_column and not markets:
            markets = list(ctx.marketplace_ids())
        pairs = [(k, m) for k in keys for m in (markets or [""])]
        requests = []
        for start in range(0, len(pairs), spec.max_items):
            chunk = pairs[start:start + spec.max_items]
            subs = [_fill(spec.template, {"value": k, "marketplace": m}) for k, m in chunk]
            body: Any = subs if not spec.body else {spec.body: subs}
            requests.append(Request(spec.operation, {}, base_query(spec, ctx.include_restricted), body))
        return Bound(requests, stop_after=got.stop_after)

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Each sub-response's object."""
        spec = plan.route
        assert isinstance(spec, BatchSpec)
        for req in bound.requests:
            data = scope.call(req.operation, req.path, req.query, req.body, expect=Envelope(rows=spec.rows))
            for response in as_rows(dig(data, spec.rows) if spec.rows else data):
                status = dig(response, ("status", "statusCode"))
                if isinstance(status, int) and status >= 400:
                    continue
                obj = dig(response, spec.row) if spec.row else response
                if isinstance(obj, Mapping):
                    yield obj, req, response


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    """The template with ``{value}``/``{marketplace}`` replaced in every string (recursively)."""
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, Mapping):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template
