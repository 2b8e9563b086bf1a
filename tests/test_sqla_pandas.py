"""The SQLAlchemy dialect and pandas.read_sql against the built-in emulator."""

from __future__ import annotations

import datetime
import decimal
import warnings
from urllib.parse import quote

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")
pd = pytest.importorskip("pandas")

from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from sqlspapi.errors import ConnectionStringError  # noqa: E402
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
    url = make_url("sqlspapi:///?ClientId=amzn1.app&Region=eu%7C&demo=0")
    assert dialect.create_connect_args(url) == ([], {"ClientId": "amzn1.app", "Region": "eu|", "demo": False})


def test_inspect_tables_and_columns(engine):
    inspector = inspect(engine)
    assert API_TABLES <= set(inspector.get_table_names())
    columns = {column["name"]: column["type"] for column in inspector.get_columns("orders")}
    assert isinstance(columns["orderId"], sqlalchemy.types.String)
    amount, created = columns["proceeds_grandTotal_amount"], columns["createdTime"]
    assert isinstance(amount, sqlalchemy.types.Numeric) and not isinstance(amount, sqlalchemy.types.Float)
    assert amount.asdecimal
    assert isinstance(created, sqlalchemy.types.DateTime) and created.timezone is True
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
            "SELECT orderId, createdTime, proceeds_grandTotal_amount FROM orders "
            "WHERE createdTime >= date('now', '-60 days') ORDER BY createdTime DESC LIMIT 5",
            engine,
        )
    assert list(frame.columns) == ["orderId", "createdTime", "proceeds_grandTotal_amount"]
    assert 0 < len(frame) <= 5


def test_read_sql_types_without_parse_dates(engine):
    """Timestamps are datetime64[…, UTC], booleans bool, money float64 (pandas' coerce_float) or exact Decimal."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_sql("SELECT orderId, createdTime, lastUpdatedTime, proceeds_grandTotal_amount FROM orders "
                            "WHERE proceeds_grandTotal_amount IS NOT NULL "
                            "AND date(createdTime) >= date('now', '-45 days')",
                            engine)  # date() reaches the API: no default window, no warning
        exact = pd.read_sql("SELECT proceeds_grandTotal_amount FROM orders WHERE proceeds_grandTotal_amount IS NOT "
                            "NULL AND createdTime >= date('now', '-45 days')", engine, coerce_float=False)
        markets = pd.read_sql("SELECT marketplace_id, participation_isParticipating FROM marketplaces", engine)
    assert len(frame) > 10
    for column in ("createdTime", "lastUpdatedTime"):
        dtype = frame[column].dtype
        assert isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC", dtype
    assert frame["createdTime"].min().year >= 2025  # real instants, comparable and sortable
    assert frame["proceeds_grandTotal_amount"].dtype == "float64"
    assert all(isinstance(value, decimal.Decimal) for value in exact["proceeds_grandTotal_amount"])
    assert markets["participation_isParticipating"].dtype == bool


def test_reflected_types_carry_through_expressions(engine):
    """Core expressions on a reflected table keep the column types: max(time) is a datetime, sum(money) a Decimal
    that prints as the exact total, and a datetime parameter filters as an instant."""
    orders = sqlalchemy.Table("orders", sqlalchemy.MetaData(), autoload_with=engine)
    amount, created = orders.c.proceeds_grandTotal_amount, orders.c.createdTime
    with engine.connect() as connection:
        latest, total = connection.execute(sqlalchemy.select(sqlalchemy.func.max(created),
                                                             sqlalchemy.func.sum(amount))).one()
        amounts = connection.execute(sqlalchemy.select(amount).where(amount.is_not(None))).scalars().all()
        since = latest - datetime.timedelta(days=3)
        recent = connection.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(orders)
                                    .where(created >= since)).scalar()
        times = connection.execute(sqlalchemy.select(created).where(created >= since)).scalars().all()
    assert isinstance(latest, datetime.datetime) and latest.tzinfo == datetime.UTC
    assert isinstance(total, decimal.Decimal) and total == sum(amounts, decimal.Decimal(0))
    assert total.as_tuple().exponent >= -2  # 2 decimals at most: no 432.51000000000005
    assert recent == len(times) >= 1 and all(t >= since for t in times)


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


# ---------------------------------------------------------------- secrets never in a URL, repr or message

SECRET = "SEKRET-client-secret"
REFRESH = "Atzr|SEKRET-refresh"


@pytest.fixture(scope="module")
def emu():
    from sqlspapi import emulator

    with emulator.start(orders=50) as running:
        yield running


def public_query(emu) -> str:
    """The URL query of the emulator's demo app without its secrets."""
    from sqlspapi import emulator

    return "&".join(f"{key}={quote(value, safe='')}" for key, value in {
        "ClientId": emulator.DEMO_CLIENT_ID, "TokenUrl": emu.token_url, "Endpoint": emu.url}.items())


