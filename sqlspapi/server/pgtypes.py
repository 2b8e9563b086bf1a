"""PostgreSQL type facts for the bridge: OIDs, names, lengths, and the SQLite declared type → OID mapping.

The bridge reports every SQLite column as a PostgreSQL type. SQLite has only affinities, so the declared type of a
column (``INTEGER``, ``TEXT``, ``REAL`` …, or a PostgreSQL name such as ``int4`` used by the emulated catalog)
decides the OID; a column without a declared type gets one from the value's Python type. The ``TYPES`` table also
fills the emulated ``pg_type`` (see ``catalog.py``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT2VECTOR, INT4, REGPROC, TEXT, OID = 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26
OIDVECTOR, JSON, FLOAT4, FLOAT8, UNKNOWN, BPCHAR, VARCHAR, DATE, TIME = 30, 114, 700, 701, 705, 1042, 1043, 1082, 1083
TIMESTAMP, TIMESTAMPTZ, INTERVAL, NUMERIC, REGCLASS, REGTYPE = 1114, 1184, 1186, 1700, 2205, 2206
UUID, JSONB, VOID = 2950, 3802, 2278


@dataclass(frozen=True)
class PgType:
    """One row of the emulated ``pg_type``: what drivers look up by OID or name."""

    oid: int
    name: str
    length: int  # typlen: -1 variable, -2 C string
    category: str  # typcategory: B boolean, N numeric, S string, D date/time, U user, A array, T timespan
    array_oid: int = 0
    element_oid: int = 0
    sqlite: str = "TEXT"  # what a CAST to this type becomes in SQLite


TYPES: tuple[PgType, ...] = (
    PgType(BOOL, "bool", 1, "B", 1000, sqlite="INTEGER"),
    PgType(BYTEA, "bytea", -1, "U", 1001, sqlite="BLOB"),
    PgType(CHAR, "char", 1, "Z", 1002),
    PgType(NAME, "name", 64, "S", 1003),
    PgType(INT8, "int8", 8, "N", 1016, sqlite="INTEGER"),
    PgType(INT2, "int2", 2, "N", 1005, sqlite="INTEGER"),
    PgType(INT2VECTOR, "int2vector", -1, "A", 1006, INT2),
    PgType(INT4, "int4", 4, "N", 1007, sqlite="INTEGER"),
    PgType(REGPROC, "regproc", 4, "N", 1008),
    PgType(TEXT, "text", -1, "S", 1009),
    PgType(OID, "oid", 4, "N", 1028, sqlite="INTEGER"),
    PgType(OIDVECTOR, "oidvector", -1, "A", 1013, OID),
    PgType(JSON, "json", -1, "U", 199),
    PgType(FLOAT4, "float4", 4, "N", 1021, sqlite="REAL"),
    PgType(FLOAT8, "float8", 8, "N", 1022, sqlite="REAL"),
    PgType(UNKNOWN, "unknown", -2, "X"),
    PgType(BPCHAR, "bpchar", -1, "S", 1014),
    PgType(VARCHAR, "varchar", -1, "S", 1015),
    PgType(DATE, "date", 4, "D", 1182),
    PgType(TIME, "time", 8, "D", 1183),
    PgType(TIMESTAMP, "timestamp", 8, "D", 1115),
    PgType(TIMESTAMPTZ, "timestamptz", 8, "D", 1185),
    PgType(INTERVAL, "interval", 16, "T", 1187),
    PgType(NUMERIC, "numeric", -1, "N", 1231, sqlite="REAL"),
    PgType(REGCLASS, "regclass", 4, "N", 2210),
    PgType(REGTYPE, "regtype", 4, "N", 2211),
    PgType(UUID, "uuid", 16, "U", 2951),
    PgType(JSONB, "jsonb", -1, "U", 3807),
    PgType(VOID, "void", 4, "P"),
    PgType(1000, "_bool", -1, "A", element_oid=BOOL),
    PgType(1005, "_int2", -1, "A", element_oid=INT2),
    PgType(1007, "_int4", -1, "A", element_oid=INT4),
    PgType(1009, "_text", -1, "A", element_oid=TEXT),
    PgType(1016, "_int8", -1, "A", element_oid=INT8),
    PgType(1015, "_varchar", -1, "A", element_oid=VARCHAR),
    PgType(1022, "_float8", -1, "A", element_oid=FLOAT8),
    PgType(1028, "_oid", -1, "A", element_oid=OID),
)
BY_OID: dict[int, PgType] = {t.oid: t for t in TYPES}
BY_NAME: dict[str, PgType] = {t.name: t for t in TYPES}

# SQL spellings of PostgreSQL types (as sqlglot or a user writes them) → canonical typname
ALIASES: dict[str, str] = {
    "boolean": "bool", "smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8",
    "real": "float4", "double precision": "float8", "double": "float8", "float": "float8", "decimal": "numeric",
    "character varying": "varchar", "character": "bpchar", "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz", "datetime": "timestamp", "string": "text", "clob": "text",
    "blob": "bytea", "binary": "bytea", "varbinary": "bytea", "tinyint": "int2", "timestamptz": "timestamptz",
}


#: SQLite storage words that may follow a type name in a declared type (``TIMESTAMPTZ TEXT``).
_STORAGE = frozenset({"text", "real", "integer", "blob"})


def oid_for_decltype(decltype: str | None) -> int | None:
    """The OID for a SQLite declared type, or None when the column has none (decide from the values).

    PostgreSQL names are taken literally (the emulated catalog declares ``name``, ``int2``, ``bool`` …); a type
    followed by its SQLite storage (sqlspapi's ``TIMESTAMPTZ TEXT``, ``DECIMAL REAL``) is the type it names
    (timestamptz, numeric); other declared types follow SQLite's affinity rules, mapped to the widest PostgreSQL
    type: INTEGER → int8, REAL/FLOAT/DOUBLE → float8, TEXT/CHAR/CLOB → text, BLOB → bytea, BOOLEAN → bool, DATE,
    TIMESTAMP/DATETIME.
    """
    if not decltype:
        return None
    low = decltype.strip().lower()
    base = low.split("(")[0].strip()
    named, _, storage = base.rpartition(" ")
    if storage in _STORAGE and named and (oid := oid_for_name(named)) is not None:
        return oid
    if base.endswith("[]"):
        elem = BY_NAME.get(ALIASES.get(base[:-2], base[:-2]))
        return elem.array_oid if elem and elem.array_oid else TEXT
    if base in BY_NAME:
        return BY_NAME[base].oid
    if base in ("bool", "boolean"):
        return BOOL
    if base in ("date",):
        return DATE
    if base.startswith("timestamp") or base == "datetime":
        return TIMESTAMPTZ if "with time zone" in base or base == "timestamptz" else TIMESTAMP
    if "int" in base:
        return INT8
    if any(word in base for word in ("char", "clob", "text")):
        return TEXT
    if "blob" in base:
        return BYTEA
    if any(word in base for word in ("real", "floa", "doub")):
        return FLOAT8
    if base.startswith(("numeric", "decimal")):
        return NUMERIC
    return TEXT


def oid_for_value(value: object) -> int:
    """The OID for a Python value (a column without a declared type): bool, int8, float8, bytea, else text."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT8
    if isinstance(value, float):
        return FLOAT8
    if isinstance(value, bytes | bytearray | memoryview):
        return BYTEA
    return TEXT


def oid_for_name(name: str) -> int | None:
    """The OID of a type by name or SQL alias (``integer``, ``varchar``, ``int8``, ``text[]``), or None."""
    low = " ".join(name.strip().strip('"').lower().split())
    low = low.removeprefix("pg_catalog.")
    if low.endswith("[]"):
        elem = oid_for_name(low[:-2])
        return BY_OID[elem].array_oid if elem in BY_OID and BY_OID[elem].array_oid else None
    low = ALIASES.get(low, low)
    found = BY_NAME.get(low)
    return found.oid if found else None


def type_size(oid: int) -> int:
    """``typlen`` of an OID for RowDescription (-1 variable length, unknown types included)."""
    found = BY_OID.get(oid)
    return found.length if found else -1


def type_name(oid: int) -> str:
    """``typname`` of an OID (``text`` for OIDs the bridge does not know)."""
    found = BY_OID.get(oid)
    return found.name if found else "text"


def format_type(oid: int | None, typmod: int | None = -1) -> str | None:
    """What ``pg_catalog.format_type(oid, typmod)`` returns: the SQL spelling (``bigint``, ``text``, ``boolean``)."""
    if oid is None:
        return None
    spelled = {
        BOOL: "boolean", INT2: "smallint", INT4: "integer", INT8: "bigint", FLOAT4: "real", FLOAT8: "double precision",
        VARCHAR: "character varying", BPCHAR: "character", TIMESTAMP: "timestamp without time zone",
        TIMESTAMPTZ: "timestamp with time zone", CHAR: '"char"', TIME: "time without time zone",
    }
    if oid in spelled:
        return spelled[oid]
    found = BY_OID.get(oid)
    if found is None:
        return "???"
    if found.element_oid:
        return f"{format_type(found.element_oid)}[]"
    return found.name


# ---- PostgreSQL value semantics as SQLite functions (registered by translate.register_functions) ----------------
_UNITS = {"year": "years", "years": "years", "y": "years", "yr": "years", "yrs": "years", "mon": "months",
          "mons": "months", "month": "months", "months": "months", "week": "weeks", "weeks": "weeks", "w": "weeks",
          "day": "days", "days": "days", "d": "days", "hour": "hours", "hours": "hours", "h": "hours", "hr": "hours",
          "hrs": "hours", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
          "m": "minutes", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
          "s": "seconds", "decade": "decades", "decades": "decades", "century": "centuries",
          "millisecond": "milliseconds", "milliseconds": "milliseconds", "ms": "milliseconds",
          "microsecond": "microseconds", "microseconds": "microseconds", "quarter": "quarters"}


def parse_timestamp(value: object) -> _dt.datetime | None:
    """A SQLite date/time value (ISO text with ``T``/``Z``/offset, a date, or a Unix epoch number) as naive UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _dt.datetime.fromtimestamp(value, _dt.UTC).replace(tzinfo=None)
    text = str(value).strip()
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"invalid input syntax for type timestamp: {text!r}") from error
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(_dt.UTC).replace(tzinfo=None)
    return parsed


def format_timestamp(value: _dt.datetime | None, kind: str = "timestamp") -> str | None:
    """PostgreSQL's ISO output: ``2024-01-05 10:00:00`` (fraction only when present), or the date for ``date``."""
    if value is None:
        return None
    if kind == "date":
        return value.date().isoformat()
    text = value.isoformat(sep=" ")
    return text + "+00" if kind == "timestamptz" else text


def pg_timestamp(value: object, kind: str = "timestamp") -> str | None:
    """``x::timestamp`` / ``::timestamptz`` / ``::date``."""
    return format_timestamp(parse_timestamp(value), kind)


def pg_date_trunc(unit: str, value: object) -> str | None:
    """``date_trunc(unit, ts)``: microseconds … millennium; weeks start on Monday as in PostgreSQL."""
    ts = parse_timestamp(value)
    if ts is None:
        return None
    unit = _UNITS.get(unit.lower(), unit.lower())
    if unit == "weeks":
        ts = (ts - _dt.timedelta(days=ts.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit in ("years", "quarters", "months", "decades", "centuries", "millennium"):
        month = 1 if unit != "quarters" and unit != "months" else (ts.month - (ts.month - 1) % 3 if unit ==
                                                                    "quarters" else ts.month)
        year = ts.year - ts.year % 10 if unit == "decades" else ts.year
        if unit == "centuries":
            year = (ts.year - 1) // 100 * 100 + 1
        elif unit == "millennium":
            year = (ts.year - 1) // 1000 * 1000 + 1
        ts = _dt.datetime(year, month, 1)
    else:
        keep = {"days": 3, "hours": 4, "minutes": 5, "seconds": 6, "milliseconds": 7, "microseconds": 7}
        if unit not in keep:
            raise ValueError(f"date_trunc unit {unit!r} not recognized")
        parts = [ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second,
                 ts.microsecond // 1000 * 1000 if unit == "milliseconds" else ts.microsecond][: keep[unit]]
        ts = _dt.datetime(*parts)
    return format_timestamp(ts)


def pg_extract(field: str, value: object) -> int | float | None:
    """``extract(field from ts)`` / ``date_part``: integers for whole fields, float for seconds and epoch."""
    ts = parse_timestamp(value)
    if ts is None:
        return None
    field = field.lower()
    simple = {"year": ts.year, "month": ts.month, "day": ts.day, "hour": ts.hour, "minute": ts.minute,
              "dow": (ts.weekday() + 1) % 7, "isodow": ts.isoweekday(), "doy": ts.timetuple().tm_yday,
              "week": ts.isocalendar()[1], "isoyear": ts.isocalendar()[0], "quarter": (ts.month - 1) // 3 + 1,
              "decade": ts.year // 10, "century": (ts.year - 1) // 100 + 1, "millennium": (ts.year - 1) // 1000 + 1}
    if field in simple:
        return simple[field]
    if field == "second":
        return ts.second + ts.microsecond / 1e6
    if field in ("milliseconds", "microseconds"):
        return (ts.second * 1_000_000 + ts.microsecond) // (1000 if field == "milliseconds" else 1)
    if field == "epoch":
        return (ts - _dt.datetime(1970, 1, 1)).total_seconds()
    raise ValueError(f"unit {field!r} not recognized for extract")


def parse_interval(text: str) -> dict[str, float]:
    """``'1 year 2 mons 3 days 04:05:06'`` / ``'7 days'`` / ``'-1 month'`` → amounts by unit."""
    amounts: dict[str, float] = {}
    tokens = str(text).lower().replace(",", " ").split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if ":" in token:
            sign = -1 if token.startswith("-") else 1
            pieces = [float(p) for p in token.lstrip("+-").split(":")] + [0.0, 0.0]
            for unit, amount in zip(("hours", "minutes", "seconds"), pieces[:3], strict=True):
                amounts[unit] = amounts.get(unit, 0) + sign * amount
            index += 1
            continue
        number = float(token)
        word = tokens[index + 1] if index + 1 < len(tokens) else "seconds"
        unit = _UNITS.get(word) or _UNITS.get(word.rstrip("s"))
        if unit is None:
            raise ValueError(f"invalid input syntax for type interval: {text!r}")
        amounts[unit] = amounts.get(unit, 0) + number
        index += 2
    return amounts


def pg_add_interval(value: object, interval: str, sign: int = 1) -> str | None:
    """``ts ± interval``: calendar months and years (clamped to the month's end), then exact days and times."""
    ts = parse_timestamp(value)
    if ts is None or interval is None:
        return None
    amounts = parse_interval(interval)
    months = int(sign * (amounts.get("years", 0) * 12 + amounts.get("months", 0) + amounts.get("quarters", 0) * 3
                         + amounts.get("decades", 0) * 120 + amounts.get("centuries", 0) * 1200))
    if months:
        total = ts.year * 12 + ts.month - 1 + months
        year, month = divmod(total, 12)
        last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
                31, 30, 31][month]
        ts = ts.replace(year=year, month=month + 1, day=min(ts.day, last))
    ts += sign * _dt.timedelta(weeks=amounts.get("weeks", 0), days=amounts.get("days", 0),
                               hours=amounts.get("hours", 0), minutes=amounts.get("minutes", 0),
                               seconds=amounts.get("seconds", 0), milliseconds=amounts.get("milliseconds", 0),
                               microseconds=amounts.get("microseconds", 0))
    return format_timestamp(ts)


def pg_cast_int(value: object) -> int | None:
    """``x::integer``: whole numbers (floats round half away from zero); other text is an error, not 0."""
    if value is None or isinstance(value, int):
        return value  # type: ignore[return-value]
    if isinstance(value, float):
        return int(value + (0.5 if value >= 0 else -0.5))
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"invalid input syntax for type integer: {value!r}") from None


def pg_cast_float(value: object) -> float | None:
    """``x::float8`` / ``::numeric``: numbers; other text is an error, not 0."""
    if value is None:
        return None
    try:
        return float(value if isinstance(value, int | float) else str(value).strip())
    except ValueError:
        raise ValueError(f"invalid input syntax for type double precision: {value!r}") from None


def pg_array_get(array: object, index: object) -> object:
    """``arr[i]`` on PostgreSQL array text (``{a,b}``) or vector text (``1 2``), 1-based; None when out of range."""
    if array is None or index is None:
        return None
    text = str(array)
    items = text[1:-1].split(",") if text.startswith("{") else text.split()
    position = int(index)  # type: ignore[call-overload]
    return items[position - 1].strip('"') if 1 <= position <= len(items) else None


def pg_timestamp_diff(left: object, right: object) -> int | str | None:
    """``a - b``: whole days between two dates (an int), else a PostgreSQL interval such as ``4 days 10:20:30``."""
    a, b = parse_timestamp(left), parse_timestamp(right)
    if a is None or b is None:
        return None
    if all(len(str(v)) == 10 for v in (left, right)):
        return (a - b).days
    delta = a - b
    sign, delta = ("-", -delta) if delta < _dt.timedelta(0) else ("", delta)
    hours, rest = divmod(delta.seconds, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    clock += f".{delta.microseconds:06d}" if delta.microseconds else ""
    if not delta.days:
        return sign + clock
    days = f"{sign}{delta.days} day{'s' if delta.days != 1 else ''}"
    return days if clock == "00:00:00" else f"{days} {sign}{clock}"


def pg_array_contains(array: object, value: object) -> int | None:
    """``value = ANY(array)`` on PostgreSQL array text (``{a,b}``) or vector text (``1 2``)."""
    if array is None or value is None:
        return None
    text = str(array)
    items = text[1:-1].split(",") if text.startswith("{") else text.split()
    return int(str(value) in (item.strip().strip('"') for item in items))


def pg_bool(value: object) -> int | None:
    """``x::boolean``: PostgreSQL's spellings (t/true/yes/on/1, f/false/no/off/0) and numbers."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value != 0)
    text = str(value).strip().lower()
    if text in ("t", "true", "y", "yes", "on", "1"):
        return 1
    if text in ("f", "false", "n", "no", "off", "0"):
        return 0
    raise ValueError(f"invalid input syntax for type boolean: {value!r}")
