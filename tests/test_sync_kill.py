"""``kill -9`` at any moment, then a re-run: the DuckDB mirror loses nothing and duplicates nothing.

A real ``sqlspapi sync`` process (the console script) mirrors ``orders`` and ``order_items`` of a small emulator (in
a child process of its own, ``benchmarks/emuproc.py``) into a DuckDB file, and is killed with SIGKILL at seeded
random moments, again and again (at least :data:`KILLS` times: in the middle of reading, normalising, loading or
committing); the runs that finish before their moment finish as usual. Then one run is left to end, and the mirror
must hold exactly the emulator's data: every order once, each order's items as the emulator has them.

The kill moments are drawn from the length of one complete sync measured first (into a scratch mirror), so they
spread over a whole run; nothing is asserted about times.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

import pytest

import sqlspapi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from emuproc import EmulatorProcess  # noqa: E402 (benchmarks/ is not a package)

SQLSPAPI = Path(sys.executable).parent / "sqlspapi"
#: How many runs must really be killed (a run that ends before its moment does not count).
KILLS = 20
SEED = 20260101
#: A small seller (two years of orders in five marketplaces): each run is short, so twenty kills fit in well under a
#: minute.
ORDERS = 1000
TABLES = ("orders", "order_items")
#: How far back the mirror reaches (--since): the history before the overlap comes through the order reports (one
#: per marketplace and 30 days).
DAYS = 120
#: The emulator's clock speed-up; the syncs poll its reports on the same clock (SQLSPAPI_POLL_SCALE).
TIME_SCALE = 5000


def environment() -> dict[str, str]:
    """The environment of a sync process: this test's, with report polls on the emulator's clock."""
    return {**os.environ, "SQLSPAPI_POLL_SCALE": repr(1 / TIME_SCALE)}


def since() -> str:
    """The ``--since`` date of every run: :data:`DAYS` ago."""
    return (datetime.now(UTC) - timedelta(days=DAYS)).strftime("%Y-%m-%d")


def sync_argv(connection: str, folder: Path) -> list[str]:
    """``sqlspapi sync`` of :data:`TABLES` into ``folder/mirror.duckdb`` (its dlt state in ``folder/pipelines``)."""
    return [str(SQLSPAPI), "sync", connection, "--tables", ",".join(TABLES), "--destination", "duckdb",
            "--credentials", str(folder / "mirror.duckdb"), "--pipelines-dir", str(folder / "pipelines"),
            "--since", since(), "--no-progress"]


def run_to_end(argv: list[str]) -> None:
    """Run a sync that is not killed: it must exit 0."""
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
                          env=environment())
    assert done.returncode == 0, f"sqlspapi sync exited {done.returncode}:\n{done.stderr[-3000:]}"


def emulator_data(connection: str) -> tuple[Counter[str], Counter[tuple[str, str, int]]]:
    """What the emulator holds for the mirrored window, read through sqlspapi (the API route): the order ids, and
    each order's items as (order id, SKU, quantity), each with how often it occurs."""
    window = f"o.lastUpdatedTime >= '{since()}'"
    with sqlspapi.connect(connection + ";Route=api;LookbackDays=all;MaxCallsPerStatement=0") as conn:
        orders = Counter(row[0] for row in conn.execute(f"SELECT o.orderId FROM orders o WHERE {window}"))
        items = Counter((row[0], row[1], row[2]) for row in conn.execute(
            "SELECT i.orderId, i.product_sellerSku, i.quantityOrdered FROM orders o "
            f"JOIN order_items i ON i.orderId = o.orderId WHERE {window}"))
    return orders, items


def mirror_data(path: Path) -> tuple[Counter[str], Counter[tuple[str, str, int]]]:
    """The same from the DuckDB mirror (dlt's snake_case column names, the ``sqlspapi`` dataset)."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as db:
        orders = Counter(row[0] for row in db.execute("SELECT order_id FROM sqlspapi.orders").fetchall())
        items = Counter((row[0], row[1], row[2]) for row in db.execute(
            "SELECT order_id, product_seller_sku, quantity_ordered FROM sqlspapi.order_items").fetchall())
    return orders, items


@pytest.fixture(scope="module")
def emulator():
    """A small emulator in a child process, fast enough that one sync takes a few seconds."""
    with EmulatorProcess(orders=ORDERS, time_scale=TIME_SCALE) as emu:
        yield emu


def test_kill_9_at_random_moments_then_a_rerun_loses_and_duplicates_nothing(emulator, tmp_path: Path) -> None:
    connection = emulator.connection_string()
    scratch = tmp_path / "scratch"
    started = perf_counter()
    run_to_end(sync_argv(connection, scratch))  # how long one complete first run takes here: the kills' range
    whole = perf_counter() - started

    rng = random.Random(SEED)
    argv = sync_argv(connection, tmp_path / "mirror")
    kills = runs = 0
    while kills < KILLS and runs < 3 * KILLS:
        runs += 1
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, start_new_session=True, env=environment(), text=True)
        try:
            _, err = process.communicate(timeout=rng.uniform(0.0, whole))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the sync and anything it started: its own process group
            process.communicate()
            kills += 1
            continue
        assert process.returncode == 0, f"a sync that was not killed exited {process.returncode}:\n{err[-3000:]}"
    assert kills >= KILLS, f"only {kills} of {runs} runs were still running at their kill moment"

    run_to_end(argv)
    mirror_orders, mirror_items = mirror_data(tmp_path / "mirror" / "mirror.duckdb")
    orders, items = emulator_data(connection)
    assert orders and all(n == 1 for n in orders.values())
    duplicated = sorted(key for key, n in mirror_orders.items() if n > 1)
    assert not duplicated, f"orders mirrored more than once: {duplicated[:10]}"
    missing, extra = sorted(set(orders) - set(mirror_orders)), sorted(set(mirror_orders) - set(orders))
    assert not missing and not extra, f"missing: {missing[:10]}, extra: {extra[:10]}"
    assert mirror_items == items
