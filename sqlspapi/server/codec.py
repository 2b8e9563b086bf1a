"""Value codecs of the PostgreSQL wire protocol: Python values → text or binary bytes, by type OID.

:func:`text_encoder` and :func:`binary_encoder` give a column type's encoder. Values whose Python type does not
match the column's declared type fall back to their text form, so a dynamically typed SQLite column never breaks the
stream. DataRows a batch at a time are in :mod:`~sqlspapi.server.datarows`, Bind parameters in
:mod:`~sqlspapi.server.bindparams`.

Timestamps are ISO 8601 text in SQLite (``2026-11-20T09:00:00Z``): a ``timestamptz`` column sends PostgreSQL's form
(``2026-11-20 09:00:00+00``, the session's TimeZone is UTC) or, in binary, microseconds since 2000. A ``numeric``
column (money amounts, REAL in SQLite) sends the decimal the float stands for
(:func:`~sqlspapi.interfaces.dbtypes.exact_decimal`): ``sum(amount)`` is ``432.51``, never ``432.51000000000005``.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from decimal import Decimal
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
#: the date/time types, by the kind ``pgtypes.format_timestamp`` writes
TEMPORAL_KINDS = {DATE: "date", TIMESTAMP: "timestamp", TIMESTAMPTZ: "timestamptz"}
#: PostgreSQL's epoch of binary dates and timestamps
EPOCH = datetime.datetime(2000, 1, 1)

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
    if oid in TEMPORAL_KINDS:
        return _temporal_text(TEMPORAL_KINDS[oid])
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
    return text_value(v) if instant is None else struct.pack("!q", (instant - EPOCH) // _MICROSECOND)


def _date_binary(v: Any) -> bytes:
    instant = _instant(v)
    return text_value(v) if instant is None else struct.pack("!i", (instant.date() - EPOCH.date()).days)


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
