"""Bind parameters: the text or binary bytes a client sends for a ``$n`` as the Python value SQLite binds.

:func:`decode_text_param` and :func:`decode_binary_param` read one parameter by its type OID (the client's, or the
one inferred for it).
"""

from __future__ import annotations

import datetime
import math
import struct
import uuid
from decimal import Decimal

from .codec import (
    BOOL,
    BYTEA,
    DATE,
    EPOCH,
    FLOAT4,
    FLOAT8,
    FLOAT_OIDS,
    INT2,
    INT4,
    INT8,
    INT_OIDS,
    JSONB,
    NUMERIC,
    OID,
    TIME,
    TIMESTAMP,
    TIMESTAMPTZ,
    UUID,
)

__all__ = ["decode_binary_param", "decode_text_param"]

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
        return (EPOCH.date() + datetime.timedelta(days=struct.unpack("!i", data)[0])).isoformat()
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        ts = EPOCH + datetime.timedelta(microseconds=struct.unpack("!q", data)[0])
        return ts.isoformat(sep=" ") + ("+00" if oid == TIMESTAMPTZ else "")
    if oid == TIME:
        micros = struct.unpack("!q", data)[0]
        return (datetime.datetime.min + datetime.timedelta(microseconds=micros)).time().isoformat()
    return data.decode("utf-8")
