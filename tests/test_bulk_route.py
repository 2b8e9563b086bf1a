"""The bulk route as a user meets it, against the emulator over HTTP: the same SQL read through the Orders API
(Route=api) and through the order report (Route=report) gives the same rows, for Orders v0 and 2026-01-01; the
auto mode takes the report only once a volume was seen on the account and the range holds enough orders, and
EXPLAIN QUERY PLAN says which route and why; a column the report lacks pages in auto mode and is a clear error with
Route=report; ``orders JOIN order_items`` over a window makes no getOrderItems call; an order two reports both hold
is read once; a marketplace filter reaches the report; the mappings name real columns, a mistake in a [bulk]
definition is named, and a unit price is an exact quotient or NULL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)
from test_loader import VALID, error_of

from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import BulkSpec
from sqlspapi.emulator import start
from sqlspapi.engine import Database
from sqlspapi.errors import ProgrammingError
from sqlspapi.sql.plan import Request
from sqlspapi.sql.routes.bulk_rows import Shaper, report_table
from sqlspapi.sql.rows import row_builder

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
#: A 40-day window well before the anchor (the emulator's busy last 14 days excluded, so the API side stays quick).
WINDOW = "'2025-09-20' AND '2025-10-30'"
API_CALLS = {"getOrders", "getOrderItems", "getOrder", "searchOrders", "getOrder2026"}
V0, V2026 = {"OrdersApiVersion": "v0"}, {"OrdersApiVersion": "2026-01-01"}
#: Every marketplace of the emulator's seller (searchOrders returns them all; a report covers the ones asked for).
EVERY = "US,CA,UK,DE,JP"


@pytest.fixture(scope="module")
def emu():
    with start(orders=3000, time_scale=1000.0, anchor=ANCHOR) as e:  # a report is DONE 0.09 s after it is made
        yield e


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.reset_limits()


def _db(emu, **keys) -> Database:
    return Database(settings_for(emu, **{"MarketplaceIds": "US", **keys}), poll_scale=1 / emu.time_scale)


def _run(db: Database, sql: str) -> list[tuple]:
    with db.statement():
        return list(db.connection.execute(sql))


def _operations(db: Database) -> Counter[str]:
    return Counter(c.operation for c in db.last_calls())


def _bulk(version: str, table: str) -> BulkSpec:
    section = next(s for s in load_all() if s.section == "orders" and s.version == version)
    spec = section.tables[table].route("bulk")
    assert isinstance(spec, BulkSpec)
    return spec


def _mapped_select(version: str, table: str, alias: str) -> str:
    """Every column of ``table`` the order report gives, as a select list."""
    return ", ".join(f"{alias}.{name}" for name in _bulk(version, table).columns)


# ------------------------------------------------------------------------------------------------ differential
@pytest.mark.parametrize("version", ["v0", "2026-01-01"])
def test_report_rows_equal_api_rows(emu, version: str) -> None:
    """orders JOIN order_items over a 40-day window, every column the definition maps from the report (ids,
    status, purchase date, SKU, quantity, item price …): the same rows through the API and through the order
    report, which makes no Orders API call at all."""
    key = "AmazonOrderId" if version == "v0" else "orderId"
    when = "PurchaseDate" if version == "v0" else "createdTime"
    width = len(_bulk(version, "orders").columns) + len(_bulk(version, "order_items").columns)
    sql = (f"SELECT {_mapped_select(version, 'orders', 'o')}, {_mapped_select(version, 'order_items', 'i')} "
           f"FROM orders o JOIN order_items i ON i.{key} = o.{key} WHERE o.{when} BETWEEN {WINDOW} "
           f"ORDER BY {', '.join(str(n + 1) for n in range(width))}")
    with _db(emu, OrdersApiVersion=version, Route="api", MarketplaceIds=EVERY) as db:
        api = _run(db, sql)
        assert API_CALLS & set(_operations(db))
    with _db(emu, OrdersApiVersion=version, Route="report", MarketplaceIds=EVERY) as db:
        report = _run(db, sql)
        calls = _operations(db)
    assert len({row[0] for row in api}) > 20, "the window holds orders"
    assert report == api
    assert not API_CALLS & set(calls), f"the report route called the Orders API: {calls}"
    assert calls["getReportDocument"] >= 1


def test_the_mappings_name_real_columns() -> None:
    """Each [bulk] mapping names columns of its table and of both order reports (a lookup: the reports of its
    version's orders scan); its value maps name mapped columns."""
    for section in load_all():
        for table in section.tables.values():
            spec = table.route("bulk")
            if not isinstance(spec, BulkSpec):
                continue
            assert set(spec.columns) <= {c.name for c in table.columns} and set(spec.values) <= set(spec.columns)
            scan = spec if spec.reports else _bulk(section.version, "orders")
            sources = {part.strip() for s in spec.columns.values() for part in s.split("/")}
            for column in scan.reports:
                report = report_table(scan, column)
                assert sources <= {c.name for c in report.columns}, (table.name, report.name)


# ------------------------------------------------------------------------------------------------ auto
def _days_back(days: int) -> str:
    return f"'{(ANCHOR - timedelta(days=1 + days)):%Y-%m-%d}' AND '{ANCHOR - timedelta(days=1):%Y-%m-%d}'"


def _learn_volume(db: Database) -> float:
    """A whole scan of the last 13 days (only the window chooses its rows): the account's rows a day."""
    _run(db, f"SELECT count(*) FROM orders WHERE PurchaseDate BETWEEN {_days_back(13)}")
    seen = db.client.runtime.pace.seen("getOrders").rows_per_day
    assert seen is not None and seen > 5
    return seen


def test_auto_takes_the_report_only_after_a_volume_was_seen_and_above_the_threshold(emu) -> None:
    with _db(emu, **V0) as db:
        threshold = _bulk("v0", "orders").threshold
        plan = db.explain(f"SELECT AmazonOrderId FROM orders WHERE PurchaseDate BETWEEN {_days_back(200)}")[0]
        assert "getOrders(" in plan and "not the order report: no whole getOrders scan" in plan
        rate = _learn_volume(db)
        many, few = int(threshold * 1.3 / rate) + 1, int(threshold * 0.7 / rate)
        plan = db.explain(f"SELECT AmazonOrderId, OrderStatus FROM orders WHERE PurchaseDate BETWEEN "
                          f"{_days_back(many)}")[0]
        assert f"bulk {ORDER_DATE}(dataStartTime←PurchaseDate>=" in plan
        assert f"orders expected ({rate:,.0f} a day seen) ≥ {threshold}: one report per 30 days instead of" in plan
        plan = db.explain(f"SELECT AmazonOrderId FROM orders WHERE LastUpdateDate BETWEEN {_days_back(many)}")[0]
        assert f"bulk {LAST_UPDATE}(dataStartTime←LastUpdateDate>=" in plan
        plan = db.explain(f"SELECT AmazonOrderId FROM orders WHERE PurchaseDate BETWEEN {_days_back(few)}")[0]
        assert "getOrders(" in plan and f"< {threshold}" in plan
        plan = db.explain(f"SELECT AmazonOrderId FROM orders WHERE AmazonOrderId = '{emu.orders[-1].order_id}'")[0]
        assert "getOrder(" in plan and "order report" not in plan, "a key is a get, whatever the volume"
        rows = _run(db, f"SELECT AmazonOrderId FROM orders WHERE PurchaseDate BETWEEN {_days_back(many)}")
        assert rows and "createReport" in _operations(db) and "getOrders" not in _operations(db)
    with _db(emu, Route="api", **V0) as db:
        _learn_volume(db)
        plan = db.explain(f"SELECT AmazonOrderId FROM orders WHERE PurchaseDate BETWEEN {_days_back(many)}")[0]
        assert "getOrders(" in plan and "order report" not in plan


def test_auto_reads_the_report_for_2026_with_or_without_pinned_marketplaces(emu) -> None:
    """searchOrders returns every marketplace's orders, and a region-wide order report every marketplace of its
    region: auto mode takes the report with or without a marketplace filter."""
    with _db(emu, **V2026) as db:
        _run(db, f"SELECT count(*) FROM orders WHERE createdTime BETWEEN {_days_back(13)}")
        rate = db.client.runtime.pace.seen("searchOrders").rows_per_day
        assert rate is not None
        window = _days_back(int(_bulk("2026-01-01", "orders").threshold * 1.3 / rate) + 1)
        sql = f"SELECT orderId FROM orders WHERE createdTime BETWEEN {window}"
        plan = db.explain(sql)[0]
        assert f"bulk {ORDER_DATE}(dataStartTime←createdTime>=" in plan and "filter salesChannel" not in plan
        plan = db.explain(sql + " AND salesChannel_marketplaceId = 'ATVPDKIKX0DER'")[0]
        assert f"bulk {ORDER_DATE}(dataStartTime←createdTime>=" in plan and "marketplaceId='ATVPDKIKX0DER'" in plan


def test_a_column_the_report_lacks_pages_in_auto_and_is_an_error_with_route_report(emu) -> None:
    sql = f"SELECT AmazonOrderId, OrderTotal_Amount FROM orders WHERE PurchaseDate BETWEEN {_days_back(120)}"
    with _db(emu, **V0) as db:
        _learn_volume(db)
        plan = db.explain(sql)[0]
        assert "getOrders(" in plan and "not the order report: the order report lacks OrderTotal_Amount" in plan
        assert _run(db, sql) and "getOrders" in _operations(db)
    with _db(emu, Route="report", **V0) as db, pytest.raises(ProgrammingError) as caught:
        _run(db, sql)
    assert "lacks OrderTotal_Amount" in str(caught.value) and "Route=auto" in str(caught.value)


# ------------------------------------------------------------------------------------------------ joins
def test_a_join_reads_the_items_from_the_report_orders(emu) -> None:
    """auto mode above the threshold: orders from the report, their items with them (no getOrderItems call); an
    item column the report lacks (OrderItemId) takes getOrderItems per order, and the rows are still the API's."""
    with _db(emu, **V0) as db:
        rate = _learn_volume(db)
        window = _days_back(int(_bulk("v0", "orders").threshold * 1.3 / rate) + 1)
        join = ("SELECT o.AmazonOrderId, i.SellerSKU, i.QuantityOrdered{} FROM orders o JOIN order_items i "
                f"ON i.AmazonOrderId = o.AmazonOrderId WHERE o.PurchaseDate BETWEEN {window} ORDER BY 1, 2, 3")
        plan = db.explain(join.format(""))
        assert f"bulk {ORDER_DATE}(" in plan[0] and "bulk order report rows" in plan[1]
        items = _run(db, join.format(""))
        assert items and "getOrderItems" not in _operations(db) and "getOrders" not in _operations(db)
        with_ids = _run(db, join.format(", i.OrderItemId"))
        calls = _operations(db)
        assert calls["getOrderItems"] == len({row[0] for row in with_ids}) and "getOrders" not in calls
    with _db(emu, Route="api", **V0) as db:
        assert _run(db, join.format(", i.OrderItemId")) == with_ids
        assert [row[:3] for row in with_ids] == items


def test_an_order_two_reports_hold_is_read_once(emu) -> None:
    """A window split into two 30-day reports whose boundary is an order's own purchase time: both reports list it
    (their windows include their ends); the statement reads it once, with its items once."""
    order = next(o for o in emu.orders if o.market.key == "US" and ANCHOR - timedelta(days=90) < o.purchase
                 < ANCHOR - timedelta(days=40))
    start, end = order.purchase - timedelta(days=30), order.purchase + timedelta(days=1)
    sql = ("SELECT o.AmazonOrderId, i.SellerSKU FROM orders o JOIN order_items i ON i.AmazonOrderId = o.AmazonOrderId "
           f"WHERE o.PurchaseDate >= '{start:%Y-%m-%dT%H:%M:%SZ}' AND o.PurchaseDate <= '{end:%Y-%m-%dT%H:%M:%SZ}' "
           "ORDER BY 1, 2")
    with _db(emu, Route="report", **V0) as db:
        report = _run(db, sql)
        assert _operations(db)["getReportDocument"] == 2
    with _db(emu, Route="api", **V0) as db:
        assert report == _run(db, sql)
    assert [row[0] for row in report].count(order.order_id) == len(order.items)


def test_a_marketplace_filter_reaches_the_report(emu) -> None:
    sql = (f"SELECT AmazonOrderId, MarketplaceId FROM orders WHERE MarketplaceId = 'A2EUQ1WTGCTBG2' "
           f"AND PurchaseDate BETWEEN {WINDOW} ORDER BY 1")
    with _db(emu, Route="report", MarketplaceIds="US,CA,UK", **V0) as db:
        assert "marketplaceId='A2EUQ1WTGCTBG2'" in db.explain(sql)[0]
        rows = _run(db, sql)
        assert _operations(db)["getReportDocument"] <= 2  # CA's two 30-day windows, not three marketplaces' six
    with _db(emu, Route="api", MarketplaceIds="US,CA,UK", **V0) as db:
        assert rows and rows == _run(db, sql)


# ------------------------------------------------------------------------------------------------ definitions
@pytest.mark.parametrize(("bulk", "message"), [
    ('reports = { createdAt = "r" }\ncolumns = { thingId = "amazon_order_id", madeAt = "purchase_date" }',
     "table things: column 'madeAt' is named but not declared in columns"),
    ('reports = { createdAt = "r" }\nentity = "thing"\ncolumns = { thingId = "amazon_order_id" }',
     "give reports (range column → report table: a scan) or entity"),
    ('reports = { createdAt = "r" }\ncolumns = { thingId = "amazon_order_id", createdAt = "a * b" }',
     "createdAt = 'a * b'"),
    ('reports = { createdAt = "r" }\ncolumns = { createdAt = "purchase_date" }',
     "key 'amazon_order_id' (the report's order id) is mapped to no column"),
    ('reports = { createdAt = "r" }\ncolumns = { thingId = "amazon_order_id" }\nthreshold = -1', "threshold -1"),
])
def test_a_bulk_definition_mistake_is_named(tmp_path, bulk: str, message: str) -> None:
    """test_loader's valid definition with a [bulk] route holding one mistake."""
    found = error_of(tmp_path, f'{VALID}\n[tables.things.bulk]\nkey = "amazon_order_id"\n{bulk}\n')
    assert found.startswith("vtables/things-v1.toml: table things") and message in found


def test_a_unit_price_is_the_exact_quotient_of_the_line_price_or_null() -> None:
    """2026 order items: the report's line price over its quantity, when exact (12.99 × 3 = 38.97); a price that
    does not divide exactly (10.00 / 3) is NULL, never rounded."""
    section = next(s for s in load_all() if s.section == "orders" and s.version == "2026-01-01")
    table = section.tables["order_items"]
    shaper = Shaper(table, _bulk("2026-01-01", "order_items"))
    source = Request(section.operations["getOrder"], {}, {"marketplaceId": "ATVPDKIKX0DER", "reportId": "1"})
    build = row_builder(table.columns)
    price = table.column_index("product_price_unitPrice_amount")
    for line, quantity, unit in ((38.97, 3, 12.99), (10.0, 3, None), (5.0, 0, None), (None, 1, None)):
        row = {"amazon_order_id": "111-1", "quantity": quantity, "item_price": line, "currency": "USD", "sku": "S"}
        assert build(*shaper.shape(row, source))[price] == unit
