"""How a connection-string key's value is checked and stored: :class:`KeySpec` (one key, as data) and its converters.

A converter ``convert(spec, text)`` turns the (non-empty) text of a value into what
:class:`~sqlspapi.settings.connstr.Settings` stores (str, bool, int, float, :class:`~sqlspapi.settings.values.Secret`,
a tuple of marketplace IDs, a set of status codes, ...). Converters never put a value in a message themselves: they
raise :class:`ValueProblem` (what is wrong and what to write), and the parser (:mod:`sqlspapi.settings.connstr`),
which knows where the value came from, decides whether the value may be shown. Numeric keys carry their range
(:attr:`KeySpec.bounds`), checked by their converter and put in words by :func:`describe_bounds`.

The key table itself, which pairs each key with its converter, is :data:`sqlspapi.settings.keys.KEYS`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.values import Secret

__all__ = ["KeySpec", "ValueProblem", "describe_bounds", "LOOKBACK_ALL"]


@dataclass(frozen=True)
class KeySpec:
    """One connection-string key: how it is spelled, what it defaults to, how its value is checked and stored.

    ``convert(spec, text)`` turns the (non-empty) text into the stored value or raises
    :class:`ValueProblem`; ``attr`` is the :class:`~sqlspapi.settings.connstr.Settings` attribute it feeds
    (``None``: accepted and ignored); ``allowed`` lists the accepted values for the docs and error
    messages (empty: free-form); ``bounds`` is the inclusive range of a numeric key (a float key's lower bound
    is exclusive: ``Timeout`` > 0), checked by its converter and listed in ``docs/connection-string.md``.
    """

    name: str
    aliases: tuple[str, ...]
    default: str | None
    allowed: tuple[str, ...]
    description: str
    convert: Callable[[KeySpec, str], Any]
    attr: str | None
    secret: bool = False
    group: str = "general"
    bounds: tuple[float, float] | None = None


class ValueProblem(ValueError):
    """What is wrong with a key's value, raised by a converter *without* the value.

    ``message`` follows ``Key=<value>`` in the final error (e.g. ``"is not a boolean; allowed values: ..."``);
    ``part``, when given, is the offending piece of the value (one marketplace code), shown where ``message`` says
    ``{part}`` only if the whole value may be shown. The parser turns it into a ConnectionStringError.
    """

    def __init__(self, message: str, part: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.part = part


def _conv_str(spec: KeySpec, text: str) -> str:
    if any(ord(c) < 32 for c in text):
        raise ValueProblem("contains a control character; remove it (line breaks included).")
    return text


def _conv_secret(spec: KeySpec, text: str) -> Secret:
    return Secret(_conv_str(spec, text))


_BOOL = {"true": True, "yes": True, "1": True, "on": True,
         "false": False, "no": False, "0": False, "off": False}
_BOOL_ALLOWED = ("true", "false", "yes", "no", "1", "0", "on", "off")


def _conv_bool(spec: KeySpec, text: str) -> bool:
    try:
        return _BOOL[text.lower()]
    except KeyError:
        raise ValueProblem(f"is not a boolean; allowed values: {', '.join(_BOOL_ALLOWED)} (any case).") from None


def describe_bounds(spec: KeySpec) -> str:
    """A numeric key's range in words, as errors and the docs give it: ``"an integer from 1 to 7300"``."""
    if spec.bounds is None:
        return ""
    low, high = spec.bounds
    if spec.convert is _conv_int:
        return f"an integer from {low:.0f} to {high:.0f}"
    if spec.convert is _conv_lookback:
        return f"an integer from {low:.0f} to {high:.0f}, or all"
    return f"a number greater than {low:g} and at most {high:g}"


def _conv_int(spec: KeySpec, text: str) -> int:
    assert spec.bounds is not None
    low, high = spec.bounds
    wanted = f"write {describe_bounds(spec)}"
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueProblem(f"is not a whole number; {wanted}.")
    # longer than any bound: out of range without converting (int() of thousands of digits is refused)
    value = int(text) if len(text) <= 20 else (-1 if text.startswith("-") else 1) * 10 ** 21
    if not low <= value <= high:
        raise ValueProblem(f"is out of range; {wanted}.")
    return value


#: ``LookbackDays=all``: each table's full retention at Amazon (e.g. 730 days for orders).
LOOKBACK_ALL = 0


