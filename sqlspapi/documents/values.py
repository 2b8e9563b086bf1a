"""Report cells as values a user can trust: instants in UTC, exact decimals, integers and booleans.

Report files write values the way the marketplace's locale does (``shared/docs/report-formats.md``):

- **Timestamps** (:func:`parse_timestamp`) come back as ISO 8601 UTC, ``2025-09-29T15:19:39Z``:
  ``29/09/2025 16:19:39 BST`` (UK, day first), ``2019-06-17 14:24:11 PDT`` (US), ``2017-06-17T08:04:21+00:00``
  (orders), ``2025-06-09 05:23:19 UTC`` (settlement), ``...Z``, ``+0530``, ``GMT+01:00``, ``2025/06/09 14:00:00
  JST``, 12-hour ``AM``/``PM`` times. Zone abbreviations map to fixed offsets (:data:`ZONE_OFFSETS`); generic
  region names (``PT``, ``ET``, ``Pacific Time`` ...) and a value without a zone use the region's rules through
  zoneinfo (a value without a zone is in the marketplace's own time zone, UTC when no marketplace is given). An
  abbreviation not in the table is never guessed: the value stays text. A date alone stays a date
  (``MM/DD/YYYY`` → ``YYYY-MM-DD``), a month alone a month (``MM/YYYY`` → ``YYYY-MM``).
- **Day or month first** for ``NN/NN/YYYY``: ``style`` (``"dmy"``, ``"mdy"``) when the report's format is known
  (the ledger is ``mdy``), else the value itself when one part is above 12, else the marketplace's convention
  (month first in the US and Canada, day first everywhere else); without a marketplace an ambiguous value is an
  error, never a guess.
- **Decimals** (:func:`parse_decimal`): currency symbols and codes stripped, ``95,00`` and ``1.234,56`` in
  decimal-comma marketplaces, ``1,234.56`` elsewhere, spaces and apostrophes as thousands separators,
  ``(12.50)`` as a negative amount.
- **Booleans** (:func:`parse_bool`): ``y``/``n``, ``yes``/``no``, ``true``/``false``, ``1``/``0`` in any case.

Every ``parse_*`` returns ``None`` for a blank cell and raises ``ValueError`` for text it cannot read;
:func:`coerce` never raises: it returns ``(value, True)`` or ``(original text, False)`` so the caller keeps the text
and counts it in a notice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlspapi.settings.marketplaces import MARKETPLACE_BY_ID

__all__ = [
    "KINDS", "ZONE_OFFSETS", "LOCAL_ZONE_OFFSETS", "REGION_ZONES", "MARKETPLACE_ZONES", "MONTH_FIRST_COUNTRIES",
    "DECIMAL_COMMA_COUNTRIES",
    "parse_timestamp", "parse_decimal", "parse_int", "parse_bool", "coerce", "CellReader",
]

ZONE_OFFSETS: Mapping[str, float] = MappingProxyType({
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "WEST": 1, "BST": 1,
    "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "TRT": 3, "MSK": 3,
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
    "AKST": -9, "AKDT": -8, "HST": -10, "BRT": -3, "BRST": -2,
    "JST": 9, "KST": 9, "SGT": 8, "AWST": 8, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11,
})
"""Zone abbreviation → hours from UTC. ``CST``/``CDT`` are US (and Mexican) Central time. Abbreviations that mean
different offsets in different countries are in :data:`LOCAL_ZONE_OFFSETS`; unlisted ones are never guessed."""

LOCAL_ZONE_OFFSETS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "IST": MappingProxyType({"IN": 5.5, "IE": 1, "UK": 1}),
})
"""Ambiguous abbreviation → {marketplace country → hours from UTC}: ``IST`` is India Standard Time on Amazon.in and
Irish Summer Time in Ireland and the UK; elsewhere (or without a marketplace) it is not guessed."""

REGION_ZONES: Mapping[str, str] = MappingProxyType({
    "PT": "America/Los_Angeles", "PACIFIC TIME": "America/Los_Angeles",
    "MT": "America/Denver", "MOUNTAIN TIME": "America/Denver",
    "CT": "America/Chicago", "CENTRAL TIME": "America/Chicago",
    "ET": "America/New_York", "EASTERN TIME": "America/New_York",
    "UK TIME": "Europe/London", "CET/CEST": "Europe/Paris",
})
"""Generic zone names that imply a region rather than an offset → the IANA zone whose rules apply on that date."""

MARKETPLACE_ZONES: Mapping[str, str] = MappingProxyType({
    "US": "America/Los_Angeles", "CA": "America/Los_Angeles", "MX": "America/Mexico_City", "BR": "America/Sao_Paulo",
    "UK": "Europe/London", "IE": "Europe/Dublin", "DE": "Europe/Berlin", "FR": "Europe/Paris", "IT": "Europe/Rome",
    "ES": "Europe/Madrid", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "SE": "Europe/Stockholm",
    "PL": "Europe/Warsaw", "TR": "Europe/Istanbul", "EG": "Africa/Cairo", "SA": "Asia/Riyadh", "AE": "Asia/Dubai",
    "IN": "Asia/Kolkata", "ZA": "Africa/Johannesburg", "SG": "Asia/Singapore", "AU": "Australia/Sydney",
    "JP": "Asia/Tokyo",
})
"""Marketplace country → the time zone its reports write local times in (used for a value without a zone)."""

MONTH_FIRST_COUNTRIES = frozenset({"US", "CA"})
"""Marketplaces whose reports write ``MM/DD/YYYY``; every other marketplace writes the day first."""

DECIMAL_COMMA_COUNTRIES = frozenset({"DE", "FR", "IT", "ES", "NL", "BE", "SE", "PL", "TR", "BR"})
"""Marketplaces whose reports write ``95,00`` for 95.00 (EU settlements: "in local currency format")."""

KINDS = ("text", "integer", "decimal", "boolean", "timestamp")
"""The value kinds :func:`coerce` knows."""

_TIME = (r"(?:[T ]\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?"
         r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?)?")
_ZONE = (r"(?:\s*(?:(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2})?"
         r"|(?:UTC|GMT)(?P<gsign>[+-])(?P<goh>\d{1,2})(?::?(?P<gom>\d{2}))?"
         r"|(?P<abbr>[A-Za-z][A-Za-z /]{0,15}?)))?")
_YMD = re.compile(r"(?P<y>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})" + _TIME + _ZONE, re.ASCII)
_NNY = re.compile(r"(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})" + _TIME + _ZONE, re.ASCII)
_MONTH = re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4})", re.ASCII)
_BLANKS = frozenset({"", "-", "--", "n/a", "N/A", "null", "NULL"})


def _country(marketplace_id: str | None) -> str | None:
    """The marketplace's country code, or ``None`` when absent or unknown."""
    marketplace = MARKETPLACE_BY_ID.get((marketplace_id or "").strip().upper())
    return marketplace.country_code if marketplace else None


