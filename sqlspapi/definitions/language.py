"""The definition language as data: which keys each kind of TOML table takes (:data:`KEYS`), the route kinds in
the order the planner tries them, the columns a route kind appends (a report table's inputs), and the column-line
grammar (:func:`parse_columns`). :mod:`sqlspapi.definitions.tables` reads a file's tables with it;
:mod:`sqlspapi.definitions.loader` finds and loads the files.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from sqlspapi.definitions.schema import COLUMN_SOURCES, COLUMN_TYPES, ColumnSpec
from sqlspapi.definitions.syncspec import SYNC_KEYS
from sqlspapi.errors import InternalError

__all__ = ["DefinitionError", "KEYS", "ROUTE_KINDS", "REPORT_OPERATIONS", "REPORT_COLUMNS", "MAX_NAME_BYTES",
           "parse_columns", "column_line", "check_keys"]


class DefinitionError(InternalError):
    """A table definition is invalid: the message names the file, the table and the key."""


_ROUTE_COMMON = {"operation": False, "params": False, "restricted_params": False, "derived": False}
_LIST_KEYS = {
    **_ROUTE_COMMON, "operation": True, "rows": True, "next_token": False, "next_param": False,
    "token_only": False, "token_ttl_seconds": False, "page_size_param": False, "page_size_max": False,
    "marketplace_param": False, "marketplace_batch": False, "window_required": False,
    "before_min_age_seconds": False, "max_lookback_days": False, "windows": False, "filters": False,
    "result_ceiling": False, "total": False, "empty_rows_omitted": False,
}

#: The schema of the definition language: for each kind of TOML table, its keys and whether each is required.
KEYS: Mapping[str, Mapping[str, bool]] = {
    "file": {"section": True, "version": True, "version_key": False, "title": True, "model": False,
             "deprecation": False, "default": False, "hooks": False, "operations": False, "tables": False},
    "operation": {"method": True, "path": True, "rate": True, "burst": True, "restricted": False,
                  "rdt_data_elements": False, "grantless": False, "writes": False},
    "table": {"description": True, "columns": False, "columns_from": False, "entity": False, "key": False,
              "restricted": False,
              "hint": False, "one_of": False, "parts": False, "hook": False, "example": False, "routes_from": False,
              "get": False, "list": False, "window": False, "nested": False, "batch": False, "document": False,
              "report": False, "python": False, "bulk": False,
              "sync": False},
    "hint": {"required": False},
    "parts": {"param": True, "names": True, "always": False},
    "get": {**_ROUTE_COMMON, "operation": True, "column": True, "path_param": True, "row": True,
            "not_found_empty": False},
    "list": _LIST_KEYS,
    "window": _LIST_KEYS,
    "nested": {**_ROUTE_COMMON, "entity": True, "column": True, "items": True, "parts": False},
    "batch": {**_ROUTE_COMMON, "operation": True, "column": True, "max_items": True, "body": False,
              "template": True, "rows": False, "row": False, "marketplace_column": False, "inputs": False,
              "defaults": False, "required": False, "prepare": False, "match": False, "explode": False,
              "status": False, "ok": False},
    "document": {**_ROUTE_COMMON, "operation": True, "body": False, "graphql": False, "schema": False,
                 "arguments": False, "enums": False, "selections": False, "keys": False, "window": False,
                 "marketplace": False, "period": False, "id": True, "poll": True, "poll_param": True, "status": False,
                 "done": False, "failed": False, "document_id": True, "error_document_id": False,
                 "get_document": True, "document_param": True, "url": False, "compression": False, "format": True,
                 "rows": False, "next_token": False, "next_param": False, "poll_seconds": False},
    "report": {**_ROUTE_COMMON, "report_type": True, "format": False, "rows": False, "max_span_days": False,
               "default_days": False, "window_column": False, "requestable": False, "restricted": False,
               "date_style": False, "options": False, "restricted_types": False, "schema": False, "poll": False,
               "get_document": False, "list_reports": False, "region_wide": False, "marketplace_from": False},
    "python": {**_ROUTE_COMMON, "function": True},
    "bulk": {**_ROUTE_COMMON, "reports": False, "entity": False, "key": True, "columns": True, "values": False,
             "threshold": False},
    "filter": {"column": True, "ops": True, "param": False, "path_param": False, "batch": False, "exact": False,
               "required": False, "params": False, "not_with": False, "values": False},
    "window_spec": {"column": True, "after": False, "before": False, "max_span_days": False},
    "sync": SYNC_KEYS,
}

#: Route kinds, in the order the planner tries them (a get by key beats the order report beats a nested read beats a
#: list scan).
ROUTE_KINDS = ("get", "bulk", "nested", "batch", "list", "window", "document", "report", "python")

#: The operations a ``[report]`` route uses unless it names others (the Reports API's).
REPORT_OPERATIONS = {"operation": "createReport", "poll": "getReport", "get_document": "getReportDocument",
                     "list_reports": "getReports"}

#: The columns every report table has after its own (``docs/report-tables.md``): ``extra`` (TSV/CSV only) keeps
#: the cells of headers the definition does not know; the hidden inputs choose or identify the report.
REPORT_COLUMNS = """
extra                      JSON            Cells of columns this table does not know (header drift), by SQL name
dataStartTime=?dataStartTime TIME HIDDEN   Start of the report's data window (input: >= / = reaches createReport)
dataEndTime=?dataEndTime   TIME   HIDDEN   End of the report's data window (input: < / <= / = reaches createReport)
marketplaceId=?marketplaceId TEXT HIDDEN   The row's marketplace (input: default the connection's marketplaces)
reportOptions=?reportOptions JSON HIDDEN   reportOptions of the report, a JSON object of strings (input)
reportId=?reportId         TEXT   HIDDEN   The report the row comes from (input: read one existing report)
"""

_COLUMN_LINE = re.compile(
    r"^(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)=)?(?P<path>'[^'\s]*'|[@?^$]?[A-Za-z_][\w.\-]*)\s+"
    r"(?P<type>[A-Z]+)(?P<hidden>\s+HIDDEN\b)?(?P<restricted>\s+RESTRICTED\b)?\s*(?P<doc>.*)$"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Longest column or table name: PostgreSQL's identifier limit (the bridge reports max_identifier_length 63).
MAX_NAME_BYTES = 63


def check_keys(raw: Any, kind: str, where: str) -> Mapping[str, Any]:
    """Reject unknown keys (suggesting the closest) and missing required keys of a TOML table of ``kind``."""
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: expected a table of keys, got {type(raw).__name__}")
    allowed = KEYS[kind]
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(sorted(allowed))}"
            raise DefinitionError(f"{where}: unknown key {key!r}{hint}")
    for key, required in allowed.items():
        if required and key not in raw:
            raise DefinitionError(f"{where}: missing required key {key!r}")
    return raw



def parse_columns(text: str, where: str) -> tuple[ColumnSpec, ...]:
    """Parse a definition's column block: one ``[name=]path TYPE [HIDDEN] [RESTRICTED] description`` per line."""
    columns: list[ColumnSpec] = []
    seen: set[str] = set()
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _COLUMN_LINE.match(line)
        if not m or m["type"] not in COLUMN_TYPES:
            raise DefinitionError(f"{where}: cannot read column line {line!r} (want '[name=]path TYPE [HIDDEN] "
                                  f"[RESTRICTED] description'; "
                                  f"types: {', '.join(COLUMN_TYPES)})")
        path = m["path"]
        prefix = path[0] if path[0] in "@?^$'" else ""
        source = COLUMN_SOURCES[prefix]
        if source == "const":
            if not m["name"]:
                raise DefinitionError(f"{where}: constant column {path} needs a name (name='value')")
            parts: tuple[str, ...] = (path.strip("'"),)
        else:
            parts = tuple(path[len(prefix):].split("."))
        name = m["name"] or "_".join(parts).replace("-", "_")
        if len(name.encode()) > MAX_NAME_BYTES:
            raise DefinitionError(f"{where}: column name {name} is {len(name.encode())} bytes; BI tools see it through "
                                  f"PostgreSQL, which allows {MAX_NAME_BYTES}: give it a shorter name (name=path)")
        if name.lower() in seen:
            raise DefinitionError(f"{where}: column {name} is declared twice")
        seen.add(name.lower())
        columns.append(ColumnSpec(name, parts, m["type"], m["doc"].strip(), source, bool(m["hidden"]),
                                  restricted=bool(m["restricted"])))
    return tuple(columns)


def column_line(column: ColumnSpec) -> str:
    """A column back as its definition line (so the appended report columns are checked with the table's)."""
    prefix = {v: k for k, v in COLUMN_SOURCES.items()}[column.source]
    path = f"'{column.path[0]}'" if column.source == "const" else prefix + ".".join(column.path)
    flags = " HIDDEN" * column.hidden + " RESTRICTED" * column.restricted
    return f"{column.name}={path} {column.kind}{flags} {column.description}"


