"""Order reports are region-wide, as a user meets them against the emulator over HTTP.

Amazon ignores ``marketplaceIds`` for GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL / …_BY_ORDER_DATE_GENERAL:
one report holds every marketplace of the region, each row naming its marketplace only by ``sales-channel``
(amzn/selling-partner-api-models issues #2209, #534, #1859, #2513). So: the emulator's report for [CA] holds US and CA
orders; a query for CA makes one createReport per 30-day slice and returns exactly CA's orders; a query without a
marketplace filter makes one report per region and slice and returns each marketplace's rows once; ``orders`` read
from the report equal the Orders API's without a marketplace filter, and the auto mode no longer asks for one; the
sales-channel lookup and the definition checks.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)
from test_loader import error_of, write

from sqlspapi.definitions.loader import load_all, load_file
from sqlspapi.definitions.schema import ReportSpec
from sqlspapi.emulator import start
from sqlspapi.engine import Database
from sqlspapi.settings.marketplaces import MARKETPLACE_BY_CODE, MARKETPLACES, marketplace_by_sales_channel

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
LAST_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ORDER_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
#: Every marketplace of the emulator's seller: US, CA (na), UK, DE (eu), JP (fe).
EVERY = "US,CA,UK,DE,JP"
#: A 45-day window well before the anchor: two 30-day slices.
LO, HI = datetime(2025, 9, 1, tzinfo=UTC), datetime(2025, 10, 16, tzinfo=UTC)
WINDOW = f"last_updated_date >= '{LO:%Y-%m-%d}' AND last_updated_date < '{HI:%Y-%m-%d}'"


@pytest.fixture(scope="module")
def emu():
    with start(orders=1500, time_scale=5000.0, anchor=ANCHOR) as e:  # a report is DONE milliseconds after it is made
        yield e


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.reset_limits()


def _db(emu, **keys) -> Database:
    return Database(settings_for(emu, **{"MarketplaceIds": EVERY, **keys}), poll_scale=1 / emu.time_scale)


def _run(db: Database, sql: str) -> list[tuple]:
    with db.statement():
        return list(db.connection.execute(sql))


def _creates(db: Database) -> list[dict]:
    """The createReport bodies of the last statement's calls."""
    return [c for c in db.last_calls() if c.operation == "createReport"]


def _updated_in_window(emu, *keys: str) -> Counter[tuple[str, str, str]]:
    """(order id, SKU, marketplace id) of every item of the emulator's orders last updated in the window."""
    return Counter((o.order_id, i.product.sku, o.market.id) for o in emu.orders
                   if (not keys or o.market.key in keys) and LO <= o.last_update.replace(microsecond=0) < HI
                   for i in o.items)


# ------------------------------------------------------------------------------------------------ the emulator
def test_an_order_report_for_one_marketplace_holds_its_whole_region(emu) -> None:
    """report_rows asks for [CA] alone; the file holds the demo seller's North American orders: US and CA, not DE,
    UK or JP."""
    sql = (f"SELECT json_extract(record, '$.sales_channel') FROM report_rows('{LAST_UPDATE}', "
           f"'{LO:%Y-%m-%dT%H:%M:%SZ}', '{LO + timedelta(days=20):%Y-%m-%dT%H:%M:%SZ}', 'CA')")
    with _db(emu) as db:
        channels = Counter(row[0] for row in _run(db, sql))
    assert emu.calls.of("createReport")[-1].params["body"]["marketplaceIds"] == [MARKETPLACE_BY_CODE["CA"].id]
    assert set(channels) == {"Amazon.com", "Amazon.ca"}, channels


# ------------------------------------------------------------------------------------------------ report tables
def test_a_marketplace_filter_reads_one_report_per_slice_and_exactly_its_orders(emu) -> None:
    sql = ("SELECT amazon_order_id, sku, marketplaceId FROM flat_file_all_orders_data_by_last_update_general "
           f"WHERE marketplaceId = 'CA' AND {WINDOW}")
    with _db(emu) as db:
        rows = _run(db, sql)
        creates = _creates(db)
    assert len(creates) == 2, "one report per 30-day slice of the 45 days, for the whole region"
    na = sorted(MARKETPLACE_BY_CODE[k].id for k in ("US", "CA"))
    assert [c.params["body"]["marketplaceIds"] for c in emu.calls.of("createReport")[-2:]] == [na, na]
    assert rows and Counter(rows) == _updated_in_window(emu, "CA")


