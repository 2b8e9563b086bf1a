"""Benchmark: SP-API calls and wall time of sqlspapi on the emulator, printed as ratios (no assertions).

(a) API calls made vs the minimum for a fixed query suite.
(b) Wall time of a 30-page getOrders scan vs the token-bucket floor (target ≤ 1.05×, zero 429s), and vs the same
    scan done with python-amazon-sp-api's ``load_all_pages`` + ``throttle_retry`` pointed at the emulator.

Run: ``python benchmarks/bench_api_calls.py [--time-scale 200] [--skip-sp-api]`` (needs ``pip install -e '.[bench]'``
for the python-amazon-sp-api comparison).
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.engine import open_database

PAGES = 30
ORDERS = PAGES * 100  # getOrders pages hold 100 orders
RATE, BURST = 0.0167, 20  # getOrders' published usage plan


def suite(scale: float) -> None:
    """(a) calls made vs the minimum."""
    emu = start(time_scale=scale)
    try:
        with open_database(emu.connection_string(OrdersApiVersion="v0")) as db:
            con = db.connection
            db.marketplace_ids()  # the one cached Sellers call, outside the suite
            ids = [r[0] for r in con.execute("SELECT AmazonOrderId FROM orders WHERE PurchaseDate >= '2000-01-01'")]
            cases = [
                ("IN of 120 ids", f"SELECT * FROM orders WHERE AmazonOrderId IN ({','.join('?' * 120)})", ids[:120], 3),
                ("LIMIT 5", "SELECT * FROM orders LIMIT 5", (), 1),
                ("one id", "SELECT * FROM orders WHERE AmazonOrderId = ?", ids[:1], 1),
                ("status IN + channel", "SELECT count(*) FROM orders WHERE OrderStatus IN ('Shipped','Unshipped') "
                 "AND FulfillmentChannel = 'AFN' AND PurchaseDate >= date('now', '-3 days')", (), 1),
                ("impossible filter", "SELECT * FROM orders WHERE OrderStatus = 'Shipped' AND OrderStatus = 'Pending'",
                 (), 0),
            ]
            print("(a) API calls vs the minimum")
            total = minimum = 0
            for name, sql, binds, least in cases:
                con.execute(sql, binds).fetchall()
                made = len(db.last_calls())
                total, minimum = total + made, minimum + least
                ratio = f"{made / least:.2f}x" if least else ("ok" if made == 0 else "extra calls")
                print(f"    {name:24s} {made:3d} calls, minimum {least:3d}  -> {ratio}")
            print(f"    suite total              {total:3d} calls, minimum {minimum:3d}  -> {total / minimum:.2f}x")
    finally:
        emu.stop()


def scan_sqlspapi(scale: float) -> tuple[float, int, int]:
    """Seconds for the 30-page scan, 429s seen by the emulator, getOrders calls."""
    emu = start(time_scale=scale, orders=ORDERS)
    try:
        with open_database(emu.connection_string(OrdersApiVersion="v0", MarketplaceIds="US,CA,DE,UK,JP")) as db:
            t0 = time.perf_counter()
            n = db.connection.execute("SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'").fetchone()[0]
            elapsed = time.perf_counter() - t0
            assert n == ORDERS, n
        throttled = sum(1 for c in emu.calls if c.status == 429)
        pages = sum(1 for c in emu.calls if c.operation == "getOrders" and c.status == 200)
        return elapsed, throttled, pages
    finally:
        emu.stop()


def scan_sp_api(scale: float, use_header: bool) -> tuple[float, int, int] | None:
    """The same scan with python-amazon-sp-api (load_all_pages + throttle_retry), or None if not installed."""
    try:
        from sp_api.api import Orders
        from sp_api.auth import access_token_client
        from sp_api.auth.access_token_client import AccessTokenClient
        from sp_api.util import load_all_pages, throttle_retry
    except ImportError:
        return None
    access_token_client.cache.clear()  # its token cache outlives our emulators
    emu = start(time_scale=scale, orders=ORDERS)
    try:
        host = emu.url.removeprefix("http://")

        class EmulatorTokenClient(AccessTokenClient):
            scheme = "http://"

        EmulatorTokenClient.host = host
        credentials = {"lwa_app_id": DEMO_CLIENT_ID, "lwa_client_secret": DEMO_CLIENT_SECRET}

        @throttle_retry()
        @load_all_pages(use_rate_limit_header=use_header)
        def load_all_orders(**kwargs):
            client = Orders(credentials=credentials, refresh_token=DEMO_REFRESH_TOKEN,
                            auth_token_client_class=EmulatorTokenClient)
            client.endpoint = emu.url
            return client.get_orders(**kwargs)

        markets = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"]
        t0 = time.perf_counter()
        n = 0
        for page in load_all_orders(CreatedAfter="2000-01-01T00:00:00Z", MarketplaceIds=markets):
            n += len(page.payload.get("Orders", []))
        elapsed = time.perf_counter() - t0
        throttled = sum(1 for c in emu.calls if c.status == 429)
        pages = sum(1 for c in emu.calls if c.operation == "getOrders" and c.status == 200)
        if n != ORDERS:
            print(f"    (python-amazon-sp-api read {n} orders, expected {ORDERS})")
        return elapsed, throttled, pages
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=200.0, help="emulator clock speed-up (default 200)")
    parser.add_argument("--skip-sp-api", action="store_true", help="skip the python-amazon-sp-api comparison")
    args = parser.parse_args(argv)
    scale = args.time_scale

    suite(scale * 10)

    floor = (PAGES - BURST) / (RATE * scale)
    print(f"\n(b) {PAGES}-page getOrders scan, emulator time scale {scale:g}")
    elapsed, throttled, pages = scan_sqlspapi(scale)
    print(f"    sqlspapi: {pages} pages, {throttled} responses 429, "
          f"{elapsed / floor:.3f}x the token-bucket floor (target <= 1.05x)")
    if args.skip_sp_api:
        return 0
    for use_header in (False, True):
        result = scan_sp_api(scale, use_header)
        if result is None:
            print("    python-amazon-sp-api not installed: pip install -e '.[bench]'")
            break
        other, other_429, other_pages = result
        how = "rate-limit header" if use_header else "default 2 s sleep"
        print(f"    python-amazon-sp-api load_all_pages ({how}) + throttle_retry: {other_pages} pages, "
              f"{other_429} responses 429, {other / floor:.2f}x the floor; sqlspapi is {other / elapsed:.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
