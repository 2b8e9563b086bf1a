"""``sqlspapi sync``: mirror tables into DuckDB, PostgreSQL or any dlt destination (see :mod:`sqlspapi.sync` and
docs/sync.md). Registered in :data:`sqlspapi.interfaces.cli._MODULE_COMMANDS`.

    sqlspapi sync --demo --tables orders,order_items
    sqlspapi sync "$SQLSPAPI_CONNECTION_STRING" --tables orders --destination postgres --credentials postgresql://…

Prints the summary on standard output; exit status 0, or 1 with one error line (also when an account failed: the
summary still says what the others loaded).
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from sqlspapi.errors import ConnectionStringError

__all__ = ["add_arguments", "run_command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sqlspapi sync``."""
    parser.usage = ("sqlspapi sync [CONNSTR | --demo] --tables orders,order_items [--destination duckdb|postgres|NAME] "
                    "[--credentials PATH_OR_URL] [--dataset NAME] [--since YYYY-MM-DD] [--overlap-days N] "
                    "[--backfill auto|report|api] [--pipelines-dir DIR] [--no-progress]")
    parser.add_argument("connection_string", nargs="?", default=None, metavar="CONNSTR",
                        help="the connection string (default: $SQLSPAPI_CONNECTION_STRING)")
    parser.add_argument("--demo", action="store_true", help="use the built-in emulator")
    parser.add_argument("--tables", required=True, help="tables to mirror, separated by commas")
    parser.add_argument("--destination", default="duckdb", help="duckdb (default), postgres or any dlt destination")
    parser.add_argument("--credentials", default=None, metavar="PATH_OR_URL",
                        help="the DuckDB file (default ./sqlspapi_mirror.duckdb) or the PostgreSQL URL")
    parser.add_argument("--dataset", default="sqlspapi", help="the schema the tables land in (default sqlspapi)")
    parser.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                        help="where a table's first run starts: a date, or days back (30d)")
    parser.add_argument("--overlap-days", type=float, default=None, metavar="N",
                        help="days re-read before each table's cursor (default: the table's own)")
    parser.add_argument("--backfill", choices=("auto", "report", "api"), default="auto",
                        help="history through the order report (auto, report) or paging (api)")
    parser.add_argument("--pipelines-dir", default=None, metavar="DIR",
                        help="dlt's working folder (default: sync/ in the sqlspapi cache directory)")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on standard error")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def run_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the sync and print its summary; 1 when an account failed."""
    from sqlspapi.interfaces.cli import ENV_VAR
    from sqlspapi.sync import sync

    connection_string = args.connection_string
    if connection_string is None and not args.demo:
        connection_string = os.environ.get(ENV_VAR) or None
        if connection_string is None:
            raise ConnectionStringError(f"no connection string: give one, set {ENV_VAR}, or use --demo")
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    summary = sync(connection_string, tables=tables, destination=args.destination, dataset=args.dataset,
                   credentials=args.credentials, pipelines_dir=args.pipelines_dir, demo=args.demo, since=args.since,
                   overlap_days=args.overlap_days, backfill=args.backfill,
                   progress=False if args.no_progress else None)
    out.write(summary.text())
    if summary.accounts_failed:
        names = ", ".join(repr(a) for a in summary.accounts_failed)
        err.write(f"error: account {names} failed; the others were loaded (sqlspapi sync again resumes it)\n")
        return 1
    return 0