def test_without_a_filter_one_report_per_region_and_slice_and_every_row_once(emu) -> None:
    sql = ("SELECT amazon_order_id, sku, marketplaceId FROM flat_file_all_orders_data_by_order_date_general "
           f"WHERE {WINDOW}")
    explain = ("SELECT * FROM flat_file_all_orders_data_by_last_update_general WHERE dataStartTime >= "
               f"'{LO:%Y-%m-%d}' AND dataEndTime < '{HI:%Y-%m-%d}'")
    with _db(emu, DisableReportCache="true") as db:
        assert "~6 reports" in db.explain(explain)[0], "3 regions × 2 slices, not 5 marketplaces × 2"
        rows = _run(db, sql.replace("order_date", "last_update"))
        assert len(_creates(db)) == 6
    truth = _updated_in_window(emu)
    assert {m for _o, _s, m in truth} == {m.id for m in MARKETPLACES if m.country_code in EVERY.split(",")}
    assert Counter(rows) == truth


def test_a_query_with_and_one_without_a_marketplace_filter_share_the_report(emu) -> None:
    base = ("SELECT amazon_order_id FROM flat_file_all_orders_data_by_last_update_general WHERE last_updated_date "
            ">= '2025-07-01' AND last_updated_date < '2025-07-21'")  # a window no other test reads
    with _db(emu, MarketplaceIds="US,CA") as db:
        everything = _run(db, base)
        assert len(_creates(db)) == 1
        us = _run(db, base + " AND marketplaceId = 'US'")
        assert not _creates(db), "the region's report of the statement before is reused"
    assert us and set(us) < set(everything)


def test_one_getreports_listing_serves_the_reuse_check_of_every_slice(emu) -> None:
    """Four 30-day slices with nothing to reuse: one getReports listing (the region's), not one per slice."""
    sql = ("SELECT count(*) FROM flat_file_all_orders_data_by_last_update_general WHERE last_updated_date >= "
           "'2025-02-01' AND last_updated_date < '2025-05-30'")  # a window no other test reads
    with _db(emu, MarketplaceIds="US,CA", ReportMaxAgeMinutes=60) as db:
        _run(db, sql)
        operations = Counter(c.operation for c in db.last_calls())
    assert operations["createReport"] == 4 and operations["getReports"] == 1, operations


def test_a_row_of_a_marketplace_the_connection_does_not_read_is_dropped(emu) -> None:
    with _db(emu, MarketplaceIds="US") as db:
        rows = _run(db, "SELECT DISTINCT marketplaceId, sales_channel FROM "
                        f"flat_file_all_orders_data_by_last_update_general WHERE {WINDOW}")
    assert rows == [(MARKETPLACE_BY_CODE["US"].id, "Amazon.com")]


# ------------------------------------------------------------------------------------------------ orders (bulk)
@pytest.mark.parametrize(("version", "columns", "when"), [
    ("v0", "AmazonOrderId, MarketplaceId, OrderStatus, LastUpdateDate", "LastUpdateDate"),
    ("2026-01-01", "orderId, salesChannel_marketplaceId, fulfillment_fulfillmentStatus, lastUpdatedTime",
     "lastUpdatedTime"),
])
def test_orders_from_the_report_equal_the_api_without_a_marketplace_filter(emu, version, columns, when) -> None:
    sql = (f"SELECT {columns} FROM orders WHERE {when} >= '{LO:%Y-%m-%d}' AND {when} < '{HI:%Y-%m-%d}' "
           "ORDER BY 1")
    with _db(emu, OrdersApiVersion=version, Route="api") as db:
        api = _run(db, sql)
    with _db(emu, OrdersApiVersion=version, Route="report", DisableReportCache="true") as db:
        plan = db.explain(sql)[0]
        report = _run(db, sql)
        notices = db.notices()
        assert len(_creates(db)) == 6, "3 regions × 2 slices"
        assert not {"getOrders", "searchOrders"} & {c.operation for c in db.last_calls()}
    assert "one report per region and 30 days" in plan
    assert not [n for n in notices if "would also return" in n], notices
    assert len({row[1] for row in api}) == 5 and report == api


