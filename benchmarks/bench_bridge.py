"""Benchmarks of ``sqlspapi serve`` through real clients (prints numbers and ratios; asserts nothing).

1. 100,000 rows × 3 columns through pyodbc → psqlODBC → sqlspapi serve, against the same rows from a real
   PostgreSQL 15 through the same driver (the PostgreSQL part is skipped with a message when no server binary is
   installed; initdb refuses root, so it runs as the ``postgres`` user via runuser, data dir in a temp dir,
   listening on 127.0.0.1 only).
2. 20 concurrent clients each running the same dashboard query: SP-API calls made vs one client's.
3. Latency under concurrency: 30 psycopg clients (threads; libpq waits without the GIL) each run a mix of
   queries — marketplaces, orders with LIMIT, a catalog query — against ``sqlspapi serve --demo``; p50/p95
   per query, printed in ms and as a ratio to one client running the same mix alone, measured in the same run.
   The bridge's statements share one interpreter (one GIL): 30 clients that never pause saturate it, so a
   statement's latency is about its queue (30 × the mean statement's CPU time) — the ratio measures that queue,
   throughput (statements/s, also printed) should stay near one client's.

Run: ``python benchmarks/bench_bridge.py [--runs 7] [--clients 20] [--latency-clients 30] [--only latency]``. The
bridge runs in its own process (as ``sqlspapi serve`` does), so client and server do not share a GIL.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROWS = 100_000
#: the same 100k rows on both servers: generated, so the comparison measures the wire path, not a data source
GENERATED = ("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}) "
             "SELECT x AS id, 'name_' || x AS name, x * 1.5 AS val FROM g")
#: PostgreSQL makes ``x * 1.5`` numeric (→ Decimal in pyodbc); this is the float8 spelling of the same rows
GENERATED_PG = GENERATED.replace("x * 1.5 AS val", "(x * 1.5)::float8 AS val")
DASHBOARD = ('SELECT "salesChannel_marketplaceName", count(*), sum("proceeds_grandTotal_amount") FROM orders '
             'GROUP BY 1 ORDER BY 2 DESC')
#: what a dashboard and a BI tool's navigator send: an API table, an API table with LIMIT, the catalog
LATENCY_MIX = ("SELECT * FROM marketplaces",
               'SELECT "orderId", "createdTime", "proceeds_grandTotal_amount" FROM orders ORDER BY "createdTime" DESC '
               "LIMIT 25",
               "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "WHERE n.nspname = 'public' ORDER BY 1")
DRIVER = "PostgreSQL Unicode"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def odbc(port: int, user: str, password: str, database: str) -> str:
    return (f"Driver={{{DRIVER}}};Server=127.0.0.1;Port={port};Database={database};Uid={user};Pwd={password};"
            "SSLMode=disable;UseServerSidePrepare=1;UseDeclareFetch=0")


def interleaved(targets: dict[str, tuple[str, str, str | None]], runs: int) -> dict[str, tuple[float, float, int]]:
    """Median/best seconds per target; runs alternate between targets so machine noise hits all alike.

    A target is (ODBC connection string, query, setup statement run once on that connection or None).
    """
    import pyodbc

    cursors = {}
    for name, (connstr, sql, setup) in targets.items():
        cursors[name] = pyodbc.connect(connstr, autocommit=True).cursor()
        if setup:
            cursors[name].execute(setup)
        cursors[name].execute(sql).fetchall()  # warm up
    times: dict[str, list[float]] = {name: [] for name in targets}
    counts: dict[str, int] = {}
    for _ in range(runs):
        for name, (_connstr, sql, _setup) in targets.items():
            t = time.perf_counter()
            counts[name] = len(cursors[name].execute(sql).fetchall())
            times[name].append(time.perf_counter() - t)
    for cur in cursors.values():
        cur.connection.close()
    return {name: (statistics.median(v), min(v), counts[name]) for name, v in times.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bridge:
    """``sqlspapi serve`` in a subprocess on a free loopback port."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, SQLSPAPI_BRIDGE_PASSWORD="bench")
        self.proc = subprocess.Popen([sys.executable, "-m", "sqlspapi", "serve", *args, "--port", "0"],
                                     env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            m = re.search(r"listening on [\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                threading.Thread(target=self.proc.stderr.read, daemon=True).start()
                return
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("sqlspapi serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Postgres:
    """A throwaway PostgreSQL 15 on loopback (as the postgres user when we are root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sqlspapi-pgbench-"))
        self.port = free_port()
        os.chmod(self.dir, 0o777)
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        data = self.dir / "data"
        subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
        subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-o", opts,
                        "-w", "start"], check=True, capture_output=True)
        self.as_pg, self.data = as_pg, data

    def stop(self) -> None:
        subprocess.run([*self.as_pg, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def bench_rows(runs: int) -> None:
    import pyodbc

    if DRIVER not in pyodbc.drivers():
        print(f"skipped: ODBC driver {DRIVER!r} missing (apt-get install unixodbc odbc-postgresql)")
        return
    sql = GENERATED.format(n=ROWS)
    bridge = Bridge("--demo")
    pg = None
    ours = odbc(bridge.port, "sqlspapi", "bench", "main")
    targets = {"sqlspapi serve, same query": (ours, sql, None),
               # stored rows on both sides: the client's own temp table vs a PostgreSQL table
               "sqlspapi serve, temp table t": (ours, "SELECT id, name, val FROM t", f"CREATE TEMP TABLE t AS {sql}")}
    try:
        if (PG_BIN / "initdb").exists():
            pg = Postgres()
            cs = odbc(pg.port, "postgres", "", "postgres")
            cn = pyodbc.connect(cs, autocommit=True)
            pg_sql = GENERATED_PG.format(n=ROWS)
            cn.execute(f"CREATE TABLE t AS {pg_sql}")
            cn.close()
            targets["PostgreSQL 15, same query"] = (cs, pg_sql, None)
            targets["PostgreSQL 15, table t"] = (cs, "SELECT id, name, val FROM t", None)
        else:
            print(f"PostgreSQL baseline skipped: no server binary at {PG_BIN} (apt-get install postgresql)")
        res = interleaved(targets, runs)
    finally:
        bridge.stop()
        if pg is not None:
            pg.stop()
    for name, (median, best, n) in res.items():
        print(f"pyodbc → psqlODBC → {name:28}: median {median:.3f} s, best {best:.3f} s ({n} rows)")
    pairs = [("sqlspapi serve, same query", "PostgreSQL 15, same query"),
             ("sqlspapi serve, temp table t", "PostgreSQL 15, table t")]
    for mine, theirs in pairs:
        if theirs in res:
            print(f"ratio {mine} / {theirs}: median {res[mine][0] / res[theirs][0]:.2f}×, "
                  f"best {res[mine][1] / res[theirs][1]:.2f}× (target <= 1.5×)")


def bench_concurrency(clients: int) -> None:
    import pyodbc

    if DRIVER not in pyodbc.drivers():
        print("concurrency benchmark skipped: no psqlODBC driver")
        return
    from sqlspapi import emulator
    from sqlspapi.server import SHARE_WINDOW

    with emulator.start(time_scale=100.0) as emu:
        bridge = Bridge(emu.connection_string())
        try:
            cs = odbc(bridge.port, "sqlspapi", "bench", "main")
            emu.calls.clear()
            t = time.perf_counter()
            one = pyodbc.connect(cs, autocommit=True).cursor().execute(DASHBOARD).fetchall()
            single_time, single_calls = time.perf_counter() - t, len(emu.calls)
            time.sleep(SHARE_WINDOW + 0.5)  # let the single client's answers expire: the 20 share only each other's
            emu.calls.clear()
            barrier = threading.Barrier(clients)
            results: list[object] = []

            def client() -> None:
                cn = pyodbc.connect(cs, autocommit=True)
                barrier.wait()
                results.append(cn.cursor().execute(DASHBOARD).fetchall())
                cn.close()

            t = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            many_time, many_calls = time.perf_counter() - t, len(emu.calls)
        finally:
            bridge.stop()
    same = all(r == one for r in results)
    print(f"1 client : {single_calls} SP-API calls, {single_time:.2f} s")
    print(f"{clients} clients: {many_calls} SP-API calls, {many_time:.2f} s, all answers identical: {same}, "
          f"calls ratio {many_calls / max(single_calls, 1):.2f}×")


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p95) of ``seconds``, nearest rank."""
    ordered = sorted(seconds)
    return ordered[(len(ordered) - 1) // 2], ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed_mix(port: int, rounds: int, barrier: threading.Barrier | None = None) -> list[tuple[int, float]]:
    """One psycopg client running :data:`LATENCY_MIX` ``rounds`` times: (query index, seconds) per statement."""
    import psycopg

    seconds = []
    with psycopg.connect(host="127.0.0.1", port=port, user="sqlspapi", password="bench", dbname="main",
                         autocommit=True) as cn:
        if barrier is not None:
            barrier.wait()
        for _ in range(rounds):
            for i, sql in enumerate(LATENCY_MIX):
                t = time.perf_counter()
                cn.execute(sql).fetchall()
                seconds.append((i, time.perf_counter() - t))
    return seconds


def bench_latency(clients: int, rounds: int) -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("latency benchmark skipped: psycopg is not installed")
        return
    bridge = Bridge("--demo")
    try:
        timed_mix(bridge.port, 1)  # warm up: the demo's first answers, the catalog
        t = time.perf_counter()
        alone = timed_mix(bridge.port, rounds * 3)
        alone_rate = len(alone) / (time.perf_counter() - t)
        started: list[float] = []  # when every client had logged in: the barrier opens
        barrier = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))
        together: list[tuple[int, float]] = []
        failures: list[BaseException] = []

        def client() -> None:
            try:
                together.extend(timed_mix(bridge.port, rounds, barrier))
            except BaseException as exc:  # noqa: BLE001 - counted below
                failures.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started[0] if started else math.inf
    finally:
        bridge.stop()
    print(f"latency of {clients} concurrent clients vs 1 client alone ({len(together)} and {len(alone)} statements; "
          f"{len(together) / wall:.0f} vs {alone_rate:.0f} statements/s; {len(failures)} clients failed):")
    names = ("all", "marketplaces", "orders LIMIT 25", "catalog (pg_class)")
    for k, name in enumerate(names):
        one = percentiles([s for i, s in alone if k == 0 or i == k - 1])
        many = percentiles([s for i, s in together if k == 0 or i == k - 1])
        print(f"  {name:19}: 1 client p50 {one[0] * 1e3:7.2f} ms, p95 {one[1] * 1e3:7.2f} ms | {clients} clients p50 "
              f"{many[0] * 1e3:8.2f} ms ({many[0] / one[0]:5.1f}×), p95 {many[1] * 1e3:8.2f} ms "
              f"({many[1] / one[1]:5.1f}×)")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--latency-clients", type=int, default=30)
    p.add_argument("--latency-rounds", type=int, default=10, help="rounds of the query mix per client")
    p.add_argument("--only", choices=["rows", "concurrency", "latency"])
    args = p.parse_args(argv)
    if args.only in (None, "rows"):
        bench_rows(args.runs)
    if args.only in (None, "concurrency"):
        bench_concurrency(args.clients)
    if args.only in (None, "latency"):
        bench_latency(args.latency_clients, args.latency_rounds)


if __name__ == "__main__":
    main()
