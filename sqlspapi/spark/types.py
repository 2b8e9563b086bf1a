"""Spark types of sqlspapi columns: a table definition's columns as a Spark schema, and the conversion of each DB-API
value to what that Spark type takes.

The mapping (the column kinds of :data:`sqlspapi.definitions.schema.COLUMN_TYPES`):

========  ======================  ==========================================================================
kind      Spark type              value
========  ======================  ==========================================================================
TEXT      ``string``
INTEGER   ``long``
REAL      ``decimal(38,18)``      money and other amounts stay exact (the DB-API gives ``Decimal``); 20 digits
                                  before the point, 18 after — the type Spark itself infers for ``Decimal``
TIME      ``timestamp``           an instant (the DB-API gives UTC-aware ``datetime``); shown in the session
                                  time zone, so set ``spark.sql.session.timeZone=UTC`` to see UTC
BOOLEAN   ``boolean``
JSON      ``string``              the JSON text; parse it with ``from_json``
========  ======================  ==========================================================================

Hidden columns (table-valued-function inputs) are not in the schema, as they are not in ``SELECT *``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DecimalType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sqlspapi.definitions.schema import TableSpec

__all__ = ["ACCOUNT_COLUMN", "spark_type", "table_schema", "converters"]

#: The column a connection with several accounts adds to every table: the account's name.
ACCOUNT_COLUMN = "account"

_TYPES: dict[str, Callable[[], DataType]] = {
    "TEXT": StringType,
    "INTEGER": LongType,
    "REAL": lambda: DecimalType(38, 18),
    "TIME": TimestampType,
    "BOOLEAN": BooleanType,
    "JSON": StringType,
}


def spark_type(kind: str) -> DataType:
    """The Spark type of a column of definition kind ``kind`` (``TEXT``, ``INTEGER``, ``REAL``, ``TIME`` …)."""
    return _TYPES[kind]()


def table_schema(table: TableSpec, *, with_account: bool) -> StructType:
    """The Spark schema of ``table``: its visible columns in definition order, plus ``account`` (string, never
    null) when the read spans named accounts."""
    fields = [StructField(c.name, spark_type(c.kind), nullable=True) for c in table.columns if not c.hidden]
    if with_account:
        fields.append(StructField(ACCOUNT_COLUMN, StringType(), nullable=False))
    return StructType(fields)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _integer(value: Any) -> int:
    return int(value)


_SCALE = Decimal(1).scaleb(-18)


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        value = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    exponent = value.as_tuple().exponent
    return value.quantize(_SCALE) if isinstance(exponent, int) and exponent < -18 else value


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(value)


_CONVERT: dict[type[DataType], Callable[[Any], Any]] = {
    StringType: _text,
    LongType: _integer,
    DecimalType: _decimal,
    TimestampType: _time,
    BooleanType: _boolean,
}


def converters(schema: StructType) -> Sequence[Callable[[Any], Any]]:
    """For each field of ``schema``, the function turning a non-null DB-API value into the field's Python type."""
    return [_CONVERT.get(type(f.dataType), _text) for f in schema.fields]
