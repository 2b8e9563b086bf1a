"""moto started on loopback for the tests that use AWS (SQS, Secrets Manager, STS): boto3 is pointed at it through
the service endpoint variables, with fake keys and no AWS config file of the machine.

One moto server serves the whole test session (starting one costs half a second); each test that uses
:func:`moto_server` starts from an empty AWS and leaves it empty (moto's ``/moto-api/reset``), so no queue, message or
secret of another test is seen.
"""

from __future__ import annotations

import pytest
import requests

#: The boto3 service endpoint variables pointed at moto.
SERVICES = ("SQS", "SECRETS_MANAGER", "STS", "IAM")


@pytest.fixture(scope="session")
def moto_session_server():
    """The session's moto server on 127.0.0.1 (a free port); its URL is ``.url``."""
    moto_module = pytest.importorskip("moto.server")
    pytest.importorskip("boto3")
    server = moto_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_server(moto_session_server, monkeypatch, tmp_path):
    """moto, emptied, with boto3 pointed at it for one test (fake keys, region us-east-1)."""
    server = moto_session_server
    requests.post(f"{server.url}/moto-api/reset", timeout=10).raise_for_status()
    for service in SERVICES:
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", server.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKE-MOTO-TEST-KEY-1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield server
    requests.post(f"{server.url}/moto-api/reset", timeout=10)  # moto's state is the process's: leave none behind
