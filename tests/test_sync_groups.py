"""``sqlspapi sync`` of a parent with its child (orders and order_items) in one statement per window, and the spool
(issue 12 follow-up), against the emulator into a real DuckDB: syncing the items with their orders costs no more
searchOrders calls and no more report downloads than syncing the orders alone; an account failing partway through a
snapshot table writes nothing of it (its previous rows stay, the other account's are replaced); items added to a
mirror of orders alone are filled completely by the next run."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dlt
import pytest
from test_sync import SECOND_TOKEN, api_calls, first_start, live, mirror, write_accounts

from sqlspapi.definitions.schema import ColumnSpec
from sqlspapi.emulator import start
from sqlspapi.emulator.touch import touch_order
from sqlspapi.http import flight
from sqlspapi.http.runtime import reset_runtimes
from sqlspapi.sync import source, sync
from sqlspapi.sync.plan import TablePlan, plan_groups

#: The size and clock of the emulators of this module (the same seed: the same data in each).
EMULATOR = {"orders": 300, "time_scale": 1000}
#: Report calls that fetch a document.
DOWNLOADS = ("getReportDocument", "reportDocumentDownload")
#: Where the report-heavy tests' first runs start (``since``): 45 days back, two order report windows per marketplace.
SINCE = (datetime.now(UTC) - timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_sync(folder: Path, tables: list[str], backfill: str, monkeypatch: pytest.MonkeyPatch,
               since: str) -> Counter[str]:
    """The SP-API calls of a first sync of ``tables`` from ``since`` on a new emulator, with a report cache of its
    own (no report or document of another sync is reused)."""
    folder.mkdir()
    monkeypatch.setenv("SQLSPAPI_CACHE_DIR", str(folder / "cache"))
    # as at Amazon's rates, where a second statement of the same window comes minutes after the first: no answer of
    # one statement is shared with the next (the emulator's fast clock puts them within the sharing window)
    monkeypatch.setattr(flight, "OTHERS_WINDOW", 0.0)
    reset_runtimes()
    with start(**EMULATOR) as emu:
        summary = sync(emu.connection_string(), tables=tables, backfill=backfill, since=since, progress=False,
                       credentials=str(folder / "m.duckdb"), pipelines_dir=str(folder / "p"))
        calls = api_calls(emu)
    assert summary.tables["orders"] > 10 and not summary.accounts_failed
    reset_runtimes()
    return calls


def test_orders_with_their_items_page_search_orders_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = fresh_sync(tmp_path / "alone", ["orders"], "api", monkeypatch, first_start())
    both = fresh_sync(tmp_path / "both", ["orders", "order_items"], "api", monkeypatch, first_start())
    assert alone["searchOrders"] > 1 and both["searchOrders"] == alone["searchOrders"], (alone, both)
    assert both == alone, "the items come with their orders: not one call more"


def test_orders_with_their_items_download_each_report_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = fresh_sync(tmp_path / "alone", ["orders"], "report", monkeypatch, SINCE)
    both = fresh_sync(tmp_path / "both", ["orders", "order_items"], "report", monkeypatch, SINCE)
    assert alone["reportDocumentDownload"] > 1
    assert [both[op] for op in DOWNLOADS] == [alone[op] for op in DOWNLOADS], (alone, both)
    assert both == alone, "each report is requested, polled and downloaded once for both tables"


def test_items_added_to_a_mirror_of_orders_are_filled_by_the_next_run(tmp_path: Path) -> None:
    reset_runtimes()
    place = {"credentials": str(tmp_path / "m.duckdb"), "pipelines_dir": str(tmp_path / "p"), "progress": False}
    with start(**EMULATOR) as emu:
        orders = sync(emu.connection_string(), tables=["orders"], since=SINCE, **place)
        both = sync(emu.connection_string(), tables=["orders", "order_items"], since=SINCE, **place)
        items = live(emu.connection_string(Route="api"), "SELECT i.orderId, i.quantityOrdered, i.product_asin FROM "
                     "orders o JOIN order_items i ON i.orderId = o.orderId WHERE o.lastUpdatedTime >= ?",
                     SINCE)
        again = sync(emu.connection_string(), tables=["orders", "order_items"], **place)
    path = place["credentials"]
    assert items and Counter(mirror(path, "SELECT order_id, quantity_ordered, product_asin FROM "
                                          "sqlspapi.order_items")) == Counter(items)
    count = orders.tables["orders"]
    assert mirror(path, "SELECT count(*), count(DISTINCT order_id) FROM sqlspapi.orders") == [(count, count)]
    assert both.tables["order_items"] == len(items)
    assert again.tables == {"orders": 0, "order_items": 0}, "the group's state is whole after the first group run"
    reset_runtimes()


def test_tables_synced_apart_then_together_go_on_from_their_cursors(tmp_path: Path) -> None:
    reset_runtimes()
    place = {"credentials": str(tmp_path / "m.duckdb"), "pipelines_dir": str(tmp_path / "p"), "progress": False}
    with start(**EMULATOR) as emu:
        for table in ("orders", "order_items"):  # each its own resource, with its own state
            sync(emu.connection_string(), tables=[table], since=SINCE, **place)
        before = mirror(place["credentials"], "SELECT count(*) FROM sqlspapi.order_items")
        emu.calls.clear()
        together = sync(emu.connection_string(), tables=["orders", "order_items"], **place)
        assert sum(api_calls(emu).values()) <= 1, api_calls(emu)
    assert together.tables == {"orders": 0, "order_items": 0}
    assert mirror(place["credentials"], "SELECT count(*) FROM sqlspapi.order_items") == before
    reset_runtimes()


def test_an_order_a_reused_report_and_the_api_both_give_is_written_once(tmp_path: Path) -> None:
    reset_runtimes()
    first = {"credentials": str(tmp_path / "a.duckdb"), "pipelines_dir": str(tmp_path / "a"), "progress": False}
    second = {"credentials": str(tmp_path / "b.duckdb"), "pipelines_dir": str(tmp_path / "b"), "progress": False}
    tables = ["orders", "order_items"]
    with start(**EMULATOR) as emu:
        sync(emu.connection_string(), tables=tables, since=SINCE, **first)
        [(order_id,)] = mirror(first["credentials"], "SELECT min(order_id) FROM sqlspapi.orders "
                                                     "WHERE _sqlspapi_source = 'report'")
        touch_order(emu, order_id, "Canceled")  # now also in the API's recent window
        reset_runtimes()
        sync(emu.connection_string(), tables=tables, since=SINCE, **second)  # the reports are reused
        items = live(emu.connection_string(Route="api"), "SELECT orderId, quantityOrdered, product_asin FROM "
                     "order_items WHERE orderId = ?", order_id)
    path = second["credentials"]
    assert mirror(path, f"SELECT _sqlspapi_source FROM sqlspapi.orders WHERE order_id = '{order_id}'") == [("api",)]
    assert items and Counter(mirror(path, "SELECT order_id, quantity_ordered, product_asin FROM sqlspapi.order_items "
                                          f"WHERE order_id = '{order_id}'")) == Counter(items)
    reset_runtimes()


def snapshot(path: str) -> dict[str, tuple[int, str]]:
    """Per account of the mirror's ``vendor_purchase_orders``: its rows and the load that wrote them."""
    rows = mirror(path, "SELECT account, count(*), min(_dlt_load_id), max(_dlt_load_id) FROM "
                        "sqlspapi.vendor_purchase_orders GROUP BY 1")
    assert all(first == last for _, _, first, last in rows), "each account's snapshot comes from one load"
    return {account: (count, load) for account, count, load, _ in rows}


