"""The Widgets harness the route tests share (``test_routes.py``, ``test_list_route.py``): the test-only
definitions (``tests/fixtures/definitions/widgets-v1.toml``, a fictional Widgets API with one table per route kind)
loaded with the real loader, WHERE/LIMIT terms, planner.choose/bind with a fixed clock, StatementScope.rows over a
fake client (``tests/fakes``) and the canned Widgets API answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fakes import FakeClient, canned, not_found, paged

from sqlspapi.definitions.loader import load_file
from sqlspapi.definitions.schema import TableSpec
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, LIMIT, BindContext, Bound, Constraint, Plan
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope

#: The test-only Widgets definition and its canned data.
DEFINITION = Path(__file__).parent / "fixtures" / "definitions" / "widgets-v1.toml"
MARKETPLACES = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
US, CA = MARKETPLACES
CONNECTION = {"sellerId": "A1SELLER", "region": "na"}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WIDGETS: list[dict[str, Any]] = canned("widgets.json")["widgets"]
PRICES: dict[str, float] = canned("widgets.json")["prices"]


@cache
def table(name: str) -> TableSpec:
    """A table of the test-only Widgets definition."""
    return load_file(DEFINITION).tables[name]


def where(name: str, column: str, op: str = EQ, rhs: Any = None) -> Constraint:
    """A usable WHERE term on ``column`` (a list or tuple ``rhs`` with EQ is an IN list)."""
    is_in = op == EQ and isinstance(rhs, list | tuple)
    return Constraint(table(name).column_index(column), op, True, is_in, tuple(rhs) if is_in else rhs)


def limit(n: int) -> Constraint:
    """A LIMIT term."""
    return Constraint(-1, LIMIT, True, False, n)


def context() -> BindContext:
    """A fixed clock, the two test marketplaces and the connection values."""
    return BindContext(now=NOW, lookback_days=30, include_restricted=False, marketplace_ids=lambda: MARKETPLACES,
                       connection=CONNECTION)


def plan_and_bind(name: str, constraints: Sequence[Constraint] = (),
                  used: Iterable[int] | None = None) -> tuple[Plan, Bound]:
    """planner.choose, then planner.bind with the constraints' values in the order the plan asks for them."""
    choice = planner.choose(table(name), constraints, 0, used)
    assert not choice.plan.missing, choice.plan.text
    values = [constraints[i].rhs for i, _argv, _omit, _in in sorted(choice.usage, key=lambda u: u[1])]
    return choice.plan, planner.bind(choice.plan, values, context())


def scope_for(client: FakeClient) -> StatementScope:
    """A statement scope over the fake client (nested tables find their parent in the Widgets definition)."""
    return StatementScope(client, include_restricted=False, entity_source=lambda t: table("widgets"),
                          connection=CONNECTION, poll_scale=0)


def rows(name: str, client: FakeClient, constraints: Sequence[Constraint] = (), used: Iterable[int] | None = None,
         scope: StatementScope | None = None) -> list[dict[str, Any]]:
    """The SQL rows (column name → value) the table gives for these constraints."""
    plan, bound = plan_and_bind(name, constraints, used)
    spec = table(name)
    build = row_builder(spec.columns, None, CONNECTION)
    out = []
    for obj, request, parent in (scope or scope_for(client)).rows(plan, bound):
        out.append(dict(zip([c.name for c in spec.columns], build(obj, request, parent), strict=True)))
    return out


def get_widget(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    """getWidget: the canned widget, or a 404."""
    found = [w for w in WIDGETS if w["widgetId"] == path["widgetId"]]
    if not found:
        raise not_found(f"widget {path['widgetId']}")
    return {"widget": found[0]}


def wanted(query: Mapping[str, Any], widget: Mapping[str, Any]) -> bool:
    """listWidgets' filters: widgetIds and statuses."""
    ids = query.get("widgetIds")
    return (ids is None or widget["widgetId"] in ids) and query.get("statuses", widget["status"]) == widget["status"]


def widgets_client(**more: Any) -> FakeClient:
    """A fake client serving listWidgets (3 per page) and getWidget."""
    return FakeClient({"listWidgets": paged(WIDGETS, "payload.widgets", "payload.nextToken", select=wanted),
                       "getWidget": get_widget, **more})
