"""Benchmark: client CPU per row of a vtable scan when the API is not the bottleneck, printed as ratios.

The emulator runs in its own process at a huge time scale (rate limits never bind), the client scans
``SELECT * FROM orders`` over 20k orders (``--quick``: 2k) and the same rows are then read from a plain SQLite table
on the same connection. Printed (issue 6 targets):

(a) end to end: vtable scan time / plain table scan time (wall, and the client process's CPU) — target <= 20x;
(b) from decoded objects: building the rows from the already-decoded searchOrders pages through
    ``sqlspapi.sql.rows.row_builder`` / reading the plain table — target <= 5x; also with the decoding included,
    by ``json.loads`` and by ``orjson.loads``;
(c) where the client's CPU goes: a cProfile of one scan, self time grouped (JSON decode, HTTP, row building, APSW
    and SQLite, the rest of sqlspapi), the time spent in garbage collection (``gc.callbacks``), and the shares of
    decoding and row building measured directly;
(d) ``json.loads`` vs ``orjson.loads`` on a real 100-order searchOrders response body;
(e) the emulator's own cost: microseconds per row to answer the scan's searchOrders requests, replayed against a
    fresh emulator process by a client that only reads the bytes: the first time (each order rendered and encoded)
    and again (the emulator keeps encoded orders; the scans of (a) run at this rate).

The decoded pages are the scan's own: an in-process emulator with the same seed and size answers the scan, its call
log gives the exact searchOrders requests sqlspapi sent, and those are replayed to get the response bodies.

Run: ``python benchmarks/bench_cpu.py [--quick] [--orders 20000]`` (orjson is a core dependency).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import http.client
import json
import pstats
import sys
import time
import timeit
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from emuproc import EmulatorProcess

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, EmulatorCall, start
from sqlspapi.engine import Database, open_database
from sqlspapi.http.response import decode_json
from sqlspapi.sql.rows import as_rows, dig, row_builder

TIME_SCALE = 1e7
LOOKBACK_DAYS = 800
SCAN = "SELECT * FROM orders"
PLAIN = "SELECT * FROM plain_orders"

#: cProfile self time → category, by the first matching fragment of "file:function" (first match wins: rows.py's
#: ``_json`` encodes JSON columns, it is row building).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("row building (sqlspapi/sql/rows.py)", ("sqlspapi/sql/rows.py",)),
    ("JSON decode", ("/json/", "_json", "orjson")),
    ("HTTP (requests, urllib3, http.client, sockets)", (
        "requests/", "urllib3/", "http/client.py", "socket", "ssl", "email/", "selectors", "urllib/parse",
        "charset_normalizer", "idna", "threading.py", "queue.py", "lock", "http/cookiejar", "select")),
    ("sqlspapi client (sqlspapi/http)", ("sqlspapi/http/",)),
    ("sqlspapi planner/fetch/vtable (sqlspapi/sql)", ("sqlspapi/sql/",)),
    ("APSW + SQLite (C, incl. this loop)", ("apsw", "bench_cpu.py:drain")),
)


def drain(rows: Iterable[Any]) -> int:
    """Iterate and discard; its self time in a profile is the time spent in APSW and SQLite's C code."""
    n = 0
    for _ in rows:
        n += 1
    return n


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall seconds and best process-CPU seconds of ``repeat`` runs of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


class GcTimer:
    """Wall time spent in the garbage collector while active (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def _category(label: str) -> str:
    return next((c for c, frags in CATEGORIES if any(f in label for f in frags)), "other")


def _generic(key: tuple[str, int, str]) -> bool:
    """Built-ins and abc checks (``isinstance``, ``dict.get``): charged to whoever called them."""
    return key[0] == "~" or key[0].startswith("<frozen abc")


def categorize(profile: cProfile.Profile) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """Self seconds per category (generic built-ins charged to their callers), and the top functions."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    functions: list[tuple[float, str]] = []

    def charge(key: tuple[str, int, str], seconds: float, depth: int) -> None:
        callers = stats[key][4] if key in stats else {}
        if _generic(key) and callers and depth < 4:
            weight = sum(c[3] for c in callers.values()) or 1.0
            for caller, c in callers.items():
                charge(caller, seconds * c[3] / weight, depth + 1)
            return
        category = _category(f"{key[0]}:{key[2]}")
        totals[category] = totals.get(category, 0.0) + seconds

    for key, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        charge(key, tottime, 0)
        filename, lineno, name = key
        short = filename.split("site-packages/")[-1].split("/work/")[-1].split("python3.11/")[-1]
        functions.append((tottime, f"{short}:{lineno}({name})" if lineno else name))
    functions.sort(reverse=True)
    return totals, functions


