"""DataRow messages a batch at a time: the hot path of every query result the bridge sends.

:func:`batch_encoder` turns a batch of row tuples into DataRow messages column by column, with the value encoders of
:mod:`~sqlspapi.server.codec` for the values the fast paths below do not cover.

A batch of rows is transposed into columns; each column is converted with C-level map()/join()/split() when all
its values have one Python type (the usual case), else value by value. Rows are then assembled as one latin-1
``str`` (one char per byte; non-ASCII text enters as its UTF-8 bytes) and encoded once: per-row Python work is
what makes a bridge slow, so the hot path has none. A column whose values all have one length in a batch (ids,
dates, codes …) needs no per-row length prefix lookup nor addition to the row length: one repeated prefix does.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Sequence
from itertools import islice, repeat
from operator import add, itemgetter
from typing import Any

from .codec import (
    BOOL,
    DATE,
    INT_OIDS,
    NUMERIC,
    TEMPORAL_KINDS,
    TIMESTAMP,
    TIMESTAMPTZ,
    binary_encoder,
    text_encoder,
)

__all__ = ["NULL", "batch_encoder"]

_P32 = struct.Struct("!i").pack
#: the length of a NULL value in a DataRow
NULL = b"\xff\xff\xff\xff"


class _LenTable(dict):
    """int32 big-endian length prefixes as latin-1 str, memoised for the common small lengths."""

    def __missing__(self, n: int) -> str:
        s = _P32(n).decode("latin-1")
        if n < 65536:
            self[n] = s
        return s


class _HeaderTable(dict):
    """DataRow headers ('D', int32 length, int16 column count) by the row's total value length, for one column count.

    ``fixed`` (the message length without values) is added here, once per distinct total, not once per row.
    """

    def __init__(self, count: str, fixed: int) -> None:
        super().__init__()
        self.count = count
        self.fixed = fixed

    def __missing__(self, n: int) -> str:
        s = "D" + _LEN[self.fixed + n] + self.count
        if len(self) < 4096:
            self[n] = s
        return s


_LEN = _LenTable()
_LEN_OF = _LEN.__getitem__
_NULL_STR = NULL.decode("latin-1")
_BOOL_STR = {True: "t", False: "f"}


def _to_latin(s: str) -> str:
    return s.encode("utf-8").decode("latin-1")


def _floats(col: Sequence[float]) -> list[str] | None:
    strs = list(map(repr, col))
    joined = "\x00".join(strs) + "\x00"
    if "n" in joined:  # inf / nan need their PostgreSQL spelling: value by value
        return None
    return list(map(str.removesuffix, strs, repeat(".0"))) if ".0\x00" in joined else strs


def _fast_column(oid: int, col: list[Any]) -> list[str] | None:
    """Text of a column whose values share one Python type, or None (→ value by value)."""
    if oid in TEMPORAL_KINDS or oid == NUMERIC:
        return _fast_typed_column(oid, col)
    if oid != BOOL:
        try:
            joined = "".join(col)  # succeeds only when every value is a str: the cheapest type check
        except TypeError:
            pass
        else:
            return col if joined.isascii() else list(map(_to_latin, col))
    kind = type(col[0])
    if list(map(type, col)).count(kind) != len(col):  # one Python type (counting beats building a set)
        return None
    if oid == BOOL:
        return list(map(_BOOL_STR.__getitem__, col)) if kind is bool else None
    if kind is int:
        return list(map(repr, col))  # int's repr is its str, without the type call
    if kind is float and oid not in INT_OIDS:
        return _floats(col)
    return None


#: A batch of SP-API timestamps in UTC (``2026-11-20T09:00:00Z``), joined by NULs: PostgreSQL's form is two
#: replacements away (``T`` → space, ``Z`` → ``+00``), done in C over the whole column.
_UTC_COLUMN = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z\x00)*")


def _fast_typed_column(oid: int, col: list[Any]) -> list[str] | None:
    """Text of a timestamp or numeric column in bulk when its values allow, else None (→ value by value)."""
    if oid == NUMERIC:
        if list(map(type, col)).count(int) == len(col):
            return list(map(repr, col))
        return None
    try:
        joined = "\x00".join(col) + "\x00"
    except TypeError:
        return None
    if oid == TIMESTAMPTZ and _UTC_COLUMN.fullmatch(joined):
        return joined.replace("T", " ").replace("Z", "+00").split("\x00")[:-1]
    if oid == TIMESTAMP and joined.isascii() and "T" not in joined and "Z" not in joined and "+" not in joined:
        return col  # already PostgreSQL's form (the bridge's own date/time functions produce it)
    if oid == DATE and list(map(len, col)).count(10) == len(col) and joined.isascii():
        return col
    return None


def _column(oid: int, fmt: int, col: list[Any],
            slow: Callable[[Any], bytes]) -> tuple[list[str], list[str] | None, list[int]]:
    """(value strings, length prefixes or None when no value is NULL, lengths) of one column of a batch."""
    strs = _fast_column(oid, col) if fmt == 0 else None
    if strs is not None:
        return strs, None, list(map(len, strs))
    strs = ["" if v is None else slow(v).decode("latin-1") for v in col]
    lens = list(map(len, strs))
    prefixes = [_NULL_STR if v is None else _LEN[n] for v, n in zip(col, lens, strict=True)]
    return strs, prefixes, lens


def batch_encoder(oids: Sequence[int], formats: Sequence[int]) -> Callable[[Iterator[tuple], int], tuple[bytes, int]]:
    """``(rows, limit) -> (DataRow messages, row count)`` for these column types and formats (0 text, 1 binary).

    Takes at most ``limit`` rows from the iterator.
    """
    n = len(oids)
    slow = [binary_encoder(o) if f else text_encoder(o) for o, f in zip(oids, formats, strict=True)]
    count = struct.pack("!h", n).decode("latin-1")
    headers: dict[int, _HeaderTable] = {}  # by the value bytes every row of a batch has in common
    specs = [(oid, fmt, enc, itemgetter(i)) for i, (oid, fmt, enc) in enumerate(zip(oids, formats, slow, strict=True))]

    def encode(rows: Iterator[tuple], limit: int) -> tuple[bytes, int]:
        batch = list(islice(rows, limit))
        if not batch:
            return b"", 0
        if n == 0:
            return b"D\x00\x00\x00\x06\x00\x00" * len(batch), len(batch)
        size = len(batch)
        width = 2 * n + 1
        out: list[Any] = [None] * (size * width)  # header, then (length prefix, value) per column, row after row
        total: Any = None  # per row: the value lengths of the columns whose lengths vary in this batch
        common = 0         # the value lengths of the others (ids, dates, codes …): no per-row work for them
        at = 1
        for oid, fmt, enc, column in specs:
            strs, prefixes, lens = _column(oid, fmt, list(map(column, batch)), enc)
            if lens.count(first := lens[0]) == size:
                common += first
                out[at::width] = [_LEN[first]] * size if prefixes is None else prefixes
            else:
                total = lens if total is None else map(add, total, lens)
                out[at::width] = map(_LEN_OF, lens) if prefixes is None else prefixes
            out[at + 1::width] = strs
            at += 2
        header = headers.get(common)
        if header is None:
            if len(headers) >= 256:
                headers.clear()
            header = headers[common] = _HeaderTable(count, 6 + 4 * n + common)
        out[::width] = [header[0]] * size if total is None else map(header.__getitem__, total)
        return "".join(out).encode("latin-1"), size

    return encode
