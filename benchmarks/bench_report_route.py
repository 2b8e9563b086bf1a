"""Benchmark (c) of issue 9: order items for 10,000 orders through the order report vs N+1 getOrderItems.

One SQL statement, ``orders JOIN order_items`` over the window holding the 10,000 most recent orders (Orders v0, the
seller's five marketplaces), run twice on the emulator (in its own process, ``emuproc.py``): with ``Route=report``
(the bulk route reads GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL, one report per marketplace and 30 days,
and the items come with the orders) and with ``Route=api`` (getOrders pages, then one getOrderItems call per order).
Prints each route's calls, its wall time here, its time at Amazon's rates, the ratio (target >= 50x) and whether
both gave the same rows.

Time at Amazon's rates, from what the run did (a scaled emulator cannot give it by one multiplication: at a time
scale that makes 10,000 calls quick, the local round trips outlast the scaled rate-limit waits):

- the usage plans: per operation, the calls the run made beyond the burst, at the published rate; one statement
  makes one call at a time but the operations' buckets refill side by side, so the slowest operation sets the pace
  (the largest of them, not their sum: the kinder figure for paging);
- Amazon's answers: ``DEFAULT_LATENCY`` (0.3 s) per call where the usage plan leaves no longer gap;
- report processing: the time a report sits IN_QUEUE and IN_PROGRESS (the emulator's Amazon timing, 30 s + 60 s)
  until the lifecycle's backoff polls see it DONE; the reports of one statement are requested together, so they are
  processed side by side;
- the local work as measured: the wall time here less its waits (the client's parsing and the emulator's answers,
  at real speed).

Run: ``python benchmarks/bench_report_route.py [--orders 10000] [--time-scale 1000]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emuproc import EmulatorProcess  # noqa: E402 (benchmarks/ is not a package)

from sqlspapi.definitions.loader import load_all  # noqa: E402
from sqlspapi.emulator.data import Dataset  # noqa: E402
from sqlspapi.emulator.reports_store import ReportStore  # noqa: E402
from sqlspapi.engine import Database, resolve_settings  # noqa: E402
from sqlspapi.http.pace import DEFAULT_LATENCY  # noqa: E402
from sqlspapi.http.progress import duration  # noqa: E402
from sqlspapi.reports.lifecycle import POLL_FIRST, POLL_MAX  # noqa: E402

#: Orders the emulator generates: ~16% of them fall in the last 30 days, so 70,000 put ~10,900 there.
DATASET = 70_000
MARKETPLACES = "US,CA,DE,UK,JP"
SQL = ("SELECT o.AmazonOrderId, i.SellerSKU, i.QuantityOrdered, i.ItemPrice_Amount FROM orders o "
       "JOIN order_items i ON i.AmazonOrderId = o.AmazonOrderId WHERE o.PurchaseDate >= '{since}' ORDER BY 1, 2, 3")


class Run(NamedTuple):
    """One route's statement: its rows, calls by operation, wall seconds and the seconds of it spent waiting."""

    rows: list[tuple]
    calls: Counter[str]
    wall: float
    waited: float


class AtAmazon(NamedTuple):
    """A run's time at Amazon's rates, by part (seconds)."""

    usage_plans: float
    answers: float
    processing: float
    local: float

    @property
    def total(self) -> float:
        """All parts."""
        return self.usage_plans + self.answers + self.processing + self.local


def window_start(orders: int, wanted: int) -> str:
    """The purchase time of the ``wanted``-th most recent order of the emulator's dataset (the same seed and anchor
    as its child process: generated here again)."""
    data = Dataset(orders=orders)
    stamps = sorted(o.purchase for o in data.orders)
    return stamps[-wanted].strftime("%Y-%m-%dT%H:%M:%SZ")


