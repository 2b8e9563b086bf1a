"""Every shipped table definition is checked against Amazon's model: operations, usage plans, parameters, enum
values, batch sizes, column paths — and every required parameter is sent by every request a route can build.

The models are read from ``../shared/spapi-models`` (the ``models_dir`` fixture skips when they are absent). The
request test builds requests the way the engine does, with :func:`sqlspapi.sql.planner.choose` and
:func:`~sqlspapi.sql.planner.bind`, for no constraints, each filter alone (``=`` and ``IN``), each window alone and
the hidden inputs, and checks each request against the model of its operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import spapi_models as sm

from sqlspapi.definitions.loader import SectionSpec, TableSpec, entity_source, load_all, supported_versions
from sqlspapi.definitions.schema import (
    BatchSpec,
    BulkSpec,
    ColumnSpec,
    DocumentSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    OperationSpec,
    PythonSpec,
    ReportSpec,
    RouteSpec,
)
from sqlspapi.engine import open_database
from sqlspapi.settings.connstr import API_VERSIONS
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, GE, LT, BindContext, Constraint, Plan, Request
from sqlspapi.sql.routes import route_for
from sqlspapi.sql.routes.get import request_for

SECTIONS = [s for s in load_all() if s.model]
TABLES = [(s, t) for s in SECTIONS for t in s.tables.values()]
COLUMNS = [(s, t, c) for s, t in TABLES for c in t.columns]
MARKETPLACE = "ATVPDKIKX0DER"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LOWER, UPPER = "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"


def _section_ids(items: Sequence[SectionSpec]) -> list[str]:
    return [s.source for s in items]


def _table_ids(items: Sequence[tuple[SectionSpec, TableSpec]]) -> list[str]:
    return [f"{s.source}:{t.name}" for s, t in items]


def _column_ids(items: Sequence[tuple[SectionSpec, TableSpec, ColumnSpec]]) -> list[str]:
    """``file:table.column``; a table with a hook says so (its hook may produce columns the model lacks)."""
    return [f"{s.source}:{t.name}.{c.name}" + (f"[hook={t.hook}]" if t.hook else "") for s, t, c in items]


def _params(model: dict[str, Any], op: OperationSpec) -> dict[str, dict[str, Any]]:
    return sm.parameters(model, op.method, op.path)


def _operations(route: RouteSpec) -> list[OperationSpec]:
    """Every operation a route calls (a document route polls and fetches the document too)."""
    ops = [route.operation] if route.operation else []
    if isinstance(route, DocumentSpec | ReportSpec):
        ops += [op for op in (route.poll, route.get_document) if op is not None]
    if isinstance(route, ReportSpec) and route.list_reports is not None:
        ops.append(route.list_reports)
    return ops


# ------------------------------------------------------------------------------------------------ operations
@pytest.mark.parametrize("section", SECTIONS, ids=_section_ids(SECTIONS))
def test_operations_exist_with_published_usage_plans(section: SectionSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for name, op in section.operations.items():
        assert op.path in model["paths"], f"{section.source}: {name} path {op.path} is not in {section.model}"
        raw = sm.operation(model, op.method, op.path)
        assert raw["operationId"] == name
        plan = sm.usage_plan(raw)
        assert plan is not None, f"{name}: no usage plan in the model description"
        assert (op.rate, op.burst) == plan, f"{name}: definition says {op.rate}/{op.burst}, model says {plan}"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_routes_use_operations_of_their_own_file(section: SectionSpec, table: TableSpec) -> None:
    for route in table.routes:
        for op in _operations(route):
            assert section.operations.get(op.name) == op, f"{table.name} [{route.kind}]: {op.name}"


# ------------------------------------------------------------------------------------------------ parameters
def _named_parameters(table: TableSpec, route: RouteSpec) -> Iterator[tuple[str, str, str]]:
    """(where it is named, parameter, "query"/"path") for every parameter a route names."""
    for name in [*route.params, *route.restricted_params, *route.derived]:
        yield "params/derived", name, "query"
    for name, expr in route.derived.items():
        if expr.startswith("?"):
            yield f"derived {name}", expr[1:], "query"
    if isinstance(route, ListSpec):
        for f in route.filters:
            if f.param:
                yield f"filter {f.column}", f.param, "query"
            if f.path_param:
                yield f"filter {f.column}", f.path_param, "path"
            for name in f.params:
                yield f"filter {f.column} params", name, "query"
        for w in route.windows:
            for name in filter(None, (w.after, w.before)):
                yield f"window {w.column}", name, "query"
        for name in filter(None, (route.next_param, route.page_size_param, route.marketplace_param)):
            yield "paging/marketplaces", name, "query"
    if isinstance(route, GetSpec):
        yield "path_param", route.path_param, "path"
    if isinstance(route, ListSpec | GetSpec) and table.parts is not None:
        yield "parts", table.parts.param, "query"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_routes_name_real_parameters(section: SectionSpec, table: TableSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = _params(model, route.operation)
        for where, name, place in _named_parameters(table, route):
            assert name in params, f"{table.name} [{route.kind}] {where}: {name} is not a parameter of " \
                                   f"{route.operation.name}"
            assert params[name]["in"] == place, f"{table.name} [{route.kind}] {where}: {name} is a " \
                                                f"{params[name]['in']} parameter, not {place}"
        if isinstance(route, DocumentSpec):
            assert route.poll is not None and route.get_document is not None
            assert _params(model, route.poll)[route.poll_param]["in"] == "path", route.poll_param
            assert _params(model, route.get_document)[route.document_param]["in"] == "path", route.document_param


def _enum(param: Mapping[str, Any]) -> list[Any] | None:
    return param.get("items", {}).get("enum") or param.get("enum")


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_fixed_values_are_in_the_model_enums(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """Values a definition sends as fixed parameters (and the parts it asks for) are allowed by the model."""
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = _params(model, route.operation)
        fixed: dict[str, list[Any]] = {}
        extras = [f.params for f in route.filters] if isinstance(route, ListSpec) else []
        for source in (route.params, route.restricted_params, *extras):
            for name, value in source.items():
                fixed.setdefault(name, []).extend(value if isinstance(value, list) else [value])
        if isinstance(route, ListSpec | GetSpec) and table.parts is not None:
            fixed.setdefault(table.parts.param, []).extend([*table.parts.names, *table.parts.always])
        for name, values in fixed.items():
            allowed = _enum(params[name])
            for v in values:
                assert allowed is None or v in allowed, f"{table.name} [{route.kind}]: {name}={v} not in {allowed}"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_batch_sizes_within_the_model_limits(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """Filter batches, marketplace batches, page sizes and batch POSTs stay within maxItems / maximum."""
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = _params(model, route.operation)
        if isinstance(route, ListSpec):
            sizes = [(f.param, f.batch) for f in route.filters if f.param and f.batch]
            if route.marketplace_param:
                sizes.append((route.marketplace_param, route.marketplace_batch))
            for name, size in sizes:
                limit = params[name].get("maxItems")
                assert limit is None or size <= limit, f"{table.name}: {name} batches {size}, the model allows {limit}"
            if route.page_size_param and route.page_size_max:
                limit = params[route.page_size_param].get("maximum")
                assert limit is None or route.page_size_max <= limit, f"{table.name}: page_size_max > {limit}"
        if isinstance(route, BatchSpec):
            body = next(p for p in params.values() if p["in"] == "body")
            items = sm.walk(model, body["schema"], [route.body]) if route.body else sm.resolve(model, body["schema"])
            limit = (items or {}).get("maxItems")
            assert limit is None or route.max_items <= limit, f"{table.name}: max_items {route.max_items} > {limit}"


# ------------------------------------------------------------------------------------------------ columns
def walk(model: dict[str, Any], schema: dict[str, Any] | None, path: Sequence[str]) -> dict[str, Any] | None:
    """The schema at a column path; a numeric step (``images.0.link``) indexes an array."""
    for step in path:
        if schema is None:
            return None
        schema = sm.resolve(model, schema)
        if step.isdigit():
            schema = sm.resolve(model, schema.get("items")) if schema.get("type") == "array" else None
        else:
            schema = sm.walk(model, schema, [step])
    return schema


def _rows_at(model: dict[str, Any], op: OperationSpec, where: str, what: str) -> dict[str, Any]:
    found = walk(model, sm.success_schema(model, op.method, op.path), where.split(".")) if where else \
        sm.success_schema(model, op.method, op.path)
    assert found is not None, f"{what}: {where} is not in {op.name}'s response"
    row = sm.row_schema(model, found)
    assert row is not None
    return row


def row_schemas(model: dict[str, Any], section: SectionSpec, table: TableSpec) -> list[tuple[str, dict[str, Any]]]:
    """(route kind, row schema) of every route whose rows the model describes; also checks the rows paths."""
    out = []
    for route in table.routes:
        if isinstance(route, ListSpec):
            assert route.operation is not None
            out.append((route.kind, _rows_at(model, route.operation, route.rows, table.name)))
            if route.next_token:
                resp = sm.success_schema(model, route.operation.method, route.operation.path)
                assert walk(model, resp, route.next_token.split(".")) is not None, route.next_token
            if route.total:
                resp = sm.success_schema(model, route.operation.method, route.operation.path)
                assert walk(model, resp, route.total.split(".")) is not None, route.total
        elif isinstance(route, GetSpec):
            assert route.operation is not None
            out.append((route.kind, _rows_at(model, route.operation, route.row, table.name)))
        elif isinstance(route, BatchSpec):
            assert route.operation is not None
            response = _rows_at(model, route.operation, route.rows, table.name)
            row = walk(model, response, route.row.split(".")) if route.row else response
            assert row is not None, f"{table.name}: {route.row} is not in a {route.operation.name} response"
            out.append((route.kind, sm.resolve(model, row)))
        elif isinstance(route, NestedSpec):
            parent = entity_source([section], route.entity, section.section)
            for _kind, parent_row in row_schemas(model, section, parent):
                items = walk(model, parent_row, route.items.split("."))
                assert items is not None, f"{table.name}: {route.items} is not a field of the {parent.name} rows"
                row = sm.row_schema(model, items)
                assert row is not None
                out.append((route.kind, row))
    return out


def parent_schemas(model: dict[str, Any], section: SectionSpec, table: TableSpec) -> list[dict[str, Any]]:
    """The row schemas of the parent entity of a nested table."""
    nested = table.nested
    if nested is None:
        return []
    parent = entity_source([section], nested.entity, section.section)
    return [row for _kind, row in row_schemas(model, section, parent)]


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_rows_paths_are_in_the_responses(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """Where each route reads its rows (and next token, total) exists in the operation's response."""
    model = sm.load(models_dir, section.model)
    schemas = row_schemas(model, section, table)
    described = [r for r in table.routes if not isinstance(r, DocumentSpec | ReportSpec | BulkSpec | PythonSpec)]
    assert len(schemas) >= len(described)


