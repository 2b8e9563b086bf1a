"""Restricted columns (PII) of ``orders`` come back NULL without ``IncludeRestrictedData``: never silently.

The definitions mark them ``RESTRICTED``; a statement that uses one on a connection without the key gets one notice
(a shell ``note:`` line, a DB-API :class:`~sqlspapi.errors.RestrictedColumnsWarning` plus ``cursor.messages``);
with ``IncludeRestrictedData=true`` there is no notice and the values are there. Against the demo emulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from sqlspapi.definitions.loader import DefinitionError, load_all, parse_columns
from sqlspapi.errors import DefaultWindowWarning, RestrictedColumnsWarning
from sqlspapi.interfaces import dbapi

RECENT = "createdTime >= date('now', '-20 days')"
PII_SQL = f"SELECT orderId, buyer_buyerEmail, recipient_deliveryAddress_city FROM orders WHERE {RECENT} LIMIT 5"
PLAIN_SQL = f"SELECT orderId, proceeds_grandTotal_amount FROM orders WHERE {RECENT} LIMIT 5"
NOTICE = ("orders.buyer_buyerEmail, orders.recipient_deliveryAddress_city are restricted data (PII) and come back "
          "NULL: add IncludeRestrictedData=true to the connection string")


def shell(*args: str) -> subprocess.CompletedProcess[str]:
    """The real ``sqlspapi shell --demo`` as a subprocess."""
    environment = {key: value for key, value in os.environ.items() if key != "SQLSPAPI_CONNECTION_STRING"}
    return subprocess.run([sys.executable, "-m", "sqlspapi", "shell", "--demo", *args], capture_output=True,
                          text=True, timeout=120, env=environment, check=False)


def notes(stderr: str) -> list[str]:
    """The shell's ``note:`` lines."""
    return [line for line in stderr.splitlines() if line.startswith("note:")]


# ---------------------------------------------------------------- the definitions


def test_definitions_mark_the_pii_columns_of_both_orders_versions():
    marked = {(s.version, t.name): {c.name for c in t.columns if c.restricted}
              for s in load_all() for t in s.tables.values() if any(c.restricted for c in t.columns)}
    assert marked == {
        ("2026-01-01", "orders"): {"buyer_buyerName", "buyer_buyerEmail", "buyer_buyerCompanyName",
                                   "buyer_buyerPurchaseOrderNumber", "recipient_deliveryAddress_city",
                                   "recipient_deliveryAddress_stateOrRegion", "recipient_deliveryAddress_postalCode",
                                   "recipient_deliveryAddress_countryCode"},
        ("v0", "orders"): {"ShippingAddress_Name", "ShippingAddress_AddressLine1", "ShippingAddress_AddressType",
                           "BuyerInfo_BuyerEmail", "BuyerInfo_BuyerName"},
    }


def test_column_line_flags():
    hidden, pii, plain = parse_columns("""
        keywords           TEXT HIDDEN Search words
        buyer.buyerEmail   TEXT RESTRICTED Anonymized buyer e-mail
        note               TEXT RESTRICTEDNESS is not a flag
    """, "test")
    assert (hidden.hidden, hidden.restricted) == (True, False)
    assert (pii.restricted, pii.description, pii.name) == (True, "Anonymized buyer e-mail", "buyer_buyerEmail")
    assert (plain.restricted, plain.description) == (False, "RESTRICTEDNESS is not a flag")


def test_restricted_table_takes_no_restricted_columns(tmp_path):
    from sqlspapi.definitions.loader import load_file

    path = tmp_path / "pii-v1.toml"
    path.write_text('section = "pii"\nversion = "v1"\ntitle = "PII"\n'
                    '[operations.getThing]\nmethod = "GET"\npath = "/pii/v1/things/{id}"\nrate = 1\nburst = 1\n'
                    '[tables.things]\ndescription = "Things"\nrestricted = true\n'
                    'columns = """\nid TEXT Id\nemail TEXT RESTRICTED E-mail\n"""\n'
                    '[tables.things.get]\noperation = "getThing"\ncolumn = "id"\npath_param = "id"\nrow = ""\n',
                    encoding="utf-8")
    with pytest.raises(DefinitionError, match="no RESTRICTED flag"):
        load_file(path)


# ---------------------------------------------------------------- the shell, as a subprocess


