"""Many accounts on one connection (issue 11 §6): ``Accounts=``, the ``account`` column, the concurrent fan-out,
``OnAccountError`` and ``account_errors``, and the per-account switches — against the emulator with two seller
accounts (two refresh tokens: the same data, separate rate limits), through the DB-API as a user runs them."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlspapi
from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.engine import open_database
from sqlspapi.errors import (
    AccountErrorsWarning,
    AccountSwitchError,
    AuthError,
    ConnectionStringError,
    NoDataWarning,
)
from sqlspapi.http.runtime import reset_runtimes

SECOND_TOKEN = "Atzr|FAKE-second-shop"
SINCE = "createdTime >= '2026-10-01'"


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with start(orders=300, time_scale=1000) as e:
        e.add_account(SECOND_TOKEN)
        yield e


@pytest.fixture(autouse=True)
def fresh_runtimes() -> Iterator[None]:
    reset_runtimes()
    yield
    reset_runtimes()


def write_accounts(folder: Path, emu: Any, **extra: dict[str, Any]) -> Path:
    """A credentials file with two named accounts on the emulator (``extra``: fields added per account)."""
    common = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "token_url": emu.token_url,
              "endpoint": emu.url}
    accounts = {"shop_us": {**common, "refresh_token": DEMO_REFRESH_TOKEN, **extra.get("shop_us", {})},
                "shop_eu": {**common, "refresh_token": SECOND_TOKEN, **extra.get("shop_eu", {})}}
    path = folder / "credentials.json"
    path.write_text(json.dumps(accounts))
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def revoked(folder: Path, token: str) -> Iterator[Path]:
    """A fresh emulator with both accounts, ``token`` revoked; yields the credentials file."""
    with start(orders=50, time_scale=1000) as emu:
        emu.add_account(SECOND_TOKEN)
        emu.revoke_refresh_token(token)
        yield write_accounts(folder, emu)


def rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cursor.execute(sql)
        return [tuple(r) for r in cursor.fetchall()]


def test_every_table_gets_an_account_column_and_the_rows_of_each_account(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
    columns = [r[1] for r in rows(many, "PRAGMA table_info(orders)")]
    assert columns[-1] == "account"
    assert "account_errors" in [r[0] for r in rows(many, "SELECT name FROM sqlite_schema WHERE type = 'table'")]
    together = rows(many, f"SELECT account, orderId FROM orders WHERE {SINCE} ORDER BY account, orderId")
    for name in ("shop_us", "shop_eu"):
        alone = sqlspapi.connect(f"CredentialsFile={path};Account={name}")
        one = rows(alone, f"SELECT orderId FROM orders WHERE {SINCE} ORDER BY orderId")
        assert one, "the emulator has orders in the window"
        assert [(name, o) for (o,) in one] == [r for r in together if r[0] == name]
    assert len(together) == 2 * len(one)


def test_account_filter_calls_only_the_accounts_chosen(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=shop_us,shop_eu")
    rows(many, "SELECT count(*) FROM marketplaces")  # both accounts' tokens and marketplaces are known now
    emu.calls.clear()
    only = rows(many, f"SELECT DISTINCT account FROM orders WHERE account = 'shop_eu' AND {SINCE}")
    assert only == [("shop_eu",)]
    callers = {c.account for c in emu.calls if c.operation != "lwaToken"}
    assert callers == {"Atzr|FAKE-second-shop"}
    emu.calls.clear()
    both = rows(many, f"SELECT DISTINCT account FROM orders WHERE account IN ('shop_eu', 'shop_us') AND {SINCE} "
                      "ORDER BY 1")
    assert both == [("shop_eu",), ("shop_us",)]
    assert {c.account for c in emu.calls if c.operation != "lwaToken"} == {"demo", SECOND_TOKEN}


def test_an_account_name_that_is_not_on_the_connection_gives_no_rows_and_says_so(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
    cursor = many.cursor()
    with pytest.warns(NoDataWarning, match=r"'shop_xx' is not one of this connection's accounts \(shop_us, shop_eu\)"):
        cursor.execute("SELECT count(*) FROM marketplaces WHERE account = 'shop_xx'")
    assert cursor.fetchall()[0][0] == 0


def test_limit_and_offset_count_the_rows_of_every_account_together(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
    everything = rows(many, f"SELECT account, orderId FROM orders WHERE {SINCE}")
    assert len(rows(many, f"SELECT account, orderId FROM orders WHERE {SINCE} LIMIT 3")) == 3
    assert len(rows(many, f"SELECT account, orderId FROM orders WHERE {SINCE} LIMIT 5 OFFSET 2")) == 5
    tail = rows(many, f"SELECT account, orderId FROM orders WHERE {SINCE} LIMIT -1 OFFSET {len(everything) - 4}")
    assert len(tail) == 4


def test_accounts_are_read_concurrently(tmp_path: Path, emu: Any) -> None:
    """Each account pages on its own: their calls overlap in time instead of one account after the other."""
    path = write_accounts(tmp_path, emu)
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all;LookbackDays=400")
    rows(many, "SELECT count(*) FROM marketplaces")
    emu.calls.clear()
    rows(many, "SELECT count(*) FROM orders WHERE createdTime >= '2025-11-01'")
    pages = [c for c in emu.calls if c.operation == "searchOrders"]
    first = {a: min(c.time for c in pages if c.account == a) for a in ("demo", SECOND_TOKEN)}
    last = {a: max(c.time for c in pages if c.account == a) for a in ("demo", SECOND_TOKEN)}
    assert min(sum(1 for c in pages if c.account == a) for a in first) >= 2, "several pages per account"
    assert max(first.values()) < min(last.values()), "the second account started before the first one finished"


def test_one_failing_account_fails_the_statement_and_names_the_account(tmp_path: Path) -> None:
    with revoked(tmp_path, SECOND_TOKEN) as path:
        with pytest.raises(AuthError, match=r"^account 'shop_eu': LWA rejected RefreshToken"):
            sqlspapi.connect(f"CredentialsFile={path};Accounts=all")  # connecting checks every account
        many = open_database(f"CredentialsFile={path};Accounts=all")  # the engine checks when a query calls
        with pytest.raises(AuthError, match=r"^account 'shop_eu': LWA rejected RefreshToken"):
            many.connection.execute("SELECT * FROM marketplaces").fetchall()
        assert many.connection.execute("SELECT count(*) FROM marketplaces WHERE account = 'shop_us'").fetchall() \
            == [(5,)]
        many.close()


def test_on_account_error_skip_keeps_the_others_tells_and_records(tmp_path: Path) -> None:
    with revoked(tmp_path, SECOND_TOKEN) as path:
        many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all;OnAccountError=skip")
        cursor = many.cursor()
        with pytest.warns(AccountErrorsWarning, match=r"account 'shop_eu' was skipped .* its rows are missing"):
            cursor.execute("SELECT account, count(*) FROM marketplaces GROUP BY account")
        assert [tuple(r) for r in cursor.fetchall()] == [("shop_us", 5)]
        errors = rows(many, "SELECT account, table_name, error, message FROM account_errors")
        assert [e[:3] for e in errors] == [("shop_eu", "marketplaces", "AuthError")]
        assert "Re-authorize" in errors[0][3] and SECOND_TOKEN not in errors[0][3]


def test_allowed_tables_switch_refuses_with_the_account_and_the_switch(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu, shop_eu={"allowed_tables": "orders,order_*"})
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
    emu.calls.clear()
    with pytest.raises(AccountSwitchError, match=r"account 'shop_eu' may not read table marketplaces: its "
                                                 r"AllowedTables switch allows orders, order_\*"):
        rows(many, "SELECT * FROM marketplaces")
    assert not [c for c in emu.calls if c.account == SECOND_TOKEN]
    assert rows(many, "SELECT count(*) FROM marketplaces WHERE account <> 'shop_eu'")[0][0] == 5
    assert rows(many, f"SELECT count(DISTINCT account) FROM orders WHERE {SINCE}")[0][0] == 2
    skipping = sqlspapi.connect(f"CredentialsFile={path};Accounts=all;OnAccountError=skip")
    assert rows(skipping, "SELECT DISTINCT account FROM marketplaces") == [("shop_us",)]


def test_allowed_operations_switch_on_a_single_account_connection(tmp_path: Path, emu: Any) -> None:
    string = emu.connection_string(AllowedOperations="get*Participations,searchOrders")
    connection = sqlspapi.connect(string)
    assert rows(connection, f"SELECT count(*) FROM orders WHERE {SINCE}")[0][0] > 0
    with pytest.raises(AccountSwitchError, match=r"may not call getInventorySummaries: its AllowedOperations "
                                                 r"switch allows get\*Participations, searchOrders"):
        rows(connection, "SELECT * FROM fba_inventory_summaries")
    alone = sqlspapi.connect(emu.connection_string(AllowedTables="marketplaces"))
    with pytest.raises(AccountSwitchError, match="may not read table orders"):
        rows(alone, "SELECT * FROM orders")


def test_read_only_accounts_refuse_operations_that_change_the_account(emu: Any) -> None:
    from sqlspapi.definitions.loader import operation
    from sqlspapi.engine import resolve_settings
    from sqlspapi.http.client import Client

    create = operation("reports", "createReportSchedule")
    body = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"], "period": "P1D"}
    with Client(resolve_settings(emu.connection_string())) as client:
        with pytest.raises(AccountSwitchError, match=r"is read-only: createReportSchedule changes the account\. "
                                                     r"Set ReadOnly=false"):
            client.call(create, body=body)
    assert not emu.calls.of("createReportSchedule")
    with Client(resolve_settings(emu.connection_string(ReadOnly=False))) as client:
        assert client.call(create, body=body).status in (201, 202)


def test_accounts_names_errors(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    with pytest.raises(ConnectionStringError, match=r"account 'shop_xx': Credentials file .* no account 'shop_xx'"):
        sqlspapi.connect(f"CredentialsFile={path};Accounts=shop_us,shop_xx")
    with pytest.raises(ConnectionStringError, match="Accounts and Account both choose accounts"):
        sqlspapi.connect(f"CredentialsFile={path};Accounts=all;Account=shop_us")
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"client_id": DEMO_CLIENT_ID}))
    flat.chmod(0o600)
    with pytest.raises(ConnectionStringError, match="holds one set of fields, not named accounts"):
        sqlspapi.connect(f"CredentialsFile={flat};Accounts=all")
    half = tmp_path / "half.json"
    half.write_text(json.dumps({"a": {"client_id": DEMO_CLIENT_ID, "token_url": emu.token_url}}))
    half.chmod(0o600)
    with pytest.raises(ConnectionStringError, match=r"account 'a': ClientSecret is missing"):
        sqlspapi.connect(f"CredentialsFile={half};Accounts=all")


def test_accounts_from_the_profile_file(tmp_path: Path, emu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Accounts=all`` alone reads the profile file: a connection string without a path or a secret."""
    folder = tmp_path / "config" / "sqlspapi"
    folder.mkdir(parents=True)
    write_accounts(folder, emu)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    many = sqlspapi.connect("Accounts=all")
    assert rows(many, "SELECT account, count(*) FROM marketplaces GROUP BY 1 ORDER BY 1") == [("shop_eu", 5),
                                                                                               ("shop_us", 5)]


