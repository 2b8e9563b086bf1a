"""PEP 249 behaviour of sqlspapi.interfaces.dbapi against the built-in emulator (demo=True)."""

from __future__ import annotations

import datetime
import decimal

import pytest

import sqlspapi
from sqlspapi import errors
from sqlspapi.interfaces import dbapi, dbtypes


@pytest.fixture(scope="module")
def con():
    connection = dbapi.connect(demo=True)
    yield connection
    connection.close()


def test_module_globals():
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety == 1
    assert dbapi.paramstyle == "qmark"
    assert dbapi.sqlite_version_info >= (3, 35)
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
                 "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"):
        assert getattr(dbapi, name) is getattr(errors, name)
        assert getattr(dbapi.Connection, name) is getattr(errors, name)


def test_type_objects_and_constructors():
    assert dbapi.NUMBER == "INTEGER" and dbapi.NUMBER == "REAL" and dbapi.STRING == "TEXT"
    assert dbapi.BINARY == "BLOB" and dbapi.DATETIME == "TIMESTAMP" and dbapi.STRING != dbapi.NUMBER
    assert dbapi.DATETIME == "TIMESTAMPTZ TEXT" and dbapi.NUMBER == "DECIMAL REAL" and dbapi.NUMBER == "BOOLEAN"
    assert dbapi.Date(2026, 1, 2) == datetime.date(2026, 1, 2)
    assert dbapi.Timestamp(2026, 1, 2, 3, 4, 5).hour == 3
    assert dbapi.Time(3, 4, 5).second == 5
    assert isinstance(dbapi.DateFromTicks(0), datetime.date)
    assert isinstance(dbapi.TimeFromTicks(0), datetime.time)
    assert isinstance(dbapi.TimestampFromTicks(0), datetime.datetime)
    assert dbapi.Binary(b"x") == b"x"


def test_package_connect_is_dbapi_connect():
    with sqlspapi.connect(demo=True) as connection:
        assert isinstance(connection, dbapi.Connection)
        assert connection.cursor().execute("SELECT 1").fetchone() == (1,)


def test_query_marketplaces(con):
    cur = con.cursor()
    cur.execute("SELECT marketplace_id, marketplace_name, participation_isParticipating FROM marketplaces")
    names = [column[0] for column in cur.description]
    assert names == ["marketplace_id", "marketplace_name", "participation_isParticipating"]
    assert all(len(column) == 7 for column in cur.description)
    assert cur.description[0][1] == dbapi.STRING
    assert cur.rowcount == -1
    rows = cur.fetchall()
    assert rows and all(isinstance(row[0], str) for row in rows)
    assert "ATVPDKIKX0DER" in {row[0] for row in rows}
    calls = con.last_calls()
    assert [call.operation for call in calls] == ["getMarketplaceParticipations"]
    assert calls[0].status == 200


def test_typed_values_and_type_codes(con):
    """Timestamp columns: DATETIME and aware datetimes in UTC; money: NUMBER and exact Decimals; BOOLEAN: bool."""
    cur = con.cursor()
    cur.execute("SELECT orderId, createdTime, proceeds_grandTotal_amount FROM orders "
                "WHERE proceeds_grandTotal_amount IS NOT NULL ORDER BY createdTime")
    assert [column[1] for column in cur.description] == [dbapi.STRING, dbapi.DATETIME, dbapi.NUMBER]
    rows = cur.fetchall()
    assert len(rows) > 10
    for _order, created, amount in rows:
        assert isinstance(created, datetime.datetime) and created.tzinfo == datetime.UTC
        assert isinstance(amount, decimal.Decimal) and amount.as_tuple().exponent >= -2
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)
    text = con.cursor().execute("SELECT createdTime FROM orders WHERE orderId = ?", (rows[0][0],)).fetchone()
    assert text == (rows[0][1],)
    cur.execute("SELECT marketplace_id, participation_isParticipating FROM marketplaces")
    assert cur.description[1][1] == dbapi.NUMBER
    assert {type(flag) for _id, flag in cur.fetchall()} == {bool}


