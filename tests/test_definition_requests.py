"""Every required parameter is sent by every request a route can build, checked against Amazon's model.

The request test builds requests the way the engine does, with :func:`sqlspapi.sql.planner.choose` and
:func:`~sqlspapi.sql.planner.bind`, for no constraints, each filter alone (``=`` and ``IN``), each window alone and
the hidden inputs, and checks each request against the model of its operation. The models are read from
``../shared/spapi-models`` (the ``models_dir`` fixture skips when they are absent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import spapi_models as sm
from definition_helpers import SECTIONS, TABLES, enum_of, model_params, table_ids

from sqlspapi.definitions.loader import SectionSpec, TableSpec, entity_source
from sqlspapi.definitions.schema import (
    BatchSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    ReportSpec,
)
from sqlspapi.engine import open_database
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, GE, LT, BindContext, Constraint, Plan, Request
from sqlspapi.sql.routes import route_for
from sqlspapi.sql.routes.get import request_for

MARKETPLACE = "ATVPDKIKX0DER"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LOWER, UPPER = "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"


#: Plausible values of the report tables' inputs.
REPORT_SAMPLES = {"dataStartTime": LOWER, "dataEndTime": UPPER, "marketplaceId": MARKETPLACE,
                  "reportOptions": "{}", "reportType": "GET_MERCHANT_LISTINGS_DATA"}


def _sample(table: TableSpec, column: str, params: Mapping[str, Mapping[str, Any]]) -> str:
    """A plausible value for a filter on ``column``: the model's first enum value, a marketplace, or an id."""
    if any(isinstance(r, ReportSpec) for r in table.routes) and column in REPORT_SAMPLES:
        return REPORT_SAMPLES[column]
    for route in table.routes:
        if isinstance(route, ListSpec):
            f = next((f for f in route.filters if f.column.lower() == column.lower()), None)
            if f and f.param and f.param in params:
                allowed = enum_of(params[f.param])
                if allowed:
                    return str(allowed[0])
                if "marketplace" in f.param.lower():
                    return MARKETPLACE
    return "B0SAMPLE01"


def _input_columns(table: TableSpec) -> list[str]:
    """Columns whose = / IN may reach the API: filters, keys, nested and batch columns, one-of groups, inputs."""
    names: list[str] = [c for group in table.one_of for c in group]
    for route in table.routes:
        if isinstance(route, ListSpec):
            names += [f.column for f in route.filters]
        if isinstance(route, GetSpec | NestedSpec | BatchSpec):
            names.append(route.column)
        if isinstance(route, BatchSpec) and route.marketplace_column:
            names.append(route.marketplace_column)
    names += [c.name for c in table.columns if c.hidden]
    return list(dict.fromkeys(names))


def constraint_cases(table: TableSpec, params: Mapping[str, Mapping[str, Any]]
                     ) -> Iterator[tuple[str, list[Constraint]]]:
    """(case name, constraints): none, each filter alone with = and with IN, each window alone, the inputs."""
    def eq(column: str, value: Any) -> Constraint:
        is_in = isinstance(value, tuple)
        return Constraint(table.column_index(column), EQ, True, is_in, value)

    yield "no constraints", []
    for column in _input_columns(table):
        value = _sample(table, column, params)
        yield f"{column} =", [eq(column, value)]
        if table.columns[table.column_index(column)].hidden:
            continue  # SQLite runs a scan once per value of an IN list on an input: no list reaches a route
        yield f"{column} IN", [eq(column, (value, MARKETPLACE if value != MARKETPLACE else "A2EUQ1WTGCTBG2"))]
    for route in table.routes:
        for w in route.windows if isinstance(route, ListSpec) else ():
            i = table.column_index(w.column)
            yield f"{w.column} >=", [Constraint(i, GE, True, False, LOWER)]
            yield f"{w.column} <", [Constraint(i, LT, True, False, UPPER)]
            yield f"{w.column} range", [Constraint(i, GE, True, False, LOWER), Constraint(i, LT, True, False, UPPER)]
    hidden = [c.name for c in table.columns if c.hidden]
    if hidden:
        yield "hidden inputs", [eq(c, _sample(table, c, params)) for c in hidden]


