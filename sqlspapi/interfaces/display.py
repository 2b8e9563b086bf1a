"""What the shell and ``sqlspapi query`` print: aligned tables, tables fitted to a terminal, rows shown vertically,
and the call log (``.calls``) with compact parameters.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import apsw.unicode

_PARAM_WIDTH = 76
_VALUE_WIDTH = 32


def format_table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, null: str = "NULL") -> str:
    """Rows as aligned plain text under a header and a rule (numbers right-aligned); ends with a newline."""
    rows = list(rows)
    numeric = [
        all(isinstance(row[index], int | float) for row in rows if row[index] is not None)
        and any(row[index] is not None for row in rows)
        for index in range(len(header))
    ]

    def cell(value: Any) -> str:
        if value is None:
            return null
        if isinstance(value, bytes):
            return value.hex()
        return str(value).replace("\n", " ")

    body = [[cell(value) for value in row] for row in rows]
    widths = [len(name) for name in header]
    for texts in body:
        for index, text in enumerate(texts):
            widths[index] = max(widths[index], len(text))

    def line(texts: Sequence[str], align: bool) -> str:
        return "  ".join(
            text.rjust(widths[index]) if align and numeric[index] else text.ljust(widths[index])
            for index, text in enumerate(texts)
        ).rstrip()

    out = [line(list(header), False), "  ".join("-" * width for width in widths)]
    out.extend(line(texts, True) for texts in body)
    return "\n".join(out) + "\n"


_MIN_CELL = 10
"""The narrowest a text column of the auto display gets (or its header's width, when wider)."""

def _flat(text: str) -> str:
    """One line of printable text (line breaks and tabs become spaces, other control characters ``?``)."""
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    if apsw.unicode.text_width(text) < 0:
        text = "".join(char if apsw.unicode.text_width(char) >= 0 else "?" for char in text)
    return text


def _width(text: str) -> int:
    return max(apsw.unicode.text_width(text), 0)


def _cut(text: str, width: int) -> str:
    """``text`` shortened to ``width`` display columns, ending with ``…`` when cut."""
    if _width(text) <= width:
        return text
    return apsw.unicode.text_width_substr(text, max(width - 1, 0))[1] + "…"


def fit_columns(header: Sequence[str], texts: Sequence[Sequence[str]], fixed: Sequence[bool], width: int,
                minimum: int = _MIN_CELL) -> list[int] | None:
    """Column widths for a box table of ``texts`` (rows of display texts) within ``width`` columns, or None.

    A column may narrow down to its header's width or ``minimum`` (whichever is wider; a ``fixed`` column, e.g.
    numbers, never narrows): the widest are narrowed first. None when even the narrowest widths do not fit, so
    headers are never wrapped into slivers.
    """
    count = len(header)
    natural = [max([_width(name), *(_width(row[index]) for row in texts)]) for index, name in enumerate(header)]
    floors = [natural[index] if fixed[index] else max(_width(header[index]), min(natural[index], minimum))
              for index in range(count)]
    budget = width - (3 * count + 1)  # "│ " before each cell, " " after, and the closing "│"
    if sum(floors) > budget:
        return None
    if sum(natural) <= budget:
        return natural
    low, high = 0, max(natural)  # the largest cap on the widths that fits
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(floor, min(size, cap)) for floor, size in zip(floors, natural, strict=True)) <= budget:
            low = cap
        else:
            high = cap - 1
    return [max(floor, min(size, low)) for floor, size in zip(floors, natural, strict=True)]


def format_vertical(header: Sequence[str], texts: Sequence[Sequence[str]], width: int, *, unicode: bool = True) -> str:
    """Rows as blocks of ``column │ value`` lines (psql's expanded display), each value cut to fit ``width``."""
    rule, bar = ("─", "│") if unicode else ("-", "|")
    label = max((_width(name) for name in header), default=0)
    room = max(width - label - 3, _MIN_CELL)
    out = []
    for number, row in enumerate(texts, 1):
        title = f"{rule}[ row {number} ]"
        out.append(title + rule * max(width - _width(title), 0))
        out.extend(f"{name.ljust(label)} {bar} {_cut(text, room)}".rstrip() for name, text in zip(header, row,
                                                                                                strict=True))
    return "\n".join(out) + "\n"


