"""The ``sqlspapi`` command: ``shell``, ``query``, ``emulator``, ``serve``, ``dsn``, ``authorize``, ``sync``, ``docs``,
``help`` and ``version``.

``query`` runs each statement of its SQL in turn and prints one result per statement that returns columns (see
:func:`sqlspapi.interfaces.results.write_results` for the shapes); ``help [TOPIC]`` prints the documentation
installed with the package.

The connection string comes from the command line, else from ``$SQLSPAPI_CONNECTION_STRING``; ``--demo``
uses the built-in emulator (a connection string given with ``--demo`` adds keys: ``OrdersApiVersion=v0``).
Errors print as one line on standard error with exit status 1 (2 for a usage error); ``--debug`` shows the
traceback and the driver's log.

    sqlspapi query --demo "SELECT count(*) FROM marketplaces" --format json
    sqlspapi shell "ClientId=...;ClientSecret=...;RefreshToken=...;Region=eu"
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from sqlspapi import __version__
from sqlspapi.errors import ConnectionStringError, Error
from sqlspapi.interfaces.helpdocs import doc_topics, docs_root, run_docs, run_help
from sqlspapi.interfaces.results import run_statements, write_results

ENV_VAR = "SQLSPAPI_CONNECTION_STRING"
"""The environment variable holding the connection string when none is given on the command line."""

_CONNSTR = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_-]*\s*=")
_SHELL_VALUE_OPTIONS = {"separator", "nullvalue", "encoding", "init"}
_DELEGATES = {
    "emulator": ("sqlspapi.emulator", "the SP-API emulator"),
    "serve": ("sqlspapi.server", "the PostgreSQL bridge"),
    "dsn": ("sqlspapi.server.dsn", "the ODBC DSN helper"),
}


def looks_like_connection_string(text: str) -> bool:
    """True when ``text`` starts like ``Key=...`` (so it is not SQL nor a dot-command)."""
    return bool(_CONNSTR.match(text)) and not text.lstrip().startswith(".")


class _Usage(Exception):
    """A usage error found after argparse (exit status 2)."""


# ---------------------------------------------------------------- opening a database


def _open(connection_string: str | None, demo: bool, err: TextIO) -> Any:
    """Open the Database for a command and print its notices (e.g. Orders v0 deprecation) once."""
    if connection_string is None and not demo:
        connection_string = os.environ.get(ENV_VAR) or None
        if connection_string is None:
            raise ConnectionStringError(
                f"no connection string: give one (\"ClientId=...;ClientSecret=...;RefreshToken=...\"), "
                f"set {ENV_VAR}, or use --demo for the built-in emulator (sqlspapi help connection-string)"
            )
    from sqlspapi.engine import open_database

    database = open_database(connection_string, demo=demo)
    for notice in (*(getattr(database.settings, "notices", ()) or ()), *database.take_connect_notices()):
        print(f"notice: {notice}", file=err)
    return database


# ---------------------------------------------------------------- query


def _cmd_query(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if len(args.text) == 2:
        connection_string, sql = args.text
    elif len(args.text) == 1:
        connection_string, sql = None, args.text[0]
    else:
        raise _Usage("query takes [CONNSTR] \"SQL\"")
    from sqlspapi.interfaces import dbapi
    from sqlspapi.interfaces.progressbar import TqdmProgress

    terminal = hasattr(err, "isatty") and err.isatty()
    with dbapi.Connection(_open(connection_string, args.demo, err),
                          progress=TqdmProgress(err) if terminal else None) as connection, \
            warnings.catch_warnings():
        # the statement's notices (a default window, restricted columns, unreadable report cells) as the shell
        # prints them: "note: …" lines, not Python's warning format with a source line
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *_args, **_kw: err.write(f"note: {message}\n")
        results = run_statements(connection, sql)
        if results:
            write_results(out, results, fmt=args.format)
        if args.calls:
            from sqlspapi.interfaces.display import format_calls

            err.write(format_calls(connection.last_calls()))
    return 0


# ---------------------------------------------------------------- shell


def _split_shell_args(items: list[str]) -> tuple[list[str], list[str]]:
    """APSW shell options (``-csv``, ``-header``, ``-separator X``...) and the SQL/dot-commands after them."""
    options: list[str] = []
    index = 0
    while index < len(items) and items[index].startswith("-") and items[index] not in ("-", "--"):
        name = items[index].lstrip("-")
        options.append(items[index])
        if name in _SHELL_VALUE_OPTIONS and index + 1 < len(items):
            options.append(items[index + 1])
            index += 1
        index += 1
    return options, items[index:]


def _cmd_shell(items: list[str], out: TextIO, err: TextIO, stdin: TextIO | None = None) -> int:
    demo = "--demo" in items
    items = [item for item in items if item not in ("--demo", "--debug")]
    connection_string = None
    if items and looks_like_connection_string(items[0]):
        connection_string = items.pop(0)
    options, commands = _split_shell_args(items)
    from sqlspapi.interfaces.shell import SPAPIShell, check_credentials

    database = _open(connection_string, demo, err)
    try:
        check_credentials(database)  # a wrong secret fails here, before the banner says "Connected"
    except BaseException:
        database.close()
        raise
    shell = SPAPIShell(database, stdin=stdin, stdout=out, stderr=err)
    status = 0
    try:
        if options:
            shell.process_args(options)
        if not commands:
            shell.cmdloop()
            return 1 if shell.errors and not shell.interactive else 0
        for command in commands:
            try:
                shell.process_complete_line(command)
            except Exception:
                status = 1
                shell._input_descriptions = []  # the message alone, without "At Line 0 : <stdin>"
                shell.handle_exception()  # prints the message; re-raises under -bail
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except Exception:
        return 1
    finally:
        shell.database.close()
    return status


# ---------------------------------------------------------------- delegates


def _delegate(name: str, argv: list[str]) -> int:
    module_name, what = _DELEGATES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"error: {what} (sqlspapi {name}) is not available in this installation", file=sys.stderr)
            return 1
        raise
    entry = getattr(module, "main", None)
    if entry is None:
        print(f"error: {what} (sqlspapi {name}) is not available in this installation", file=sys.stderr)
        return 1
    result = entry(argv)
    return result if isinstance(result, int) else 0


# ---------------------------------------------------------------- argument parsing


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``sqlspapi`` (``shell`` and the delegates parse their own arguments)."""
    parser = argparse.ArgumentParser(
        prog="sqlspapi",
        description="SQL over the Amazon Selling Partner API.",
        epilog=f"The connection string may also come from ${ENV_VAR}. Use --demo for the built-in emulator.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and the driver's log")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    shell = commands.add_parser(
        "shell", help="interactive SQL shell", add_help=False,
        usage="sqlspapi shell [CONNSTR | --demo] [SHELL-OPTIONS] [SQL or .command ...]",
        description="The interactive shell: APSW's SQLite shell with .calls, .explain and .open CONNSTR. "
        "--demo uses the built-in emulator; without CONNSTR the connection string comes from "
        f"${ENV_VAR}. SHELL-OPTIONS are the SQLite shell's (-csv, -header, -line, -separator X, -bail, "
        "...; '.mode json' for JSON). SQL and dot-commands given after them run in order instead of the "
        "interactive loop.",
    )
    shell.add_argument("args", nargs="*", help=argparse.SUPPRESS)

    query = commands.add_parser(
        "query", help="run one SQL statement and print the result",
        usage='sqlspapi query [CONNSTR | --demo] "SQL" [--format table|csv|json] [--calls]',
        description="Runs the statements of SQL in order and prints the result of each one that returns columns. "
        "table/csv: each result with its header, a blank line between results. json: an array of objects (JSON "
        "columns as JSON, BOOLEAN columns as true/false); with several results, an array of those arrays.",
    )
    query.add_argument("text", nargs="+", metavar="[CONNSTR] SQL", help="[a connection string,] then SQL")
    query.add_argument("--demo", action="store_true", help="use the built-in emulator")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    query.add_argument("--calls", action="store_true", help="print the SP-API calls made to standard error")
    query.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    for name, (_, what) in _DELEGATES.items():
        commands.add_parser(name, help=f"{what} (see 'sqlspapi {name} --help')", add_help=False)
    docs = commands.add_parser("docs", help="generate the table reference (docs/tables) from the definitions",
                               usage="sqlspapi docs [--check] [--out DIR]")
    docs.add_argument("--check", action="store_true", help="only list stale pages (exit status 1 when any)")
    docs.add_argument("--out", metavar="DIR", default=None, help="output folder (default: the checkout's docs/tables)")
    for name, (module, what, description) in _MODULE_COMMANDS.items():
        importlib.import_module(module).add_arguments(commands.add_parser(name, help=what, description=description))
    help_ = commands.add_parser("help", help="print the documentation of a topic (without TOPIC: list the topics)",
                                usage="sqlspapi help [TOPIC]",
                                description="The documentation installed with sqlspapi: getting-started, "
                                "connection-string, tables (the index), tables/orders-2026-01-01, ...")
    help_.add_argument("topic", nargs="?", default=None, metavar="TOPIC")
    commands.add_parser("version", help="print the version")
    return parser


