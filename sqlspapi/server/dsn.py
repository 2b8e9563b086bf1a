"""``sqlspapi dsn``: connection settings for BI tools, rendered from the templates in ``dsn-templates/``.

``sqlspapi dsn --host H --port P --user U [--name N] [--format odbc.ini|odbcinst.ini|dsn|pyodbc|psql|jdbc|all]``
prints an odbc.ini data source, the odbcinst.ini driver entry (unixODBC on Linux/macOS), a Windows file DSN, or
connection strings for pyodbc, psql and JDBC, all pointing at a running ``sqlspapi serve``. The psqlODBC options
in them are explained in docs/bi-tools.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from string import Template

FORMATS = {"odbcinst.ini": "odbcinst.ini", "odbc.ini": "odbc.ini", "dsn": "sqlspapi.dsn", "pyodbc": "pyodbc.txt",
           "psql": "psql.txt", "jdbc": "jdbc.txt"}
DRIVER_PATHS = ("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so", "/usr/lib/aarch64-linux-gnu/odbc/psqlodbcw.so",
                "/usr/lib64/psqlodbcw.so", "/usr/lib/psqlodbcw.so", "/opt/homebrew/lib/psqlodbcw.so",
                "/usr/local/lib/psqlodbcw.so")
TEMPLATES_ENV = "SQLSPAPI_DSN_TEMPLATES"


def templates_dir() -> Path:
    """Where the templates are: ``$SQLSPAPI_DSN_TEMPLATES``, the checkout's ``dsn-templates/``, or share/."""
    candidates = [Path(os.environ[TEMPLATES_ENV])] if os.environ.get(TEMPLATES_ENV) else []
    candidates += [Path(__file__).resolve().parents[1] / "dsn_templates",  # installed: package data
                   Path(__file__).resolve().parents[2] / "dsn-templates",
                   Path(sys.prefix) / "share" / "sqlspapi" / "dsn-templates"]
    for path in candidates:
        if (path / "odbc.ini").is_file():
            return path
    raise FileNotFoundError(f"the DSN templates were not found (looked in {', '.join(map(str, candidates))}); "
                            f"set {TEMPLATES_ENV} to the dsn-templates folder of the sqlspapi source")


def driver_path() -> str:
    """The psqlODBC Unicode driver library on this machine (the Debian path when none is found)."""
    return next((p for p in DRIVER_PATHS if Path(p).is_file()), DRIVER_PATHS[0])


def render(fmt: str, *, host: str = "127.0.0.1", port: int = 5433, user: str = "sqlspapi", name: str = "sqlspapi",
           database: str = "main", sslmode: str | None = None, driver_name: str = "PostgreSQL Unicode",
           driver: str | None = None, folder: Path | None = None) -> str:
    """One template filled in. ``sslmode`` defaults to ``disable`` on loopback and ``require`` elsewhere."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)} or all")
    if sslmode is None:
        sslmode = "disable" if host in ("127.0.0.1", "localhost", "::1") else "require"
    text = ((folder or templates_dir()) / FORMATS[fmt]).read_text(encoding="utf-8")
    return Template(text).substitute(host=host, port=port, user=user, name=name, database=database,
                                     sslmode=sslmode, driver_name=driver_name, driver_path=driver or driver_path())


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sqlspapi dsn``; prints the chosen template(s) to stdout."""
    parser = argparse.ArgumentParser(prog="sqlspapi dsn", description="Print ODBC/JDBC/psql settings for a "
                                     "running `sqlspapi serve` (sqlspapi help bi-tools).")
    parser.add_argument("--host", default="127.0.0.1", help="bridge host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5433, help="bridge port (default 5433)")
    parser.add_argument("--user", default="sqlspapi", help="bridge user (default sqlspapi)")
    parser.add_argument("--name", default="sqlspapi", help="data source name (default sqlspapi)")
    parser.add_argument("--database", default="main", help="database name sent at login (default main)")
    parser.add_argument("--sslmode", help="disable|prefer|require|verify-full (default: disable on loopback, "
                                          "else require)")
    parser.add_argument("--driver", help="psqlODBC library path for odbcinst.ini (default: found on this machine)")
    parser.add_argument("--format", default="odbc.ini", choices=[*FORMATS, "all"], help="what to print")
    args = parser.parse_args(argv)
    try:
        formats = list(FORMATS) if args.format == "all" else [args.format]
        for index, fmt in enumerate(formats):
            if len(formats) > 1:
                print(("\n" if index else "") + f"# ---- {fmt} " + "-" * 40)
            print(render(fmt, host=args.host, port=args.port, user=args.user, name=args.name,
                         database=args.database, sslmode=args.sslmode, driver=args.driver).rstrip("\n"))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
