"""Loads the declarative table definitions in ``vtables/*.toml`` into typed, validated specs.

One TOML file describes one SP-API section at one version: its operations (path, method, published usage plan)
and its tables (columns, the list/get/nested routes, and the key columns with the operators that reach the API).
The loader knows nothing of HTTP or SQL execution; the planner and the virtual-table glue read what it builds.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import InterfaceError, InternalError

#: Column types a definition may use, and the declared SQLite type each becomes.
COLUMN_TYPES: Mapping[str, str] = {
    "TEXT": "TEXT",
    "INTEGER": "INTEGER",
    "REAL": "REAL",
    "BOOLEAN": "BOOLEAN",
    "JSON": "TEXT",
    "TIME": "TEXT",
}

#: SQL operators a key column may declare.
FILTER_OPS = frozenset({"=", "IN"})

_COLUMN_LINE = re.compile(
    r"^(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)=)?(?P<path>[@^]?[A-Za-z_][\w.]*)\s+(?P<type>[A-Z]+)\s*(?P<doc>.*)$"
)


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its SQL name, where its value comes from, its type and a description.

    ``source`` is ``row`` (a dotted path inside the row object), ``path_param`` (the value of a request path
    parameter, written ``@name``) or ``parent`` (a field of the parent entity, written ``^name``).
    """

    name: str
    path: tuple[str, ...]
    kind: str
    description: str = ""
    source: str = "row"

    @property
    def sqltype(self) -> str:
        """The declared SQLite type."""
        return COLUMN_TYPES[self.kind]

    @property
    def declaration(self) -> str:
        """The column's declaration in CREATE TABLE: timestamps compare as instants (see ``isotime``)."""
        collate = " COLLATE ISOTIME" if self.kind == "TIME" else ""
        return f'"{self.name}" {self.sqltype}{collate}'


@dataclass(frozen=True)
class FilterSpec:
    """A key column whose ``=``/``IN`` constraints reach the API as a query parameter or a path parameter."""

    column: str
    ops: frozenset[str]
    param: str | None = None
    path_param: str | None = None
    batch: int | None = None
    exact: bool = True
    required: bool = False


@dataclass(frozen=True)
class WindowSpec:
    """A timestamp column whose range constraints become an After/Before parameter pair."""

    column: str
    after: str
    before: str