def test_shell_says_so_once_and_the_values_are_null():
    result = shell(PII_SQL)
    assert result.returncode == 0, result.stderr
    pii_notes = [line for line in notes(result.stderr) if "restricted data (PII)" in line]
    assert len(pii_notes) == 1 and pii_notes[0].startswith(f"note: {NOTICE}")
    rows = [line.split("|") for line in result.stdout.splitlines() if line]
    assert rows and all(row[1:] == ["", ""] for row in rows)


def test_shell_without_restricted_columns_has_no_such_note():
    result = shell(PLAIN_SQL)
    assert result.returncode == 0, result.stderr
    assert not [line for line in notes(result.stderr) if "restricted" in line]


def test_shell_with_include_restricted_data_has_the_values_and_no_note():
    result = shell("IncludeRestrictedData=true", PII_SQL)
    assert result.returncode == 0, result.stderr
    assert not [line for line in notes(result.stderr) if "restricted" in line]
    rows = [line.split("|") for line in result.stdout.splitlines() if line]
    assert rows and all(row[2] for row in rows)  # every order has a delivery city
    assert any("@" in row[1] for row in rows)


# ---------------------------------------------------------------- DB-API


@pytest.fixture(scope="module")
def plain():
    connection = dbapi.connect(demo=True)
    yield connection
    connection.close()


def test_dbapi_warns_once_with_its_category_and_fills_messages(plain):
    cursor = plain.cursor()
    with pytest.warns(RestrictedColumnsWarning, match="orders.buyer_buyerEmail") as caught:
        rows = cursor.execute(PII_SQL).fetchall()
    assert rows and all(row[1] is None and row[2] is None for row in rows)
    assert len([w for w in caught if w.category is RestrictedColumnsWarning]) == 1
    assert [(category, str(text)) for category, text in cursor.messages if category is RestrictedColumnsWarning] \
        == [(RestrictedColumnsWarning, str(cursor.messages[0][1]))]
    assert str(cursor.messages[0][1]).startswith(NOTICE)


def test_dbapi_get_route_select_star_and_join_warn_once(plain):
    cursor = plain.cursor()
    order_id = cursor.execute(PLAIN_SQL).fetchone()[0]
    with pytest.warns(RestrictedColumnsWarning, match="orders.buyer_buyerName, orders.buyer_buyerEmail") as caught:
        row = cursor.execute("SELECT * FROM orders WHERE orderId = ?", (order_id,)).fetchone()
    assert row is not None and len([w for w in caught if w.category is RestrictedColumnsWarning]) == 1
    sql = (f"SELECT o.orderId, o.buyer_buyerName FROM orders o JOIN order_items i ON i.orderId = o.orderId "
           f"WHERE o.{RECENT}")
    with pytest.warns(RestrictedColumnsWarning) as caught:
        assert cursor.execute(sql).fetchall()
    assert len([w for w in caught if w.category is RestrictedColumnsWarning]) == 1


def test_dbapi_without_restricted_columns_does_not_warn(plain):
    cursor = plain.cursor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cursor.execute(PLAIN_SQL).fetchall()
    assert cursor.messages == []


def test_default_window_notice_keeps_its_category(plain):
    cursor = plain.cursor()
    with pytest.warns(DefaultWindowWarning) as caught:
        cursor.execute("SELECT count(*) FROM orders").fetchall()
    assert not [w for w in caught if w.category is RestrictedColumnsWarning]
    assert [category for category, _text in cursor.messages] == [DefaultWindowWarning]


def test_dbapi_v0_columns_warn_too():
    with dbapi.connect(demo=True, OrdersApiVersion="v0") as connection:
        cursor = connection.cursor()
        with pytest.warns(RestrictedColumnsWarning, match="orders.BuyerInfo_BuyerEmail is restricted data"):
            rows = cursor.execute("SELECT AmazonOrderId, BuyerInfo_BuyerEmail FROM orders "
                                  "WHERE PurchaseDate >= date('now', '-20 days') LIMIT 3").fetchall()
        assert rows and all(row[1] is None for row in rows)


def test_dbapi_with_include_restricted_data_has_values_and_no_warning():
    with dbapi.connect(demo=True, IncludeRestrictedData="true") as connection:
        cursor = connection.cursor()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rows = cursor.execute(PII_SQL).fetchall()
        assert rows and all(row[2] for row in rows)
        assert any(row[1] and "@" in row[1] for row in rows)
        assert cursor.messages == []