def test_datetime_parameters_compare_as_instants(con):
    """A datetime parameter (aware or naive UTC) filters a timestamp column as the instant it is."""
    cur = con.cursor()
    times = [row[0] for row in cur.execute("SELECT createdTime FROM orders ORDER BY createdTime").fetchall()]
    middle = times[len(times) // 2]
    later = [t for t in times if t >= middle]
    paris = middle.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    for bound in (middle, paris, middle.replace(tzinfo=None)):
        found = cur.execute("SELECT createdTime FROM orders WHERE createdTime >= ?", (bound,)).fetchall()
        assert [row[0] for row in found] == later


def test_expressions_keep_sqlite_types(con):
    """SQLite declares types of plain column references only: an expression comes back as SQLite computed it,
    and the documented helpers convert it."""
    cur = con.cursor()
    latest, total = cur.execute("SELECT max(createdTime), sum(proceeds_grandTotal_amount) FROM orders").fetchone()
    assert cur.description[0][1] is None and isinstance(latest, str) and isinstance(total, float)
    assert dbtypes.to_datetime(latest).tzinfo == datetime.UTC
    amounts = [row[0] for row in cur.execute("SELECT proceeds_grandTotal_amount FROM orders "
                                             "WHERE proceeds_grandTotal_amount IS NOT NULL").fetchall()]
    assert dbtypes.exact_decimal(total) == sum(amounts, decimal.Decimal(0))
    assert dbtypes.exact_decimal(432.51000000000005) == decimal.Decimal("432.51")


def test_description_survives_zero_rows(con):
    cur = con.cursor()
    cur.execute("SELECT marketplace_id, marketplace_name FROM marketplaces WHERE marketplace_id = 'NOPE'")
    assert [column[0] for column in cur.description] == ["marketplace_id", "marketplace_name"]
    assert cur.fetchall() == []
    assert cur.fetchone() is None


def test_fetchone_fetchmany_iteration(con):
    cur = con.cursor()
    total = cur.execute("SELECT count(*) FROM marketplaces").fetchone()[0]
    assert total >= 2
    cur.execute("SELECT marketplace_id FROM marketplaces ORDER BY marketplace_id")
    first = cur.fetchone()
    assert cur.arraysize == 1
    assert len(cur.fetchmany()) == 1
    cur.arraysize = 100
    rest = cur.fetchmany()
    assert 1 + 1 + len(rest) == total
    assert cur.fetchmany(5) == []
    ids = [row[0] for row in cur.execute("SELECT marketplace_id FROM marketplaces ORDER BY marketplace_id")]
    assert ids[0] == first[0] and len(ids) == total


def test_parameters_qmark_named_and_dates(con):
    cur = con.cursor()
    assert cur.execute("SELECT ? + 1, ?", (41, "x")).fetchone() == (42, "x")
    assert cur.execute("SELECT :a || :b", {"a": "sp", "b": "api"}).fetchone() == ("spapi",)
    stamp = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert cur.execute("SELECT ?, ?", (stamp, datetime.date(2026, 1, 2))).fetchone() == (
        "2026-01-02T03:04:05Z", "2026-01-02")
    row = cur.execute("SELECT count(*) FROM marketplaces WHERE marketplace_id = ?", ("ATVPDKIKX0DER",)).fetchone()
    assert row == (1,)


def test_executemany_and_rowcount_on_local_temp_table(con):
    cur = con.cursor()
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS notes(id INTEGER, note TEXT)")
    assert cur.description is None
    cur.executemany("INSERT INTO notes VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    assert cur.rowcount == 3
    assert cur.execute("SELECT count(*) FROM notes").fetchone() == (3,)
    cur.execute("DROP TABLE notes")


def test_syntax_error_is_programming_error(con):
    with pytest.raises(dbapi.ProgrammingError, match="syntax error"):
        con.cursor().execute("SELEC 1")
    with pytest.raises(dbapi.ProgrammingError, match="no such table"):
        con.cursor().execute("SELECT * FROM no_such_table")
    with pytest.raises(dbapi.ProgrammingError):
        con.cursor().execute("SELECT ?", ())
    with pytest.raises(dbapi.ProgrammingError, match=":missing"):
        con.cursor().execute("SELECT :missing", {})


def test_fetch_without_query_is_an_error(con):
    cur = con.cursor()
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchone()


def test_tables_are_read_only(con):
    with pytest.raises(dbapi.NotSupportedError, match="read-only"):
        con.cursor().execute("INSERT INTO marketplaces(marketplace_id) VALUES ('X')")
    with pytest.raises(dbapi.NotSupportedError, match="read-only"):
        con.cursor().execute("DELETE FROM marketplaces")


def test_missing_filter_error_comes_through(con):
    with pytest.raises(errors.MissingFilterError) as info:
        con.cursor().execute("SELECT * FROM order_items").fetchall()
    assert isinstance(info.value, dbapi.ProgrammingError)
    assert "orderId" in str(info.value)


def test_connection_string_errors_come_through():
    with pytest.raises(errors.ConnectionStringError) as info:
        dbapi.connect("ClientId=abc;NoSuchKey=1")
    assert info.value.key == "NoSuchKey"
    assert isinstance(info.value, dbapi.InterfaceError)
    with pytest.raises(errors.ConnectionStringError):
        dbapi.connect()
    with pytest.raises(errors.ConnectionStringError):
        dbapi.connect(demo=True, OrdersApiVersion="v9")


def test_keyword_arguments_are_connection_string_keys():
    with dbapi.connect(demo=True, OrdersApiVersion="v0") as connection:
        settings = connection.database.settings
        assert settings.api_version("OrdersApiVersion") == "v0"
        assert any("deprecated" in notice for notice in settings.notices)
        cur = connection.cursor().execute("SELECT * FROM orders LIMIT 1")
        assert "AmazonOrderId" in [column[0] for column in cur.description]


def test_keyword_keys_override_the_connection_string():
    with dbapi.connect("client_id=a;OrdersApiVersion=v0", demo=True, orders_api_version="2026-01-01",
                       MarketplaceIds=["DE", "FR"]) as connection:
        settings = connection.database.settings
        assert settings.api_version("OrdersApiVersion") == "2026-01-01"
        assert settings.marketplace_ids == ("A1PA6795UKMFR9", "A13V1IB3VIYZZH")
    with pytest.raises(dbapi.ConnectionStringError, match="ClientSecret"):
        dbapi.connect("ClientId=a", RefreshToken="Atzr|x")


def test_context_manager_closes():
    with dbapi.connect(demo=True) as connection:
        cur = connection.cursor()
        cur.execute("SELECT count(*) FROM marketplaces")
        connection.commit()
        connection.rollback()
    assert connection.closed
    with pytest.raises(dbapi.InterfaceError):
        connection.cursor()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
    connection.close()  # twice is fine


def test_cursor_close_and_noops(con):
    cur = con.cursor()
    cur.setinputsizes([10])
    cur.setoutputsize(10)
    assert cur.lastrowid is None
    cur.execute("SELECT 1")
    cur.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.fetchone()


def test_wrapping_an_open_database_leaves_it_open():
    from sqlspapi.engine import open_database

    database = open_database(demo=True)
    try:
        with dbapi.connect(database=database) as connection:
            assert connection.cursor().execute("SELECT 2").fetchone() == (2,)
        assert database.connection.execute("SELECT 3").fetchone() == (3,)
    finally:
        database.close()
