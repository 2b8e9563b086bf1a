"""Grantless operations: a client-credentials token per LWA scope, obtained once and kept, sent only to the operations
the definitions mark ``grantless`` — against the real emulator, which refuses the wrong kind of token as Amazon does
(403 Unauthorized), and LWA, which refuses a scope the app may not use (``invalid_scope``)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import requests
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.definitions.loader import operation
from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.engine import open_database
from sqlspapi.errors import AuthError, SPAPIError
from sqlspapi.http.client import Client
from sqlspapi.http.lwa import GrantForm

SCOPE = "sellingpartnerapi::notifications"
LWA = "lwaToken"


@pytest.fixture
def emu():
    with start(orders=60, time_scale=1_000_000) as e:
        yield e


def grants(emu) -> list[dict]:
    """The LWA grant requests the emulator answered (their logged parameters: grant_type, scope)."""
    return [c.params for c in emu.calls.of(LWA)]


def raw_token(emu, **form: str) -> str:
    r = requests.post(emu.token_url, data={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, **form},
                      timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_one_client_credentials_grant_per_scope_kept_across_statements(emu):
    db = open_database(emu.connection_string(MarketplaceIds="US"))
    try:
        for _ in range(3):
            assert len(db.connection.execute("SELECT destinationId FROM notification_destinations").fetchall()) == 2
        first = db.connection.execute("SELECT destinationId FROM notification_destinations LIMIT 1").fetchone()[0]
        assert db.connection.execute("SELECT name FROM notification_destinations WHERE destinationId = ?",
                                     (first,)).fetchone() == ("sqlspapi-demo-queue",)
        assert grants(emu) == [{"grant_type": "client_credentials", "scope": SCOPE}]
        # a seller operation next to it: the seller's refresh-token grant, once, beside the grantless token
        db.connection.execute("SELECT notificationType FROM notification_subscriptions "
                              "WHERE notificationType = 'ORDER_CHANGE'").fetchall()
        db.connection.execute("SELECT destinationId FROM notification_destinations").fetchall()
        assert grants(emu) == [{"grant_type": "client_credentials", "scope": SCOPE}, {"grant_type": "refresh_token"}]
        assert db.client.runtime.lwa_requests == 2
    finally:
        db.close()


def test_the_grantless_token_goes_to_grantless_operations_only(emu):
    with Client(settings_for(emu)) as client:
        client.call(operation("notifications", "getDestinations"))
        client.call(operation("notifications", "getSubscriptions"), query={"notificationTypes": ["ORDER_CHANGE"]})
    [destinations] = emu.calls.of("getDestinations")
    [subscriptions] = emu.calls.of("getSubscriptions")
    assert destinations.status == subscriptions.status == 200
    assert [g["grant_type"] for g in grants(emu)] == ["client_credentials", "refresh_token"]


def test_a_seller_token_is_refused_for_a_grantless_operation(emu):
    """Sent with the seller's token (an operation not marked grantless), Amazon answers 403 Unauthorized."""
    unmarked = replace(operation("notifications", "getDestinations"), grantless=None)
    with Client(settings_for(emu, RetryMode="None")) as client, pytest.raises(SPAPIError) as err:
        client.call(unmarked)
    assert err.value.status == 403 and err.value.code == "Unauthorized"
    assert "This operation is grantless: call it with an access token from the client_credentials grant for scope " \
           "sellingpartnerapi::notifications" in str(err.value)
    assert [g["grant_type"] for g in grants(emu)] == ["refresh_token"]  # refused as is: no token refresh


def test_a_grantless_token_is_refused_for_a_seller_operation(emu):
    marked = replace(operation("notifications", "getSubscriptions"), grantless=SCOPE)
    with Client(settings_for(emu, RetryMode="None")) as client, pytest.raises(SPAPIError) as err:
        client.call(marked, query={"notificationTypes": ["ORDER_CHANGE"]})
    assert err.value.status == 403 and err.value.code == "Unauthorized"
    assert "A grantless access token cannot call operations that need seller authorization." in str(err.value)


def test_emulator_refuses_a_grantless_token_of_another_scope(emu):
    token = raw_token(emu, grant_type="client_credentials", scope="sellingpartnerapi::migration")
    r = requests.get(emu.url + "/notifications/v1/destinations", headers={"x-amz-access-token": token}, timeout=10)
    assert r.status_code == 403
    assert r.json()["errors"][0]["details"] == ("The grantless access token was issued for scope "
                                                "sellingpartnerapi::migration; this operation needs "
                                                "sellingpartnerapi::notifications.")
    seller = raw_token(emu, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    r = requests.get(emu.url + "/notifications/v1/destinations", headers={"x-amz-access-token": seller}, timeout=10)
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "Unauthorized"


def test_a_scope_the_app_may_not_use_is_an_error_that_says_what_to_do(emu):
    emu.auth.deny_scope(SCOPE)
    db = open_database(emu.connection_string(MarketplaceIds="US"))
    try:
        with pytest.raises(AuthError) as err:
            db.connection.execute("SELECT * FROM notification_destinations").fetchall()
    finally:
        db.close()
    text = str(err.value)
    assert text.startswith("LWA refused a grantless token for scope sellingpartnerapi::notifications (invalid_scope")
    assert "Developer Central" in text and DEMO_CLIENT_ID in text
    assert DEMO_CLIENT_SECRET not in text and DEMO_REFRESH_TOKEN not in text
    assert grants(emu) == [{"grant_type": "client_credentials", "scope": SCOPE}]  # a refusal is not retried


def test_grantless_secrets_stay_out_of_logs_and_reprs(emu, caplog):
    settings = settings_for(emu)
    form = GrantForm(settings, SCOPE)
    assert DEMO_CLIENT_SECRET.encode() in form.getvalue() and b"refresh_token" not in form.getvalue()
    assert repr(form) == "<LWA client-credentials grant (scope sellingpartnerapi::notifications) form, secrets hidden>"
    caplog.set_level(logging.DEBUG, logger="sqlspapi")
    with Client(settings) as client:
        client.call(operation("notifications", "getDestinations"))
        token = client.tokens.grantless_token(SCOPE)
        shown = repr(client) + repr(client.tokens) + repr(client.runtime.tokens)
    assert token.startswith("Atza|") and token not in shown and DEMO_CLIENT_SECRET not in shown
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "scope sellingpartnerapi::notifications" in logged
    assert token not in logged and DEMO_CLIENT_SECRET not in logged


def test_spapi_request_uses_the_grantless_token_for_a_grantless_path(emu):
    db = open_database(emu.connection_string(MarketplaceIds="US"))
    try:
        rows = db.connection.execute("SELECT status, value ->> '$.name' FROM spapi_request('GET', "
                                     "'/notifications/v1/destinations', NULL, NULL, '$.payload')").fetchall()
    finally:
        db.close()
    assert sorted(rows) == [(200, "sqlspapi-demo-events"), (200, "sqlspapi-demo-queue")]
    assert grants(emu) == [{"grant_type": "client_credentials", "scope": SCOPE}]