def _blank(text: str | None) -> bool:
    """Whether a cell means "no value" (empty, whitespace, ``-``, ``N/A``, ``null``)."""
    return text is None or text.strip() in _BLANKS


def _zone(match: re.Match[str], country: str | None) -> tzinfo:
    """The zone a timestamp names (offset, abbreviation or region), else the marketplace's, else UTC."""
    if match["sign"]:
        minutes = int(match["oh"]) * 60 + int(match["om"] or 0)
        return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))
    if match["gsign"]:
        minutes = int(match["goh"]) * 60 + int(match["gom"] or 0)
        return timezone(timedelta(minutes=-minutes if match["gsign"] == "-" else minutes))
    if match["abbr"]:
        abbr = " ".join(match["abbr"].upper().split())
        hours = ZONE_OFFSETS.get(abbr, LOCAL_ZONE_OFFSETS.get(abbr, {}).get(country or ""))
        if hours is not None:
            return timezone(timedelta(hours=hours))
        if abbr in REGION_ZONES:
            return ZoneInfo(REGION_ZONES[abbr])
        raise ValueError(f"unknown time zone {match['abbr']!r}")
    if country in MARKETPLACE_ZONES:
        return ZoneInfo(MARKETPLACE_ZONES[country])
    return UTC


def _day_month(a: int, b: int, style: str | None, country: str | None) -> tuple[int, int]:
    """``(day, month)`` of an ``a/b/year`` date, by ``style``, then by the values, then by the marketplace."""
    if style in ("dmy", "mdy"):
        return (a, b) if style == "dmy" else (b, a)
    if a > 12 >= b:
        return a, b
    if b > 12 >= a or a == b:
        return b, a
    if country is None:
        raise ValueError("ambiguous day and month: give the marketplace or the style")
    return (b, a) if country in MONTH_FIRST_COUNTRIES else (a, b)


