"""Reading one definition file's operations and tables into specs: routes of every kind, filters and windows,
columns (``columns_from``, the columns a report route appends), ``routes_from``, hooks, and the checks that every
column a route names is declared. The language's keys are :mod:`sqlspapi.definitions.language`.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlspapi.definitions.language import (
    _LIST_KEYS,
    _NAME,
    _ROUTE_COMMON,
    KEYS,
    REPORT_COLUMNS,
    REPORT_OPERATIONS,
    ROUTE_KINDS,
    DefinitionError,
    column_line,
    parse_columns,
)
from sqlspapi.definitions.language import check_keys as _check
from sqlspapi.definitions.schema import (
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
    TableSpec,
    WindowSpec,
)
from sqlspapi.definitions.syncspec import SyncSpec

__all__ = ["read_operation", "Reader", "read_table", "WRITE_METHODS"]

#: HTTP methods whose operations change the account (``writes`` defaults to true for them; a POST that changes it,
#: such as createReportSchedule, says ``writes = true``).
WRITE_METHODS = ("PUT", "PATCH", "DELETE")


def read_operation(section: str, version: str, name: str, raw: Any, where: str) -> OperationSpec:
    """One ``[operations.NAME]`` table as an OperationSpec (keys checked)."""
    raw = _check(raw, "operation", f"{where}: operation {name}")
    return OperationSpec(
        name=name, section=section, version=version, method=str(raw["method"]).upper(), path=raw["path"],
        rate=float(raw["rate"]), burst=int(raw["burst"]), restricted=bool(raw.get("restricted", False)),
        rdt_data_elements=tuple(raw.get("rdt_data_elements", ())), grantless=raw.get("grantless"),
        writes=bool(raw.get("writes", str(raw["method"]).upper() in WRITE_METHODS)),
    )


class Reader:
    """Builds the specs of one file; ``where`` prefixes every message."""

    def __init__(self, where: str, ops: Mapping[str, OperationSpec]) -> None:
        self.where = where
        self.ops = ops

    def op(self, name: Any, where: str) -> OperationSpec:
        """The operation a route names (declared in the file's ``[operations]``, else an error)."""
        if name not in self.ops:
            close = difflib.get_close_matches(str(name), list(self.ops), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DefinitionError(f"{where}: operation {name!r} is not declared in [operations]{hint}")
        return self.ops[name]

    def common(self, kind: str, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The keys every route kind takes (operation, params, restricted params, derived parameters)."""
        derived = dict(raw.get("derived", {}))
        for param, expr in derived.items():
            if not (isinstance(expr, str) and expr[:1] in ("?", "$")):
                raise DefinitionError(f"{where}: derived {param} = {expr!r}: want '?queryParam' or '$connectionValue'")
        return {"kind": kind, "operation": self.op(raw["operation"], where) if "operation" in raw else None,
                "params": dict(raw.get("params", {})), "restricted_params": dict(raw.get("restricted_params", {})),
                "derived": derived}

    def filters(self, raw: Iterable[Any], where: str) -> tuple[FilterSpec, ...]:
        """A list route's ``[[filters]]``."""
        out = []
        for i, f in enumerate(raw):
            f = _check(f, "filter", f"{where}: filters[{i}]")
            spec = FilterSpec(
                column=f["column"], ops=frozenset(str(op).upper() for op in f["ops"]), param=f.get("param"),
                path_param=f.get("path_param"), batch=f.get("batch"), exact=bool(f.get("exact", True)),
                required=bool(f.get("required", False)), params=dict(f.get("params", {})),
                not_with=tuple(f.get("not_with", ())), values=tuple(str(v) for v in f.get("values", ())),
            )
            if not spec.ops <= FILTER_OPS or (spec.param is None) == (spec.path_param is None):
                raise DefinitionError(f"{where}: filter on {spec.column} needs ops within {sorted(FILTER_OPS)} "
                                      "and exactly one of param/path_param")
            out.append(spec)
        return tuple(out)

    def route(self, kind: str, raw: Any, where: str) -> RouteSpec:
        """One route of ``kind`` (keys checked against :data:`KEYS`)."""
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
            return _batch(common, raw, where)
        if kind == "document":
            fields = {k: raw[k] for k in KEYS["document"] if k in raw and k not in _ROUTE_COMMON}
            fields["poll"] = self.op(raw["poll"], where)
            fields["get_document"] = self.op(raw["get_document"], where)
            for key in ("failed", "keys", "window"):
                fields[key] = tuple(str(v) for v in fields.get(key, DocumentSpec.__dataclass_fields__[key].default))
            for key in ("enums", "selections"):
                if not isinstance(fields.get(key, {}), Mapping):
                    raise DefinitionError(f"{where}: {key} is a table of name → list of strings")
                fields[key] = {str(k): tuple(str(v) for v in vs) for k, vs in fields.get(key, {}).items()}
            formats, windows = ("tsv", "csv", "json", "jsonl"), (0, 2)
            if fields.get("format", "tsv") not in formats or len(fields["window"]) not in windows:
                raise DefinitionError(f"{where}: format wants tsv, csv, json or jsonl; window names two columns (a "
                                      "row's period start and end) or none")
            if fields.get("graphql") and not re.fullmatch(r"\w+\.\w+", fields["graphql"]):
                raise DefinitionError(f"{where}: graphql {fields['graphql']!r}: want '<root field>.<dataset field>'")
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
            if bool(fields.get("region_wide")) != bool(fields.get("marketplace_from")):
                raise DefinitionError(f"{where}: region_wide needs marketplace_from (each row's sales channel column)")
            fields["options"] = {str(k): str(v) for k, v in fields.get("options", {}).items()}
            return ReportSpec(**{**common, "operation": fields.pop("operation")}, **fields)
        if kind == "bulk":
            return _bulk(common, raw, where)
        assert kind == "python"
        return PythonSpec(**common, function=raw["function"])


#: A ``{name}`` placeholder of a ``[batch]`` template.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _placeholders(template: Any) -> set[str]:
    """Every ``{name}`` in the strings of a template (recursively)."""
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    values = template.values() if isinstance(template, Mapping) else template if isinstance(template, list) else ()
    return {name for value in values for name in _placeholders(value)}


def _batch(common: dict[str, Any], raw: Mapping[str, Any], where: str) -> BatchSpec:
    """A ``[batch]`` route: the template, its inputs (checked: required and default inputs are inputs, every
    placeholder is one unless a ``prepare`` hook may add it), pairing, explosion and status of the sub-responses."""
    fields = {k: raw[k] for k in KEYS["batch"] if k in raw and k not in _ROUTE_COMMON}
    for key in ("inputs", "required", "ok"):
        if key in fields:
            fields[key] = tuple(str(v) for v in fields[key])
    for key in ("defaults", "match"):
        if key in fields and not isinstance(fields[key], Mapping):
            raise DefinitionError(f"{where}: {key} is a table of input name → value")
    if not isinstance(fields["max_items"], int) or fields["max_items"] < 1:
        raise DefinitionError(f"{where}: max_items {fields['max_items']!r}: want a count of sub-requests (>= 1)")
    spec = BatchSpec(**common, **fields)
    names = set(spec.input_columns())
    unknown = [n for n in (*spec.required, *spec.defaults, *spec.match) if n not in names | {"ref"}]
    if unknown:
        raise DefinitionError(f"{where}: {', '.join(unknown)} named in required/defaults/match but not an input "
                              f"(inputs: {', '.join(sorted(names))})")
    if spec.prepare is not None:
        spec = replace(spec, prepare=_hook(spec.prepare, None, where))
    else:
        stray = _placeholders(spec.template) - names - {"value", "marketplace", "ref"}
        if stray:
            raise DefinitionError(f"{where}: template placeholder(s) {', '.join(sorted(stray))} name no input "
                                  "(declare them in inputs, or derive them in a prepare hook)")
    return spec


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


def read_table(name: str, raw: Any, section: str, version: str, reader: Reader, where: str,
               hooks: str | None = None, inherited: Mapping[str, TableSpec] | None = None) -> TableSpec:
    """One ``[tables.NAME]`` table as a TableSpec: columns, routes, hooks, checked; ``inherited`` are the tables
    declared earlier in the file (for ``routes_from`` and ``columns_from``)."""
    where = f"{where}: table {name}"
    inherited = inherited or {}
    if not _NAME.match(name):
        raise DefinitionError(f"{where}: table names are lower_snake_case")
    raw = _check(raw, "table", where)
    columns = _own_columns(raw, inherited, where)
    routes = tuple(reader.route(kind, one, f"{where}[{n}]" if isinstance(raw[kind], list) else where)
                   for kind in ROUTE_KINDS if kind in raw
                   for n, one in enumerate(raw[kind] if isinstance(raw[kind], list) else [raw[kind]]))
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
    if "sync" in raw:
        table = replace(table, sync=_sync(table, raw["sync"], inherited, f"{where} [sync]"))
    return table


def _sync(table: TableSpec, raw: Any, inherited: Mapping[str, TableSpec], where: str) -> SyncSpec:
    """A ``[sync]`` block: its columns are the table's (the cursor a TIME one), its parent declared earlier in the
    file with a cursor, a report backfill only where a ``[bulk]`` route exists."""
    raw = _check(raw, "sync", where)
    key = tuple(str(k) for k in raw.get("key", (table.key,) if table.key else ()))
    spec = SyncSpec(cursor=raw.get("cursor"), key=key, overlap_days=float(raw.get("overlap_days", 3.0)),
                    backfill=raw.get("backfill"), parent=raw.get("parent"), replace_by=raw.get("replace_by"),
                    since_days=int(raw.get("since_days", 730)),
                    recent_days=float(raw["recent_days"]) if "recent_days" in raw else None)
    for col in (*spec.key, *filter(None, (spec.replace_by, spec.cursor if spec.parent is None else None))):
        try:
            table.column_index(col)
        except KeyError:
            raise DefinitionError(f"{where}: column {col!r} is not a column of the table") from None
    if spec.cursor and spec.parent is None and table.columns[table.column_index(spec.cursor)].kind != "TIME":
        raise DefinitionError(f"{where}: cursor {spec.cursor!r} is not a TIME column")
    parent = inherited.get(spec.parent) if spec.parent else None
    if spec.parent and (parent is None or parent.sync is None or parent.sync.cursor is None or table.nested is None):
        raise DefinitionError(f"{where}: parent {spec.parent!r} names a table declared earlier in the file with a "
                              "[sync] cursor, and this table needs a [nested] route (the join column)")
    if spec.backfill not in (None, "report") or (spec.backfill and table.route("bulk") is None):
        raise DefinitionError(f"{where}: backfill = \"report\" needs a [bulk] route")
    if not spec.key and not spec.replace_by and spec.cursor:
        raise DefinitionError(f"{where}: an incremental table needs a key (the table's key, [sync] key or replace_by)")
    if spec.overlap_days < 0 or spec.since_days < 1:
        raise DefinitionError(f"{where}: overlap_days >= 0 and since_days >= 1")
    return spec


def _own_columns(raw: Mapping[str, Any], inherited: Mapping[str, TableSpec], where: str) -> tuple[ColumnSpec, ...]:
    """A table's declared columns: its ``columns`` block, after the columns of the ``columns_from`` table declared
    earlier in the file (its own ones: not the columns a route kind appends, such as a report table's inputs)."""
    if "columns" not in raw and "columns_from" not in raw:
        raise DefinitionError(f"{where}: missing required key 'columns'")
    lines = []
    if "columns_from" in raw:
        source = inherited.get(raw["columns_from"])
        if source is None:
            raise DefinitionError(f"{where}: columns_from names a table declared earlier in this file "
                                  f"({', '.join(inherited) or 'none yet'})")
        report = any(isinstance(r, ReportSpec) for r in source.routes)
        appended = {c.name for c in parse_columns(REPORT_COLUMNS, where)} if report else set()
        lines += [column_line(c) for c in source.columns if c.name not in appended]
    lines += raw.get("columns", "").strip().splitlines()
    return parse_columns("\n".join(lines), where)


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
    return parse_columns("\n".join([*(column_line(c) for c in columns), *lines]), where)

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
        elif isinstance(route, BatchSpec):
            referenced += route.input_columns()
        elif isinstance(route, GetSpec | NestedSpec):
            referenced.append(route.column)
        elif isinstance(route, ReportSpec):
            referenced += [c for c in (route.window_column, route.marketplace_from) if c]
        elif isinstance(route, BulkSpec):
            referenced += [*route.reports, *route.columns, *route.values]
    for col in referenced:
        try:
            table.column_index(col)
        except KeyError:
            close = difflib.get_close_matches(col, [c.name for c in table.columns], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DefinitionError(f"{where}: column {col!r} is named but not declared in columns{hint}") from None


