"""Benchmark: SP-API calls and wall time of sqlspapi on the emulator, printed as ratios (no assertions).

(a) API calls made vs the minimum for a fixed query suite (the table ``CASES``: one line per query).
(b) Wall time of a 30-page getOrders scan vs the token-bucket floor (target <= 1.05x, zero 429s), and vs the same
    scan done with python-amazon-sp-api's ``load_all_pages`` + ``throttle_retry`` pointed at the emulator.

Fairness of (b): the emulator runs Amazon's usage plans ``time_scale`` times faster, so every wait of both clients is
measured in the same scaled time. sqlspapi paces itself by the emulator's (scaled) rate header and 429s. The peer
is run with its own pacing parameters converted to scaled time: ``load_all_pages(throttle_by_seconds=2 / scale)``
and ``throttle_retry(delay=5 / scale)`` (2 s and 5 s are the library's defaults, read from its signatures), i.e.
exactly its default behaviour as it would be against Amazon. With ``use_rate_limit_header=True`` the peer sleeps
``1 / x-amzn-RateLimit-Limit``, which the emulator already sends scaled, so nothing else is changed. Nothing of
the peer is patched. A peer run that raises is reported as a result line (pages read, 429s, the error).

Run: ``python benchmarks/bench_api_calls.py [--quick] [--time-scale 200,20] [--skip-sp-api] [--calls-only]`` (needs
``pip install -e '.[bench]'`` for the python-amazon-sp-api comparison).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Emulator, start
from sqlspapi.engine import Database, open_database

PAGES = 30
ORDERS = PAGES * 100  # getOrders pages hold 100 orders
RATE, BURST = 0.0167, 20  # getOrders' published usage plan
V0 = {"OrdersApiVersion": "v0"}
US_ID = "ATVPDKIKX0DER"
US = {"MarketplaceIds": "US"}


def marks(n: int) -> str:
    """``n`` comma-separated SQL parameter marks."""
    return ",".join("?" * n)


def order_ids(emu: Emulator) -> list[str]:
    """Every emulator order id, oldest first."""
    return [o.order_id for o in emu.orders]


def catalog_asins(emu: Emulator) -> list[str]:
    """The ASINs of the emulator's catalog in the US marketplace."""
    return [row["asin"] for row, query, _path in emu.export("searchCatalogItems", "2022-04-01")
            if query["marketplaceIds"] == [US_ID]]


def inventory_skus(emu: Emulator) -> list[str]:
    """The SKUs with FBA inventory in the US marketplace."""
    return [row["sellerSku"] for row, query, _path in emu.export("getInventorySummaries")
            if query["marketplaceIds"] == [US_ID]]


def seller_asins(emu: Emulator) -> list[str]:
    """The ASINs the demo seller sells (its 60 products)."""
    return [p.asin for p in emu.dataset.products]


def hundred_asins(emu: Emulator) -> list[str]:
    """100 ASINs: the seller's 60, then catalog ASINs it does not sell (Amazon answers those too, per item)."""
    own = seller_asins(emu)
    return (own + [a for a in catalog_asins(emu) if a not in set(own)])[:100]


def hundred_fee_requests(emu: Emulator) -> list[str]:
    """One JSON array of 100 (SKU, price) estimate requests: each of the 60 SKUs at two prices, the first 100."""
    import json

    pairs = [{"identifier": p.sku, "price": round(p.usd_cents / 100 + extra, 2)}
             for extra in (0, 1) for p in emu.dataset.products]
    return [json.dumps(pairs[:100])]