def _conv_lookback(spec: KeySpec, text: str) -> int:
    if text.strip().lower() == "all":
        return LOOKBACK_ALL
    return _conv_int(spec, text)


def _conv_seconds(spec: KeySpec, text: str) -> float:
    assert spec.bounds is not None
    low, high = spec.bounds
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low < value <= high):
        raise ValueProblem(f"is not valid; write a number of seconds greater than {low:g} and at most {high:g}, "
                           f"e.g. 60.")
    return value


def _conv_url(spec: KeySpec, text: str) -> str:
    bad = ValueProblem(f"is not an http(s) URL; write e.g. "
                       f"{spec.default or 'https://sellingpartnerapi-na.amazon.com'}.")
    if any(ord(c) <= 32 for c in text):
        raise bad
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad
    return text.rstrip("/")


def _choice_converter(canonical: tuple[str, ...], mapping: Mapping[str, str] | None = None, *,
                      refusal: str = "is not valid; allowed values") -> Callable[[KeySpec, str], str]:
    """A converter accepting ``canonical`` values (and ``mapping`` keys) case-insensitively; anything else is a
    problem "<refusal>: <the values>"."""
    table = {c.lower(): c for c in canonical} | {k.lower(): v for k, v in (mapping or {}).items()}

    def conv(spec: KeySpec, text: str) -> str:
        try:
            return table[text.lower()]
        except KeyError:
            raise ValueProblem(f"{refusal}: {', '.join(spec.allowed or canonical)}.") from None
    return conv


def _conv_region(spec: KeySpec, text: str) -> str:
    try:
        return mp.resolve_region(text)
    except KeyError:
        raise ValueProblem(f"is not a selling region; allowed values: {', '.join(spec.allowed)} "
                           f"(case-insensitive).") from None


def _conv_marketplaces(spec: KeySpec, text: str) -> tuple[str, ...]:
    ids: list[str] = []
    for token in text.split(","):
        if not token.strip():
            continue
        try:
            mid = mp.resolve_marketplace(token)
        except KeyError:
            raise ValueProblem(f"has an unknown marketplace{{part}}; use marketplace IDs or country codes, "
                               f"comma-separated. Valid codes: {mp.valid_codes()}.", token.strip()) from None
        if mid not in ids:
            ids.append(mid)
    return tuple(ids)


def _conv_status_codes(spec: KeySpec, text: str) -> frozenset[int]:
    codes: set[int] = set()
    for token in re.split(r"[|,]", text):
        token = token.strip()
        if not token:
            continue
        if not re.fullmatch(r"\d{3}", token) or not 100 <= int(token) <= 599:
            raise ValueProblem("has{part} which is not an HTTP status code; write codes separated by '|', "
                               "e.g. 429|500|502|503|504.", token)
        codes.add(int(token))
    return frozenset(codes)


def _conv_path(spec: KeySpec, text: str) -> str:
    text = _conv_str(spec, text)
    try:
        return os.path.expanduser(text)
    except (ValueError, KeyError):  # pragma: no cover - exotic user names
        return text


def _conv_ignored(spec: KeySpec, text: str) -> None:
    return None


_NAME = re.compile(r"^[A-Za-z0-9_.*?\[\]-]+$")


def _conv_names(spec: KeySpec, text: str) -> tuple[str, ...]:
    """A comma-separated list of names (account, table or operation names; ``*``/``?`` wildcards allowed), in order,
    without repeats."""
    names = [part.strip() for part in text.split(",")]
    if any(not name for name in names):
        raise ValueProblem("has an empty name; separate names with single commas (e.g. a,b,c).")
    for name in names:
        if not _NAME.match(name):
            raise ValueProblem("holds a name with a character other than letters, digits, '_', '-', '.' and the "
                               "wildcards '*' and '?'; write names separated by commas.")
    return tuple(dict.fromkeys(names))


def _conv_datetime(spec: KeySpec, text: str) -> str:
    """An ISO 8601 date or date-time (``2027-05-01`` or ``2027-05-01T12:00:00Z``), kept as written (normalised to
    UTC ISO text)."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueProblem("is not an ISO 8601 date or date-time; write e.g. 2027-05-01 or 2027-05-01T12:00:00Z.") \
            from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
