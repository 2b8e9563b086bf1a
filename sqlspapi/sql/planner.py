"""The pushdown planner: SQLite constraints in, a Plan out; then a Plan plus values in, API requests out.

Pure functions, no I/O. ``choose`` runs inside BestIndexObject and decides which constraints reach the API
(and whether LIMIT may size pages); ``bind`` runs inside Filter, when the values are known, and turns the
plan into the concrete requests (operation, path parameters, query parameters) the fetcher sends.

The rules, all driven by the table definition:

- ``key = value`` on a table with a get route → one get call (``getOrder``).
- ``key IN (...)`` → the list route with the id-list parameter, batched (``AmazonOrderIds``, 50 a call), or one get
  call per value when the list route has no id-list parameter.
- ``=``/``IN`` on a declared filter column → its query parameter (a list parameter takes the whole IN list),
  or one call per value for a path parameter (``order_items`` by order id).
- range constraints on a window column → its After/Before pair. Only one window reaches the API (the first
  with a lower bound, else the first with any bound); SQLite re-checks all of them. Before is clamped to
  now − the API's minimum age. With no window filter the scan starts ``LookbackDays`` ago.
- LIMIT (and OFFSET) size the page and stop paging only when every constraint was consumed exactly and there is
  no ORDER BY: otherwise SQLite's own filtering after a truncated scan would give wrong results.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.definitions.loader import FilterSpec, TableSpec, WindowSpec
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.sql.isotime import format_api_time, to_api_time

#: Operators the planner understands (the vtable maps SQLite's codes to these names).
EQ, GT, GE, LT, LE, LIMIT, OFFSET, OTHER = "EQ", "GT", "GE", "LT", "LE", "LIMIT", "OFFSET", "OTHER"
_RANGE = {GT: ">", GE: ">=", LT: "<", LE: "<="}

#: Marker for a constraint whose right-hand side is not known at planning time (a parameter or a join).
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "?"})()

#: Estimated cost of a plan that cannot run (a required filter is missing): SQLite avoids it when it can.
IMPOSSIBLE_COST = 1e300


@dataclass(frozen=True)
class Constraint:
    """One WHERE term SQLite offers to the table (from IndexInfo)."""

    column: int
    op: str
    usable: bool = True
    is_in: bool = False
    rhs: Any = UNKNOWN


@dataclass(frozen=True)
class Arg:
    """What one Filter argument means: its role and the column/parameter it feeds."""

    role: str  # get | multiget | filter | path | nested | after | before | limit | offset
    column: str = ""
    op: str = EQ
    param: str | None = None
    is_in: bool = False


@dataclass(frozen=True)
class Plan:
    """The chosen route for one table access; ``text`` is what EXPLAIN QUERY PLAN shows."""

    table: TableSpec
    route: str  # get | multiget | list | nested
    args: tuple[Arg, ...]
    window: WindowSpec | None = None
    missing: tuple[str, ...] = ()
    columns_used: frozenset[int] | None = None
    text: str = ""


@dataclass
class Choice:
    """A plan plus what BestIndexObject must tell SQLite."""

    plan: Plan
    usage: list[tuple[int, int, bool, bool]] = field(default_factory=list)  # (constraint, argv, omit, in)
    cost: float = 1.0
    rows: int = 1
    unique: bool = False


@dataclass(frozen=True)
class Request:
    """One API call chain to make (the fetcher pages through it when the route is a list)."""

    operation: OperationSpec
    path: Mapping[str, str]
    query: Mapping[str, Any]


@dataclass(frozen=True)
class BindContext:
    """What binding needs besides the values: the clock, settings and the default marketplaces."""

    now: datetime
    lookback_days: int
    include_restricted: bool
    marketplace_ids: Callable[[], Sequence[str]]


@dataclass
class Bound:
    """A plan with values: the requests (or nested keys) and how many rows are wanted at most."""

    requests: list[Request] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    stop_after: int | None = None


# --------------------------------------------------------------------------------------------------- choose


def choose(table: TableSpec, constraints: Sequence[Constraint], n_orderby: int = 0,
           columns_used: Iterable[int] | None = None) -> Choice:
    """Pick the route and the constraints to push for one table access."""
    used = frozenset(columns_used) if columns_used is not None else None
    usable = [(i, c) for i, c in enumerate(constraints) if c.usable]
    names = [c.name for c in table.columns]

    def on(column: str, *ops: str, is_in: bool | None = None) -> list[tuple[int, Constraint]]:
        idx = table.column_index(column)
        return [(i, c) for i, c in usable
                if c.column == idx and c.op in ops and (is_in is None or c.is_in == is_in)]

    if table.get is not None:
        eq = on(table.get.column, EQ, is_in=False)
        if eq:
            i, c = eq[0]
            plan = Plan(table, "get", (Arg("get", table.get.column),), columns_used=used)
            plan = _described(plan, [c])
            return Choice(plan, [(i, 1, True, False)], cost=1.0, rows=1, unique=True)

    if table.nested is not None:
        keys = on(table.nested.column, EQ)
        if not keys:
            plan = _described(Plan(table, "nested", (), missing=(table.nested.column,), columns_used=used), [])
            return Choice(plan, [], cost=IMPOSSIBLE_COST, rows=2**62)
        i, c = keys[0]
        plan = _described(Plan(table, "nested", (Arg("nested", table.nested.column, is_in=c.is_in),),
                               columns_used=used), [c])
        return Choice(plan, [(i, 1, True, c.is_in)], cost=5.0, rows=5)

    lst = table.list
    assert lst is not None
    if table.get is not None:
        ins = on(table.get.column, EQ, is_in=True)
        id_filter = _filter_for(lst.filters, table.get.column)
        if ins and not (id_filter and "IN" in id_filter.ops):
            i, c = ins[0]
            plan = _described(Plan(table, "multiget", (Arg("multiget", table.get.column, is_in=True),),
                                   columns_used=used), [c])
            return Choice(plan, [(i, 1, True, True)], cost=20.0, rows=20)

    usage: list[tuple[int, int, bool, bool]] = []
    args: list[Arg] = []
    shown: list[Constraint] = []
    all_exact = True
    rows = 1_000_000.0
    consumed: set[int] = set()
    for i, c in usable:
        if c.op not in (EQ,) or c.column < 0:
            continue
        f = _filter_for(lst.filters, names[c.column])
        if f is None or ("IN" if c.is_in else "=") not in f.ops:
            continue
        usage.append((i, len(usage) + 1, f.exact, c.is_in))
        args.append(Arg("path" if f.path_param else "filter", f.column, EQ, f.path_param or f.param, c.is_in))
        shown.append(c)
        consumed.add(i)
        all_exact &= f.exact
        rows /= 50 if f.column == (table.get.column if table.get else None) else 10

    window = _pick_window(lst.windows, table, usable)
    if window is not None:
        for i, c in on(window.column, GT, GE, LT, LE):
            usage.append((i, len(usage) + 1, False, False))
            args.append(Arg("after" if c.op in (GT, GE) else "before", window.column, c.op,
                            window.after if c.op in (GT, GE) else window.before))
            shown.append(c)
            consumed.add(i)
        rows /= 10
    # Every other constraint (unconsumed, or consumed but re-checked) is filtered by SQLite afterwards.
    for i, c in enumerate(constraints):
        if c.op not in (LIMIT, OFFSET) and (i not in consumed or not _omitted(usage, i)):
            all_exact = False

    missing = tuple(f.column for f in lst.filters
                    if f.required and not any(a.column == f.column for a in args))
    if all_exact and n_orderby == 0 and not missing:
        for op in (LIMIT, OFFSET):
            for i, c in usable:
                if c.op == op:
                    usage.append((i, len(usage) + 1, False, False))
                    args.append(Arg(op.lower(), op=op))
                    shown.append(c)
                    break
    plan = _described(Plan(table, "list", tuple(args), window, missing, used), shown)
    if missing:
        return Choice(plan, usage, cost=IMPOSSIBLE_COST, rows=2**62)
    if any(a.role == "path" for a in args):
        return Choice(plan, usage, cost=10.0, rows=10)
    return Choice(plan, usage, cost=max(rows, 100.0), rows=int(max(rows, 100.0)))


def _omitted(usage: list[tuple[int, int, bool, bool]], index: int) -> bool:
    return any(i == index and omit for i, _argv, omit, _in in usage)


def _filter_for(filters: Iterable[FilterSpec], column: str) -> FilterSpec | None:
    lowered = column.lower()
    return next((f for f in filters if f.column.lower() == lowered), None)


def _pick_window(windows: Sequence[WindowSpec], table: TableSpec,
                 usable: list[tuple[int, Constraint]]) -> WindowSpec | None:
    def has(window: WindowSpec, ops: tuple[str, ...]) -> bool:
        idx = table.column_index(window.column)
        return any(c.column == idx and c.op in ops for _i, c in usable)

    for ops in ((GT, GE), (LT, LE)):
        for window in windows:
            if has(window, ops):
                return window
    return None


def _described(plan: Plan, shown: Sequence[Constraint]) -> Plan:
    """Attach the EXPLAIN text: the operation and the parameters that will be sent."""
    table, parts = plan.table, []
    for arg, c in zip(plan.args, shown, strict=False):
        value = " ?" if c.rhs is UNKNOWN and arg.is_in else "?" if c.rhs is UNKNOWN else repr(c.rhs)
        if arg.role in ("after", "before"):
            parts.append(f"{arg.param}←{arg.column}{_RANGE[arg.op]}{value}")
        elif arg.role in ("limit", "offset"):
            parts.append(f"{arg.role.upper()} {value}")
        else:
            target = arg.param or arg.column
            parts.append(f"{target}{' IN' if arg.is_in else '='}{value}")
    note = ""
    if plan.route == "get" and table.get:
        op, note = table.get.operation.name, "one call"
    elif plan.route == "multiget" and table.get:
        op, note = table.get.operation.name, "one call per value"
    elif plan.route == "nested" and table.nested:
        op, note = table.nested.items, f"read from the cached {table.nested.entity}, else one get call per key"
    else:
        assert table.list is not None
        op = table.list.operation.name
        lst = table.list
        if lst.window_required and plan.window is None:
            first = lst.windows[0]
            if any(a.param and a.role == "filter" and _filter_for(lst.filters, a.column) and
                   _filter_for(lst.filters, a.column).batch for a in plan.args):  # type: ignore[union-attr]
                parts.append(f"{first.after}=now-{lst.max_lookback_days}d")
            else:
                parts.append(f"{first.after}=now-LookbackDays")
        if lst.marketplace_param and not any(a.param == lst.marketplace_param for a in plan.args):
            parts.append(f"{lst.marketplace_param}=<connection marketplaces>")
    if plan.missing:
        parts.append("MISSING required " + ", ".join(plan.missing))
    text = f"{op}({', '.join(parts)})" + (f" — {note}" if note else "")
    return Plan(plan.table, plan.route, plan.args, plan.window, plan.missing, plan.columns_used, text)


# ----------------------------------------------------------------------------------------------------- bind


def bind(plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
    """Turn a plan and its Filter arguments into concrete requests; an impossible filter gives none."""
    table = plan.table
    sets: dict[tuple[str, str, str | None], set[str] | None] = {}
    after: list[datetime] = []
    before: list[datetime] = []
    limit = offset = None
    for arg, value in zip(plan.args, values, strict=True):
        if arg.role in ("after", "before"):
            if value is None:
                return Bound()
            (after if arg.role == "after" else before).append(to_api_time(value, arg.column))
        elif arg.role == "limit":
            limit = int(value)
        elif arg.role == "offset":
            offset = int(value)
        else:
            items = value if arg.is_in else (value,)
            new = {_text(v) for v in items if v is not None}
            key = (arg.role, arg.column, arg.param)
            old = sets.get(key)
            sets[key] = new if old is None else old & new
    if any(not v for v in sets.values()):
        return Bound()  # e.g. OrderStatus = 'A' AND OrderStatus = 'B', or a NULL: nothing can match
    stop_after = None if limit is None or limit < 0 else limit + max(offset or 0, 0)

    if plan.route == "nested":
        return Bound(keys=sorted(next(iter(sets.values())) or ()), stop_after=stop_after)
    if plan.route in ("get", "multiget"):
        get = table.get
        assert get is not None
        query = _params(get.params, get.restricted_params, ctx.include_restricted)
        keys = sorted(next(iter(sets.values())) or ())
        return Bound([Request(get.operation, {get.path_param: k}, query) for k in keys], stop_after=stop_after)

    lst = table.list
    assert lst is not None
    query = _params(lst.params, lst.restricted_params, ctx.include_restricted)
    dims: list[list[tuple[str, str, Any]]] = []
    id_list = False
    for (role, column, name), vals in sets.items():
        assert vals is not None and name is not None
        f = _filter_for(lst.filters, column)
        assert f is not None
        ordered = sorted(vals)
        if role == "path":
            dims.append([("path", name, v) for v in ordered])
        elif "IN" in f.ops:
            size = f.batch or len(ordered)
            dims.append([("query", name, ordered[k:k + size]) for k in range(0, len(ordered), size)])
            id_list |= f.batch is not None and f.param != lst.marketplace_param
        else:
            query[name] = ordered[0]
    if lst.marketplace_param and not any(name == lst.marketplace_param for (_r, _c, name) in sets):
        ids = list(ctx.marketplace_ids())
        size = lst.marketplace_batch
        dims.append([("query", lst.marketplace_param, ids[k:k + size]) for k in range(0, len(ids), size)])

    if not _window(plan, lst, query, after, before, ctx, id_list):
        return Bound()
    if stop_after is not None and lst.page_size_param and lst.page_size_max:
        query[lst.page_size_param] = max(1, min(lst.page_size_max, stop_after))
    requests = []
    for combo in itertools.product(*dims):
        q, p = dict(query), {}
        for kind, name, v in combo:
            (p if kind == "path" else q)[name] = v
        requests.append(Request(lst.operation, p, q))
    return Bound(requests, stop_after=stop_after)


def _window(plan: Plan, lst: Any, query: dict[str, Any], after: list[datetime], before: list[datetime],
            ctx: BindContext, id_list: bool) -> bool:
    """Fill the After/Before pair; False when the window is empty."""
    window = plan.window
    if window is None and not lst.window_required:
        return True
    window = window or lst.windows[0]
    lo = max(after) if after else None
    hi = min(before) if before else None
    if lst.before_min_age_seconds:
        latest = ctx.now.astimezone(UTC).replace(microsecond=0) - timedelta(seconds=lst.before_min_age_seconds)
        if hi is not None and hi > latest:
            hi = latest
    if lo is None and lst.window_required:
        days = lst.max_lookback_days if (id_list or hi is not None) else ctx.lookback_days
        lo = ctx.now.astimezone(UTC).replace(microsecond=0) - timedelta(days=days)
    if lo is not None and hi is not None and lo >= hi:
        return False
    if lo is not None:
        query[window.after] = format_api_time(lo)
    if hi is not None:
        query[window.before] = format_api_time(hi)
    return True


def _params(base: Mapping[str, Any], restricted: Mapping[str, Any], include: bool) -> dict[str, Any]:
    out = {k: list(v) if isinstance(v, list) else v for k, v in base.items()}
    if include:
        for k, v in restricted.items():
            out[k] = (list(out.get(k, [])) + list(v)) if isinstance(v, list) else v
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
