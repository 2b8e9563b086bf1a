"""The shell with credentials and history: wrong credentials are refused at once, and no secret is kept in the
history or shown; on a real terminal its default display fits 80 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from cli_helpers import assert_one_line_error, run

from sqlspapi.interfaces.shell import SPAPIShell

# ---------------------------------------------------------------- credentials and history: no secret kept or shown

EMULATOR = {"orders": 50, "time_scale": 1.0}  # for the ``emu`` fixture of conftest.py
WRONG_SECRET = "SEKRET-wrong-client-secret"
WRONG_REFRESH = "Atzr|SEKRET-wrong-refresh-token"


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
