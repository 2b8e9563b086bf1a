"""The ``bulk`` route: orders (and their items) read from an order report instead of paging the Orders API.

Paging orders costs a minute per 100 orders after the burst (getOrders v0; about three with searchOrders 2026),
and v0's items one getOrderItems call per order; one ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_…`` report holds 30 days of
orders with their items. The definition (``[tables.orders.bulk]``, :class:`~sqlspapi.definitions.schema.BulkSpec`)
says which report table serves a range on which column, which table column is which report column (only those the
report gives exactly) and from how many orders the report pays.

The choice follows the ``Route`` key (:attr:`sqlspapi.sql.cost.CostEnv.route`):

- ``api``: never.
- ``report``: every access of ``orders`` that is not a key lookup (a get is one call), when the columns the query
  uses (SQLite's colUsed) are all mapped; otherwise the statement fails, naming the columns the report lacks.
- ``auto`` (the default): as ``report``, and only when the orders expected — the constant date range × the rows a
  day an earlier whole scan of the list operation saw on this account — reach the definition's ``threshold``;
  otherwise the list route pages, and EXPLAIN QUERY PLAN says why the report was not taken.

Reading a scan (``orders``): the range on the chosen column becomes the report's data window (SQLite still checks
it), ``=`` on a column mapped to a report input (the marketplace) becomes that input; without a range the window is
the last ``LookbackDays`` days, as when paging. The report route (:mod:`sqlspapi.sql.routes.report`) requests or
reuses the reports and streams their typed rows. The rows of one order are contiguous in the file: each order is
shaped like the API's JSON (each mapped column's value at its column path) and yielded once its rows are all read;
a bounded memory of the orders already yielded (:data:`RECENT_ORDERS`) keeps an order that comes again (a file not
grouped by order, two reports' windows meeting) from being yielded twice. Each order is kept in the statement's
entity cache with its report rows under ``<entity>+report`` — apart from the API's orders, which the nested tables
read and which hold every field: an order from the report holds only the mapped ones.

A lookup (``order_items``: ``entity`` given) answers ``AmazonOrderId = v`` / ``orderId = v`` from the cached report
rows of that order, so ``orders JOIN order_items`` makes no getOrderItems call; an order not cached goes to the
table's next route (getOrderItems, or the nested read of 2026) with the same values.

The auto mode's rule is in :mod:`sqlspapi.sql.routes.bulk_auto`; the column mappings and the shaping of report rows
into the API's JSON in :mod:`sqlspapi.sql.routes.bulk_rows`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlspapi.definitions.schema import BulkSpec, ReportSpec, RouteSpec, TableSpec, WindowSpec
from sqlspapi.errors import InternalError, ProgrammingError
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.isotime import format_api_time
from sqlspapi.sql.plan import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    Arg,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Plan,
    Request,
    Row,
)
from sqlspapi.sql.routes.base import Route, Scope, collect, describe, usable_on
from sqlspapi.sql.routes.bulk_auto import auto_choice
from sqlspapi.sql.routes.bulk_rows import (
    ENTITY_SUFFIX,
    ROWS,
    Shaper,
    cell,
    key_column,
    listed,
    marketplace_column,
    per_report,
    report_table,
    report_unit,
    span_text,
    unmapped,
)
from sqlspapi.sql.routes.listing import ListRoute, WindowRoute
from sqlspapi.sql.routes.nested import NestedRoute
from sqlspapi.sql.routes.report import ReportRoute
from sqlspapi.sql.routes.windows import default_window_notice, estimated_span, pick_window

#: Order ids one scan remembers having yielded (most recent), so an order that comes again is not yielded twice.
RECENT_ORDERS = 10_000
#: Plan mode of a ``Route=report`` access that uses columns the report lacks: binding it is the error.
UNMAPPED = "unmapped"

_REPORT = ReportRoute()


class BulkRoute(Route):
    """Orders from the order report (a scan), their items from the orders it read (a lookup): see the module."""

    kind = "bulk"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice | None:
        """:meth:`choose_in` without an account: the auto mode, which then never takes the report."""
        return self.choose_in(table, spec, constraints, n_orderby, used, None)

    def choose_in(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
                  used: frozenset[int] | None, env: CostEnv | None) -> Choice | None:
        """The report (or, in auto mode below the threshold, the paging plan saying why not), or None."""
        assert isinstance(spec, BulkSpec)
        mode = env.route if env is not None else "auto"
        if mode == "api":
            return None
        lacking = unmapped(table, spec, used)
        if spec.entity:
            return _lookup(table, spec, constraints, n_orderby, used, lacking if mode == "report" else None) \
                if mode == "report" or not lacking else None
        if table.key and usable_on(table, constraints, table.key, EQ):
            return None  # a key lookup: a get is one call (an id list: the list route's batches)
        paging = _next_choice(table, constraints, n_orderby, used)
        windows = [WindowSpec(column, "dataStartTime", "dataEndTime") for column in spec.reports]
        window = pick_window(windows, table, constraints) or windows[0]
        if mode == "auto":
            if paging is None or paging.plan.missing:
                return None
            why, chosen = (f"the order report lacks {listed(lacking)}", False) if lacking \
                else auto_choice(table, spec, window.column, paging.plan, constraints, env)
            if not chosen:
                plan = paging.plan
                joint = "; " if " — " in plan.text else " — "
                return replace(paging, plan=replace(plan, text=f"{plan.text}{joint}not the order report: {why}"))
        else:
            why = f"Route=report: one report per {report_unit(spec)} and {span_text(spec)} days"
        return self._scan(table, spec, window, constraints, used, paging, why, UNMAPPED if lacking else "report")

    def _scan(self, table: TableSpec, spec: BulkSpec, window: WindowSpec, constraints: Sequence[Constraint],
              used: frozenset[int] | None, paging: Choice | None, why: str, mode: str) -> Choice:
        """The report plan: the range on the chosen column and the report inputs, none omitted."""
        usage: list[tuple[int, int, bool, bool]] = []
        args: list[Arg] = []
        shown: list[Constraint] = []
        for i, c in usable_on(table, constraints, window.column, GT, GE, LT, LE):
            lower = c.op in (GT, GE)
            usage.append((i, len(usage) + 1, False, False))
            args.append(Arg("after" if lower else "before", table.columns[c.column].name, c.op,
                            window.after if lower else window.before))
            shown.append(c)
        inputs = {c.name.lower() for c in report_table(spec, window.column).columns if c.hidden}
        for name, source in spec.columns.items():
            if source.lower() in inputs:
                for i, c in usable_on(table, constraints, name, EQ):
                    usage.append((i, len(usage) + 1, False, False))
                    args.append(Arg("input", table.columns[c.column].name, EQ, source))
                    shown.append(c)
        keeper = replace(table, entity=f"{table.entity or table.name}{ENTITY_SUFFIX}")  # never the API's entity
        plan = describe(Plan(keeper, spec, tuple(args), window, columns_used=used, mode=mode), shown, self)
        plan = replace(plan, text=f"{plan.text} — {why}")
        cost, rows = (paging.cost, paging.rows) if paging is not None else (1e6, 100_000)
        return Choice(plan, usage, cost=cost, rows=rows)

    def operation_name(self, plan: Plan) -> str:
        """``bulk`` and the report type EXPLAIN shows."""
        spec = plan.route
        assert isinstance(spec, BulkSpec) and plan.window is not None
        report = report_table(spec, plan.window.column).route("report")
        assert isinstance(report, ReportSpec)
        return f"bulk {report.report_type}"

    def defaults(self, plan: Plan) -> list[str]:
        """The default window and the connection's marketplaces, when no constraint gives them."""
        out = []
        if not any(a.role == "after" for a in plan.args):
            out.append("dataStartTime=now-LookbackDays")
        if not any(a.role == "input" for a in plan.args):
            out.append("marketplaceId=<connection marketplaces>")
        return out

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """A scan: a createReport (or a reuse) per marketplace (region, for region-wide reports) and window slice, with
        its polls and document; a lookup: none for the orders the report gave, else the next route's calls."""
        spec = plan.route
        assert isinstance(spec, BulkSpec)
        if plan.mode == UNMAPPED:
            return Calls(None, None, basis="none: the statement fails (Route=report, columns the report lacks)")
        if spec.entity:
            nxt = _next_route(plan.table)
            op = nxt.operation.name if nxt.operation is not None else f"{spec.entity} get"
            return Calls(None, None, basis=f"no call for an order the order report gave this statement, else one {op}"
                                           " call per key")
        assert plan.window is not None
        report = report_table(spec, plan.window.column).route("report")
        assert isinstance(report, ReportSpec)
        days = estimated_span(plan, plan.table.list, env, False) if plan.table.list is not None else None
        slices = max(1, math.ceil(days / report.max_span_days)) if days is not None and report.max_span_days \
            else None
        unit, units = per_report(spec, env)
        count = slices * units if slices is not None and units else None
        return Calls(report.operation, count, "report", upper=True,
                     basis=f"one per {unit} and {report.max_span_days or 'any number of'} days of the range, "
                           "fewer when reused within ReportMaxAgeMinutes; Amazon takes minutes to build each")

    # ------------------------------------------------------------------------------------------ bind
    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """A scan: the report route's plan and requests for the window; a lookup: the next route's, and the keys."""
        spec = plan.route
        assert isinstance(spec, BulkSpec)
        if plan.mode == UNMAPPED:
            lacking = unmapped(plan.table, spec, plan.columns_used)
            raise ProgrammingError(
                f"Route=report reads {plan.table.name} from the order report, which lacks "
                f"{', '.join(lacking)}: leave {'that column' if len(lacking) == 1 else 'those columns'} out, or use "
                "Route=auto (the API when the report cannot serve a query) or Route=api.")
        if spec.entity:
            return _bind_lookup(plan, values, ctx)
        assert plan.window is not None
        report = report_table(spec, plan.window.column)
        rspec = report.route("report")
        assert isinstance(rspec, ReportSpec) and rspec.window_column
        window = report.column_index(rspec.window_column)
        constraints: list[Constraint] = []
        for arg, value in zip(plan.args, values, strict=True):
            if value is None:
                return Bound()  # a NULL bound or input: nothing matches
            index = window if arg.role in ("after", "before") else report.column_index(str(arg.param))
            constraints.append(Constraint(index, arg.op, True, False, value))
        notices = []
        lst = plan.table.list
        if lst is not None and not lst.marketplace_param and not any(a.role == "input" for a in plan.args) \
                and report_unit(spec) == "marketplace":  # a region-wide report covers the region, as paging does
            notices.append(f"{plan.table.name}: the order report covers the connection's marketplaces "
                           f"({', '.join(ctx.marketplace_ids())}); {lst.operation.name if lst.operation else 'paging'} "
                           "would also return the orders of any other marketplace the seller sells in (filter "
                           f"{marketplace_column(spec) or 'the marketplace'}, or use Route=auto or api)")
        if not any(a.role == "after" for a in plan.args):  # the window paging would read: the last LookbackDays
            now = ctx.now.replace(second=0, microsecond=0)
            days = ctx.lookback_days or (lst.max_lookback_days if lst is not None else 730)
            latest = now - timedelta(seconds=lst.before_min_age_seconds if lst is not None else 0)
            constraints += [Constraint(window, GE, True, False, format_api_time(now - timedelta(days=days))),
                            Constraint(window, LT, True, False, format_api_time(latest))]
            if ctx.lookback_days:
                notices.append(default_window_notice(plan.table.name, plan.window.column, days))
        choice = _REPORT.choose(report, rspec, constraints, 0, None)
        ordered: list[Any] = [None] * len(choice.usage)
        for i, argv, _omit, _in in choice.usage:
            ordered[argv - 1] = constraints[i].rhs
        bound = _REPORT.bind(choice.plan, ordered, ctx)
        return Bound(inputs={"report": (choice.plan, bound), "notices": notices, "notify": ctx.notice})

    # ------------------------------------------------------------------------------------------ fetch
    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """A scan: the report's rows grouped into orders; a lookup: the cached orders' rows, else the next route."""
        spec = plan.route
        assert isinstance(spec, BulkSpec)
        if spec.entity:
            yield from _fetch_lookup(plan, bound, scope)
            return
        if "report" not in bound.inputs:
            return
        report_plan, report_bound = bound.inputs["report"]
        orders = _Orders(plan, spec, scope)
        group: Any = None
        rows: list[tuple[Mapping[str, Any], Request]] = []
        for row, source, _parent in _REPORT.fetch(report_plan, report_bound, scope):
            assert source is not None
            order_id = cell(spec.key, row, source.query)
            if order_id is None:
                continue
            if (order_id, source.query.get("reportId")) != group and rows:
                yield from orders.emit(str(group[0]), rows)
                rows = []
            group = (order_id, source.query.get("reportId"))  # one report's rows: the next report may list it again
            rows.append((row, source))
        if rows:
            yield from orders.emit(str(group[0]), rows)
        notify = bound.inputs["notify"]
        for message in bound.inputs["notices"] + orders.notices():
            notify(message)


