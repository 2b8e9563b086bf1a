"""Differential tests: the same SQL with pushdown and over a plain SQLite copy of the emulator's full data agree.

For every pushdown fixture (tests/fixtures/pushdown/*.txt, with its connection header), the SQL runs twice: once
on sqlspapi's virtual tables (filters reach the API, LIMIT sizes pages, IN lists are batched, rows stream through
hooks) and once on ordinary SQLite tables filled from ``Emulator.export`` — every row the API could return, built
into columns by the same definitions. Any filter declared exact that the API does not apply exactly, any page or
batch lost, any wrong window shows up as a difference (sqlglot's optimised == unoptimised, for an API).

Cases are compared as multisets; a LIMIT without ORDER BY may pick any rows, so there the pushdown answer must be a
sub-multiset of the plain answer of the right size. Not comparable, and skipped with the reason: SQL whose answer
depends on a default window (no date filter: the scan covers the last LookbackDays days, which the user is told),
on hidden inputs the API computes (keyword search, order metrics), or that expects an error.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import apsw
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_pushdown as tp  # noqa: E402

from sqlspapi.definitions.schema import BatchSpec, NestedSpec, TableSpec  # noqa: E402
from sqlspapi.emulator import start  # noqa: E402
from sqlspapi.engine import open_database  # noqa: E402
from sqlspapi.sql import isotime  # noqa: E402
from sqlspapi.sql.hooks import load_function  # noqa: E402
from sqlspapi.sql.plan import Request  # noqa: E402
from sqlspapi.sql.routes.batch import sub_rows  # noqa: E402
from sqlspapi.sql.rows import as_rows, dig, row_builder  # noqa: E402

CASES = [c for c in tp.CASES if not any(line.startswith("error: ") for line in c.expected)]


@pytest.fixture(scope="module")
def emulator():
    emu = start(time_scale=1e6, anchor=tp.ANCHOR)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def pair(emulator):
    """(pushdown database, plain SQLite copy) per connection header, built on first use."""
    built: dict[str, tuple] = {}

    def get(connection: str):
        if connection not in built:
            keys = dict(kv.split("=", 1) for kv in connection.split(";") if kv.strip())
            db = open_database(emulator.connection_string(**keys))
            used = {t.name for t in db.tables() for c in CASES
                    if c.connection == connection and re.search(rf"\b{t.name}\b", c.sql)}
            built[connection] = (db, plain_copy(db, emulator, used))
        return built[connection]

    yield get
    for db, plain in built.values():
        db.close()
        plain.close()


def _camel(part: str) -> str:
    first, *rest = part.lower().split("_")
    return first + "".join(w.title() for w in rest)


def _strip_parts(obj: dict, query: dict, asked: object) -> dict:
    """Keep only the includedData parts the route asks for (the export holds every part)."""
    exported = query.get("includedData")
    if not exported or not isinstance(asked, list):
        return obj
    dropped = {_camel(p) for p in exported} - {_camel(p) for p in asked}
    return {k: v for k, v in obj.items() if k not in dropped}


def table_rows(table: TableSpec, db, emulator) -> list[list]:
    """Every row the table could return on this connection, from the emulator's export, built like the engine."""
    markets = set(db.marketplace_ids())
    build = row_builder(table.columns, None, db.scope.connection)
    hook = load_function(table.hook) if table.hook else (lambda obj, _req: [obj])
    nested = table.nested
    source = db._entity_source(table) if isinstance(nested, NestedSpec) else table
    spec = source.list or source.get or source.route("batch")
    assert spec is not None and spec.operation is not None
    asked = dict(spec.params)
    if db.settings.include_restricted_data:
        asked.update({k: asked.get(k, []) + v for k, v in spec.restricted_params.items()})
    out = []
    for obj, query, path in emulator.export(spec.operation.name, table.version):
        mp = query.get("marketplaceIds") or query.get("MarketplaceIds")
        if mp and not set(mp) <= markets:
            continue
        obj = _strip_parts(obj, query, asked.get("includedData"))
        request = Request(spec.operation, path, query)
        if isinstance(spec, BatchSpec):  # a sub-response, exported with its sub-request's inputs as the query
            out += [build(shaped, request, inputs) for row, inputs in sub_rows(spec, obj, query)
                    for shaped in hook(row, request)]
            continue
        if nested is not None:
            for item in as_rows(dig(obj, nested.items)):
                out.append(build(item, None, obj))
            continue
        for shaped in hook(obj, request):
            out.append(build(shaped, request, None))
    return out


