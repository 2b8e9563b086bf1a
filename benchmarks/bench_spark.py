"""Benchmark (c) of issue 12: the ``sqlspapi`` Spark data source reading N seller accounts in local mode with 4
executor cores (``local[4]``) vs one process reading the same accounts one after the other; prints the ratio
(target ≥ 3×) and the floor the usage plans set (no assertions).

Each account pages a year of orders (``Route=api``: searchOrders, 100 orders a page) past its burst of 20, so the
account's rate limit paces it: one account's floor is ``(its calls − burst) / rate``. One process reading the
accounts one by one pays the sum of the floors; Spark runs 4 accounts at a time (one partition per account, its
windows in order), so its floor is about the sum / 4. Amazon's per-seller quotas, not compute, bound both. Each run
gets its own emulator child process (every account's bucket starts full at "Amazon") and its own rate-limit store.

Run: ``python benchmarks/bench_spark.py [--accounts 20] [--orders 4000] [--time-scale 100] [--cores 4]``
(needs pyspark, pyarrow and a Java runtime; ~5 minutes). The time scale keeps the run rate-bound, as at Amazon's
rates: at 100 an account's floor is ~9 s; a faster scale makes the CPU (emulator, conversion) the bound instead.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emuproc import EmulatorProcess, write_credentials

from sqlspapi.definitions.loader import operation
from sqlspapi.engine import open_database
from sqlspapi.http.runtime import reset_runtimes

SINCE = "2025-11-01"
PAGE = "searchOrders"


@contextmanager
def fresh_run(args: argparse.Namespace, names: list[str]) -> Iterator[Path]:
    """An emulator child process with the accounts, a private cache dir (rate-limit store), the credentials file."""
    with tempfile.TemporaryDirectory() as folder, \
            EmulatorProcess(orders=args.orders, time_scale=args.time_scale,
                            accounts=[f"Atzr|FAKE-{n}" for n in names]) as emu:
        os.environ["SQLSPAPI_CACHE_DIR"] = folder
        reset_runtimes()
        yield write_credentials(Path(folder), emu, {name: f"Atzr|FAKE-{name}" for name in names})


def one_by_one(path: Path, names: list[str]) -> tuple[float, dict[str, int], dict[str, int]]:
    """Seconds to read every account's orders one account after the other in this process; rows and searchOrders
    calls per account."""
    rows: dict[str, int] = {}
    pages: dict[str, int] = {}
    started = time.perf_counter()
    for name in names:
        with open_database(f"CredentialsFile={path};Account={name};Route=api") as db, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows[name] = len(db.connection.execute(f"SELECT * FROM orders WHERE createdTime >= '{SINCE}'").fetchall())
            pages[name] = sum(1 for c in db.last_calls() if c.operation == PAGE)
    return time.perf_counter() - started, rows, pages


def with_spark(path: Path, cores: int) -> tuple[float, dict[str, int]]:
    """Seconds for Spark (``local[cores]``) to read every account's orders (session start not counted); rows per
    account."""
    from pyspark.sql import SparkSession

    from sqlspapi.spark import register

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master(f"local[{cores}]").appName("bench-spark")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        register(spark)
        spark.range(cores).rdd.map(lambda x: x).count()  # start the Python workers before the clock
        df = (spark.read.format("sqlspapi").option("table", "orders").option("connection", "Route=api")
              .option("accounts", "all").option("credentialsFile", str(path))
              .option("start", SINCE).option("windowDays", 3650).load())
        started = time.perf_counter()
        counts = {r["account"]: r["count"] for r in df.groupBy("account").count().collect()}
        return time.perf_counter() - started, counts
    finally:
        spark.stop()


def main() -> None:
    """Run the benchmark and print its ratio and floors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--time-scale", type=float, default=100.0)
    parser.add_argument("--cores", type=int, default=4)
    args = parser.parse_args()
    names = [f"shop{i:02d}" for i in range(args.accounts)]
    with fresh_run(args, names) as path:
        alone, rows, pages = one_by_one(path, names)
    with fresh_run(args, names) as path:
        spark_seconds, spark_rows = with_spark(path, args.cores)
    plan = operation("orders", PAGE)
    rate = plan.rate * args.time_scale
    floors = {n: max(0, pages[n] - plan.burst) / rate for n in names}
    serial_floor = sum(floors.values())
    parallel_floor = max(max(floors.values()), serial_floor / min(args.cores, len(names)))
    print(f"accounts: {len(names)}; rows per account: {sorted(set(rows.values()))} "
          f"(Spark: {sorted(set(spark_rows.values()))}, same: {spark_rows == rows})")
    print(f"{PAGE} calls per account: {sorted(set(pages.values()))}; rate {rate:g}/s (Amazon's {plan.rate:g}/s x "
          f"time scale {args.time_scale:g}), burst {plan.burst}")
    print(f"one process, accounts one by one: {alone:.1f} s (usage-plan floor {serial_floor:.1f} s)")
    print(f"Spark local[{args.cores}]: {spark_seconds:.1f} s (usage-plan floor {parallel_floor:.1f} s: "
          f"{math.ceil(len(names) / args.cores)} accounts per core one after the other)")
    print(f"ratio one-by-one / Spark: {alone / spark_seconds:.2f}x (target >= 3x; "
          f"bound by the usage plans: at most ~{alone / max(parallel_floor, 1e-9):.1f}x at this floor)")


if __name__ == "__main__":
    main()