@dataclass(frozen=True)
class ListSpec:
    """How a table lists rows: the operation, where rows and the next-page token are, and what can be pushed."""

    operation: OperationSpec
    rows: str
    next_token: str | None = None
    next_param: str | None = None
    page_size_param: str | None = None
    page_size_max: int | None = None
    marketplace_param: str | None = None
    marketplace_batch: int = 50
    window_required: bool = False
    before_min_age_seconds: int = 0
    max_lookback_days: int = 730
    windows: tuple[WindowSpec, ...] = ()
    filters: tuple[FilterSpec, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    restricted_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GetSpec:
    """How a table fetches one row by its key (e.g. getOrder by AmazonOrderId)."""

    operation: OperationSpec
    column: str
    path_param: str
    row: str
    params: Mapping[str, Any] = field(default_factory=dict)
    restricted_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NestedSpec:
    """A table whose rows live inside a parent entity (e.g. 2026 order items inside the order)."""

    entity: str
    column: str
    items: str


@dataclass(frozen=True)
class TableSpec:
    """A virtual table: its columns and the routes that fill it."""

    name: str
    section: str
    version: str
    description: str
    columns: tuple[ColumnSpec, ...]
    list: ListSpec | None = None
    get: GetSpec | None = None
    nested: NestedSpec | None = None
    entity: str | None = None
    key: str | None = None
    restricted: bool = False
    required_hint: str | None = None

    def column_index(self, name: str) -> int:
        """The position of column ``name`` (case-insensitive, as SQL is)."""
        lowered = name.lower()
        for i, col in enumerate(self.columns):
            if col.name.lower() == lowered:
                return i
        raise KeyError(name)

    def create_sql(self) -> str:
        """The CREATE TABLE statement that declares this table's columns to SQLite."""
        cols = ", ".join(c.declaration for c in self.columns)
        return f'CREATE TABLE "{self.name}"({cols})'


@dataclass(frozen=True)
class SectionSpec:
    """One definition file: an SP-API section at one version."""

    section: str
    version: str
    version_key: str
    model: str | None
    deprecation: str | None
    operations: Mapping[str, OperationSpec]
    tables: Mapping[str, TableSpec]
    source: str


def definitions_dir() -> Path:
    """Where the TOML definitions are: inside the installed package, or ``vtables/`` in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "vtables", here.parent / "vtables"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise InternalError(
        "sqlspapi's table definitions (vtables/*.toml) are missing from the installation; reinstall sqlspapi")


def parse_columns(text: str, where: str) -> tuple[ColumnSpec, ...]:
    """Parse a definition's column block: one ``[name=]path TYPE description`` per line."""
    columns: list[ColumnSpec] = []
    seen: set[str] = set()
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _COLUMN_LINE.match(line)
        if not m or m["type"] not in COLUMN_TYPES:
            raise InternalError(f"{where}: cannot read column line {line!r} (want 'path TYPE description')")
        path = m["path"]
        source = {"@": "path_param", "^": "parent"}.get(path[0], "row")
        path = path.lstrip("@^")
        name = m["name"] or path.replace(".", "_")
        if name.lower() in seen:
            raise InternalError(f"{where}: column {name} is declared twice")
        seen.add(name.lower())
        columns.append(ColumnSpec(name, tuple(path.split(".")), m["type"], m["doc"].strip(), source))
    return tuple(columns)


def _operation(section: str, version: str, name: str, raw: Mapping[str, Any]) -> OperationSpec:
    return OperationSpec(
        name=name,
        section=section,
        version=version,
        method=raw["method"].upper(),
        path=raw["path"],
        rate=float(raw["rate"]),
        burst=int(raw["burst"]),
        restricted=bool(raw.get("restricted", False)),
        rdt_data_elements=tuple(raw.get("rdt_data_elements", ())),
    )


def _op(ops: Mapping[str, OperationSpec], name: str, where: str) -> OperationSpec:
    if name not in ops:
        raise InternalError(f"{where}: operation {name!r} is not declared in [operations]")
    return ops[name]


def _list_spec(raw: Mapping[str, Any], ops: Mapping[str, OperationSpec], where: str) -> ListSpec:
    filters = tuple(
        FilterSpec(
            column=f["column"],
            ops=frozenset(op.upper() for op in f["ops"]),
            param=f.get("param"),
            path_param=f.get("path_param"),
            batch=f.get("batch"),
            exact=bool(f.get("exact", True)),
            required=bool(f.get("required", False)),
        )
        for f in raw.get("filters", ())
    )
    for f in filters:
        if not f.ops <= FILTER_OPS or (f.param is None) == (f.path_param is None):
            raise InternalError(
                f"{where}: filter on {f.column} needs ops within {sorted(FILTER_OPS)} and one of param/path_param")
    windows = tuple(WindowSpec(w["column"], w["after"], w["before"]) for w in raw.get("windows", ()))
    return ListSpec(
        operation=_op(ops, raw["operation"], where),
        rows=raw["rows"],
        next_token=raw.get("next_token"),
        next_param=raw.get("next_param"),
        page_size_param=raw.get("page_size_param"),
        page_size_max=raw.get("page_size_max"),
        marketplace_param=raw.get("marketplace_param"),
        marketplace_batch=int(raw.get("marketplace_batch", 50)),
        window_required=bool(raw.get("window_required", False)),
        before_min_age_seconds=int(raw.get("before_min_age_seconds", 0)),
        max_lookback_days=int(raw.get("max_lookback_days", 730)),
        windows=windows,
        filters=filters,
        params=dict(raw.get("params", {})),
        restricted_params=dict(raw.get("restricted_params", {})),
    )


def _table(name: str, raw: Mapping[str, Any], section: str, version: str,
           ops: Mapping[str, OperationSpec], where: str) -> TableSpec:
    where = f"{where} table {name}"
    columns = parse_columns(raw.get("columns", ""), where)
    get = None
    if "get" in raw:
        g = raw["get"]
        get = GetSpec(_op(ops, g["operation"], where), g["column"], g["path_param"], g["row"],
                      dict(g.get("params", {})), dict(g.get("restricted_params", {})))
    nested = None
    if "nested" in raw:
        n = raw["nested"]
        nested = NestedSpec(n["entity"], n["column"], n["items"])
    table = TableSpec(
        name=name,
        section=section,
        version=version,
        description=raw.get("description", ""),
        columns=columns,
        list=_list_spec(raw["list"], ops, where) if "list" in raw else None,
        get=get,
        nested=nested,
        entity=raw.get("entity"),
        key=raw.get("key"),
        restricted=bool(raw.get("restricted", False)),
        required_hint=raw.get("hint", {}).get("required"),
    )
    if not (table.list or table.nested):
        raise InternalError(f"{where}: a table needs a [list] or a [nested] route")
    referenced = [f.column for f in (table.list.filters if table.list else ())]
    referenced += [w.column for w in (table.list.windows if table.list else ())]
    referenced += [x.column for x in (table.get, table.nested) if x is not None]
    referenced += [table.key] if table.key else []
    for col in referenced:
        try:
            table.column_index(col)
        except KeyError:
            raise InternalError(f"{where}: key column {col!r} is not one of its columns") from None
    return table


def load_file(path: Path) -> SectionSpec:
    """Read and validate one definition file."""
    where = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InternalError(f"{where}: not valid TOML: {exc}") from None
    section, version = raw["section"], raw["version"]
    ops = {name: _operation(section, version, name, spec) for name, spec in raw.get("operations", {}).items()}
    tables = {name: _table(name, spec, section, version, ops, where) for name, spec in raw.get("tables", {}).items()}
    for table in tables.values():
        if table.nested and not any(t.entity == table.nested.entity and t.get for t in tables.values()):
            raise InternalError(f"{where}: table {table.name} nests in entity {table.nested.entity!r}, "
                                "which no table with a [get] route declares")
    return SectionSpec(section, version, raw["version_key"], raw.get("model"), raw.get("deprecation"),
                       ops, tables, where)


@cache
def load_all() -> tuple[SectionSpec, ...]:
    """Every definition shipped with sqlspapi, in file-name order."""
    return tuple(load_file(p) for p in sorted(definitions_dir().glob("*.toml")))


def select_sections(api_versions: Mapping[str, str]) -> list[SectionSpec]:
    """The sections whose version matches the connection's version keys (one version per section)."""
    chosen: list[SectionSpec] = []
    for spec in load_all():
        wanted = api_versions.get(spec.version_key)
        if wanted is None:
            raise InterfaceError(f"{spec.source}: the connection string has no version key {spec.version_key}")
        if wanted == spec.version:
            chosen.append(spec)
    return chosen


def supported_versions(version_key: str) -> list[str]:
    """The versions that have table definitions for a version key (e.g. OrdersApiVersion → ['2026-01-01', 'v0'])."""
    return sorted(s.version for s in load_all() if s.version_key == version_key)


def entity_source(sections: list[SectionSpec], entity: str, section: str) -> TableSpec:
    """The table (with a get route) that provides parent entity ``entity`` within ``section``."""
    for spec in sections:
        if spec.section != section:
            continue
        for table in spec.tables.values():
            if table.entity == entity and table.get is not None:
                return table
    raise InternalError(f"no table provides entity {entity!r} in section {section}")
