"""The SQLAlchemy dialect and pandas.read_sql against the built-in emulator."""

from __future__ import annotations

import warnings
from urllib.parse import quote

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
pd = pytest.importorskip("pandas")

from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from sqlspapi.interfaces.sqla import SPAPIDialect  # noqa: E402

API_TABLES = {"orders", "order_items", "order_addresses", "order_buyer_info", "marketplaces"}


@pytest.fixture(scope="module")
def engine():
    eng = create_engine("sqlspapi:///?demo=true")
    yield eng
    eng.dispose()


def test_entry_point_dialect(engine):
    assert isinstance(engine.dialect, SPAPIDialect)
    assert engine.dialect.name == "sqlspapi" and engine.dialect.driver == "apsw"


def test_create_connect_args_reads_every_key_from_the_url():
    dialect = SPAPIDialect()
    url = make_url("sqlspapi:///?DEMO=True&ordersapiversion=v0&MarketplaceIds=DE&MarketplaceIds=FR")
    assert dialect.create_connect_args(url) == (
        [], {"demo": True, "ordersapiversion": "v0", "MarketplaceIds": "DE,FR"})
    url = make_url("sqlspapi:///?ClientId=amzn1.app&RefreshToken=Atzr%7Cx%3By&demo=0")
    assert dialect.create_connect_args(url) == (
        [], {"ClientId": "amzn1.app", "RefreshToken": "Atzr|x;y", "demo": False})


def test_inspect_tables_and_columns(engine):
    inspector = inspect(engine)
    assert API_TABLES <= set(inspector.get_table_names())
    columns = {column["name"]: column["type"] for column in inspector.get_columns("orders")}
    assert isinstance(columns["orderId"], sqlalchemy.types.String)
    assert isinstance(columns["proceeds_grandTotal_amount"], sqlalchemy.types.Float)
    items = {column["name"]: column["type"] for column in inspector.get_columns("order_items")}
    assert isinstance(items["quantityOrdered"], sqlalchemy.types.Integer)
    assert inspector.has_table("marketplaces")
    assert not inspector.has_table("no_such_table")


def test_read_sql_without_warnings(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_sql("SELECT marketplace_id, marketplace_name FROM marketplaces", engine)
    assert list(frame.columns) == ["marketplace_id", "marketplace_name"]
    assert "ATVPDKIKX0DER" in set(frame["marketplace_id"])


def test_read_sql_zero_rows_keeps_columns(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_sql("SELECT marketplace_id, storeName FROM marketplaces WHERE marketplace_id = 'NOPE'", engine)
    assert list(frame.columns) == ["marketplace_id", "storeName"]
    assert len(frame) == 0


def test_read_sql_text_with_params(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_sql(
            text("SELECT marketplace_id, marketplace_countryCode FROM marketplaces WHERE marketplace_id = :mid"),
            engine,
            params={"mid": "A1PA6795UKMFR9"},
        )
    assert frame.to_dict("records") == [{"marketplace_id": "A1PA6795UKMFR9", "marketplace_countryCode": "DE"}]


def test_read_sql_orders(engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_sql(
            "SELECT orderId, createdTime, proceeds_grandTotal_amount FROM orders ORDER BY createdTime DESC LIMIT 5",
            engine,
        )
    assert list(frame.columns) == ["orderId", "createdTime", "proceeds_grandTotal_amount"]
    assert 0 < len(frame) <= 5


def test_connect_args_connection_string():
    eng = create_engine("sqlspapi://", connect_args={"demo": True, "connection_string": "OrdersApiVersion=v0"})
    try:
        with eng.connect() as connection:
            settings = connection.connection.dbapi_connection.database.settings
            assert settings.api_version("OrdersApiVersion") == "v0"
            columns = {column["name"] for column in inspect(connection).get_columns("orders")}
            assert "AmazonOrderId" in columns
    finally:
        eng.dispose()


def test_url_with_real_credentials_against_the_emulator():
    from sqlspapi import emulator

    with emulator.start(orders=50) as emu:
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in {
            "ClientId": emulator.DEMO_CLIENT_ID,
            "ClientSecret": emulator.DEMO_CLIENT_SECRET,
            "RefreshToken": emulator.DEMO_REFRESH_TOKEN,
            "TokenUrl": emu.token_url,
            "Endpoint": emu.url,
        }.items())
        eng = create_engine(f"sqlspapi:///?{query}")
        try:
            with eng.connect() as connection:
                rows = connection.execute(text("SELECT count(*) FROM marketplaces")).scalar()
            assert rows >= 1
            assert "getMarketplaceParticipations" in {call.operation for call in emu.calls}
        finally:
            eng.dispose()


def test_bad_url_key_is_a_connection_string_error():
    from sqlspapi.errors import ConnectionStringError

    eng = create_engine("sqlspapi:///?demo=true&NoSuchKey=1")
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
            eng.connect()
        assert isinstance(info.value.orig, ConnectionStringError)
    finally:
        eng.dispose()
