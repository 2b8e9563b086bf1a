"""The route contract and the helpers every route shares.

A route is a fetch strategy with three steps, each a method of :class:`Route`:

- ``choose(table, spec, constraints, n_orderby, used)`` — inside BestIndexObject, pure: which constraints reach the
  API (a :class:`~sqlspapi.sql.plan.Choice`), or None when this route cannot serve the access;
- ``bind(plan, values, ctx)`` — inside Filter, pure: the plan plus the constraint values → the requests;
- ``fetch(plan, bound, scope)`` — the I/O: requests → row objects, through the statement scope (which owns the
  client and the per-statement caches).

Routes register themselves by kind in :data:`sqlspapi.sql.routes.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol

from sqlspapi.definitions.schema import (
    FilterSpec,
    OperationSpec,
    RestrictedResource,
    RouteSpec,
    TableSpec,
    usable_path_value,
)
from sqlspapi.errors import ConnectionStringError, RestrictedColumnsWarning
from sqlspapi.http.pace import PaceBook
from sqlspapi.http.progress import Progress
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.isotime import to_api_time
from sqlspapi.sql.plan import (
    EQ,
    IMPOSSIBLE_COST,
    LE,
    LIMIT,
    OFFSET,
    RANGE_TEXT,
    UNKNOWN,
    Arg,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Plan,
    Row,
)

if TYPE_CHECKING:
    from sqlspapi.reports.lifecycle import ReportService


class Scope(Protocol):
    """What a route's fetch may use: the statement scope (:class:`sqlspapi.sql.statement.StatementScope`)."""

    poll_scale: float
    #: The running statement's progress (routes report pages to it).
    progress: Progress
    #: The account's pace book (the list route records whole scans in it).
    pace: PaceBook

    def call(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             fresh: bool = False, expect: Envelope | None = None, rdt: RestrictedResource | None = None) -> Any:
        """One call's decoded JSON (GETs answered from the statement cache unless ``fresh``); an answer without what
        ``expect`` says a whole answer holds is retried, then raised (``IncompleteResponse``); ``rdt``: with a
        Restricted Data Token for that resource."""

    def send(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             expect: Envelope | None = None) -> Any:
        """One call, uncached: the client's answer."""

    #: The account's report lifecycle (the report route).
    reports: ReportService

    def download(self, url: str) -> bytes:
        """The bytes at a pre-signed URL."""

    def download_to(self, url: str, out: IO[bytes]) -> str | None:
        """Stream the body at a pre-signed URL into ``out``; its Content-Type."""

    def entity_source(self, table: TableSpec) -> TableSpec:
        """The table that provides a nested table's parent entity."""

    def entity(self, entity: str, key: str, parts: Iterable[str] = ()) -> Mapping[str, Any] | None:
        """A cached parent entity fetched with at least ``parts``."""

    def remember(self, table: TableSpec, obj: Mapping[str, Any], request: Any, parent: Any = None,
                 parts: frozenset[str] = frozenset()) -> None:
        """Keep an entity for nested tables."""

    def memo(self, name: str) -> dict[Any, Any]:
        """A dict the running statement keeps for a route (e.g. batch sub-responses already answered)."""


class Route:
    """Base of every route: subclasses set ``kind`` and implement choose / bind / fetch."""

    kind = ""

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice | None:
        """Pick the constraints to push, or None when this route cannot serve the access."""
        raise NotImplementedError

    def choose_in(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
                  used: frozenset[int] | None, env: CostEnv | None) -> Choice | None:
        """:meth:`choose` with what the account's calls were seen to do and the ``Route`` mode (``env``; None when
        unknown): what the planner calls. Only a route that weighs volumes (``bulk``) reads ``env``."""
        return self.choose(table, spec, constraints, n_orderby, used)

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """Turn a plan and its Filter arguments into requests; an impossible filter gives none."""
        raise NotImplementedError

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Yield the row objects of a bound plan, lazily."""
        raise NotImplementedError

    def choose_inputs(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint],
                      used: frozenset[int] | None, cost: float, rows: int) -> Choice:
        """A choice for routes driven by hidden inputs only (document, python): every input consumed exactly."""
        usage, args, shown = hidden_inputs(table, constraints)
        missing = missing_groups(table, args)
        plan = describe(Plan(table, spec, tuple(args), missing=missing, columns_used=used), shown, self)
        return Choice(plan, usage, cost=IMPOSSIBLE_COST if missing else cost, rows=rows)

    def operation_name(self, plan: Plan) -> str:
        """The operation EXPLAIN shows."""
        return plan.route.operation.name if plan.route.operation else plan.route.kind

    def note(self, plan: Plan) -> str:
        """A short cost note EXPLAIN appends (e.g. "one call per value")."""
        return ""

    def defaults(self, plan: Plan) -> list[str]:
        """Parameters EXPLAIN shows that no constraint gave (default windows, connection marketplaces)."""
        return []

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """The calls one run of the access makes, before any call (:mod:`sqlspapi.sql.cost`): by default one call of
        the route's operation."""
        return Calls(plan.route.operation, 1.0)