def plain_copy(db, emulator, names: set[str] | None = None) -> apsw.Connection:
    """Ordinary SQLite tables with the same names, columns and collations, holding the full data (only the tables
    ``names`` lists, when given: the ones this connection's cases read)."""
    plain = apsw.Connection(":memory:")
    isotime.register(plain)
    for table in db.tables():
        if names is not None and table.name not in names:
            continue
        if table.route("python") or table.route("report") or table.route("document"):
            continue  # rows computed in Python, or read from report / query documents (compared in their own tests)
        try:
            rows = table_rows(table, db, emulator) if not table.restricted or db.settings.include_restricted_data \
                else []
        except ValueError:
            continue  # no export: the API computes the rows (order metrics)
        keep = [i for i, c in enumerate(table.columns) if not c.hidden]  # inputs are not data
        cols = ", ".join(table.columns[i].declaration for i in keep)
        plain.execute(f'CREATE TABLE "{table.name}"({cols})')
        marks = ", ".join("?" * len(keep))
        with plain:
            plain.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', ([r[i] for i in keep] for r in rows))
    return plain


def load_all_tables() -> list:
    """Every table of every definition."""
    from sqlspapi.definitions.loader import load_all

    return [t for section in load_all() for t in section.tables.values()]


def _skip_reason(case: tp.Case, db) -> str | None:
    if re.search(r"\w+\s*\(\s*'", case.sql) and re.search(r"FROM\s+\w+\s*\(", case.sql):
        return "a table-valued-function input is computed by the API"
    hidden = {c.name.lower() for t in db.tables() if re.search(rf"\b{t.name}\b", case.sql)
              for c in t.columns if c.hidden}
    where = case.sql.lower().split(" where ", 1)[1] if " where " in case.sql.lower() else ""
    if any(re.search(rf"\b{name}\s*=", where) for name in hidden):
        return "a hidden input is computed by the API"
    if re.search(r"\breports?\b|\breport_schedules\b", case.sql):
        return ("the account's reports and schedules are state the emulator builds over time, not exportable data "
                "(tests/test_emulator_reports.py checks getReports against the store)")
    if any(t.route("document") for t in db.tables() if re.search(rf"\b{t.name}\b", case.sql)):
        return "Data Kiosk tables read query documents, not exported rows (tests/test_datakiosk_tables.py)"
    if "order_metrics" in case.sql:
        return "order metrics are computed by the API (tests/test_emulator_apis.py checks them against the orders)"
    if any("=now-" in line for line in db.explain(case.sql)):
        return "a default window applies (the scan covers the last LookbackDays days)"
    return None


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.title[:50]}:{i}" for i, c in enumerate(CASES)])
def test_pushdown_equals_plain_sqlite(case: tp.Case, pair) -> None:
    db, plain = pair(case.connection)
    reason = _skip_reason(case, db)
    if reason:
        pytest.skip(reason)
    pushed = Counter(map(repr, db.connection.execute(case.sql).fetchall()))
    full = Counter(map(repr, plain.execute(case.sql).fetchall()))
    sql = case.sql.upper()
    if " LIMIT " in sql and " ORDER BY " not in sql:
        assert sum(pushed.values()) == min(sum(full.values()), sum(pushed.values()))
        assert not pushed - full, f"{case.sql}: rows the full data does not have: {list(pushed - full)[:3]}"
    else:
        assert pushed == full, (f"{case.sql}\nonly with pushdown: {list((pushed - full).elements())[:3]}"
                                f"\nonly in the plain copy: {list((full - pushed).elements())[:3]}")


def test_every_table_is_compared_somewhere(pair) -> None:
    """Each table of the fixture connections is compared by some case, or its rows are computed by the API."""
    compared: set[str] = set()
    tables: set[str] = set()
    for case in CASES:
        db, _plain = pair(case.connection)
        tables |= {t.name for t in db.tables()}
        if _skip_reason(case, db) is None:
            compared |= {t.name for t in db.tables() if re.search(rf"\b{t.name}\b", case.sql)}
    # API-computed rows, or the account's report state; checked in their own tests. Report tables read documents
    # (tests/test_report_tables.py compares them with the API tables, tests/test_report_lifecycle.py their inputs).
    computed = {"order_metrics", "spapi_request", "reports", "report_schedules"}
    computed |= {t.name for t in load_all_tables() if any(r.kind in ("report", "document") for r in t.routes)}
    # A batch table keyed by a hidden input (fees_estimates) answers what its inputs ask: no data to copy.
    computed |= {t.name for t in load_all_tables() if isinstance(b := t.route("batch"), BatchSpec)
                 and t.columns[t.column_index(b.column)].hidden}
    missing = tables - compared - computed
    assert not missing, f"tables no differential case compares: {sorted(missing)}"