@pytest.mark.parametrize(("section", "table", "column"), COLUMNS, ids=_column_ids(COLUMNS))
def test_column_paths_are_model_fields(section: SectionSpec, table: TableSpec, column: ColumnSpec,
                                       models_dir) -> None:
    """A row column's path exists in the row schema of every route (a parent column in the parent's)."""
    model = sm.load(models_dir, section.model)
    if column.source == "parent":
        schemas = [("parent", s) for s in parent_schemas(model, section, table)]
    elif column.source == "row":
        schemas = row_schemas(model, section, table)
    else:
        pytest.skip(f"a {column.source} column: checked by test_param_columns_name_real_parameters")
    if not schemas:
        pytest.skip(f"{table.name}'s rows come from a document or a Python function: no model schema")
    for kind, row in schemas:
        target = walk(model, row, column.path)
        if target is None and table.hook:
            pytest.skip(f"{table.name}.{column.name} is not in the model: assumed produced by hook {table.hook}")
        assert target is not None, f"{table.name}.{column.name}: {'.'.join(column.path)} is not a field of the " \
                                   f"[{kind}] rows"
        if column.kind in ("TEXT", "INTEGER", "REAL", "BOOLEAN", "TIME"):
            assert target.get("type") != "array", f"{table.name}.{column.name} is an array: use JSON"
        if column.kind == "TIME":
            assert target.get("type") == "string", f"{table.name}.{column.name}: a timestamp is a string"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
