"""Benchmark: many accounts on one connection (``Accounts=``) — the wall time of a rate-limited scan of N accounts
together vs one account alone, printed as ratios (no assertions).

Each account has its own usage plans at Amazon (the emulator keeps a bucket per account too), so a scan of N accounts
fanned out concurrently should take about as long as one account's scan: the target ratio is ≤ 1.2 for N = 4, where
reading the accounts one after the other takes ~N×. The scan: ``count(*)`` of a year of orders, 25 searchOrders pages
per account, past the burst of 20, so the rate limit paces every account. The emulator runs in a child process
(:mod:`emuproc`), as Amazon is not in the client's process. Also printed: retries after a 429 (target 0) and the
row counts (each account's equal to the one-account count).

Run: ``python benchmarks/bench_accounts.py [--accounts 4] [--orders 4000] [--time-scale 400]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

from emuproc import EmulatorProcess, write_credentials

from sqlspapi.emulator import DEMO_REFRESH_TOKEN
from sqlspapi.engine import open_database
from sqlspapi.http.runtime import reset_runtimes

SINCE = "createdTime >= '2025-11-01'"


def timed(connection_string: str, sql: str) -> tuple[float, list[tuple[object, ...]], int]:
    """Seconds, rows and retries of ``sql`` on a fresh database (fresh runtimes: full buckets, as a new process)."""
    reset_runtimes()
    with open_database(connection_string) as db, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        db.check_credentials()
        started = time.perf_counter()
        rows = db.connection.execute(sql).fetchall()
        seconds = time.perf_counter() - started
        return seconds, rows, sum(max(0, c.attempts - 1) for c in db.last_calls())


def main() -> None:
    """Run the benchmark and print its ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--time-scale", type=float, default=400.0)
    args = parser.parse_args()
    # shop0 is measured alone, shop1..shopN together: every measured account starts with a full bucket at Amazon.
    tokens = [DEMO_REFRESH_TOKEN] + [f"Atzr|FAKE-bench-{i}" for i in range(1, args.accounts + 1)]
    together_names = ",".join(f"shop{i}" for i in range(1, args.accounts + 1))
    with tempfile.TemporaryDirectory() as folder, \
            EmulatorProcess(orders=args.orders, time_scale=args.time_scale, accounts=tokens[1:]) as emu:
        os.environ["SQLSPAPI_CACHE_DIR"] = folder
        path = write_credentials(Path(folder), emu, {f"shop{i}": token for i, token in enumerate(tokens)})
        alone, one, _ = timed(f"CredentialsFile={path};Account=shop0;Route=api",
                              f"SELECT count(*) FROM orders WHERE {SINCE}")
        together, many, retries = timed(f"CredentialsFile={path};Accounts={together_names};Route=api",
                                        f"SELECT account, count(*) FROM orders WHERE {SINCE} GROUP BY account")
    counts = sorted({n for _account, n in many})
    print(f"accounts: {args.accounts}; rows per account: {counts} (one account alone: {one[0][0]})")
    print(f"wall time, {args.accounts} accounts together / one account alone: {together / alone:.2f}x "
          f"(target <= 1.2x; one after the other would be ~{args.accounts}x)")
    print(f"retries after 429: {retries} (target 0)")


if __name__ == "__main__":
    main()
