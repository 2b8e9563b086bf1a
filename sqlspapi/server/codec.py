"""Value codecs of the PostgreSQL wire protocol: Python values ↔ text/binary bytes by type OID, and fast DataRows.

The hot path is :func:`batch_encoder`: it turns a batch of row tuples into DataRow messages column by column.
Values whose Python type does not match the column's declared type fall back to their text form, so a dynamically
typed SQLite column never breaks the stream.

Timestamps are ISO 8601 text in SQLite (``2026-11-20T09:00:00Z``): a ``timestamptz`` column sends PostgreSQL's form
(``2026-11-20 09:00:00+00``, the session's TimeZone is UTC) or, in binary, microseconds since 2000. A ``numeric``
column (money amounts, REAL in SQLite) sends the decimal the float stands for
(:func:`~sqlspapi.interfaces.dbtypes.exact_decimal`): ``sum(amount)`` is ``432.51``, never ``432.51000000000005``.
"""

from __future__ import annotations

import datetime
import math
import re
import struct
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import islice, repeat
from operator import add, itemgetter
from typing import Any

from sqlspapi.interfaces.dbtypes import exact_decimal

from .pgtypes import format_timestamp, parse_timestamp

BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4, TEXT, OID = 16, 17, 18, 19, 20, 21, 23, 25, 26
JSON, FLOAT4, FLOAT8, UNKNOWN, VARCHAR, BPCHAR = 114, 700, 701, 705, 1043, 1042
DATE, TIME, TIMESTAMP, TIMESTAMPTZ, NUMERIC, JSONB, UUID = 1082, 1083, 1114, 1184, 1700, 3802, 2950

INT_OIDS = frozenset({INT2, INT4, INT8, OID})
FLOAT_OIDS = frozenset({FLOAT4, FLOAT8})
TEXTLIKE_OIDS = frozenset({TEXT, VARCHAR, BPCHAR, NAME, CHAR, UNKNOWN, JSON})

#: typlen of the fixed-size types (RowDescription); everything else is variable (-1)
TYPE_SIZES = {BOOL: 1, CHAR: 1, NAME: 64, INT8: 8, INT2: 2, INT4: 4, OID: 4, FLOAT4: 4, FLOAT8: 8, DATE: 4,
              TIME: 8, TIMESTAMP: 8, TIMESTAMPTZ: 8, UUID: 16}

_I32 = struct.Struct("!i")
_P32 = _I32.pack
NULL = b"\xff\xff\xff\xff"
_SPECIAL_FLOATS = {"inf": b"Infinity", "-inf": b"-Infinity", "nan": b"NaN"}


def type_size(oid: int, declared: int = -1) -> int:
    """The typlen to report for a column: the declared size, else the type's fixed size, else -1."""
    return declared if declared != -1 else TYPE_SIZES.get(oid, -1)


# ---------------------------------------------------------------- text output

def float_text(v: float) -> bytes:
    """PostgreSQL's float8 output with extra_float_digits ≥ 1: shortest round-trip, integers without '.0'."""
    s = repr(v)
    if s[-2:] == ".0":
        return s[:-2].encode()
    return _SPECIAL_FLOATS.get(s) or s.encode()


def text_value(v: Any) -> bytes:
    """The text form of any Python value (used for mismatched and generic types)."""
    cls = v.__class__
    if cls is str:
        return v.encode()
    if cls is bool:
        return b"t" if v else b"f"
    if cls is int:
        return b"%d" % v
    if cls is float:
        return float_text(v)
    if cls is bytes or cls is bytearray or cls is memoryview:
        return b"\\x" + bytes(v).hex().encode()
    return str(v).encode()


def _bool_text(v: Any) -> bytes:
    if v.__class__ is bool or v.__class__ is int:
        return b"t" if v else b"f"
    if isinstance(v, str) and v.lower() in ("t", "true", "f", "false", "1", "0", "yes", "no", "on", "off"):
        return b"t" if v.lower() in ("t", "true", "1", "yes", "on") else b"f"
    return text_value(v)


def _float_value_text(v: Any) -> bytes:
    if v.__class__ is float:
        return float_text(v)
    if v.__class__ is int:
        return b"%d" % v
    return text_value(v)


