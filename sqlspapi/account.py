"""One seller account of an open database: its settings, client, statement scope and table context.

A :class:`~sqlspapi.engine.Database` has one :class:`Account` per seller account it queries: one for an ordinary
connection, one per name of ``Accounts=a,b,c``. Each account has its own credentials, client (and so its own runtime:
tokens and rate-limit buckets, :mod:`sqlspapi.http.runtime`), statement scope (per-statement caches), report
lifecycle, marketplaces and switches; the connection's tables read rows through the account's
:class:`~sqlspapi.sql.vtable.TableContext`. What is the connection's — the tables, the statement's progress and its
notices — the database passes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.definitions.schema import TableSpec
from sqlspapi.errors import InterfaceError
from sqlspapi.http.client import Client
from sqlspapi.http.progress import Progress
from sqlspapi.reports.lifecycle import ReportService
from sqlspapi.settings.accounts import account_label
from sqlspapi.settings.marketplaces import regions_of
from sqlspapi.sql import planner
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.plan import Notify
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope
from sqlspapi.sql.vtable import TableContext

__all__ = ["Account"]


class Account:
    """One seller account of a database (``name`` is its name in ``Accounts``, None on a one-account connection)."""

    def __init__(self, name: str | None, settings: Any, client: Client, *, tables: list[TableSpec],
                 entity_source: Callable[[TableSpec], TableSpec], entities: set[str], poll_scale: float,
                 progress: Progress, notice: Notify) -> None:
        self.name = name
        self.settings = settings
        self.client = client
        self.progress = progress
        self._tables = tables
        self._entity_source = entity_source
        self._notice = notice
        self.scope = StatementScope(client, include_restricted=settings.include_restricted_data,
                                    entity_source=entity_source, connection=self._connection_values(),
                                    entities=entities, poll_scale=poll_scale, progress=progress)
        self.scope.reports = ReportService(settings.reports, client.runtime.account_key)
        self.context = TableContext(self.scope, self.bind_context, settings.include_restricted_data, self.cost_env,
                                    account=self)

    def __repr__(self) -> str:
        return f"<sqlspapi.Account {self.label}>"

    @property
    def label(self) -> str:
        """How messages name this account ("account 'shop-eu'", else "seller A1…", else "this account")."""
        return f"account {self.name!r}" if self.name is not None else account_label(self.settings)

    def _connection_values(self) -> dict[str, Any]:
        """What ``$name`` columns and derived parameters may read from the connection (no secrets)."""
        return {"sellerId": self.settings.seller_id, "region": self.settings.region,
                "endpoint": self.settings.endpoint,
                # MarketplaceIds as the connection gives them (None without the key: no discovery call)
                "configuredMarketplaces": list(self.settings.marketplace_ids) or None}

    def cost_env(self) -> CostEnv:
        """What estimates read now (no call: the marketplaces count only when already known)."""
        runtime = self.client.runtime
        known = self.settings.marketplace_ids or runtime.known("marketplaces")
        return CostEnv(now=datetime.now(UTC), lookback_days=self.settings.lookback_days,
                       marketplaces=len(known) if known else None, pace=runtime.pace, bucket=self.client.bucket,
                       route=self.settings.route, regions=len(regions_of(known)) if known else None)

    # ------------------------------------------------------------------------------------- marketplaces
    def marketplace_ids(self) -> tuple[str, ...]:
        """MarketplaceIds from the settings, else the seller's marketplaces (one Sellers call per account, kept by
        the account runtime), read through the ``marketplaces`` table's definition."""
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
                    in scope.rows(choice.plan, planner.bind(choice.plan, [], self.bind_context()))]
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
            where = f" of {self.label}" if self.name is not None else ""
            raise InterfaceError(
                f"The Sellers API lists no marketplace this seller{where} participates in ({op.name}, request id "
                f"{request_id or 'none'}); set MarketplaceIds=… (e.g. MarketplaceIds=US,CA) in the connection string"
                + (" or the account's entry of the credentials file." if self.name is not None else "."))
        return ids

    def bind_context(self) -> planner.BindContext:
        """What binding a plan for this account reads: the clock, the settings, its marketplaces, connection values."""
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

    def close(self) -> None:
        """Close the account's client."""
        self.client.close()
