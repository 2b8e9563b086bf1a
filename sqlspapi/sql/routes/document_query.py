"""The create request of a ``document`` route's job: its template filled, its fields, its window.

A dataset's ``arguments`` (or ``body``) template holds ``{name}`` / ``{name:DEFAULT}`` placeholders:
:func:`template_defaults` reads the defaults, :func:`fill_template` fills them (typed: a list for ``{marketplaces}``,
an :class:`~sqlspapi.documents.graphql.EnumValue` for an enum input). :func:`query_fields` names the record fields
the SQL uses (SQLite's colUsed) and :func:`query_window` turns the ranges on the window columns into the query's
first and last day (whole periods; ``LookbackDays`` when no lower bound is given). :mod:`sqlspapi.sql.routes.document`
plans and runs the job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlspapi.definitions.schema import DocumentSpec
from sqlspapi.documents.graphql import PERIODS, EnumValue, period_end, period_start
from sqlspapi.sql.isotime import to_api_time
from sqlspapi.sql.plan import GE, LT, Arg, BindContext, Plan

__all__ = ["MAX_DAYS", "fill_template", "query_fields", "query_window", "template_defaults"]

#: Days back Amazon keeps Data Kiosk analytics (a start more than two years ago ends the query FATAL, saying so):
#: the default window with ``LookbackDays=all``.
MAX_DAYS = 730
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?::([^{}]*))?\}")


def template_defaults(template: Any) -> dict[str, str]:
    """``{name:DEFAULT}`` placeholders of a template: input name → its default."""
    if isinstance(template, str):
        return {m[1]: m[2] for m in _PLACEHOLDER.finditer(template) if m[2] is not None}
    items = template.values() if isinstance(template, Mapping) else template if isinstance(template, list) else ()
    return {k: v for item in items for k, v in template_defaults(item).items()}


def fill_template(template: Any, values: Mapping[str, Any], enums: frozenset[str]) -> Any:
    """The template with its placeholders filled: a string that is one placeholder becomes the value itself (a list
    for ``{marketplaces}``; an :class:`EnumValue` for an enum input; absent without a value or default: the key is
    left out); placeholders inside longer strings are replaced by text (unknown ones stay)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is None:
            return _PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[2] if m[2] is not None else m[0])), template)
        value = values.get(whole[1], whole[2])
        return EnumValue(value) if whole[1] in enums and value is not None else value
    if isinstance(template, Mapping):
        filled = {k: fill_template(v, values, enums) for k, v in template.items()}
        return {k: v for k, v in filled.items() if v is not None}
    if isinstance(template, list):
        return [fill_template(v, values, enums) for v in template]
    return template


def query_fields(plan: Plan, spec: DocumentSpec) -> list[tuple[str, ...]]:
    """The record fields the query asks for: the ``keys``, then each used row column's path (a JSON column: its
    ``selections`` under it); SQLite's colUsed bit 63 stands for every column from 63 on."""
    used = plan.columns_used
    wide = used is None or any(i >= 63 for i in used)
    paths = [tuple(k.split(".")) for k in spec.keys]
    row_columns = [(i, c) for i, c in enumerate(plan.table.columns) if c.source == "row" and not c.hidden]
    for i, column in row_columns:
        if used is not None and i not in used and not (wide and i >= 63):
            continue
        sub = spec.selections.get(".".join(column.path))
        paths += [(*column.path, *p.split(".")) for p in sub] if sub else [column.path]
    return paths or [row_columns[0][1].path]


def query_window(spec: DocumentSpec, table: str, bounds: list[tuple[Arg, Any]], period: str, ctx: BindContext,
            notices: list[str]) -> tuple[date, date] | None:
    """The query's first and last day from the ranges on the window columns (see the module docstring); None when
    the range is empty."""
    start_column, end_column = (w.lower() for w in spec.window)
    whole = period in PERIODS
    lows: list[date] = []
    highs: list[date] = []
    for arg, value in bounds:
        moment = to_api_time(value, arg.column).astimezone(UTC)
        day = moment.date()
        on_midnight = moment == datetime.combine(day, time(), UTC)
        column = arg.column.lower()
        if arg.role == "after":
            first = day if on_midnight and arg.op == GE else day + timedelta(days=1)
            if column == start_column:
                lows.append(first)
            elif whole:  # a period ending on or after `first` starts at the beginning of `first`'s period
                lows.append(period_start(first, period))
        else:
            last = day - timedelta(days=1) if on_midnight and arg.op == LT else day
            if column == end_column:
                highs.append(last)
            elif whole:  # a period starting by `last` ends at the end of `last`'s period
                highs.append(period_end(last, period))
    today = ctx.now.astimezone(UTC).date()
    days = ctx.lookback_days or MAX_DAYS
    names = f"{spec.window[0]} / {spec.window[1]}"
    if not lows:
        end = min(highs) if highs else today - timedelta(days=1)
        start = end - timedelta(days=days - 1)
        notices.append(f"{table}: no lower bound on {names} reached the query, so it covers the {days} days to "
                       f"{end} (from {start}; LookbackDays); filter {spec.window[0]} >= '…' for another window.")
    else:
        start, end = max(lows), min(highs) if highs else today
    return (start, end) if start <= end else None