def year_of_transactions(emu: Emulator) -> int:
    """The fewest listTransactions calls for the last 365 days: 3 windows of at most 180 days (Amazon's limit), each
    paged at 100 transactions (an empty window still costs its one call)."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    start = (now - timedelta(days=365)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = now - timedelta(minutes=2)
    cuts = [start + timedelta(days=180 * i) for i in range(3)] + [end]
    posted = [datetime.fromisoformat(row["postedDate"].replace("Z", "+00:00"))
              for row, _q, _p in emu.export("listTransactions")]
    counts = [sum(a <= t < b for t in posted) for a, b in zip(cuts, cuts[1:], strict=False)]
    return sum(max(1, -(-n // 100)) for n in counts)


class Case(NamedTuple):
    """One query of the call-count suite: what it costs at least, on a connection with ``keys``."""

    description: str
    keys: Mapping[str, str]  # connection-string keys besides the emulator's own
    sql: str
    minimum: int | Callable[[Emulator], int]  # the fewest SP-API calls that can answer it (or how to count them)
    binds: Callable[[Emulator], Sequence[Any]] | None = None  # the statement's parameters, from the emulator's data


CASES: list[Case] = [
    Case("IN of 120 ids", V0, f"SELECT * FROM orders WHERE AmazonOrderId IN ({marks(120)})", 3,
         lambda emu: order_ids(emu)[-120:]),
    Case("LIMIT 5", V0, "SELECT * FROM orders LIMIT 5", 1),
    Case("one id", V0, "SELECT * FROM orders WHERE AmazonOrderId = ?", 1, lambda emu: order_ids(emu)[-1:]),
    Case("status IN + channel", V0, "SELECT count(*) FROM orders WHERE OrderStatus IN ('Shipped','Unshipped') "
         "AND FulfillmentChannel = 'AFN' AND PurchaseDate >= date('now', '-3 days')", 1),
    Case("impossible filter", V0, "SELECT * FROM orders WHERE OrderStatus = 'Shipped' AND OrderStatus = 'Pending'", 0),
    Case("catalog_items, 60 ASINs", US, f"SELECT asin, itemName FROM catalog_items WHERE asin IN ({marks(60)})", 3,
         lambda emu: catalog_asins(emu)[:60]),
    Case("fba_inventory_summaries, 120 SKUs", US,
         f"SELECT sellerSku, totalQuantity FROM fba_inventory_summaries WHERE sellerSku IN ({marks(120)})", 3,
         lambda emu: (inventory_skus(emu) + [f"NO-SUCH-SKU-{i:03d}" for i in range(120)])[:120]),
    Case("spapi_request, one raw getOrders page", US,
         "SELECT count(*) FROM spapi_request('GET', '/orders/v0/orders', "
         "'{\"MarketplaceIds\": \"ATVPDKIKX0DER\", \"CreatedAfter\": \"2026-01-01T00:00:00Z\"}', NULL, "
         "'$.payload.Orders')", 1),
    # Issue 10: one query per API, at its batch and window limits
    Case("competitive_summary, 100 ASINs", US,
         f"SELECT asin, featuredOffer_listingPrice_amount FROM competitive_summary WHERE asin IN ({marks(100)})", 5,
         hundred_asins),
    Case("item_offers, 100 ASINs", US, f"SELECT asin, sellerId, listingPrice_amount FROM item_offers "
         f"WHERE asin IN ({marks(100)})", 5, hundred_asins),
    Case("fees_estimates, 100 SKU x price", US,
         "SELECT sku, totalFees_amount FROM fees_estimates(?, NULL, NULL, NULL, 'ATVPDKIKX0DER')", 5,
         hundred_fee_requests),
    Case("transactions, one year", US, "SELECT count(*) FROM transactions WHERE postedDate >= date('now', '-365 days')",
         year_of_transactions),
    Case("financial_event_groups, 90 days", {**US, "FinancesApiVersion": "v0"},
         "SELECT count(*) FROM financial_event_groups WHERE FinancialEventGroupStart >= date('now', '-90 days')", 1),
    Case("listings_items, 60 SKUs", {**US, "SellerId": "A1EMULATORDEMO"},
         f"SELECT sku, price_amount FROM listings_items WHERE sku IN ({marks(60)})", 3,
         lambda emu: [p.sku for p in emu.dataset.products]),
    Case("vendor_purchase_orders, one PO", US,
         "SELECT * FROM vendor_purchase_orders WHERE purchaseOrderNumber = ?", 1,
         lambda emu: [emu.export("getPurchaseOrders")[0][0]["purchaseOrderNumber"]]),
    Case("notification_subscriptions, 2 types", US, "SELECT * FROM notification_subscriptions "
         "WHERE notificationType IN ('ORDER_CHANGE', 'ANY_OFFER_CHANGED')", 2),
    Case("shipping_tracking, 2 tracking ids", US, "SELECT * FROM shipping_tracking WHERE trackingId IN (?, ?)", 2,
         lambda emu: [row["trackingId"] for row, _q, _p in emu.export("getTrackingInformation")[:2]]),
    Case("service_jobs, one job", US, "SELECT * FROM service_jobs WHERE serviceJobId = ?", 1,
         lambda emu: [emu.export("getServiceJobByServiceJobId")[0][2]["serviceJobId"]]),
    Case("sales_traffic_by_date, 7 days (Data Kiosk)", US, "SELECT startDate, sales_unitsOrdered "
         "FROM sales_traffic_by_date WHERE startDate >= date('now', '-7 days')", 3),
]


def suite(scale: float) -> bool:
    """(a) calls made vs the minimum; False when a query failed."""
    emu = start(time_scale=scale)
    databases: dict[tuple[tuple[str, str], ...], Database] = {}
    ok = True
    print(f"(a) API calls vs the minimum (emulator time scale {scale:g})")
    try:
        total = minimum = 0
        for case in CASES:
            key = tuple(sorted(case.keys.items()))
            try:
                if key not in databases:
                    databases[key] = open_database(emu.connection_string(**dict(key)))
                    databases[key].marketplace_ids()  # the one cached Sellers call, outside the suite
                db = databases[key]
                db.connection.execute(case.sql, case.binds(emu) if case.binds else ()).fetchall()
            except Exception as exc:  # a failing query is a result of this benchmark, not its end
                ok = False
                print(f"    {case.description:40s} FAILED: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            made = len(db.last_calls())
            least = case.minimum(emu) if callable(case.minimum) else case.minimum
            total, minimum = total + made, minimum + least
            ratio = f"{made / least:.2f}x" if least else ("ok" if made == 0 else "extra calls")
            print(f"    {case.description:40s} {made:3d} calls, minimum {least:3d}  -> {ratio}")
        suite_ratio = f"{total / minimum:.2f}x" if minimum else "n/a"
        print(f"    {'suite total':40s} {total:3d} calls, minimum {minimum:3d}  -> {suite_ratio} "
              f"(time scale {scale:g})")
    finally:
        for db in databases.values():
            db.close()
        emu.stop()
    return ok


class ScanResult(NamedTuple):
    """One 30-page scan: wall seconds, 429s the emulator answered, getOrders pages served, error (if it failed)."""

    seconds: float
    throttled: int
    pages: int
    error: str = ""


def _served(emu: Emulator, seconds: float, error: str = "") -> ScanResult:
    throttled = sum(1 for c in emu.calls if c.status == 429)
    pages = sum(1 for c in emu.calls if c.operation == "getOrders" and c.status == 200)
    return ScanResult(seconds, throttled, pages, error)


def _error(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)  # python-amazon-sp-api's exceptions carry .message
    return f"{type(exc).__name__}: {str(message)[:100]}"


def scan_sqlspapi(scale: float) -> ScanResult:
    """The 30-page scan through sqlspapi."""
    emu = start(time_scale=scale, orders=ORDERS)
    try:
        with open_database(emu.connection_string(OrdersApiVersion="v0", MarketplaceIds="US,CA,DE,UK,JP")) as db:
            t0 = time.perf_counter()
            try:
                n = db.connection.execute("SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'")\
                    .fetchone()[0]
            except Exception as exc:
                return _served(emu, time.perf_counter() - t0, _error(exc))
            elapsed = time.perf_counter() - t0
        return _served(emu, elapsed, "" if n == ORDERS else f"read {n} orders, expected {ORDERS}")
    finally:
        emu.stop()


def scan_sp_api(scale: float, use_header: bool) -> ScanResult | None:
    """The same scan with python-amazon-sp-api (load_all_pages + throttle_retry), or None if not installed."""
    try:
        from sp_api.api import Orders
        from sp_api.auth import access_token_client
        from sp_api.auth.access_token_client import AccessTokenClient
        from sp_api.util import load_all_pages, throttle_retry
        from sp_api.util.retry import retry
    except ImportError:
        return None
    # The library's default pacing (2 s between pages, 5 s first retry delay), converted to the emulator's time.
    page_sleep = inspect.signature(load_all_pages).parameters["throttle_by_seconds"].default / scale
    retry_delay = inspect.signature(retry).parameters["delay"].default / scale
    access_token_client.cache.clear()  # its token cache outlives our emulators
    emu = start(time_scale=scale, orders=ORDERS)
    try:
        host = emu.url.removeprefix("http://")

        class EmulatorTokenClient(AccessTokenClient):
            scheme = "http://"

        EmulatorTokenClient.host = host
        credentials = {"lwa_app_id": DEMO_CLIENT_ID, "lwa_client_secret": DEMO_CLIENT_SECRET}

        @throttle_retry(delay=retry_delay)
        @load_all_pages(throttle_by_seconds=page_sleep, use_rate_limit_header=use_header)
        def load_all_orders(**kwargs):
            client = Orders(credentials=credentials, refresh_token=DEMO_REFRESH_TOKEN,
                            auth_token_client_class=EmulatorTokenClient)
            client.endpoint = emu.url
            return client.get_orders(**kwargs)

        markets = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"]
        t0 = time.perf_counter()
        n = 0
        try:
            for page in load_all_orders(CreatedAfter="2000-01-01T00:00:00Z", MarketplaceIds=markets):
                n += len(page.payload.get("Orders", []))
        except Exception as exc:  # the peer's failure is a result, reported as such
            return _served(emu, time.perf_counter() - t0, _error(exc))
        elapsed = time.perf_counter() - t0
        return _served(emu, elapsed, "" if n == ORDERS else f"read {n} orders, expected {ORDERS}")
    finally:
        emu.stop()


def _describe(result: ScanResult, floor: float, scale: float) -> str:
    head = f"{result.pages} pages, {result.throttled} responses 429"
    if result.error:
        return f"{head}, FAILED after {result.seconds:.2f} s ({result.seconds / floor:.2f}x the floor at time " \
               f"scale {scale:g}): {result.error}"
    return f"{head}, {result.seconds / floor:.3f}x the token-bucket floor (time scale {scale:g})"


def scans(scale: float, with_peer: bool) -> bool:
    """(b) at one time scale; False when sqlspapi's own scan failed."""
    floor = (PAGES - BURST) / (RATE * scale)
    print(f"\n(b) {PAGES}-page getOrders scan, emulator time scale {scale:g} (floor {floor:.2f} s wall = "
          f"{floor * scale:.0f} s of Amazon time)")
    ours = scan_sqlspapi(scale)
    print(f"    sqlspapi: {_describe(ours, floor, scale)} (target <= 1.05x, zero 429s)")
    if not with_peer:
        return not ours.error
    for use_header in (False, True):
        other = scan_sp_api(scale, use_header)
        if other is None:
            print("    python-amazon-sp-api not installed: pip install -e '.[bench]'")
            break
        how = "rate-limit header" if use_header else "default 2 s sleep, scaled"
        line = f"    python-amazon-sp-api load_all_pages ({how}) + throttle_retry: {_describe(other, floor, scale)}"
        if not other.error and not ours.error:
            line += f"; sqlspapi is {other.seconds / ours.seconds:.2f}x faster at time scale {scale:g}"
        print(line)
    return not ours.error


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print ratios; exit 1 when one of sqlspapi's own queries failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", help="comma-separated emulator clock speed-ups for (b) "
                                             "(default 200,20; --quick: 200)")
    parser.add_argument("--quick", action="store_true", help="(b) at time scale 200 only")
    parser.add_argument("--skip-sp-api", action="store_true", help="skip the python-amazon-sp-api comparison")
    parser.add_argument("--calls-only", action="store_true", help="(a) only: the call counts of the query suite")
    args = parser.parse_args(argv)
    scales = [float(s) for s in (args.time_scale or ("200" if args.quick else "200,20")).split(",")]

    ok = suite(max(scales) * 10)
    for scale in [] if args.calls_only else scales:
        ok = scans(scale, not args.skip_sp_api) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
