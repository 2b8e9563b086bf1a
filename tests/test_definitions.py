"""Every table definition is checked against Amazon's model: operations, parameters, fields, usage plans."""

from __future__ import annotations

import pytest
import spapi_models as sm

from sqlspapi.definitions.loader import SectionSpec, TableSpec, load_all, supported_versions
from sqlspapi.settings.connstr import API_VERSIONS

SECTIONS = [s for s in load_all() if s.model]


def _ids(items):
    return [f"{s.source}" for s in items]


@pytest.mark.parametrize("section", SECTIONS, ids=_ids(SECTIONS))
def test_operations_exist_with_published_usage_plans(section: SectionSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for name, op in section.operations.items():
        assert op.path in model["paths"], f"{section.source}: {name} path {op.path} is not in {section.model}"
        raw = sm.operation(model, op.method, op.path)
        assert raw["operationId"] == name
        plan = sm.usage_plan(raw)
        assert plan is not None, f"{name}: no usage plan in the model description"
        assert (op.rate, op.burst) == plan, f"{name}: definition says {op.rate}/{op.burst}, model says {plan}"


def _param_names(model, table: TableSpec) -> None:
    if table.list:
        lst, op = table.list, table.list.operation
        params = sm.parameters(model, op.method, op.path)
        query = {k for k, v in params.items() if v["in"] == "query"}
        paths = {k for k, v in params.items() if v["in"] == "path"}
        named = [f.param for f in lst.filters if f.param] + [w.after for w in lst.windows]
        named += [w.before for w in lst.windows] + [lst.next_param, lst.page_size_param, lst.marketplace_param]
        named += list(lst.params) + list(lst.restricted_params)
        for name in filter(None, named):
            assert name in query, f"{table.name}: {name} is not a query parameter of {op.name}"
        for f in lst.filters:
            if f.path_param:
                assert f.path_param in paths, f"{table.name}: {f.path_param} is not a path parameter of {op.name}"
    if table.get:
        op = table.get.operation
        params = sm.parameters(model, op.method, op.path)
        assert params[table.get.path_param]["in"] == "path"
        for name in list(table.get.params) + list(table.get.restricted_params):
            assert params[name]["in"] == "query", f"{table.name}: {name} is not a query parameter of {op.name}"


def _enum_values(model, table: TableSpec) -> None:
    """Values a definition sends as fixed parameters must be allowed by the model's enum."""
    routes = [r for r in (table.list, table.get) if r is not None]
    for route in routes:
        op = route.operation
        params = sm.parameters(model, op.method, op.path)
        for name, value in {**route.params, **route.restricted_params}.items():
            allowed = params[name].get("items", {}).get("enum") or params[name].get("enum")
            for v in value if isinstance(value, list) else [value]:
                assert allowed is None or v in allowed, f"{table.name}: {name}={v} not in {allowed}"


@pytest.mark.parametrize("section", SECTIONS, ids=_ids(SECTIONS))
def test_tables_name_real_parameters(section: SectionSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for table in section.tables.values():
        _param_names(model, table)
        _enum_values(model, table)


def _row_schema(model, section: SectionSpec, table: TableSpec):
    if table.list:
        op = table.list.operation
        resp = sm.success_schema(model, op.method, op.path)
        schema = sm.walk(model, resp, table.list.rows.split("."))
        assert schema is not None, f"{table.name}: rows path {table.list.rows} not in {op.name}'s response"
        if table.list.next_token:
            assert sm.walk(model, resp, table.list.next_token.split(".")) is not None, table.list.next_token
        return sm.row_schema(model, schema)
    assert table.nested is not None
    parent = next(t for t in section.tables.values() if t.entity == table.nested.entity and t.get)
    parent_schema = _row_schema(model, section, parent)
    items = sm.walk(model, parent_schema, table.nested.items.split("."))
    assert items is not None, f"{table.name}: {table.nested.items} is not a field of the {parent.name} rows"
    return sm.row_schema(model, items), parent_schema


@pytest.mark.parametrize("section", SECTIONS, ids=_ids(SECTIONS))
def test_columns_are_model_fields(section: SectionSpec, models_dir) -> None:
    model = sm.load(models_dir, section.model)
    for table in section.tables.values():
        found = _row_schema(model, section, table)
        row, parent = found if isinstance(found, tuple) else (found, None)
        if table.get:
            op = table.get.operation
            get_row = sm.walk(model, sm.success_schema(model, op.method, op.path), table.get.row.split("."))
            assert get_row is not None, f"{table.name}: {table.get.row} not in {op.name}'s response"
        for col in table.columns:
            if col.source == "row":
                target = sm.walk(model, row, col.path)
                assert target is not None, f"{table.name}.{col.name}: {'.'.join(col.path)} is not a model field"
                if col.kind in ("TEXT", "INTEGER", "REAL", "BOOLEAN", "TIME"):
                    assert target.get("type") not in ("array",), f"{table.name}.{col.name} is an array: use JSON"
                if col.kind == "TIME":
                    assert target.get("type") == "string", f"{table.name}.{col.name}: a timestamp is a string"
            elif col.source == "parent":
                assert parent is not None and sm.walk(model, parent, col.path) is not None, col.name


@pytest.mark.parametrize("section", SECTIONS, ids=_ids(SECTIONS))
def test_money_and_counts_are_typed(section: SectionSpec, models_dir) -> None:
    """Money amounts are REAL and integer fields INTEGER (the issue's typing rules)."""
    for table in section.tables.values():
        for col in table.columns:
            if col.path[-1] in ("Amount", "amount"):
                assert col.kind == "REAL", f"{table.name}.{col.name}"
            if col.path[-1].startswith(("NumberOf", "Quantity", "quantity")):
                assert col.kind == "INTEGER", f"{table.name}.{col.name}"


def test_connection_string_versions_match_definitions() -> None:
    """Every version the connection string accepts for a section with tables has a definition, and back."""
    for spec in load_all():
        supported, _default = API_VERSIONS[spec.version_key]
        assert spec.version in supported
    orders_supported, default = API_VERSIONS["OrdersApiVersion"]
    assert sorted(orders_supported) == supported_versions("OrdersApiVersion")
    assert default == "2026-01-01"


def test_same_table_names_in_both_orders_versions() -> None:
    names = {s.version: set(s.tables) for s in load_all() if s.section == "orders"}
    assert names["v0"] == names["2026-01-01"] == {"orders", "order_items", "order_addresses", "order_buyer_info"}


def test_docs_list_every_column() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "orders-tables.md").read_text(encoding="utf-8")
    for section in load_all():
        for table in section.tables.values():
            assert f"`{table.name}`" in doc
            for col in table.columns:
                assert f"`{col.name}`" in doc, f"docs/orders-tables.md lacks {table.name}.{col.name}"
