"""Shared pytest fixtures: where Amazon's models are, and a running emulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_models_dir() -> Path | None:
    """Amazon's OpenAPI models: ``$SPAPI_MODELS_DIR`` or ``../shared/spapi-models`` beside the checkout."""
    env = os.environ.get("SPAPI_MODELS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "spapi-models")
    for path in candidates:
        if (path / "orders-v0.json").is_file():
            return path
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Report state of databases made outside a test (module fixtures) goes to a directory of this run, never to
    the real user cache."""
    import tempfile

    os.environ["SQLSPAPI_CACHE_DIR"] = tempfile.mkdtemp(prefix="sqlspapi-test-cache-")


@pytest.fixture(autouse=True)
def private_report_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps report state (the ledger of requested reports, cached documents) in its own directory, as a
    new user would: nothing leaks between tests, and nothing is written to the real user cache."""
    path = tmp_path_factory.mktemp("report-cache")
    monkeypatch.setenv("SQLSPAPI_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True)
def clean_credential_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credential variable of the machine (``LWA_APP_ID``, ``SP_API_REFRESH_TOKEN`` … and their per-account
    ``_name`` forms) leaks into a test, and ``Profile=`` files live in a directory of the test, never the user's."""
    from sqlspapi.settings.sources import ENVIRONMENT

    for name in list(os.environ):
        if any(name == v or name.startswith(v + "_") for v in ENVIRONMENT):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The models folder, or skip: the model-based tests need Amazon's models beside the checkout."""
    path = find_models_dir()
    if path is None:
        pytest.skip("Amazon's SP-API models not found: set SPAPI_MODELS_DIR or put shared/spapi-models "
                    "beside the checkout")
    return path


@pytest.fixture(scope="module")
def demo_database():
    """A Database on the process-wide demo emulator, for one test module."""
    from sqlspapi.engine import open_database

    db = open_database(demo=True)
    yield db
    db.close()


@pytest.fixture(scope="module")
def emu(request: pytest.FixtureRequest):
    """A running emulator for one test module: 200 orders on a clock a million times Amazon's, unless the module
    sets ``EMULATOR`` (keywords of ``sqlspapi.emulator.start``, e.g. ``{"orders": 600, "time_scale": 5000}``).
    A module that defines its own ``emu`` fixture keeps it."""
    from sqlspapi.emulator import start

    with start(**{"orders": 200, "time_scale": 1_000_000, **getattr(request.module, "EMULATOR", {})}) as running:
        yield running


@pytest.fixture(scope="module")
def db(request: pytest.FixtureRequest, emu):
    """A Database on the module's ``emu`` for the marketplaces the module names in ``MARKETPLACES`` (default
    ``"US"``), polling reports as fast as the emulator's clock runs."""
    from sqlspapi.engine import open_database

    marketplaces = getattr(request.module, "MARKETPLACES", "US")
    database = open_database(emu.connection_string(MarketplaceIds=marketplaces), poll_scale=1 / emu.time_scale)
    yield database
    database.close()


@pytest.fixture(scope="module")
def tok(emu) -> str:
    """An access token of the demo seller (refresh-token grant) on the module's ``emu``."""
    from emu_helpers import lwa_token

    return lwa_token(emu)


@pytest.fixture
def shell():
    """The ``sqlspapi`` shell in process on the demo emulator: ``(shell, stdout, stderr)``, its output captured."""
    import io

    from sqlspapi.engine import open_database
    from sqlspapi.interfaces.shell import SPAPIShell

    database = open_database(demo=True)
    out, err = io.StringIO(), io.StringIO()
    sh = SPAPIShell(database, stdout=out, stderr=err)
    yield sh, out, err
    sh.database.close()


@pytest.fixture
def stub():
    """The stub LWA and SP-API server of ``http_stub.py``, serving in a thread for one test (``test_client_stub.py``
    keeps a simpler stub of its own)."""
    import threading

    from http_stub import Stub

    server = Stub()
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
