"""Replays every x-amzn-api-sandbox static example of the Orders (v0, 2026) and Sellers models through the driver.

A small local server answers each request with the example's response; the real Client parses it (errors
become SPAPIError with the example's code) and, for operations that back a table, the row extraction turns the
payload into typed SQL rows. Amazon's sample data is odd (epoch floats as dates, 1970 timestamps): the point is
that nothing in our parsing breaks on it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import spapi_models as sm

from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import SPAPIError
from sqlspapi.http.client import Client
from sqlspapi.settings.connstr import parse
from sqlspapi.sql.hooks import load_function
from sqlspapi.sql.plan import Request
from sqlspapi.sql.rows import as_rows, dig, row_builder

MODELS = sorted({s.model for s in load_all() if s.model})


class Replay:
    """A loopback server: the LWA token endpoint plus one canned SP-API answer at a time."""

    def __init__(self) -> None:
        self.answer: tuple[int, object] = (200, {})
        self.seen: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-RequestId", "replay-request")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                replay.seen.append(self.path)
                self._send(*replay.answer)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if urlsplit(self.path).path == "/auth/o2/token":
                    self._send(200, {"access_token": "Atza|replay", "token_type": "bearer", "expires_in": 3600})
                else:
                    replay.seen.append(self.path)
                    self._send(*replay.answer)

            do_PUT = do_PATCH = do_DELETE = do_POST  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def replay():
    server = Replay()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(replay):
    settings = parse(f"ClientId=replay;ClientSecret=replay-secret;RefreshToken=Atzr|replay-token;"
                     f"TokenUrl={replay.url}/auth/o2/token;Endpoint={replay.url};RetryMode=None")
    with Client(settings) as c:
        yield c


def _tables_for(operation_id: str, version: str):
    """(table, how the rows are found) for every table whose list or get route uses this operation."""
    for section in load_all():
        if section.version != version:
            continue
        for table in section.tables.values():
            if table.list and table.list.operation.name == operation_id:
                yield table, table.list.rows
            if table.get and table.get.operation.name == operation_id:
                yield table, table.get.row


def _cases(models_dir):
    for name in MODELS:
        model = sm.load(models_dir, name)
        version = model["info"]["version"]
        for method, path, op_id, status, params, response in sm.sandbox_cases(model):
            yield name, version, method, path, op_id, status, params, response


def test_every_sandbox_example_parses(models_dir, replay, client) -> None:
    checked = rows_total = 0
    for name, version, method, path, op_id, status, params, response in _cases(models_dir):
        spec = OperationSpec(op_id, name, version, method, path, rate=1000.0, burst=1000)
        path_params = {k: str(v) for k, v in params.items() if "{" + k + "}" in path}
        body = params.get("body")
        query = {k: v for k, v in params.items() if k not in path_params and k != "body"}
        replay.answer = (status, response if response is not None else {})
        where = f"{name} {op_id} {status} {params}"
        if status >= 400 or isinstance(response, dict) and response.get("errors"):  # a 2xx listing errors fails too
            with pytest.raises(SPAPIError) as err:
                client.call(spec, path=path_params, query=query, body=body)
            errors = response if isinstance(response, list) else (response or {}).get("errors", [{}])
            expected = errors[0].get("code")  # a bare ErrorList is the error body some models document
            assert err.value.code == expected, where
            assert err.value.status == status and err.value.request_id == "replay-request", where
            assert (expected or f"HTTP {status}") in str(err.value), where
        else:
            answer = client.call(spec, path=path_params, query=query, body=body)
            assert answer.status == status, where
            for table, rows_path in _tables_for(op_id, version):
                build = row_builder(table.columns)
                hook = load_function(table.hook) if table.hook else (lambda obj, _req: [obj])
                request = Request(spec, path_params, query)
                for raw in as_rows(dig(answer.json, rows_path) if rows_path else answer.json):
                    for obj in hook(raw, request):
                        row = build(obj, request, obj)
                        assert len(row) == len(table.columns), where
                        assert all(v is None or isinstance(v, int | float | str) for v in row), where
                        rows_total += 1
        checked += 1
    assert checked >= 40, "expected the Orders and Sellers models' static sandbox examples"
    assert rows_total > 0