# ------------------------------------------------------------------------------------------------- helpers


def usable_on(table: TableSpec, constraints: Sequence[Constraint], column: str, *ops: str,
              is_in: bool | None = None) -> list[tuple[int, Constraint]]:
    """The usable constraints on ``column`` with one of ``ops`` (and the given IN-ness)."""
    idx = table.column_index(column)
    return [(i, c) for i, c in enumerate(constraints)
            if c.usable and c.column == idx and c.op in ops and (is_in is None or c.is_in == is_in)]


def hidden_inputs(table: TableSpec, constraints: Sequence[Constraint]
                  ) -> tuple[list[tuple[int, int, bool, bool]], list[Arg], list[Constraint]]:
    """Every usable ``=`` on a hidden input column, consumed exactly: (usage, args, shown) for a route's choice.

    An ``IN`` list on an input is not taken whole: SQLite then runs the scan once per value (one input each).
    """
    usage: list[tuple[int, int, bool, bool]] = []
    args: list[Arg] = []
    shown: list[Constraint] = []
    for i, c in enumerate(constraints):
        if c.usable and c.op == EQ and 0 <= c.column < len(table.columns) and table.columns[c.column].hidden:
            usage.append((i, len(usage) + 1, True, False))
            args.append(Arg("input", table.columns[c.column].name))
            shown.append(c)
    return usage, args, shown


def filter_for(filters: Sequence[FilterSpec], column: str) -> FilterSpec | None:
    """The filter declared on ``column`` (case-insensitive), if any."""
    lowered = column.lower()
    return next((f for f in filters if f.column.lower() == lowered), None)


def push_limit(constraints: Sequence[Constraint], usage: list[tuple[int, int, bool, bool]], args: list[Arg],
               shown: list[Constraint]) -> None:
    """Hand LIMIT and OFFSET to the route (only when every other constraint was consumed exactly)."""
    for op in (LIMIT, OFFSET):
        for i, c in enumerate(constraints):
            if c.usable and c.op == op:
                usage.append((i, len(usage) + 1, False, False))
                args.append(Arg(op.lower(), op=op))
                shown.append(c)
                break


def all_exact(constraints: Sequence[Constraint], usage: Sequence[tuple[int, int, bool, bool]]) -> bool:
    """True when SQLite has nothing left to filter: every constraint but LIMIT/OFFSET is consumed and omitted."""
    omitted = {i for i, _argv, omit, _in in usage if omit}
    return all(c.op in (LIMIT, OFFSET) or i in omitted for i, c in enumerate(constraints))


def missing_groups(table: TableSpec, args: Sequence[Arg], required: Sequence[str] = ()) -> tuple[str, ...]:
    """What a plan lacks: required filter columns and "one of" groups none of whose columns is filtered."""
    have = {a.column.lower() for a in args}
    missing = [c for c in required if c.lower() not in have]
    for group in table.one_of:
        if not any(c.lower() in have for c in group):
            missing.append("one of " + ", ".join(group))
    return tuple(missing)


