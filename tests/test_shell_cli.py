"""The ``sqlspapi`` command, run as a real subprocess: ``query`` in each format, its errors as one line, ``help``
and ``version``, the shell with trailing commands, notes on stderr, and the docs it ships."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_helpers import COUNT_SQL, SCRIPT, assert_message_only, assert_one_line_error, run

from sqlspapi.interfaces.cli import main

# ---------------------------------------------------------------- query, as a subprocess


@pytest.fixture(scope="module")
def marketplace_count() -> int:
    from sqlspapi.interfaces import dbapi

    with dbapi.connect(demo=True) as connection:
        return connection.cursor().execute(COUNT_SQL).fetchone()[0]


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed (pip install -e .)")
def test_console_script_table_format(marketplace_count):
    result = run("query", "--demo", COUNT_SQL, script=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "n"
    assert set(lines[1].strip()) == {"-"}
    assert lines[2].strip() == str(marketplace_count)


def test_query_csv(marketplace_count):
    result = run("query", "--demo", COUNT_SQL, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [["n"], [str(marketplace_count)]]


def test_query_json(marketplace_count):
    result = run("query", "--demo", "SELECT marketplace_id, participation_isParticipating FROM marketplaces",
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == marketplace_count
    assert {"marketplace_id": "ATVPDKIKX0DER", "participation_isParticipating": True} in records


def test_query_json_writes_json_columns_as_json():
    result = run("query", "--demo", "SELECT orderId, programs, packages, proceeds_grandTotal_amount AS total "
                 "FROM orders LIMIT 5", "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 5
    for record in records:
        assert isinstance(record["orderId"], str) and isinstance(record["total"], int | float)
        assert record["programs"] is None or isinstance(record["programs"], list)
        assert isinstance(record["packages"], list)  # not a string holding JSON
    assert any(record["packages"] and isinstance(record["packages"][0], dict) for record in records)


@pytest.mark.parametrize(("fmt", "expected"), [
    ("json", [[{"a": 1}], [{"b": "two"}, {"b": "three"}]]),
    ("csv", "a\n1\n\nb\ntwo\nthree\n"),
    ("table", "a\n-\n1\n\nb\n-----\ntwo\nthree\n"),
])
def test_query_several_statements_print_several_results(fmt, expected):
    sql = "SELECT 1 AS a; CREATE TEMP TABLE t(b); INSERT INTO t VALUES ('two'), ('three'); SELECT b FROM t"
    result = run("query", "--demo", sql, "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert (json.loads(result.stdout) if fmt == "json" else result.stdout) == expected


def test_query_one_statement_json_is_one_array():
    result = run("query", "--demo", "SELECT 1 AS a; ", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"a": 1}]


def test_query_unknown_column_names_the_version_and_the_closest_column():
    line = assert_one_line_error(run("query", "--demo", "SELECT AmazonOrderId FROM orders LIMIT 1"))
    assert line == ("error: orders has no column AmazonOrderId in Orders 2026-01-01; it is an Orders v0 column: "
                    "use orderId, or OrdersApiVersion=v0")
    result = run("query", "--demo", "OrdersApiVersion=v0", "SELECT orderId FROM orders")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]  # after the v0 deprecation notice
    assert "Orders v0" in line and "Orders 2026-01-01 column" in line and "use AmazonOrderId" in line
    line = assert_one_line_error(run("query", "--demo", "SELECT o.fulfilmentStatus FROM orders o"))
    assert line == "error: no such column: o.fulfilmentStatus; did you mean fulfillment_fulfillmentStatus?"


def test_help_lists_and_prints_the_installed_docs():
    result = run("help")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split()
    for topic in ("getting-started", "connection-string", "tables", "tables/orders-2026-01-01"):
        assert topic in listed
    result = run("help", "connection-string")
    assert result.returncode == 0 and result.stdout.startswith("# Connection strings")
    result = run("help", "orders-v0")  # tables/ may be left out
    assert result.returncode == 0 and "# Orders (v0)" in result.stdout
    result = run("help", "no-such-topic")
    assert result.returncode == 1 and "no topic" in result.stderr and "sqlspapi help" in result.stderr


def test_query_zero_rows_keeps_header():
    result = run("query", "--demo", "SELECT marketplace_id FROM marketplaces WHERE 0", "--format", "csv")
    assert result.returncode == 0 and result.stdout == "marketplace_id\n"
    result = run("query", "--demo", "SELECT marketplace_id FROM marketplaces WHERE 0", "--format", "json")
    assert json.loads(result.stdout) == []


def test_query_calls_go_to_stderr():
    result = run("query", "--demo", COUNT_SQL, "--calls")
    assert result.returncode == 0, result.stderr
    assert "getMarketplaceParticipations" in result.stderr
    assert "throttle wait ms" in result.stderr
    assert "getMarketplaceParticipations" not in result.stdout


def test_query_connection_string_from_environment():
    from sqlspapi import emulator

    with emulator.start(orders=20) as emu:
        result = run("query", COUNT_SQL, "--format", "csv",
                     env={"SQLSPAPI_CONNECTION_STRING": emu.connection_string()})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "n"


def test_query_orders_v0_prints_the_notice_once():
    result = run("query", "--demo", "OrdersApiVersion=v0", "SELECT 1 AS one", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\n1\n"
    assert result.stderr.count("deprecated") == 1


def test_sql_error_is_one_line():
    line = assert_one_line_error(run("query", "--demo", "SELEC 1"))
    assert "syntax error" in line


def test_missing_filter_is_the_message():
    text = assert_message_only(run("query", "--demo", "SELECT * FROM order_items"))
    assert text.startswith("error: order_items needs orderId")
    assert len(text.splitlines()) == 2 and "e.g. SELECT" in text.splitlines()[1]


def test_bad_connection_string_is_one_line():
    line = assert_one_line_error(run("query", "ClientId=abc;NoSuchKey=1", COUNT_SQL))
    assert "NoSuchKey" in line


def test_no_connection_string_is_one_line():
    line = assert_one_line_error(run("query", COUNT_SQL))
    assert "SQLSPAPI_CONNECTION_STRING" in line and "--demo" in line


def test_usage_error_exit_code_2():
    result = run("query", "--demo", COUNT_SQL, "--format", "xml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = run("query", "--demo", "A=1", "B=2", COUNT_SQL)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_version_and_help():
    result = run("version")
    assert result.returncode == 0 and result.stdout.startswith("sqlspapi ")
    result = run("--help")
    assert result.returncode == 0
    for command in ("shell", "query", "emulator", "serve", "dsn", "version"):
        assert command in result.stdout


def test_shell_with_trailing_commands():
    result = run("shell", "--demo", "-csv", "-header", ".tables", COUNT_SQL, ".calls")
    assert result.returncode == 0, result.stderr
    assert "marketplaces" in result.stdout and "orders" in result.stdout
    assert "n\r\n" in result.stdout or "n\n" in result.stdout
    assert "getMarketplaceParticipations" in result.stdout


def test_shell_error_in_trailing_command_is_the_message():
    text = assert_message_only(run("shell", "--demo", "SELECT * FROM order_items"))
    assert text.startswith("order_items needs orderId") and "e.g. SELECT" in text


def test_main_in_process_returns_codes(capsys):
    assert main(["query", "--demo", "SELECT 7 AS seven", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"seven": 7}]
    assert main(["query", "--demo", "SELEC"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_every_doc_is_package_data_of_the_wheel():
    """`sqlspapi help` reads the docs installed as the sqlspapi.docs package (checked by hand: `pip install .` in a
    fresh venv ships docs/ and docs/tables/); here: pyproject maps docs/ there and its globs cover every page."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "sqlspapi.docs" in config["packages"] and config["package-dir"]["sqlspapi.docs"] == "docs"
    globs = config["package-data"]["sqlspapi.docs"]
    pages = [path.relative_to(root / "docs").as_posix() for path in (root / "docs").rglob("*.md")]
    assert pages and all(any(fnmatch.fnmatch(page, glob) and page.count("/") == glob.count("/") for glob in globs)
                         for page in pages), pages


def test_shell_says_when_a_default_window_applied_and_wrapped_bounds_reach_the_api() -> None:
    result = run("shell", "--demo", "SELECT count(*) FROM orders",
                 "SELECT count(*) FROM orders WHERE date(createdTime) >= date('now', '-60 days')",
                 "SELECT count(*) FROM orders WHERE createdTime >= date('now', '-60 days')")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "last 30 days (LookbackDays=30)" in notes[0] and "LookbackDays=all" in notes[0]
    counts = [line for line in result.stdout.split() if line.isdigit()]
    assert len(counts) == 3 and counts[1] == counts[2] and int(counts[1]) >= int(counts[0])


def test_query_prints_notices_as_note_lines() -> None:
    result = run("query", "--demo", "SELECT count(*) FROM orders")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "last 30 days (LookbackDays=30)" in notes[0]
    assert "Warning" not in result.stderr and ".py:" not in result.stderr
