"""Messages for unknown columns and tables (sqlspapi.interfaces.hints), against real Databases on the emulator."""

from __future__ import annotations

import apsw
import pytest

from sqlspapi.engine import open_database
from sqlspapi.interfaces.cli import doc_topics
from sqlspapi.interfaces.hints import hint, statement_tables


@pytest.fixture(scope="module")
def db_2026():
    database = open_database(demo=True)
    yield database
    database.close()


@pytest.fixture(scope="module")
def db_v0():
    database = open_database("OrdersApiVersion=v0;CatalogItemsApiVersion=2020-12-01", demo=True)
    yield database
    database.close()


def message_for(database, sql: str) -> str | None:
    """What SQLite says about ``sql`` (it must fail to prepare), improved by ``hint``."""
    with pytest.raises(apsw.SQLError) as info:
        database.connection.execute(sql)
    return hint(database, str(info.value), sql)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT AmazonOrderId FROM orders", "orders has no column AmazonOrderId in Orders 2026-01-01; it is an Orders v0 "
                                         "column: use orderId, or OrdersApiVersion=v0"),
    ("SELECT o.OrderStatus FROM orders o", "orders has no column OrderStatus in Orders 2026-01-01; it is an Orders v0 "
                                           "column: use fulfillment_fulfillmentStatus, or OrdersApiVersion=v0"),
    ("SELECT i.SellerSKU FROM orders o JOIN order_items i ON i.orderId = o.orderId",
     "order_items has no column SellerSKU in Orders 2026-01-01; it is an Orders v0 column: use product_sellerSku, "
     "or OrdersApiVersion=v0"),
    ("SELECT IsPrime FROM orders", "orders has no column IsPrime in Orders 2026-01-01; it is an Orders v0 column: "
                                   "use OrdersApiVersion=v0"),
    ("SELECT fulfilmentStatus FROM orders", "no such column: fulfilmentStatus; did you mean "
                                            "fulfillment_fulfillmentStatus?"),
    ("SELECT count(*) FROM orders WHERE createdtme > '2026-01-01'", "no such column: createdtme; did you mean "
                                                                    "createdTime?"),
    ("SELECT productTitle FROM orders o JOIN order_items USING (orderId)",
     "no such column: productTitle; did you mean product_title (in order_items)?"),
    ("SELECT xyzzy FROM marketplaces", "no such column: xyzzy (the columns of marketplaces: sqlspapi help "
                                       "tables/sellers-v1)"),
    ("SELECT * FROM marketplace", "no such table: marketplace; did you mean marketplaces?"),
])
def test_hints_on_orders_2026(db_2026, sql, expected):
    assert message_for(db_2026, sql) == expected


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT orderId FROM orders", "orders has no column orderId in Orders v0; it is an Orders 2026-01-01 column: use "
                                   "AmazonOrderId, or OrdersApiVersion=2026-01-01"),
    ("SELECT * FROM catalog_item_classifications", "no such table: catalog_item_classifications; it is a Catalog "
                                                   "Items 2022-04-01 table: use CatalogItemsApiVersion=2022-04-01"),
    ("SELECT PurchaseDte FROM orders", "no such column: PurchaseDte; did you mean PurchaseDate?"),
])
def test_hints_on_orders_v0(db_v0, sql, expected):
    assert message_for(db_v0, sql) == expected


def test_other_errors_get_no_hint(db_2026):
    assert hint(db_2026, 'near "SELEC": syntax error', "SELEC 1") is None
    assert hint(db_2026, "no such column: nothing_like_it", "SELECT 1") is None  # no API table in the statement
    assert hint(db_2026, "no such table: zzzzqqqq") is None


def test_help_topics_named_in_hints_exist(db_2026):
    topics = doc_topics()
    for section in db_2026.sections:
        for table in section.tables.values():
            message = hint(db_2026, "no such column: zzzz_qqqq_wwww", f"SELECT zzzz_qqqq_wwww FROM {table.name}")
            assert message is not None and "sqlspapi help tables/" in message
            topic = message.rsplit("sqlspapi help ", 1)[1].rstrip(")")
            assert topic in topics, topic


def test_statement_tables_maps_aliases():
    assert statement_tables("SELECT * FROM orders o JOIN order_items AS i USING (orderId)") == {
        "o": "orders", "i": "order_items"}
    assert statement_tables(None) == {}
