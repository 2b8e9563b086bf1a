"""The HTTP client against the real emulator: limiter, retries, error mapping, single flight, sharing a
just-completed answer, call log, and no secret in a repr or a log."""

from __future__ import annotations

import logging
import threading

import pytest
from client_operations import GET_ORDER, GET_ORDERS, PARTICIPATIONS
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.errors import OperationalError, SPAPIError, ThrottledError
from sqlspapi.http import retry as retry_mod
from sqlspapi.http.client import Client
from sqlspapi.http.response import ApiResponse

emulator = pytest.importorskip("sqlspapi.emulator")

US = "ATVPDKIKX0DER"
ORDERS_QUERY = {"MarketplaceIds": [US], "CreatedAfter": "2000-01-01T00:00:00Z"}


@pytest.fixture
def emu():
    with emulator.start(orders=120, time_scale=1000) as e:
        yield e


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
