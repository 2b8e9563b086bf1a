"""Pushdown rules as data: each fixture block is SQL and the exact SP-API calls it must cause (sqlglot style).

The calls are read from the client's call log after running the SQL against the emulator, so the test checks
what a user pays for: which operations, with which parameters, and how many. Fixture files are discovered
(``tests/fixtures/pushdown/*.txt``); a file's ``# connection: Key=Value;…`` header line says which connection
keys (API versions, marketplaces) its SQL runs with — there is no hand-kept map of files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator import start
from sqlspapi.engine import open_database

FIXTURES = Path(__file__).parent / "fixtures" / "pushdown"
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
PAGING = {"NextToken", "paginationToken", "nextToken", "pageToken"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Case:
    file: str
    title: str
    sql: str
    expected: list[str]
    connection: str = ""


def connection_of(path: Path) -> str:
    """The ``# connection: …`` header of a fixture file ("" = the default connection)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# connection:"):
            return line.split(":", 1)[1].strip()
    return ""


def read_cases(path: Path) -> Iterator[Case]:
    title = ""
    connection = connection_of(path)
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        comments = [ln for ln in lines if ln.startswith("#")]
        body = [ln for ln in lines if not ln.startswith("#")]
        if comments:
            title = comments[-1].lstrip("# ")
        if not body:
            continue
        yield Case(path.stem, title, body[0], [] if body[1:] == ["(none)"] else body[1:], connection)


CASES = [case for p in sorted(FIXTURES.glob("*.txt")) for case in read_cases(p)]
#: Operations whose path carries parameters: the rendered call shows the path.
PATH_OPERATIONS = {op.name for s in load_all() for op in s.operations.values() if "{" in op.path}


def relative(value: str, now: datetime) -> str:
    """Show a timestamp near a round look-back from now as now-Nd / now-2m (fixture notation)."""
    if not ISO.match(value):
        return value
    ts = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    delta = (now - ts).total_seconds()
    if abs(delta - 150) < 60:  # the engine reads its clock to the minute
        return "now-2m"
    days = round(delta / 86400)
    if days > 0 and abs(delta - days * 86400) < 300:
        return f"now-{days}d"
    return value


def render(record, marketplaces: str, now: datetime, lookback: str = "") -> str:
    """One call log record in fixture notation."""
    parts = [record.operation]
    if record.operation in PATH_OPERATIONS and "{" not in record.path:
        parts.append(record.path)
    paged = False
    for key in sorted(record.params):
        value = record.params[key]
        if key in PAGING:
            paged = True
            continue
        value = ",".join(value) if isinstance(value, list) else str(value)
        if value == marketplaces:
            value = "<all>"
        elif lookback and value == lookback:
            value = "<lookback>"
        parts.append(f"{key}={relative(value, now)}")
    return " ".join(parts) + (" +next" if paged else "")


def matches(actual: list[str], expected: list[str]) -> bool:
    i = 0
    for line in expected:
        if line.endswith(" +next*"):
            base = line[: -len("*")]
            while i < len(actual) and actual[i] == base:
                i += 1
            continue
        if line.startswith("error: ") and i < len(actual) and actual[i].startswith(line):
            i += 1
            continue
        if i >= len(actual) or actual[i] != line:
            return False
        i += 1
    return i == len(actual)


@pytest.fixture(scope="module")
def emulator():
    emu = start(time_scale=5000, anchor=ANCHOR)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def databases(emulator):
    """One database per connection header, opened on first use."""
    opened: dict[str, tuple] = {}

    def get(connection: str):
        if connection not in opened:
            keys = dict(kv.split("=", 1) for kv in connection.split(";") if kv.strip())
            db = open_database(emulator.connection_string(**keys))
            opened[connection] = (db, ",".join(db.marketplace_ids()))
        return opened[connection]

    yield get
    for db, _ in opened.values():
        db.close()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.title[:50]}:{i}" for i, c in enumerate(CASES)])
def test_pushdown(case: Case, databases) -> None:
    db, marketplaces = databases(case.connection)
    try:
        db.connection.execute(case.sql).fetchall()
        error = None
    except Exception as exc:  # an expected error is part of the fixture: "error: <start of the message>"
        error = f"error: {type(exc).__name__}: {exc}"
    now = datetime.now(UTC)
    lookback = db._bind_context().connection.get("lookbackInterval", "")
    actual = [render(r, marketplaces, now, lookback) for r in db.last_calls()]
    if error:
        actual.append(error)
    assert matches(actual, case.expected), (
        f"\n{case.title}\nSQL: {case.sql}\nexpected:\n  " + "\n  ".join(case.expected or ["(none)"])
        + "\nactual:\n  " + "\n  ".join(actual or ["(none)"]))


def test_fixture_files_are_read() -> None:
    assert len(CASES) >= 30
    assert {c.file for c in CASES} >= {p.stem for p in FIXTURES.glob("*.txt")}
