"""APSW virtual-table glue: BestIndexObject asks the planner, Filter binds the plan and streams rows.

Nothing here knows an SP-API detail: the table definition and the planner decide which operation and which
parameters; the statement scope talks to the client; this module only translates between SQLite's protocol and them.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import apsw

from sqlspapi.definitions.schema import TableSpec
from sqlspapi.errors import (
    AccountSwitchError,
    CallLimitError,
    MissingFilterError,
    NoDataWarning,
    RestrictedDataError,
    SlowStatementWarning,
)
from sqlspapi.http.progress import duration, rate_text
from sqlspapi.settings.accounts import table_refusal
from sqlspapi.sql import cost, isotime, planner
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.fanout import ACCOUNT_COLUMN, NE, AccountSet, fan_out, selected, split_constraints
from sqlspapi.sql.plan import Row
from sqlspapi.sql.routes import route_for
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope

#: SQLite's constraint operator codes → the planner's names.
OPS: dict[int, str] = {
    apsw.SQLITE_INDEX_CONSTRAINT_EQ: planner.EQ,
    apsw.SQLITE_INDEX_CONSTRAINT_GT: planner.GT,
    apsw.SQLITE_INDEX_CONSTRAINT_GE: planner.GE,
    apsw.SQLITE_INDEX_CONSTRAINT_LT: planner.LT,
    apsw.SQLITE_INDEX_CONSTRAINT_LE: planner.LE,
    apsw.SQLITE_INDEX_CONSTRAINT_LIMIT: planner.LIMIT,
    apsw.SQLITE_INDEX_CONSTRAINT_OFFSET: planner.OFFSET,
}

#: Rowids are positive 63-bit integers.
_ROWID_MASK = (1 << 63) - 1

#: How many plans one table keeps for Filter to find by idxNum (SQLite asks BestIndex often).
_MAX_PLANS = 512

#: A table access whose calls take this long (seconds, by the estimate) is announced before they start.
SLOW_SECONDS = 60.0


class TableContext:
    """What a table needs from its account: the statement scope, how to bind plans (clock, settings) and, for
    estimates, what the account's calls cost now (``cost_env``; None: plans carry no estimate)."""

    def __init__(self, scope: StatementScope, bind_context: Callable[[], planner.BindContext],
                 include_restricted: bool, cost_env: Callable[[], CostEnv] | None = None, *,
                 account: Any = None) -> None:
        self.scope = scope
        #: The :class:`~sqlspapi.account.Account` this context reads for (its switches apply), if any.
        self.account = account
        self.bind_context = bind_context
        self.include_restricted = include_restricted
        self.cost_env = cost_env
        #: The estimate of each plan text EXPLAIN QUERY PLAN showed lately (for the statement's total).
        self.estimates: OrderedDict[str, tuple[Calls, CostEnv]] = OrderedDict()

    def explained(self, plan: planner.Plan) -> str:
        """The plan's EXPLAIN text with its estimate: "searchOrders(...) [est. ~12 pages, ~31 min at ...]"."""
        if self.cost_env is None:
            return plan.text
        env = self.cost_env()
        calls = route_for(plan.route.kind).calls(plan, env)
        text = f"{plan.text} [est. {cost.describe(calls, env)}]"
        self.estimates[text] = (calls, env)
        self.estimates.move_to_end(text)
        while len(self.estimates) > _MAX_PLANS:
            self.estimates.popitem(last=False)
        return text

    def expect(self, plan: planner.Plan, bound: planner.Bound) -> None:
        """Tell the statement's progress what this access will call (the requests are known now: a list of ids
        gives its exact count), so it can show what is left."""
        if self.cost_env is None:
            return
        env = self.cost_env()
        calls = route_for(plan.route.kind).calls(plan, env)
        op = calls.operation
        if op is None:
            return
        count = calls.count
        if calls.per or count is None and not calls.basis:
            count = float(len(bound.requests))  # one call per request (ids, batches)
        progress = self.scope.progress
        before = progress.expected_calls()
        progress.expect(op.name, count, lambda n: cost.seconds(env, op, n))
        total = progress.expected_calls()
        if count is None or total is None:
            return
        wall = cost.seconds(env, op, count)
        limit = progress.max_calls
        what = (f"{plan.table.name}: this statement will make ~{math.ceil(count):,} {op.name} call"
                f"{'s' if count > 1 else ''}, ~{duration(wall)} at {rate_text(env.bucket(op).rate)}")
        exact = not calls.basis  # ids, batches, slices: counted, not estimated from volumes seen earlier
        if limit and total > limit and exact:
            raise CallLimitError(
                f"{what}: more than MaxCallsPerStatement={limit} allows (~{math.ceil(total):,} in all). Narrow the "
                "query (fewer ids, a shorter date range), or raise MaxCallsPerStatement (0 = no limit) in the "
                "connection string.")
        if wall >= SLOW_SECONDS and (before is None or cost.seconds(env, op, before) < SLOW_SECONDS):
            notice = self.bind_context().notice
            notice(f"{what} (MaxCallsPerStatement={limit or 'no limit'}).", SlowStatementWarning)


