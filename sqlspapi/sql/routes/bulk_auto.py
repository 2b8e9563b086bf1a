"""When the ``bulk`` route's auto mode (``Route=auto``) reads the order report instead of paging.

Only when the report can give the same answer and it pays, judged before any call:

- the report must cover what paging covers: an API that returns every marketplace's orders (searchOrders has no
  marketplace parameter) matches reports of one marketplace each only when the query filters the marketplace; a
  region-wide report (the order reports: one per region holds every marketplace of the region) always does;
- the orders expected — the constant date range × the rows a day an earlier whole scan of the list operation saw on
  this account (:class:`~sqlspapi.http.pace.PaceBook`), at most a constant LIMIT — reach the definition's
  ``threshold``; no volume seen, or a range that is not a constant, means paging;
- the reports needed (one per marketplace, or region, and window slice) are fewer than the pages they replace.

Each answer comes with the reason EXPLAIN QUERY PLAN shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlspapi.definitions.schema import BulkSpec, ListSpec, ReportSpec, TableSpec
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.plan import EQ, LIMIT, OFFSET, UNKNOWN, Constraint, Plan
from sqlspapi.sql.routes.base import usable_on
from sqlspapi.sql.routes.bulk_rows import marketplace_column, per_report, region_wide, report_table, span_text
from sqlspapi.sql.routes.windows import estimated_span


def auto_choice(table: TableSpec, spec: BulkSpec, column: str, paging: Plan, constraints: Sequence[Constraint],
                env: CostEnv | None) -> tuple[str, bool]:
    """Whether the auto mode reads the report of ``column``'s range rather than ``paging``, and why (for EXPLAIN)."""
    return _every_marketplace(table, spec, paging, constraints) \
        or _expected(spec, column, paging, constraints, env)


def _expected(spec: BulkSpec, column: str, paging: Plan, constraints: Sequence[Constraint],
              env: CostEnv | None) -> tuple[str, bool]:
    """Why the auto mode takes the report (of ``column``'s range) or pages, and whether it takes it: the orders
    expected (the constant range × the rows a day seen in an earlier whole scan of the list operation) against the
    threshold — and the reports needed (per marketplace or region, and window slice) against the pages they
    replace."""
    lst = paging.route
    if env is None or not isinstance(lst, ListSpec) or lst.operation is None:
        return "the account's volume is not known here", False
    op = lst.operation.name
    days = estimated_span(paging, lst, env, False)
    if days is None:
        return "the date range is not a constant, so its volume cannot be estimated", False
    seen = env.pace.seen(op)
    if seen.rows_per_day is None:
        return f"no whole {op} scan of a date window seen yet on this account, so its volume is unknown", False
    expected = seen.rows_per_day * days
    limit = _limit(constraints)
    if limit is UNKNOWN:
        return "a LIMIT that is not a constant", False
    if limit is not None:
        expected = min(expected, float(limit))
    what = f"~{expected:,.0f} orders expected ({seen.rows_per_day:,.0f} a day seen)"
    if expected < spec.threshold:
        return f"{what} < {spec.threshold:,}", False
    pages = math.ceil(expected / (seen.rows_per_page or lst.page_size_max or 100))
    span = report_table(spec, column).route("report")
    assert isinstance(span, ReportSpec)
    slices = math.ceil(days / span.max_span_days) if span.max_span_days else 1
    unit, units = per_report(spec, env)
    reports = slices * (units or 1)
    if reports >= pages:  # a long, thin range: a report per marketplace (region) and window would replace no page
        return (f"{what}, but ~{reports:,} reports ({units or 1} {unit}(s) × {slices} window(s) of "
                f"{span.max_span_days} days) are not fewer than ~{pages:,} pages"), False
    return (f"{what} ≥ {spec.threshold:,}: one report per {span_text(spec)} days instead of ~{pages:,} pages"), True


def _every_marketplace(table: TableSpec, spec: BulkSpec, paging: Plan,
                       constraints: Sequence[Constraint]) -> tuple[str, bool] | None:
    """Why not, when paging returns every marketplace's orders (no marketplace parameter: searchOrders) and the
    query does not pin its marketplaces: a report covers one marketplace, so the answers could differ."""
    lst = paging.route
    if not isinstance(lst, ListSpec) or lst.marketplace_param or lst.operation is None or region_wide(spec):
        return None
    column = marketplace_column(spec)
    if column is None:
        return f"{lst.operation.name} reads every marketplace, a report one", False
    if usable_on(table, constraints, column, EQ):
        return None
    return (f"{lst.operation.name} returns every marketplace's orders and a report one marketplace's: filter "
            f"{table.columns[table.column_index(column)].name} (= or IN) to read the order report"), False


def _limit(constraints: Sequence[Constraint]) -> Any:
    """The rows a constant LIMIT (plus OFFSET) lets SQLite read; None without a LIMIT, UNKNOWN when not constant."""
    total = None
    for op in (LIMIT, OFFSET):
        c = next((c for c in constraints if c.usable and c.op == op), None)
        if c is None:
            continue
        if not isinstance(c.rhs, int):
            return UNKNOWN
        total = (total or 0) + max(c.rhs, 0)
    return total


__all__ = ["auto_choice"]
