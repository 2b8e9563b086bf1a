"""``sqlspapi sync`` into a real PostgreSQL server (tests/pg_server.py starts one for this module).

The first run (the console script, as a team would run it) mirrors ``orders`` and ``order_items`` of the emulator
into the server; what psycopg then reads there must be what the emulator holds for the window, read through sqlspapi
itself. A re-run with nothing new (the Python API this time) costs at most one SP-API call per table and leaves the
mirror as it was: no row doubled by the overlap it re-reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from pg_server import postgres_url  # noqa: F401 (the server fixture)

import sqlspapi
from sqlspapi.emulator import start

SQLSPAPI = Path(sys.executable).parent / "sqlspapi"
TABLES = ["orders", "order_items"]
TIME_SCALE = 5000
SINCE = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%d")
ORDERS_SQL = {
    "emulator": f"SELECT orderId, fulfillment_fulfillmentStatus FROM orders WHERE lastUpdatedTime >= '{SINCE}'",
    "mirror": "SELECT order_id, fulfillment_fulfillment_status FROM sqlspapi.orders",
}
ITEMS_SQL = {
    "emulator": "SELECT i.orderId, i.product_sellerSku, i.quantityOrdered FROM orders o "
                f"JOIN order_items i ON i.orderId = o.orderId WHERE o.lastUpdatedTime >= '{SINCE}'",
    "mirror": "SELECT order_id, product_seller_sku, quantity_ordered FROM sqlspapi.order_items",
}


@pytest.fixture(scope="module")
def emulator():
    """A small, fast emulator for this module."""
    emu = start(orders=400, time_scale=TIME_SCALE)
    yield emu
    emu.stop()


def emulator_rows(emu) -> tuple[Counter, Counter]:
    """The orders (id, status) and items (order id, SKU, quantity) of the window, read through sqlspapi's API route."""
    with sqlspapi.connect(emu.connection_string(Route="api", LookbackDays="all", MaxCallsPerStatement=0)) as conn:
        return (Counter(conn.execute(ORDERS_SQL["emulator"]).fetchall()),
                Counter(conn.execute(ITEMS_SQL["emulator"]).fetchall()))


def mirror_rows(url: str) -> tuple[Counter, Counter]:
    """The same, read from the PostgreSQL mirror with psycopg."""
    with psycopg.connect(url) as conn:
        return (Counter(tuple(row) for row in conn.execute(ORDERS_SQL["mirror"]).fetchall()),
                Counter(tuple(row) for row in conn.execute(ITEMS_SQL["mirror"]).fetchall()))


def test_sync_into_postgresql_then_a_rerun_with_nothing_new(emulator, postgres_url: str,  # noqa: F811
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQLSPAPI_POLL_SCALE", repr(1 / TIME_SCALE))  # report polls on the emulator's clock
    pipelines = tmp_path / "pipelines"
    done = subprocess.run(
        [str(SQLSPAPI), "sync", emulator.connection_string(), "--tables", ",".join(TABLES), "--destination",
         "postgres", "--credentials", postgres_url, "--pipelines-dir", str(pipelines), "--since", SINCE,
         "--no-progress"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
        env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "orders" in done.stdout and "order_items" in done.stdout  # the summary: rows per table
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in done.stdout + done.stderr  # the URL's secret is never shown

    orders, items = emulator_rows(emulator)
    assert orders and items
    mirrored_orders, mirrored_items = mirror_rows(postgres_url)
    assert mirrored_orders == orders
    assert mirrored_items == items
    with psycopg.connect(postgres_url) as conn:
        accounts = conn.execute("SELECT DISTINCT account FROM sqlspapi.orders").fetchall()
        sources = {row[0] for row in conn.execute("SELECT DISTINCT _sqlspapi_source FROM sqlspapi.orders")}
    assert accounts == [("",)]  # a one-account connection
    assert sources <= {"api", "report"} and sources

    from sqlspapi.sync import sync

    summary = sync(emulator.connection_string(), tables=TABLES, destination="postgres", credentials=postgres_url,
                   pipelines_dir=str(pipelines), since=SINCE, progress=False)
    assert not summary.accounts_failed
    assert summary.calls <= len(TABLES), f"a re-run with nothing new made {summary.calls} SP-API calls"
    assert mirror_rows(postgres_url) == (orders, items)
