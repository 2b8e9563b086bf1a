"""Every shipped table definition is checked against Amazon's model: operations and usage plans, the parameters
routes name, enum values, batch sizes — and the connection string's versions, the orders doc and the JSON report
schemas agree with the definitions.

The models are read from ``../shared/spapi-models`` (the ``models_dir`` fixture skips when they are absent). Rows and
columns: ``test_definition_columns.py``; the requests every route builds: ``test_definition_requests.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spapi_models as sm
from definition_helpers import SECTIONS, TABLES, enum_of, model_params, section_ids, table_ids

from sqlspapi.definitions.loader import SectionSpec, TableSpec, load_all, supported_versions
from sqlspapi.definitions.schema import (
    BatchSpec,
    DocumentSpec,
    GetSpec,
    ListSpec,
    OperationSpec,
    ReportSpec,
    RouteSpec,
)
from sqlspapi.settings.connstr import API_VERSIONS


def _operations(route: RouteSpec) -> list[OperationSpec]:
    """Every operation a route calls (a document route polls and fetches the document too)."""
    ops = [route.operation] if route.operation else []
    if isinstance(route, DocumentSpec | ReportSpec):
        ops += [op for op in (route.poll, route.get_document) if op is not None]
    if isinstance(route, ReportSpec) and route.list_reports is not None:
        ops.append(route.list_reports)
    return ops


# ------------------------------------------------------------------------------------------------ operations
@pytest.mark.parametrize("section", SECTIONS, ids=section_ids(SECTIONS))
def test_operations_exist_with_published_usage_plans(section: SectionSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for name, op in section.operations.items():
        assert op.path in model["paths"], f"{section.source}: {name} path {op.path} is not in {section.model}"
        raw = sm.operation(model, op.method, op.path)
        assert raw["operationId"] == name
        plan = sm.usage_plan(raw)
        assert plan is not None, f"{name}: no usage plan in the model description"
        assert (op.rate, op.burst) == plan, f"{name}: definition says {op.rate}/{op.burst}, model says {plan}"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
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


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
def test_routes_name_real_parameters(section: SectionSpec, table: TableSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = model_params(model, route.operation)
        for where, name, place in _named_parameters(table, route):
            assert name in params, f"{table.name} [{route.kind}] {where}: {name} is not a parameter of " \
                                   f"{route.operation.name}"
            assert params[name]["in"] == place, f"{table.name} [{route.kind}] {where}: {name} is a " \
                                                f"{params[name]['in']} parameter, not {place}"
        if isinstance(route, DocumentSpec):
            assert route.poll is not None and route.get_document is not None
            assert model_params(model, route.poll)[route.poll_param]["in"] == "path", route.poll_param
            assert model_params(model, route.get_document)[route.document_param]["in"] == "path", route.document_param


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
def test_fixed_values_are_in_the_model_enums(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """Values a definition sends as fixed parameters (and the parts it asks for) are allowed by the model."""
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = model_params(model, route.operation)
        fixed: dict[str, list[Any]] = {}
        extras = [f.params for f in route.filters] if isinstance(route, ListSpec) else []
        for source in (route.params, route.restricted_params, *extras):
            for name, value in source.items():
                fixed.setdefault(name, []).extend(value if isinstance(value, list) else [value])
        if isinstance(route, ListSpec | GetSpec) and table.parts is not None:
            fixed.setdefault(table.parts.param, []).extend([*table.parts.names, *table.parts.always])
        for name, values in fixed.items():
            allowed = enum_of(params[name])
            for v in values:
                assert allowed is None or v in allowed, f"{table.name} [{route.kind}]: {name}={v} not in {allowed}"


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
def test_batch_sizes_within_the_model_limits(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """Filter batches, marketplace batches, page sizes and batch POSTs stay within maxItems / maximum."""
    model = sm.load(models_dir, section.model)
    for route in table.routes:
        if route.operation is None:
            continue
        params = model_params(model, route.operation)
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


@pytest.mark.parametrize(("section", "table"), REPORT_TABLES, ids=table_ids(REPORT_TABLES))
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
