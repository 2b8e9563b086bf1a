"""Date windows of the list route: which window a query bounds, and the After/Before parameters of each call.

A window's lower bound comes from the query, else (when the API needs one) from ``LookbackDays`` — and then the user
is told, through :func:`default_window_notice` — or Amazon's full retention for id lists and upper bounds alone.
``max_span_days`` splits a range into consecutive calls; a lower bound in the future means nothing can match.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlspapi.definitions.schema import ListSpec, TableSpec, WindowSpec
from sqlspapi.sql.cost import CostEnv, window_days
from sqlspapi.sql.isotime import format_api_time, to_api_time
from sqlspapi.sql.plan import GE, GT, LE, LT, UNKNOWN, BindContext, Constraint, Plan
from sqlspapi.sql.routes.base import usable_on


def pick_window(windows: Sequence[WindowSpec], table: TableSpec,
                 constraints: Sequence[Constraint]) -> WindowSpec | None:
    """The window the query bounds: the first with a lower bound, else the first with any bound."""
    for ops in ((GT, GE), (LT, LE)):
        for window in windows:
            if usable_on(table, constraints, window.column, *ops):
                return window
    return None


def windows_for(plan: Plan, spec: ListSpec, after: list[datetime], before: list[datetime], ctx: BindContext,
             id_list: bool, notices: list[str]) -> list[dict[str, str]] | None:
    """The After/Before parameters of each call (one dict per window slice); None when the range is empty."""
    window = plan.window
    if window is None and not spec.window_required:
        return [{}]
    window = window or spec.windows[0]
    lo = max(after) if after else None
    hi = min(before) if before else None
    now = ctx.now.astimezone(UTC).replace(microsecond=0)
    if spec.before_min_age_seconds:
        latest = now - timedelta(seconds=spec.before_min_age_seconds)
        if hi is not None and hi > latest:
            hi = latest
    if lo is None and spec.window_required:
        days = spec.max_lookback_days if (id_list or hi is not None or not ctx.lookback_days) else ctx.lookback_days
        if days > spec.max_lookback_days:  # LookbackDays longer than the API searches back: its whole reach
            notices.append(f"{plan.table.name}: LookbackDays={days} reaches further back than the API searches "
                           f"({spec.max_lookback_days} days): the scan covers the last {spec.max_lookback_days} days.")
            days = spec.max_lookback_days
        lo = now - timedelta(days=days)
        if not (id_list or hi is not None) and days < spec.max_lookback_days:
            notices.append(default_window_notice(plan.table.name, window.column, days))
    if lo is not None and hi is not None and lo >= hi:
        return None
    if lo is not None and lo >= now - timedelta(seconds=spec.before_min_age_seconds):
        return None  # a lower bound in the future (or within the API's minimum age): nothing can match yet
    if not window.max_span_days or lo is None or window.before is None:
        return [window_params(window, lo, hi)]
    end = hi or now - timedelta(seconds=spec.before_min_age_seconds)
    span = timedelta(days=window.max_span_days)
    out = []
    start = lo
    while start < end:
        stop = min(start + span, end)
        out.append(window_params(window, start, stop))
        start = stop
    return out


def estimated_span(plan: Plan, spec: ListSpec, env: CostEnv, id_list: bool) -> float | None:
    """The days one scan of ``plan`` covers, read from the constant bounds the SQL gives (before any call): the
    range, else the default look-back the scan would take; None when a bound is not a constant (a join, a ``?``)."""
    if plan.window is None and not spec.window_required:
        return None
    after = before = None
    for arg, value in zip(plan.args, plan.values, strict=False):
        if arg.role in ("after", "before"):
            if value is UNKNOWN:
                return None
            try:
                moment = to_api_time(value, arg.column)
            except Exception:  # noqa: BLE001 - an unreadable bound fails when the query runs, with its message
                return None
            if arg.role == "after":
                after = moment if after is None else max(after, moment)
            else:
                before = moment if before is None else min(before, moment)
    now = env.now
    if after is None:
        if not spec.window_required:
            return None
        days = spec.max_lookback_days if (id_list or before is not None or not env.lookback_days) \
            else env.lookback_days
        after = now - timedelta(days=days)
    if before is not None and before > now:
        before = now  # the API reads nothing newer than now (the route clamps such a bound too)
    return window_days(after, before, now)


def default_window_notice(table: str, column: str, days: int) -> str:
    """What the user is told when no date bound reached the API and a default look-back (shorter than Amazon's
    retention) applies."""
    return (f"{table}: no date filter on {column} reached the API, so the scan covers only the last {days} days "
            f"(LookbackDays={days}); rows older than that are not included. Filter {column} (e.g. {column} >= "
            f"'2026-01-01') or set LookbackDays=all.")


def window_params(window: WindowSpec, lo: datetime | None, hi: datetime | None) -> dict[str, str]:
    """The After/Before query parameters of one window slice."""
    out = {}
    if lo is not None and window.after:
        out[window.after] = format_api_time(lo)
    if hi is not None and window.before:
        out[window.before] = format_api_time(hi)
    return out
