"""The ``sqlspapi`` command (run as a real subprocess) and the shell driven through its command API."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sqlspapi.engine import open_database
from sqlspapi.interfaces.cli import main
from sqlspapi.interfaces.display import format_table
from sqlspapi.interfaces.shell import SPAPIShell

SCRIPT = Path(sys.executable).parent / "sqlspapi"
COUNT_SQL = "SELECT count(*) AS n FROM marketplaces"


def run(*args: str, env: dict[str, str] | None = None, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "sqlspapi"]
    environment = {key: value for key, value in os.environ.items() if key != "SQLSPAPI_CONNECTION_STRING"}
    environment.update(env or {})
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, env=environment, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The error is its one-line message on stderr: no traceback, nothing else."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_message_only(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The error is the exception's message and nothing else (MissingFilterError adds an example SQL line)."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr
    return result.stderr.strip()


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


# ---------------------------------------------------------------- the shell, in process


@pytest.fixture
def shell():
    database = open_database(demo=True)
    out, err = io.StringIO(), io.StringIO()
    sh = SPAPIShell(database, stdout=out, stderr=err)
    yield sh, out, err
    sh.database.close()


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


# ---------------------------------------------------------------- credentials and history: no secret kept or shown

WRONG_SECRET = "SEKRET-wrong-client-secret"
WRONG_REFRESH = "Atzr|SEKRET-wrong-refresh-token"


@pytest.fixture(scope="module")
def emu():
    from sqlspapi import emulator

    with emulator.start(orders=50) as running:
        yield running


def connstr_for(emu, **keys: str) -> str:
    from sqlspapi.settings.connstr import format_connection_string, parse

    return format_connection_string({**parse(emu.connection_string()).given, "RetryWaitTimeMs": "1", **keys})


@pytest.mark.parametrize(("keys", "message"), [
    ({"ClientSecret": WRONG_SECRET}, "LWA rejected ClientId/ClientSecret"),
    ({"RefreshToken": WRONG_REFRESH}, "LWA rejected RefreshToken"),
])
def test_shell_open_checks_the_credentials_at_once(shell, emu, keys, message):
    from sqlspapi.errors import AuthError
    from sqlspapi.http.runtime import reset_runtimes

    reset_runtimes()  # as a new process: no access token held for the emulator's account yet
    sh, out, _ = shell
    old = sh.database
    out.truncate(0), out.seek(0)
    with pytest.raises(AuthError) as info:
        sh.process_command(f'.open "{connstr_for(emu, **keys)}"')
    assert message in str(info.value)
    assert "SEKRET" not in str(info.value) and "SEKRET" not in repr(info.value)
    assert "Connected" not in out.getvalue()
    assert sh.database is old  # still usable on the previous account
    sh.process_sql("SELECT count(*) FROM marketplaces")
    sh.process_command(f'.open "{connstr_for(emu)}"')
    assert sh.database.settings.endpoint == emu.url and "Connected to" in out.getvalue()


def test_shell_command_line_checks_the_credentials(emu):
    result = run("shell", connstr_for(emu, ClientSecret=WRONG_SECRET), ".tables")
    line = assert_one_line_error(result)
    assert "LWA rejected ClientId/ClientSecret" in line and "SEKRET" not in line
    assert "Connected" not in result.stdout


def test_shell_open_does_not_echo_a_file_name_or_pasted_secret(shell):
    sh, _, _ = shell
    with pytest.raises(SPAPIShell.Error, match="not a connection string") as info:
        sh.process_command(".open Atzr|SEKRET-pasted-alone")
    assert "SEKRET" not in str(info.value)


def pty_session(lines: list[str], env: dict[str, str], columns: int = 0) -> str:
    """Run ``sqlspapi shell --demo`` on a pseudo-terminal (so readline and its history are live; ``columns`` wide
    when given), type ``lines`` (each after a prompt), end with Ctrl-D; return what the terminal showed."""
    import pty  # noqa: F401 - POSIX only; the import skips nothing but documents the need
    import select

    master, slave = os.openpty()
    if columns:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "sqlspapi", "shell", "--demo"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    shown = b""

    def read_until_prompts(count: int) -> None:
        nonlocal shown
        while shown.count(b"sqlspapi> ") < count:
            ready, _, _ = select.select([master], [], [], 120)
            assert ready, f"the shell stopped answering: {shown.decode(errors='replace')}"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the shell exited
                chunk = b""
            assert chunk, f"the shell exited early: {shown.decode(errors='replace')}"
            shown += chunk

    try:
        read_until_prompts(1)
        for number, line in enumerate(lines, start=2):
            os.write(master, line.encode() + b"\r")
            read_until_prompts(number)
        os.write(master, b"\x04")
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return shown.decode(errors="replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_shell_history_keeps_no_secret(tmp_path, emu):
    from sqlspapi import emulator

    history = tmp_path / ".sqlspapi_history"
    history.write_text('.open "ClientId=x;ClientSecret=SEKRET-from-an-older-version;Region=eu"\n')
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb"}
    env.pop("SQLSPAPI_CONNECTION_STRING", None)
    good = connstr_for(emu)
    wrong = connstr_for(emu, ClientSecret=WRONG_SECRET, RefreshToken=WRONG_REFRESH)
    shown = pty_session([
        f'.open "{good}"',
        "SELECT count(*) FROM marketplaces;",
        f'.open "{wrong}"',
        f".open ClientId=a;client_secret={{SEKRET;braced}};refresh_token={WRONG_REFRESH};TokenUrl={emu.token_url}",
    ], env)
    assert "Connected to " + emu.url in shown
    assert "LWA rejected" in shown

    lines = history.read_text().splitlines()
    text = "\n".join(lines)
    for secret in (emulator.DEMO_CLIENT_SECRET, emulator.DEMO_REFRESH_TOKEN, "SEKRET"):
        assert secret not in text, text
    assert any(line.startswith(".open ") and "ClientSecret=***" in line and "RefreshToken=***" in line
               and f"Endpoint={emu.url}" in line for line in lines), text
    assert "SELECT count(*) FROM marketplaces;" in lines
    assert f".open ClientId=a;client_secret={{***}};refresh_token=***;TokenUrl={emu.token_url}" in lines
    assert '.open "ClientId=x;ClientSecret=***;Region=eu"' in lines


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_shell_default_display_fits_an_80_column_terminal(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb"}
    env.pop("SQLSPAPI_CONNECTION_STRING", None)
    shown = ANSI.sub("", pty_session([
        "SELECT * FROM orders LIMIT 3;",
        "SELECT orderId, fulfillment_fulfillmentStatus, proceeds_grandTotal_amount FROM orders LIMIT 3;",
        "SELECT orderId, packages FROM orders LIMIT 3;",
    ], env, columns=80)).replace("\r\n", "\n")
    wide, narrow, long_values = [part.split("\n", 1)[1] for part in shown.split("sqlspapi> ")[1:4]]
    assert "can't be fit" not in shown
    for part in (wide, narrow, long_values):
        assert all(len(line) <= 80 for line in part.splitlines()), part

    # 30 columns do not fit across 80: each row shows vertically, each column name whole on its line
    names = [line.split(" │ ")[0].strip() for line in wide.splitlines() if " │ " in line]
    assert wide.count("[ row ") == 3 and len(names) == 3 * 28  # SELECT * has 28 visible columns
    assert "orderId" in names and "fulfillment_deliverByWindow_earliestDateTime" in names

    # a few columns: a table, each header whole on one line
    header = next(line for line in narrow.splitlines() if "orderId" in line)
    for name in ("orderId", "fulfillment_fulfillmentStatus", "proceeds_grandTotal_amount"):
        assert name in header
    assert narrow.count("│") >= 4 * 4

    # a long JSON value is cut with an ellipsis instead of wrapping the table
    assert "…" in long_values and "[ row " not in long_values


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