def replay(url: str, calls: list[EmulatorCall]) -> tuple[list[bytes], float]:
    """The response bodies of ``calls`` replayed against the emulator at ``url``, and the seconds it took.

    One keep-alive ``http.client`` connection that only reads the bytes: the time is the emulator's, plus the
    least a client can spend.
    """
    token = requests.post(url + "/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN, "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET}, timeout=30).json()["access_token"]
    headers = {"x-amz-access-token": token}
    targets = [f"{call.path}?{urlencode(call.params)}" for call in calls]
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
    try:
        bodies = []
        started = time.perf_counter()
        for target in targets:
            conn.request("GET", target, headers=headers)
            resp = conn.getresponse()
            bodies.append(resp.read())
            if resp.status != 200:
                raise RuntimeError(f"GET {target}: HTTP {resp.status} {bodies[-1][:200]!r}")
        return bodies, time.perf_counter() - started
    finally:
        conn.close()


def replayed_pages(orders: int) -> tuple[list[bytes], Any, list[EmulatorCall]]:
    """The bodies of the searchOrders pages a full scan requests, the orders TableSpec, and those requests."""
    emu = start(orders=orders, time_scale=TIME_SCALE)
    try:
        with open_database(emu.connection_string(LookbackDays=LOOKBACK_DAYS)) as db:
            drain(db.connection.execute(SCAN))
            spec = next(t for t in db.tables() if t.name == "orders")
        calls = [c for c in emu.calls if c.operation == "searchOrders" and c.status == 200]
        return replay(emu.url, calls)[0], spec, calls
    finally:
        emu.stop()


def serving(calls: list[EmulatorCall], orders: int, repeat: int) -> tuple[float, float]:
    """(e): seconds a fresh emulator process takes to answer ``calls`` the first time, and the best of the next."""
    with EmulatorProcess(orders=orders, time_scale=TIME_SCALE) as emu:
        first = replay(emu.url, calls)[1]
        again = min(replay(emu.url, calls)[1] for _ in range(repeat))
    return first, again


def ratio_line(label: str, seconds: float, plain: float, rows: int, target: float | None) -> str:
    """``label: R x the plain table (rows/s)`` with the target verdict."""
    ratio = seconds / plain
    verdict = "" if target is None else f"  target <= {target:g}x: {'ok' if ratio <= target else 'OVER'}"
    return f"    {label:58s} {ratio:7.1f}x the plain table  ({rows / seconds:>10,.0f} rows/s){verdict}"