def describe(plan: Plan, shown: Sequence[Constraint], route: Route) -> Plan:
    """Attach the EXPLAIN text: the operation, the parameters that will be sent, and a cost note."""
    parts = []
    for arg, c in zip(plan.args, shown, strict=False):
        value = " ?" if c.rhs is UNKNOWN and arg.is_in else "?" if c.rhs is UNKNOWN else repr(c.rhs)
        if arg.role in ("after", "before"):
            parts.append(f"{arg.param}←{arg.column}{RANGE_TEXT[arg.op]}{value}")
        elif arg.role in ("limit", "offset"):
            parts.append(f"{arg.role.upper()} {value}")
        else:
            parts.append(f"{arg.param or arg.column}{' IN' if arg.is_in else '='}{value}")
    parts += route.defaults(plan)
    if plan.missing:
        parts.append("MISSING required " + " and ".join(plan.missing))
    note = route.note(plan)
    text = f"{route.operation_name(plan)}({', '.join(parts)})" + (f" — {note}" if note else "")
    return replace(plan, text=text, values=tuple(c.rhs for c in shown))


@dataclass
class Values:
    """The Filter arguments of a plan, sorted by role: value sets per (role, column, param), window bounds, limit."""

    sets: dict[tuple[str, str, str | None], set[str]] = field(default_factory=dict)
    after: list[datetime] = field(default_factory=list)
    before: list[datetime] = field(default_factory=list)
    stop_after: int | None = None
    empty: bool = False


def collect(plan: Plan, values: Sequence[Any]) -> Values:
    """Sort a plan's Filter arguments (IN lists become sets; two ``=`` on one column intersect)."""
    out = Values()
    limit = offset = None
    for arg, value in zip(plan.args, values, strict=True):
        if arg.role in ("after", "before"):
            if value is None:
                out.empty = True
                continue
            moment = to_api_time(value, arg.column)
            if arg.op == LE:  # many APIs' Before is exclusive: one second more keeps the bound's own rows (SQLite
                moment += timedelta(seconds=1)  # re-checks every window bound, so nothing extra gets through)
            (out.after if arg.role == "after" else out.before).append(moment)
        elif arg.role == "limit":
            limit = int(value)
        elif arg.role == "offset":
            offset = int(value)
        else:
            if value is None and _hidden(plan.table, arg.column):
                continue  # a NULL input (catalog_items(NULL, …)) means "not given": the default applies
            items = value if arg.is_in else (value,)
            new = {as_text(v) for v in items if v is not None}
            if arg.role in ("key", "path") or arg.role == "filter" and _is_id(plan.table, arg.column):
                new = {v for v in new if usable_path_value(v)}  # '', '.', '..' are no id: no row, and no call
            key = (arg.role, arg.column, arg.param)
            old = out.sets.get(key)
            out.sets[key] = new if old is None else old & new
    if any(not v for v in out.sets.values()):
        out.empty = True  # e.g. OrderStatus = 'A' AND OrderStatus = 'B', or a NULL: nothing can match
    out.stop_after = None if limit is None or limit < 0 else limit + max(offset or 0, 0)
    return out


def _is_id(table: TableSpec, column: str) -> bool:
    """Whether ``column`` is the table's id (its key, or the column its get route reads by)."""
    lowered = column.lower()
    return any(c is not None and c.lower() == lowered for c in (table.key, table.get.column if table.get else None))


def _hidden(table: TableSpec, column: str) -> bool:
    try:
        return table.columns[table.column_index(column)].hidden
    except KeyError:
        return False


def base_query(spec: RouteSpec, include_restricted: bool) -> dict[str, Any]:
    """The route's fixed parameters, plus its restricted ones when restricted data is on (lists are merged)."""
    out = {k: list(v) if isinstance(v, list) else v for k, v in spec.params.items()}
    if include_restricted:
        for k, v in spec.restricted_params.items():
            out[k] = (list(out.get(k, [])) + list(v)) if isinstance(v, list) else v
    return out


def apply_parts(table: TableSpec, query: dict[str, Any], used: frozenset[int] | None) -> None:
    """Set the "which parts" parameter (includedData) from the columns the query uses."""
    parts = table.parts
    if parts is None:
        return
    indexes = range(len(table.columns)) if used is None or any(i >= 63 for i in used) else used
    wanted = set(parts.always)
    for i in indexes:
        col = table.columns[i]
        if col.source == "row" and col.path[0] in parts.names:
            wanted.add(col.path[0])
    query[parts.param] = sorted(wanted or parts.names[:1])


