"""Values a user can trust, told through the DB-API: a report file with cells that cannot be read as their column's
type (an unknown zone abbreviation, a malformed number), bytes that are not valid in its charset, columns the
definition does not know and rows longer or shorter than the header. Every cell is kept, nothing crashes, and one
:class:`~sqlspapi.errors.ReportValueWarning` says which columns and how many. The documents are served by the emulator
as Amazon would serve them (``ReportStore.put_document``) and read through ``WHERE reportId = …``."""

from __future__ import annotations

import gzip
import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

import sqlspapi
from sqlspapi.emulator import start
from sqlspapi.emulator.reports_store import DEMO_ACCOUNT
from sqlspapi.engine import Database
from sqlspapi.errors import ReportValueWarning

US, UK = "ATVPDKIKX0DER", "A1F83G8C2ARO7P"
HEADER = "item-name\tseller-sku\tprice\tquantity\topen-date\titem-is-marketplace\tbrand-new-column"
ROWS = [
    "Kettle\tSKU-1\t19.99\t5\t2019-06-17 14:24:11 PDT\ty\tfresh",
    "Mug\tSKU-2\t12.34.56\t3\t2019-06-17 14:24:11 XYZ\tn\tfresh",
    " \tSKU-3\t4.50\t1",  # a blank name (NULL) and a short row: the rest is NULL
    "Bowl\tSKU-4\t7.00\t2\t2019-06-18 09:00:00 PST\tyes\tfresh\tspill-over",  # a long row: kept in extra
]


@pytest.fixture(scope="module")
def emu():
    with start(orders=50, time_scale=200.0, anchor=datetime(2026, 1, 1, tzinfo=UTC)) as e:
        yield e


def _connect(emu):
    db = Database(settings_for(emu, MarketplaceIds="US"), poll_scale=1 / emu.time_scale)
    return sqlspapi.connect(database=db), db


def _put(emu, text: bytes, marketplace: str = US, **kw) -> str:
    return emu.reports.put_document(DEMO_ACCOUNT, "GET_MERCHANT_LISTINGS_ALL_DATA", marketplace, text, **kw)


def test_unreadable_cells_are_kept_and_told_once(emu) -> None:
    report_id = _put(emu, ("\n".join([HEADER, *ROWS]) + "\n").encode())
    conn, db = _connect(emu)
    cur = conn.cursor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cur.execute("SELECT seller_sku, price, quantity, open_date, item_is_marketplace, status, extra, item_name "
                    "FROM merchant_listings_all_data WHERE reportId = ? ORDER BY seller_sku", (report_id,))
        rows = cur.fetchall()
    assert [r[0] for r in rows] == ["SKU-1", "SKU-2", "SKU-3", "SKU-4"]
    one, two, three, four = rows
    assert one[1:6] == (Decimal("19.99"), 5, datetime(2019, 6, 17, 21, 24, 11, tzinfo=UTC), True, None)
    assert two[1] == "12.34.56" and two[3] == "2019-06-17 14:24:11 XYZ"  # kept as text, not dropped
    assert three[3] is None and three[4] is None and three[7] is None  # the short row, the blank name
    assert json.loads(four[6]) == {"brand_new_column": "fresh", "column_8": "spill-over"}
    assert json.loads(one[6]) == {"brand_new_column": "fresh"}
    told = [w for w in caught if issubclass(w.category, ReportValueWarning)]
    assert len(told) == 1
    message = str(told[0].message)
    assert "2 cell(s) could not be read" in message
    assert "price (1, e.g. '12.34.56')" in message and "open_date (1, e.g. '2019-06-17 14:24:11 XYZ')" in message
    assert any(message in str(m) for m in cur.messages)
    conn.close()
    db.close()


def test_bad_bytes_are_replaced_and_told(emu) -> None:
    body = (HEADER + "\n" + ROWS[0] + "\n").encode() + b"Caf\xe9\xff\tSKU-9\t1.00\t1\n"
    report_id = _put(emu, gzip.compress(body), content_type="text/plain;charset=UTF-8")  # gzip, unlabelled
    with Database(settings_for(emu, MarketplaceIds="US"), poll_scale=0.01) as db, db.statement():
        rows = list(db.connection.execute("SELECT item_name, seller_sku FROM merchant_listings_all_data "
                                          f"WHERE reportId = '{report_id}' ORDER BY seller_sku"))
        notices = db.notices()
    assert rows[0] == ("Kettle", "SKU-1") and rows[1][0].startswith("Caf\ufffd") and rows[1][1] == "SKU-9"
    assert any("not valid utf-8 were replaced by U+FFFD" in n and report_id in n for n in notices), notices


def test_cp1252_download_and_decimal_comma_settlement_style(emu) -> None:
    text = ("item-name\tseller-sku\tprice\topen-date\n"
            "Caf\u00e9 \u20ac\u2019s\tSKU-E\t1.234,56\t29/09/2025 16:19:39 BST\n")
    report_id = _put(emu, text.encode("cp1252"), marketplace="A1PA6795UKMFR9",
                     content_type="text/plain;charset=Cp1252")
    with Database(settings_for(emu, MarketplaceIds="DE"), poll_scale=0.01) as db, db.statement():
        rows = list(db.connection.execute("SELECT item_name, price, open_date FROM merchant_listings_all_data "
                                          f"WHERE reportId = '{report_id}'"))
        assert not [n for n in db.notices() if "could not be read" in n]
    assert rows == [("Caf\u00e9 \u20ac\u2019s", 1234.56, "2025-09-29T15:19:39Z")]
