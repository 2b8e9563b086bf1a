"""The typed report tables as a user meets them, against the emulator over HTTP: every table returns rows of its
declared types; JP listings keep their cp932-only characters and EU listings their windows-1252 ones (characters
outside it arrive as ``?``, as Amazon sends them); ragged UK rows and FBA inventory header drift; dates of every
marketplace as UTC instants; order report rows equal the Orders API's for the same orders; long windows split into
30-day reports; the default window told; table-valued syntax; restricted report types. Values of settlements,
ledgers and sales and traffic: tests/test_report_values.py. The generated pages and docs/report-tables.md: at the
end."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from emu_helpers import settings_for

from sqlspapi.definitions import docgen
from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import ReportSpec
from sqlspapi.emulator import start
from sqlspapi.engine import Database
from sqlspapi.errors import DefaultWindowWarning, RestrictedDataError

ROOT_GUIDE = "docs/report-tables.md"
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
DATE_OR_MONTH = re.compile(r"\d{4}-\d{2}(-\d{2})?")
REPORT_TABLES = [t for s in load_all() if s.section == "reports" for t in s.tables.values()
                 if isinstance(t.route("report"), ReportSpec) and t.route("report").report_type]


def day(days_ago: int) -> str:
    """Midnight UTC ``days_ago`` days ago, as the API writes it."""
    return f"{TODAY - timedelta(days=days_ago):%Y-%m-%dT%H:%M:%SZ}"


def emulator():
    """The emulator the report tests read: anchored today (settlement periods end the day before), its clock 5000
    times Amazon's (a report is DONE a few milliseconds after it is created)."""
    return start(time_scale=5000.0)


@pytest.fixture(scope="module")
def emu():
    with emulator() as e:
        yield e


def connect(emu, **keys) -> Database:
    """A connection to the emulator's demo seller whose report polls run on the emulator's clock."""
    keys.setdefault("MarketplaceIds", "US")
    return Database(settings_for(emu, **keys), poll_scale=1 / emu.time_scale)


def run(db: Database, sql: str, *args) -> list[tuple]:
    """The rows of one statement."""
    with db.statement():
        return list(db.connection.execute(sql, args))


def creates(db: Database) -> int:
    """createReport calls of the last statement."""
    return sum(c.operation == "createReport" for c in db.last_calls())


# ---------------------------------------------------------------------------------------------- types
def typed(kind: str, value: object) -> bool:
    """Whether a value is what a column of ``kind`` promises (NULL always is)."""
    if value is None:
        return True
    if kind == "TIME":
        return isinstance(value, str) and bool(INSTANT.fullmatch(value) or DATE_OR_MONTH.fullmatch(value))
    if kind == "REAL":
        return isinstance(value, int | float)
    if kind == "INTEGER":
        return isinstance(value, int)
    if kind == "BOOLEAN":
        return value in (0, 1)
    if kind == "JSON":
        return isinstance(value, str) and json.loads(value) is not None
    return isinstance(value, str)


@pytest.mark.parametrize("table", REPORT_TABLES, ids=[t.name for t in REPORT_TABLES])
def test_every_report_table_returns_rows_of_its_declared_types(emu, table) -> None:
    spec = table.route("report")
    window = f" AND dataStartTime >= '{day(20)}'" if spec.default_days or not spec.requestable else ""
    visible = [c for c in table.columns if not c.hidden]
    with connect(emu, IncludeRestrictedData="true") as db:
        rows = run(db, f"SELECT * FROM {table.name} WHERE marketplaceId = 'US'{window}")
        notices = db.notices()
    assert rows, f"{table.name} returned no rows"
    assert not [n for n in notices if "could not be read" in n or "replaced" in n], notices
    for row in rows:
        assert len(row) == len(visible)
        wrong = [(c.name, c.kind, v) for c, v in zip(visible, row, strict=True) if not typed(c.kind, v)]
        assert not wrong, f"{table.name}: cells not of their column's type: {wrong[:5]}"


def test_a_report_table_fans_out_over_the_connection_marketplaces(emu) -> None:
    with connect(emu, MarketplaceIds="US,UK") as db:
        rows = run(db, "SELECT marketplaceId, count(DISTINCT reportId), count(*) FROM merchant_listings_data "
                       "GROUP BY marketplaceId")
    assert {m: reports for m, reports, _n in rows} == {"ATVPDKIKX0DER": 1, "A1F83G8C2ARO7P": 1}