# ---------------------------------------------------------------------------------------------- scans


class _Orders:
    """The orders of one scan: shaped, kept in the entity cache with their rows, each yielded once."""

    def __init__(self, plan: Plan, spec: BulkSpec, scope: Scope) -> None:
        self.plan = plan
        self.shaper = Shaper(plan.table, spec)
        self.scope = scope
        self.recent: OrderedDict[str, str] = OrderedDict()  # order id → the report it came from
        self.late = 0

    def emit(self, order_id: str, rows: list[tuple[Mapping[str, Any], Request]]) -> Iterator[Row]:
        """Yield one order (its rows are all read), unless it was yielded before."""
        report_id = str(rows[0][1].query.get("reportId"))
        earlier = self.recent.get(order_id)
        if earlier is not None:
            if earlier == report_id:  # the same file listed this order apart: keep its rows for later lookups
                self.late += 1
                cached = self.scope.entity(str(self.plan.table.entity), order_id)
                if cached is not None:
                    cached[ROWS].extend(rows)
            return  # else another report's window met this one's: the same order again
        self.recent[order_id] = report_id
        while len(self.recent) > RECENT_ORDERS:
            self.recent.popitem(last=False)
        obj, request, _parent = self.shaper.shape(*rows[0])
        self.scope.remember(self.plan.table, {**obj, ROWS: rows}, request)
        yield obj, request, None

    def notices(self) -> list[str]:
        """What the user is told about a file not grouped by order."""
        if not self.late:
            return []
        return [f"{self.plan.table.name}: the order report listed items of {self.late} order(s) apart from their "
                "other items; each order was read once, and items read with it earlier in the statement may lack "
                "the later ones"]


