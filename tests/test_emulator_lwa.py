"""The emulator's Login with Amazon over real HTTP: tokens from forms and JSON, Amazon's error codes, missing,
unknown, expired and revoked tokens, and what a grantless token may not read."""

from __future__ import annotations

import time

import pytest
import requests
from emulator_http import ALL, ANCHOR, EPOCH, error, get, token

from sqlspapi.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    start,
)

EMULATOR = {"orders": 600, "anchor": ANCHOR}  # for the ``emu`` fixture of conftest.py


# -- LWA ---------------------------------------------------------------------------------------------------------
def test_lwa_success_form_and_json(emu):
    body = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN}
    for r in (requests.post(emu.token_url, data=body), requests.post(emu.token_url, json=body)):
        assert r.status_code == 200
        j = r.json()
        assert j["access_token"].startswith("Atza|emu-")
        assert j["token_type"] == "bearer" and j["expires_in"] == 3600 and j["refresh_token"] == DEMO_REFRESH_TOKEN
        assert "x-amzn-RequestId" in r.headers


@pytest.mark.parametrize("change, status, code", [
    ({"grant_type": None}, 400, "invalid_request"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"client_id": "nope"}, 401, "invalid_client"),
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_secret": None}, 400, "invalid_request"),
    ({"refresh_token": "Atzr|unknown"}, 400, "invalid_grant"),
    ({"refresh_token": None}, 400, "invalid_request"),
])
def test_lwa_errors(emu, change, status, code):
    body = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN}
    body.update(change)
    r = requests.post(emu.token_url, data={k: v for k, v in body.items() if v is not None})
    assert r.status_code == status
    j = r.json()
    assert j["error"] == code and j["error_description"]
    assert DEMO_CLIENT_SECRET not in r.text


def test_missing_and_unknown_access_token(emu):
    for tok_value in (None, "Atza|made-up"):
        r = get(emu, "/sellers/v1/marketplaceParticipations", tok_value)
        assert r.status_code == 403
        assert error(r)["code"] == "Unauthorized"
        assert error(r)["message"] == "Access to requested resource is denied."
        assert "x-amzn-RateLimit-Limit" not in r.headers


def test_token_expires_mid_scan():
    with start(orders=300, time_scale=10_000, token_lifetime=0.5, anchor=ANCHOR) as e:
        t = token(e)
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=ALL, MaxResultsPerPage=10)
        assert r.status_code == 200
        time.sleep(0.7)
        r = get(e, "/orders/v0/orders", t, NextToken=r.json()["payload"]["NextToken"])
        assert r.status_code == 403
        assert r.json() == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                        "details": "The access token you provided has expired."}]}
        e.set_token_lifetime(3600)
        assert get(e, "/sellers/v1/marketplaceParticipations", token(e)).status_code == 200


def test_grantless_token_cannot_read_seller_data(emu):
    r = requests.post(emu.token_url, data={"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET,
                                           "scope": "sellingpartnerapi::notifications"})
    assert r.status_code == 200 and r.json()["scope"] == "sellingpartnerapi::notifications"
    assert "refresh_token" not in r.json()
    r = get(emu, "/sellers/v1/marketplaceParticipations", r.json()["access_token"])
    assert r.status_code == 403 and error(r)["code"] == "Unauthorized"


def test_revoke_refresh_token():
    with start(orders=50, anchor=ANCHOR) as e:
        t = token(e)
        e.revoke_refresh_token()
        r = requests.post(e.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                             "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert get(e, "/sellers/v1/marketplaceParticipations", t).status_code == 200  # issued tokens stay valid
