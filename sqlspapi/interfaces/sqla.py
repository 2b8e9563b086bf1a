"""SQLAlchemy dialect ``sqlspapi``: SQLAlchemy's SQLite dialect over :mod:`sqlspapi.interfaces.dbapi`.

Engine URLs (registered by the ``sqlalchemy.dialects`` entry point ``sqlspapi``)::

    create_engine("sqlspapi:///?demo=true")                                   # the built-in emulator
    create_engine("sqlspapi:///?ClientId=amzn1...&ClientSecret=...&RefreshToken=Atzr|...&Region=eu")
    create_engine("sqlspapi://", connect_args={"connection_string": "ClientId=...;..."})

Every connection-string key may be a query parameter (keys are case-insensitive; a repeated parameter becomes
a comma-separated list); ``connect_args`` keys win over the URL's. ``pandas.read_sql(sql, engine)`` and
``sqlalchemy.inspect(engine)`` work as with SQLite; the tables are read-only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine.url import URL

_TRUE = {"1", "true", "yes", "on"}


class SPAPIDialect(SQLiteDialect):
    """SQLAlchemy's SQLite dialect, connecting through :func:`sqlspapi.interfaces.dbapi.connect`."""

    name = "sqlspapi"
    driver = "apsw"
    supports_statement_cache = True
    default_paramstyle = "qmark"
    returns_native_bytes = True

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
        """Keyword arguments of :func:`sqlspapi.interfaces.dbapi.connect` from the URL's query parameters."""
        kwargs: dict[str, Any] = {}
        for key, value in url.query.items():
            text = ",".join(value) if isinstance(value, tuple) else value
            lowered = key.lower()
            if lowered == "demo":
                kwargs["demo"] = text.strip().lower() in _TRUE
            elif lowered in ("connection_string", "connectionstring"):
                kwargs["connection_string"] = text
            else:
                kwargs[key] = text
        return [], kwargs

    def do_ping(self, dbapi_connection: Any) -> bool:
        """The local SQLite side is always there; API reachability shows on the next query."""
        return not dbapi_connection.closed


dialect = SPAPIDialect
"""SQLAlchemy looks up ``dialect`` on a dialect module."""

__all__ = ["SPAPIDialect", "dialect"]
