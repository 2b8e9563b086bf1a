"""The generic escape hatch ``spapi_request(method, path, query, body, json_path)`` against the emulator.

Any SP-API call as a table, through the same auth, RDTs, rate limits and call log as every other table: the status
and raw JSON, or one row per element under a JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlspapi.vtables.generic import UNKNOWN_BURST, UNKNOWN_RATE, match_operation

from sqlspapi import emulator
from sqlspapi.engine import Database, open_database
from sqlspapi.errors import MissingFilterError
from sqlspapi.http.runtime import reset_runtimes

SELLERS = "/sellers/v1/marketplaceParticipations"


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    """An emulator whose usage plans run 1000 times faster than Amazon's."""
    server = emulator.start(time_scale=1000)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def db(emu: Any) -> Iterator[Database]:
    """A database on the emulator, with restricted data on (a fresh account runtime: no tokens from elsewhere)."""
    reset_runtimes()
    database = open_database(emu.connection_string() + ";IncludeRestrictedData=true")
    yield database
    database.close()


def run(db: Database, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """The rows of one statement."""
    return list(db.connection.execute(sql, args))


def operations(db: Database) -> list[str]:
    """The operations the last statement called."""
    return [c.operation for c in db.last_calls()]


def test_status_and_raw_json(db: Database) -> None:
    ((status, request_id, operation, idx, value),) = run(
        db, "SELECT status, request_id, operation, idx, value FROM spapi_request('GET', ?)", SELLERS)
    assert (status, operation, idx) == (200, "getMarketplaceParticipations", 0)
    assert request_id
    ids = [p["marketplace"]["id"] for p in json.loads(value)["payload"]]
    assert "ATVPDKIKX0DER" in ids
    assert operations(db) == ["getMarketplaceParticipations"], "exactly one call, in the call log"


def test_json_path_gives_one_row_per_element(db: Database, emu: Any) -> None:
    before = emu.calls.count("getMarketplaceParticipations")
    got = run(db, "SELECT idx, json_extract(value, '$.marketplace.id') FROM spapi_request('GET', ?, NULL, NULL, "
                  "'$.payload')", SELLERS)
    assert [idx for idx, _id in got] == list(range(len(got))) and len(got) > 1
    assert ("ATVPDKIKX0DER" in {mid for _idx, mid in got})
    assert operations(db) == ["getMarketplaceParticipations"]
    assert emu.calls.count("getMarketplaceParticipations") == before + 1


def test_json_path_to_one_element_and_to_nothing(db: Database) -> None:
    one = run(db, "SELECT json_extract(value, '$.marketplace.id') FROM spapi_request('GET', ?, NULL, NULL, "
                  "'$.payload[0]')", SELLERS)
    assert len(one) == 1 and one[0][0]
    assert run(db, "SELECT * FROM spapi_request('GET', ?, NULL, NULL, '$.nothing.here')", SELLERS) == []


@pytest.mark.parametrize("query", [
    '{"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": 3, "marketplaceIds": ["ATVPDKIKX0DER"]}',
    "createdAfter=2026-01-01T00:00:00Z&maxResultsPerPage=3&marketplaceIds=ATVPDKIKX0DER",
], ids=["json", "form"])
def test_query_as_json_or_form(db: Database, emu: Any, query: str) -> None:
    got = run(db, "SELECT json_extract(value, '$.orderId') FROM spapi_request('GET', '/orders/2026-01-01/orders', "
                  "?, NULL, '$.orders')", query)
    assert len(got) == 3
    assert operations(db) == ["searchOrders"]
    (call,) = emu.calls.of("searchOrders")[-1:]
    assert {k: call.params[k] for k in ("createdAfter", "maxResultsPerPage", "marketplaceIds")} == {
        "createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "3", "marketplaceIds": "ATVPDKIKX0DER"}


def test_an_unknown_path_is_paced_conservatively_and_answered(db: Database, emu: Any) -> None:
    path = "/no-such-api/v1/things"
    ((status, operation, value),) = run(db, "SELECT status, operation, value FROM spapi_request('GET', ?)", path)
    assert (status, operation) == (404, f"GET {path}")
    assert json.loads(value)["errors"][0]["code"]
    assert emu.calls.snapshot()[-1].path == path and emu.calls.snapshot()[-1].status == 404
    assert [(c.operation, c.status) for c in db.last_calls()] == [(f"GET {path}", 404)]
    op, _params = match_operation("GET", path)
    bucket = db.client.runtime.bucket(op)
    assert (bucket.rate, bucket.burst) == (UNKNOWN_RATE, UNKNOWN_BURST) == (0.5, 1)


def test_a_restricted_operation_goes_through_an_rdt(db: Database, emu: Any) -> None:
    emu.calls.clear()
    got = run(db, "SELECT status, value FROM spapi_request('GET', '/orders/v0/orders', "
                  "'MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2026-01-01T00:00:00Z&MaxResultsPerPage=2', NULL, "
                  "'$.payload.Orders')")
    assert len(got) == 2 and {status for status, _v in got} == {200}
    assert "BuyerEmail" in json.loads(got[0][1]).get("BuyerInfo", {}), "restricted fields need the RDT"
    emulated = [c.operation for c in emu.calls.snapshot()]
    assert emulated.index("createRestrictedDataToken") < emulated.index("getOrders")
    assert operations(db).count("getOrders") == 1


def test_a_missing_path_names_it(db: Database) -> None:
    with pytest.raises(MissingFilterError, match="spapi_request needs one of path"):
        run(db, "SELECT * FROM spapi_request")
    with pytest.raises(MissingFilterError, match="path"):
        run(db, "SELECT * FROM spapi_request WHERE method = 'GET'")
    assert db.last_calls() == []


def test_an_in_list_of_paths_is_one_call_each(db: Database) -> None:
    rows = run(db, "SELECT path, status FROM spapi_request WHERE method = 'GET' AND path IN "
                   "('/sellers/v1/marketplaceParticipations', '/sellers/v1/account') ORDER BY path")
    assert rows == [("/sellers/v1/account", 200), ("/sellers/v1/marketplaceParticipations", 200)]
    assert sorted(operations(db)) == ["getAccount", "getMarketplaceParticipations"]
