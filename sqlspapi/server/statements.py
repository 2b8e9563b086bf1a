"""The statements the bridge answers itself, and the small result types every statement returns.

:class:`ColumnDesc` and :class:`StatementResult` are what a session hands the protocol (RowDescription, rows,
CommandComplete tag). :class:`ServerStatements` is the part of :class:`~sqlspapi.server.session.PgSession` that
answers without SQLite's tables: transactions (BEGIN/COMMIT/ROLLBACK, whose end restores ``SET LOCAL`` settings),
``SET``/``RESET``/``SHOW``, ``DISCARD``/``DEALLOCATE``, and forward-only cursors (``DECLARE``/``FETCH``/``MOVE``/
``CLOSE``) held as :class:`HeldCursor`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import pgtypes
from .pgerror import PgError
from .pgsettings import DEFAULT_SETTINGS, parse_set, setting_value, show

DECLARE_RE = re.compile(r"declare\s+(\"[^\"]*+(?:\"\"[^\"]*+)*+\"|\w+)\s+(?:binary\s+)?(?:insensitive\s+)?(?:no\s+)?"
                        r"(?:scroll\s+)?cursor\s+(?:(with|without)\s+hold\s+)?for\s+(.*)", re.I | re.S)
FETCH_RE = re.compile(r"(fetch|move)\s+(?:(next|prior|first|last|all|forward\s+all|forward\s+\d+|forward|"
                      r"absolute\s+-?\d+|relative\s+-?\d+|\d+)\s+)?(?:(?:from|in)\s+)?(\"[^\"]*+(?:\"\"[^\"]*+)*+\"|\w+)\s*$",
                      re.I | re.S)


@dataclass
class ColumnDesc:
    """One result column as RowDescription reports it."""

    name: str
    type_oid: int
    type_size: int = -1
    type_mod: int = -1


class StatementResult:
    """The result of one statement: columns (None for commands), lazily produced rows and the command tag."""

    def __init__(self, columns: list[ColumnDesc] | None, rows: Iterator[tuple] | None = None,
                 tag: str | Callable[[int], str] = "") -> None:
        self.columns, self.rows, self._tag = columns, rows if rows is not None else iter(()), tag

    def command_tag(self, nrows: int) -> str:
        """The CommandComplete tag once ``nrows`` rows were sent (``SELECT 5``, ``SET``, ``FETCH 3`` …)."""
        return self._tag(nrows) if callable(self._tag) else self._tag


@dataclass
class HeldCursor:
    """An open cursor (DECLARE … CURSOR): its columns, the rows still to fetch, whether it outlives its transaction."""

    columns: list[ColumnDesc] | None
    rows: Iterator[tuple]
    hold: bool


def unquote(name: str) -> str:
    """A cursor name as PostgreSQL folds it: a quoted one as written, else in lower case."""
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


class ServerStatements:
    """Mixin of :class:`~sqlspapi.server.session.PgSession`: the statements it answers itself (module docstring).

    The host provides ``settings``, ``transaction_status``, ``cursors``, ``_notices``, ``_begun_settings``,
    ``_local_settings`` and ``_query(sql, prepared, params)``.
    """

    settings: dict[str, str]
    transaction_status: str
    cursors: dict[str, HeldCursor]
    _notices: list[str]
    _begun_settings: dict[str, Any]
    _local_settings: dict[str, Any]
    _query: Callable[..., StatementResult]

    def _server_statement(self, sql: str, words: list[str]) -> StatementResult:
        head = words[0]
        if head in ("begin", "start"):
            if self.transaction_status == "I":
                self._begun_settings, self._local_settings = dict(self.settings), {}
            self.transaction_status = "T"
            return StatementResult(None, tag="BEGIN" if head == "begin" else "START TRANSACTION")
        if head in ("commit", "end", "rollback", "abort"):
            if words[:2] == ["rollback", "to"]:
                self.transaction_status = "T" if self.transaction_status == "E" else self.transaction_status
                return StatementResult(None, tag="ROLLBACK")
            failed = self.transaction_status == "E" or head in ("rollback", "abort")
            self._end_settings(failed)
            self.transaction_status = "I"
            self.cursors = {k: v for k, v in self.cursors.items() if v.hold}
            return StatementResult(None, tag="ROLLBACK" if failed else "COMMIT")
        if head in ("savepoint", "release", "listen", "unlisten", "notify"):
            return StatementResult(None, tag=head.upper())
        if head == "set":
            if words[1:2] != ["transaction"] and words[1:3] != ["session", "characteristics"]:
                self._set(sql)
            return StatementResult(None, tag="SET")
        if head == "reset":
            names = list(DEFAULT_SETTINGS) if words[1:2] in ([], ["all"]) else words[1:2]
            self.settings.update({n: DEFAULT_SETTINGS[n] for n in names if n in DEFAULT_SETTINGS})
            return StatementResult(None, tag="RESET")
        if head == "show":
            names, rows = show(self.settings, sql)
            return StatementResult([ColumnDesc(n, pgtypes.TEXT) for n in names], iter(rows), tag="SHOW")
        if head == "discard":
            self.cursors.clear()
            return StatementResult(None, tag="DISCARD " + (words[1].upper() if len(words) > 1 else "ALL"))
        if head == "deallocate":
            return StatementResult(None, tag="DEALLOCATE ALL" if "all" in words[1:] else "DEALLOCATE")
        if head == "declare":
            return self._declare(sql)
        if head in ("fetch", "move"):
            return self._fetch(sql)
        if head == "close":
            name = unquote(sql.split(None, 1)[1].strip().rstrip(";").strip() if len(sql.split()) > 1 else "")
            if name != "all" and self.cursors.pop(name, None) is None:
                raise PgError("34000", f'cursor "{name}" does not exist')
            self.cursors = {} if name == "all" else self.cursors
            return StatementResult(None, tag="CLOSE CURSOR")
        raise PgError("0A000", f"{head.upper()} is not supported by sqlspapi")

    def _set(self, sql: str) -> None:
        """``SET [SESSION|LOCAL] name = value``: SET LOCAL lasts until the transaction ends (outside one it does
        nothing but say so, as in PostgreSQL)."""
        name, value, local = parse_set(sql)
        value = DEFAULT_SETTINGS.get(name, "") if value is None else setting_value(name, value)
        if local and self.transaction_status == "I":
            self._notices.append("SET LOCAL can only be used in transaction blocks")
            return
        if local:
            self._local_settings.setdefault(name, self.settings.get(name))
        self.settings[name] = value

    def _end_settings(self, rolled_back: bool) -> None:
        """The transaction ends: a rollback restores the settings of BEGIN, a commit those SET LOCAL changed."""
        restore = self._begun_settings if rolled_back else self._local_settings
        if rolled_back and restore:
            self.settings.clear()
        for name, value in restore.items():
            if value is None:
                self.settings.pop(name, None)
            else:
                self.settings[name] = value
        self._begun_settings, self._local_settings = {}, {}

    # ---- cursors ---------------------------------------------------------------------------------------------
    def _declare(self, sql: str) -> StatementResult:
        match = DECLARE_RE.match(sql.strip().rstrip(";"))
        if not match:
            raise PgError("42601", f"syntax error in DECLARE: {sql[:80]!r}")
        name, hold = unquote(match.group(1)), (match.group(2) or "").lower() == "with"
        if not hold and self.transaction_status == "I":
            raise PgError("25P01", "DECLARE CURSOR can only be used in transaction blocks")
        if name in self.cursors:
            raise PgError("42P03", f'cursor "{name}" already exists')
        result = self._query(match.group(3), None, None)
        self.cursors[name] = HeldCursor(result.columns, result.rows, hold)
        return StatementResult(None, tag="DECLARE CURSOR")

    def _fetch(self, sql: str) -> StatementResult:
        match = FETCH_RE.match(sql.strip().rstrip(";"))
        if not match:
            raise PgError("42601", f"syntax error in FETCH/MOVE: {sql[:80]!r}")
        verb, how, name = match.group(1).lower(), (match.group(2) or "next").lower(), unquote(match.group(3))
        cursor = self.cursors.get(name)
        if cursor is None:
            raise PgError("34000", f'cursor "{name}" does not exist')
        how = " ".join(how.split())
        if how in ("all", "forward all"):
            count: int | None = None
        elif how in ("next", "forward"):
            count = 1
        elif how.startswith("forward ") or how.isdigit():
            count = int(how.split()[-1])
        else:
            raise PgError("0A000", f"FETCH {how.upper()}: sqlspapi cursors only move forward")
        rows = itertools.islice(cursor.rows, count)
        if verb == "move":
            moved = sum(1 for _ in rows)
            return StatementResult(None, tag=f"MOVE {moved}")
        return StatementResult(cursor.columns, rows, tag=lambda n: f"FETCH {n}")


__all__ = ["ColumnDesc", "StatementResult", "HeldCursor", "ServerStatements", "unquote", "DECLARE_RE", "FETCH_RE"]
