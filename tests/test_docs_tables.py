"""The generated table reference and the documented queries: docs that cannot rot.

- ``docs/tables/*.md`` equal what :mod:`sqlspapi.definitions.docgen` renders from the definitions now;
- every table's ``example`` runs against the emulator (at the table's API version) and returns rows;
- every ```` ```sql ```` block of ``docs/adding-an-api.md`` runs and returns rows, and its ```` ```toml ````
  blocks are quoted verbatim from ``vtables/fba-inventory-v1.toml``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlspapi.definitions import docgen
from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator import start
from sqlspapi.emulator.sellers import SELLER_ID
from sqlspapi.engine import open_database
from sqlspapi.interfaces.cli import main

ROOT = Path(__file__).resolve().parent.parent
TABLES_DIR = ROOT / "docs" / "tables"
GUIDE = ROOT / "docs" / "adding-an-api.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.S)
KEYS_LINE = re.compile(r"^--\s*connection:\s*(.+)$", re.M)

TABLES = [(section, table) for section in load_all() for table in section.tables.values()]


def guide_blocks() -> list[str]:
    """The SQL blocks of the adding-an-API guide, in order."""
    return [block.strip() for block in SQL_BLOCK.findall(GUIDE.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def emulator():
    """One emulator for the module, fast enough that usage plans do not slow the examples down."""
    emu = start(time_scale=5000)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def database(emulator):
    """A Database per set of connection keys (opened on first use, closed at the end of the module)."""
    opened: dict[tuple[tuple[str, str], ...], object] = {}

    def get(**keys: str):
        key = tuple(sorted(keys.items()))
        if key not in opened:
            opened[key] = open_database(emulator.connection_string(**{"SellerId": SELLER_ID, **keys}),
                                        poll_scale=1 / emulator.time_scale)  # as the demo
        return opened[key]

    yield get
    for db in opened.values():
        db.close()


def rows_of(db, sql: str) -> list[tuple]:
    """Every row of the statement's result."""
    return list(db.connection.execute(sql))


# ----------------------------------------------------------------------------------------------- staleness


def test_docs_tables_are_fresh() -> None:
    stale = docgen.check_all(TABLES_DIR)
    assert not stale, f"{docgen.STALE_MESSAGE}; stale: {', '.join(stale)}"


def test_every_definition_file_has_a_page_and_an_index_entry() -> None:
    index = docgen.pages()[docgen.INDEX]
    for section in load_all():
        name = docgen.page_name(section)
        assert (TABLES_DIR / name).is_file(), name
        assert f"]({name})" in index
        for table in section.tables:
            assert f"]({name}#{table})" in index


def test_docs_command_writes_then_checks(tmp_path: Path, capsys) -> None:
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 1
    assert docgen.STALE_MESSAGE in capsys.readouterr().err
    (tmp_path / "dropped-api.md").write_text("an API no definition gives any more\n", encoding="utf-8")
    assert main(["docs", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.md")) == sorted(docgen.pages())
    assert main(["docs", "--check", "--out", str(tmp_path)]) == 0


def test_pages_show_versions_sources_and_pushdown() -> None:
    pages = docgen.pages()
    fba = pages["fba-inventory-v1.md"]
    assert "`FbaApiVersion=v1`" in fba
    assert "the call's marketplaceIds" in fba
    assert "`sellerSkus` of getInventorySummaries | IN lists split into calls of at most 50 values" in fba
    assert "| `lastUpdatedTime` | `>` `>=` | `startDateTime` of getInventorySummaries |" in fba
    assert "`granularityId` = the call's `marketplaceIds`" in fba
    assert "| getInventorySummaries | GET `/fba/inventory/v1/summaries` | 2/s | 2 |" in fba
    v0 = pages["orders-v0.md"]
    assert "`OrdersApiVersion=v0` in the connection string (the default is `2026-01-01`)" in v0
    assert "| `AmazonOrderId` | TEXT |  | The order these items belong to | path parameter orderId |" in v0
    assert "| `PurchaseDate` | TIME |" in v0 and "| `PaymentMethodDetails` | JSON |" in v0
    assert "| `orderId` | TEXT |  | The order these items belong to | parent field orderId |" \
        in pages["orders-2026-01-01.md"]
    assert "hidden input" in pages["generic.md"] and "`spapi_request(method, path, query, body, json_path)`" \
        in pages["generic.md"]


# ------------------------------------------------------------------------------------------ example queries


@pytest.mark.parametrize(("section", "table"), TABLES,
                         ids=[f"{docgen.page_name(s)[:-3]}:{t.name}" for s, t in TABLES])
def test_table_example_runs(section, table, database) -> None:
    if not table.example:
        pytest.skip(f"{table.name} ({section.source}) has no example query")
    keys = {section.version_key: section.version} if section.version_key else {}
    if table.restricted:
        keys["IncludeRestrictedData"] = "true"
    rows = rows_of(database(**keys), table.example)
    assert rows, f"{section.source}: the example of {table.name} returned no rows: {table.example}"


@pytest.mark.parametrize("index", range(len(guide_blocks())))
def test_adding_an_api_examples_run(index: int, database) -> None:
    sql = guide_blocks()[index]
    found = KEYS_LINE.search(sql)
    keys = dict(pair.split("=", 1) for pair in found[1].split(";")) if found else {}
    rows = rows_of(database(**keys), sql)
    assert rows, f"docs/adding-an-api.md example {index + 1} returned no rows:\n{sql}"


def test_adding_an_api_has_examples() -> None:
    assert len(guide_blocks()) >= 3


def test_adding_an_api_quotes_the_fba_definition_verbatim() -> None:
    definition = (ROOT / "vtables" / "fba-inventory-v1.toml").read_text(encoding="utf-8")
    quotes = TOML_BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert quotes
    for quote in quotes:
        assert quote in definition, f"docs/adding-an-api.md quotes a part of vtables/fba-inventory-v1.toml that " \
                                    f"is no longer there; re-quote it:\n{quote}"
