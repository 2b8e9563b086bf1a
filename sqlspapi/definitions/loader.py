"""Loads the declarative table definitions in ``vtables/*.toml`` into typed, validated specs — strictly.

One TOML file describes one SP-API section at one version: its operations (path, method, published usage plan)
and its tables (columns, routes, key columns with the operators that reach the API). Every key of every table is
checked against :data:`KEYS` (the schema of the language, as data): an unknown key is an error that names the file,
the table and the closest known key; a missing required key likewise. Table names are one namespace across all
files of one API-version selection. The loader knows nothing of HTTP or SQL execution.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from sqlspapi.definitions.language import (  # noqa: F401 - the language's names, importable from here too
    KEYS,
    MAX_NAME_BYTES,
    REPORT_COLUMNS,
    REPORT_OPERATIONS,
    ROUTE_KINDS,
    DefinitionError,
    parse_columns,
)
from sqlspapi.definitions.language import check_keys as _check
from sqlspapi.definitions.schema import (
    ColumnSpec,
    FilterSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    OperationSpec,
    SectionSpec,
    TableSpec,
    WindowSpec,
)
from sqlspapi.definitions.tables import Reader, read_operation, read_table
from sqlspapi.errors import InterfaceError, InternalError

__all__ = [
    "DefinitionError", "KEYS", "ROUTE_KINDS", "definitions_dir", "parse_columns", "load_file", "load_all",
    "select_sections", "supported_versions", "default_version", "version_keys", "deprecations", "entity_source",
    "operation",
    "SectionSpec", "TableSpec", "ColumnSpec", "FilterSpec", "WindowSpec", "GetSpec", "ListSpec", "NestedSpec",
    "REPORT_COLUMNS", "REPORT_OPERATIONS", "MAX_NAME_BYTES",
]


def definitions_dir() -> Path:
    """Where the TOML definitions are: inside the installed package, or ``vtables/`` in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "vtables", here.parent / "vtables"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise InternalError(
        "sqlspapi's table definitions (vtables/*.toml) are missing from the installation; reinstall sqlspapi")

def load_file(path: Path) -> SectionSpec:
    """Read and validate one definition file."""
    where = f"vtables/{path.name}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{where}: not valid TOML: {exc}") from None
    raw = _check(raw, "file", where)
    section, version = raw["section"], raw["version"]
    ops = {name: read_operation(section, version, name, spec, where)
           for name, spec in raw.get("operations", {}).items()}
    reader = Reader(where, ops)
    tables: dict[str, TableSpec] = {}
    for name, spec in raw.get("tables", {}).items():
        tables[name] = read_table(name, spec, section, version, reader, where, raw.get("hooks"), tables)
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


def deprecations() -> dict[tuple[str, str], str]:
    """(version key, version) → the definition's deprecation notice, for every deprecated API version."""
    return {(s.version_key, s.version): s.deprecation for s in load_all() if s.version_key and s.deprecation}


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
