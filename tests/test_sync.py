"""``sqlspapi sync`` into DuckDB (issue 12 §1) against the emulator, checked as a user would: the mirror equals what a
live sqlspapi query returns, the order report's backfill equals the API's rows on the report's columns, a re-run
after nothing changed costs one call per table and writes nothing, a changed order is re-read and merged, many
accounts keep their own cursors, and two syncs of one dataset cannot run at once."""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

import sqlspapi
from sqlspapi.definitions.language import DefinitionError
from sqlspapi.definitions.loader import definitions_dir, load_file
from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.emulator.touch import touch_order
from sqlspapi.http.runtime import reset_runtimes
from sqlspapi.interfaces.cli import main
from sqlspapi.sync import Summary, SyncLockedError, sync

SECOND_TOKEN = "Atzr|FAKE-second-shop"
#: The order report's columns of orders and order_items, as the mirror names them (dlt's snake_case).
ORDER_COLUMNS = ("order_id", "created_time", "last_updated_time", "sales_channel_marketplace_id",
                 "fulfillment_fulfillment_status", "fulfillment_fulfilled_by")
ITEM_COLUMNS = ("order_id", "quantity_ordered", "product_asin", "product_title", "product_seller_sku",
                "product_price_unit_price_currency_code", "product_price_unit_price_amount")


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with start(orders=300, time_scale=1000) as e:
        yield e


