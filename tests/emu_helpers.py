"""Helpers shared by the client and auth tests: emulator settings and a fresh process state."""

from __future__ import annotations

import pytest

from sqlspapi import emulator
from sqlspapi.http.runtime import reset_runtimes
from sqlspapi.settings.connstr import Settings, parse


def settings_for(emu, **keys) -> Settings:
    """Settings for the emulator's demo app, with connection-string keys overridden."""
    base = {
        "ClientId": emulator.DEMO_CLIENT_ID,
        "ClientSecret": emulator.DEMO_CLIENT_SECRET,
        "RefreshToken": emulator.DEMO_REFRESH_TOKEN,
        "TokenUrl": emu.token_url,
        "Endpoint": emu.url,
        "RetryWaitTimeMs": "10",
    }
    base.update({k: str(v) for k, v in keys.items()})
    return parse(";".join(f"{k}={{{v.replace('}', '}}')}}}" for k, v in base.items()))


def reset_process_state() -> None:
    """As a new process would be: no account runtime (no cached tokens, fresh rate buckets, no single flight)."""
    reset_runtimes()


@pytest.fixture(autouse=True)
def fresh_process_state():
    """Every test of a module that imports this starts as a new process would."""
    reset_process_state()
    yield
    reset_process_state()


def lwa_token(emu, **form: str) -> str:
    """An access token from the emulator's LWA endpoint for the demo app: the seller's refresh-token grant by
    default, or any other grant given as ``form`` (``grant_type="client_credentials", scope=…``)."""
    import requests

    grant = form or {"grant_type": "refresh_token", "refresh_token": emulator.DEMO_REFRESH_TOKEN}
    r = requests.post(emu.token_url, data={"client_id": emulator.DEMO_CLIENT_ID,
                                           "client_secret": emulator.DEMO_CLIENT_SECRET, **grant}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def api_get(emu, tok: str, path: str, **params: object):
    """``GET path`` on the emulator with the access token ``tok`` (a ``requests.Response``)."""
    import requests

    return requests.get(emu.url + path, params=params, headers={"x-amz-access-token": tok}, timeout=10)


def api_ok(r) -> dict:
    """The JSON of a 200 answer (else the test fails showing the answer)."""
    assert r.status_code == 200, r.text
    return r.json()


def api_bad(r, *words: str) -> str:
    """The message of a 400 InvalidInput answer (else the test fails showing the answer), which names ``words``."""
    assert r.status_code == 400, r.text
    (err,) = r.json()["errors"]
    assert err["code"] == "InvalidInput"
    for word in words:
        assert word in err["message"], err["message"]
    return err["message"]
