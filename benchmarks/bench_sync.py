"""Benchmark of issue 12: ``sqlspapi sync``'s first run through the order reports vs paging, and a re-run.

(a) The first sync of two years of ``orders`` with their ``order_items`` for a 20,000-order seller into DuckDB, on
the emulator at Amazon's usage plans (its clock sped up by ``--time-scale``): with the default backfill (history
through the order report, one report per region and 30 days) and with ``--backfill api`` (paging searchOrders, 100
orders a page). Prints each run's SP-API calls by operation, its wall time here and its time at Amazon's rates, and
the ratios (target >= 20x).

The seller sells in one region (North America: US and CA), as every real SP-API connection sees it: a connection
talks to one regional endpoint, and an order report holds every marketplace of that region (Amazon ignores the
report's marketplaceIds). The emulator also serves the demo seller's five marketplaces in three regions from one
endpoint, which no real endpoint does; that case is printed too, for information: it needs one report per region
and 30 days, three times as many.

(b) A re-run of the first mirror with nothing new: its calls (target <= tables x accounts).

Time at Amazon's rates, as in bench_report_route.py (a scaled emulator cannot give it by one multiplication: the
local work does not speed up): the slowest operation's usage plan (calls beyond the burst at the published rate),
Amazon's answers (0.3 s a call where the plan leaves no longer gap), report processing when reports were made, and
the local work as measured (the wall time here less the time waited on rate limits).

Each sync runs in a fresh interpreter (``--child``): rate-limit buckets and caches start as in a new process. The
emulator runs in this process, where its call log counts the calls by operation.

Run: ``python benchmarks/bench_sync.py [--orders 20000] [--time-scale 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report_route import report_seen_done  # noqa: E402 (benchmarks/ is not a package)
from emuproc import run_child  # noqa: E402

from sqlspapi.definitions.loader import load_all  # noqa: E402
from sqlspapi.http.pace import DEFAULT_LATENCY  # noqa: E402
from sqlspapi.http.progress import duration  # noqa: E402

TABLES = ("orders", "order_items")
#: The one region's marketplaces of (a): North America's US and CA (the emulator's keys).
REGION = ("US", "CA")
#: Calls the emulator logs that are not SP-API calls (Login with Amazon's token endpoint).
NOT_SP_API = {"lwaToken"}
#: The API versions whose usage plans the sync's calls fall under.
VERSIONS = {"orders": "2026-01-01", "reports": "2021-06-30"}


class Run(NamedTuple):
    """One sync: its summary (as the child reported it), calls by operation and wall seconds."""

    summary: dict
    calls: Counter[str]
    wall: float

    def at_amazon(self) -> float:
        """The run's time at Amazon's rates (see the module docstring)."""
        plans = {name: op for s in load_all() if VERSIONS.get(s.section) == s.version
                 for name, op in s.operations.items()}
        floors = [max(0, n - plans[op].burst) / plans[op].rate for op, n in self.calls.items() if op in plans]
        usage = max(floors, default=0.0)
        answers = max(0.0, sum(self.calls.values()) * DEFAULT_LATENCY - usage)
        processing = report_seen_done() if self.calls["createReport"] else 0.0
        local = max(0.0, self.wall - self.summary["throttle_seconds"])
        return usage + answers + processing + local

    def describe(self, name: str) -> str:
        """The run's lines."""
        listed = ", ".join(f"{n:,} {op}" for op, n in self.calls.most_common()) or "none"
        rows = ", ".join(f"{n:,} {table}" for table, n in self.summary["tables"].items())
        return (f"    {name:<14s} {rows}; {sum(self.calls.values()):,} calls ({listed}); wall here "
                f"{self.wall:.1f} s (waited on rate limits {self.summary['throttle_seconds']:.1f} s); at Amazon's "
                f"rates ~{duration(self.at_amazon())}")


def child(argv: list[str]) -> int:
    """``--child CONNSTR FOLDER BACKFILL``: one sync into ``FOLDER/mirror.duckdb``; its summary as a JSON line."""
    connection, folder, backfill = argv
    from sqlspapi.sync import sync

    summary = sync(connection, tables=TABLES, destination="duckdb", credentials=str(Path(folder) / "mirror.duckdb"),
                   pipelines_dir=str(Path(folder) / "pipelines"), backfill=backfill, progress=False)
    print(json.dumps({"tables": dict(summary.tables), "calls": summary.calls,
                      "throttle_seconds": summary.throttle_seconds, "accounts_failed": summary.accounts_failed}))
    return 0