def test_an_account_failing_partway_through_a_snapshot_table_keeps_its_previous_rows(tmp_path: Path) -> None:
    reset_runtimes()
    with start(**EMULATOR) as emu:
        emu.add_account(SECOND_TOKEN)
        connection_string = f"CredentialsFile={write_accounts(tmp_path, emu)};Accounts=all;OnAccountError=skip"
        place = {"credentials": str(tmp_path / "m.duckdb"), "pipelines_dir": str(tmp_path / "p"), "progress": False}
        sync(connection_string, tables=["vendor_purchase_orders"], **place)
        before = snapshot(place["credentials"])
        assert set(before) == {"shop_us", "shop_eu"} and before["shop_us"][0] == before["shop_eu"][0] > 100
        pages = api_calls(emu)["getPurchaseOrders"] // 2
        assert pages > 3, "one account's snapshot takes several pages"
        reset_runtimes()
        emu.fail_next("getPurchaseOrders", 403, skip=pages + 2)  # the second account's third page
        second = sync(connection_string, tables=["vendor_purchase_orders"], **place)
    after = snapshot(place["credentials"])
    [failed] = second.accounts_failed
    [other] = set(before) - {failed}
    assert after[failed] == before[failed], "the failing account wrote nothing: its previous snapshot is whole"
    assert after[other][0] == before[other][0] and after[other][1] > before[other][1], "the other one was replaced"
    reset_runtimes()


