"""Every shipped table's rows and columns are checked against Amazon's model: where each route reads its rows (and
next token, total) exists in the response, every column path is a field of the row schema, ``?p``/``@p`` columns
name real parameters, and money and counts are typed.

The models are read from ``../shared/spapi-models`` (the ``models_dir`` fixture skips when they are absent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import spapi_models as sm
from definition_helpers import SECTIONS, TABLES, body_fields, model_params, section_ids, table_ids

from sqlspapi.definitions.loader import SectionSpec, TableSpec, entity_source
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
)

COLUMNS = [(s, t, c) for s, t in TABLES for c in t.columns]


def _column_ids(items: Sequence[tuple[SectionSpec, TableSpec, ColumnSpec]]) -> list[str]:
    """``file:table.column``; a table with a hook says so (its hook may produce columns the model lacks)."""
    return [f"{s.source}:{t.name}.{c.name}" + (f"[hook={t.hook}]" if t.hook else "") for s, t, c in items]


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


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
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


@pytest.mark.parametrize(("section", "table"), TABLES, ids=table_ids(TABLES))
def test_param_columns_name_real_parameters(section: SectionSpec, table: TableSpec, models_dir) -> None:
    """``?p`` columns name a query parameter and ``@p`` columns a path parameter: of every route's operation for a
    result column (else it would be NULL on some route), of at least one for a hidden input column."""
    model = sm.load(models_dir, section.model)
    place = {"query_param": "query", "path_param": "path"}
    report = next((r for r in table.routes if isinstance(r, ReportSpec)), None)
    if report is not None:
        assert report.operation is not None and report.poll is not None
        body = body_fields(model, report.operation)
        known = {*body, *(n.removesuffix("s") for n in body if n.endswith("Ids")),
                 *(n for n, p in model_params(model, report.poll).items() if p["in"] == "path")}
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
            param = model_params(model, route.operation).get(column.path[0])
            if param is not None and param["in"] == place[column.source]:
                having.append(route.operation.name)
            else:
                assert column.hidden, f"{table.name}.{column.name}: {column.path[0]} is not a " \
                                      f"{place[column.source]} parameter of {route.operation.name}"
        assert having, f"{table.name}.{column.name}: {column.path[0]} is not a {place[column.source]} parameter " \
                       f"of any route's operation"


@pytest.mark.parametrize("section", SECTIONS, ids=section_ids(SECTIONS))
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