# ---------------------------------------------------------------------------------------------- lookups


def _lookup(table: TableSpec, spec: BulkSpec, constraints: Sequence[Constraint], n_orderby: int,
            used: frozenset[int] | None, lacking: list[str] | None) -> Choice | None:
    """``key = v``: the next route's choice (its arguments), answered from the cached report orders first."""
    if not usable_on(table, constraints, key_column(table, spec), EQ):
        return None
    nxt = _next_choice(table, constraints, n_orderby, used)
    if nxt is None or nxt.plan.missing:
        return None
    if lacking:
        text = f"bulk {spec.entity} report rows — Route=report, but the order report lacks {listed(lacking)}"
        return replace(nxt, plan=replace(nxt.plan, route=spec, mode=UNMAPPED, text=text))
    text = f"bulk {spec.entity} report rows — no call for an {spec.entity} the order report gave this statement, " \
           f"else {nxt.plan.text}"
    return replace(nxt, plan=replace(nxt.plan, route=spec, text=text))


def _bind_lookup(plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
    """The keys asked for; the next route binds the same values only if an order is not cached (at fetch)."""
    spec = plan.route
    assert isinstance(spec, BulkSpec)
    got = collect(plan, values)
    key = key_column(plan.table, spec).lower()
    keys: set[str] = set()
    for (_role, column, _param), items in got.sets.items():
        if column.lower() == key:
            keys |= items
    bound = Bound(keys=[] if got.empty else sorted(keys), stop_after=got.stop_after)
    bound.inputs["next"] = (replace(plan, route=_next_route(plan.table)), tuple(values), ctx)
    return bound


def _fetch_lookup(plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
    """Each key's rows from its cached report order; the keys not cached through the next route."""
    spec = plan.route
    assert isinstance(spec, BulkSpec)
    shaper = Shaper(plan.table, spec)
    missing: set[str] = set()
    for key in bound.keys:
        order = scope.entity(spec.entity + ENTITY_SUFFIX, key)
        if order is None:
            missing.add(key)
            continue
        for row, source in order[ROWS]:
            yield shaper.shape(row, source)
    if missing:
        nxt, values, ctx = bound.inputs["next"]
        route = _route(nxt.route.kind)
        other = route.bind(nxt, values, ctx)
        rest = replace(other, requests=[r for r in other.requests if missing & {str(v) for v in r.path.values()}],
                       keys=[k for k in other.keys if k in missing])
        yield from route.fetch(nxt, rest, scope)


# ---------------------------------------------------------------------------------------------- routes


def _next_route(table: TableSpec) -> RouteSpec:
    """The route after ``bulk`` that serves the table otherwise: a list, window or nested route."""
    kinds = [r.kind for r in table.routes]
    after = kinds.index("bulk") + 1
    if after >= len(kinds) or kinds[after] not in _NEXT:
        raise InternalError(f"table {table.name}: a [bulk] route needs a {', '.join(_NEXT)} route after it")
    return table.routes[after]


def _next_choice(table: TableSpec, constraints: Sequence[Constraint], n_orderby: int,
                 used: frozenset[int] | None) -> Choice | None:
    """What the next route would do with this access."""
    nxt = _next_route(table)
    return _route(nxt.kind).choose(table, nxt, constraints, n_orderby, used)


def _route(kind: str) -> Route:
    """The behaviour of a route the bulk route falls back to."""
    return _NEXT[kind]


#: The routes a bulk route falls back to, by kind (stateless behaviour, as in the registry).
_NEXT: Mapping[str, Route] = {route.kind: route for route in (ListRoute(), WindowRoute(), NestedRoute())}


__all__ = ["BulkRoute", "RECENT_ORDERS", "UNMAPPED"]
