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