def parse_timestamp(text: str | None, *, marketplace_id: str | None = None, style: str | None = None) -> str | None:
    """A report timestamp as ISO 8601 UTC (``2025-09-29T15:19:39Z``), a date (``2025-09-29``) or a month
    (``2025-09``); ``None`` when blank; ``ValueError`` when it is not a timestamp this module can read exactly.

    ``style`` is the report's known field order for ``NN/NN/YYYY`` values: ``"dmy"`` or ``"mdy"``.
    """
    if _blank(text):
        return None
    assert text is not None
    value = text.strip()
    if style not in (None, "dmy", "mdy"):
        raise ValueError(f"unknown date style {style!r}: use 'dmy' or 'mdy'")
    country = _country(marketplace_id)
    if match := _MONTH.fullmatch(value):
        return f"{datetime(int(match['y']), int(match['m']), 1):%Y-%m}"
    if match := _YMD.fullmatch(value):
        year, month, day = int(match["y"]), int(match["a"]), int(match["b"])
    elif match := _NNY.fullmatch(value):
        day, month = _day_month(int(match["a"]), int(match["b"]), style, country)
        year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if match["H"] is None:
        if match["sign"] or match["gsign"] or match["abbr"]:
            raise ValueError(f"a date with a time zone but no time: {value!r}")
        return date(year, month, day).isoformat()
    hour = int(match["H"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a 12-hour time: {value!r}")
        hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
    micro = int((match["F"] or "0")[:6].ljust(6, "0"))
    local = datetime(year, month, day, hour, int(match["M"]), int(match["S"] or 0), micro,
                     tzinfo=_zone(match, country))
    instant = local.astimezone(UTC).replace(tzinfo=None)
    return instant.isoformat(timespec="microseconds" if instant.microsecond else "seconds") + "Z"


_CURRENCY = re.compile(r"(?P<pre>(?:[A-Z]{3}|[A-Z]?\$|[€£¥￥₹₺])\s*)?(?P<body>[^A-Za-z]*?)"
                       r"(?P<post>\s*(?:[A-Z]{3}|[$€£¥￥₹₺円]|zł|kr|TL))?")
_SPACES = str.maketrans("", "", "\u00a0\u202f\u2009 '’")
_NUMBER = re.compile(r"(?:\d+|\d{1,3}(?:,\d{2,3})+|\d{1,3}(?:\.\d{3})+)(?:[.,]\d+)?", re.ASCII)


def parse_decimal(text: str | None, *, marketplace_id: str | None = None) -> Decimal | None:
    """An amount as an exact ``Decimal`` (``95,00`` → ``95.00`` in EU settlements); ``None`` when blank.

    Currency symbols and ISO codes (``€``, ``R$``, ``EUR``), spaces and apostrophes are dropped; a leading ``-``
    (before or after the currency), ``(1.50)`` and ``1.50-`` are negative. With both ``.`` and ``,`` the later one is
    the decimal mark. With one of them, several of it are thousands separators; a single ``,`` is the decimal mark
    in a decimal-comma marketplace (:data:`DECIMAL_COMMA_COUNTRIES`), elsewhere only when not followed by exactly
    three digits; a single ``.`` is the decimal mark except before exactly three digits in a decimal-comma
    marketplace.
    """
    if _blank(text):
        return None
    assert text is not None
    value, negative = text.strip(), False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1].strip(), True
    elif value.endswith("-"):
        value, negative = value[:-1].rstrip(), True
    elif value[:1] in ("-", "+"):
        value, negative = value[1:].lstrip(), value[0] == "-"
    match = _CURRENCY.fullmatch(value)
    body = (match["body"] if match else value).translate(_SPACES)
    if body[:1] in ("-", "+") and not negative:
        body, negative = body[1:], body[0] == "-"
    if not _NUMBER.fullmatch(body):
        raise ValueError(f"not a number: {text.strip()!r}")
    number = Decimal(_canonical(body, _country(marketplace_id) in DECIMAL_COMMA_COUNTRIES))
    return -number if negative else number


def _canonical(body: str, decimal_comma: bool) -> str:
    """Digits with only ``.`` as the decimal mark, thousands separators removed."""
    dot, comma = body.rfind("."), body.rfind(",")
    if dot >= 0 and comma >= 0:
        mark = "." if dot > comma else ","
    elif comma >= 0:
        several, three = body.count(",") > 1, len(body) - comma - 1 == 3
        mark = "" if several or (three and not decimal_comma) else ","
    elif dot >= 0:
        grouped = body.count(".") > 1 or (decimal_comma and len(body) - dot - 1 == 3)
        mark = "" if grouped else "."
    else:
        return body
    thousands = {".", ","} - {mark}
    digits = "".join(ch for ch in body if ch not in thousands)
    return digits.replace(",", ".") if mark == "," else digits


def parse_int(text: str | None, *, marketplace_id: str | None = None) -> int | None:
    """A whole number (``1,234`` and ``5.0`` allowed); ``None`` when blank; ``ValueError`` when not whole."""
    number = parse_decimal(text, marketplace_id=marketplace_id)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {text!r}")
    return int(number)


_BOOLEANS: Mapping[str, bool] = MappingProxyType({
    "y": True, "yes": True, "true": True, "1": True, "t": True,
    "n": False, "no": False, "false": False, "0": False, "f": False,
})


def parse_bool(text: str | None) -> bool | None:
    """``y``/``n``, ``yes``/``no``, ``true``/``false``, ``t``/``f``, ``1``/``0`` (any case) → bool; ``None`` when
    blank."""
    if _blank(text):
        return None
    assert text is not None
    try:
        return _BOOLEANS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"not a boolean: {text.strip()!r}") from None


_PARSERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "integer": lambda text, marketplace_id, style: parse_int(text, marketplace_id=marketplace_id),
    "decimal": lambda text, marketplace_id, style: parse_decimal(text, marketplace_id=marketplace_id),
    "boolean": lambda text, marketplace_id, style: parse_bool(text),
    "timestamp": lambda text, marketplace_id, style: parse_timestamp(text, marketplace_id=marketplace_id,
                                                                      style=style),
})


def coerce(kind: str, text: str | None, *, marketplace_id: str | None = None,
           style: str | None = None) -> tuple[Any, bool]:
    """``(value, True)`` for a cell read as ``kind`` (one of :data:`KINDS`; blank → ``None``), or ``(text, False)``
    when it cannot be read, so the caller keeps the text and counts it. Never raises for a cell's content;
    ``KeyError`` for a ``kind`` not in :data:`KINDS`."""
    if kind == "text":
        return text, True
    parser = _PARSERS[kind]
    try:
        return parser(text, marketplace_id, style), True
    except (ValueError, ArithmeticError):
        return text, False


_PLAIN_INT = re.compile(r"-?\d{1,18}", re.ASCII)
_PLAIN_DECIMAL = re.compile(r"-?\d{1,15}(?:\.\d{1,12})?", re.ASCII)
_ISO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)", re.ASCII)
_LOCAL_ABBR = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{2,4})", re.ASCII)
_FIXED_ZONES: Mapping[str, tzinfo] = MappingProxyType(
    {abbr: timezone(timedelta(hours=hours)) for abbr, hours in ZONE_OFFSETS.items()})