def test_the_spool_is_removed_when_dlt_stops_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))  # where the spool's files go
    seen: list[list[str]] = []
    reset_runtimes()
    with start(**EMULATOR) as emu:
        data = source(emu.connection_string(), tables=["orders", "order_items"], since="7d", backfill="api")
        assert list(data.resources) == ["orders"], "the items are a table of the orders' resource"
        data.resources["orders"].add_map(lambda row: seen.append([p.name for p in spools.iterdir()]) or row)
        data.resources["orders"].add_limit(1)  # dlt closes the generator after its first batch
        pipeline = dlt.pipeline(pipeline_name="early", pipelines_dir=str(tmp_path / "p"), destination="duckdb")
        pipeline.extract(data)
    assert seen and all(len(names) == 1 and names[0].startswith("sqlspapi-sync-") for names in seen)
    assert not list(spools.iterdir())
    reset_runtimes()


def test_a_parent_is_read_with_its_first_child_and_its_other_children_alone() -> None:
    def plan(table: str, parent: str | None = None) -> TablePlan:
        columns = (ColumnSpec("orderId", ("orderId",), "TEXT"),
                   ColumnSpec("quantity" if parent else "lastUpdatedTime", ("x",), "INTEGER" if parent else "TIME"))
        return TablePlan(table, columns, cursor="lastUpdatedTime", parent=parent, join="orderId" if parent else None,
                         key=() if parent else ("orderId",), replace_by="orderId" if parent else None)

    groups = plan_groups([plan("items", "orders"), plan("orders"), plan("boxes", "orders"), plan("lines", "shipments")])
    assert [(g.parent.table, g.child.table if g.child else None) for g in groups] == [
        ("orders", "items"), ("boxes", None), ("lines", None)]
    assert groups[0].select(report=False, upper=True, account=True) == (
        'SELECT p."orderId", p."lastUpdatedTime", c."orderId", c."quantity", p."lastUpdatedTime" '
        'FROM "orders" p LEFT JOIN "items" c ON c."orderId" = p."orderId" '
        'AND c.account = p.account WHERE p."lastUpdatedTime" >= ? AND p."lastUpdatedTime" < ? AND p.account = ?')
    # a row: the parent's values and cursor; the child's and the cursor — none where the LEFT JOIN found no child
    assert groups[0].split(["o1", "t", "o1", 2, "t"], False) == [["o1", "t", "t"], ["o1", 2, "t"]]
    assert groups[0].split(["o2", "t", None, None, "t"], False) == [["o2", "t", "t"], None]
