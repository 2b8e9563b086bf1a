"""Timestamps: the ISOTIME collation, and reading/writing the date parameters SP-API takes.

Timestamp columns compare as instants, whatever ISO 8601 spelling each side uses.

SP-API returns ``2026-11-20T09:00:00Z``; analysts and BI tools write ``'2026-11-20'``, ``'2026-11-20 10:00:00'``
or ``'2026-11-20T10:00:00+01:00'``. As plain text the ``T`` sorts after a space, so SQLite's re-check of a date
filter would drop rows the API rightly returned. Timestamp columns are declared ``COLLATE ISOTIME``, which compares
both sides as UTC instants (a date alone is its midnight); text that is not a timestamp compares as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import apsw

from sqlspapi.errors import ProgrammingError

NAME = "ISOTIME"


@lru_cache(maxsize=65536)
def sort_key(text: str) -> str:
    """A text that sorts like the instant ``text`` names (``YYYY-MM-DDTHH:MM:SS[.ffffff]`` in UTC)."""
    value = text.strip()
    if len(value) < 10 or value[4] != "-" or value[7] != "-":
        return value
    iso = value.replace(" ", "T", 1)
    if iso[-1:] in ("Z", "z"):
        iso = iso[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return value
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")


def compare(left: str, right: str) -> int:
    """SQLite collation callback: negative, zero or positive as ``left`` is before, at or after ``right``."""
    a, b = sort_key(left), sort_key(right)
    return (a > b) - (a < b)


def register(connection: apsw.Connection) -> None:
    """Make the collation available on ``connection`` (before any table declares it)."""
    connection.create_collation(NAME, compare)


def to_api_time(value: Any, column: str) -> datetime:
    """Read a timestamp the way an analyst writes it ('2026-01-31', '2026-01-31 12:00', ISO 8601 with Z/offset)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ProgrammingError(
                f"{column} filter {value!r} is not a date/time: write ISO 8601 such as '2026-01-31' "
                "or '2026-01-31T12:00:00Z'") from None
    else:
        raise ProgrammingError(f"{column} filter {value!r} is not a date/time: compare it with a text "
                               "value such as '2026-01-31' or '2026-01-31T12:00:00Z'")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0)


def format_api_time(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z, as SP-API documents its date parameters (the year always four digits: C's ``%Y``
    writes year 1 as ``1``)."""
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"