def measure(emu, connection: str, folder: Path, backfill: str) -> Run:
    """One sync in a fresh interpreter, with the emulator's count of its calls."""
    emu.calls.clear()
    started = time.perf_counter()
    summary = run_child(__file__, "--child", connection, str(folder), backfill)
    wall = time.perf_counter() - started
    if summary["accounts_failed"]:
        raise RuntimeError(f"the sync failed: {summary['accounts_failed']}")
    return Run(summary, Counter(call.operation for call in emu.calls.snapshot() if call.operation not in NOT_SP_API),
               wall)


def first_sync(orders: int, marketplaces: Sequence[str], work: Path, scale: float, rerun: bool) -> str:
    """(a) for one seller on a fresh emulator (its clock runs ``scale`` times faster than the sync's: a long session
    would move "two years ago" past what Amazon accepts): the report backfill against paging; with ``rerun``, (b)
    after the report backfill, its line returned."""
    from sqlspapi.emulator import start

    emu = start(orders=orders, time_scale=scale)
    try:
        keys = {"MarketplaceIds": list(marketplaces)} if marketplaces else {}
        connection = emu.connection_string(**keys)
        mine = [o for o in emu.dataset.orders if not marketplaces or o.market.id in marketplaces]
        markets = sorted({o.market.key for o in mine})
        print(f"  a seller of {len(mine):,} orders in {', '.join(markets)}:")
        name = "-".join(markets)
        report = measure(emu, connection, work / f"{name}-report", "auto")
        print(report.describe("report backfill"))
        line = ""
        if rerun:
            again = measure(emu, connection, work / f"{name}-report", "auto")
            limit = len(TABLES)  # tables x accounts (one account)
            line = (f"(b) re-run of the mirror of {', '.join(markets)} with nothing new: {sum(again.calls.values())} "
                    f"calls ({', '.join(f'{n} {op}' for op, n in again.calls.most_common()) or 'none'}) for "
                    f"{len(TABLES)} tables x 1 account: {sum(again.calls.values()) / limit:.2f} of the limit "
                    "(target <= 1)")
        api = measure(emu, connection, work / f"{name}-api", "api")
        print(api.describe("paging only"))
        print(f"    the report backfill is {api.at_amazon() / report.at_amazon():,.1f}x faster at Amazon's rates "
              f"(target >= 20x), {api.wall / report.wall:,.1f}x in wall time here (time scale {scale:g}: the local "
              f"work does not speed up); calls: {sum(report.calls.values()):,} vs {sum(api.calls.values()):,}")
        return line
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    """Run (a) for a one-region seller (then (b) on its mirror) and for the five-marketplace demo seller."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000, help="the seller's orders over two years (20,000)")
    parser.add_argument("--time-scale", type=float, default=1000.0, help="emulator clock speed-up (default 1000)")
    args = parser.parse_args(argv)
    scale = args.time_scale
    work = Path(tempfile.mkdtemp(prefix="sqlspapi-bench-sync-"))
    os.environ["SQLSPAPI_CACHE_DIR"] = str(work / "cache")  # no report to reuse; the children inherit it
    os.environ["SQLSPAPI_POLL_SCALE"] = repr(1 / scale)  # report polls on the emulator's clock
    from sqlspapi.emulator.pools import MARKET_WEIGHTS, MARKETS

    share = sum(w for m, w in zip(MARKETS, MARKET_WEIGHTS, strict=True) if m.key in REGION) / sum(MARKET_WEIGHTS)
    print(f"(a) first sync of two years of {', '.join(TABLES)} into DuckDB (emulator time scale {scale:g})")
    print("  one region, as one SP-API connection sees it:")
    rerun = first_sync(round(args.orders / share), [m.id for m in MARKETS if m.key in REGION], work, scale, True)
    print("  for information, the demo's five marketplaces in three regions on one endpoint (no real endpoint serves "
          "three regions: one report per region and 30 days):")
    first_sync(args.orders, [], work, scale, False)
    print(rerun)
    return 0


if __name__ == "__main__":
    sys.exit(main())