def test_connecting_checks_every_account_unless_failing_accounts_are_skipped(tmp_path: Path) -> None:
    with revoked(tmp_path, DEMO_REFRESH_TOKEN) as path:
        with pytest.raises(AuthError, match=r"^account 'shop_us': LWA rejected RefreshToken"):
            sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
        skipping = sqlspapi.connect(f"CredentialsFile={path};Accounts=all;OnAccountError=skip")
        assert rows(skipping, "SELECT DISTINCT account FROM marketplaces") == [("shop_eu",)]


def test_pandas_through_sqlalchemy_sees_the_account_column(tmp_path: Path, emu: Any) -> None:
    pd = pytest.importorskip("pandas")
    sqlalchemy = pytest.importorskip("sqlalchemy")
    path = write_accounts(tmp_path, emu)
    engine = sqlalchemy.create_engine(f"sqlspapi:///?CredentialsFile={path}&Accounts=all")
    assert "account" in [c["name"] for c in sqlalchemy.inspect(engine).get_columns("marketplaces")]
    frame = pd.read_sql("SELECT account, count(*) AS n FROM marketplaces GROUP BY account ORDER BY account", engine)
    assert frame.to_dict("records") == [{"account": "shop_eu", "n": 5}, {"account": "shop_us", "n": 5}]