@pytest.fixture(scope="module")
def first(emu: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The first sync of orders and order_items since :func:`first_start` (history through the order report)."""
    folder = tmp_path_factory.mktemp("mirror")
    place = {"credentials": str(folder / "mirror.duckdb"), "pipelines_dir": str(folder / "pipelines")}
    summary = sync(emu.connection_string(), tables=["orders", "order_items"], progress=False, since=first_start(),
                   **place)
    return {"summary": summary, "place": place, "folder": folder}


def mirror(path: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the DuckDB file ``path`` (closed at once: the next sync writes it)."""
    with duckdb.connect(path, read_only=True) as con:
        return [tuple(row) for row in con.sql(sql).fetchall()]


def live(connection_string: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` through sqlspapi itself."""
    with sqlspapi.connect(connection_string) as con, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [tuple(row) for row in con.cursor().execute(sql, params).fetchall()]


def first_start() -> str:
    """Where the first runs of these tests start: 150 days before today (00:00 UTC; five reports per marketplace)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_calls(emu: Any) -> Counter[str]:
    """SP-API operations the emulator answered (not the LWA token endpoint)."""
    return Counter(c.operation for c in emu.calls if c.operation != "lwaToken")


def test_first_sync_equals_the_live_data(emu: Any, first: dict[str, Any]) -> None:
    summary, path = first["summary"], first["place"]["credentials"]
    assert isinstance(summary, Summary) and summary.calls > 0 and not summary.accounts_failed
    api = emu.connection_string(Route="api")
    orders = live(api, "SELECT orderId, createdTime, lastUpdatedTime, salesChannel_marketplaceId, "
                       "fulfillment_fulfillmentStatus, fulfillment_fulfilledBy FROM orders WHERE lastUpdatedTime >= ?",
                  first_start())
    assert len(orders) == summary.tables["orders"] > 50
    assert sorted(mirror(path, f"SELECT {', '.join(ORDER_COLUMNS)} FROM sqlspapi.orders")) == sorted(orders)
    sources = dict(mirror(path, "SELECT _sqlspapi_source, count(*) FROM sqlspapi.orders GROUP BY 1"))
    assert sources["report"] > 10 and sources["api"] > 0, "history from the order report, the overlap from the API"
    assert mirror(path, "SELECT DISTINCT account FROM sqlspapi.orders") == [("",)]
    # the rows the API gave have its columns; the report's rows leave them NULL
    recent = live(api, "SELECT orderId, proceeds_grandTotal_amount FROM orders WHERE lastUpdatedTime >= ?",
                  (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    got = dict(mirror(path, "SELECT order_id, proceeds_grand_total_amount FROM sqlspapi.orders "
                            "WHERE _sqlspapi_source = 'api'"))
    assert recent and all(got[order_id] == amount for order_id, amount in recent)
    assert mirror(path, "SELECT count(proceeds_grand_total_amount) FROM sqlspapi.orders "
                        "WHERE _sqlspapi_source = 'report'") == [(0,)]
    items = live(api, f"SELECT {', '.join('i.' + c for c in ('orderId', 'quantityOrdered', 'product_asin'))} FROM "
                      "orders o JOIN order_items i ON i.orderId = o.orderId WHERE o.lastUpdatedTime >= ?",
                 first_start())
    assert Counter(mirror(path, "SELECT order_id, quantity_ordered, product_asin FROM sqlspapi.order_items")) \
        == Counter(items)
    assert summary.tables["order_items"] == len(items)


def test_the_report_backfill_equals_the_api_on_the_reports_columns(emu: Any, first: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    paged = str(tmp_path / "paged.duckdb")
    summary = sync(emu.connection_string(), tables=["orders", "order_items"], credentials=paged, backfill="api",
                   since=first_start(), pipelines_dir=str(tmp_path / "pipelines"), progress=False)
    assert summary.tables["orders"] == first["summary"].tables["orders"]
    assert mirror(paged, "SELECT DISTINCT _sqlspapi_source FROM sqlspapi.orders") == [("api",)]
    reported = first["place"]["credentials"]
    for table, columns in (("orders", ORDER_COLUMNS), ("order_items", ITEM_COLUMNS)):
        report_rows = mirror(reported, f"SELECT {', '.join(columns)} FROM sqlspapi.{table} WHERE order_id IN "
                                       "(SELECT order_id FROM sqlspapi.orders WHERE _sqlspapi_source = 'report')")
        api_rows = {row[0]: [] for row in report_rows}
        for row in mirror(paged, f"SELECT {', '.join(columns)} FROM sqlspapi.{table}"):
            if row[0] in api_rows:
                api_rows[row[0]].append(row)
        assert report_rows and Counter(report_rows) == Counter(r for rows in api_rows.values() for r in rows), table


def test_a_rerun_after_nothing_changed_costs_one_call_per_table_and_writes_nothing(emu: Any,
                                                                                   first: dict[str, Any]) -> None:
    path = first["place"]["credentials"]
    before = mirror(path, "SELECT count(*), (SELECT count(*) FROM sqlspapi._dlt_loads) FROM sqlspapi.orders")
    emu.calls.clear()
    summary = sync(emu.connection_string(), tables=["orders", "order_items"], progress=False, **first["place"])
    assert sum(api_calls(emu).values()) <= 2, api_calls(emu)
    assert summary.tables == {"orders": 0, "order_items": 0}
    assert summary.rows_read["orders"] > 0, "the overlap was read again"
    assert mirror(path, "SELECT count(*), (SELECT count(*) FROM sqlspapi._dlt_loads) FROM sqlspapi.orders") == before


def test_a_changed_order_is_read_again_and_merged(emu: Any, first: dict[str, Any]) -> None:
    path = first["place"]["credentials"]
    order_id, status, items = mirror(path, "SELECT o.order_id, o.fulfillment_fulfillment_status, count(*) FROM "
                                           "sqlspapi.orders o JOIN sqlspapi.order_items i USING (order_id) WHERE "
                                           "o._sqlspapi_source = 'report' AND o.fulfillment_fulfillment_status IN "
                                           "('SHIPPED', 'UNSHIPPED') GROUP BY 1, 2 "
                                           "ORDER BY 1 LIMIT 1")[0]
    touch_order(emu, order_id, "Canceled")
    reset_runtimes()  # the last run's answers, shared for 2 s with the account's other connections, go
    summary = sync(emu.connection_string(), tables=["orders", "order_items"], progress=False, **first["place"])
    assert summary.tables == {"orders": 1, "order_items": items}, summary
    assert mirror(path, f"SELECT fulfillment_fulfillment_status, _sqlspapi_source FROM sqlspapi.orders "
                        f"WHERE order_id = '{order_id}'") == [("CANCELLED", "api")]
    assert mirror(path, f"SELECT count(*), count(order_item_id) FROM sqlspapi.order_items "
                        f"WHERE order_id = '{order_id}'") == [(items, items)], "the report's items were replaced"
    count = first["summary"].tables["orders"]
    assert mirror(path, "SELECT count(*), count(DISTINCT order_id) FROM sqlspapi.orders") == [(count, count)]
    assert status != "CANCELLED"


# ------------------------------------------------------------------------------------------------ accounts


def write_accounts(folder: Path, emu: Any) -> Path:
    """A credentials file with two named accounts on the emulator (the same data, separate tokens)."""
    common = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "token_url": emu.token_url,
              "endpoint": emu.url}
    path = folder / "credentials.json"
    path.write_text(json.dumps({"shop_us": {**common, "refresh_token": DEMO_REFRESH_TOKEN},
                                "shop_eu": {**common, "refresh_token": SECOND_TOKEN}}))
    path.chmod(0o600)
    return path


def resource_state(pipelines_dir: Path, table: str) -> dict[str, Any]:
    """The sync's state of ``table`` (committed by dlt with the data)."""
    state = dlt.attach("sqlspapi_sqlspapi", pipelines_dir=str(pipelines_dir)).state
    return state["sources"]["sqlspapi"]["resources"][table]["accounts"]


def test_many_accounts_keep_their_own_cursor_and_a_failing_one_does_not_stop_the_others(tmp_path: Path) -> None:
    reset_runtimes()
    with start(orders=50, time_scale=1000) as emu:
        emu.add_account(SECOND_TOKEN)
        connection_string = f"CredentialsFile={write_accounts(tmp_path, emu)};Accounts=all;OnAccountError=skip"
        place = {"credentials": str(tmp_path / "m.duckdb"), "pipelines_dir": str(tmp_path / "p"), "progress": False}
        first = sync(connection_string, tables=["orders", "order_items"], since="30d", **place)
        rows = mirror(place["credentials"], "SELECT account, order_id FROM sqlspapi.orders ORDER BY 1, 2")
        alone = live(emu.connection_string(), "SELECT orderId FROM orders WHERE lastUpdatedTime >= ? ORDER BY 1",
                     (datetime.now(UTC) - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert alone and [r for r in rows if r[0] == "shop_us"] == [("shop_us", o) for (o,) in alone]
        assert len(rows) == 2 * len(alone) == first.tables["orders"]
        cursors = {a: s["cursor"] for a, s in resource_state(tmp_path / "p", "orders").items()}
        assert set(cursors) == {"shop_us", "shop_eu"}

        emu.revoke_refresh_token(SECOND_TOKEN)
        reset_runtimes()  # the access token held for shop_eu goes: its next call needs the revoked refresh token
        order_id = alone[-1][0]
        touch_order(emu, order_id, "Canceled")
        second = sync(connection_string, tables=["orders", "order_items"], **place)
        assert list(second.accounts_failed) == ["shop_eu"] and "AuthError" in second.accounts_failed["shop_eu"]
        assert second.tables["orders"] == 1
        after = {a: s["cursor"] for a, s in resource_state(tmp_path / "p", "orders").items()}
        assert after["shop_eu"] == cursors["shop_eu"] and after["shop_us"] > cursors["shop_us"]
        statuses = dict(mirror(place["credentials"], f"SELECT account, fulfillment_fulfillment_status FROM "
                                                     f"sqlspapi.orders WHERE order_id = '{order_id}'"))
        assert statuses["shop_us"] == "CANCELLED" and statuses["shop_eu"] != "CANCELLED"
    reset_runtimes()


def test_accounts_are_read_concurrently_and_each_pages_as_it_would_alone(tmp_path: Path) -> None:
    """Two accounts of ten searchOrders pages each: their calls overlap in time (read concurrently, each within its own
    usage plans), each account pages once, and the mirror holds both accounts' orders."""
    reset_runtimes()
    with start(orders=1000, time_scale=1000) as emu:
        emu.add_account(SECOND_TOKEN)
        connection_string = f"CredentialsFile={write_accounts(tmp_path, emu)};Accounts=all"
        summary = sync(connection_string, tables=["orders"], since="700d", backfill="api",
                       credentials=str(tmp_path / "m.duckdb"), pipelines_dir=str(tmp_path / "p"), progress=False)
        calls = [c for c in emu.calls.snapshot() if c.operation == "searchOrders"]
    accounts = Counter(c.account for c in calls)
    assert set(accounts) == {"demo", SECOND_TOKEN} and accounts["demo"] == accounts[SECOND_TOKEN] >= 5, accounts
    first = {a: min(c.time for c in calls if c.account == a) for a in accounts}
    last = {a: max(c.time for c in calls if c.account == a) for a in accounts}
    assert first[SECOND_TOKEN] < last["demo"] and first["demo"] < last[SECOND_TOKEN], "one account after the other"
    rows = mirror(str(tmp_path / "m.duckdb"), "SELECT account, count(*) FROM sqlspapi.orders GROUP BY 1 ORDER BY 1")
    assert [n for _a, n in rows] == [summary.tables["orders"] // 2] * 2
    reset_runtimes()


# ------------------------------------------------------------------------------------------------ lock, CLI


def test_a_second_sync_of_the_same_dataset_fails_at_once_naming_the_lock(emu: Any, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "p" / "sqlspapi.lock"
    lock.parent.mkdir()
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        with pytest.raises(SyncLockedError, match=rf"running \(pid 4242\): lock file {lock}"):
            sync(emu.connection_string(), tables=["orders"], pipelines_dir=str(tmp_path / "p"),
                 credentials=str(tmp_path / "m.duckdb"), progress=False)
        status = main(["sync", emu.connection_string(), "--tables", "orders", "--pipelines-dir",
                       str(tmp_path / "p"), "--credentials", str(tmp_path / "m.duckdb")])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and err.startswith("error: another sync of this dataset is running")
    # the lock is free again: another dataset, or the same one later, runs
    assert main(["sync", emu.connection_string(), "--tables", "orders", "--since", "3d", "--pipelines-dir",
                 str(tmp_path / "p"), "--credentials", str(tmp_path / "m.duckdb"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("orders ") and "rows loaded" in out and "SP-API calls" in out


def test_the_cli_defaults_write_sqlspapi_mirror_duckdb_in_the_current_directory(
        emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SQLSPAPI_CONNECTION_STRING", emu.connection_string())
    assert main(["sync", "--tables", "transactions,transaction_items", "--since", "10d", "--no-progress"]) == 0
    assert (tmp_path / "sqlspapi_mirror.duckdb").is_file()
    assert (Path(os.environ["SQLSPAPI_CACHE_DIR"]) / "sync" / "sqlspapi.lock").is_file()
    rows = mirror(str(tmp_path / "sqlspapi_mirror.duckdb"), "SELECT count(*), count(DISTINCT transaction_id) FROM "
                                                            "sqlspapi.transactions")
    assert rows[0][0] > 0 and rows[0][0] == rows[0][1]
    assert "transaction_items" in capsys.readouterr().out
    assert main(["sync", "--tables", "no_such_table", "--no-progress"]) == 1
    assert capsys.readouterr().err.startswith("error: sync: no table 'no_such_table'")


# ------------------------------------------------------------------------------------------------ definitions


def test_a_sync_block_is_checked_like_the_rest_of_a_definition(tmp_path: Path) -> None:
    text = (definitions_dir() / "orders-2026-01-01.toml").read_text(encoding="utf-8")
    for wrong, message in ((('cursor = "lastUpdatedTime"', 'cursor = "orderId"'), "is not a TIME column"),
                           (("overlap_days = 0.25\n", "overlap_dayz = 0.25\n"), "did you mean 'overlap_days'"),
                           (('parent = "orders"', 'parent = "order_buyer_info"'), "parent 'order_buyer_info'")):
        path = tmp_path / "orders-2026-01-01.toml"
        path.write_text(text.replace(*wrong, 1), encoding="utf-8")
        with pytest.raises(DefinitionError, match=message):
            load_file(path)