# ------------------------------------------------------------------------------------------ encodings
def test_japanese_listings_keep_cp932_only_characters(emu) -> None:
    with connect(emu, MarketplaceIds="JP") as db:
        rows = run(db, "SELECT item_name, item_description FROM merchant_listings_all_data")
        assert not db.notices()
    assert rows
    for name, description in rows:
        assert description == f"【髙品質】①番人気 {name}～"  # ①, 髙 and ～ are cp932, not Shift_JIS


def test_eu_listings_are_windows_1252_and_characters_outside_it_arrive_as_question_marks(emu) -> None:
    with connect(emu, MarketplaceIds="DE,UK") as db:
        rows = run(db, "SELECT marketplaceId, item_name, item_description FROM merchant_listings_all_data")
        assert not db.notices()
    german = [r for r in rows if r[0] == "A1PA6795UKMFR9"]
    assert german and all(" – " in name for _m, name, _d in german)  # the en dash is windows-1252's 0x96
    assert all(description == f"{name} ? Bestseller" for _m, name, description in rows)  # ✓ is not in it
    assert not any("\ufffd" in name + description for _m, name, description in rows)


# ------------------------------------------------------------------------------------- ragged, drift
def test_ragged_uk_rows_are_read_to_their_end(emu) -> None:
    with connect(emu, MarketplaceIds="US,UK") as db:
        rows = run(db, "SELECT marketplaceId, seller_sku, asin1, status, fulfillment_channel, extra "
                       "FROM merchant_listings_all_data")
        assert not db.notices()
    uk = [r for r in rows if r[0] == "A1F83G8C2ARO7P"]
    us = [r for r in rows if r[0] == "ATVPDKIKX0DER"]
    assert len(uk) == len(us) > 0  # 31 header names, 29 cells a row: every row, none lost
    assert all(sku and asin and status in ("Active", "Inactive") and channel == "AMAZON_EU" and extra is None
               for _m, sku, asin, status, channel, extra in uk)


def test_header_drift_lands_in_extra(emu) -> None:
    with connect(emu) as db:
        inventory = run(db, "SELECT sku, afn_total_quantity, extra FROM fba_myi_unsuppressed_inventory_data")
        orders = run(db, "SELECT DISTINCT extra FROM flat_file_all_orders_data_by_last_update_general "
                         f"WHERE dataStartTime >= '{day(3)}'")
    assert inventory
    for _sku, total, extra in inventory:
        assert isinstance(total, int)
        drift = json.loads(extra)
        assert drift.keys() == {"afn_researching_quantity", "afn_reserved_future_supply", "afn_future_supply_buyable"}
    assert [json.loads(e) for (e,) in orders] == [{"signature_confirmation_recommended": "false"}]


# ------------------------------------------------------------------------------------------------ dates
#: Zone abbreviations the emulator's listings files write, as hours from UTC (the test's own table).
OFFSETS = {"PDT": -7, "PST": -8, "BST": 1, "GMT": 0, "CEST": 2, "CET": 1, "JST": 9}
#: How each marketplace's listings file writes open-date (strptime, without the zone).
LOCAL_FORMATS = {"US": "%Y-%m-%d %H:%M:%S", "UK": "%d/%m/%Y %H:%M:%S", "DE": "%d/%m/%Y %H:%M:%S",
                 "JP": "%Y/%m/%d %H:%M:%S"}


def instant(text: str, fmt: str) -> str:
    """A local timestamp with a zone abbreviation as ISO 8601 UTC."""
    local, _, zone = text.rpartition(" ")
    moment = datetime.strptime(local, fmt).replace(tzinfo=timezone(timedelta(hours=OFFSETS[zone])))
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


@pytest.mark.parametrize("country", list(LOCAL_FORMATS))
def test_local_listing_dates_are_utc_instants(emu, country) -> None:
    with connect(emu, MarketplaceIds=country) as db:
        typed_rows = dict(run(db, "SELECT seller_sku, open_date FROM merchant_listings_all_data"))
        raw = run(db, "SELECT json_extract(record, '$.seller_sku'), json_extract(record, '$.open_date') "
                      "FROM report_rows('GET_MERCHANT_LISTINGS_ALL_DATA')")
    assert raw and len(raw) == len(typed_rows)
    zones = {text.rpartition(" ")[2] for _sku, text in raw}
    assert zones <= OFFSETS.keys() and zones  # e.g. UK: '29/09/2025 16:19:39 BST' and GMT in winter
    for sku, text in raw:
        assert typed_rows[sku] == instant(text, LOCAL_FORMATS[country]), (sku, text)


