"""Benchmark: peak client RSS of a streamed ``SELECT * FROM orders`` (the caller keeps nothing), printed per size.

For each size (2k, 20k and 200k emulator orders; ``--quick``: 2k and 20k) the emulator runs in its own child
process (so its generated data is not counted) and the scan runs in a fresh client process, which reads its peak
resident set (``VmHWM`` of ``/proc/self/status``) after iterating every row and discarding it. Target: < 100 MB at
every size (issue 6). ``LookbackDays=800`` makes the scan cover the emulator's two years of orders.

A further run at 20k orders (``--trace-orders``) records the allocations alive at the last row with ``tracemalloc``
and prints the top allocation sites, each with the innermost sqlspapi line that led to it.

Run: ``python benchmarks/bench_memory.py [--quick] [--sizes 2000,20000,200000] [--trace-orders 20000]``.
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import sys
import time
import tracemalloc
from typing import Any

from emuproc import EmulatorProcess, run_child, vm_status_kb

TARGET_MB = 100
TIME_SCALE = 1e7  # the API's rate limits are not what this measures
LOOKBACK_DAYS = 800
SQL = "SELECT * FROM orders"
OWN = os.sep + "sqlspapi" + os.sep


def _site(frame: tracemalloc.Frame) -> str:
    short = frame.filename.split(OWN, 1)[-1] if OWN in frame.filename else frame.filename.rsplit(os.sep, 2)[-1]
    prefix = "sqlspapi/" if OWN in frame.filename else ""
    code = linecache.getline(frame.filename, frame.lineno).strip()
    return f"{prefix}{short}:{frame.lineno}  {code[:70]}"


def top_sites(snapshot: tracemalloc.Snapshot, limit: int) -> list[dict[str, Any]]:
    """The largest allocation sites alive in ``snapshot``, each with the innermost sqlspapi frame that led there."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for stat in snapshot.statistics("traceback"):
        frames = list(reversed(stat.traceback))  # most recent call first
        ours = next((f for f in frames if OWN in f.filename), None)
        key = (_site(frames[0]), _site(ours) if ours is not None and ours is not frames[0] else "")
        entry = grouped.setdefault(key, [0, 0])
        entry[0] += stat.size
        entry[1] += stat.count
    ranked = sorted(grouped.items(), key=lambda kv: -kv[1][0])[:limit]
    return [{"site": site, "via": via, "mb": size / 2**20, "blocks": count} for (site, via), (size, count) in ranked]


def measure(orders: int, connection_string: str, trace: bool) -> dict[str, Any]:
    """In this (fresh) process: scan every order, keep nothing; peak RSS and optionally tracemalloc top sites."""
    from sqlspapi.engine import open_database

    result: dict[str, Any] = {"orders": orders}
    with open_database(connection_string) as db:
        db.marketplace_ids()
        result["before_mb"] = vm_status_kb("VmHWM") / 1024
        if trace:
            tracemalloc.start(12)
        t0 = time.perf_counter()
        rows = 0
        snapshot = None
        for _row in db.connection.execute(SQL):
            rows += 1
            if trace and rows == orders:  # the last row, while the statement (and whatever it keeps) is alive
                snapshot = tracemalloc.take_snapshot()
        result["seconds"] = time.perf_counter() - t0
        result["rows"] = rows
        result["peak_mb"] = vm_status_kb("VmHWM") / 1024
        if trace:
            if snapshot is None:
                snapshot = tracemalloc.take_snapshot()
            result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            result["traced_alive_mb"] = sum(s.size for s in snapshot.statistics("filename")) / 2**20
            result["top"] = top_sites(snapshot, 12)
            tracemalloc.stop()
    return result


def run_size(orders: int, trace: bool) -> tuple[dict[str, Any], float]:
    """One size: emulator child + fresh client child; (client result, emulator generation seconds)."""
    with EmulatorProcess(orders=orders, time_scale=TIME_SCALE) as emu:
        connection_string = emu.connection_string(LookbackDays=LOOKBACK_DAYS)
        args = ["--measure", str(orders), "--connection-string", connection_string] + (["--trace"] if trace else [])
        return run_child(__file__, *args), emu.generate_seconds


def main(argv: list[str] | None = None) -> int:
    """Run every size in fresh processes and print MB per size against the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k orders only, no tracemalloc run")
    parser.add_argument("--sizes", help="comma-separated order counts (default 2000,20000,200000)")
    parser.add_argument("--trace-orders", type=int, default=20000, help="orders for the tracemalloc run (0 = none)")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connection-string", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:  # the client child
        print(json.dumps(measure(args.measure, args.connection_string, args.trace)))
        return 0

    default = "2000,20000" if args.quick else "2000,20000,200000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    print(f"Peak client RSS of a streamed `{SQL}` (rows discarded), emulator in its own process, "
          f"time scale {TIME_SCALE:g}")
    worst = 0.0
    for orders in sizes:
        try:
            result, generate = run_size(orders, trace=False)
        except RuntimeError as exc:
            print(f"    {orders:>7,} orders: FAILED  {exc}")
            worst = float("inf")
            continue
        worst = max(worst, result["peak_mb"])
        verdict = "ok" if result["peak_mb"] < TARGET_MB else "OVER"
        print(f"    {orders:>7,} orders: peak RSS {result['peak_mb']:7.1f} MB (before the scan "
              f"{result['before_mb']:.1f} MB; {result['rows']:,} rows)  target < {TARGET_MB} MB: {verdict}"
              f"   [emulator data generation {generate:.1f} s, scan {result['seconds']:.1f} s]")
    print(f"    worst {worst:.1f} MB vs target < {TARGET_MB} MB -> {'ok' if worst < TARGET_MB else 'OVER'}")

    if args.quick or not args.trace_orders:
        return 0
    print(f"\ntracemalloc at the last row of the {args.trace_orders:,}-order scan (allocations still alive)")
    try:
        result, _ = run_size(args.trace_orders, trace=True)
    except RuntimeError as exc:
        print(f"    FAILED  {exc}")
        return 0
    print(f"    alive {result['traced_alive_mb']:.1f} MB, traced peak {result['traced_peak_mb']:.1f} MB")
    for entry in result["top"]:
        via = f"\n{'':22s}via {entry['via']}" if entry["via"] else ""
        print(f"    {entry['mb']:7.1f} MB {entry['blocks']:>9,} blocks  {entry['site']}{via}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
