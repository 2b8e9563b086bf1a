"""Helpful messages for SQLite's "no such column" and "no such table" errors, shared by every face.

SQLite only says ``no such column: AmazonOrderId``. :func:`hint` turns that into what a user needs, from the
definitions (:func:`sqlspapi.definitions.loader.load_all`) and the tables the statement names:

* a column of another version of the same API: ``orders has no column AmazonOrderId in Orders 2026-01-01; it is an
  Orders v0 column: use orderId, or OrdersApiVersion=v0``;
* a misspelt column: ``no such column: fulfilmentStatus; did you mean fulfillment_fulfillmentStatus?``;
* else where the columns are listed: ``... (the columns of orders: sqlspapi help tables/orders-2026-01-01)``;
* a table of another version (``catalog_item_classifications`` with Catalog Items 2020-12-01), or a misspelt table.

The shell and ``sqlspapi query`` show it in place of SQLite's text; the DB-API and the bridge call the same function:

    message = hints.hint(database, str(exc), sql) or str(exc)
"""

from __future__ import annotations

import collections
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_NO_COLUMN = re.compile(r"no such column: (?:([^\s.]+)\.)?([^\s.]+)")
_NO_TABLE = re.compile(r"no such table: (?:([^\s.]+)\.)?([^\s.]+)")
_FROM = re.compile(r"\b(?:from|join)\s+([\"`\[]?[\w$]+[\"`\]]?)(?:\s+(?:as\s+)?([\w$]+))?", re.IGNORECASE)
_NOT_ALIASES = {"where", "join", "on", "left", "right", "inner", "outer", "cross", "natural", "group", "order",
                "limit", "union", "using", "having", "window", "except", "intersect", "full"}
_CLOSE = 0.6
_EQUIVALENT = 1.3  # description + name likeness (each 0..1) needed to call two columns the same


def table_topic(section: Any) -> str:
    """The ``sqlspapi help`` topic of a section's table reference page, e.g. ``tables/orders-2026-01-01``."""
    return f"tables/{Path(str(section.source)).stem}"


def statement_tables(sql: str | None) -> dict[str, str]:
    """The tables a statement names, as ``{alias or name (lower case): table name (lower case)}`` (empty when
    ``sql`` is None or names none)."""
    if not sql:
        return {}
    try:
        import sqlglot
        from sqlglot import exp

        tables: dict[str, str] = {}
        for tree in sqlglot.parse(sql, read="sqlite"):
            for table in tree.find_all(exp.Table) if tree is not None else ():
                tables[table.alias_or_name.lower()] = table.name.lower()
        return tables
    except Exception:  # a statement sqlglot cannot read: the FROM/JOIN names still tell
        out = {}
        for name, alias in _FROM.findall(sql):
            name = name.strip('"`[]').lower()
            out[(alias if alias and alias.lower() not in _NOT_ALIASES else name).lower()] = name
        return out


def _article(text: str) -> str:
    return "an" if text[:1].lower() in "aeiou" else "a"


def _similarity(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first.lower().replace("_", ""), second.lower().replace("_", "")).ratio()


def _name_end(name: str) -> str:
    return name.lower().rsplit("_", 1)[-1]


def equivalent_column(column: Any, candidates: Iterable[Any]) -> str | None:
    """The column among ``candidates`` (ColumnSpecs of another version's table) that holds what ``column`` holds:
    the best by likeness of description and of name (the one candidate whose last name part is the same, ``City``
    and ``…_city``, counts extra), when it is alike enough; None otherwise."""
    candidates = list(candidates)
    ends = collections.Counter(_name_end(candidate.name) for candidate in candidates)
    best, score = None, _EQUIVALENT
    for candidate in candidates:
        described = _similarity(column.description, candidate.description) if column.description else 0.0
        end = _name_end(candidate.name)
        unique_end = end == _name_end(column.name) and ends[end] == 1
        total = described + _similarity(column.name, candidate.name) + (0.5 if unique_end else 0.0)
        if total > score:
            best, score = candidate.name, total
    return best