# --------------------------------------------------------------------------------------- orders vs API
def test_order_report_rows_equal_the_orders_api_rows(emu) -> None:
    lo, hi = day(6), day(1)
    with connect(emu, OrdersApiVersion="v0") as db:
        report = run(db, "SELECT amazon_order_id, sku, quantity, item_price FROM "
                         "flat_file_all_orders_data_by_order_date_general WHERE marketplaceId = 'US' "
                         "AND purchase_date >= ? AND purchase_date < ?", lo, hi)
        api = run(db, "SELECT i.AmazonOrderId, i.SellerSKU, i.QuantityOrdered, i.ItemPrice_Amount FROM orders o "
                      "JOIN order_items i ON i.AmazonOrderId = o.AmazonOrderId WHERE o.MarketplaceId = 'ATVPDKIKX0DER'"
                      " AND o.PurchaseDate >= ? AND o.PurchaseDate < ?", lo, hi)
    assert report and sorted(report, key=repr) == sorted(api, key=repr)


# ---------------------------------------------------------------------------------------------- windows
def test_a_70_day_window_is_three_consecutive_reports(emu) -> None:
    lo, mid1, mid2, hi = day(400), day(370), day(340), day(330)
    with connect(emu) as db:
        windows = run(db, "SELECT DISTINCT dataStartTime, dataEndTime FROM "
                          "flat_file_all_orders_data_by_last_update_general "
                          "WHERE dataStartTime >= ? AND dataStartTime < ? ORDER BY 1", lo, hi)
        assert creates(db) == 3
    assert windows == [(lo, mid1), (mid1, mid2), (mid2, hi)]


def test_without_a_window_the_last_30_days_are_read_and_the_user_is_told(emu) -> None:
    with connect(emu) as db:
        rows = run(db, "SELECT min(purchase_date), count(*) FROM flat_file_all_orders_data_by_order_date_general")
        notices = db.notices()
    assert rows[0][1] > 0 and rows[0][0] >= day(31)
    told = [n for n in notices if "last 30 days" in n]
    assert len(told) == 1 and told[0].category is DefaultWindowWarning
    assert "flat_file_all_orders_data_by_order_date_general" in told[0]


def test_table_valued_syntax_gives_the_window_and_marketplace(emu) -> None:
    lo, hi = day(320), day(301)
    with connect(emu, MarketplaceIds="US,UK") as db:
        rows = run(db, "SELECT amazon_order_id, purchase_date, sales_channel, dataStartTime, dataEndTime "
                       "FROM flat_file_all_orders_data_by_order_date_general(?, ?, 'US')", lo, hi)
        assert creates(db) == 1
        assert not db.notices()
    assert rows
    assert all(lo <= purchased < hi and channel == "Amazon.com" and (start, end) == (lo, hi)
               for _id, purchased, channel, start, end in rows)


# ------------------------------------------------------------------------------------------- restricted
def test_restricted_report_tables_need_include_restricted_data(emu) -> None:
    sql = f"SELECT amazon_order_id, buyer_name, ship_city FROM amazon_fulfilled_shipments_data_general " \
          f"WHERE dataStartTime >= '{day(5)}'"
    with connect(emu) as db, pytest.raises(RestrictedDataError, match="IncludeRestrictedData=true"):
        run(db, sql)
    with connect(emu, IncludeRestrictedData="true") as db:
        rows = run(db, sql)
        operations = [c.operation for c in db.last_calls()]
    assert rows and all(name and city for _id, name, city in rows)
    assert "createRestrictedDataToken" in operations


# ------------------------------------------------------------------------------------------------- docs
def slug(heading: str) -> str:
    """A markdown heading's anchor, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_report_pages_state_the_rules_and_link_the_guide() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parent.parent / ROOT_GUIDE).read_text(encoding="utf-8")
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", guide, re.M)}
    page = docgen.pages()["reports-2021-06-30.md"]
    links = set(re.findall(r"\]\(\.\./report-tables\.md#([\w-]+)\)", page))
    assert links and links <= anchors, links - anchors
    assert "a window longer than 30 days is split into consecutive reports" in page
    assert "**Not requestable:**" in page and "**Restricted:** the report's documents hold personal data" in page
    assert "`NN/NN/YYYY` values are read month first (`mdy`)" in page
    for table in REPORT_TABLES:
        assert table.route("report").report_type in page, table.name
        assert f"(tables/reports-2021-06-30.md#{table.name})" in guide, f"{ROOT_GUIDE} does not list {table.name}"