def test_the_bridge_serves_many_accounts_to_psycopg(tmp_path: Path, emu: Any) -> None:
    psycopg = pytest.importorskip("psycopg")
    from sqlspapi.server import start_in_thread

    path = write_accounts(tmp_path, emu)
    handle = start_in_thread(f"CredentialsFile={path};Accounts=all", user="bi", password="bridge-pw")
    try:
        with psycopg.connect(host="127.0.0.1", port=handle.port, user="bi", password="bridge-pw",
                             dbname="sqlspapi", sslmode="disable") as pg:
            got = pg.execute("SELECT account, count(*) FROM marketplaces WHERE account IN ('shop_us', 'shop_eu') "
                             "GROUP BY account ORDER BY account").fetchall()
            assert got == [("shop_eu", 5), ("shop_us", 5)]
            names = [r[0] for r in pg.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'account_errors' ORDER BY ordinal_position")]
            assert names == ["occurred_at", "account", "table_name", "error", "message", "request_id"]
    finally:
        handle.stop()


def test_each_account_keeps_its_own_fields(tmp_path: Path, emu: Any) -> None:
    """An account's entry sets its own keys (here its default date window): each account is asked its own way."""
    path = write_accounts(tmp_path, emu, shop_eu={"lookback_days": 3})
    many = sqlspapi.connect(f"CredentialsFile={path};Accounts=all")  # the connection string would win
    emu.calls.clear()
    counts = dict(rows(many, "SELECT account, count(*) FROM orders GROUP BY account"))
    assert 0 < counts.get("shop_eu", 0) < counts["shop_us"]
    after = {c.account: c.params["createdAfter"][:10] for c in emu.calls if c.operation == "searchOrders"}
    assert after[SECOND_TOKEN] > after["demo"]


def test_explain_says_the_estimates_are_per_account_and_how_accounts_are_read(tmp_path: Path, emu: Any) -> None:
    path = write_accounts(tmp_path, emu)
    db = open_database(f"CredentialsFile={path};Accounts=all")
    try:
        lines = db.explain(f"SELECT count(*) FROM orders WHERE {SINCE}")
    finally:
        db.close()
    assert "searchOrders" in lines[0]
    assert lines[-1].startswith("accounts: 2 (shop_us, shop_eu): each access runs once per account")


def test_an_account_choosing_another_api_version_is_refused_naming_the_key(tmp_path: Path, emu: Any) -> None:
    """A connection's tables are one version of each API: an account entry asking for another is an error, not
    silently read with the connection's version."""
    path = write_accounts(tmp_path, emu, shop_eu={"OrdersApiVersion": "v0"})
    with pytest.raises(ConnectionStringError, match=r"account 'shop_eu': its entry sets OrdersApiVersion=v0") as info:
        sqlspapi.connect(f"CredentialsFile={path};Accounts=all")
    assert info.value.key == "OrdersApiVersion"
    alone = sqlspapi.connect(f"CredentialsFile={path};Account=shop_eu")  # one account: its entry's version applies
    assert "AmazonOrderId" in [r[1] for r in rows(alone, "PRAGMA table_info(orders)")]
    same = sqlspapi.connect(f"CredentialsFile={path};Accounts=all;OrdersApiVersion=v0")  # the connection's wins
    assert "AmazonOrderId" in [r[1] for r in rows(same, "PRAGMA table_info(orders)")]
