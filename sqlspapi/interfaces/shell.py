"""The interactive sqlspapi shell: APSW's SQLite shell over a :class:`~sqlspapi.engine.Database`.

Everything the APSW shell does works (``.tables``, ``.schema``, ``.mode``, ``EXPLAIN QUERY PLAN`` ...), plus:

* ``.calls`` — the SP-API calls of the last SQL statement (operation, params, status, time, throttle wait);
* ``.explain SQL`` — the calls a statement would make, without running it;
* ``.open CONNSTR`` / ``.open --demo`` — switch to another account (or the emulator); a file name is refused.
  The credentials are checked at once (an LWA token request), so a wrong secret fails here, naming the key.

The line history (``~/.sqlspapi_history``, kept by readline) never holds a secret: each line read is stored with
the values of secret keys replaced by ``***`` (:func:`~sqlspapi.settings.connstr.redact_secrets`), and lines
already in the history (from older versions) are redacted too before it is written back.

On a terminal, results show in the ``auto`` mode (:meth:`SPAPIShell.output_auto`): a box table when the columns fit
the terminal's width (long text cut with ``…``), else each row as ``column │ value`` lines; ``.mode box`` falls back
to the same vertical display instead of failing. The commands of :data:`UNAVAILABLE` (``.dump``, ``.find``,
``.backup`` ...: whole-database or database-file commands) are not in ``.help`` and say why when typed. "no such
column" errors name the closest column or the API version that has it (:func:`sqlspapi.interfaces.hints.hint`).

Each SQL statement starts a new statement in the call log, so ``.calls`` always describes the last one. Errors
show as their message (sqlspapi's messages are one line, plus an example SQL line for a missing filter), never
as a traceback (``.exceptions on`` shows details).
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import textwrap
from typing import Any, TextIO

import apsw
import apsw.shell
import apsw.unicode

from sqlspapi import __version__
from sqlspapi.interfaces.display import format_calls
from sqlspapi.interfaces.hints import hint
from sqlspapi.interfaces.progressbar import TqdmProgress
from sqlspapi.interfaces.shell_output import FittedOutput
from sqlspapi.settings.connstr import redact_secrets

UNAVAILABLE = {
    "dump": "it would read every row of every table, a scan of every SP-API endpoint (most of them refuse to run "
            "without a filter). Save what you need instead: ATTACH 'file.db' AS local; CREATE TABLE local.t AS "
            "SELECT ... WHERE ...; or .mode insert TABLE then the SELECT",
    "find": "it would search every column of every table, a scan of every SP-API endpoint. Query the table you "
            "mean with a filter: SELECT ... FROM orders WHERE ...",
    "backup": "the tables hold no data: their rows live in SP-API and are fetched per query. To keep results: "
              "ATTACH 'file.db' AS local; CREATE TABLE local.t AS SELECT ...",
    "restore": "the tables are SP-API's; a database file cannot replace them (ATTACH 'file.db' AS local reads one)",
    "close": "it would leave the shell without its SP-API tables: .open switches account, .exit leaves",
    "connection": "the shell has one connection, to the SP-API account (.open switches account)",
    "dbinfo": "it describes a database file; the SP-API tables are stored nowhere",
    "pages": "it describes a database file's pages; the SP-API tables are stored nowhere",
    "pages-svg": "it draws a database file's pages; the SP-API tables are stored nowhere",
    "vfsinfo": "it describes SQLite's file layer, which the SP-API tables do not use",
    "vfslist": "it describes SQLite's file layers, which the SP-API tables do not use",
    "vfsname": "it names SQLite's file layer, which the SP-API tables do not use",
}
"""APSW shell commands that do not apply to SP-API tables: refused with this reason and left out of ``.help``."""


def describe_connection(database: Any) -> str:
    """Where ``database`` sends its calls and which API versions its tables use (never a secret)."""
    settings = database.settings
    endpoint = settings.endpoint
    local = endpoint.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    where = " (a local emulator)" if local else ""
    region = getattr(settings, "region", "?")
    marketplaces = ",".join(getattr(settings, "marketplace_ids", ()) or ()) or "all participating"
    sandbox = ", sandbox" if getattr(settings, "sandbox", False) else ""
    try:
        sections = {(table.section, table.version) for table in database.tables()}  # pricing: v0 and 2022-05-01
    except Exception:
        sections = set()
    versions = ", ".join(f"{section} {version}" for section, version in sorted(sections))
    lines = [f"Connected to {endpoint}{where} (region {region}{sandbox}; marketplaces: {marketplaces})"]
    if versions:
        lines.append(f"APIs: {versions}")
    return "\n".join(lines) + "\n"


def check_credentials(database: Any) -> None:
    """Ask Login with Amazon for an access token now, so wrong credentials fail when connecting, not at the first
    query; raises AuthError naming the key to fix (ClientSecret, RefreshToken, ...).

    An access token already held for the same account (same TokenUrl, ClientId and RefreshToken: earlier in this
    process, or from TokenCache) stands in for the request, as it would for the queries.
    """
    database.check_credentials()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def redact_history() -> None:
    """Replace every line of readline's history by :func:`redact_secrets` of it (a no-op for lines without one)."""
    import readline

    for index in range(readline.get_current_history_length()):
        line = readline.get_history_item(index + 1)  # 1-based, while replace_history_item is 0-based
        if line and (safe := redact_secrets(line)) != line:
            readline.replace_history_item(index, safe)