def plans_for(table: TableSpec, constraints: Sequence[Constraint]) -> list[tuple[Plan, list[Any]]]:
    """The plan planner.choose picks, plus each route's own plan (routes the planner would not pick here), with
    the values bind gets (in the plan's argument order)."""
    choices = [planner.choose(table, constraints)]
    choices += [c for r in table.routes if (c := route_for(r.kind).choose(table, r, constraints, 0, None))]
    out = []
    for choice in choices:
        values = [constraints[i].rhs for i, _argv, _omit, _in in sorted(choice.usage, key=lambda u: u[1])]
        out.append((choice.plan, values))
    return out


def requests_for(section: SectionSpec, plan: Plan, values: list[Any], ctx: BindContext) -> list[Request]:
    """The requests a bound plan makes (a nested plan: the parent get it falls back to)."""
    bound = planner.bind(plan, values, ctx)
    if isinstance(plan.route, NestedSpec):
        parent = entity_source([section], plan.route.entity, section.section)
        assert parent.get is not None
        return [request_for(parent, parent.get, key, ctx, parts=plan.route.parts) for key in bound.keys]
    return list(bound.requests)


def missing_required(model: dict[str, Any], request: Request) -> list[str]:
    """The model-required parameters of the request's operation that the request does not carry."""
    op = request.operation
    out = []
    for name, p in model_params(model, op).items():
        if not p.get("required"):
            continue
        if p["in"] == "query" and request.query.get(name) in (None, "", [], ()):
            out.append(f"query {name}")
        elif p["in"] == "path" and not request.path.get(name):
            out.append(f"path {name}")
        elif p["in"] == "body" and request.body is None:
            out.append("body")
    out += [f"path {{{k}}} unfilled" for k in request.path if f"{{{k}}}" not in op.path]
    return out


@pytest.fixture(scope="module")
def engine_context() -> Iterator[BindContext]:
    """The bind context a real Database gives (its connection values: sellerId, region, lookbackInterval, …)."""
    db = open_database("ClientId=a;ClientSecret=b;RefreshToken=c;Region=na;MarketplaceIds=US;SellerId=A1SELLER")
    try:
        yield db._bind_context()
    finally:
        db.close()


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
@pytest.mark.parametrize("restricted", [False, True], ids=["plain", "IncludeRestrictedData"])
def test_every_request_sends_every_required_parameter(section: SectionSpec, table: TableSpec, restricted: bool,
                                                      engine_context: BindContext, models_dir) -> None:
    """For each way a query can constrain the table, every request every route builds carries what the model
    requires (plans that lack a required filter are skipped: they raise a clear error instead of calling)."""
    if table.restricted and not restricted:
        pytest.skip(f"{table.name} refuses to run without IncludeRestrictedData=true (before any request is built)")
    model = sm.load(models_dir, section.model)
    ctx = replace(engine_context, now=NOW, include_restricted=restricted, marketplace_ids=lambda: [MARKETPLACE])
    params = {}
    for route in table.routes:
        if route.operation is not None:
            params.update(model_params(model, route.operation))
    built = 0
    problems = []
    for case, constraints in constraint_cases(table, params):
        for plan, values in plans_for(table, constraints):
            if plan.missing:
                continue
            for request in requests_for(section, plan, values, ctx):
                built += 1
                lacking = missing_required(model, request)
                if lacking:
                    problems.append(f"{case} → [{plan.route.kind}] {request.operation.name} lacks "
                                    f"{', '.join(lacking)} (query {dict(request.query)}, path {dict(request.path)})")
    assert not problems, f"{table.name}:\n  " + "\n  ".join(problems)
    if any(r.operation for r in table.routes):
        assert built, f"{table.name}: no case built a request"


def test_required_parameter_check_catches_a_missing_parameter(models_dir) -> None:
    """The check above is not vacuous: a request without FBA's granularityId is caught."""
    section = next((s for s in SECTIONS if s.section == "fba_inventory"), None)
    if section is None:
        pytest.skip("no FBA Inventory definition")
    model = sm.load(models_dir, section.model)
    op = section.operations["getInventorySummaries"]
    request = Request(op, {}, {"granularityType": "Marketplace", "marketplaceIds": [MARKETPLACE]})
    assert missing_required(model, request) == ["query granularityId"]
