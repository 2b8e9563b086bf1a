"""The shell driven in process through its command API: ``.tables``, ``.schema``, ``.calls``, ``.explain``,
``.open``, ``.help``, errors as messages, display modes and the banner."""

from __future__ import annotations

import pytest

from sqlspapi.interfaces.display import format_table
from sqlspapi.interfaces.shell import SPAPIShell

# ---------------------------------------------------------------- the shell, in process (conftest's ``shell``)


def test_shell_tables_schema_query_calls(shell):
    sh, out, err = shell
    sh.process_command(".tables")
    listed = set(out.getvalue().split())
    assert {"orders", "order_items", "order_addresses", "order_buyer_info", "marketplaces"} <= listed

    out.truncate(0), out.seek(0)
    sh.process_command(".schema orders")
    schema = out.getvalue()
    assert "CREATE TABLE orders(" in schema
    assert "orderId TEXT" in schema and "Amazon-defined order identifier" in schema

    out.truncate(0), out.seek(0)
    sh.process_command(".mode csv")
    sh.process_sql("SELECT orderId FROM orders LIMIT 3")
    assert len(out.getvalue().splitlines()) == 3

    out.truncate(0), out.seek(0)
    sh.process_command(".calls")
    report = out.getvalue()
    assert report.splitlines()[0].split() == ["operation", "params", "status", "time", "ms", "throttle", "wait",
                                              "ms", "shared"]
    assert "searchOrders" in report and "200" in report

    out.truncate(0), out.seek(0)
    sh.process_sql("SELECT count(*) FROM marketplaces")
    sh.process_command(".calls")
    report = out.getvalue()
    assert "getMarketplaceParticipations" in report and "searchOrders" not in report
    assert err.getvalue() == ""


def test_shell_calls_full_and_path_parameters(shell):
    sh, out, _ = shell
    order_id = sh.database.connection.execute("SELECT orderId FROM orders LIMIT 1").fetchone()[0]
    sh.process_sql("SELECT count(*) FROM orders WHERE orderId = ?", (order_id,))
    out.truncate(0), out.seek(0)
    sh.process_command(".calls")
    assert f"orderId={order_id}" in out.getvalue() and "getOrder" in out.getvalue()
    out.truncate(0), out.seek(0)
    sh.process_command(".calls full")
    report = out.getvalue()
    assert f"1. getOrder GET /orders/2026-01-01/orders/{order_id} -> 200 in " in report
    assert "request id " in report
    assert report.splitlines()[-1].startswith("1 call, ")
    with pytest.raises(SPAPIShell.Error, match="Usage"):
        sh.process_command(".calls everything")


def test_shell_explain_and_query_plan(shell):
    sh, out, _ = shell
    sh.process_command(".explain SELECT * FROM orders WHERE orderId = '111-0000000-0000000'")
    assert "getOrder" in out.getvalue()
    out.truncate(0), out.seek(0)
    sh.process_sql("EXPLAIN QUERY PLAN SELECT * FROM marketplaces")
    assert "marketplaces" in out.getvalue()


def test_shell_error_is_a_message(shell):
    sh, _, err = shell
    try:
        sh.process_sql("SELECT * FROM order_items")
    except Exception as exc:
        message = str(exc)
        sh.handle_exception()  # what the interactive loop does with it
    else:
        pytest.fail("a query without a filter must fail")
    assert "orderId" in message
    assert err.getvalue().strip() == message.strip()


def test_shell_open_refuses_files_and_reconnects(shell):
    sh, out, _ = shell
    with pytest.raises(SPAPIShell.Error, match="not a connection string"):
        sh.process_command(".open local.db")
    old = sh.database
    sh.process_command(".open --demo OrdersApiVersion=v0")
    assert sh.database is not old
    assert sh.database.settings.api_version("OrdersApiVersion") == "v0"
    assert "Connected to" in out.getvalue()
    out.truncate(0), out.seek(0)
    sh.process_command(".mode csv")
    sh.process_sql("SELECT AmazonOrderId FROM orders LIMIT 1")
    assert len(out.getvalue().splitlines()) == 1


