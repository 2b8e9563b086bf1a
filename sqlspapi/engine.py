"""Opens a sqlspapi database: an APSW connection whose tables are SP-API endpoints.

``open_database(connection_string)`` parses the connection string, picks the table definitions for the chosen
API versions, and registers one virtual table per definition in the connection's ``main`` schema (so the shell's
``.tables``/``.schema``, ``sqlite_schema`` and SQLAlchemy reflection all see them). ``demo=True`` starts the
built-in emulator once per process and connects to it. The DB-API, the shell, the CLI and the bridge server all
sit on the :class:`Database` this module returns.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import apsw

from sqlspapi.account import Account
from sqlspapi.definitions.loader import SectionSpec, TableSpec, entity_source, select_sections
from sqlspapi.errors import DefaultWindowWarning, InterfaceError
from sqlspapi.http.calllog import CallRecord
from sqlspapi.http.client import Client
from sqlspapi.http.progress import Progress
from sqlspapi.http.rotation import check_rotation
from sqlspapi.settings.accounts import expand as expand_accounts
from sqlspapi.settings.connstr import Settings, parse
from sqlspapi.sql import adhoc, cost, isotime, planner
from sqlspapi.sql.bounds import imply_bounds
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.fanout import AccountErrors, AccountSet, register_account_errors
from sqlspapi.sql.vtable import Module

log = logging.getLogger("sqlspapi")

#: Clock speed-up of the demo emulator (its usage plans run this many times faster than Amazon's).
DEMO_TIME_SCALE = 100.0

_demo_lock = threading.Lock()
_demo: Any = None  # the one demo emulator of the process (docs/internals.md, "Process-wide state")


def demo_emulator() -> Any:
    """The process-wide demo emulator, started on first use (127.0.0.1, a free port)."""
    global _demo
    with _demo_lock:
        if _demo is None:
            from sqlspapi.emulator import start

            scale = float(os.environ.get("SQLSPAPI_DEMO_TIME_SCALE", DEMO_TIME_SCALE))
            _demo = start(time_scale=scale)
            atexit.register(_demo.stop)
        return _demo


def resolve_settings(connection_string: str | None = None, *, demo: bool = False,
                     overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from a connection string (plus keyword ``overrides``, which win); with ``demo`` the emulator's
    credentials, endpoint and seller id (unless the string gives one) fill in."""
    if not demo:
        if not (connection_string and connection_string.strip()) and not overrides:
            raise InterfaceError(
                "No connection string: pass ClientId=…;ClientSecret=…;RefreshToken=…;Region=na "
                "(sqlspapi help connection-string), or use the demo emulator (--demo / demo=True).")
        return parse(connection_string or "", overrides=overrides)
    from sqlspapi.emulator.sellers import SELLER_ID

    emulator = demo_emulator()
    base = parse(connection_string or "", require_credentials=False, overrides=overrides)
    demo_keys = parse(emulator.connection_string(), require_credentials=True)
    return base.with_overrides(
        ClientId=demo_keys.client_id,
        ClientSecret=demo_keys.client_secret,
        RefreshToken=demo_keys.refresh_token,
        TokenUrl=demo_keys.token_url,
        Endpoint=demo_keys.endpoint,
        SellerId=base.seller_id or SELLER_ID,  # the demo seller's merchant token (Listings Items paths need it)
    )


class Notice(str):
    """A notice's text — a ``str``, as the shell prints it and the bridge sends it — carrying the Python warning
    category the DB-API issues it with (``DefaultWindowWarning``, ``RestrictedColumnsWarning``)."""

    category: type[Warning]

    def __new__(cls, text: str, category: type[Warning] | None = None) -> Notice:
        """``text`` with its ``category`` (None: :class:`~sqlspapi.errors.DefaultWindowWarning`)."""
        notice = super().__new__(cls, text)
        notice.category = category or DefaultWindowWarning
        return notice