#: Commands whose module has ``add_arguments(parser)`` and ``run_command(args, out, err)``: name → (module, help,
#: description).
_MODULE_COMMANDS = {
    "authorize": ("sqlspapi.interfaces.authorize", "get a seller's refresh token through the website authorization "
                  "flow", "Opens the app's Seller Central consent page, receives the redirect on 127.0.0.1 and "
                  "stores the refresh token in a credentials file (or prints it with --print). See 'sqlspapi help "
                  "authorize'."),
    "rotate-secret": ("sqlspapi.interfaces.rotate", "rotate the app's LWA client secret and store the new one",
                      "Asks Amazon for a new LWA client secret, receives it from the app's SQS queue "
                      "(RotationQueueUrl), verifies it and stores it where ClientSecret came from. See 'sqlspapi "
                      "help rotate-secret'."),
    "sync": ("sqlspapi.interfaces.sync_command", "mirror tables into DuckDB, PostgreSQL or any dlt destination",
             "Reads each table incrementally (its cursor, an overlap re-read for late changes), merges on its key per "
             "account and prints a summary. History comes through the order report where one exists. See 'sqlspapi "
             "help sync'."),
}


def _shell_help(parser: argparse.ArgumentParser) -> str:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["shell"].format_help()
    return ""


def _run(argv: list[str], out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    head = 1 if argv[:1] == ["--debug"] else 0
    command = argv[head] if len(argv) > head else None
    if command in _DELEGATES:
        return _delegate(command, argv[head + 1 :])
    if command == "shell":
        rest = argv[head + 1 :]
        if rest[:1] in (["-h"], ["--help"]):
            out.write(_shell_help(parser))
            return 0
        return _cmd_shell(rest, out, err)
    args = parser.parse_args(argv)
    if args.command == "query":
        return _cmd_query(args, out, err)
    if args.command == "docs":
        return run_docs(args, out, err)
    if args.command == "help":
        return run_help(args, out, err)
    if args.command in _MODULE_COMMANDS:
        return int(importlib.import_module(_MODULE_COMMANDS[args.command][0]).run_command(args, out, err))
    if args.command == "version":
        import apsw

        versions = f"SQLite {apsw.sqlite_lib_version()}, APSW {apsw.apsw_version()}"
        out.write(f"sqlspapi {__version__} ({versions})\n")
        return 0
    parser.print_help(err)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sqlspapi`` command line; returns the exit status (0 ok, 1 error, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logger = logging.getLogger("sqlspapi")
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    elif not logger.handlers:
        logger.addHandler(logging.NullHandler())  # notices are printed once by the CLI itself
    out, err = sys.stdout, sys.stderr
    try:
        return _run(argv, out, err)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    except BrokenPipeError:
        return 1
    except _Usage as exc:
        print(f"usage error: {exc}", file=err)
        return 2
    except Exception as exc:  # every error becomes one line unless --debug
        if debug:
            traceback.print_exc(file=err)
        if isinstance(exc, Error):
            print(f"error: {exc}", file=err)
        else:
            print(f"error: {type(exc).__name__}: {exc}", file=err)
        return 1


__all__ = ["main", "build_parser", "doc_topics", "docs_root", "looks_like_connection_string", "ENV_VAR"]

if __name__ == "__main__":  # python -m sqlspapi.interfaces.cli docs
    sys.exit(main())
