"""What ``sqlspapi query`` runs and prints: each statement of the text in turn, one result per statement, written
as an aligned table, CSV or JSON (JSON columns as JSON, booleans as booleans, timestamps as ISO 8601).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
from collections.abc import Sequence
from typing import Any, TextIO

import apsw


class Result:
    """One statement's result: its column names, its rows, and how ``--format json`` writes each column."""

    def __init__(self, columns: Sequence[str], rows: list[tuple[Any, ...]], kinds: Sequence[str | None] = ()) -> None:
        self.columns = list(columns)
        self.rows = rows
        self.kinds = list(kinds) or [None] * len(self.columns)
        """Per column: ``"JSON"`` (text holding JSON), ``"BOOLEAN"`` (0/1) or None (as SQLite gives it)."""


def column_kinds(database: Any, description: Sequence[Sequence[Any]]) -> list[str | None]:
    """Per result column: ``"JSON"`` or ``"BOOLEAN"`` when it comes straight from such a column of an API table.

    ``description`` is APSW's ``description_full`` (name, declared type, database, table, origin column): the
    declared type says BOOLEAN; JSON columns are declared TEXT, so the table definitions say which are JSON.
    """
    specs = {table.name.lower(): {column.name.lower(): column.kind for column in table.columns}
             for table in database.tables()}
    kinds: list[str | None] = []
    for _, declared, schema, table, origin in description:
        kind = (specs.get(str(table).lower(), {}).get(str(origin).lower()) if schema == "main" and origin else None)
        declared = (declared or "").upper()
        kinds.append("BOOLEAN" if "BOOLEAN" in (declared, kind) else "JSON" if "JSON" in (declared, kind) else None)
    return kinds


def _json_value(value: Any, kind: str | None) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if kind == "BOOLEAN" and value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if kind == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _json_default(value: Any) -> Any:
    """JSON for what DB-API rows may hold beyond SQLite's types: timestamps as ISO 8601, decimals as numbers."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _records(result: Result) -> list[dict[str, Any]]:
    return [{name: _json_value(value, kind) for name, value, kind in zip(result.columns, row, result.kinds,
                                                                        strict=False)} for row in result.rows]


def write_results(out: TextIO, results: Sequence[Result], fmt: str = "table") -> None:
    """Write the results of the statements in ``fmt`` (see ``sqlspapi query --help``).

    ``table`` and ``csv``: each result with its header, a blank line between results. ``json``: one result is an
    array of objects (column → value, JSON columns as JSON, BOOLEAN columns as true/false); several results are an
    array of such arrays, one per statement that returned columns.
    """
    if fmt == "json":
        records = [_records(result) for result in results]
        json.dump(records[0] if len(records) == 1 else records, out, ensure_ascii=False, indent=1,
                  default=_json_default)
        out.write("\n")
        return
    from sqlspapi.interfaces.display import format_table

    for number, result in enumerate(results):
        if number:
            out.write("\n")
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(result.columns)
            writer.writerows(result.rows)
        else:
            out.write(format_table(result.columns, result.rows))


def first_statement(database: Any, sql: str) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    """The text of the first statement of ``sql`` and its columns (APSW's ``description_full``), without running
    it; raises what preparing it raises (a syntax error, "no such column" ...)."""
    found: dict[str, Any] = {}

    def tracer(cursor: Any, statement: str, bindings: Any) -> bool:
        found["sql"] = statement
        try:
            found["description"] = cursor.description_full
        except apsw.ExecutionCompleteError:
            found["description"] = ()
        return False  # prepared, not run

    cursor = database.connection.cursor()
    cursor.exec_trace = tracer
    try:
        cursor.execute(sql)
    except apsw.ExecTraceAbort:
        pass
    return found.get("sql", sql), found.get("description", ())


def run_statements(connection: Any, sql: str) -> list[Result]:
    """Run every statement of ``sql`` on a DB-API connection, one at a time; the result of each that has columns.

    Errors are DB-API errors; SQLite's "no such column"/"no such table" come with :func:`hints.hint`'s message.
    """
    from sqlspapi.errors import ProgrammingError
    from sqlspapi.interfaces.dberrors import reraise
    from sqlspapi.interfaces.hints import hint

    database = connection.database
    results = []
    while sql.strip():
        try:
            statement, description = first_statement(database, sql)
        except apsw.Error as exc:
            better = hint(database, str(exc), sql)
            if better:
                raise ProgrammingError(better) from exc
            reraise(exc)
        sql = sql[len(statement):]
        if not statement.strip():
            break
        cursor = connection.cursor()
        cursor.execute(statement)
        if cursor.description is not None:
            names = [column[0] for column in cursor.description]
            results.append(Result(names, cursor.fetchall(), column_kinds(database, description)))
    return results


__all__ = ["Result", "column_kinds", "write_results", "first_statement", "run_statements"]