def assert_secret_free(*texts: str) -> None:
    for shown in texts:
        assert "SEKRET" not in shown, shown


@pytest.mark.parametrize("query", [
    f"ClientSecret={SECRET}", f"client_secret={SECRET}", f"REFRESH_TOKEN={quote(REFRESH)}",
    f"amazon_sp_aws_user_secret={SECRET}", "connection_string=" + quote(f"Region=eu;ClientSecret={{{SECRET}}}"),
])
def test_secrets_in_the_url_are_refused_at_create_engine(query):
    with pytest.raises(ConnectionStringError) as info:
        create_engine(f"sqlspapi:///?Region=eu&{query}")
    message = str(info.value)
    assert_secret_free(message, repr(info.value))
    assert "must not be written in a SQLAlchemy URL" in message
    assert "connect_args" in message and "_env=VARIABLE" in message


def test_secrets_from_the_environment_against_the_emulator(emu, monkeypatch):
    from sqlspapi import emulator

    monkeypatch.setenv("TEST_SPAPI_SECRET", emulator.DEMO_CLIENT_SECRET)
    monkeypatch.setenv("TEST_SPAPI_REFRESH", emulator.DEMO_REFRESH_TOKEN)
    eng = create_engine(f"sqlspapi:///?{public_query(emu)}&ClientSecret_env=TEST_SPAPI_SECRET"
                        f"&RefreshToken_env=TEST_SPAPI_REFRESH")
    try:
        with eng.connect() as connection:
            rows = connection.execute(text("SELECT count(*) FROM marketplaces")).scalar()
            dbapi_connection = connection.connection.dbapi_connection
            shown = [repr(connection), str(connection), repr(dbapi_connection), repr(dbapi_connection.database),
                     repr(dbapi_connection.database.settings), repr(dbapi_connection.database.client)]
        assert rows >= 1
        assert "getMarketplaceParticipations" in {call.operation for call in emu.calls}
        for text_ in [*shown, str(eng), repr(eng), repr(eng.url), str(eng.url)]:
            assert emulator.DEMO_CLIENT_SECRET not in text_ and emulator.DEMO_REFRESH_TOKEN not in text_
    finally:
        eng.dispose()
    monkeypatch.delenv("TEST_SPAPI_SECRET")
    with pytest.raises(ConnectionStringError, match="TEST_SPAPI_SECRET.*not set"):
        create_engine(f"sqlspapi:///?{public_query(emu)}&ClientSecret_env=TEST_SPAPI_SECRET")


def test_whole_connection_string_from_the_environment(emu, monkeypatch):
    monkeypatch.setenv("TEST_SPAPI_CONNSTR", emu.connection_string())
    eng = create_engine("sqlspapi:///?connection_string_env=TEST_SPAPI_CONNSTR&OrdersApiVersion=v0")
    try:
        with eng.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM marketplaces")).scalar() >= 1
    finally:
        eng.dispose()


@pytest.mark.parametrize(("keys", "wrong"), [
    ({"ClientSecret": SECRET}, "ClientSecret"),
    ({"RefreshToken": REFRESH}, "RefreshToken"),
])
def test_wrong_credentials_fail_at_connect_naming_the_key_without_the_secret(emu, keys, wrong):
    from sqlspapi import emulator
    from sqlspapi.http.runtime import reset_runtimes

    reset_runtimes()  # as a new process: no access token held for the demo account yet

    connect_args = {"ClientSecret": emulator.DEMO_CLIENT_SECRET, "RefreshToken": emulator.DEMO_REFRESH_TOKEN, **keys}
    eng = create_engine(f"sqlspapi:///?{public_query(emu)}&RetryWaitTimeMs=1", connect_args=connect_args)
    try:
        assert_secret_free(str(eng), repr(eng), repr(eng.url), str(eng.url))
        print(eng)
        with pytest.raises(sqlalchemy.exc.OperationalError) as info:
            eng.connect()
        message = str(info.value)
        assert f"LWA rejected {wrong}" in message or f"rejected ClientId/{wrong}" in message, message
        assert_secret_free(message, repr(info.value), str(info.value.orig), repr(info.value.orig))
    finally:
        eng.dispose()


def test_bad_url_key_is_a_connection_string_error():
    eng = create_engine("sqlspapi:///?demo=true&NoSuchKey=1")
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as info:
            eng.connect()
        assert isinstance(info.value.orig, ConnectionStringError)
    finally:
        eng.dispose()


def test_a_default_window_is_a_documented_warning_in_pandas(engine):
    """No date bound reaches the API: the answer covers LookbackDays only, and pandas users are told."""
    from sqlspapi.errors import DefaultWindowWarning

    with pytest.warns(DefaultWindowWarning, match="LookbackDays=all"):
        frame = pd.read_sql("SELECT count(*) AS n FROM orders", engine)
    assert int(frame["n"][0]) > 0
