"""Data Kiosk queries as text: the GraphQL a ``document`` route sends, built from what the SQL asks for.

The engine only writes queries (it never parses one, nor holds Amazon's schemas): :func:`build_query` nests the
field paths a query uses into one selection under ``query { <root> { <dataset>(<arguments>) { … } } }``;
:func:`literal` writes argument values (strings JSON-escaped, which GraphQL accepts; :class:`EnumValue` bare);
:func:`period_start` / :func:`period_end` widen a date to the whole period a dataset aggregates by (DAY; WEEK from
Sunday to Saturday; MONTH), as Amazon moves a mid-period start to the next period and a mid-period end to the
previous one; :func:`normalized` is a query with its whitespace collapsed (ledger keys, matching a listed query).

Example::

    >>> build_query("analytics_salesAndTraffic_2024_04_24.salesAndTrafficByDate",
    ...             {"aggregateBy": EnumValue("DAY"), "startDate": "2026-10-01", "endDate": "2026-10-07",
    ...              "marketplaceIds": ["ATVPDKIKX0DER"]},
    ...             [("startDate",), ("sales", "unitsOrdered")])
    'query{analytics_salesAndTraffic_2024_04_24{salesAndTrafficByDate(aggregateBy:DAY,startDate:"2026-10-01",\
endDate:"2026-10-07",marketplaceIds:["ATVPDKIKX0DER"]){startDate sales{unitsOrdered}}}}'
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

__all__ = ["MAX_QUERY_CHARS", "EnumValue", "literal", "selection", "build_query", "normalized", "period_start",
           "period_end", "PERIODS"]

#: Amazon's limit on a query, after unnecessary whitespace is removed (createQuery).
MAX_QUERY_CHARS = 8000
#: Date granularities whose rows cover whole periods (RANGE, or none: the rows cover the query's window).
PERIODS = ("DAY", "WEEK", "MONTH")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class EnumValue(str):
    """A GraphQL enum value: written bare (``DAY``), not as a string."""


def literal(value: Any) -> str:
    """A GraphQL value literal: strings quoted (JSON escapes), :class:`EnumValue` bare, numbers, booleans, null,
    lists and input objects."""
    if isinstance(value, EnumValue):
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a GraphQL enum value")
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_name(k)}:{literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(literal(v) for v in value) + "]"
    raise TypeError(f"no GraphQL literal for {type(value).__name__}")


def _name(text: str) -> str:
    if not _NAME.match(text):
        raise ValueError(f"{text!r} is not a GraphQL name")
    return text


def selection(paths: Iterable[Sequence[str]]) -> str:
    """Field paths nested into one selection set's body: ``[("a",), ("b", "c"), ("b", "d")]`` → ``a b{c d}``
    (first-seen order; a path that is a prefix of another selects the object's sub-fields only)."""
    tree: dict[str, dict[str, Any]] = {}
    for path in paths:
        node = tree
        for step in path:
            node = node.setdefault(_name(step), {})
    return _render(tree)


def _render(tree: Mapping[str, Mapping[str, Any]]) -> str:
    return " ".join(f"{name}{{{_render(sub)}}}" if sub else name for name, sub in tree.items())


def build_query(dataset: str, arguments: Mapping[str, Any], fields: Iterable[Sequence[str]]) -> str:
    """The query reading ``fields`` (paths inside a record) of ``dataset`` (``<root field>.<dataset field>``) with
    ``arguments`` (arguments whose value is None are left out)."""
    root, _, field = dataset.partition(".")
    args = ",".join(f"{_name(k)}:{literal(v)}" for k, v in arguments.items() if v is not None)
    return f"query{{{_name(root)}{{{_name(field)}{f'({args})' if args else ''}{{{selection(fields)}}}}}}}"


def normalized(query: str) -> str:
    """``query`` with every run of whitespace (and commas, which GraphQL ignores) one space: two spellings of one
    query compare equal (strings inside it are collapsed too, which only matters for comparing)."""
    return " ".join(query.replace(",", " ").split())


def period_start(day: date, period: str) -> date:
    """The first day of the ``period`` (DAY, WEEK from Sunday, MONTH) holding ``day`` (others: ``day``)."""
    if period == "WEEK":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if period == "MONTH":
        return day.replace(day=1)
    return day


def period_end(day: date, period: str) -> date:
    """The last day of the ``period`` (DAY, WEEK to Saturday, MONTH) holding ``day`` (others: ``day``)."""
    if period == "WEEK":
        return period_start(day, period) + timedelta(days=6)
    if period == "MONTH":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day