class SPAPIShell(FittedOutput):
    """APSW's shell over a sqlspapi ``Database``, with ``.calls``, ``.explain`` and an account ``.open``.

    Drive it interactively with :meth:`cmdloop`, or programmatically with ``process_command(".tables")`` and
    ``process_sql("SELECT ...")``. ``opener(connection_string, demo)`` opens the ``Database`` for ``.open``
    (default :func:`sqlspapi.engine.open_database`).
    """

    def __init__(
        self,
        database: Any,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        opener: Any = None,
    ) -> None:
        self.database = database
        self._opener = opener
        self._bar: TqdmProgress | None = None
        self._unlisten: Any = None
        self._stopped = False  # Ctrl-C stopped a statement (not the prompt)
        self.errors = 0
        """How many errors were reported (``sqlspapi shell`` exits with status 1 when any, non-interactively)."""
        super().__init__(stdin=stdin, stdout=stdout, stderr=stderr, db=database.connection)
        self._listen(database)
        self.dbfilename = ":memory:"
        self.prompt = "sqlspapi> "
        self.moreprompt = "     ...> "
        self.history_file = "~/.sqlspapi_history"

    # -- commands that do not apply to SP-API tables

    def __dir__(self) -> list[str]:
        """APSW lists commands (``.help``, completion) from ``dir()``: the :data:`UNAVAILABLE` ones are left out."""
        hidden = {"command_" + name.replace("-", "_") for name in UNAVAILABLE}
        return [name for name in super().__dir__() if name not in hidden]

    def process_command(self, command: str) -> None:
        """Run a dot-command; the :data:`UNAVAILABLE` ones are refused with their reason."""
        name = command.split(None, 1)[0].lstrip(".") if command.strip() else ""
        if name in UNAVAILABLE:
            raise self.Error(f".{name} is not available in sqlspapi: {UNAVAILABLE[name]}.")
        super().process_command(command)

    def command_help(self, cmd: list[str]) -> None:
        """help ?COMMAND?: Shows list of commands and their usage

        If COMMAND is specified then shows detail about that COMMAND. ".help all" shows detailed help about all
        commands. Commands of SQLite's shell that do not apply to SP-API tables (.dump, .find, .backup ...) are
        not listed; ".help dump" says why.
        """
        for name in cmd:
            if name.lstrip(".") in UNAVAILABLE:
                raise self.Error(f".{name.lstrip('.')} is not available in sqlspapi: {UNAVAILABLE[name.lstrip('.')]}.")
        super().command_help(cmd)

    # -- errors

    def handle_exception(self) -> None:
        """Report the current exception as its message (APSW's behaviour) and count it."""
        if not isinstance(sys.exc_info()[1], SystemExit | KeyboardInterrupt):
            self.errors += 1
        super().handle_exception()

    def handle_interrupt(self) -> None:
        """Ctrl-C: at the prompt, APSW's behaviour; during a statement, it stopped at once — say "interrupted" and
        how many calls it made (the rate-limit token of the call it did not send was given back)."""
        stopped, self._stopped = self._stopped, False
        if not stopped or self.bail or not self.interactive:
            super().handle_interrupt()
            return
        self.db.interrupt()
        calls = len(self.database.last_calls())
        self.write(self.stderr, f"^C interrupted ({calls} SP-API call{'s' if calls != 1 else ''} made; .calls "
                                "lists them)\n")

    # -- what runs, and what the user is told

    def _listen(self, database: Any) -> None:
        """Show the database's notices (a default date window applied) as one line each, when they happen, and —
        on a terminal — the live progress of a statement running longer than a second."""
        database._on_notice = lambda message: self.write(self.stderr, self._note(str(message)))
        if self._unlisten is not None:
            self._unlisten()
        self._unlisten = None
        if _is_terminal(self.stderr) and hasattr(database, "progress"):
            self._bar = TqdmProgress(self.stderr)
            self._unlisten = database.progress.listen(self._bar)

    def write(self, dest: Any, text: str) -> None:
        """Write ``text`` (APSW's behaviour), erasing the progress line first so that output never mixes with it."""
        if self._bar is not None:
            self._bar.clear()
        super().write(dest, text)

    def _note(self, message: str) -> str:
        """A notice as the user reads it: wrapped to the terminal's width on a terminal, else one line."""
        if not _is_terminal(self.stderr):
            return f"note: {message}\n"
        width = max(40, shutil.get_terminal_size((80, 24)).columns - 1)
        return textwrap.fill(message, width, initial_indent="note: ", subsequent_indent="      ") + "\n"

    def process_sql(self, sql: str, bindings: Any = None, internal: bool = False, summary: Any = None) -> None:
        """Run ``sql`` as the database prepares it: date bounds written through wrappers (``date(col)``, casts,
        ``strftime``) also reach the API (:meth:`sqlspapi.engine.Database.prepare`)."""
        if internal:
            super().process_sql(sql, bindings, internal, summary)
            return
        sql = self.database.prepare(sql)
        try:
            super().process_sql(sql, bindings, internal, summary)
        except KeyboardInterrupt:
            self._stopped = True  # handle_interrupt (APSW calls it next) says so
            raise
        finally:
            self.database.progress.finish()  # the progress line goes away

    # -- statement boundaries

    def _query_details(self, sql: str, bindings: Any) -> Any:
        # APSW's shell runs each statement on a cursor whose exec tracer replaces the connection's (the
        # engine's begin_statement hook), so the statement boundary is marked here, once per statement, after
        # a successful prepare.
        details = super()._query_details(sql, bindings)
        if details.error_text is None and details.query and details.query.strip():
            self.database.begin_statement()
        elif details.error_text and (better := hint(self.database, details.error_text, details.query)):
            details = dataclasses.replace(details, error_text=better)  # "no such column": did you mean ...
        return details

    # -- banner

    def intro(self) -> str:
        """The banner: version, endpoint, API versions, how to get help."""
        return (
            f"sqlspapi {__version__}: SQL over the Amazon Selling Partner API "
            f"(SQLite {apsw.sqlite_lib_version()}, APSW {apsw.apsw_version()})\n"
            + describe_connection(self.database)
            + 'Enter ".help" for instructions, ".tables" to list the tables, ".schema TABLE" for its\n'
            + 'columns, ".calls" for the API calls of the last statement. End SQL statements with ";".\n'
        )

    def cmdloop(self, intro: str | None = None, transient: str | None = None) -> None:
        """Run the interactive loop, showing :meth:`intro` unless another banner is given."""
        super().cmdloop(intro=self.intro() if intro is None else intro, transient=transient)

    def get_line(self, prompt: str = "") -> str | None:
        """Read one line (APSW's behaviour); with readline, the history keeps it with its secrets redacted."""
        line = super().get_line(prompt)
        if self._using_readline:  # also at end of input: the history read from the file is written back next
            redact_history()
        return line

    # -- commands

    def command_calls(self, cmd: list[str]) -> None:
        """calls ?full?: Shows the SP-API calls the last SQL statement made

        One row per call: the operation, its parameters (shortened), the HTTP status, the time it took, the
        time spent waiting for the rate limiter, and whether it shared an identical call already in flight.
        ".calls full" lists every call with all its parameters and its request id.
        """
        if cmd not in ([], ["full"]):
            raise self.Error("Usage: .calls or .calls full")
        self.write(self.stdout, format_calls(self.database.last_calls(), full=bool(cmd)))

    def command_schema(self, cmd: list[str]) -> None:
        """schema ?TABLE? [TABLE...]: Shows the columns of tables (TABLE is a LIKE pattern)

        API tables show their columns, types and descriptions as SQLite sees them (the stored statement of a
        virtual table only names its module); other tables and views show their CREATE statement.
        """
        specs = {}
        try:
            specs = {spec.name.lower(): spec for spec in self.database.tables()}
        except Exception:  # descriptions are a nicety; the columns come from SQLite
            specs = {}
        db = self.db
        for pattern in cmd or ["%"]:
            rows = db.execute(
                "SELECT type, name, sql FROM (SELECT type, name, tbl_name, sql FROM sqlite_schema UNION ALL "
                "SELECT type, name, tbl_name, sql FROM sqlite_temp_schema) WHERE tbl_name LIKE ?1 "
                "AND sql NOTNULL AND name NOT LIKE 'sqlite_%' ORDER BY substr(type, 2, 1), name",
                (pattern,),
            ).fetchall()
            for kind, name, sql in rows:
                if kind == "table" and sql.upper().startswith("CREATE VIRTUAL TABLE"):
                    self.write(self.stdout, self._virtual_schema(name, specs.get(name.lower())))
                else:
                    self.write(self.stdout, sql + ";\n")

    def _virtual_schema(self, name: str, spec: Any) -> str:
        described = {}
        if spec is not None:
            described = {column.name.lower(): column.description for column in spec.columns}
        columns = self.db.execute("SELECT name, type, hidden FROM pragma_table_xinfo(?)", (name,)).fetchall()
        lines = []
        if spec is not None and getattr(spec, "description", ""):
            lines.append(f"-- {spec.description}")
        quoted = name if name.isidentifier() else '"' + name.replace('"', '""') + '"'
        lines.append(f"CREATE TABLE {quoted}(")
        for index, (column, sqltype, hidden) in enumerate(columns):
            text = f"  {column} {sqltype}".rstrip() + (" HIDDEN" if hidden else "")
            text += "," if index < len(columns) - 1 else ""
            description = described.get(column.lower())
            if description:
                text = f"{text.ljust(44)} -- {description}"
            lines.append(text)
        lines.append(");")
        return "\n".join(lines) + "\n"

    def command_explain(self, cmd: list[str]) -> None:
        """explain SQL: Shows the SP-API calls SQL would make, without running it

        For each table in the statement: the operation and the parameters that would be sent. Use
        EXPLAIN QUERY PLAN SQL for SQLite's own plan.
        """
        if not cmd:
            raise self.Error("Usage: .explain SELECT ...")
        for line in self.database.explain(" ".join(cmd)):
            self.write(self.stdout, line.rstrip("\n") + "\n")

    def command_open(self, cmd: list[str]) -> None:
        """open CONNSTR | --demo: Connects to another SP-API account (or the built-in emulator)

        CONNSTR is a connection string (ClientId=...;ClientSecret=...;RefreshToken=...;Region=...). Quote it
        for the shell: .open "ClientId=...;...". The tables are virtual tables over SP-API, so opening a
        database file is not supported; use ATTACH 'file.db' AS local to work with a local file alongside.
        """
        demo = "--demo" in cmd
        rest = [part for part in cmd if part != "--demo"]
        if len(rest) > 1 or (not rest and not demo):
            raise self.Error('Usage: .open "ClientId=...;ClientSecret=...;RefreshToken=..." or .open --demo')
        connection_string = rest[0] if rest else None
        if connection_string is not None and "=" not in connection_string:
            raise self.Error(  # the text itself is not repeated: it may be a secret pasted without its key
                "That is not a connection string: sqlspapi's tables live in SP-API, not in a file. Use .open "
                '"Key=Value;..." or .open --demo (ATTACH works for local files).'
            )
        opener = self._opener
        if opener is None:
            from sqlspapi.engine import open_database

            opener = open_database
        new = opener(connection_string, demo=demo)
        try:
            check_credentials(new)
        except BaseException:
            new.close()  # the previous account stays open
            raise
        old, self.database = self.database, new
        self._listen(new)
        self.db = new.connection, ":memory:"  # closes the previous connection
        self.db_references.add(new.connection)
        old.close()
        self.write(self.stdout, describe_connection(new))


__all__ = ["SPAPIShell", "UNAVAILABLE", "describe_connection", "check_credentials", "redact_history"]