def test_param_columns_name_real_parameters(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """``?p`` columns name a query parameter and ``@p`` columns a path parameter: of every route's operation for a
    result column (else it would be NULL on some route), of at least one for a hidden input column."""
    model = sm.load(models_dir, section.model)
    place = {"query_param": "query", "path_param": "path"}
    report = next((r for r in table.routes if isinstance(r, ReportSpec)), None)
    if report is not None:
        assert report.operation is not None and report.poll is not None
        body = _body_fields(model, report.operation)
        known = {*body, *(n.removesuffix("s") for n in body if n.endswith("Ids")),
                 *(n for n, p in _params(model, report.poll).items() if p["in"] == "path")}
        for column in table.columns:
            if column.source in place:
                assert column.path[0] in known, f"{table.name}.{column.name}: {column.path[0]} is not a createReport " \
                                                "body field nor a getReport path parameter"
        return
    for column in table.columns:
        if column.source not in place:
            continue
        routes = [r for r in table.routes if isinstance(r, ListSpec | GetSpec) and r.operation]
        assert routes, f"{table.name}.{column.name}: no route makes a call whose parameters it could show"
        having = []
        for route in routes:
            assert route.operation is not None
            param = _params(model, route.operation).get(column.path[0])
            if param is not None and param["in"] == place[column.source]:
                having.append(route.operation.name)
            else:
                assert column.hidden, f"{table.name}.{column.name}: {column.path[0]} is not a " \
                                      f"{place[column.source]} parameter of {route.operation.name}"
        assert having, f"{table.name}.{column.name}: {column.path[0]} is not a {place[column.source]} parameter " \
                       f"of any route's operation"


@pytest.mark.parametrize("section", SECTIONS, ids=_section_ids(SECTIONS))
def test_money_and_counts_are_typed(section: SectionSpec) -> None:
    """Money amounts are REAL and integer fields INTEGER (the issue's typing rules); the ``amount`` of a quantity
    object (Vendor Orders' ``orderedQuantity.amount``) is a count."""
    for table in section.tables.values():
        for col in table.columns:
            count = len(col.path) > 1 and col.path[-2].endswith("Quantity") and col.path[-1] == "amount"
            if col.path[-1] in ("Amount", "amount") and not count:
                assert col.kind == "REAL", f"{table.name}.{col.name}"
            if col.path[-1].startswith(("NumberOf", "Quantity", "quantity")) or count:
                assert col.kind == "INTEGER", f"{table.name}.{col.name}"


# ------------------------------------------------------------------------------------------------ requests
def _body_fields(model: dict[str, Any], op: OperationSpec) -> set[str]:
    """The top-level fields of an operation's JSON body."""
    body = next((p for p in _params(model, op).values() if p["in"] == "body"), None)
    schema = sm.resolve(model, body["schema"]) if body else {}
    return set(schema.get("properties", {}))


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
                allowed = _enum(params[f.param])
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
    for name, p in _params(model, op).items():
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


@pytest.mark.parametrize(("section", "table"), TABLES, ids=_table_ids(TABLES))
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
            params.update(_params(model, route.operation))
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


# ------------------------------------------------------------------------------------------------ versions, docs
def test_connection_string_versions_match_definitions() -> None:
    """Every version the connection string accepts for a section with tables has a definition, and back."""
    for spec in load_all():
        if not spec.version_key:
            continue  # an always-on Python section (the generic spapi_request table)
        supported, _default = API_VERSIONS[spec.version_key]
        assert spec.version in supported
    orders_supported, default = API_VERSIONS["OrdersApiVersion"]
    assert sorted(orders_supported) == supported_versions("OrdersApiVersion")
    assert default == "2026-01-01"


def test_same_table_names_in_both_orders_versions() -> None:
    names = {s.version: set(s.tables) for s in load_all() if s.section == "orders"}
    assert names["v0"] == names["2026-01-01"] == {"orders", "order_items", "order_addresses", "order_buyer_info"}


def test_orders_doc_lists_every_column() -> None:
    """docs/orders-tables.md (hand-written) covers the orders tables; the other APIs' pages are generated from the
    definitions (docs/tables/) and checked by their own test."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "orders-tables.md").read_text(encoding="utf-8")
    for section in load_all():
        if section.section != "orders":
            continue
        for table in section.tables.values():
            assert f"`{table.name}`" in doc
            for col in table.columns:
                assert f"`{col.name}`" in doc, f"docs/orders-tables.md lacks {table.name}.{col.name}"


REPORT_TABLES = [(s, t) for s, t in TABLES if any(isinstance(r, ReportSpec) and r.schema for r in t.routes)]


@pytest.mark.parametrize(("section", "table"), REPORT_TABLES, ids=_table_ids(REPORT_TABLES))
def test_json_report_columns_are_fields_of_the_report_schema(section: SectionSpec, table: TableSpec,
                                                             models_dir) -> None:
    """A JSON report table's rows path and every row column are fields of Amazon's schema of the report (the
    models' ``schemas/reports/``), typed as the schema says."""
    route = next(r for r in table.routes if isinstance(r, ReportSpec))
    schema = json.loads((models_dir / "schemas" / "reports" / str(route.schema)).read_text(encoding="utf-8"))
    rows = sm.walk(schema, schema, route.rows.split("."))
    assert rows is not None and rows.get("type") == "array", f"{table.name}: rows {route.rows} is not an array"
    for column in table.columns:
        if column.source != "row" or column.hidden:
            continue
        target = sm.walk(schema, rows, column.path)
        assert target is not None, f"{table.name}.{column.name}: {'.'.join(column.path)} is not in {route.schema}"
        if column.kind == "INTEGER":
            assert target.get("type") == "integer", f"{table.name}.{column.name}"
        if column.kind == "REAL":
            assert target.get("type") in ("number", "integer"), f"{table.name}.{column.name}"