def _int_value_text(v: Any) -> bytes:
    if v.__class__ is bool:
        return b"1" if v else b"0"
    if v.__class__ is float and v.is_integer():
        return b"%d" % int(v)
    return text_value(v)


def _decimal(v: Any) -> Decimal | None:
    """A number as the decimal it stands for, None for other values."""
    if v.__class__ is float:
        return exact_decimal(v)
    if v.__class__ is int or v.__class__ is Decimal:
        return Decimal(v)
    return None


def _numeric_value_text(v: Any) -> bytes:
    d = _decimal(v)
    if d is None:
        return text_value(v)
    if not d.is_finite():
        return b"NaN" if d.is_nan() else b"-Infinity" if d < 0 else b"Infinity"
    return format(d, "f").encode()


def _instant(v: Any) -> datetime.datetime | None:
    """A date/time value (ISO text, a ``datetime``) as naive UTC, None when it is not one."""
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    try:
        return parse_timestamp(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _temporal_text(kind: str) -> Callable[[Any], bytes]:
    def encode(v: Any) -> bytes:
        instant = _instant(v)
        return text_value(v) if instant is None else (format_timestamp(instant, kind) or "").encode()
    return encode


def text_encoder(oid: int) -> Callable[[Any], bytes]:
    """The text-format encoder for one column type."""
    if oid == BOOL:
        return _bool_text
    if oid in _TEMPORAL:
        return _temporal_text(_TEMPORAL[oid])
    if oid == NUMERIC:
        return _numeric_value_text
    if oid in FLOAT_OIDS:
        return _float_value_text
    if oid in INT_OIDS:
        return _int_value_text
    return text_value


# ---------------------------------------------------------------- binary output

def binary_encoder(oid: int) -> Callable[[Any], bytes]:
    """The binary-format encoder for one column type (types without one fall back to their text bytes)."""
    packers = {INT2: struct.Struct("!h").pack, INT4: struct.Struct("!i").pack, INT8: struct.Struct("!q").pack,
               OID: struct.Struct("!I").pack}
    if oid in packers:
        pack = packers[oid]
        return lambda v: pack(int(v))
    if oid == FLOAT8:
        pack8 = struct.Struct("!d").pack
        return lambda v: pack8(float(v))
    if oid == FLOAT4:
        pack4 = struct.Struct("!f").pack
        return lambda v: pack4(float(v))
    if oid == BOOL:
        return lambda v: b"\x01" if v else b"\x00"
    if oid == BYTEA:
        return lambda v: bytes(v) if isinstance(v, bytes | bytearray | memoryview) else text_value(v)
    if oid == JSONB:
        return lambda v: b"\x01" + text_value(v)
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        return _timestamp_binary
    if oid == DATE:
        return _date_binary
    if oid == NUMERIC:
        return _numeric_binary_value
    return text_value


_MICROSECOND = datetime.timedelta(microseconds=1)


def _timestamp_binary(v: Any) -> bytes:
    instant = _instant(v)
    return text_value(v) if instant is None else struct.pack("!q", (instant - _EPOCH) // _MICROSECOND)


def _date_binary(v: Any) -> bytes:
    instant = _instant(v)
    return text_value(v) if instant is None else struct.pack("!i", (instant.date() - _EPOCH.date()).days)


def _numeric_binary_value(v: Any) -> bytes:
    """PostgreSQL's binary numeric: digit count, weight, sign, display scale, then base-10000 digits."""
    d = _decimal(v)
    if d is None:
        return text_value(v)
    if d.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    if d.is_infinite():
        return struct.pack("!hhHh", 0, 0, 0xF000 if d < 0 else 0xD000, 0)
    whole, _, fraction = format(abs(d), "f").partition(".")
    whole = whole.lstrip("0")
    groups = [whole.rjust(-(-len(whole) // 4) * 4, "0")[i:i + 4] for i in range(0, -(-len(whole) // 4) * 4, 4)]
    weight = len(groups) - 1
    padded = fraction.ljust(-(-len(fraction) // 4) * 4, "0")
    groups += [padded[i:i + 4] for i in range(0, len(padded), 4)]
    digits = [int(g) for g in groups]
    while digits and digits[0] == 0:
        digits.pop(0)
        weight -= 1
    while digits and digits[-1] == 0:
        digits.pop()
    if not digits:
        weight = 0
    sign = 0x4000 if d < 0 else 0
    return struct.pack(f"!hhHh{len(digits)}h", len(digits), weight, sign, len(fraction), *digits)


# ---------------------------------------------------------------- DataRows, a batch at a time
# A batch of rows is transposed into columns; each column is converted with C-level map()/join()/split() when all
# its values have one Python type (the usual case), else value by value. Rows are then assembled as one latin-1
# ``str`` (one char per byte; non-ASCII text enters as its UTF-8 bytes) and encoded once: per-row Python work is
# what makes a bridge slow, so the hot path has none. A column whose values all have one length in a batch (ids,
# dates, codes …) needs no per-row length prefix lookup nor addition to the row length: one repeated prefix does.


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
    if oid in _TEMPORAL or oid == NUMERIC:
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
_TEMPORAL = {DATE: "date", TIMESTAMP: "timestamp", TIMESTAMPTZ: "timestamptz"}


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


# ---------------------------------------------------------------- parameter decoding (Bind)

_TRUE = frozenset({"t", "true", "1", "y", "yes", "on"})


def _numeric_text(s: str) -> int | float:
    try:
        return int(s)
    except ValueError:
        d = Decimal(s)
        return int(d) if d == d.to_integral_value() and d.is_finite() else float(d)


def decode_text_param(oid: int, data: bytes) -> object:
    """A text-format Bind parameter as a Python value, by its type OID."""
    s = data.decode("utf-8")
    if oid in INT_OIDS:
        return int(s.strip())
    if oid in FLOAT_OIDS:
        return float(s)
    if oid == NUMERIC:
        return _numeric_text(s.strip())
    if oid == BOOL:
        return s.strip().lower() in _TRUE
    if oid == BYTEA:
        if s.startswith("\\x"):
            return bytes.fromhex(s[2:])
        return s.encode("latin-1", "backslashreplace")
    return s


def _numeric_binary(data: bytes) -> int | float | None:
    ndigits, weight, sign, dscale = struct.unpack_from("!hhHh", data)
    if sign == 0xC000:
        return math.nan
    if sign in (0xD000, 0xF000):
        return math.inf if sign == 0xD000 else -math.inf
    digits = struct.unpack_from(f"!{ndigits}h", data, 8)
    value = Decimal(0)
    for i, d in enumerate(digits):
        value += Decimal(d) * (Decimal(10000) ** (weight - i))
    if sign == 0x4000:
        value = -value
    return int(value) if dscale == 0 else float(value)


def decode_binary_param(oid: int, data: bytes) -> object:
    """A binary-format Bind parameter as a Python value, by its type OID."""
    if oid == INT8:
        return struct.unpack("!q", data)[0]
    if oid == INT4:
        return struct.unpack("!i", data)[0]
    if oid == INT2:
        return struct.unpack("!h", data)[0]
    if oid == OID:
        return struct.unpack("!I", data)[0]
    if oid == FLOAT8:
        return struct.unpack("!d", data)[0]
    if oid == FLOAT4:
        return struct.unpack("!f", data)[0]
    if oid == BOOL:
        return data != b"\x00"
    if oid == BYTEA:
        return bytes(data)
    if oid == NUMERIC:
        return _numeric_binary(data)
    if oid == JSONB and data[:1] == b"\x01":
        return data[1:].decode("utf-8")
    if oid == UUID and len(data) == 16:
        return str(uuid.UUID(bytes=bytes(data)))
    if oid == DATE:
        return (_EPOCH.date() + datetime.timedelta(days=struct.unpack("!i", data)[0])).isoformat()
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        ts = _EPOCH + datetime.timedelta(microseconds=struct.unpack("!q", data)[0])
        return ts.isoformat(sep=" ") + ("+00" if oid == TIMESTAMPTZ else "")
    if oid == TIME:
        micros = struct.unpack("!q", data)[0]
        return (datetime.datetime.min + datetime.timedelta(microseconds=micros)).time().isoformat()
    return data.decode("utf-8")


_EPOCH = datetime.datetime(2000, 1, 1)