def test_auto_mode_no_longer_asks_for_a_marketplace_filter(emu) -> None:
    """searchOrders returns every marketplace's orders, and so do the region-wide reports: auto mode takes the report
    for a range holding enough orders, with or without a marketplace filter."""
    with _db(emu, OrdersApiVersion="2026-01-01") as db:
        end = ANCHOR - timedelta(days=1)
        _run(db, f"SELECT count(*) FROM orders WHERE createdTime BETWEEN '{end - timedelta(days=13):%Y-%m-%d}' "
                 f"AND '{end:%Y-%m-%d}'")
        rate = db.client.runtime.pace.seen("searchOrders").rows_per_day
        assert rate is not None
        days = int(1.3 * 500 / rate) + 1
        plan = db.explain(f"SELECT orderId FROM orders WHERE createdTime BETWEEN "
                          f"'{end - timedelta(days=days):%Y-%m-%d}' AND '{end:%Y-%m-%d}'")[0]
    assert f"bulk {ORDER_DATE}(dataStartTime←createdTime>=" in plan, plan
    assert "filter salesChannel_marketplaceId" not in plan


# ------------------------------------------------------------------------------------------------ pieces
@pytest.mark.parametrize(("text", "code"), [("Amazon.de", "DE"), ("amazon.de", "DE"), ("www.amazon.de", "DE"),
                                            ("Amazon.co.uk", "UK"), ("AMAZON.COM", "US"), ("Amazon.com.mx", "MX"),
                                            ("Amazon.co.jp", "JP"), (" Amazon.ca ", "CA")])
def test_a_sales_channel_names_its_marketplace(text: str, code: str) -> None:
    assert marketplace_by_sales_channel(text) is MARKETPLACE_BY_CODE[code]


@pytest.mark.parametrize("text", ["Non-Amazon", "", "Amazon", "amazon.example"])
def test_other_sales_channels_name_none(text: str) -> None:
    assert marketplace_by_sales_channel(text) is None


def test_every_marketplace_has_its_own_domain() -> None:
    assert len({m.domain for m in MARKETPLACES}) == len(MARKETPLACES)
    assert all(m.domain.startswith("amazon.") for m in MARKETPLACES)


#: A report table's definition; ``{extra}`` is more of its [report] keys.
REPORT_DEFINITION = '''
section = "things"
version = "v1"
version_key = "ThingsApiVersion"
title = "Things"

[operations.createReport]
method = "POST"
path = "/reports/2021-06-30/reports"
rate = 0.0167
burst = 15

[operations.getReport]
method = "GET"
path = "/reports/2021-06-30/reports/{reportId}"
rate = 2
burst = 15

[operations.getReportDocument]
method = "GET"
path = "/reports/2021-06-30/documents/{reportDocumentId}"
rate = 0.0167
burst = 15

[operations.getReports]
method = "GET"
path = "/reports/2021-06-30/reports"
rate = 0.0222
burst = 10

[tables.flat_file_things]
description = "Things."
columns = """
thing_id                   TEXT     The id
sales_channel              TEXT     Where it was sold
"""

[tables.flat_file_things.report]
report_type = "GET_FLAT_FILE_THINGS"
{extra}
'''


def test_a_region_wide_definition_loads(tmp_path) -> None:
    text = REPORT_DEFINITION.replace("{extra}", 'region_wide = true\nmarketplace_from = "sales_channel"')
    spec = load_file(write(tmp_path, text)).tables["flat_file_things"].route("report")
    assert isinstance(spec, ReportSpec) and spec.region_wide and spec.marketplace_from == "sales_channel"


@pytest.mark.parametrize(("extra", "message"), [
    ("region_wide = true", "region_wide needs marketplace_from"),
    ('marketplace_from = "sales_channel"', "region_wide needs marketplace_from"),
    ('region_wide = true\nmarketplace_from = "channel"', "column 'channel' is named but not declared"),
])
def test_a_region_wide_definition_mistake_is_named(tmp_path, extra: str, message: str) -> None:
    assert message in error_of(tmp_path, REPORT_DEFINITION.replace("{extra}", extra))


def test_the_order_reports_are_the_region_wide_ones() -> None:
    wide = {t.name: r.marketplace_from for s in load_all() for t in s.tables.values()
            if isinstance(r := t.route("report"), ReportSpec) and r.region_wide}
    assert wide == {"flat_file_all_orders_data_by_last_update_general": "sales_channel",
                    "flat_file_all_orders_data_by_order_date_general": "sales_channel"}
