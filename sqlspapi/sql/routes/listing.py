"""The ``list`` route (a paged list call) and the ``window`` route (a long date range split into API-sized calls).

Rules, all driven by the definition:

- ``=``/``IN`` on a declared filter column → its query parameter (a list parameter takes the IN list, split into
  batches of ``batch``: the "multiget" case, e.g. 50 order ids or 20 ASINs a call), or one call per value for a
  path parameter (``order_items`` by order id).
- range constraints on a window column → its After/Before parameter (a window may have only one of them). Only one
  window reaches the API (the first with a lower bound, else the first with any bound); SQLite re-checks all.
  Before is clamped to now − the API's minimum age. With no window filter and ``window_required`` the scan starts
  ``LookbackDays`` ago. ``max_span_days`` splits the range into consecutive calls.
- the marketplace parameter, when no filter sets it, holds the connection's marketplaces in batches of
  ``marketplace_batch`` (1 = one call per marketplace: the fan-out that fills a ``?marketplaceIds`` column); a
  filter that declares ``values`` fans out the same way over them when the query does not filter its column.
- LIMIT (and OFFSET) size the page and stop paging only when every constraint was consumed exactly and there is
  no ORDER BY: otherwise SQLite's own filtering after a truncated scan would give wrong results.
- paging: the token goes back with the original parameters, or alone (``token_only``); with
  ``token_ttl_seconds`` an expired token (a slow reader) restarts the chain, skipping the rows already produced.
- ``result_ceiling``: a search whose total exceeds what the API lets one page through is an error, not a
  silently short answer.
- whole pages only: every call carries the route's :class:`~sqlspapi.http.response.Envelope` (rows path, next-token
  path, ``empty_rows_omitted``), so a page without its rows array is retried and reported by the client, never read
  as "no rows"; and every page chain is bounded: a next token already followed in the chain (the API is looping)
  or more than :data:`MAX_PAGES` pages is an error, not an endless or repeated scan.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlspapi.definitions.schema import ListSpec, RouteSpec, TableSpec
from sqlspapi.errors import ProgrammingError, SPAPIError
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.plan import (
    EQ,
    GE,
    GT,
    IMPOSSIBLE_COST,
    LE,
    LIMIT,
    LT,
    OFFSET,
    Arg,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Plan,
    Request,
    Row,
)
from sqlspapi.sql.routes.base import (
    Route,
    Scope,
    all_exact,
    apply_derived,
    apply_parts,
    base_query,
    collect,
    connection_path,
    describe,
    filter_for,
    missing_groups,
    push_limit,
    restricted_notice,
    usable_on,
)
from sqlspapi.sql.routes.listing_cost import fanned_out, learn, list_calls
from sqlspapi.sql.routes.paging import MAX_PAGES, PAGING_LOOP, Chain  # noqa: F401 - re-exported
from sqlspapi.sql.routes.windows import pick_window, windows_for
from sqlspapi.sql.rows import as_rows, dig


def envelope(spec: ListSpec) -> Envelope:
    """What a whole page of ``spec``'s operation holds: its rows (unless omitted when empty) and next token."""
    return Envelope(rows=spec.rows, rows_optional=spec.empty_rows_omitted, next_token=spec.next_token)


