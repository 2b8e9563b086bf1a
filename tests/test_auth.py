"""LWA tokens and Restricted Data Tokens against the real emulator (and a stub LWA for rare errors)."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import AuthError
from sqlspapi.http import tokens as auth
from sqlspapi.http.client import Client
from sqlspapi.http.runtime import reset_runtimes
from sqlspapi.settings.connstr import parse

emulator = pytest.importorskip("sqlspapi.emulator")

GET_ORDERS = OperationSpec("getOrders", "orders", "v0", "GET", "/orders/v0/orders", 0.0167, 20, restricted=True)
GET_ORDER = OperationSpec("getOrder", "orders", "v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30,
                          restricted=True)
PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)
US = "ATVPDKIKX0DER"
ORDERS_QUERY = {"MarketplaceIds": [US], "CreatedAfter": "2000-01-01T00:00:00Z"}
LWA = "lwaToken"


def access_token(settings) -> str:
    """The LWA access token a new connection with ``settings`` would send."""
    with Client(settings) as client:
        return client.access_token()


@pytest.fixture
def emu():
    with emulator.start(orders=60, time_scale=1000) as e:
        yield e


def page_through(client, pages: int, *, pause_after_first: float = 0.0, between=None) -> int:
    """Read ``pages`` pages of getOrders (2 orders each); returns the number read."""
    query = {**ORDERS_QUERY, "MaxResultsPerPage": 2}
    for n in range(1, pages + 1):
        payload = client.call(GET_ORDERS, query=query).json["payload"]
        if n == 1:
            if between is not None:
                between()
            time.sleep(pause_after_first)
        query = {"MarketplaceIds": [US], "NextToken": payload["NextToken"]}
    return pages


# ----------------------------------------------------------------------------------------------- LWA


def test_token_fetched_once_and_shared_by_clients_of_the_same_account(emu):
    first = Client(parse(emu.connection_string()))
    second = Client(parse(emu.connection_string()))
    first.call(PARTICIPATIONS)
    second.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1})
    second.call(PARTICIPATIONS)
    assert emu.calls.count(LWA) == 1
    [grant] = emu.calls.of(LWA)
    assert grant.method == "POST" and grant.params.get("grant_type") == "refresh_token"


def test_concurrent_first_use_refreshes_once(emu):
    settings = settings_for(emu)
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def worker():
        barrier.wait()
        tokens.append(access_token(settings))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert emu.calls.count(LWA) == 1


def test_refresh_margin():
    assert auth.refresh_margin(3600) == 60
    assert auth.refresh_margin(2) == pytest.approx(0.2)


def test_token_refreshed_before_expiry_mid_scan(emu):
    emu.set_token_lifetime(1.0)  # expires_in=1: the client refreshes 0.1 s before
    client = Client(settings_for(emu))
    page_through(client, 6, pause_after_first=0.95, between=lambda: emu.set_token_lifetime(3600))
    assert emu.calls.count(LWA) == 2
    assert emu.calls.count("getOrders", 403) == 0
    assert emu.calls.count("getOrders", 200) == 6


def test_token_expired_early_is_refreshed_once_and_the_call_retried(emu):
    # The server expires tokens after 0.2 s but announces expires_in=1: the client learns it from the 403.
    emu.set_token_lifetime(0.2)
    client = Client(settings_for(emu, RetryMode="None"))
    page_through(client, 6, pause_after_first=0.4, between=lambda: emu.set_token_lifetime(3600))
    assert emu.calls.count(LWA) == 2
    assert emu.calls.count("getOrders", 403) == 1
    assert emu.calls.count("getOrders", 200) == 6
    retried = [r for r in client.calls if r.attempts == 2]
    assert len(retried) == 1 and retried[0].status == 200


def test_invalid_client(emu):
    client = Client(settings_for(emu, ClientSecret="not-the-secret"))
    with pytest.raises(AuthError) as info:
        client.call(PARTICIPATIONS)
    err = info.value
    assert err.lwa_error == "invalid_client" and err.status == 401
    text = str(err)
    assert "ClientSecret" in text and "180 days" in text and "Developer Central" in text
    assert "not-the-secret" not in text
    assert emu.calls.count("getMarketplaceParticipations") == 0


def test_invalid_grant_after_revocation(emu):
    emu.revoke_refresh_token()
    client = Client(settings_for(emu, RetryMode="RetryAny"))
    with pytest.raises(AuthError) as info:
        client.call(PARTICIPATIONS)
    err = info.value
    assert err.lwa_error == "invalid_grant"
    assert "RefreshToken" in str(err) and "re-authorize" in str(err).lower()
    assert emulator.DEMO_REFRESH_TOKEN not in str(err)
    assert emu.calls.count(LWA) == 1  # a refusal is not retried


def test_unknown_refresh_token_is_invalid_grant(emu):
    with pytest.raises(AuthError) as info:
        access_token(settings_for(emu, RefreshToken="Atzr|someone-else"))
    assert info.value.lwa_error == "invalid_grant"
    assert "Atzr|someone-else" not in str(info.value)


def test_invalid_request(emu):
    settings = parse(f"ClientId={emulator.DEMO_CLIENT_ID};ClientSecret={emulator.DEMO_CLIENT_SECRET};"
                     f"TokenUrl={emu.token_url};Endpoint={emu.url}", require_credentials=False)
    with pytest.raises(AuthError) as info:
        access_token(settings)
    assert info.value.lwa_error == "invalid_request"
    assert "malformed" in str(info.value) and emu.token_url in str(info.value)


def test_unreachable_token_url_names_it(emu):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/auth/o2/token"
    settings = settings_for(emu, TokenUrl=dead, RetryCountMax=1)
    with pytest.raises(AuthError) as info:
        access_token(settings)
    assert dead in str(info.value) and "TokenUrl" in str(info.value) and "2 attempts" in str(info.value)


class _LwaStub(BaseHTTPRequestHandler):
    """An LWA endpoint answering a scripted list of (status, body); for errors the emulator never gives."""

    script: list[tuple[int, dict]] = []
    hits = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        cls = type(self)
        cls.hits += 1
        status, body = cls.script.pop(0) if len(cls.script) > 1 else cls.script[0]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def lwa_stub():
    handler = type("Handler", (_LwaStub,), {"script": [], "hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def settings(**keys):
        text = (f"ClientId=cid;ClientSecret=csecret-123;RefreshToken=Atzr|rtoken-456;TokenUrl={url}/auth/o2/token;"
                f"Endpoint={url};RetryWaitTimeMs=5")
        return parse(text + "".join(f";{k}={v}" for k, v in keys.items()))

    yield handler, settings
    server.shutdown()
    server.server_close()


def test_unauthorized_client(lwa_stub):
    handler, settings = lwa_stub
    handler.script = [(400, {"error": "unauthorized_client", "error_description": "Not authorized for "
                                                                                  "requested operation"})]
    with pytest.raises(AuthError) as info:
        access_token(settings())
    assert info.value.lwa_error == "unauthorized_client" and "ClientId cid" in str(info.value)


def test_lwa_server_errors_are_retried_then_name_token_url(lwa_stub):
    handler, settings = lwa_stub
    handler.script = [(503, {"error": "temporarily_unavailable"})]
    s = settings(RetryCountMax=2)
    with pytest.raises(AuthError) as info:
        access_token(s)
    assert handler.hits == 3
    assert s.token_url in str(info.value) and "HTTP 503" in str(info.value)
    handler.hits = 0
    handler.script = [(500, {}), (200, {"access_token": "Atza|fine", "expires_in": 3600})]
    assert access_token(settings(RetryCountMax=2)) == "Atza|fine"
    assert handler.hits == 2


def test_lwa_description_never_echoes_secrets(lwa_stub):
    handler, settings = lwa_stub
    handler.script = [(400, {"error": "invalid_request", "error_description": "bad csecret-123 Atzr|rtoken-456"})]
    with pytest.raises(AuthError) as info:
        access_token(settings())
    assert "csecret-123" not in str(info.value) and "rtoken-456" not in str(info.value)


def test_non_lwa_answer_points_at_token_url(lwa_stub):
    handler, settings = lwa_stub
    handler.script = [(404, {"message": "no such path"})]
    with pytest.raises(AuthError, match="check TokenUrl"):
        access_token(settings())


# ------------------------------------------------------------------------------------- token cache file


def test_token_cache_file(emu, tmp_path):
    path = tmp_path / "tokens.json"
    settings = settings_for(emu, TokenCache=str(path))
    token = access_token(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert token in text and settings.account_key in text
    assert emulator.DEMO_CLIENT_SECRET not in text and emulator.DEMO_REFRESH_TOKEN not in text
    reset_runtimes()  # a new process: the token comes from the file
    assert Client(settings).call(PARTICIPATIONS).status == 200
    assert emu.calls.count(LWA) == 1
    # without TokenCache nothing is read or written
    reset_runtimes()
    plain = settings_for(emu)
    access_token(plain)
    assert emu.calls.count(LWA) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]


def test_token_cache_file_entry_refused_by_server_is_replaced(emu, tmp_path):
    path = tmp_path / "tokens.json"
    settings = settings_for(emu, TokenCache=str(path))
    stale = {"version": 1, "tokens": {settings.account_key: {
        "access_token": "Atza|from-another-life", "expires_at": time.time() + 3000,
        "refresh_at": time.time() + 2900}}}
    path.write_text(json.dumps(stale))
    assert Client(settings).call(PARTICIPATIONS).status == 200
    assert emu.calls.count(LWA) == 1
    assert "from-another-life" not in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# -------------------------------------------------------------------------------------------------- RDT


def test_rdt_obtained_used_and_cached(emu):
    client = Client(settings_for(emu))
    order_id = client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1}
                           ).json["payload"]["Orders"][0]["AmazonOrderId"]
    plain = client.call(GET_ORDER, path={"orderId": order_id}).json["payload"]
    assert "Name" not in plain["ShippingAddress"]
    resource = RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo", "shippingAddress"))
    full = client.call(GET_ORDER, path={"orderId": order_id}, rdt=resource).json["payload"]
    assert "Name" in full["ShippingAddress"] and "BuyerName" in full.get("BuyerInfo", {})
    client.call(GET_ORDER, path={"orderId": order_id}, rdt=resource)
    assert emu.calls.count("createRestrictedDataToken") == 1
    [rdt_call] = emu.calls.of("createRestrictedDataToken")
    assert rdt_call.params["body"] == {"restrictedResources": [
        {"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["buyerInfo", "shippingAddress"]}]}
    assert [r.operation for r in client.calls].count("createRestrictedDataToken") == 1
    # a different resource set is a different token
    other = RestrictedResource("GET", f"/orders/v0/orders/{order_id}", ("shippingAddress",))
    assert client.tokens.rdt([other]) != client.tokens.rdt([resource])
    assert emu.calls.count("createRestrictedDataToken") == 2


def test_secrets_absent_from_logs_and_errors(emu, caplog):
    settings = settings_for(emu, RetryMode="None")
    client = Client(settings)
    with caplog.at_level(logging.DEBUG):
        client.call(PARTICIPATIONS)
        rdt = client.tokens.rdt([RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))])
        with pytest.raises(AuthError) as info:
            access_token(settings_for(emu, ClientSecret="wrong-secret-xyz", RefreshToken="Atzr|other"))
    token = client.access_token()
    text = "\n".join([caplog.text, repr(client), repr(settings), str(info.value), repr(list(client.calls))])
    for secret in (emulator.DEMO_CLIENT_SECRET, emulator.DEMO_REFRESH_TOKEN, "wrong-secret-xyz", token, rdt):
        assert secret not in text


def test_expired_rdt_is_replaced_once(emu):
    client = Client(settings_for(emu, RetryMode="None"))
    order_id = client.call(GET_ORDERS, query={**ORDERS_QUERY, "MaxResultsPerPage": 1}
                           ).json["payload"]["Orders"][0]["AmazonOrderId"]
    resource = RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))
    emu.set_token_lifetime(0.2)  # the RDT dies after 0.2 s but announces expiresIn=1
    client.call(GET_ORDER, path={"orderId": order_id}, rdt=resource)
    emu.set_token_lifetime(3600)
    time.sleep(0.4)
    assert "BuyerName" in client.call(GET_ORDER, path={"orderId": order_id}, rdt=resource).json["payload"][
        "BuyerInfo"]
    assert emu.calls.count("createRestrictedDataToken") == 2
    assert emu.calls.count("getOrder", 403) == 1
    assert emu.calls.count(LWA) == 1


def test_lwa_5xx_from_the_emulator_is_retried(emu):
    emu.fail_next(LWA, 500, 2)
    client = Client(settings_for(emu))  # default policy retries 500
    assert client.call(PARTICIPATIONS).status == 200
    assert [c.status for c in emu.calls.of(LWA)] == [500, 500, 200]