def end_to_end(db: Database, orders: int, repeat: int) -> tuple[float, float, float, float]:
    """(a): best wall/CPU of the vtable scan, then of the plain table holding the same rows."""
    con = db.connection
    n = drain(con.execute(SCAN))
    if n != orders:
        print(f"    (the scan returned {n} rows, expected {orders})")
    vt_wall, vt_cpu = best(lambda: drain(con.execute(SCAN)), repeat)
    con.execute(f"CREATE TEMP TABLE plain_orders AS {SCAN}")
    plain_wall, plain_cpu = best(lambda: drain(con.execute(PLAIN)), repeat * 3)
    return vt_wall, vt_cpu, plain_wall, plain_cpu


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print ratios (the headline numbers are ratios, never absolute seconds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k orders, one repetition")
    parser.add_argument("--orders", type=int, help="orders in the emulator (default 20000; --quick: 2000)")
    args = parser.parse_args(argv)
    orders = args.orders or (2000 if args.quick else 20000)
    repeat = 1 if args.quick else 3

    print(f"Client CPU per row: `{SCAN}` over {orders:,} emulator orders (emulator in its own process, "
          f"time scale {TIME_SCALE:g})")
    with EmulatorProcess(orders=orders, time_scale=TIME_SCALE) as emu, \
            open_database(emu.connection_string(LookbackDays=LOOKBACK_DAYS)) as db:
        db.marketplace_ids()
        vt_wall, vt_cpu, plain_wall, plain_cpu = end_to_end(db, orders, repeat)
        with GcTimer() as gct:
            gc_wall, _ = best(lambda: drain(db.connection.execute(SCAN)), 1)
        profile = cProfile.Profile(time.process_time)  # client CPU only, not waits on the emulator
        profile.runcall(lambda: drain(db.connection.execute(SCAN)))
    print("(a) end to end")
    print(ratio_line("vtable scan, wall", vt_wall, plain_wall, orders, 20))
    print(ratio_line("vtable scan, client process CPU", vt_cpu, plain_cpu, orders, None))

    bodies, spec, calls = replayed_pages(orders)
    build = row_builder(spec.columns)

    def build_all(pages: Iterable[Any]) -> int:
        n = 0
        for page in pages:
            for obj in as_rows(dig(page, spec.list.rows)):
                build(obj, {}, None)
                n += 1
        return n

    try:
        import orjson
    except ImportError:
        orjson = None
    # Streaming first (one decoded page alive at a time, as a bounded-cache scan would hold), GC on.
    decode_s, _ = best(lambda: drain(decode_json(b, "utf-8", lambda: None) for b in bodies), repeat * 3)
    json_s, _ = best(lambda: build_all(json.loads(b) for b in bodies), repeat * 3)
    orjson_s = best(lambda: build_all(orjson.loads(b) for b in bodies), repeat * 3)[0] if orjson else 0.0
    decoded = [json.loads(b) for b in bodies]
    objects = build_all(decoded)
    build_s, _ = best(lambda: build_all(decoded), repeat * 3)
    decoded.clear()
    print(f"(b) from decoded objects ({len(bodies)} searchOrders pages, {objects:,} objects, "
          f"{sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB per page)")
    print(ratio_line("row_builder over decoded objects", build_s, plain_wall, objects, 5))
    print(ratio_line("json.loads + row_builder (page by page)", json_s, plain_wall, objects, None))
    if orjson is None:
        print("    orjson not installed (a core dependency): pip install -e .")
    else:
        print(ratio_line("orjson.loads + row_builder (page by page)", orjson_s, plain_wall, objects, None))

    print("(c) where the client's CPU goes during one scan")
    print(f"    measured directly: decoding the pages as the client does (page by page) {decode_s / vt_cpu:6.1%} "
          f"of the scan's client CPU, "
          f"row_builder {build_s / vt_cpu:6.1%}, garbage collection {gct.seconds / gc_wall:6.1%} of a scan's wall "
          f"time ({gct.collections} collections)")
    totals, functions = categorize(profile)
    whole = sum(totals.values())
    print("    cProfile (process CPU time) self time by category (profiling inflates pure-Python work; GC time "
          "lands in whatever ran; built-ins charged to their callers):")
    for category, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"        {seconds / whole:6.1%}  {category}")
    print("    top functions by self time:")
    for seconds, name in functions[:12]:
        print(f"        {seconds / whole:6.1%}  {name}")

    if orjson is not None:
        full = next((b for b in bodies if len(as_rows(dig(json.loads(b), spec.list.rows))) == 100), bodies[0])
        number = max(20, 2000 // max(1, orders // 1000))
        std = min(timeit.repeat(lambda: json.loads(full), number=number, repeat=5))
        fast = min(timeit.repeat(lambda: orjson.loads(full), number=number, repeat=5))
        print(f"(d) one 100-order searchOrders body ({len(full) / 1024:.0f} KiB): json.loads takes "
              f"{std / fast:.2f}x the time of orjson.loads")

    first, again = serving(calls, orders, repeat)
    print(f"(e) the emulator answering the scan's {len(calls)} searchOrders requests ({objects:,} rows; a client "
          f"reading bytes): first time {first / objects * 1e6:.1f} us per row, again {again / objects * 1e6:.1f} us "
          f"per row (plain table: {plain_wall / orders * 1e6:.2f} us per row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