def run(connection: str, route: str, scale: float, since: str) -> Run:
    """The join with ``Route=route`` on a fresh connection (report polls on the emulator's clock)."""
    settings = resolve_settings(f"{connection};OrdersApiVersion=v0;MarketplaceIds={MARKETPLACES};Route={route};"
                                "MaxCallsPerStatement=0")
    with Database(settings, poll_scale=1 / scale) as db:
        db.marketplace_ids()
        waited = [0.0]
        calls: Counter[str] = Counter()
        progress = db.progress
        wait, answered = progress.wait, progress.answered

        def timed(seconds: float, reason: str, operation: str = "") -> None:
            waited[0] += max(0.0, seconds)
            wait(seconds, reason, operation)

        def counted(operation: str) -> None:
            calls[operation] += 1
            answered(operation)

        # The benchmark's stopwatch on the waits and counter of the calls (the call log keeps only the last 10,000).
        progress.wait, progress.answered = timed, counted  # type: ignore[method-assign]
        wall = time.perf_counter()
        with db.statement():
            rows = list(db.connection.execute(SQL.format(since=since)))
        wall = time.perf_counter() - wall
    return Run(rows, calls, wall, waited[0])


def report_seen_done() -> float:
    """Seconds from createReport until a backoff poll sees the report DONE (the emulator's Amazon timing)."""
    ready = sum(ReportStore.timing)
    when, pause = 0.0, POLL_FIRST
    while when < ready:
        when += pause
        pause = min(pause * 1.5, POLL_MAX)
    return when


def at_amazon(result: Run) -> AtAmazon:
    """The run's time at Amazon's rates (see the module docstring)."""
    plans = {name: op for s in load_all() if s.section in ("orders", "reports") and s.version in ("v0", "2021-06-30")
             for name, op in s.operations.items()}
    floors = [max(0, n - plans[name].burst) / plans[name].rate for name, n in result.calls.items() if name in plans]
    usage = max(floors, default=0.0)
    answers = max(0.0, sum(result.calls.values()) * DEFAULT_LATENCY - usage)
    processing = report_seen_done() if result.calls["createReport"] else 0.0
    return AtAmazon(usage, answers, processing, max(0.0, result.wall - result.waited))


def describe(name: str, result: Run) -> str:
    """One route's lines."""
    listed = ", ".join(f"{n:,} {op}" for op, n in result.calls.most_common())
    t = at_amazon(result)
    return (f"    {name:6s}  {len(result.rows):,} item rows; {sum(result.calls.values()):,} calls ({listed}); wall "
            f"here {result.wall:.1f} s\n"
            f"            at Amazon's rates ~{duration(t.total)}: usage plans {duration(t.usage_plans)}, answers "
            f"{duration(t.answers)}, report processing {duration(t.processing)}, local work {duration(t.local)}")


def main(argv: list[str] | None = None) -> int:
    """Run both routes and print the comparison; exit 1 when they disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000, help="orders in the window (default 10,000)")
    parser.add_argument("--time-scale", type=float, default=1000.0, help="emulator clock speed-up (default 1000)")
    args = parser.parse_args(argv)
    dataset = max(DATASET, args.orders * 7)
    scale = args.time_scale
    os.environ["SQLSPAPI_CACHE_DIR"] = tempfile.mkdtemp(prefix="sqlspapi-bench-report-")  # no report to reuse
    since = window_start(dataset, args.orders)
    print(f"(c) order items of the {args.orders:,} most recent orders (PurchaseDate >= {since}; emulator of "
          f"{dataset:,} orders, five marketplaces, time scale {scale:g})")
    with EmulatorProcess(orders=dataset, time_scale=scale) as emu:
        report = run(emu.connection_string(), "report", scale, since)
        print(describe("report", report))
        api = run(emu.connection_string(), "api", scale, since)
        print(describe("api", api))
    orders = len({row[0] for row in api.rows})
    same = report.rows == api.rows
    ratio = at_amazon(api).total / at_amazon(report).total
    print(f"    {orders:,} orders; same rows: {'yes' if same else 'NO'}; the report route is {ratio:,.0f}x faster at "
          f"Amazon's rates (target >= 50x), {api.wall / report.wall:,.1f}x here; "
          f"{sum(api.calls.values()) / max(1, sum(report.calls.values())):,.0f}x fewer calls")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
