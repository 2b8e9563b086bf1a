"""SQLAlchemy dialect ``sqlspapi``: SQLAlchemy's SQLite dialect over :mod:`sqlspapi.interfaces.dbapi`.

Engine URLs (registered by the ``sqlalchemy.dialects`` entry point ``sqlspapi``) never hold a secret::

    create_engine("sqlspapi:///?demo=true")                                   # the built-in emulator
    create_engine("sqlspapi:///?ClientId=amzn1...&Region=eu&ClientSecret_env=SPAPI_CLIENT_SECRET"
                  "&RefreshToken_env=SPAPI_REFRESH_TOKEN")                     # secrets from the environment
    create_engine("sqlspapi:///?connection_string_env=SQLSPAPI_CONNECTION_STRING")
    create_engine("sqlspapi:///?ClientId=amzn1...&Region=eu",
                  connect_args={"ClientSecret": "...", "RefreshToken": "Atzr|..."})

Every connection-string key may be a query parameter (keys are case-insensitive; a repeated parameter becomes
a comma-separated list), except the secret ones (``ClientSecret``, ``RefreshToken``, ``AwsSecretAccessKey``, any
spelling, also inside a ``connection_string`` parameter): SQLAlchemy shows a URL's query string in
``repr(engine)``, ``str(engine.url)``, its logs and the connection forms of BI tools (it hides only the password),
so :meth:`SPAPIDialect.create_connect_args` refuses them at ``create_engine`` with an error saying how to pass them.
``KEY_env=VARIABLE`` reads a key's value from an environment variable when the engine is created
(``connection_string_env=VARIABLE`` a whole connection string); ``connect_args`` keys win over the URL's.

Each new DB-API connection asks Login with Amazon for an access token at once (:func:`sqlspapi.connect` does), so
wrong credentials fail at ``engine.connect()`` (a BI tool's "Test connection") with the message naming the wrong key,
not at the first query. ``connect_args={"progress": callback}`` reaches :func:`sqlspapi.connect` (live progress of
each statement, e.g. under ``pandas.read_sql``).
``pandas.read_sql(sql, engine)`` and ``sqlalchemy.inspect(engine)`` work as with SQLite; the tables are read-only.

Types: reflection reads sqlspapi's declared types (``COLUMN_TYPES`` in :mod:`sqlspapi.definitions.schema`):
timestamp columns (``TIMESTAMPTZ TEXT``) are :class:`Timestamp`, a ``DateTime(timezone=True)``; decimal columns
(``DECIMAL REAL``: money amounts) :class:`Decimal`, a ``Numeric``; ``BOOLEAN`` columns ``Boolean``. Values arrive
already typed from :mod:`sqlspapi.interfaces.dbapi` (aware ``datetime`` in UTC, ``decimal.Decimal``, ``bool``), so
``pandas.read_sql`` makes ``datetime64[…, UTC]`` columns without ``parse_dates`` (money becomes float64 by pandas'
default ``coerce_float=True``; pass ``coerce_float=False`` to keep ``Decimal``). In SQLAlchemy expressions the types
carry through functions: ``select(func.max(orders.c.createdTime))`` gives a ``datetime``,
``func.sum(orders.c.proceeds_grandTotal_amount)`` an exact ``Decimal``.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine.url import URL

from sqlspapi.errors import ConnectionStringError
from sqlspapi.interfaces.dbtypes import to_datetime, to_decimal
from sqlspapi.settings.connstr import lookup_key, secret_keys_in

_TRUE = {"1", "true", "yes", "on"}
_ENV_SUFFIX = "_env"
_CONNECTION_STRING = ("connection_string", "connectionstring")


def _refuse_secret(name: str, where: str) -> ConnectionStringError:
    return ConnectionStringError(
        f"{name} must not be written in a SQLAlchemy URL ({where}): SQLAlchemy shows the URL's query string in "
        f"repr(engine), str(engine.url), its logs and BI tools' connection forms. Pass it in "
        f"create_engine(url, connect_args={{'{name}': ...}}), or name an environment variable holding it: "
        f"sqlspapi:///?{name}_env=VARIABLE (or connection_string_env=VARIABLE for a whole connection string). "
        f"See 'SQLAlchemy URLs' in: sqlspapi help connection-string.",
        key=name)


def _from_environment(parameter: str, variable: str) -> str:
    value = os.environ.get(variable.strip())
    if value is None:
        raise ConnectionStringError(
            f"The SQLAlchemy URL parameter {parameter} names the environment variable {variable.strip()!r}, which "
            f"is not set in this process.", key=parameter[: -len(_ENV_SUFFIX)])
    return value


class Timestamp(sqltypes.DateTime):
    """A timestamp column: ``DateTime(timezone=True)`` whose values are aware ``datetime`` objects in UTC.

    Results pass through :func:`~sqlspapi.interfaces.dbtypes.to_datetime` (text from an expression such as
    ``max(createdTime)`` is parsed; ``datetime`` objects pass); parameters go to the DB-API unchanged, which binds
    them as ISO 8601 text in UTC (``...Z``), the form the API tables compare as instants.
    """

    def __init__(self, timezone: bool = True) -> None:
        super().__init__(timezone=timezone)

    def bind_processor(self, dialect: Any) -> None:
        """None: :func:`sqlspapi.interfaces.dbtypes.adapt` binds datetimes (aware ones in UTC)."""
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """ISO 8601 text → aware ``datetime`` (values already converted by the DB-API pass through)."""
        return to_datetime


class Decimal(sqltypes.Numeric):
    """A decimal column (money amounts): ``Numeric`` whose values are exact ``decimal.Decimal`` objects.

    Floats (``sum(amount)`` computed by SQLite) become the decimal they stand for
    (:func:`~sqlspapi.interfaces.dbtypes.exact_decimal`: ``432.51``, not ``432.51000000000005``).
    """

    def bind_processor(self, dialect: Any) -> None:
        """None: the DB-API binds ``Decimal`` as a float (SQLite's REAL)."""
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """Numbers → ``Decimal`` (or float with ``asdecimal=False``)."""
        return to_decimal if self.asdecimal else _to_float


def _to_float(value: Any) -> Any:
    return float(value) if value is not None else None


class SPAPIDialect(SQLiteDialect):
    """SQLAlchemy's SQLite dialect, connecting through :func:`sqlspapi.interfaces.dbapi.connect`."""

    name = "sqlspapi"
    driver = "apsw"
    supports_statement_cache = True
    default_paramstyle = "qmark"
    returns_native_bytes = True
    ischema_names = {**SQLiteDialect.ischema_names, "TIMESTAMPTZ TEXT": Timestamp, "DECIMAL REAL": Decimal}
    """SQLite's reflected type names plus sqlspapi's declared types (``TIMESTAMPTZ TEXT``, ``DECIMAL REAL``)."""
    colspecs = {**SQLiteDialect.colspecs, sqltypes.DateTime: Timestamp}
    """Every ``DateTime`` takes :class:`Timestamp`'s processing: the DB-API returns ``datetime`` objects, not text."""

    @classmethod
    def import_dbapi(cls) -> Any:
        """The DB-API module: :mod:`sqlspapi.interfaces.dbapi`."""
        from sqlspapi.interfaces import dbapi

        return dbapi

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        return tuple(self.dbapi.sqlite_version_info)

    def on_connect(self) -> None:
        """No per-connection setup (the pysqlite hooks do not apply)."""
        return None

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        """Keyword arguments of :func:`sqlspapi.interfaces.dbapi.connect` from the URL's query parameters.

        Refuses secret keys written in the URL (ConnectionStringError, raised by ``create_engine``); resolves
        ``KEY_env=VARIABLE`` parameters from the environment (their values are checked too, but may hold secrets).
        """
        kwargs: dict[str, Any] = {}
        for key, value in url.query.items():
            text = ",".join(value) if isinstance(value, tuple) else value
            from_env = key.lower().endswith(_ENV_SUFFIX)
            name = key[: -len(_ENV_SUFFIX)] if from_env else key
            spec = lookup_key(name)
            if not from_env and spec is not None and spec.secret:
                raise _refuse_secret(spec.name, f"query parameter {key}")
            if not from_env and name.lower() in _CONNECTION_STRING:
                secrets = secret_keys_in(text)
                if secrets:
                    raise _refuse_secret(secrets[0], f"inside the {key} parameter")
            if from_env:
                text = _from_environment(key, text)
            lowered = name.lower()
            if lowered == "demo":
                kwargs["demo"] = text.strip().lower() in _TRUE
            elif lowered in _CONNECTION_STRING:
                kwargs["connection_string"] = text
            else:
                kwargs[name] = text
        return [], kwargs

    def do_ping(self, dbapi_connection: Any) -> bool:
        """The local SQLite side is always there; API reachability shows on the next query."""
        return not dbapi_connection.closed


dialect = SPAPIDialect
"""SQLAlchemy looks up ``dialect`` on a dialect module."""

__all__ = ["SPAPIDialect", "Timestamp", "Decimal", "dialect"]