class Database:
    """An open sqlspapi database: the APSW connection, its settings and its accounts (clients, statement scopes).

    An ordinary connection has one account (:attr:`client`, :attr:`scope` are its); ``Accounts=a,b,c`` gives one
    :class:`~sqlspapi.account.Account` per name, every table an ``account`` column, and an ``account_errors`` table.
    """

    def __init__(self, settings: Settings, client: Client | None = None, *, poll_scale: float | None = None) -> None:
        self.settings = settings
        #: The running statement's progress (listen to it for live progress; ``cancel()`` stops the statement).
        self.progress = Progress()
        self.progress.max_calls = settings.max_calls_per_statement
        self.sections: list[SectionSpec] = select_sections(settings.api_versions)
        self._tables: list[TableSpec] = [t for s in self.sections for t in s.tables.values()]
        self._notices: list[Notice] = []
        #: Called once per distinct notice as it happens (the faces set it: print, warn, send a NOTICE); the message
        #: is a :class:`Notice` (a ``str`` with its warning ``category``).
        self._on_notice: Callable[[str], None] = lambda message: None
        scale = poll_scale if poll_scale is not None else float(os.environ.get("SQLSPAPI_POLL_SCALE", "1"))
        entities = {t.nested.entity for t in self._tables if t.nested is not None}
        per_account = expand_accounts(settings) if settings.accounts else {None: settings}
        self._own_client = client is None
        self.accounts: list[Account] = []
        rotated: list[str] = []
        try:
            for name, account_settings in per_account.items():
                if client is not None and name is None:
                    own = client  # the bridge's shared client: its first database checked the rotation
                else:
                    # RotateSecretDaysBefore: the client secret rotated first when it is due (sqlspapi.http.rotation)
                    account_settings, notices = check_rotation(account_settings)
                    rotated += [f"account {name!r}: {n}" if name is not None else n for n in notices]
                    own = Client(account_settings)
                self.accounts.append(Account(name, account_settings, own, tables=self._tables,
                                             entity_source=self._entity_source, entities=entities, poll_scale=scale,
                                             progress=self.progress, notice=self._notice))
        except BaseException:
            self._close_clients()
            raise
        #: What connecting did that the user must hear of (the client secret rotated: RotateSecretDaysBefore): logged
        #: now, printed by the CLI, and told with the first statement's notices in every face.
        self.connect_notices: tuple[str, ...] = tuple(rotated)
        for text in self.connect_notices:
            log.warning(text)
        self._untold = list(self.connect_notices)
        first = self.accounts[0]
        self.client = first.client
        self.scope = first.scope
        self._marker = self._positions()
        #: The errors of accounts skipped with ``OnAccountError=skip`` (the ``account_errors`` table).
        self.account_errors = AccountErrors()
        # No statement cache: EXPLAIN QUERY PLAN's estimates read the rate-limit state when the statement is
        # prepared, so a cached one would show the state of its first run.
        self.connection = apsw.Connection(":memory:", statementcachesize=0)
        isotime.register(self.connection)
        context = first.context
        self._context = context
        account_set = AccountSet(self.accounts, settings.on_account_error, self.account_errors, self._notice) \
            if settings.accounts else None
        for table in self._tables:
            module = f"spapi_{table.section}_{table.name}"
            self.connection.create_module(module, Module(table, context, account_set), use_bestindex_object=True,
                                          read_only=True)
            self.connection.execute(f'CREATE VIRTUAL TABLE main."{table.name}" USING {module}()')
        if account_set is not None:
            register_account_errors(self.connection, self.account_errors)
        adhoc.register(self.connection, {t.name: t for t in self._tables}, context)
        self.connection.exec_trace = self._trace
        self._time_columns = {t.name.lower(): frozenset(c.name.lower() for c in t.columns if c.kind == "TIME")
                              for t in self._tables}

    def __repr__(self) -> str:
        return f"<sqlspapi.Database endpoint={self.settings.endpoint!r} tables={len(self._tables)}>"

    # ------------------------------------------------------------------------------------------ statements
    def _trace(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        self.begin_statement()
        return True

    def begin_statement(self) -> None:
        """A new SQL statement starts: a fresh statement scope (caches) and a mark in the call log.

        The connection's exec tracer calls it for every statement; a caller that installs its own cursor exec
        tracer (DB-API, shell, bridge) calls it there.
        """
        for account in self.accounts:
            account.scope.begin()
        self.progress.start()
        self._notices = []
        self._marker = self._positions()
        while self._untold:
            self._notice(self._untold.pop(0), UserWarning)

    def cancel(self) -> None:
        """Stop the running statement at once (thread-safe: from another thread, a signal handler, the bridge's
        CancelRequest). A statement waiting for the rate limiter stops waiting and gives its reserved token back; it
        raises :class:`~sqlspapi.errors.QueryCancelled` (or SQLite's ``InterruptError`` between API calls)."""
        self.progress.cancel()
        self.connection.interrupt()

    @contextlib.contextmanager
    def statement(self) -> Iterator[Database]:
        """``with db.statement():`` — run one statement with fresh caches; ``last_calls()`` covers it."""
        self.begin_statement()
        yield self

    def take_connect_notices(self) -> list[str]:
        """The connect notices not told yet (a face that prints them itself takes them: the first statement then does
        not repeat them)."""
        taken, self._untold = self._untold, []
        return taken

    def notices(self) -> list[Notice]:
        """What the current (or last) statement must tell the user, e.g. that a default date window applied or that
        restricted columns come back NULL.

        The shell prints them, the DB-API issues a Python warning of each notice's ``category``
        (:class:`~sqlspapi.errors.DefaultWindowWarning`, :class:`~sqlspapi.errors.RestrictedColumnsWarning`) and
        fills ``cursor.messages``, the bridge sends a PostgreSQL NOTICE.
        """
        return list(self._notices)

    def _notice(self, message: str, category: type[Warning] | None = None) -> None:
        """Record one notice of the running statement (each distinct text once) and show it (``_on_notice``)."""
        if message not in self._notices:
            notice = Notice(message, category)
            self._notices.append(notice)
            self._on_notice(notice)

    def _positions(self) -> list[Any]:
        """Each account's call log position (where the current statement's calls begin)."""
        return [account.client.calls.position() for account in self.accounts]

    def last_calls(self) -> list[CallRecord]:
        """The API calls made since the current (or last) statement began (every account's, in the order made)."""
        if len(self.accounts) == 1:
            return self.client.calls.since(self._marker[0])
        calls = [c for account, mark in zip(self.accounts, self._marker, strict=True)
                 for c in account.client.calls.since(mark)]
        return sorted(calls, key=lambda c: c.started)

    def prepare(self, sql: str) -> str:
        """``sql`` as the faces run it: date bounds written through wrappers (``date(col)``, casts, ``strftime``,
        the bridge's ``PG_TIMESTAMP``/``PG_EXTRACT``/``PG_DATE_TRUNC``) also stated on the bare column, so they reach
        the API (:mod:`sqlspapi.sql.bounds`); the answer is unchanged."""
        return imply_bounds(sql, self._time_columns)

    # ------------------------------------------------------------------------------------------ tables
    def tables(self) -> list[TableSpec]:
        """The tables registered on this connection."""
        return list(self._tables)

    def explain(self, sql: str) -> list[str]:
        """For each table access of ``sql``: the operation, the parameters that will be sent and the estimate of its
        calls and wall time at the account's current rate-limit state; then a ``total:`` line when every count is
        known. On a many-account connection the estimates are per account (the first account's state) and a last
        line says how the accounts are read. Makes no API call."""
        out = []
        estimates = []
        for row in self.connection.execute(f"EXPLAIN QUERY PLAN {sql}"):
            detail = str(row[-1])
            if "VIRTUAL TABLE INDEX" in detail:
                out.append(detail)
                found = self._context.estimates.get(detail.split(":", 1)[-1])
                if found is not None:
                    estimates.append(found)
        many = [a.name for a in self.accounts if a.name is not None]
        if out and len(estimates) == len(out) and (whole := cost.total(estimates)) is not None:
            out.append(f"total{' per account' if many else ''}: {whole}")
        if out and many:
            out.append(f"accounts: {len(many)} ({', '.join(many[:10])}{', …' if len(many) > 10 else ''}): each access "
                       "runs once per account the account column chooses, concurrently, each account within its own "
                       "usage plans")
        return out

    def _entity_source(self, table: TableSpec) -> TableSpec:
        assert table.nested is not None
        return entity_source(self.sections, table.nested.entity, table.section)

    def check_credentials(self) -> None:
        """Ask Login with Amazon for an access token now, so wrong credentials fail when connecting rather than at the
        first query (AuthError naming the key to fix). With several accounts every account is checked (at most
        :data:`~sqlspapi.sql.fanout.MAX_WORKERS` at a time) and the error names the account; with
        ``OnAccountError=skip`` none is: a failing account is skipped, and told, when a query reads it."""
        if len(self.accounts) == 1:
            self.client.access_token()
            return
        if self.settings.on_account_error == "skip":
            return
        from concurrent.futures import ThreadPoolExecutor

        from sqlspapi.sql.fanout import MAX_WORKERS, named

        with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="sqlspapi-login") as pool:
            futures = [(account, pool.submit(account.client.access_token)) for account in self.accounts]
            for account, future in futures:
                error = future.exception()
                if error is not None:
                    raise named(error, account.label) from error

    # ------------------------------------------------------------------------------------- the first account
    def marketplace_ids(self) -> tuple[str, ...]:
        """The first account's marketplaces: MarketplaceIds, else the seller's (one Sellers call per account)."""
        return self.accounts[0].marketplace_ids()

    def _bind_context(self) -> planner.BindContext:
        return self.accounts[0].bind_context()

    def _cost_env(self) -> CostEnv:
        return self.accounts[0].cost_env()

    # ------------------------------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close the connection (and the clients this database made)."""
        try:
            self.connection.close()
        finally:
            self._close_clients()

    def _close_clients(self) -> None:
        for account in self.accounts:
            if self._own_client or account.name is not None:
                account.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(connection_string: str | None = None, *, demo: bool = False, client: Client | None = None,
                  settings: Settings | None = None, overrides: Mapping[str, Any] | None = None,
                  poll_scale: float | None = None) -> Database:
    """Open a :class:`Database` from a connection string (plus key ``overrides``) or ready Settings, or on the
    demo emulator. ``poll_scale`` multiplies the waits between report polls (an emulator running faster than
    Amazon: ``1 / time_scale``; the demo sets it itself)."""
    if settings is None:
        settings = resolve_settings(connection_string, demo=demo, overrides=overrides)
    # The demo emulator's clock runs faster than Amazon's: report polls wait its seconds, not Amazon's.
    if poll_scale is None and demo:
        poll_scale = 1 / float(getattr(demo_emulator(), "time_scale", 1.0) or 1.0)
    return Database(settings, client, poll_scale=poll_scale)


def table_names(database: Database) -> Sequence[str]:
    """The names of the tables a database serves, in definition order."""
    return [t.name for t in database.tables()]
