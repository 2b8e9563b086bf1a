"""Hostile answers at the HTTP layer (issue 8, item 2): incomplete answers are named for what they are.

An incomplete or garbled answer of the LWA token endpoint, of createRestrictedDataToken or of the Sellers API's
marketplace discovery is retried per the retry keys, then reported as an incomplete answer that is usually
temporary — not as "check TokenUrl" or "set MarketplaceIds", which stay for a wrong TokenUrl (a 404, an HTML page,
no connection at all) and for a seller that truly lists no marketplace.

The emulator injects the faults (``fault_next``); answers it never gives come from the stub server of
``http_stub.py``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)
from http_stub import (
    ACCESS_TOKEN,
    KEYS,
    LWA,
    PARTICIPATIONS,
    RETRIES,
    TOKEN,
    Reply,
    login_error,
)

from sqlspapi.definitions.schema import RestrictedResource
from sqlspapi.engine import open_database
from sqlspapi.errors import InterfaceError, SPAPIError
from sqlspapi.http.client import Client

emulator = pytest.importorskip("sqlspapi.emulator")
EMULATOR = {"time_scale": 100_000, "orders": 20}  # for the ``emu`` fixture of conftest.py


#: Faults that make an answer unusable (sqlspapi.emulator.faults).
BODY_FAULTS = ("empty", "html", "bytes", "truncated", "cut", "empty_object")


@pytest.fixture(autouse=True)
def no_faults_left_over(emu):
    emu.clear_faults()
    emu.calls.clear()
    yield
    emu.clear_faults()


# ------------------------------------------------------------------------- incomplete answers at the login


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_incomplete_login_answer_is_retried(emu, kind) -> None:
    emu.fault_next(LWA, kind, 1)
    assert Client(settings_for(emu, **KEYS)).access_token()
    assert emu.calls.count(LWA) == 2


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_a_login_answer_still_incomplete_says_so_and_blames_no_setting(emu, kind) -> None:
    emu.fault_next(LWA, kind, RETRIES + 1)
    text = str(login_error(settings_for(emu, **KEYS)))
    assert emu.calls.count(LWA) == RETRIES + 1
    assert text.startswith("Login with Amazon gave an incomplete answer (")
    assert f"{RETRIES + 1} attempts" in text and "usually temporary" in text and ": retry" in text
    assert "check TokenUrl" not in text and "ClientSecret" not in text and "RefreshToken" not in text
    if kind == "html":  # an HTML page may also be a wrong TokenUrl: said after the likelier cause
        assert "'502 Bad Gateway'" in text and "If it keeps happening" in text and emu.token_url in text
    else:
        assert "TokenUrl" not in text


def test_no_retry_allowed_reports_the_first_incomplete_login_answer(emu) -> None:
    emu.fault_next(LWA, "empty_object", 1)
    error = login_error(settings_for(emu, RetryMode="None"))
    assert str(error).startswith("Login with Amazon gave an incomplete answer (HTTP 200, an empty JSON object)")
    assert emu.calls.count(LWA) == 1 and error.status == 200


def test_a_login_connection_closed_before_the_answer_is_incomplete_not_unreachable(stub) -> None:
    stub.scripts["lwa"] = [Reply(close=True), TOKEN]
    assert Client(stub.settings()).access_token() == ACCESS_TOKEN
    assert stub.hits["lwa"] == 2
    stub.scripts["lwa"] = [Reply(close=True)]
    text = str(login_error(stub.settings(ClientId="cid2", RetryCountMax=1)))  # another account: no token yet
    assert text.startswith("Login with Amazon gave an incomplete answer (the connection closed before an answer "
                           "arrived (RemoteDisconnected), 2 attempts)")
    assert "TokenUrl" not in text and "Cannot reach" not in text


def test_a_login_without_an_answer_in_time_is_temporary_not_unreachable(stub) -> None:
    answered = threading.Event()
    stub.scripts["lwa"] = [lambda body, headers: (answered.wait(10), TOKEN)[1]]  # answers once the client gave up
    try:
        text = str(login_error(stub.settings(Timeout=0.2, RetryMode="None")))
    finally:
        answered.set()
    assert text.startswith("Login with Amazon did not answer within 0.2 s (ReadTimeout); it is usually temporary")
    assert "TokenUrl" not in text


def test_a_wrong_token_url_still_names_token_url(emu, stub) -> None:
    # The emulator's SP-API side answers an unknown path with a JSON 404: not Login with Amazon.
    text = str(login_error(settings_for(emu, TokenUrl=emu.url + "/auth/o2/tokens", **KEYS)))
    assert "answered HTTP 404 without an LWA error" in text and "check TokenUrl" in text
    assert emu.calls.count(LWA) == 0
    stub.scripts["lwa"] = [Reply(404, "<html><head><title>404 Not Found</title></head></html>", "text/html")]
    text = str(login_error(stub.settings()))
    assert "HTTP 404 without an LWA error (an HTML page ('404 Not Found') instead of JSON)" in text
    assert "check TokenUrl" in text and stub.hits["lwa"] == 1  # a wrong URL is not retried


def test_a_login_server_error_is_temporary_not_a_setting(stub) -> None:
    stub.scripts["lwa"] = [Reply(503, {"error": "temporarily_unavailable"})]
    text = str(login_error(stub.settings()))
    assert "is unavailable (HTTP 503 temporarily_unavailable, 3 attempts)" in text and "usually temporary" in text
    assert "check TokenUrl" not in text and stub.hits["lwa"] == RETRIES + 1


# ---------------------------------------------------------------------- incomplete answers of the Tokens API


@pytest.mark.parametrize("kind", ["cut", "empty_object", "html"])
def test_an_incomplete_rdt_answer_is_retried_then_clear(emu, kind) -> None:
    client = Client(settings_for(emu, **KEYS))
    emu.fault_next("createRestrictedDataToken", kind, 1)
    assert client.tokens.rdt([RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))])
    assert emu.calls.count("createRestrictedDataToken") == 2
    emu.fault_next("createRestrictedDataToken", kind, RETRIES + 1)
    with pytest.raises(SPAPIError) as info:
        client.tokens.rdt([RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("shippingAddress",))])
    err = info.value
    assert err.code == "IncompleteResponse" and err.operation == "createRestrictedDataToken"
    text = str(err)
    assert f"after {RETRIES} retries" in text and "usually transient" in text and "request id" in text
    assert "not sent again" not in text
    assert emu.calls.count("createRestrictedDataToken") == 2 + RETRIES + 1


# ------------------------------------------------------------- incomplete answers of marketplace discovery


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_incomplete_sellers_answer_does_not_say_set_marketplace_ids(emu, kind) -> None:
    sql = "SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'"
    with open_database(emu.connection_string(OrdersApiVersion="v0", **KEYS)) as db:
        emu.fault_next("getMarketplaceParticipations", kind, RETRIES + 1)
        with pytest.raises(SPAPIError) as info:
            db.connection.execute(sql).fetchall()
        text = str(info.value)
        assert info.value.code == "IncompleteResponse" and info.value.operation == "getMarketplaceParticipations"
        assert text.startswith("getMarketplaceParticipations answered") and "request id" in text
        assert "usually transient" in text and "MarketplaceIds" not in text
        assert db.connection.execute(sql).fetchall()[0][0] > 0  # nothing was remembered of the failure


def participation(marketplace_id: str | None, participating: bool = True) -> dict[str, Any]:
    market = {"name": "Amazon.com", "countryCode": "US"}
    if marketplace_id is not None:
        market["id"] = marketplace_id
    return {"marketplace": market, "participation": {"isParticipating": participating,
                                                     "hasSuspendedListings": False}}


def test_participations_without_a_marketplace_id_are_an_incomplete_answer(stub) -> None:
    bad = Reply(200, {"payload": [participation("ATVPDKIKX0DER"), participation(None)]})
    good = Reply(200, {"payload": [participation("ATVPDKIKX0DER"), participation("A2EUQ1WTGCTBG2")]})
    stub.scripts["api"] = [bad, good]
    with open_database(settings=stub.settings()) as db:
        assert db.marketplace_ids() == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert stub.hits["api"] == 2
    stub.scripts["api"] = [bad]
    with open_database(settings=stub.settings(ClientId="cid2")) as db:  # another account: nothing memoised
        with pytest.raises(SPAPIError) as info:
            db.marketplace_ids()
    assert info.value.code == "IncompleteResponse"
    assert str(info.value).startswith(
        f"getMarketplaceParticipations answered HTTP 200 with an incomplete response after {RETRIES} retries: 1 of "
        "its 2 marketplace participations names no marketplace id [request id stub-request-1]")
    assert "MarketplaceIds" not in str(info.value)


@pytest.mark.parametrize("payload", [[], [participation("ATVPDKIKX0DER", participating=False)]])
def test_a_seller_that_lists_no_marketplace_is_told_to_set_marketplace_ids(stub, payload) -> None:
    stub.scripts["api"] = [Reply(200, {"payload": payload})]
    with open_database(settings=stub.settings()) as db, pytest.raises(InterfaceError) as info:
        db.marketplace_ids()
    assert "lists no marketplace this seller participates in" in str(info.value)
    assert "request id stub-request-1" in str(info.value) and "set MarketplaceIds" in str(info.value)
    assert stub.hits["api"] == 1  # a whole answer is not retried


def test_an_sp_api_connection_closed_before_the_answer_is_retried_then_incomplete(stub) -> None:
    stub.scripts["api"] = [Reply(close=True), Reply(200, {"payload": []})]
    assert Client(stub.settings()).call(PARTICIPATIONS).json == {"payload": []}
    stub.scripts["api"] = [Reply(close=True)]
    with pytest.raises(SPAPIError) as info:
        Client(stub.settings()).call(PARTICIPATIONS)
    assert info.value.code == "IncompleteResponse"
    assert "the connection closed before an answer arrived (RemoteDisconnected)" in str(info.value)
    assert "cannot reach" not in str(info.value) and "Endpoint" not in str(info.value)
    assert stub.hits["api"] == 2 + RETRIES + 1