class ListRoute(Route):
    """A paged list operation with pushed-down filters, windows, marketplaces and LIMIT."""

    kind = "list"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """Push every declared filter and one window; LIMIT only when nothing is left for SQLite."""
        assert isinstance(spec, ListSpec)
        names = [c.name for c in table.columns]
        usage: list[tuple[int, int, bool, bool]] = []
        args: list[Arg] = []
        shown: list[Constraint] = []
        rows = 1_000_000.0
        key = table.get.column if table.get else table.key
        given = {names[c.column].lower() for c in constraints if c.usable and c.op == EQ and c.column >= 0}
        for i, c in enumerate(constraints):
            if not c.usable or c.op != EQ or c.column < 0:
                continue
            f = filter_for(spec.filters, names[c.column])
            if f is None or ("IN" if c.is_in else "=") not in f.ops:
                continue
            if any(other.lower() in given for other in f.not_with):
                continue  # the API refuses the two together: SQLite filters this one
            usage.append((i, len(usage) + 1, f.exact, c.is_in))
            args.append(Arg("path" if f.path_param else "filter", f.column, EQ, f.path_param or f.param, c.is_in))
            shown.append(c)
            rows /= 50 if f.column == key else 10
        window = pick_window(spec.windows, table, constraints)
        if window is not None:
            for i, c in usable_on(table, constraints, window.column, GT, GE, LT, LE):
                lower = c.op in (GT, GE)
                param = window.after if lower else window.before
                if param is None:
                    continue  # a one-sided window: SQLite filters the other side
                usage.append((i, len(usage) + 1, False, False))
                args.append(Arg("after" if lower else "before", window.column, c.op, param))
                shown.append(c)
            rows /= 10
        missing = missing_groups(table, args, [f.column for f in spec.filters if f.required])
        if all_exact(constraints, usage) and n_orderby == 0 and not missing:
            push_limit(constraints, usage, args, shown)
        mode = "multiget" if any(a.is_in and a.column == key for a in args) else self.kind
        limited = any(c.op == LIMIT for c in constraints)  # a result ceiling is then checked as pages come
        plan = describe(Plan(table, spec, tuple(args), window, missing, used, mode=mode, limited=limited), shown,
                        self)
        if missing:
            return Choice(plan, usage, cost=IMPOSSIBLE_COST, rows=2**62)
        if any(a.role == "path" or a.role == "filter" and (f := filter_for(spec.filters, a.column)) is not None
               and f.required for a in args):
            return Choice(plan, usage, cost=10.0, rows=10)  # a look-up by value (a path, a required filter)
        return Choice(plan, usage, cost=max(rows, 100.0), rows=int(max(rows, 100.0)))

    def defaults(self, plan: Plan) -> list[str]:
        """The default look-back and the connection's marketplaces, when no constraint gives them."""
        spec = plan.route
        assert isinstance(spec, ListSpec)
        out = []
        if spec.window_required and plan.window is None and spec.windows:
            batched = any(a.role == "filter" and (f := filter_for(spec.filters, a.column)) is not None and f.batch
                          and f.param != spec.marketplace_param for a in plan.args)
            out.append(f"{spec.windows[0].after}=now-{spec.max_lookback_days}d" if batched
                       else f"{spec.windows[0].after}=now-LookbackDays (a default window: older rows are not read)")
        if spec.marketplace_param and not any(a.param == spec.marketplace_param for a in plan.args):
            out.append(f"{spec.marketplace_param}=<connection marketplaces>")
        out += [f"{f.param or f.path_param}=<each of {len(f.values)} known {f.column} values>"
                for f in fanned_out(spec, plan.args)]
        return out

    def note(self, plan: Plan) -> str:
        """Split windows say so."""
        spec = plan.route
        assert isinstance(spec, ListSpec)
        span = next((w.max_span_days for w in spec.windows if w.max_span_days), None)
        return f"one call per {span} days of the range" if span else ""

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """Requests × pages per request (:func:`~sqlspapi.sql.routes.listing_cost.list_calls`)."""
        return list_calls(plan, env)

    # ---------------------------------------------------------------------------------------------- bind
    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The requests: filters as parameters, IN lists batched, path parameters and marketplaces fanned out."""
        spec = plan.route
        assert isinstance(spec, ListSpec)
        got = collect(plan, values)
        if got.empty:
            return Bound()
        restricted_notice(plan, ctx)
        fixed_path = connection_path(spec.operation, ctx, {name for role, _c, name in got.sets if role == "path"})
        query = base_query(spec, ctx.include_restricted)
        apply_parts(plan.table, query, plan.columns_used)
        dims: list[list[tuple[str, str, Any]]] = []
        id_list = False
        for (role, column, name), vals in got.sets.items():
            assert name is not None
            f = filter_for(spec.filters, column)
            assert f is not None
            ordered = sorted(vals)
            if role == "path":
                dims.append([("path", name, v) for v in ordered])
            elif "IN" in f.ops:
                size = f.batch or len(ordered)
                dims.append([("query", name, ordered[k:k + size]) for k in range(0, len(ordered), size)])
                id_list |= f.batch is not None and f.param != spec.marketplace_param
            else:
                query[name] = ordered[0]
            query.update(f.params)
        if spec.marketplace_param and not any(name == spec.marketplace_param for (_r, _c, name) in got.sets):
            ids = list(ctx.marketplace_ids())
            size = spec.marketplace_batch
            dims.append([("query", spec.marketplace_param, ids[k:k + size]) for k in range(0, len(ids), size)])
        for f in fanned_out(spec, plan.args):
            size = f.batch or len(f.values)
            dims.append([("path", f.path_param, v) for v in f.values] if f.path_param else
                        [("query", f.param, list(f.values[k:k + size])) for k in range(0, len(f.values), size)])
        notices: list[str] = []
        windows = windows_for(plan, spec, got.after, got.before, ctx, id_list, notices)
        if windows is None:
            return Bound()
        if got.stop_after is not None and spec.page_size_param and spec.page_size_max:
            query[spec.page_size_param] = max(1, min(spec.page_size_max, got.stop_after))
        requests = []
        for window_params, *combo in itertools.product(windows, *dims):
            q, p = {**query, **window_params}, dict(fixed_path)
            for kind, name, v in combo:
                (p if kind == "path" else q)[name] = v
            apply_derived(spec, q, ctx)
            requests.append(Request(spec.operation, p, q))  # type: ignore[arg-type]
        bound = Bound(requests, stop_after=got.stop_after)
        if notices:
            bound.inputs["notice"] = (ctx.notice, notices[0])  # told only if the scan runs to its end (fetch)
        return bound

    # --------------------------------------------------------------------------------------------- fetch
    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Page through each request; stop as soon as ``stop_after`` rows were produced.

        Short-lived tokens (``token_ttl_seconds``): a token is used at once when SQLite reads fast; when SQLite was
        slow (the token is older than its life) or the API refuses it (HTTP 400), the chain restarts with fresh
        calls, skipping the rows it already produced — so a slow reader gets every row exactly once.
        """
        spec = plan.route
        assert isinstance(spec, ListSpec)
        produced = 0
        for req in bound.requests:
            data = self._call(spec, req, req.query, scope)
            chain_tokens = Chain(req.operation.name)
            over = bound.stop_after is not None and spec.result_ceiling is not None \
                and bound.stop_after > spec.result_ceiling
            if data is not None and (not plan.limited or over):
                self._check_ceiling(spec, req, data, None)  # more rows are needed than reachable: fail at once
            chain = skip = largest = 0
            received = time.monotonic()
            while data is not None:
                rows = as_rows(dig(data, spec.rows))[skip:]
                token = dig(data, spec.next_token) if spec.next_token else None
                largest = max(largest, len(rows))
                scope.progress.page(req.operation.name)
                for obj in rows:
                    yield obj, req, None
                    produced += 1
                    chain += 1
                    # a table's hook may turn an object into no row (a listing without issues): then SQLite, not
                    # the count of objects, says when enough rows came (it stops pulling: no page more is fetched)
                    if bound.stop_after is not None and produced >= bound.stop_after and plan.table.hook is None:
                        return
                if not token:
                    self._check_ceiling(spec, req, data, chain)  # SQLite still wants rows: short only if capped
                    learn(plan, req, scope, chain, largest)
                    break
                chain_tokens.follow(token)
                data, skip = self._follow(spec, req, scope, token, received, chain, chain_tokens)
                received = time.monotonic()
        if "notice" in bound.inputs:
            # Every row of the default window was read and SQLite still wanted more: older rows would have
            # counted. (A scan a LIMIT stopped early is a whole answer: any rows were right.)
            notify, message = bound.inputs["notice"]
            notify(message)

    def _follow(self, spec: ListSpec, req: Request, scope: Scope, token: str, received: float,
                chain: int, tokens: Chain) -> tuple[Any, int]:
        """The next page, and how many of its rows were already produced (non-zero only after a restart)."""
        ttl = spec.token_ttl_seconds
        if ttl and time.monotonic() - received > ttl * 0.9:
            return self._restart(spec, req, scope, chain, tokens)
        try:
            return self._call(spec, req, self._next_query(spec, req, token), scope), 0
        except SPAPIError as exc:
            if ttl and exc.status == 400:
                return self._restart(spec, req, scope, chain, tokens)  # the token expired on the way
            raise

    def _restart(self, spec: ListSpec, req: Request, scope: Scope, chain: int, tokens: Chain) -> tuple[Any, int]:
        """Page again from the first page with fresh calls (each token used at once) up to the page holding row
        ``chain``; return it and how many of its rows to skip. The chain's tokens start again too."""
        expect = envelope(spec)
        data = scope.call(req.operation, req.path, req.query, fresh=True, expect=expect)
        tokens.seen.clear()
        seen = 0
        while True:
            count = len(as_rows(dig(data, spec.rows)))
            token = dig(data, spec.next_token)
            if seen + count > chain or not token:
                return data, chain - seen
            seen += count
            tokens.follow(token)
            data = scope.call(req.operation, req.path, self._next_query(spec, req, token), fresh=True, expect=expect)

    @staticmethod
    def _next_query(spec: ListSpec, req: Request, token: str) -> dict[str, Any]:
        param = spec.next_param or "NextToken"
        return {param: token} if spec.token_only else {**req.query, param: token}

    @staticmethod
    def _call(spec: ListSpec, req: Request, query: Any, scope: Scope) -> Any:
        try:
            return scope.call(req.operation, req.path, query, expect=envelope(spec))
        except SPAPIError as exc:
            if exc.status == 404 and req.path:
                return None  # e.g. the items of an order that does not exist: no rows
            raise

    @staticmethod
    def _check_ceiling(spec: ListSpec, req: Request, data: Any, reached: int | None) -> None:
        """Raise when the API's total exceeds what one search can page through and the rows would be cut short.

        ``reached`` None: checked before paging (every row is needed); else the rows this chain yielded when its
        last page came (SQLite still reading, so the answer would be silently short if the total is larger).
        """
        if not (spec.result_ceiling and spec.total):
            return
        total = dig(data, spec.total)
        if not isinstance(total, int) or total <= spec.result_ceiling or (reached is not None and reached >= total):
            return
        shown = ", ".join(f"{k}={v}" for k, v in sorted(req.query.items())
                          if k not in (spec.page_size_param, spec.next_param))
        raise ProgrammingError(
            f"{req.operation.name} matched {total:,} results but Amazon lets one search page through at most "
            f"{spec.result_ceiling:,} ({shown}). Narrow the search (more keywords, brandNames, "
            f"classificationIds, a marketplaceId) or add LIMIT {spec.result_ceiling} to take the first "
            f"{spec.result_ceiling:,}.")


class WindowRoute(ListRoute):
    """A list route whose date range is split into consecutive calls no longer than the API allows."""

    kind = "window"

# Keep the LIMIT/OFFSET names importable for the vtable's operator map.
__all__ = ["ListRoute", "WindowRoute", "LIMIT", "OFFSET"]
