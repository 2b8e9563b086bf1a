"""Helpers shared by the emulator's HTTP tests: the marketplaces, an access token, plain requests to the emulator,
the one error of an answer, scanning every page of getOrders, and times relative to when a request is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from emu_helpers import lwa_token

from sqlspapi.emulator import DEMO_REFRESH_TOKEN, Emulator

US, CA, DE, UK, JP = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"
ALL = ",".join((US, CA, DE, UK, JP))
EPOCH = "2000-01-01T00:00:00Z"
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def token(emu: Emulator, refresh: str = DEMO_REFRESH_TOKEN) -> str:
    """An access token for the demo app from the refresh token ``refresh``."""
    return lwa_token(emu, grant_type="refresh_token", refresh_token=refresh)


def get(emu: Emulator, path: str, tok: str | None, **params: object) -> requests.Response:
    """``GET path`` on the emulator, with the access token ``tok`` when there is one."""
    headers = {"x-amz-access-token": tok} if tok else {}
    return requests.get(emu.url + path, params=params, headers=headers, timeout=10)


def rdt(emu: Emulator, tok: str, resources: list[dict]) -> requests.Response:
    """Ask the emulator for a restricted data token for ``resources``."""
    return requests.post(emu.url + "/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": resources},
                         headers={"x-amz-access-token": tok}, timeout=10)


def error(r: requests.Response) -> dict:
    """The one error of an error answer."""
    body = r.json()
    assert len(body["errors"]) == 1
    return body["errors"][0]


def scan_v0(emu: Emulator, tok: str, **params: object) -> list[dict]:
    """Every order getOrders (Orders v0) answers for ``params``, following NextToken to the last page."""
    out: list[dict] = []
    r = get(emu, "/orders/v0/orders", tok, **params)
    while True:
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        out.extend(payload["Orders"])
        if not payload.get("NextToken"):
            return out
        r = get(emu, "/orders/v0/orders", tok, NextToken=payload["NextToken"])


def recent(minutes: float) -> str:
    """A marker resolved when the request is sent: now minus ``minutes``."""
    return f"RECENT:{minutes}"


def resolve(params: dict) -> dict:
    """``params`` with every :func:`recent` marker replaced by its time, now."""
    out = {}
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("RECENT:"):
            moment = datetime.now(UTC) - timedelta(minutes=float(value[7:]))
            value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        out[key] = value
    return out
