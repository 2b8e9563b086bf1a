"""The session's settings as PostgreSQL keeps them: their defaults, ``SET``, ``SHOW`` and the timeouts.

:data:`DEFAULT_SETTINGS` are a new session's values; :func:`parse_set` reads ``SET``, :func:`setting_value` checks a
value and writes it as PostgreSQL shows it (timeouts: ``500ms``, ``5s``, ``1min``), :func:`timeout_ms` reads a timeout
back and :func:`show` answers ``SHOW``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .pgerror import PgError

__all__ = ["DEFAULT_SETTINGS", "parse_set", "setting_value", "show", "timeout_ms"]

#: A new session's settings (``SHOW ALL``, ``pg_settings``, ``current_setting``)
DEFAULT_SETTINGS: dict[str, str] = {
    "server_version": "15.0", "server_version_num": "150000", "server_encoding": "UTF8", "client_encoding": "UTF8",
    "datestyle": "ISO, MDY", "timezone": "UTC", "intervalstyle": "postgres", "integer_datetimes": "on",
    "standard_conforming_strings": "on", "transaction_isolation": "read committed", "default_transaction_isolation":
    "read committed", "transaction_read_only": "on", "default_transaction_read_only": "on", "search_path":
    '"$user", public', "max_identifier_length": "63", "max_index_keys": "32", "extra_float_digits": "1",
    "lc_collate": "C", "lc_ctype": "C", "lc_messages": "C", "application_name": "", "is_superuser": "off",
    "statement_timeout": "0", "lock_timeout": "0", "bytea_output": "hex", "ssl": "off", "block_size": "8192",
    "max_connections": "100", "session_authorization": "", "row_security": "on", "jit": "off",
}

_SET_RE = re.compile(r"set\s+(?:(session|local)\s+)?(?:(time\s+zone)\s+(.*)|([\w.]+)\s*(?:=|\bto\b)\s*(.*))",
                     re.I | re.S)
_SET_ITEM = re.compile(r"'[^']*+(?:''[^']*+)*+'|[^,]+")  # a quoted value ('' inside) or anything up to a comma
_TIMEOUTS = {"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "idle_session_timeout"}
_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_TIMEOUT_RE = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*")
_MAX_TIMEOUT = 2**31 - 1  # milliseconds, as PostgreSQL's int setting


def parse_set(sql: str) -> tuple[str, str | None, bool]:
    """``SET [SESSION|LOCAL] name {TO|=} value[, …]`` / ``SET TIME ZONE x``: ``(name, value, local)``; the value is
    None for ``DEFAULT``, its parts unquoted and joined with ", "."""
    match = _SET_RE.match(sql.strip().rstrip(";"))
    if not match:
        raise PgError("42601", f"syntax error in SET: {sql[:80]!r}")
    name = "timezone" if match.group(2) else match.group(4).lower()
    value = (match.group(3) or match.group(5) or "").strip()
    local = (match.group(1) or "").lower() == "local"
    if value.lower() == "default":
        return name, None, local
    parts = [p.strip() for p in _SET_ITEM.findall(value)]
    return name, ", ".join(p[1:-1].replace("''", "'") if p.startswith("'") else p for p in parts), local


def _milliseconds(value: str) -> float | None:
    """A time setting's value (``500``, ``'5s'``, ``1.5min``: no unit is ms) in milliseconds; None if unreadable."""
    match = _TIMEOUT_RE.fullmatch(value)
    if match is None or match.group(2) and match.group(2) not in _TIME_UNITS:
        return None
    return float(match.group(1)) * _TIME_UNITS[match.group(2) or "ms"]


def setting_value(name: str, value: str) -> str:
    """The value ``name`` holds after ``SET name = value``: a timeout is checked (22023 when invalid or out of range)
    and written as PostgreSQL's SHOW writes it, in the largest unit that divides it (``90000`` → ``90s``)."""
    if name not in _TIMEOUTS:
        return value
    milliseconds = _milliseconds(value)
    if milliseconds is None:
        raise PgError("22023", f'invalid value for parameter "{name}": "{value[:80]}"',
                      hint='Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".')
    if not math.isfinite(milliseconds) or not 0 <= round(milliseconds) <= _MAX_TIMEOUT:
        raise PgError("22023", f'{value.strip()[:80]} is outside the valid range for parameter "{name}" '
                               f"(0 .. {_MAX_TIMEOUT} ms)")
    whole = round(milliseconds)
    unit = next((u for u in ("d", "h", "min", "s", "ms") if whole % _TIME_UNITS[u] == 0), "ms")
    return "0" if whole == 0 else f"{whole // int(_TIME_UNITS[unit])}{unit}"


def timeout_ms(value: str) -> int:
    """A timeout setting's value in whole milliseconds (0, or unreadable: no timeout)."""
    milliseconds = _milliseconds(value)
    return round(milliseconds) if milliseconds is not None and math.isfinite(milliseconds) and milliseconds > 0 else 0


def show(settings: Mapping[str, str], sql: str) -> tuple[list[str], list[tuple]]:
    """``SHOW name`` / ``SHOW ALL``: the column names and rows PostgreSQL returns."""
    name = " ".join(sql.strip().rstrip(";").split()[1:]).lower().strip('"')
    name = {"time zone": "timezone", "transaction isolation level": "transaction_isolation"}.get(name, name)
    if name == "all":
        return ["name", "setting", "description"], [(k, v, "") for k, v in sorted(settings.items())]
    if name not in settings:
        raise PgError("42704", f'unrecognized configuration parameter "{name}"')
    return [name], [(settings[name],)]
