"""Benchmark: two processes scanning the same account at once share its rate limits (issue 11 §6), printed as ratios.

(a) Two child processes run the same ``orders`` scan (getOrders, ``--pages`` pages each, ``Route=api``) against one
    time-scaled emulator, started together. Printed: their combined wall time / the token-bucket floor of the
    combined work — floor = (getOrders calls answered - burst) / rate, the fastest Amazon's one bucket for the
    account allows — (target <= 1.10) and the 429s the emulator answered (target 0); first with the shared store
    (the default ``RateLimitStore``, a file in a temporary cache directory), then with ``RateLimitStore=memory``
    (each process believes it owns the quota) for comparison. Both must read every order.
(b) The cost of one ``SharedBucket.reserve()`` (one SQLite write transaction) in microseconds: one thread; 8 threads
    sharing the store's one connection (what sqlspapi does); 8 threads with a connection each (the alternative).

The emulator runs Amazon's usage plans ``--time-scale`` times faster and says so in ``x-amzn-RateLimit-Limit``;
the client learns that rate from the first answer, so the floor is computed at the scaled rate.

Run: ``python benchmarks/bench_shared_limits.py [--time-scale 250] [--pages 30] [--skip-memory]`` (about 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

RATE, BURST = 0.0167, 20  # getOrders' published usage plan
SCAN = "SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'"
KEYS = {"OrdersApiVersion": "v0", "MarketplaceIds": "US,CA,DE,UK,JP", "Route": "api",
        "RetryWaitTimeMs": "50", "RetryMultiplyWaitTime": "false", "RetryCountMax": "40"}


class Pair(NamedTuple):
    """One run of the two processes: combined wall seconds, getOrders answered, 429s, orders each read."""

    seconds: float
    calls: int
    throttled: int
    counts: list[int]


def child(connection_string: str) -> int:
    """One scanning process: connect, print ``ready``, wait for a line on stdin, scan; print JSON (wall clock)."""
    import sqlspapi

    with sqlspapi.connect(connection_string) as cn:
        print("ready", flush=True)
        sys.stdin.readline()
        began = time.time()
        count = cn.execute(SCAN).fetchone()[0]
        print(json.dumps({"began": began, "ended": time.time(), "count": count}), flush=True)
    return 0


def run_pair(scale: float, pages: int, **keys: str) -> Pair:
    """Start an emulator, run two scanning children on it together; what they and the emulator saw."""
    from sqlspapi.emulator import start

    emu = start(orders=pages * 100, time_scale=scale)
    cache = tempfile.TemporaryDirectory(prefix="bench-shared-limits-")
    env = {**os.environ, "SQLSPAPI_CACHE_DIR": cache.name}
    text = emu.connection_string(**KEYS, **keys)
    try:
        children = [subprocess.Popen([sys.executable, __file__, "--child", text], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                    for _ in range(2)]
        for proc in children:
            if proc.stdout.readline().strip() != "ready":
                proc.kill()
                raise RuntimeError(f"a scanning process did not start: {proc.communicate()[1][-500:]}")
        for proc in children:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in children:
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"a scanning process exited {proc.returncode}: {err.strip()[-500:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        seconds = max(r["ended"] for r in results) - min(r["began"] for r in results)
        return Pair(seconds, emu.calls.count("getOrders", status=200), emu.calls.count(status=429),
                    [r["count"] for r in results])
    finally:
        emu.stop()
        cache.cleanup()


def describe(pair: Pair, scale: float, pages: int) -> str:
    """One result line: the ratio to the floor of the combined work, the 429s, whether every order was read."""
    rate = RATE * scale
    floor = max(pair.calls - BURST, 0) / rate
    read = "every order read" if pair.counts == [pages * 100] * 2 else f"WRONG counts {pair.counts}"
    return (f"{pair.seconds:6.2f} s for {pair.calls} getOrders calls, floor {floor:.2f} s -> "
            f"{pair.seconds / floor:.3f}x the floor, {pair.throttled} responses 429, {read}")


def reserve_cost(threads: int, per_thread_connection: bool, per_thread: int = 2000) -> float:
    """Microseconds per ``reserve()`` (wall time / reservations) with ``threads`` threads on one store file."""
    from sqlspapi.http.bucketstore import BucketStore

    with tempfile.TemporaryDirectory(prefix="bench-reserve-") as folder:
        path = Path(folder) / "ratelimits.sqlite"
        shared = BucketStore(path)

        def work() -> None:
            store = BucketStore(path) if per_thread_connection else shared
            bucket = store.bucket("acct", "getOrders", 1e9, 1_000_000)  # never waits: the cost is the transaction
            for _ in range(per_thread):
                bucket.reserve()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        t0 = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return (time.perf_counter() - t0) / (threads * per_thread) * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print ratios; exit 1 when a scan read wrong counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=250.0, help="emulator clock speed-up (default 250)")
    parser.add_argument("--pages", type=int, default=30, help="getOrders pages each process reads (default 30)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the comparison with memory buckets")
    parser.add_argument("--child", metavar="CONNECTION_STRING", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)

    scale, pages = args.time_scale, args.pages
    print(f"(a) two processes, {pages} getOrders pages each, one account, emulator time scale {scale:g} "
          f"(getOrders {RATE * scale:g}/s after a burst of {BURST})")
    shared = run_pair(scale, pages)
    print(f"    shared store (default): {describe(shared, scale, pages)} (target <= 1.10x, zero 429s)")
    ok = shared.counts == [pages * 100] * 2
    if not args.skip_memory:
        memory = run_pair(scale, pages, RateLimitStore="memory")
        print(f"    RateLimitStore=memory:  {describe(memory, scale, pages)}")
        ok = ok and memory.counts == [pages * 100] * 2

    print("\n(b) SharedBucket.reserve(), one SQLite write transaction")
    print(f"    1 thread:                            {reserve_cost(1, False):7.1f} us per reserve")
    print(f"    8 threads, one connection + lock:    {reserve_cost(8, False):7.1f} us per reserve (sqlspapi)")
    print(f"    8 threads, a connection per thread:  {reserve_cost(8, True):7.1f} us per reserve")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