def _current(database: Any) -> dict[str, tuple[Any, Any]]:
    """``{table name (lower case): (section, table)}`` of the database's API tables."""
    return {name.lower(): (section, table) for section in database.sections for name, table in section.tables.items()}


def _other_versions(section: Any) -> list[Any]:
    from sqlspapi.definitions.loader import load_all

    return [other for other in load_all()
            if other.section == section.section and other.version != section.version and other.version_key]


def _version_hint(section: Any, table: Any, column: str) -> str | None:
    """The message for a column that exists in another version of ``table``'s API (None when none has it)."""
    for other in _other_versions(section):
        peer = other.tables.get(table.name)
        match = next((c for c in peer.columns if c.name.lower() == column.lower()), None) if peer else None
        if match is None:
            continue
        label = f"{other.title or other.section} {other.version}"
        use = equivalent_column(match, table.columns)
        setting = f"{other.version_key}={other.version}"
        advice = f"use {use}, or {setting}" if use else f"use {setting}"
        return (f"{table.name} has no column {match.name} in {section.title or section.section} {section.version}; "
                f"it is {_article(label)} {label} column: {advice}")
    return None


def column_hint(database: Any, column: str, qualifier: str | None = None, sql: str | None = None) -> str | None:
    """The message for ``no such column: [qualifier.]column`` in ``sql`` on ``database`` (None: nothing to add)."""
    current = _current(database)
    named = statement_tables(sql)
    if qualifier:
        names = [named.get(qualifier.lower(), qualifier.lower())]
    elif named or sql:
        names = list(dict.fromkeys(named.values()))
    else:  # the statement is unknown: any table may be meant
        names = list(current)
    scope = [current[name] for name in names if name in current]
    if not scope:
        return None
    for section, table in scope:
        message = _version_hint(section, table, column)
        if message:
            return message
    raw = f"{qualifier}.{column}" if qualifier else column
    by_name = {c.name.lower(): (table, c.name) for _, table in scope for c in table.columns}
    wanted = column.lower()
    found = [key for key in by_name if key.endswith("_" + wanted) or (key.endswith(wanted) and len(wanted) >= 4)]
    found = found[:1] or difflib.get_close_matches(wanted, list(by_name), n=1, cutoff=_CLOSE)
    if found:
        table, name = by_name[found[0]]
        where = f" (in {table.name})" if len(scope) > 1 else ""
        return f"no such column: {raw}; did you mean {name}{where}?"
    if not named and not qualifier:
        return None
    pages = ", ".join(f"{table.name}: sqlspapi help {table_topic(section)}" for section, table in scope)
    return f"no such column: {raw} (the columns of {pages})"


def table_hint(database: Any, name: str) -> str | None:
    """The message for ``no such table: name`` on ``database`` (None: nothing to add)."""
    current = _current(database)
    from sqlspapi.definitions.loader import load_all

    chosen = {(section.section, section.version) for section, _ in current.values()}
    for other in load_all():
        if name.lower() in other.tables and (other.section, other.version) not in chosen and other.version_key:
            label = f"{other.title or other.section} {other.version}"
            setting = f"{other.version_key}={other.version}"
            return f"no such table: {name}; it is {_article(label)} {label} table: use {setting}"
    found = difflib.get_close_matches(name.lower(), list(current), n=1, cutoff=_CLOSE)
    if found:
        return f"no such table: {name}; did you mean {current[found[0]][1].name}?"
    return None


def hint(database: Any, message: str, sql: str | None = None) -> str | None:
    """A better message for a SQLite error ``message`` raised running ``sql`` on ``database``, or None.

    Handles ``no such column`` (another API version's column, the closest column of the statement's tables, or
    where the columns are documented) and ``no such table``. Never raises: a failure here leaves SQLite's text.
    """
    try:
        match = _NO_COLUMN.search(message)
        if match:
            return column_hint(database, match.group(2), match.group(1), sql)
        match = _NO_TABLE.search(message)
        if match:
            return table_hint(database, match.group(2))
    except Exception:  # a hint must never hide the error it explains
        return None
    return None


__all__ = ["hint", "column_hint", "table_hint", "statement_tables", "equivalent_column", "table_topic"]
