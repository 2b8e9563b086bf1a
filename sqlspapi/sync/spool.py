"""The spool: one account's read of a table (or group), on disk until the read succeeded.

Rows wait in a temporary SQLite file (the stdlib :mod:`sqlite3`; rows pickled, with their table, unit and the
statement that read them) and are handed to dlt only after every statement of the account's read succeeded: a
failing account writes nothing of the table (a snapshot is never partial), rows read again within the overlap wait
on disk (memory stays flat however many rows), and of a unit several statements gave only the rows of the first
statement are written. The file is removed when the spool closes, whatever happened.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Spool"]


class Spool:
    """A temporary on-disk store of rows: :meth:`add` them, mark the units not to write (:meth:`skip`), read them back
    in batches (:meth:`batches`); :meth:`close` (or leaving the ``with`` block) removes the file."""

    def __init__(self) -> None:
        handle, self.path = tempfile.mkstemp(prefix="sqlspapi-sync-", suffix=".sqlite")
        os.close(handle)
        # written by the thread reading an account, then read by the one handing the rows to dlt (never both at once)
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None,
                                                              check_same_thread=False)
        self._db.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE; BEGIN;
            CREATE TABLE rows (seq INTEGER PRIMARY KEY, tbl INTEGER, unit TEXT, stmt INTEGER, data BLOB);
            CREATE TABLE units (tbl INTEGER, unit TEXT, stmt INTEGER, skip INTEGER DEFAULT 0,
                                PRIMARY KEY (tbl, unit)) WITHOUT ROWID;""")

    @property
    def db(self) -> sqlite3.Connection:
        """The open SQLite connection (an error once closed)."""
        if self._db is None:
            raise ValueError("the spool is closed")
        return self._db

    def add(self, table: int, rows: Iterable[tuple[str, int, dict[str, Any]]]) -> None:
        """Rows (unit, statement, row) of the group's ``table``-th member; a unit's first statement is the one kept."""
        items = [(table, unit, stmt, pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)) for unit, stmt, row in rows]
        self.db.executemany("INSERT INTO rows (tbl, unit, stmt, data) VALUES (?, ?, ?, ?)", items)
        self.db.executemany("INSERT OR IGNORE INTO units (tbl, unit, stmt) VALUES (?, ?, ?)",
                            [item[:3] for item in items])

    def skip(self, table: int, units: Iterable[tuple[str, int]]) -> None:
        """Do not write these (unit, first statement) of ``table``."""
        self.db.executemany("UPDATE units SET skip = 1 WHERE tbl = ? AND unit = ? AND stmt = ?",
                            [(table, unit, stmt) for unit, stmt in units])

    def batches(self, table: int, size: int) -> Iterator[list[dict[str, Any]]]:
        """The rows of ``table`` to write, in the order read, ``size`` at a time: of each unit those of the first
        statement that gave it, but for the units skipped."""
        last = 0
        while True:
            found = self.db.execute(
                "SELECT r.seq, r.data FROM rows r JOIN units u ON u.tbl = r.tbl AND u.unit = r.unit "
                "AND u.stmt = r.stmt WHERE r.tbl = ? AND r.seq > ? AND u.skip = 0 ORDER BY r.seq LIMIT ?",
                (table, last, size)).fetchall()
            if not found:
                return
            last = found[-1][0]
            yield [pickle.loads(data) for _, data in found]

    def close(self) -> None:
        """Close and remove the file (again: nothing)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if os.path.exists(self.path):
            os.remove(self.path)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
