"""What a ``list`` route's scan costs: the estimate of its calls, and what a whole scan teaches later estimates.

:func:`list_calls` counts requests (IN batches × marketplace batches × fanned-out values × window slices) and pages
per request from a constant LIMIT, else from the rows per day and page size the account's pace book saw in an earlier
whole scan; :func:`learn` records such a scan in the pace book. :func:`fanned_out` names the filters a plan calls
once per batch of their known values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlspapi.definitions.schema import FilterSpec, ListSpec
from sqlspapi.sql.cost import Calls, CostEnv, window_days
from sqlspapi.sql.isotime import to_api_time
from sqlspapi.sql.plan import Arg, Plan, Request
from sqlspapi.sql.routes.base import Scope, filter_for
from sqlspapi.sql.routes.windows import estimated_span

__all__ = ["fanned_out", "learn", "list_calls"]


def list_calls(plan: Plan, env: CostEnv) -> Calls:
    """Requests (IN batches × marketplace batches × window slices) × pages per request: a constant LIMIT gives the
    pages, else the rows per day and page size seen in an earlier whole scan, else unknown."""
    spec = plan.route
    assert isinstance(spec, ListSpec)
    op = spec.operation
    requests, per, id_list = 1.0, "", False
    narrowed = False
    limit = 0
    for arg, value in zip(plan.args, plan.values, strict=False):
        f = filter_for(spec.filters, arg.column) if arg.role in ("filter", "path") else None
        if arg.role in ("limit", "offset"):
            limit = limit + int(value) if isinstance(value, int) and limit is not None else None
        elif f is not None and arg.is_in and (f.batch or arg.role == "path"):
            per = f"{f.batch} {arg.column} values" if f.batch and arg.role != "path" else f"{arg.column} value"
            id_list |= f.batch is not None and f.param != spec.marketplace_param
        elif f is not None:
            narrowed = True
    if spec.marketplace_param and not any(a.param == spec.marketplace_param for a in plan.args):
        requests *= math.ceil((env.marketplaces or 1) / spec.marketplace_batch)
    for f in fanned_out(spec, plan.args):
        requests *= math.ceil(len(f.values) / (f.batch or len(f.values)))
    days = estimated_span(plan, spec, env, id_list)
    span = (plan.window or (spec.windows[0] if spec.windows else None))
    slices = 1
    if span is not None and span.max_span_days and days is not None:
        slices = max(1, math.ceil(days / span.max_span_days))
        requests *= slices
    seen = env.pace.seen(op.name) if op is not None else None
    page = (seen.rows_per_page if seen else None) or spec.page_size_max
    if any(a.role == "limit" for a in plan.args) and limit and page:
        return Calls(op, requests * math.ceil(limit / page), "page", per, upper=True)
    if id_list:
        return Calls(op, requests, "call", per)
    if seen is not None and seen.rows_per_day is not None and days is not None and page:
        rows = seen.rows_per_day * days / slices  # a request's rows: the density is learned per request
        basis = f"{seen.rows_per_day:,.1f} rows a day seen in an earlier scan"
    elif seen is not None and seen.rows_per_scan is not None and days is None and page:
        rows = seen.rows_per_scan
        basis = f"{seen.rows_per_scan:,.0f} rows seen in an earlier whole scan"
    else:
        name = op.name if op is not None else "it"
        return Calls(op, None, "page", per, basis=f"no whole scan of {name} seen yet on this account")
    pages = requests * max(1.0, math.ceil(rows / page))
    return Calls(op, pages, "page", per, upper=narrowed or plan.limited, basis=basis)


def fanned_out(spec: ListSpec, args: Sequence[Arg]) -> list[FilterSpec]:
    """The filters with known ``values`` that the plan does not filter: the route calls once per batch of them."""
    given = {a.column.lower() for a in args}
    return [f for f in spec.filters if f.values and f.column.lower() not in given]


def learn(plan: Plan, req: Request, scope: Scope, rows: int, largest: int) -> None:
    """Tell the account's pace book what a whole scan of a date window held (rows per day, page size), when only
    the window (and the marketplaces) chose the rows: what estimates of later scans are made of."""
    spec = plan.route
    assert isinstance(spec, ListSpec)
    if any(a.role in ("filter", "path") and a.param != spec.marketplace_param for a in plan.args):
        return  # a filtered scan says nothing of the whole volume
    days = None
    if plan.window is None and not spec.window_required:
        scope.pace.scanned(req.operation.name, rows, None, largest)
        return
    for window in spec.windows:
        after = req.query.get(window.after or "")
        if isinstance(after, str):
            before = req.query.get(window.before or "")
            end = to_api_time(before, window.column) if isinstance(before, str) else None
            days = window_days(to_api_time(after, window.column), end, datetime.now(UTC))
            break
    if days is not None and req.operation is not None:
        scope.pace.scanned(req.operation.name, rows, days, largest)