_EXACT_BOOLEANS: Mapping[str, bool] = MappingProxyType({
    **_BOOLEANS, **{k.upper(): v for k, v in _BOOLEANS.items()}, **{k.title(): v for k, v in _BOOLEANS.items()}})


class CellReader:
    """Reads the cells of one document as :func:`coerce` does — the same answers — with fast paths for the shapes
    most cells have: plain integers and decimals, ISO 8601 times with an offset, ``YYYY-MM-DD HH:MM:SS PDT`` with a
    fixed-offset abbreviation, booleans as written. Anything else goes through :func:`coerce`.

    Built once per document (its marketplace and the report's date ``style``). ``exact=False`` gives decimals as
    ``float`` (what SQLite stores) instead of ``Decimal``.
    """

    def __init__(self, marketplace_id: str | None = None, style: str | None = None, *, exact: bool = True) -> None:
        self.marketplace_id = marketplace_id
        self.style = style
        self.exact = exact
        self._decimal_comma = _country(marketplace_id) in DECIMAL_COMMA_COUNTRIES
        self._readers: Mapping[str, Callable[[str | None], tuple[Any, bool]]] = {
            "integer": self._integer, "decimal": self._decimal, "boolean": self._boolean,
            "timestamp": self._timestamp, "text": lambda text: (text, True)}

    def read(self, kind: str, text: str | None) -> tuple[Any, bool]:
        """``(value, True)``, or ``(text, False)`` when the cell cannot be read as ``kind`` (see :func:`coerce`)."""
        return self._readers[kind](text)

    def reader(self, kind: str) -> Callable[[str | None], tuple[Any, bool]]:
        """The function that reads cells of ``kind`` (for loops that read many)."""
        return self._readers[kind]

    def _slow(self, kind: str, text: str | None) -> tuple[Any, bool]:
        value, ok = coerce(kind, text, marketplace_id=self.marketplace_id, style=self.style)
        if ok and not self.exact and isinstance(value, Decimal):
            value = float(value)
        return value, ok

    def _integer(self, text: str | None) -> tuple[Any, bool]:
        if not text:
            return None, True  # an empty cell (the commonest blank)
        if _PLAIN_INT.fullmatch(text):
            return int(text), True
        return self._slow("integer", text)

    def _decimal(self, text: str | None) -> tuple[Any, bool]:
        if not text:
            return None, True  # an empty cell (the commonest blank)
        if _PLAIN_DECIMAL.fullmatch(text) and not (self._decimal_comma and "." in text):
            return (Decimal(text) if self.exact else float(text)), True
        return self._slow("decimal", text)

    def _boolean(self, text: str | None) -> tuple[Any, bool]:
        if not text:
            return None, True  # an empty cell (the commonest blank)
        found = _EXACT_BOOLEANS.get(text)
        if found is not None:
            return found, True
        return self._slow("boolean", text)

    def _timestamp(self, text: str | None) -> tuple[Any, bool]:
        if not text:
            return None, True  # an empty cell (the commonest blank)
        try:
            if _ISO_OFFSET.fullmatch(text):
                return _utc_text(datetime.fromisoformat(text).astimezone(UTC)), True
            match = _LOCAL_ABBR.fullmatch(text)
            if match and match[7] in ZONE_OFFSETS:
                y, mo, d, h, mi, sec = (int(match[i]) for i in range(1, 7))
                local = datetime(y, mo, d, h, mi, sec, tzinfo=_FIXED_ZONES[match[7]])
                return _utc_text(local.astimezone(UTC)), True
        except ValueError:
            pass  # an impossible date: the general path says so
        return self._slow("timestamp", text)


def _utc_text(moment: datetime) -> str:
    """An aware UTC datetime as ``parse_timestamp`` writes it."""
    naive = moment.replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds" if naive.microsecond else "seconds") + "Z"
