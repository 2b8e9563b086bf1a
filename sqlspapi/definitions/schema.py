"""The typed form of a table definition: what ``vtables/*.toml`` files (and Python tables) declare.

Plain frozen data, no behaviour beyond formatting: the loader (:mod:`sqlspapi.definitions.loader`) builds these
from TOML and validates them; the planner and the routes (:mod:`sqlspapi.sql`) read them; the HTTP client reads
:class:`OperationSpec` (declared in :mod:`sqlspapi.definitions.operations`, re-exported here); the emulator and the
generated docs read usage plans and descriptions from them.

A table has columns and one or more *routes* (how rows are fetched). Each route kind has its own spec class
(:class:`GetSpec`, :class:`ListSpec` for ``list``/``window``, :class:`NestedSpec`, :class:`BatchSpec`,
:class:`DocumentSpec`, :class:`ReportSpec`, :class:`PythonSpec`, :class:`BulkSpec`; declared in
:mod:`sqlspapi.definitions.routespecs` and re-exported here); the route's behaviour lives in :mod:`sqlspapi.sql.routes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlspapi.definitions.operations import OperationSpec, RestrictedResource, usable_path_value
from sqlspapi.definitions.routespecs import (
    BatchSpec,
    BulkSpec,
    DocumentSpec,
    FilterSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    PythonSpec,
    ReportSpec,
    RouteSpec,
    WindowSpec,
)
from sqlspapi.definitions.syncspec import SyncSpec

__all__ = [
    "OperationSpec", "usable_path_value", "RestrictedResource", "COLUMN_TYPES", "COLUMN_SOURCES", "FILTER_OPS",
    "ColumnSpec", "PartsSpec", "TableSpec", "SectionSpec", "FilterSpec", "WindowSpec", "RouteSpec", "GetSpec",
    "ListSpec", "NestedSpec", "BatchSpec", "DocumentSpec", "ReportSpec", "PythonSpec", "BulkSpec",
]


#: Column types a definition may use, and the declared SQLite type each becomes. A declared type names what the value
#: is, then how SQLite holds it: ``TIMESTAMPTZ TEXT`` (ISO 8601 text in UTC; SQLite's TEXT affinity),
#: ``DECIMAL REAL`` (a JSON decimal number such as a money amount; REAL affinity). The clients read the first word:
#: DB-API gives ``datetime``/``Decimal``/``bool``, SQLAlchemy ``DateTime(timezone=True)``/``Numeric``/``Boolean``, the
#: bridge ``timestamptz``/``numeric``/``bool`` (see docs/bi-tools.md, "Types").
COLUMN_TYPES: Mapping[str, str] = {
    "TEXT": "TEXT",
    "INTEGER": "INTEGER",
    "REAL": "DECIMAL REAL",
    "BOOLEAN": "BOOLEAN",
    "JSON": "TEXT",
    "TIME": "TIMESTAMPTZ TEXT",
}

#: Where a column's value comes from, by the prefix of its path in a column line.
COLUMN_SOURCES: Mapping[str, str] = {
    "": "row",  # a dotted path inside the row object (numeric steps index arrays: images.0.link)
    "@": "path_param",  # a path parameter of the call that returned the row
    "?": "query_param",  # a query parameter of that call (a one-item list gives the item): the call's marketplace
    "^": "parent",  # a field of the parent entity (nested tables)
    "$": "connection",  # a value of the connection: sellerId, region, endpoint
    "'": "const",  # a constant: name='value'
}

#: SQL operators a filter may declare.
FILTER_OPS = frozenset({"=", "IN"})


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its SQL name, where its value comes from, its type, a description, whether it is hidden, and
    whether it is restricted.

    ``source`` is one of :data:`COLUMN_SOURCES`' values. A ``hidden`` column is an input: it is not in
    ``SELECT *`` and becomes a table-valued-function argument (``SELECT * FROM catalog_items('usb charger')``).
    A ``restricted`` column holds restricted data (PII) that Amazon returns only with ``IncludeRestrictedData=true``
    (a Restricted Data Token, or a restricted ``includedData`` part); without it the column is NULL and a query
    that uses it is told so (:func:`sqlspapi.sql.routes.base.restricted_notice`).
    """

    name: str
    path: tuple[str, ...]
    kind: str
    description: str = ""
    source: str = "row"
    hidden: bool = False
    restricted: bool = False

    @property
    def sqltype(self) -> str:
        """The declared SQLite type."""
        return COLUMN_TYPES[self.kind]

    @property
    def declaration(self) -> str:
        """The column's declaration in CREATE TABLE: timestamps compare as instants (see ``isotime``)."""
        collate = " COLLATE ISOTIME" if self.kind == "TIME" else ""
        hidden = " HIDDEN" if self.hidden else ""
        return f'"{self.name}" {self.sqltype}{hidden}{collate}'


@dataclass(frozen=True)
class PartsSpec:
    """A "which parts" parameter (``includedData``) chosen from the columns a query uses (SQLite's colUsed).

    A column needs part ``p`` when the first step of its path is ``p`` (``summaries.0.itemName`` → summaries);
    ``always`` parts are always asked for.
    """

    param: str
    names: tuple[str, ...]
    always: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A virtual table: its columns and the routes that fill it (in the order the planner tries them)."""

    name: str
    section: str
    version: str
    description: str
    columns: tuple[ColumnSpec, ...]
    routes: tuple[RouteSpec, ...] = ()
    entity: str | None = None
    key: str | None = None
    restricted: bool = False
    required_hint: str | None = None
    one_of: tuple[tuple[str, ...], ...] = ()
    parts: PartsSpec | None = None
    hook: str | None = None
    example: str | None = None
    source: str = ""
    sync: SyncSpec | None = None

    def route(self, kind: str) -> RouteSpec | None:
        """The route of this kind, if the table has one."""
        return next((r for r in self.routes if r.kind == kind), None)

    @property
    def get(self) -> GetSpec | None:
        """The ``get`` route (one call per key), if any."""
        route = self.route("get")
        return route if isinstance(route, GetSpec) else None

    @property
    def list(self) -> ListSpec | None:
        """The ``list`` or ``window`` route, if any."""
        route = self.route("list") or self.route("window")
        return route if isinstance(route, ListSpec) else None

    @property
    def nested(self) -> NestedSpec | None:
        """The ``nested`` route, if any."""
        route = self.route("nested")
        return route if isinstance(route, NestedSpec) else None

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
    title: str = ""
    default: bool = False
    hooks: str | None = None
