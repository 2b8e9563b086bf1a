"""The emulator as a server over real HTTP: sellers, unknown paths, rate limits and the time scale, determinism,
the call log, fault injection, its connection string, stopping, and its command line."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from emulator_http import ALL, ANCHOR, EPOCH, UK, US, error, get, token

from sqlspapi.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    main,
    start,
)
from sqlspapi.emulator.cli import build_parser
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.orders_v0 import render_order as render_v0

EMULATOR = {"orders": 600, "anchor": ANCHOR}  # for the ``emu`` fixture of conftest.py


# -- sellers, unknown paths, headers ----------------------------------------------------------------------------
def test_marketplace_participations(emu, tok):
    r = get(emu, "/sellers/v1/marketplaceParticipations", tok)
    assert r.status_code == 200
    payload = r.json()["payload"]
    by_country = {p["marketplace"]["countryCode"]: p["marketplace"] for p in payload}
    assert set(by_country) == {"US", "CA", "DE", "GB", "JP"}
    assert by_country["GB"]["id"] == UK and by_country["JP"]["defaultCurrencyCode"] == "JPY"
    assert r.headers["x-amzn-RateLimit-Limit"] == emu.rate_limit_header("getMarketplaceParticipations")
    assert get(emu, "/sellers/v1/account", tok).json()["payload"]["sellingPlan"] == "PROFESSIONAL"


def test_unknown_path(emu, tok):
    r = get(emu, "/catalog/2099-01-01/nothing", tok)
    assert r.status_code == 404 and error(r)["code"] == "NotFound"
    assert r.headers["x-amzn-RequestId"]
    r = requests.delete(emu.url + "/orders/v0/orders", headers={"x-amz-access-token": tok})
    assert r.status_code == 404


# -- rate limits -------------------------------------------------------------------------------------------------
def test_burst_then_429():
    with start(orders=100, anchor=ANCHOR) as e:
        t = token(e)
        statuses = [get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US).status_code
                    for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US)
        assert r.status_code == 429
        assert r.json() == {"errors": [{"code": "QuotaExceeded",
                                        "message": "You exceeded your quota for the requested resource.",
                                        "details": ""}]}
        assert "x-amzn-RateLimit-Limit" not in r.headers and r.headers["x-amzn-RequestId"]
        ok = get(e, "/sellers/v1/marketplaceParticipations", t)  # other operations have their own buckets
        assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "0.016"
        e.add_account("Atzr|second-seller")  # ... and so do other accounts
        t2 = token(e, "Atzr|second-seller")
        assert get(e, "/orders/v0/orders", t2, CreatedAfter=EPOCH, MarketplaceIds=US).status_code == 200


def test_time_scale_honoured():
    with start(orders=50, time_scale=62.5, anchor=ANCHOR) as e:  # getMarketplaceParticipations: 1 request/s
        t = token(e)
        first = get(e, "/sellers/v1/marketplaceParticipations", t)
        assert first.headers["x-amzn-RateLimit-Limit"] == "1"
        statuses = [get(e, "/sellers/v1/marketplaceParticipations", t).status_code for _ in range(15)]
        assert statuses[:14] == [200] * 14 and statuses[-1] == 429
        time.sleep(1.1)
        assert get(e, "/sellers/v1/marketplaceParticipations", t).status_code == 200
    with start(orders=50, time_scale=100, anchor=ANCHOR) as e:
        t = token(e)
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US)
        assert r.headers["x-amzn-RateLimit-Limit"] == "1.67"
        assert e.rate_limit_header("searchOrders") == "0.56"


# -- determinism, call log, faults, CLI --------------------------------------------------------------------------
def test_determinism():
    a, b, c = Dataset(seed=3, orders=300, anchor=ANCHOR), Dataset(seed=3, orders=300, anchor=ANCHOR), \
        Dataset(seed=4, orders=300, anchor=ANCHOR)
    assert [render_v0(o, {"buyerInfo", "shippingAddress"}) for o in a.orders] == \
        [render_v0(o, {"buyerInfo", "shippingAddress"}) for o in b.orders]
    assert [o.order_id for o in a.orders] != [o.order_id for o in c.orders]
    t0 = time.perf_counter()
    big = Dataset(seed=7, orders=3500, anchor=ANCHOR)
    assert time.perf_counter() - t0 < 1.0 and len(big.orders) == 3500
    assert len({o.order_id for o in big.orders}) == 3500
    assert {o.status for o in big.orders} == {"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped",
                                              "Shipped", "InvoiceUnconfirmed", "Canceled", "Unfulfillable"}
    assert {o.market.key for o in big.orders} == {"US", "CA", "DE", "UK", "JP"}
    assert {o.channel for o in big.orders} == {"AFN", "MFN"}
    assert {o.payment_method for o in big.orders} == {"COD", "CVS", "Other"}


def test_same_seed_same_http_answer():
    with start(orders=100, seed=11, anchor=ANCHOR) as e1, start(orders=100, seed=11, anchor=ANCHOR) as e2:
        params = {"CreatedAfter": "2025-01-01T00:00:00Z", "CreatedBefore": "2025-12-01T00:00:00Z",
                  "MarketplaceIds": ALL}
        assert get(e1, "/orders/v0/orders", token(e1), **params).json() == \
            get(e2, "/orders/v0/orders", token(e2), **params).json()


def test_call_log(emu, tok):
    emu.calls.clear()
    t = token(emu)
    get(emu, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US, MaxResultsPerPage=1)
    get(emu, "/orders/v0/orders", t, MarketplaceIds=US)
    calls = list(emu.calls)
    assert [c.operation for c in calls] == ["lwaToken", "getOrders", "getOrders"]
    assert [c.status for c in calls] == [200, 200, 400]
    assert calls[1].params == {"CreatedAfter": EPOCH, "MarketplaceIds": US, "MaxResultsPerPage": "1"}
    assert calls[1].method == "GET" and calls[1].path == "/orders/v0/orders" and calls[1].time > 0
    assert "client_secret" not in calls[0].params and "refresh_token" not in calls[0].params
    assert emu.calls.count("getOrders", 400) == 1
    emu.calls.clear()
    assert len(emu.calls) == 0


@pytest.mark.parametrize("status, code", [(503, "ServiceUnavailable"), (500, "InternalFailure"),
                                          (429, "QuotaExceeded")])
def test_fault_injection(emu, tok, status, code):
    rec = emu.orders[0]
    emu.fail_next("getOrder", status, 2)
    got = [get(emu, f"/orders/v0/orders/{rec.order_id}", tok) for _ in range(3)]
    assert [r.status_code for r in got] == [status, status, 200]
    assert error(got[0])["code"] == code


def test_fault_injection_lwa(emu):
    emu.fail_next("lwaToken", 503)
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
    assert r.status_code == 503 and r.json()["error"] == "server_error"
    assert token(emu)


def test_connection_string(emu):
    cs = emu.connection_string(Marketplaces="US,DE", Weird="a=b")
    assert cs.startswith(f"ClientId=demo-client-id;ClientSecret=demo-client-secret;"
                         f"RefreshToken={{Atzr|demo-refresh-token}};TokenUrl={emu.url}/auth/o2/token;"
                         f"Endpoint={emu.url}")
    assert cs.endswith(";Marketplaces=US,DE;Weird={a=b}")
    assert emu.url.startswith("http://127.0.0.1:") and emu.host == "127.0.0.1"


def test_stop_closes_socket_and_keep_alive_connections():
    e = start(orders=10)
    url = e.url
    session = requests.Session()
    assert session.get(url + "/nothing", timeout=2).status_code == 404  # a kept-alive connection
    e.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/sellers/v1/account", timeout=2)
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/nothing", timeout=2)


def test_cli_parser_and_main():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.time_scale, args.seed, args.orders, args.token_lifetime) == \
        ("127.0.0.1", 8000, 1.0, 7, 2000, 3600.0)
    assert main(["--time-scale", "0"]) == 2
    proc = subprocess.Popen([sys.executable, "-c", "from sqlspapi.emulator import main; main(['--port', '0'])"],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        second, third = proc.stdout.readline(), proc.stdout.readline()
        assert "http://127.0.0.1:" in first
        assert "Connection string" in second and "TokenUrl=http://127.0.0.1:" in third
        url = first.split()[4]
        assert requests.get(url + "/nothing", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
