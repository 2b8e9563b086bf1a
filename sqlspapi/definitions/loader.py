"""Loads the declarative table definitions in ``vtables/*.toml`` into typed, validated specs — strictly.

One TOML file describes one SP-API section at one version: its operations (path, method, published usage plan)
and its tables (columns, routes, key columns with the operators that reach the API). Every key of every table is
checked against :data:`KEYS` (the schema of the language, as data): an unknown key is an error that names the file,
the table and the closest known key; a missing required key likewise. Table names are one namespace across all
files of one API-version selection. The loader knows nothing of HTTP or SQL execution.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from sqlspapi.definitions.schema import (
    COLUMN_SOURCES,
    COLUMN_TYPES,
    FILTER_OPS,
    BatchSpec,
    BulkSpec,
    ColumnSpec,
    DocumentSpec,
    FilterSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    OperationSpec,
    PartsSpec,
    PythonSpec,
    ReportSpec,
    RouteSpec,
    SectionSpec,
    TableSpec,
    WindowSpec,
)
from sqlspapi.errors import InterfaceError, InternalError

__all__ = [
    "DefinitionError", "KEYS", "ROUTE_KINDS", "definitions_dir", "parse_columns", "load_file", "load_all",
    "select_sections", "supported_versions", "default_version", "version_keys", "entity_source", "operation",
    "SectionSpec", "TableSpec", "ColumnSpec", "FilterSpec", "WindowSpec", "GetSpec", "ListSpec", "NestedSpec",
]


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
                  "rdt_data_elements": False},
    "table": {"description": True, "columns": True, "entity": False, "key": False, "restricted": False,
              "hint": False, "one_of": False, "parts": False, "hook": False, "example": False, "routes_from": False,
              "get": False, "list": False, "window": False, "nested": False, "batch": False, "document": False,
              "report": False, "python": False, "bulk": False},
    "hint": {"required": False},
    "parts": {"param": True, "names": True, "always": False},
    "get": {**_ROUTE_COMMON, "operation": True, "column": True, "path_param": True, "row": True,
            "not_found_empty": False},
    "list": _LIST_KEYS,
    "window": _LIST_KEYS,
    "nested": {**_ROUTE_COMMON, "entity": True, "column": True, "items": True, "parts": False},
    "batch": {**_ROUTE_COMMON, "operation": True, "column": True, "max_items": True, "body": False,
              "template": True, "rows": False, "row": False, "marketplace_column": False},
    "document": {**_ROUTE_COMMON, "operation": True, "body": False, "id": True, "poll": True, "poll_param": True,
                 "status": False, "done": False, "failed": False, "document_id": True, "get_document": True,
                 "document_param": True, "url": False, "compression": False, "format": True, "rows": False,
                 "poll_seconds": False, "timeout_seconds": False},
    "report": {**_ROUTE_COMMON, "report_type": True, "format": False, "rows": False, "max_span_days": False,
               "default_days": False, "window_column": False, "requestable": False, "restricted": False,
               "date_style": False, "options": False, "restricted_types": False, "schema": False, "poll": False,
               "get_document": False,
               "list_reports": False},
    "python": {**_ROUTE_COMMON, "function": True},
    "bulk": {**_ROUTE_COMMON, "reports": False, "entity": False, "key": True, "columns": True, "values": False,
             "threshold": False},
    "filter": {"column": True, "ops": True, "param": False, "path_param": False, "batch": False, "exact": False,
               "required": False, "params": False, "not_with": False},
    "window_spec": {"column": True, "after": False, "before": False, "max_span_days": False},
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
marketplaceId=?marketplaceId TEXT HIDDEN   The report's marketplace (input: default the connection's, one report each)
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


def _check(raw: Any, kind: str, where: str) -> Mapping[str, Any]:
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


def definitions_dir() -> Path:
    """Where the TOML definitions are: inside the installed package, or ``vtables/`` in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "vtables", here.parent / "vtables"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise InternalError(
        "sqlspapi's table definitions (vtables/*.toml) are missing from the installation; reinstall sqlspapi")


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


def _operation(section: str, version: str, name: str, raw: Any, where: str) -> OperationSpec:
    raw = _check(raw, "operation", f"{where}: operation {name}")
    return OperationSpec(
        name=name, section=section, version=version, method=str(raw["method"]).upper(), path=raw["path"],
        rate=float(raw["rate"]), burst=int(raw["burst"]), restricted=bool(raw.get("restricted", False)),
        rdt_data_elements=tuple(raw.get("rdt_data_elements", ())),
    )


