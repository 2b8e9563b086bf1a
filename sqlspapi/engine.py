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
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import apsw

from sqlspapi.definitions.loader import SectionSpec, TableSpec, entity_source, select_sections
from sqlspapi.errors import DefaultWindowWarning, InterfaceError
from sqlspapi.http.calllog import CallRecord
from sqlspapi.http.client import Client
from sqlspapi.http.progress import Progress
from sqlspapi.reports.lifecycle import ReportService
from sqlspapi.settings.connstr import Settings, parse
from sqlspapi.sql import adhoc, cost, isotime, planner
from sqlspapi.sql.bounds import imply_bounds
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope
from sqlspapi.sql.vtable import Module, TableContext

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
    """An open sqlspapi database: the APSW connection, its settings, client and statement scope."""

    def __init__(self, settings: Settings, client: Client | None = None, *, poll_scale: float | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else Client(settings)
        self._own_client = client is None
        #: The running statement's progress (listen to it for live progress; ``cancel()`` stops the statement).
        self.progress = Progress()
        self.progress.max_calls = settings.max_calls_per_statement
        self.sections: list[SectionSpec] = select_sections(settings.api_versions)
        self._tables: list[TableSpec] = [t for s in self.sections for t in s.tables.values()]
        self.scope = StatementScope(self.client, include_restricted=settings.include_restricted_data,
                                    entity_source=self._entity_source, connection=self._connection_values(),
                                    entities={t.nested.entity for t in self._tables if t.nested is not None},
                                    poll_scale=poll_scale if poll_scale is not None
                                    else float(os.environ.get("SQLSPAPI_POLL_SCALE", "1")),
                                    progress=self.progress)
        self.scope.reports = ReportService(settings.reports, self.client.runtime.account_key)
        self._marker = self.client.calls.position()
        self._notices: list[Notice] = []
        #: Called once per distinct notice as it happens (the faces set it: print, warn, send a NOTICE); the message
        #: is a :class:`Notice` (a ``str`` with its warning ``category``).
        self._on_notice: Callable[[str], None] = lambda message: None
        # No statement cache: EXPLAIN QUERY PLAN's estimates read the rate-limit state when the statement is
        # prepared, so a cached one would show the state of its first run.
        self.connection = apsw.Connection(":memory:", statementcachesize=0)
        isotime.register(self.connection)
        context = TableContext(self.scope, self._bind_context, settings.include_restricted_data, self._cost_env)
        self._context = context
        for table in self._tables:
            module = f"spapi_{table.section}_{table.name}"
            self.connection.create_module(module, Module(table, context), use_bestindex_object=True,
                                          read_only=True)
            self.connection.execute(f'CREATE VIRTUAL TABLE main."{table.name}" USING {module}()')
        adhoc.register(self.connection, {t.name: t for t in self._tables}, context)
        self.connection.exec_trace = self._trace
        self._time_columns = {t.name.lower(): frozenset(c.name.lower() for c in t.columns if c.kind == "TIME")
                              for t in self._tables}

    def __repr__(self) -> str:
        return f"<sqlspapi.Database endpoint={self.settings.endpoint!r} tables={len(self._tables)}>"

    def _connection_values(self) -> dict[str, Any]:
        """What ``$name`` columns and derived parameters may read from the connection (no secrets)."""
        return {"sellerId": self.settings.seller_id, "region": self.settings.region,
                "endpoint": self.settings.endpoint}

    # ------------------------------------------------------------------------------------------ statements
    def _trace(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        self.begin_statement()
        return True

    def begin_statement(self) -> None:
        """A new SQL statement starts: a fresh statement scope (caches) and a mark in the call log.

        The connection's exec tracer calls it for every statement; a caller that installs its own cursor exec
        tracer (DB-API, shell, bridge) calls it there.
        """
        self.scope.begin()
        self.progress.start()
        self._notices = []
        self._marker = self.client.calls.position()

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

    def last_calls(self) -> list[CallRecord]:
        """The API calls made since the current (or last) statement began."""
        return self.client.calls.since(self._marker)

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
        known. Makes no API call."""
        out = []
        estimates = []
        for row in self.connection.execute(f"EXPLAIN QUERY PLAN {sql}"):
            detail = str(row[-1])
            if "VIRTUAL TABLE INDEX" in detail:
                out.append(detail)
                found = self._context.estimates.get(detail.split(":", 1)[-1])
                if found is not None:
                    estimates.append(found)
        if out and len(estimates) == len(out) and (whole := cost.total(estimates)) is not None:
            out.append(f"total: {whole}")
        return out

    def _cost_env(self) -> CostEnv:
        """What estimates read now (no call: the marketplaces count only when already known)."""
        runtime = self.client.runtime
        known = self.settings.marketplace_ids or runtime.known("marketplaces")
        return CostEnv(now=datetime.now(UTC), lookback_days=self.settings.lookback_days,
                       marketplaces=len(known) if known else None, pace=runtime.pace, bucket=self.client.bucket,
                       route=self.settings.route)

    def _entity_source(self, table: TableSpec) -> TableSpec:
        assert table.nested is not None
        return entity_source(self.sections, table.nested.entity, table.section)

    # ------------------------------------------------------------------------------------- marketplaces
    def marketplace_ids(self) -> tuple[str, ...]:
        """MarketplaceIds from the connection string, else the seller's marketplaces (one Sellers call per account,
        kept by the account runtime), read through the ``marketplaces`` table's definition."""
        if self.settings.marketplace_ids:
            return tuple(self.settings.marketplace_ids)
        return self.client.runtime.memo("marketplaces", self._discover_marketplaces)

    def _discover_marketplaces(self) -> tuple[str, ...]:
        """The marketplaces the seller participates in: getMarketplaceParticipations, read through the
        ``marketplaces`` table's definition.

        An answer whose participations do not all name their marketplace is not a whole answer: it is retried per the
        retry keys, then raised as ``IncompleteResponse`` naming the operation and request id — usually temporary,
        not a reason to set MarketplaceIds (an answer cut off or garbled is the client's ``IncompleteResponse``
        already). Only a seller whose whole answer lists no marketplace it participates in is told to set
        MarketplaceIds.
        """
        import logging

        from sqlspapi.http import apierrors
        from sqlspapi.http.retry import Failure, run

        table = next((t for t in self._tables if t.name == "marketplaces"), None)
        if table is None:
            raise InterfaceError("the Sellers API definition (vtables/sellers-*.toml) is missing; set MarketplaceIds=…")
        names = [c.name for c in table.columns]
        used = [names.index("marketplace_id"), names.index("participation_isParticipating")]
        choice = planner.choose(table, [], columns_used=used)
        op = choice.plan.route.operation
        assert op is not None
        build = row_builder(table.columns, used, self.scope.connection)
        # One scope for every attempt: the account shares an answer with other callers for a moment, never with the
        # caller that got it, so a retry is sent again (begin() forgets the scope's own cache).
        scope = StatementScope(self.client, include_restricted=False, entity_source=self._entity_source,
                               connection=self.scope.connection, progress=self.progress)

        def attempt() -> tuple[tuple[str, ...], str | None] | Failure:
            marker = self.client.calls.position()
            scope.begin()
            rows = [build(obj, request, parent) for obj, request, parent
                    in scope.rows(choice.plan, planner.bind(choice.plan, [], self._bind_context()))]
            request_id = next((c.request_id for c in reversed(self.client.calls.since(marker))
                               if c.operation == op.name), None)
            unnamed = sum(1 for row in rows if not row[used[0]])
            if not unnamed:
                return tuple(row[used[0]] for row in rows if row[used[1]] != 0), request_id
            what = (f"{unnamed} of its {len(rows)} marketplace participations name{'s' if unnamed == 1 else ''} "
                    "no marketplace id")
            return Failure(None, lambda retries: apierrors.incomplete_error(op, 200, what, request_id, retries),
                           "incomplete answer", note=f"{op.name}: incomplete answer ({what}) [request id {request_id}]",
                           transient=True)

        ids, request_id = run(self.settings.retry, attempt, what=op.name, log=logging.getLogger("sqlspapi.engine"),
                              watch=self.progress)
        if not ids:
            raise InterfaceError(
                f"The Sellers API lists no marketplace this seller participates in ({op.name}, request id "
                f"{request_id or 'none'}); set MarketplaceIds=… (e.g. MarketplaceIds=US,CA) in the connection string.")
        return ids

    def _bind_context(self) -> planner.BindContext:
        # The clock is read to the minute: statements issued in the same minute (ten dashboards refreshing at
        # once) send identical date parameters, so their calls are shared rather than repeated.
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        today = now.replace(hour=0, minute=0)
        start = today - timedelta(days=self.settings.lookback_days)
        return planner.BindContext(
            now=now,
            lookback_days=self.settings.lookback_days,
            include_restricted=self.settings.include_restricted_data,
            marketplace_ids=self.marketplace_ids,
            notice=self._notice,
            connection={**self.scope.connection,
                        # the last LookbackDays whole days (UTC), as an ISO 8601 interval (Sales API)
                        "lookbackInterval": f"{start:%Y-%m-%dT%H:%M:%S}+00:00--{today:%Y-%m-%dT%H:%M:%S}+00:00"},
        )

    # ------------------------------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close the connection (and the client, when this database made it)."""
        try:
            self.connection.close()
        finally:
            if self._own_client:
                self.client.close()

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