def test_shell_help_lists_calls(shell):
    sh, _, err = shell
    sh.process_command(".help")
    assert ".calls" in err.getvalue() and ".explain" in err.getvalue()


def test_shell_help_lists_only_commands_that_work_here(shell):
    from sqlspapi.interfaces.shell import UNAVAILABLE

    sh, _, err = shell
    sh.process_command(".help")
    listed = {line.split()[0] for line in err.getvalue().splitlines() if line.startswith(".")}
    assert {".tables", ".schema", ".mode", ".open", ".calls", ".explain", ".import", ".output"} <= listed
    for name in ("dump", "find", "backup", "restore", "close", "connection", "dbinfo", "pages-svg", "vfslist"):
        assert name in UNAVAILABLE and f".{name}" not in listed
    for name in UNAVAILABLE:
        with pytest.raises(SPAPIShell.Error, match=rf"^\.{name} is not available in sqlspapi: "):
            sh.process_command(f".{name}")
        with pytest.raises(SPAPIShell.Error, match=rf"^\.{name} is not available"):
            sh.process_command(f".help {name}")
    with pytest.raises(SPAPIShell.Error, match="every SP-API endpoint"):
        sh.process_command(".dump orders")
    with pytest.raises(SPAPIShell.Error, match="every SP-API endpoint"):
        sh.process_command(".find 111-0000000-0000000")
    assert sh.database.last_calls() == []  # refused before any call


def test_shell_unknown_column_says_which_version_has_it(shell):
    sh, _, err = shell
    with pytest.raises(Exception, match="no such column"):
        sh.process_sql("SELECT AmazonOrderId FROM orders LIMIT 1")
    assert ("orders has no column AmazonOrderId in Orders 2026-01-01; it is an Orders v0 column: use orderId, "
            "or OrdersApiVersion=v0") in err.getvalue()
    err.truncate(0), err.seek(0)
    with pytest.raises(Exception, match="no such column"):
        sh.process_sql("SELECT fulfilmentStatus FROM orders LIMIT 1")
    assert "did you mean fulfillment_fulfillmentStatus?" in err.getvalue()


def test_shell_box_mode_too_wide_shows_rows_vertically(shell):
    sh, out, err = shell
    sh.process_command(".mode box")  # not a terminal: 80 columns
    sh.process_sql("SELECT * FROM orders LIMIT 2")
    text = out.getvalue()
    notes = err.getvalue().splitlines()  # SELECT * includes the PII columns: one note says they are NULL, why
    assert len(notes) == 1 and notes[0].startswith("note: orders.") and "IncludeRestrictedData=true" in notes[0]
    assert "can't be fit" not in text
    assert text.count("[ row ") == 2
    assert all(len(line) <= 80 for line in text.splitlines())
    names = [row[0] for row in sh.database.connection.execute("SELECT name FROM pragma_table_info('orders')")]
    starts = {line.split(" │ ")[0].strip() for line in text.splitlines() if " │ " in line}
    assert set(names) <= starts


def test_shell_banner_has_endpoint_and_versions_but_no_secret(shell):
    sh, _, _ = shell
    banner = sh.intro()
    assert sh.database.settings.endpoint in banner
    assert "orders 2026-01-01" in banner and "sellers v1" in banner and ".help" in banner
    secret = sh.database.settings.client_secret.reveal()
    assert not secret or secret not in banner


def test_format_table_aligns_numbers():
    assert format_table(["a", "bb"], [(1, "x"), (10, None)]) == "a   bb\n--  ----\n 1  x\n10  NULL\n"


def test_connection_string_is_told_apart_from_sql():
    from sqlspapi.interfaces.cli import looks_like_connection_string

    assert looks_like_connection_string("ClientId=amzn1;RefreshToken={a;b}")
    assert looks_like_connection_string(" OrdersApiVersion = v0")
    assert not looks_like_connection_string("SELECT a = 1 FROM t")
    assert not looks_like_connection_string("select count(*) from orders")
    assert not looks_like_connection_string(".mode csv")
