"""Cost before running: the calls one table access will make, and how long they take at the account's pace.

Each route says how many calls one run of an access makes (:meth:`~sqlspapi.sql.routes.base.Route.calls`, a
:class:`Calls`): exactly when the query says (one id, a constant LIMIT, a date range split into 30-day calls), from
what this process has seen of the account (rows per day and page size of an earlier whole scan,
:class:`~sqlspapi.http.pace.PaceBook`), or "unknown" when it depends on data not seen yet — never invented.
:func:`seconds` turns calls into wall time at the account's current rate-limit state (the tokens left in the
operation's bucket go at once, the rest at its rate); :func:`describe` writes the estimate EXPLAIN QUERY PLAN shows:
``[est. ~12 pages, ~31 min at 0.0056 req/s after a burst of 20]``. Nothing here makes a call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.http.pace import PaceBook
from sqlspapi.http.progress import duration, rate_text
from sqlspapi.http.ratelimit import Bucket


@dataclass(frozen=True)
class CostEnv:
    """What estimates read (never a call): the clock, the look-back, the connection's marketplace count when known,
    what the account's calls were seen to do, each operation's rate-limit bucket as it is now, the connection's
    ``Route`` mode (``auto``, ``api`` or ``report``: whether the planner may read orders from the order report,
    :mod:`sqlspapi.sql.routes.bulk`), and how many selling regions the connection's marketplaces span when known (a
    region-wide report type is one report per region)."""

    now: datetime
    lookback_days: int
    marketplaces: int | None
    pace: PaceBook
    bucket: Callable[[OperationSpec], Bucket]
    route: str = "auto"
    regions: int | None = None


@dataclass(frozen=True)
class Calls:
    """The calls of one operation one run of an access makes.

    ``count`` is the expected number (None: it depends on data not seen yet); ``unit`` names them ("page",
    "call"); ``per`` says what the count is multiplied by when SQLite runs the access several times or the query
    gives a list EXPLAIN cannot see ("AmazonOrderId value", "row of the outer table"); ``upper`` marks a count that
    is a ceiling (SQLite may stop earlier: a LIMIT, a filter the API also applies); ``basis`` says where a
    data-dependent count comes from.
    """

    operation: OperationSpec | None
    count: float | None
    unit: str = "call"
    per: str = ""
    upper: bool = False
    basis: str = ""


def seconds(env: CostEnv, op: OperationSpec, calls: float) -> float:
    """About how long ``calls`` calls of ``op`` take from now (its bucket's tokens, rate and answer time)."""
    return env.bucket(op).seconds_for(calls, env.pace.latency(op.name))


def _count(n: float, unit: str) -> str:
    whole = max(1, math.ceil(n - 1e-9))
    return f"{whole:,} {unit}{'s' if whole != 1 else ''}"


def describe(calls: Calls, env: CostEnv) -> str:
    """The estimate as EXPLAIN shows it, e.g. "~12 pages, ~31 min at 0.0056 req/s after a burst of 20"."""
    op = calls.operation
    if op is None:
        return calls.basis or "calls decided when it runs"
    bucket = env.bucket(op)
    every = f", one every {duration(1 / bucket.rate)}" if bucket.rate < 1 else ""
    pace = f"{rate_text(bucket.rate)}{every} after a burst of {bucket.burst}"
    tokens = bucket.tokens
    if tokens < bucket.burst - 0.5:
        pace += f" ({max(0, math.floor(tokens))} left now)"
    per = f" per {calls.per}" if calls.per else ""
    if calls.count is None:
        why = f" ({calls.basis})" if calls.basis else ""
        return f"{calls.unit}s{per} unknown{why}, at {pace}"
    n = calls.count
    head = ("≤ " if calls.upper else "~" if calls.basis else "") + _count(n, calls.unit) + per
    when = duration(seconds(env, op, n))
    basis = f"; from {calls.basis}" if calls.basis else ""
    return f"{head}, ~{when} at {pace}{basis}"


def total(estimates: Sequence[tuple[Calls, CostEnv]]) -> str | None:
    """The statement's total ("~14 calls, ~31 min") when every access's count is known and not per-unit; else
    None. Calls of the same operation share a bucket, so their times are computed together."""
    by_op: dict[str, tuple[OperationSpec, float, CostEnv]] = {}
    for calls, env in estimates:
        if calls.operation is None or calls.count is None or calls.per:
            return None
        op = calls.operation
        _op, n, _env = by_op.get(op.name, (op, 0.0, env))
        by_op[op.name] = (op, n + calls.count, env)
    if not by_op:
        return None
    n = sum(math.ceil(count - 1e-9) for _op, count, _env in by_op.values())
    wall = sum(seconds(env, op, count) for op, count, env in by_op.values())
    return f"{n:,} call{'s' if n != 1 else ''}, ~{duration(wall)}"


def window_days(after: Any, before: Any, now: datetime) -> float | None:
    """Days between two datetimes (``before`` None: ``now``); None when ``after`` is unknown."""
    if not isinstance(after, datetime):
        return None
    end = before if isinstance(before, datetime) else now
    return max((end - after).total_seconds() / 86_400, 0.0)


__all__ = ["CostEnv", "Calls", "seconds", "describe", "total", "window_days"]
