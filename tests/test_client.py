"""The HTTP client against the real emulator: limiter, retries, error mapping, single flight, call log.

Bucket arithmetic is tested with a fake clock (a clock, not a mock of our code). Everything else sends real HTTP
to ``sqlspapi.emulator`` (or, for answers the emulator never gives, to a tiny stub server in this file).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import OperationalError, SPAPIError, ThrottledError
from sqlspapi.http import retry as retry_mod
from sqlspapi.http.calllog import CallLog, CallRecord
from sqlspapi.http.client import Client
from sqlspapi.http.ratelimit import Limiter, TokenBucket
from sqlspapi.http.response import ApiResponse
from sqlspapi.http.retry import backoff_seconds, retry_allows
from sqlspapi.settings.connstr import RetryPolicy, parse

emulator = pytest.importorskip("sqlspapi.emulator")

GET_ORDERS = OperationSpec("getOrders", "orders", "v0", "GET", "/orders/v0/orders", 0.0167, 20, restricted=True)
GET_ORDER = OperationSpec("getOrder", "orders", "v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30)
PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)
US = "ATVPDKIKX0DER"
ORDERS_QUERY = {"MarketplaceIds": [US], "CreatedAfter": "2000-01-01T00:00:00Z"}



@pytest.fixture
def emu():
    with emulator.start(orders=120, time_scale=1000) as e:
        yield e


# ------------------------------------------------------------------------------------- bucket arithmetic


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_burst_then_waits_one_refill_per_call():
    clock = FakeClock()
    bucket = TokenBucket(2.0, 3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)
    assert bucket.acquire() == pytest.approx(0.5)
    clock.now += 10
    assert bucket.tokens == pytest.approx(3.0)  # capped at burst


def test_bucket_reservations_queue_in_order():
    clock = FakeClock()
    bucket = TokenBucket(4.0, 1, clock=clock, sleep=clock.sleep)
    assert bucket.reserve() == 0.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.25, 0.5, 0.75])


def test_bucket_drain_makes_next_call_wait():
    clock = FakeClock()
    bucket = TokenBucket(1.0, 10, clock=clock, sleep=clock.sleep)
    bucket.drain()
    assert bucket.reserve() == pytest.approx(1.0)


def test_learned_rate_refills_faster_without_adding_burst():
    clock = FakeClock()
    bucket = TokenBucket(0.0167, 20, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        bucket.acquire()
    assert bucket.observe_limit_header("16.7") is True
    assert bucket.rate == pytest.approx(16.7)
    assert bucket.burst == 20
    assert bucket.tokens == pytest.approx(0.0)
    assert bucket.reserve() == pytest.approx(1 / 16.7)
    clock.now += 100
    assert bucket.tokens == pytest.approx(20.0)
    assert bucket.observe_limit_header("16.7") is False
    for bad in ("", None, "abc", "0", "-1", "nan"):
        assert bucket.observe_limit_header(bad) is False
    assert bucket.rate == pytest.approx(16.7)


def test_bucket_is_thread_safe():
    clock = FakeClock()
    bucket = TokenBucket(10.0, 5, clock=clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            w = bucket.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 400 reservations at a frozen clock: 5 free, then one every 0.1 s, each distinct.
    assert sorted(waits) == pytest.approx([0.0] * 5 + [0.1 * k for k in range(1, 396)])


def test_limiter_registry_per_operation():
    lim = Limiter()  # one per account (each AccountRuntime owns one)
    assert lim.bucket(GET_ORDERS) is lim.bucket(GET_ORDERS)
    assert lim.bucket(GET_ORDERS) is not Limiter().bucket(GET_ORDERS)
    assert lim.bucket(GET_ORDERS) is not lim.bucket(GET_ORDER)
    assert lim.bucket(GET_ORDERS).rate == pytest.approx(0.0167)
    assert lim.bucket(GET_ORDERS).burst == 20


def test_retry_policy_arithmetic():
    none = RetryPolicy(mode="None")
    anyp = RetryPolicy(mode="RetryAny", count_max=2, multiply_wait=True, first_wait_ms=100)
    match = RetryPolicy(mode="RetryWhenStatusCodeMatch", status_codes=frozenset({503}), count_max=3,
                        multiply_wait=False, first_wait_ms=50)
    assert not retry_allows(none, 429, 0)
    assert not retry_allows(none, None, 0)
    assert retry_allows(anyp, 429, 0) and retry_allows(anyp, 500, 1) and retry_allows(anyp, None, 1)
    assert not retry_allows(anyp, 429, 2)
    assert not retry_allows(anyp, 400, 0)
    assert retry_allows(match, 503, 2) and not retry_allows(match, 429, 0) and retry_allows(match, None, 0)
    assert [backoff_seconds(anyp, n) for n in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    assert [backoff_seconds(match, n) for n in range(3)] == pytest.approx([0.05, 0.05, 0.05])


def test_call_log_statements_and_bound():
    log = CallLog(maxlen=3)

    def rec(i):
        return CallRecord(f"op{i}", "GET", "/p", {}, 200, 0.0, 0.0, 0.0, None)

    log.append(rec(0))
    log.mark_statement()
    assert log.last_statement() == []
    for i in range(1, 5):
        log.append(rec(i))
    assert len(log) == 3
    assert [r.operation for r in log] == ["op2", "op3", "op4"]
    assert [r.operation for r in log.last_statement()] == ["op2", "op3", "op4"]  # bounded by what is kept
    marker = log.mark_statement()
    log.append(rec(5))
    assert [r.operation for r in log.last_statement()] == ["op5"]
    assert [r.operation for r in log.since(marker)] == ["op5"]
    assert log[-1].operation == "op5"


# ------------------------------------------------------------------------------------ against the emulator


def test_call_returns_response_and_logs_it(emu):
    client = Client(settings_for(emu))
    client.calls.mark_statement()
    resp = client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 5, "OrderStatuses": None})
    assert isinstance(resp, ApiResponse)
    assert resp.status == 200
    assert len(resp.json["payload"]["Orders"]) == 5
    assert resp.request_id and resp.request_id == resp.headers["x-amzn-RequestId"]
    [record] = client.calls.last_statement()
    assert record.operation == "getOrders" and record.status == 200 and not record.shared
    assert record.params == {"MarketplaceIds": US, "CreatedAfter": "2000-01-01T00:00:00Z",
                             "MaxResultsPerPage": "5"}
    assert record.request_id == resp.request_id
    [seen] = emu.calls.of("getOrders")
    assert seen.params["MarketplaceIds"] == US and "OrderStatuses" not in seen.params


def test_query_encoding_lists_and_booleans(emu):
    client = Client(settings_for(emu))
    client.call(GET_ORDERS, query={**ORDERS_QUERY, "MarketplaceIds": [US, "A2EUQ1WTGCTBG2"], "IsISPU": False,
                                   "MaxResultsPerPage": 1})
    [seen] = emu.calls.of("getOrders")
    assert seen.params["MarketplaceIds"] == f"{US},A2EUQ1WTGCTBG2"
    assert seen.params["IsISPU"] == "false"


def test_rate_learned_from_header(emu):
    client = Client(settings_for(emu))
    assert client.bucket(GET_ORDERS).rate == pytest.approx(0.0167)
    resp = client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1})
    learned = float(resp.headers["x-amzn-RateLimit-Limit"])
    assert learned == pytest.approx(0.0167 * 1000)
    assert client.bucket(GET_ORDERS).rate == pytest.approx(learned)
    assert client.bucket(GET_ORDERS).burst == 20


def test_steady_scan_beyond_burst_draws_no_429():
    with emulator.start(orders=120, time_scale=300) as emu:  # getOrders: 5 requests/s, burst 20
        client = Client(settings_for(emu, RetryMode="None"))
        query = {**ORDERS_QUERY, "MaxResultsPerPage": 1}
        pages = 0
        while True:
            payload = client.call(GET_ORDERS, query=query).json["payload"]
            pages += 1
            if "NextToken" not in payload or pages >= 32:
                break
            query = {"MarketplaceIds": [US], "NextToken": payload["NextToken"]}
        assert pages == 32  # burst is 20: the last pages had to wait for the bucket
        assert emu.calls.count("getOrders", 429) == 0
        assert emu.calls.count("getOrders", 200) == 32
        assert sum(r.throttle_wait for r in client.calls) > 0.5


def test_429_is_retried_and_succeeds(emu):
    client = Client(settings_for(emu, RetryMode="RetryAny", RetryCountMax=3))
    client.call(PARTICIPATIONS)  # learn the (time-scaled) rate: a 429 makes the next call wait one refill
    emu.calls.clear()
    emu.fail_next("getMarketplaceParticipations", 429, 2)
    resp = client.call(PARTICIPATIONS)
    assert resp.status == 200
    assert emu.calls.count("getMarketplaceParticipations", 429) == 2
    assert emu.calls.count("getMarketplaceParticipations", 200) == 1
    record = client.calls[-1]
    assert record.attempts == 3 and record.status == 200


def test_429_without_retries_raises_throttled_error_with_request_id(emu):
    client = Client(settings_for(emu, RetryMode="None"))
    emu.fail_next("getMarketplaceParticipations", 429, 1)
    with pytest.raises(ThrottledError) as info:
        client.call(PARTICIPATIONS)
    err = info.value
    assert err.status == 429 and err.code == "QuotaExceeded" and err.operation == "getMarketplaceParticipations"
    assert err.request_id and f"[request id {err.request_id}]" in str(err)
    assert str(err).startswith("getMarketplaceParticipations failed (HTTP 429 QuotaExceeded):")
    assert emu.calls.count("getMarketplaceParticipations") == 1
    assert client.calls[-1].status == 429 and client.calls[-1].request_id == err.request_id
    # the bucket was drained: the next call waits for a refill
    assert client.bucket(PARTICIPATIONS).tokens < 1


def test_429_after_all_retries_is_throttled_error(emu):
    client = Client(settings_for(emu, RetryMode="RetryAny", RetryCountMax=2))
    client.call(PARTICIPATIONS)
    emu.calls.clear()
    emu.fail_next("getMarketplaceParticipations", 429, 5)
    with pytest.raises(ThrottledError, match="after 2 retries"):
        client.call(PARTICIPATIONS)
    assert emu.calls.count("getMarketplaceParticipations", 429) == 3


def test_503_is_retried(emu):
    client = Client(settings_for(emu))  # default: RetryWhenStatusCodeMatch with 429,500,502,503,504
    emu.fail_next("getMarketplaceParticipations", 503, 1)
    assert client.call(PARTICIPATIONS).status == 200
    assert emu.calls.count("getMarketplaceParticipations", 503) == 1


def test_5xx_after_retries_is_spapi_error(emu):
    client = Client(settings_for(emu, RetryCountMax=1))
    emu.fail_next("getMarketplaceParticipations", 500, 3)
    with pytest.raises(SPAPIError) as info:
        client.call(PARTICIPATIONS)
    assert info.value.status == 500 and not isinstance(info.value, ThrottledError)
    assert emu.calls.count("getMarketplaceParticipations", 500) == 2


def test_status_not_in_list_is_not_retried(emu):
    client = Client(settings_for(emu, RetryMode="RetryWhenStatusCodeMatch", RetryStatusCodeList="503"))
    emu.fail_next("getMarketplaceParticipations", 500, 1)
    with pytest.raises(SPAPIError):
        client.call(PARTICIPATIONS)
    assert emu.calls.count("getMarketplaceParticipations") == 1


def test_spapi_error_fields_and_message(emu):
    client = Client(settings_for(emu))
    with pytest.raises(SPAPIError) as info:
        client.call(GET_ORDERS, query={"CreatedAfter": "2000-01-01T00:00:00Z"})
    err = info.value
    assert err.status == 400 and err.code == "InvalidInput" and err.operation == "getOrders"
    assert "MarketplaceIds" in err.api_message
    assert err.request_id
    assert str(err).startswith(f"getOrders failed (HTTP 400 InvalidInput): {err.api_message}")
    assert str(err).endswith(f"[request id {err.request_id}]")
    assert emu.calls.count("getOrders") == 1  # 400 is not retried


def test_404_maps_to_spapi_error(emu):
    client = Client(settings_for(emu))
    with pytest.raises(SPAPIError) as info:
        client.call(GET_ORDER, path={"orderId": "999-9999999-9999999"})
    assert info.value.status == 404 and info.value.code == "NotFound"


def test_single_flight_identical_gets_sent_once(emu):
    client = Client(settings_for(emu))
    # Make the first caller wait for the bucket so the others arrive while its call is in flight.
    bucket = client.bucket(PARTICIPATIONS)
    bucket.set_rate(4.0)
    bucket.drain()
    barrier = threading.Barrier(6)
    results: list[ApiResponse] = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        resp = client.call(PARTICIPATIONS)
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emu.calls.count("getMarketplaceParticipations") == 1
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert sorted(r.shared for r in client.calls) == [False] + [True] * 5


def test_single_flight_does_not_merge_different_calls(emu):
    client = Client(settings_for(emu))
    client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1})
    client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 2})
    client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1})  # sequential: sent again
    assert emu.calls.count("getOrders") == 3


def test_connection_error_names_endpoint(emu):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    client = Client(settings_for(emu, Endpoint=dead, RetryCountMax=1))
    with pytest.raises(OperationalError) as info:
        client.call(PARTICIPATIONS)
    assert dead in str(info.value) and "getMarketplaceParticipations" in str(info.value)
    assert client.calls[-1].status == 0 and client.calls[-1].attempts == 2


def test_long_waits_are_logged_when_stderr_is_not_a_tty(emu, caplog, monkeypatch):
    monkeypatch.setattr(retry_mod, "VISIBLE_WAIT", 0.05)
    client = Client(settings_for(emu, RetryWaitTimeMs=100))
    emu.fail_next("getMarketplaceParticipations", 503, 1)
    with caplog.at_level(logging.INFO, logger="sqlspapi.http.client"):
        client.call(PARTICIPATIONS)
    assert any("waiting 0.1 s for retry 1 of getMarketplaceParticipations" in r.getMessage()
               for r in caplog.records)


def test_repr_and_logs_hold_no_secrets(emu, caplog):
    settings = settings_for(emu)
    client = Client(settings)
    with caplog.at_level(logging.DEBUG):
        client.call(PARTICIPATIONS)
        emu.fail_next("getMarketplaceParticipations", 403, 1)
        with pytest.raises(SPAPIError) as info:
            client.call(PARTICIPATIONS)
    token = client.access_token()
    text = "\n".join([caplog.text, repr(client), str(info.value), repr(client.calls[-1]), repr(settings)])
    for secret in (emulator.DEMO_CLIENT_SECRET, emulator.DEMO_REFRESH_TOKEN, token):
        assert secret not in text
    assert repr(client) == f"Client(endpoint={emu.url!r}, client_id={emulator.DEMO_CLIENT_ID!r})"


# ------------------------------------------------------------------- answers the emulator never gives


class _Stub(BaseHTTPRequestHandler):
    """Serves LWA tokens and one canned SP-API answer; records request headers."""

    answer: tuple[int, dict] = (200, {})
    seen: list[dict] = []

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-amzn-RequestId", "stub-req-1")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._send(200, {"access_token": "Atza|stub-token", "expires_in": 3600, "token_type": "bearer"})

    def do_GET(self):
        type(self).seen.append(dict(self.headers))
        self._send(*type(self).answer)


@pytest.fixture
def stub():
    handler = type("Handler", (_Stub,), {"seen": [], "answer": (200, {})})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler, parse(f"ClientId=cid;ClientSecret=csecret;RefreshToken=Atzr|r;TokenUrl={url}/auth/o2/token;"
                         f"Endpoint={url};RetryMode=None")
    server.shutdown()
    server.server_close()


def test_errors_inside_a_2xx_envelope_raise(stub):
    handler, settings = stub
    handler.answer = (200, {"payload": {}, "errors": [{"code": "InvalidInput", "message": "Bad thing",
                                                        "details": "field X"}]})
    with pytest.raises(SPAPIError) as info:
        Client(settings).call(PARTICIPATIONS)
    assert info.value.status == 200 and info.value.code == "InvalidInput" and info.value.details == "field X"
    assert str(info.value) == ("getMarketplaceParticipations failed (HTTP 200 InvalidInput): Bad thing — field X "
                               "[request id stub-req-1]")


def test_request_headers(stub):
    handler, settings = stub
    Client(settings).call(PARTICIPATIONS)
    [headers] = handler.seen
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["x-amz-access-token"] == "Atza|stub-token"
    assert lower["user-agent"].startswith("sqlspapi/") and "(Language=Python/" in lower["user-agent"]
    assert len(lower["x-amz-date"]) == 16 and lower["x-amz-date"].endswith("Z") and "T" in lower["x-amz-date"]
    assert lower["accept"] == "application/json"


def test_403_denied_has_auth_hint_and_is_not_refreshed(stub):
    handler, settings = stub
    handler.answer = (403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is "
                                        "denied.", "details": ""}]})
    with pytest.raises(SPAPIError) as info:
        Client(settings).call(PARTICIPATIONS)
    assert info.value.status == 403 and "role" in str(info.value)
    assert len(handler.seen) == 1


def test_share_window_reuses_a_just_completed_answer(emu):
    """Without a window each call is sent; with one (2 s by default, longer in the bridge) a repeat is free, unless
    the caller asks for a fresh answer."""
    fresh = Client(settings_for(emu))
    fresh.share_window = 0.0
    fresh.call(PARTICIPATIONS)
    fresh.call(PARTICIPATIONS)
    assert emu.calls.count("getMarketplaceParticipations") == 2
    shared = Client(settings_for(emu))
    shared.share_window = 30.0
    first = shared.call(PARTICIPATIONS)
    again = shared.call(PARTICIPATIONS)
    assert emu.calls.count("getMarketplaceParticipations") == 3
    assert again.json == first.json and shared.calls[-1].shared
    shared.call(PARTICIPATIONS, fresh=True)
    assert emu.calls.count("getMarketplaceParticipations") == 4


def test_download_retries_5xx_then_names_the_status(stub):
    handler, settings = stub
    client = Client(settings.with_overrides(RetryMode="RetryAny", RetryCountMax=2, RetryWaitTimeMs=1))
    handler.answer = (503, {})
    with pytest.raises(OperationalError, match=r"download from http://127\.0\.0\.1:\d+ failed \(HTTP 503\)"):
        client.download(settings.endpoint + "/doc/1")
    assert len(handler.seen) == 3
    handler.answer = (404, {})
    with pytest.raises(OperationalError, match=r"\(HTTP 404\)"):
        client.download(settings.endpoint + "/doc/1")
    assert len(handler.seen) == 4  # a 4xx is not retried
    handler.answer = (200, {"rows": 1})
    assert client.download(settings.endpoint + "/doc/1").json() == {"rows": 1}
    assert "x-amz-access-token" not in {k.lower() for k in handler.seen[-1]}