def _compact(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        value = ",".join(str(item) for item in value)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if len(text) > _VALUE_WIDTH:  # keep both ends: tokens and timestamps differ at the end
        text = text[: _VALUE_WIDTH - 9] + "…" + text[-8:]
    return text


def _token_tag(value: Any) -> str:
    return "#" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


@functools.cache
def _path_patterns() -> dict[str, list[re.Pattern[str]]]:
    """Operation name → regexes of its path templates, capturing the path parameters (``{orderId}``)."""
    patterns: dict[str, list[re.Pattern[str]]] = {}
    try:
        from sqlspapi.definitions.loader import load_all

        for section in load_all():
            for name, operation in section.operations.items():
                if "{" in operation.path:
                    regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(operation.path))
                    patterns.setdefault(name, []).append(re.compile(regex))
    except Exception:  # the definitions only make the display nicer
        return {}
    return patterns


def _path_params(record: Any) -> dict[str, str]:
    path = getattr(record, "path", "") or ""
    for pattern in _path_patterns().get(getattr(record, "operation", ""), ()):
        match = pattern.fullmatch(path)
        if match:
            return match.groupdict()
    return {}


def compact_params(record: Any) -> str:
    """A call's parameters as ``k=v k=v``, shortened to fit a column.

    Path parameters (``orderId=...``) come first, then paging tokens as ``#`` and a short hash (opaque, but
    they tell the pages apart), then the other parameters, shortest first (a long list of marketplaces or
    data sets says least); long values keep their start and end.
    """
    params = {key: value for key, value in (getattr(record, "params", None) or {}).items() if value is not None}
    ordered = list(_path_params(record).items())
    ordered += [(key, _token_tag(value)) for key, value in params.items() if "token" in key.lower()]
    parts = [f"{key}={_compact(value)}" for key, value in ordered]
    parts += sorted((f"{key}={_compact(value)}" for key, value in params.items() if "token" not in key.lower()),
                    key=len)
    text = " ".join(parts)
    if len(text) > _PARAM_WIDTH:
        text = text[: _PARAM_WIDTH - 1] + "…"
    return text


CALL_HEADER = ("operation", "params", "status", "time ms", "throttle wait ms", "shared")
"""Columns of the ``.calls`` table (also ``sqlspapi query --calls``)."""


def call_rows(records: Iterable[Any]) -> list[tuple[Any, ...]]:
    """One ``.calls`` row per ``CallRecord``."""
    return [
        (
            record.operation,
            compact_params(record),
            record.status,
            round(record.elapsed * 1000),
            round(record.throttle_wait * 1000),
            "yes" if record.shared else "",
        )
        for record in records
    ]


def format_calls(records: Sequence[Any], *, full: bool = False) -> str:
    """The ``.calls`` report: a table of the calls (``full``: each call with every parameter) and a total."""
    if not records:
        return "No SP-API calls in the last statement.\n"
    total = sum(record.elapsed for record in records)
    waited = sum(record.throttle_wait for record in records)
    plural = "" if len(records) == 1 else "s"
    summary = f"{len(records)} call{plural}, {total * 1000:.0f} ms, {waited * 1000:.0f} ms throttle wait\n"
    if not full:
        return format_table(CALL_HEADER, call_rows(records)) + summary
    lines = []
    for number, record in enumerate(records, 1):
        shared = ", shared" if record.shared else ""
        lines.append(
            f"{number}. {record.operation} {record.method} {record.path} -> {record.status} in "
            f"{record.elapsed * 1000:.0f} ms (throttle wait {record.throttle_wait * 1000:.0f} ms{shared})"
        )
        for key, value in (record.params or {}).items():
            if value is not None:
                text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
                lines.append(f"   {key}={text}")
        if record.request_id:
            lines.append(f"   request id {record.request_id}")
    return "\n".join(lines) + "\n" + summary


__all__ = ["format_table", "fit_columns", "format_vertical", "compact_params", "CALL_HEADER", "call_rows",
           "format_calls"]