class _Reader:
    """Builds the specs of one file; ``where`` prefixes every message."""

    def __init__(self, where: str, ops: Mapping[str, OperationSpec]) -> None:
        self.where = where
        self.ops = ops

    def op(self, name: Any, where: str) -> OperationSpec:
        if name not in self.ops:
            close = difflib.get_close_matches(str(name), list(self.ops), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DefinitionError(f"{where}: operation {name!r} is not declared in [operations]{hint}")
        return self.ops[name]

    def common(self, kind: str, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        derived = dict(raw.get("derived", {}))
        for param, expr in derived.items():
            if not (isinstance(expr, str) and expr[:1] in ("?", "$")):
                raise DefinitionError(f"{where}: derived {param} = {expr!r}: want '?queryParam' or '$connectionValue'")
        return {
            "kind": kind,
            "operation": self.op(raw["operation"], where) if "operation" in raw else None,
            "params": dict(raw.get("params", {})),
            "restricted_params": dict(raw.get("restricted_params", {})),
            "derived": derived,
        }

    def filters(self, raw: Iterable[Any], where: str) -> tuple[FilterSpec, ...]:
        out = []
        for i, f in enumerate(raw):
            f = _check(f, "filter", f"{where}: filters[{i}]")
            spec = FilterSpec(
                column=f["column"], ops=frozenset(str(op).upper() for op in f["ops"]), param=f.get("param"),
                path_param=f.get("path_param"), batch=f.get("batch"), exact=bool(f.get("exact", True)),
                required=bool(f.get("required", False)), params=dict(f.get("params", {})),
                not_with=tuple(f.get("not_with", ())),
            )
            if not spec.ops <= FILTER_OPS or (spec.param is None) == (spec.path_param is None):
                raise DefinitionError(f"{where}: filter on {spec.column} needs ops within {sorted(FILTER_OPS)} "
                                      "and exactly one of param/path_param")
            out.append(spec)
        return tuple(out)

    def route(self, kind: str, raw: Any, where: str) -> RouteSpec:
        where = f"{where} [{kind}]"
        raw = _check(raw, kind, where)
        common = self.common(kind, raw, where)
        if kind == "get":
            return GetSpec(**common, column=raw["column"], path_param=raw["path_param"], row=raw["row"],
                           not_found_empty=bool(raw.get("not_found_empty", True)))
        if kind in ("list", "window"):
            windows: list[WindowSpec] = []
            for i, w in enumerate(raw.get("windows", ())):
                w = _check(w, "window_spec", f"{where} windows[{i}]")
                windows.append(WindowSpec(w["column"], w.get("after"), w.get("before"), w.get("max_span_days")))
            for w in windows:
                if w.after is None and w.before is None:
                    raise DefinitionError(f"{where}: window on {w.column} needs after, before or both")
            if kind == "window" and not any(w.max_span_days for w in windows):
                raise DefinitionError(f"{where}: a [window] route needs a window with max_span_days")
            fields = {k: raw[k] for k in _LIST_KEYS if k in raw and k not in _ROUTE_COMMON
                      and k not in ("windows", "filters")}
            filters = self.filters(raw.get("filters", ()), where)
            return ListSpec(**common, **fields, windows=tuple(windows), filters=filters)
        if kind == "nested":
            return NestedSpec(**common, entity=raw["entity"], column=raw["column"], items=raw["items"],
                              parts=tuple(raw.get("parts", ())))
        if kind == "batch":
            fields = {k: raw[k] for k in KEYS["batch"] if k in raw and k not in _ROUTE_COMMON}
            return BatchSpec(**common, **fields)
        if kind == "document":
            fields = {k: raw[k] for k in KEYS["document"] if k in raw and k not in _ROUTE_COMMON}
            fields["poll"] = self.op(raw["poll"], where)
            fields["get_document"] = self.op(raw["get_document"], where)
            if "failed" in fields:
                fields["failed"] = tuple(fields["failed"])
            return DocumentSpec(**common, **fields)
        if kind == "report":
            fields = {k: raw[k] for k in KEYS["report"] if k in raw and k not in _ROUTE_COMMON}
            for key, default in REPORT_OPERATIONS.items():
                fields[key] = self.op(raw.get(key, default), where)
            if fields.get("format", "tsv") not in ("tsv", "csv", "json", "auto"):
                raise DefinitionError(f"{where}: format {fields['format']!r}: want tsv, csv, json or auto")
            fields["restricted_types"] = tuple(fields.get("restricted_types", ()))
            if fields.get("date_style") not in (None, "dmy", "mdy"):
                raise DefinitionError(f"{where}: date_style {fields['date_style']!r}: want dmy or mdy")
            fields["options"] = {str(k): str(v) for k, v in fields.get("options", {}).items()}
            return ReportSpec(**{**common, "operation": fields.pop("operation")}, **fields)
        if kind == "bulk":
            return _bulk(common, raw, where)
        assert kind == "python"
        return PythonSpec(**common, function=raw["function"])


#: A ``[bulk]`` column mapping: a report column, or the quotient of two (``item_price / quantity``).
_BULK_SOURCE = re.compile(r"^[a-z][a-z0-9_]*(?: / [a-z][a-z0-9_]*)?$", re.I)


def _bulk(common: dict[str, Any], raw: Mapping[str, Any], where: str) -> BulkSpec:
    """A ``[bulk]`` route: a scan (``reports``) or a lookup (``entity``), with its column and value mappings."""
    if ("reports" in raw) == ("entity" in raw):
        raise DefinitionError(f"{where}: give reports (range column → report table: a scan) or entity (the entity "
                              "a scan route read: a lookup), not both")
    columns = {str(k): str(v) for k, v in dict(raw["columns"]).items()}
    bad = [f"{k} = {v!r}" for k, v in columns.items() if not _BULK_SOURCE.match(v)]
    values = raw.get("values", {})
    if bad or not all(isinstance(m, Mapping) for m in values.values()):
        raise DefinitionError(f"{where}: columns map a column to a report column or 'a / b' "
                              f"({', '.join(bad) or 'values: a table of report word → API word per column'})")
    if str(raw["key"]) not in columns.values():
        raise DefinitionError(f"{where}: key {raw['key']!r} (the report's order id) is mapped to no column")
    threshold = raw.get("threshold", 500)
    if not isinstance(threshold, int) or threshold < 0:
        raise DefinitionError(f"{where}: threshold {threshold!r}: want a count of orders (an integer >= 0)")
    return BulkSpec(**common, reports={str(k): str(v) for k, v in dict(raw.get("reports", {})).items()},
                    entity=str(raw.get("entity", "")), key=str(raw["key"]), columns=columns,
                    values={str(k): {str(a): str(b) for a, b in m.items()} for k, m in values.items()},
                    threshold=threshold)


def _table(name: str, raw: Any, section: str, version: str, reader: _Reader, where: str,
           hooks: str | None = None, inherited: Mapping[str, TableSpec] | None = None) -> TableSpec:
    where = f"{where}: table {name}"
    inherited = inherited or {}
    if not _NAME.match(name):
        raise DefinitionError(f"{where}: table names are lower_snake_case")
    raw = _check(raw, "table", where)
    columns = parse_columns(raw["columns"], where)
    routes = tuple(reader.route(kind, raw[kind], where) for kind in ROUTE_KINDS if kind in raw)
    report = next((r for r in routes if isinstance(r, ReportSpec)), None)
    if report is not None:
        columns = _report_columns(name, report, columns, where)
    one_of = tuple(tuple(g) for g in raw.get("one_of", ()))
    if "routes_from" in raw:
        source = inherited.get(raw["routes_from"])
        if source is None or routes:
            raise DefinitionError(f"{where}: routes_from names a table declared earlier in this file "
                                  f"({', '.join(inherited) or 'none yet'}) and replaces this table's own routes")
        routes, one_of = _inherit(source, columns, one_of)
    if not routes:
        raise DefinitionError(f"{where}: a table needs at least one route ({', '.join(ROUTE_KINDS)})")
    parts = None
    if "parts" in raw:
        p = _check(raw["parts"], "parts", f"{where} [parts]")
        parts = PartsSpec(p["param"], tuple(p["names"]), tuple(p.get("always", ())))
    hint = _check(raw.get("hint", {}), "hint", f"{where} [hint]")
    table = TableSpec(
        name=name, section=section, version=version, description=raw["description"], columns=columns,
        routes=routes, entity=raw.get("entity"), key=raw.get("key"), restricted=bool(raw.get("restricted", False)),
        required_hint=hint.get("required"), one_of=one_of, parts=parts,
        hook=_hook(raw.get("hook"), hooks, where), example=raw.get("example"), source=where.split(":")[0],
    )
    _check_columns(table, where)
    return table


def _report_columns(name: str, report: ReportSpec, columns: tuple[ColumnSpec, ...],
                    where: str) -> tuple[ColumnSpec, ...]:
    """A report table's columns: its own, then :data:`REPORT_COLUMNS` (no ``extra`` for JSON reports); a flat-file
    report's table is named by the rule: its type in lower case without ``GET_``."""
    if report.format in ("tsv", "csv") and report.report_type:
        wanted = report.report_type.lower().removeprefix("get_")
        if name != wanted:
            raise DefinitionError(f"{where}: a table of report {report.report_type} is named {wanted} (the type in "
                                  "lower case without GET_)")
    lines = [line for line in REPORT_COLUMNS.strip().splitlines()
             if report.format in ("tsv", "csv") or not line.startswith("extra ")]
    return parse_columns("\n".join([*(_column_line(c) for c in columns), *lines]), where)


def _column_line(column: ColumnSpec) -> str:
    """A column back as its definition line (so the appended report columns are checked with the table's)."""
    prefix = {v: k for k, v in COLUMN_SOURCES.items()}[column.source]
    path = f"'{column.path[0]}'" if column.source == "const" else prefix + ".".join(column.path)
    flags = " HIDDEN" * column.hidden + " RESTRICTED" * column.restricted
    return f"{column.name}={path} {column.kind}{flags} {column.description}"


def _inherit(source: TableSpec, columns: tuple[ColumnSpec, ...],
             one_of: tuple[tuple[str, ...], ...]) -> tuple[tuple[RouteSpec, ...], tuple[tuple[str, ...], ...]]:
    """``routes_from``: the source table's routes, keeping only filters and windows on columns this table declares
    (a column the child does not declare cannot be filtered; one that it declares means the same input)."""
    names = {c.name.lower() for c in columns}
    routes = tuple(
        replace(r, filters=tuple(f for f in r.filters if f.column.lower() in names),
                windows=tuple(w for w in r.windows if w.column.lower() in names)) if isinstance(r, ListSpec) else r
        for r in source.routes
    )
    groups = one_of or tuple(g for g in (tuple(c for c in group if c.lower() in names) for group in source.one_of) if g)
    return routes, groups


def _hook(name: str | None, module: str | None, where: str) -> str | None:
    """``name`` → ``module:name`` (the file's ``hooks`` module), checked to exist."""
    if name is None:
        return None
    if ":" not in name:
        if module is None:
            raise DefinitionError(f"{where}: hook {name!r} needs the file key hooks = \"<module in vtables/>\"")
        name = f"{module}:{name}"
    mod, _, func = name.partition(":")
    try:
        found = hasattr(importlib.import_module(f"sqlspapi.vtables.{mod}"), func)
    except ImportError as exc:
        raise DefinitionError(f"{where}: hook module {mod!r} cannot be imported: {exc}") from None
    if not found:
        raise DefinitionError(f"{where}: hook {func!r} is not defined in vtables/{mod}.py")
    return name


def _check_columns(table: TableSpec, where: str) -> None:
    """Every column a route, filter, window, key or one-of group names must be a column of the table; RESTRICTED
    columns only in a table that runs without restricted data (a ``restricted = true`` table refuses to run)."""
    if table.restricted and any(c.restricted for c in table.columns):
        raise DefinitionError(f"{where}: the table is restricted = true (it refuses to run without restricted data): "
                              "its columns need no RESTRICTED flag")
    referenced: list[str] = [c for group in table.one_of for c in group]
    referenced += [table.key] if table.key else []
    for route in table.routes:
        if isinstance(route, ListSpec):
            referenced += [f.column for f in route.filters] + [w.column for w in route.windows]
        elif isinstance(route, GetSpec | NestedSpec | BatchSpec):
            referenced.append(route.column)
        elif isinstance(route, ReportSpec) and route.window_column:
            referenced.append(route.window_column)
        elif isinstance(route, BulkSpec):
            referenced += [*route.reports, *route.columns, *route.values]
    for col in referenced:
        try:
            table.column_index(col)
        except KeyError:
            close = difflib.get_close_matches(col, [c.name for c in table.columns], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DefinitionError(f"{where}: column {col!r} is named but not declared in columns{hint}") from None


def load_file(path: Path) -> SectionSpec:
    """Read and validate one definition file."""
    where = f"vtables/{path.name}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{where}: not valid TOML: {exc}") from None
    raw = _check(raw, "file", where)
    section, version = raw["section"], raw["version"]
    ops = {name: _operation(section, version, name, spec, where) for name, spec in raw.get("operations", {}).items()}
    reader = _Reader(where, ops)
    tables: dict[str, TableSpec] = {}
    for name, spec in raw.get("tables", {}).items():
        tables[name] = _table(name, spec, section, version, reader, where, raw.get("hooks"), tables)
    for table in tables.values():
        nested = table.nested
        if nested and not any(t.entity == nested.entity and t.get for t in tables.values()):
            raise DefinitionError(f"{where}: table {table.name} nests in entity {nested.entity!r}, "
                                  "which no table with a [get] route declares")
    return SectionSpec(section, version, raw.get("version_key", ""), raw.get("model"), raw.get("deprecation"), ops,
                       tables, where, title=raw["title"], default=bool(raw.get("default", False)),
                       hooks=raw.get("hooks"))


@cache
def load_all() -> tuple[SectionSpec, ...]:
    """Every definition shipped with sqlspapi, in file-name order (checked as one namespace per version choice)."""
    sections = tuple(load_file(p) for p in sorted(definitions_dir().glob("*.toml"))) + python_sections()
    _check_namespace(sections)
    return sections


def python_sections() -> tuple[SectionSpec, ...]:
    """Sections written in Python: modules of ``sqlspapi.vtables`` that define ``SECTION`` (a SectionSpec).

    A Python section with an empty ``version_key`` is always on (e.g. the generic ``spapi_request`` table).
    """
    import sqlspapi.vtables as package

    out = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"sqlspapi.vtables.{info.name}")
        section = getattr(module, "SECTION", None)
        if isinstance(section, SectionSpec):
            out.append(section)
    return tuple(out)


def _check_namespace(sections: tuple[SectionSpec, ...]) -> None:
    """Table names are one namespace: two sections that can be chosen together may not share a table name."""
    by_key: dict[str, list[SectionSpec]] = {}
    for spec in sections:
        by_key.setdefault(spec.version_key, []).append(spec)
    owner: dict[str, SectionSpec] = {}
    for spec in sections:
        for name in spec.tables:
            other = owner.get(name)
            if other is not None and other.version_key != spec.version_key:
                raise DefinitionError(f"{spec.source}: table {name} is also defined by {other.source}; table names "
                                      "are one namespace (prefix the API-specific one, e.g. vendor_purchase_orders)")
            owner.setdefault(name, spec)
    for key, specs in by_key.items():
        if not key:
            continue  # always-on sections (no version key) have no versions to choose between
        defaults = [s for s in specs if s.default]
        if len({s.version for s in specs}) > 1 and len(defaults) != 1:
            raise DefinitionError(f"{key}: exactly one of {', '.join(s.source for s in specs)} must say default = true")


def operation(section: str, name: str) -> OperationSpec:
    """An operation declared by the definitions (e.g. ``("tokens", "createRestrictedDataToken")``)."""
    for spec in load_all():
        if spec.section == section and name in spec.operations:
            return spec.operations[name]
    raise InternalError(f"no definition declares operation {name} of section {section}")


def version_keys() -> dict[str, tuple[tuple[str, ...], str, str]]:
    """Version keys from the definitions: key → (supported versions, default version, API title)."""
    out: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for key in sorted({s.version_key for s in load_all() if s.version_key}):
        specs = [s for s in load_all() if s.version_key == key]
        versions = tuple(sorted({s.version for s in specs}, reverse=True))
        default = next((s.version for s in specs if s.default), versions[0])
        out[key] = ((default, *[v for v in versions if v != default]), default, specs[0].title)
    return out


def default_version(version_key: str) -> str:
    """The default version of a version key (the definition that says ``default = true``)."""
    return version_keys()[version_key][1]


def select_sections(api_versions: Mapping[str, str]) -> list[SectionSpec]:
    """The sections whose version matches the connection's version keys (one version per section)."""
    chosen: list[SectionSpec] = []
    for spec in load_all():
        if not spec.version_key:
            chosen.append(spec)
            continue
        wanted = api_versions.get(spec.version_key)
        if wanted is None:
            raise InterfaceError(f"{spec.source}: the connection string has no version key {spec.version_key}")
        if wanted == spec.version:
            chosen.append(spec)
    return chosen


def supported_versions(version_key: str) -> list[str]:
    """The versions that have table definitions for a version key (e.g. OrdersApiVersion → ['2026-01-01', 'v0'])."""
    return sorted(s.version for s in load_all() if s.version_key == version_key)


def entity_source(sections: Iterable[SectionSpec], entity: str, section: str) -> TableSpec:
    """The table (with a get route) that provides parent entity ``entity`` within ``section``."""
    for spec in sections:
        if spec.section != section:
            continue
        for table in spec.tables.values():
            if table.entity == entity and table.get is not None:
                return table
    raise InternalError(f"no table provides entity {entity!r} in section {section}")
