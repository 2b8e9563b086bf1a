"""Report values a user can check against other tables, on the emulator over HTTP: settlements read from the DONE
reports Amazon made, chosen by their period, with EU decimal commas read as the numbers the order report shows;
ledger dates read month first (they match the orders' update days); the two sales and traffic tables from one
report, agreeing with each other; and every SQL example of docs/report-tables.md runs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import test_doc_examples as doc_examples  # the runner of the docs' examples (its helpers, not its tests)
from test_report_tables import connect, day, emulator, run

from sqlspapi.engine import Database

GUIDE = "docs/report-tables.md"


@pytest.fixture(scope="module")
def emu():
    with emulator() as e:
        yield e


# ------------------------------------------------------------------------------------------ settlements
SETTLEMENTS = ("SELECT DISTINCT settlement_id, dataStartTime, dataEndTime FROM v2_settlement_report_data_flat_file_v2"
               " WHERE marketplaceId = 'US'")


def test_settlements_are_the_done_reports_whose_period_meets_the_window(emu) -> None:
    with connect(emu) as db:
        recent = run(db, SETTLEMENTS + " AND dataStartTime >= ?", day(20))
        operations = {c.operation for c in db.last_calls()}
        every = run(db, SETTLEMENTS)
    assert "createReport" not in operations and "getReports" in operations  # nothing requested: Amazon made them
    assert len(recent) == 2 and all(end > day(20) for _id, _start, end in recent)
    assert len(every) == 4 and set(recent) < set(every)  # four 14-day periods in the last 90 days
    periods = sorted((start, end) for _id, start, end in every)
    assert [start for start, _end in periods[1:]] == [end for _start, end in periods[:-1]]  # one after the other


def test_eu_settlement_amounts_with_decimal_commas_are_the_order_report_prices(emu) -> None:
    with connect(emu, MarketplaceIds="DE") as db:
        settlement = run(db, "SELECT settlement_id, total_amount, dataStartTime, dataEndTime FROM "
                             "v2_settlement_report_data_flat_file_v2 WHERE dataStartTime >= ? "
                             "AND total_amount IS NOT NULL", day(10))
        (settlement_id, total, start, end), = settlement
        lines = run(db, "SELECT order_id, sku, amount, posted_date_time FROM v2_settlement_report_data_flat_file_v2 "
                        "WHERE dataStartTime >= ? AND settlement_id = ? AND transaction_type = 'Order'",
                    day(10), settlement_id)
        orders = run(db, "SELECT amazon_order_id, sku, item_price FROM "
                         "flat_file_all_orders_data_by_last_update_general WHERE dataStartTime = ? "
                         "AND dataEndTime = ? AND order_status = 'Shipped'", start, end)
        assert not db.notices()
    assert isinstance(total, float) and total > 0
    assert lines and any(amount != int(amount) for _o, _s, amount, _t in lines)  # "50,39" is 50.39, not 5039
    assert Counter((o, s, a) for o, s, a, _t in lines) == Counter(orders)
    assert all(start <= posted <= end for _o, _s, _a, posted in lines)


# ------------------------------------------------------------------------------------------- ledger
def test_ledger_dates_are_read_month_first(emu) -> None:
    with connect(emu) as db:
        ledger = run(db, "SELECT reference_id, date, quantity FROM ledger_detail_view_data WHERE date >= ?", day(20))
        updates = dict(run(db, "SELECT amazon_order_id, last_updated_date FROM "
                               "flat_file_all_orders_data_by_last_update_general WHERE dataStartTime >= ?", day(20)))
    assert ledger
    days = {date for _ref, date, _q in ledger}
    assert any(int(date[8:]) <= 12 for date in days)  # dates where day and month could be swapped
    for reference, date, quantity in ledger:
        assert date == updates[reference][:10] and quantity < 0  # a shipment, on the day the order was updated


# ----------------------------------------------------------------------------------- sales and traffic
def test_sales_and_traffic_tables_share_one_report_and_agree(emu) -> None:
    with connect(emu) as db:
        rows = run(db, "SELECT (SELECT sum(units_ordered) FROM sales_and_traffic_by_date WHERE dataStartTime >= ?), "
                       "(SELECT sum(units_ordered) FROM sales_and_traffic_by_asin WHERE dataStartTime >= ?), "
                       "(SELECT count(*) FROM sales_and_traffic_by_date WHERE dataStartTime >= ?)",
                   day(7), day(7), day(7))
        requested = sum(c.operation == "createReport" for c in db.last_calls())
        days = run(db, "SELECT date, ordered_product_sales, currency, sessions, unit_session_percentage "
                       "FROM sales_and_traffic_by_date WHERE dataStartTime >= ? ORDER BY date", day(7))
    by_date, by_asin, n_days = rows[0]
    assert requested == 1
    assert by_date == by_asin > 0 and n_days == len(days) >= 7
    assert days[0][0] == day(7)[:10]
    assert all(isinstance(sales, float) and currency == "USD" and isinstance(sessions, int)
               and isinstance(rate, float) for _d, sales, currency, sessions, rate in days)


def test_sales_and_traffic_by_sku(emu) -> None:
    with connect(emu) as db:
        rows = run(db, "SELECT sku, child_asin, units_ordered FROM sales_and_traffic_by_asin "
                       "WHERE dataStartTime >= ? AND reportOptions = '{\"asinGranularity\": \"SKU\"}'", day(7))
        listed = dict(run(db, "SELECT seller_sku, asin1 FROM merchant_listings_all_data"))
    assert rows and all(listed[sku] == asin and units > 0 for sku, asin, units in rows)


# -------------------------------------------------------------------------------------------- the guide
def guide_examples() -> list[doc_examples.Example]:
    """The SQL blocks of docs/report-tables.md, with their markers."""
    text = (Path(doc_examples.ROOT) / GUIDE).read_text(encoding="utf-8")
    return [doc_examples.Example(GUIDE, text.count("\n", 0, m.start(2)) + 1, m[2], m[3],
                                 dict(doc_examples.MARKER.findall(m[1])))
            for m in doc_examples.FENCE.finditer(text) if m[2] == "sql"]


@pytest.fixture(scope="module")
def guide_database(emu):
    """A Database per set of connection keys (as the docs runner opens them), polling on the emulator's clock."""
    opened: dict[tuple[tuple[str, str], ...], Database] = {}

    def get(**keys: str) -> Database:
        key = tuple(sorted(keys.items()))
        if key not in opened:
            opened[key] = connect(emu, **keys)
        return opened[key]

    yield get
    for db in opened.values():
        db.close()


@pytest.mark.parametrize("example", guide_examples(), ids=lambda e: e.name)
def test_guide_example_runs(example, guide_database) -> None:
    if GUIDE in doc_examples.DOCS:
        pytest.skip(f"tests/test_doc_examples.py runs {GUIDE}")
    doc_examples.test_sql_example(example, guide_database)


def test_the_guide_has_examples() -> None:
    assert len(guide_examples()) >= 10