class Module:
    """An APSW module serving one TableSpec (registered once per connection)."""

    def __init__(self, spec: TableSpec, context: TableContext, accounts: AccountSet | None = None) -> None:
        self.spec = spec
        self.context = context
        self.accounts = accounts

    def Create(self, connection: apsw.Connection, modulename: str, dbname: str, tablename: str,  # noqa: N802
               *args: str) -> tuple[str, Table]:
        """SQLite creates (or connects) the table: declare its columns (and, for many accounts, ``account``)."""
        sql = self.spec.create_sql()
        if self.accounts is not None:
            sql = f'{sql[:-1]}, "{ACCOUNT_COLUMN}" TEXT)'
        return sql, Table(self.spec, self.context, self.accounts)

    Connect = Create


class Table:
    """The virtual table: plans accesses and opens cursors."""

    def __init__(self, spec: TableSpec, context: TableContext, accounts: AccountSet | None = None) -> None:
        self.spec = spec
        self.context = context
        #: The accounts of a many-account connection (the ``account`` column is the last), else None.
        self.accounts = accounts
        self.account_column = len(spec.columns) if accounts is not None else -1
        self._plans: dict[int, planner.Plan] = {}
        self._planned_args: dict[int, int] = {}  # Filter arguments of the plan; the account terms follow them
        self._account_ops: dict[int, tuple[str, ...]] = {}  # the operators of those account terms
        #: Each column's declared collation: a constraint written with another one is not pushed down. Hidden inputs
        #: have none to keep: their value is consumed, never compared (a table-valued argument carries no collation).
        self._collations = [None if c.hidden else isotime.NAME.upper() if c.kind == "TIME" else "BINARY"
                            for c in spec.columns] + (["BINARY"] if accounts is not None else [])
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def BestIndexObject(self, ii: apsw.IndexInfo) -> bool:  # noqa: N802
        """Ask the planner which constraints reach the API; never refuse (errors come from Filter)."""
        constraints = []
        collations = self._collations
        for i in range(ii.nConstraint):
            op = OPS.get(ii.get_aConstraint_op(i), planner.OTHER)
            usable = ii.get_aConstraint_usable(i)
            column = ii.get_aConstraint_iColumn(i)
            if column == self.account_column and ii.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_NE:
                op = NE  # only the account column takes <>
            if usable and op not in (planner.LIMIT, planner.OFFSET, planner.OTHER) and 0 <= column < len(collations) \
                    and collations[column] is not None \
                    and ii.get_aConstraint_collation(i).upper() != collations[column]:
                usable = False  # `col = 'x' COLLATE NOCASE`: the API compares its own way; SQLite evaluates it
            is_in = bool(usable and op == planner.EQ and ii.get_aConstraintUsage_in(i))
            rhs = planner.UNKNOWN
            if usable and op != planner.OTHER:
                try:
                    value = ii.get_aConstraint_rhs(i)
                    rhs = planner.UNKNOWN if value is None else value
                except (apsw.Error, ValueError):
                    rhs = planner.UNKNOWN
            constraints.append(planner.Constraint(column, op, usable, is_in, rhs))
        env = self.context.cost_env() if self.context.cost_env is not None else None
        used = ii.colUsed
        mine: list[int] = []
        if self.accounts is not None:
            constraints, mine = split_constraints(constraints, self.account_column)
            if self.account_column < 63:
                used = set(used) - {self.account_column}
        choice = planner.choose(self.spec, constraints, ii.nOrderBy, used, env)
        for i, argv, omit, in_ in choice.usage:
            ii.set_aConstraintUsage_argvIndex(i, argv)
            ii.set_aConstraintUsage_omit(i, omit)
            if in_:
                ii.set_aConstraintUsage_in(i, True)
        argv = max((a for _i, a, _omit, _in in choice.usage), default=0)
        for i, _op in mine:  # the account terms come after the plan's arguments; the table applies them
            argv += 1
            ii.set_aConstraintUsage_argvIndex(i, argv)
            ii.set_aConstraintUsage_omit(i, True)
            if ii.get_aConstraintUsage_in(i):
                ii.set_aConstraintUsage_in(i, True)
        with self._lock:
            number = next(self._counter)
            self._plans[number] = choice.plan
            self._planned_args[number] = argv - len(mine)
            self._account_ops[number] = tuple(op for _i, op in mine)
            if len(self._plans) > _MAX_PLANS:
                for old in sorted(self._plans)[: len(self._plans) - _MAX_PLANS]:
                    del self._plans[old]
                    self._planned_args.pop(old, None)
                    self._account_ops.pop(old, None)
        ii.idxNum = number
        ii.idxStr = self.context.explained(choice.plan)
        ii.orderByConsumed = False
        ii.estimatedCost = choice.cost
        ii.estimatedRows = choice.rows
        if choice.unique:
            ii.idxFlags = apsw.SQLITE_INDEX_SCAN_UNIQUE
        return True

    def plan(self, number: int) -> planner.Plan:
        """The plan BestIndexObject stored under ``number``."""
        with self._lock:
            return self._plans[number]

    def planned_args(self, number: int) -> tuple[int, tuple[str, ...]]:
        """How many Filter arguments the plan under ``number`` takes, and the operators of the ``account`` terms whose
        values follow them."""
        with self._lock:
            return self._planned_args.get(number, 0), self._account_ops.get(number, ())

    def Open(self) -> Cursor:  # noqa: N802
        """A cursor over this table."""
        return Cursor(self)

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release."""

    Destroy = Disconnect


class Cursor:
    """Streams rows: one page in memory at a time."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._rows: Iterator[tuple[int, tuple[list[Any], Row]]] = iter(())
        self._current: list[Any] | None = None
        self._item: Row | None = None
        self._rowid: int | None = None
        self._account = 0  # the current row's account (its index in the table's AccountSet)
        self._identities: dict[int, Callable[..., list[Any]]] = {}

    def Filter(self, idxnum: int, idxstr: str | None, args: tuple[Any, ...]) -> None:  # noqa: N802
        """Bind the stored plan with the values SQLite passes and start fetching (from each selected account)."""
        spec = self.table.spec
        plan = self.table.plan(idxnum)
        context = self.table.context
        if spec.restricted and not context.include_restricted:
            raise RestrictedDataError(
                f"{spec.name} holds restricted data (PII). Add IncludeRestrictedData=true to the connection "
                "string; your SP-API app also needs the restricted role for this data (e.g. Direct-to-Consumer "
                "Shipping) in Developer Central.")
        if plan.missing:
            hint = f"\n  e.g. {spec.required_hint}" if spec.required_hint else ""
            raise MissingFilterError(
                f"{spec.name} needs {' and '.join(plan.missing)}: filter it with = or IN in WHERE (or join on it), "
                f"or pass it as an argument.{hint}")
        accounts = self.table.accounts
        if accounts is None:
            self._rows = ((0, pair) for pair in self._account_rows(context, plan, args))
        else:
            n, ops = self.table.planned_args(idxnum)
            chosen, unknown = selected(accounts.names, zip(ops, args[n:], strict=True))
            if unknown:
                context.bind_context().notice(
                    f"{spec.name}: {', '.join(repr(u) for u in unknown)} is not one of this connection's accounts "
                    f"({', '.join(accounts.names)}); it gives no rows.", NoDataWarning)
            members = accounts.members
            self._rows = fan_out([(i, lambda m=members[i]: self._account_rows(m.context, plan, args[:n]))
                                  for i in chosen],
                                 lambda i, error: accounts.failed(spec.name, i, error))
        self.Next()

    def _account_rows(self, context: TableContext, plan: planner.Plan, args: tuple[Any, ...]
                      ) -> Iterator[tuple[list[Any], Row]]:
        """One account's rows of ``plan``: (column values, the row item); checks the account's switches first."""
        spec = self.table.spec
        if context.account is not None and (refusal := table_refusal(context.account.settings, spec.name)):
            raise AccountSwitchError(refusal)
        bound = planner.bind(plan, args, context.bind_context())
        context.expect(plan, bound)
        build = row_builder(spec.columns, plan.columns_used, context.scope.connection)
        rows = context.scope.rows(plan, bound)
        if bound.stop_after is not None:
            rows = itertools.islice(rows, bound.stop_after)
        for item in rows:
            yield build(*item), item

    def Next(self) -> None:  # noqa: N802
        """Advance to the next row (fetching the next page when needed)."""
        entry = next(self._rows, None)
        if entry is None:
            self._current = None
            return
        self._account, (self._current, self._item) = entry
        self._rowid = None

    def Eof(self) -> bool:  # noqa: N802
        """True after the last row."""
        return self._current is None

    def Rowid(self) -> int:  # noqa: N802
        """The row's identity: the same row gives the same rowid in every scan, different rows different ones.

        SQLite merges the scans of an ``OR`` answered branch by branch by rowid, so a scan-local counter would drop
        rows of a later branch silently. The identity hashes every visible column (inputs excluded: the same row
        found through two different searches is one row); it is computed only when SQLite asks.
        """
        if self._rowid is None:
            assert self._item is not None
            identity = self._identities.get(self._account)
            if identity is None:
                spec = self.table.spec
                visible = [i for i, c in enumerate(spec.columns) if not c.hidden]
                accounts = self.table.accounts
                context = accounts.members[self._account].context if accounts is not None else self.table.context
                identity = self._identities[self._account] = row_builder(spec.columns, visible,
                                                                         context.scope.connection)
            self._rowid = hash((self._account, *identity(*self._item))) & _ROWID_MASK
        return self._rowid

    def Column(self, n: int) -> Any:  # noqa: N802
        """The value of column ``n`` (−1 is the rowid; the last one, on a many-account connection, the account)."""
        if n == -1:
            return self.Rowid()
        assert self._current is not None
        if n == self.table.account_column:
            assert self.table.accounts is not None
            return self.table.accounts.names[self._account]
        return self._current[n]

    def Close(self) -> None:  # noqa: N802
        """Stop fetching (a fan-out's producers stop at their next row)."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        self._rows = iter(())
        self._current = None
