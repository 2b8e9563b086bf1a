"""Rate limits shared across processes (issue 11 §6): the ``RateLimitStore`` SQLite file of token buckets.

Two real processes scan the same account on one emulator at once: with the shared store (the default) Amazon's
quota is split between them and the emulator answers no 429; with ``RateLimitStore=memory`` each believes it owns
the whole burst and the emulator answers 429s (the test can fail). Then the store itself: several threads over two
connections never overspend, a learned rate and a 429 hold for every process, old rows are pruned, the file is
0600 in a 0700 folder, and a store that cannot be used leaves a warning and queries that still work.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sqlspapi
from sqlspapi import emulator
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.http.bucketstore import FILE_NAME, PRUNE_SECONDS, BucketStore, store_path
from sqlspapi.http.ratelimit import Limiter
from sqlspapi.http.runtime import reset_runtimes, runtime_for
from sqlspapi.settings.connstr import parse

ORDERS = 2000  # 20 getOrders pages of 100 per process: together twice the burst of 20
SCALE = 500.0  # getOrders at 0.0167 x 500 = 8.35 requests per second
GET_ORDERS_RATE, GET_ORDERS_BURST = 0.0167, 20
SCAN = "SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'"
KEYS = {"OrdersApiVersion": "v0", "MarketplaceIds": "US,CA,DE,UK,JP", "Route": "api",
        # memory buckets: two processes each paced at the full rate meet 429s again and again; retry enough
        "RetryWaitTimeMs": "20", "RetryMultiplyWaitTime": "false", "RetryCountMax": "20"}

# One process: connect, say so, wait for the go line (both scan at once), scan, print the count.
CHILD = """
import json, sys
import sqlspapi
cn = sqlspapi.connect(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps({"count": cn.execute(sys.argv[2]).fetchone()[0]}), flush=True)
"""


@pytest.fixture(scope="module")
def emu():
    """One emulator for the module, its usage plans 500 times faster."""
    server = emulator.start(orders=ORDERS, time_scale=SCALE)
    yield server
    server.stop()


@pytest.fixture()
def fresh(emu):
    """An emulator as if just started (full buckets, empty call log) and this process as if new."""
    emu.reset_limits()
    emu.calls.clear()
    reset_runtimes()
    yield emu
    reset_runtimes()


def scan_in_two_processes(emu, **keys: str) -> list[int]:
    """Run the scan in two child processes started together; each one's count."""
    text = emu.connection_string(**KEYS, **keys)
    children = [subprocess.Popen([sys.executable, "-c", CHILD, text, SCAN], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [json.loads(out.strip().splitlines()[-1])["count"] for out, _err in outputs]


def test_two_processes_share_the_quota_and_meet_no_429(fresh, private_report_cache):
    counts = scan_in_two_processes(fresh)
    assert counts == [ORDERS, ORDERS]
    assert fresh.calls.count("getOrders", status=200) == 2 * ORDERS // 100  # more than the burst: paced together
    assert fresh.calls.count(status=429) == 0
    path = private_report_cache / FILE_NAME  # the default store: in the user cache directory
    rows = {row.operation: row for row in BucketStore(path).rows()}
    assert rows["getOrders"].rate == pytest.approx(GET_ORDERS_RATE * SCALE)  # the rate learned from the header
    assert rows["getOrders"].burst == GET_ORDERS_BURST


def test_with_memory_buckets_each_process_spends_the_whole_burst_and_meets_429(fresh, private_report_cache):
    counts = scan_in_two_processes(fresh, RateLimitStore="memory")
    assert counts == [ORDERS, ORDERS]  # the client retried the 429s
    assert fresh.calls.count("getOrders", status=429) > 0
    assert not (private_report_cache / FILE_NAME).exists()


# ---------------------------------------------------------------- the store itself

def test_threads_of_two_connections_never_overspend(tmp_path):
    rate, burst = 200.0, 5
    stores = [BucketStore(tmp_path / FILE_NAME), BucketStore(tmp_path / FILE_NAME)]  # as two processes would
    buckets = [store.bucket("acct", "getOrders", rate, burst) for store in stores]
    taken: list[tuple[float, float]] = []
    lock = threading.Lock()
    start = time.time()

    def worker(bucket) -> None:
        for _ in range(40):
            wait = bucket.reserve()
            with lock:
                taken.append((time.time(), wait))

    threads = [threading.Thread(target=worker, args=(buckets[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 240
    # By any moment, no more calls were allowed to go than the burst plus the refill since the start.
    sends = sorted(returned + wait for returned, wait in taken)
    for k, send in enumerate(sends, start=1):
        assert k <= burst + (send - start) * rate + 1e-6
    at_once = sum(1 for _t, wait in taken if wait == 0)
    assert at_once <= burst + (max(t for t, _w in taken) - start) * rate + 1e-6


def test_a_learned_rate_and_a_429_hold_for_every_process(tmp_path):
    mine = BucketStore(tmp_path / FILE_NAME).bucket("acct", "getOrders", 0.0167, 20)
    theirs = BucketStore(tmp_path / FILE_NAME).bucket("acct", "getOrders", 0.0167, 20)
    assert theirs.tokens == 20
    assert mine.observe_limit_header("8.35")
    assert theirs.rate == pytest.approx(8.35)
    assert not theirs.observe_limit_header("8.35")
    mine.drain()
    assert theirs.tokens < 1
    assert theirs.reserve() > 0
    mine.refund()
    assert theirs.seconds_for(0) == 0 and theirs.seconds_for(10) > 0


def test_limiter_with_a_store_keeps_each_accounts_rows_and_reset_forgets_them(tmp_path):
    store = BucketStore(tmp_path / FILE_NAME)
    op = OperationSpec("getOrders", "orders", "", "GET", "/orders/v0/orders", 0.0167, 20)
    mine, theirs = Limiter(store=store, account="a" * 64), Limiter(store=store, account="b" * 64)
    mine.bucket(op).reserve()
    theirs.bucket(op).reserve()
    assert mine.bucket(op) is mine.bucket(op)
    assert [(row.account[0], row.operation, row.tokens) for row in store.rows()] == [
        ("a", "getOrders", pytest.approx(19, abs=0.01)), ("b", "getOrders", pytest.approx(19, abs=0.01))]
    mine.reset()
    assert [row.account[0] for row in store.rows()] == ["b"]
    assert "a" * 64 not in repr(mine) + repr(mine.bucket(op))


def test_rows_not_touched_for_a_day_are_pruned_when_a_store_opens(tmp_path):
    path = tmp_path / FILE_NAME
    BucketStore(path, clock=lambda: time.time() - PRUNE_SECONDS - 60).bucket("acct", "old", 1.0, 1).reserve()
    BucketStore(path).bucket("acct", "new", 1.0, 1).reserve()
    assert [row.operation for row in BucketStore(path).rows()] == ["new"]


def test_the_file_is_0600_in_a_0700_folder(tmp_path):
    path = tmp_path / "made" / "by" / "sqlspapi" / FILE_NAME
    BucketStore(path).bucket("acct", "getOrders", 1.0, 1).reserve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in path.parent.glob(FILE_NAME + "-*"):  # the WAL and shared-memory files take the file's mode
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0
    loose = tmp_path / "loose.sqlite"
    loose.write_bytes(b"")
    os.chmod(loose, 0o644)
    BucketStore(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_store_path_reads_the_setting(private_report_cache):
    assert store_path(None) == private_report_cache / FILE_NAME
    assert store_path("memory") is None and store_path("Memory") is None and store_path("") is None
    assert store_path("/x/y.sqlite") == Path("/x/y.sqlite")
    settings = parse("ClientId=a;ClientSecret=b;RefreshToken=c;RateLimitStore=memory")
    reset_runtimes()
    try:
        assert runtime_for(settings).limiter.store is None
    finally:
        reset_runtimes()


# ---------------------------------------------------------------- a store that cannot be used

def unusable_stores(tmp_path: Path) -> list[Path]:
    """A store under a regular file (as a read-only home: the folder cannot be made, even by root) and a file that
    is not a database."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database file, and never was " * 100)
    return [blocker / FILE_NAME, broken]


@pytest.mark.parametrize("which", [0, 1], ids=["folder cannot be made", "not a database"])
def test_an_unusable_store_warns_once_and_queries_still_work(fresh, tmp_path, caplog, which):
    path = unusable_stores(tmp_path)[which]
    caplog.set_level(logging.WARNING, logger="sqlspapi.http.bucketstore")
    with sqlspapi.connect(fresh.connection_string(**KEYS, RateLimitStore=str(path))) as cn:
        assert cn.execute(SCAN).fetchone()[0] == ORDERS
        assert len(cn.execute("SELECT AmazonOrderId FROM orders LIMIT 3").fetchall()) == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "sqlspapi.http.bucketstore"]
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "RateLimitStore" in warnings[0] and "\n" not in warnings[0]
    assert emulator.DEMO_REFRESH_TOKEN not in warnings[0]


def test_a_store_locked_past_its_timeout_warns_and_goes_on_in_memory_from_the_state_it_saw(tmp_path, caplog):
    store = BucketStore(tmp_path / FILE_NAME, timeout=0.05)
    bucket = store.bucket("acct", "getOrders", 2.0, 3)
    bucket.reserve()
    bucket.observe_limit_header("4")
    other = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock longer than the store waits
    caplog.set_level(logging.WARNING, logger="sqlspapi.http.bucketstore")
    try:
        assert bucket.reserve() == 0  # 2 tokens were left
        assert bucket.rate == 4 and bucket.burst == 3
        assert "memory" in repr(bucket)
        store.bucket("acct", "getOrder", 1.0, 1).reserve()  # the store's other buckets too, without a new warning
    finally:
        other.execute("ROLLBACK")
        other.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "sqlspapi.http.bucketstore"]
    assert len(warnings) == 1 and str(tmp_path / FILE_NAME) in warnings[0] and "locked" in warnings[0]