def restricted_used(table: TableSpec, used: frozenset[int] | None) -> list[str]:
    """The names of the RESTRICTED columns among those a query uses (SQLite's colUsed; None: every column; bit 63
    stands for column 63 and above)."""
    wide = used is None or any(i >= 63 for i in used)
    return [c.name for i, c in enumerate(table.columns)
            if c.restricted and (used is None or i in used or (wide and i >= 63))]


def restricted_notice(plan: Plan, ctx: BindContext) -> None:
    """Tell the user once (a :class:`~sqlspapi.errors.RestrictedColumnsWarning` notice) when the query uses
    restricted columns the connection does not include: Amazon leaves them out, so they come back NULL.

    Routes call it from ``bind`` (the get and list routes of a table with RESTRICTED columns); the engine keeps
    one notice per distinct text per statement, so a join that binds the table again does not repeat it.
    """
    if ctx.include_restricted:
        return
    names = restricted_used(plan.table, plan.columns_used)
    if not names:
        return
    listed = ", ".join(f"{plan.table.name}.{name}" for name in names)
    verb = "is restricted data (PII) and comes back NULL" if len(names) == 1 \
        else "are restricted data (PII) and come back NULL"
    ctx.notice(f"{listed} {verb}: add IncludeRestrictedData=true to the connection string (your SP-API app also "
               "needs the restricted role for this data in Developer Central; sqlspapi help orders-tables)",
               RestrictedColumnsWarning)


def apply_derived(spec: RouteSpec, query: dict[str, Any], ctx: BindContext) -> None:
    """Fill parameters derived from others or from the connection, unless a filter already set them.

    ``?param`` is the value of another query parameter of the same call (a one-item list gives the item:
    ``granularityId = ?marketplaceIds``); ``$name`` is a connection value (``$sellerId``, ``$marketplaces`` — the
    connection's marketplaces — and the other keys of ``BindContext.connection``).
    """
    for param, expr in spec.derived.items():
        if query.get(param) is not None:
            continue
        if expr.startswith("?"):
            value = query.get(expr[1:])
            if isinstance(value, list | tuple):
                value = value[0] if len(value) == 1 else list(value)
        elif expr == "$marketplaces":
            value = list(ctx.marketplace_ids())
        else:
            value = ctx.connection.get(expr[1:])
        if value is not None:
            query[param] = value


#: Path parameters the connection fills when no filter gives them: parameter → (connection-string key, what it is,
#: where the user finds it). ``{sellerId}`` is the Listings Items API's merchant token.
CONNECTION_PATH: Mapping[str, tuple[str, str, str]] = {
    "sellerId": ("SellerId", "your seller ID (the merchant token)",
                 "Seller Central → Settings → Account Info → Merchant Token"),
}


def connection_path(op: OperationSpec | None, ctx: BindContext, given: Iterable[str] = ()) -> dict[str, Any]:
    """The path parameters of ``op`` the connection fills (:data:`CONNECTION_PATH`: ``{sellerId}``) that no filter
    gives (``given``). A connection without the value is a :class:`~sqlspapi.errors.ConnectionStringError` raised
    while binding, before any call: what is missing, where to find it, which key to set."""
    out: dict[str, Any] = {}
    for name, (key, what, where) in CONNECTION_PATH.items():
        if op is None or name in given or "{" + name + "}" not in op.path:
            continue
        value = ctx.connection.get(name)
        if value is None or not str(value).strip():
            raise ConnectionStringError(
                f"{op.name} needs {what} and the connection string has no {key}: find it in {where} and add "
                f"{key}=<it> to the connection string (e.g. {key}=A1B2C3D4E5F6G7).", key=key)
        out[name] = value
    return out


def as_text(value: Any) -> str:
    """A constraint value as the text an API parameter carries (1.0 → "1")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["Route", "Scope", "Values", "usable_on", "hidden_inputs", "filter_for", "push_limit", "all_exact",
           "missing_groups", "describe", "collect", "base_query", "apply_parts", "restricted_used", "restricted_notice",
           "apply_derived", "connection_path", "CONNECTION_PATH", "as_text", "EQ"]
