"""The ``python`` route: a table (or route) written in Python, registered the same way as the others.

``function = "module:name"`` names a function in ``sqlspapi.vtables.<module>``. Its hidden input columns given
with ``=`` in the query (or as table-valued-function arguments) arrive as keyword arguments; it receives the
statement scope (so its calls go through the same auth, RDTs, rate limits, retries and call log) and yields
``(object, request)`` pairs or plain objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import PythonSpec, RouteSpec, TableSpec
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.hooks import load_function
from sqlspapi.sql.plan import BindContext, Bound, Choice, Constraint, Plan, Row
from sqlspapi.sql.routes.base import Route, Scope


class PythonRoute(Route):
    """Hidden inputs in, whatever the function yields out."""

    kind = "python"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """Every ``=`` on a hidden column is an input (exactly consumed)."""
        return self.choose_inputs(table, spec, constraints, used, cost=1e3, rows=100)

    def operation_name(self, plan: Plan) -> str:
        """EXPLAIN names the function."""
        assert isinstance(plan.route, PythonSpec)
        return plan.route.function

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """Decided by the function (each call it sends is paced on its operation's usage plan)."""
        return Calls(None, None, basis="calls decided by the Python function as it runs")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The inputs by column name (a NULL input is passed as None: the function's default applies)."""
        bound = Bound()
        bound.inputs.update({arg.column: value for arg, value in zip(plan.args, values, strict=True)
                             if value is not None})
        bound.inputs["__context__"] = ctx
        return bound

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Call the function; plain objects become rows with no request."""
        spec = plan.route
        assert isinstance(spec, PythonSpec)
        inputs = {k: v for k, v in bound.inputs.items() if not k.startswith("__")}
        for item in load_function(spec.function)(scope, bound.inputs["__context__"], **inputs):
            if isinstance(item, tuple):
                yield item[0], item[1], None
            elif isinstance(item, Mapping):
                yield item, None, None
