"""sqlspapi: SQL over the Amazon Selling Partner API.

``sqlspapi.connect(connection_string)`` returns a PEP 249 connection whose tables (``orders``, ``order_items``,
``marketplaces``, ...) are SQLite virtual tables backed by live SP-API calls; ``sqlspapi.connect(demo=True)``
uses the built-in emulator.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sqlspapi.errors import (  # noqa: E402
    ConnectionStringError,
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    SPAPIError,
    Warning,
)

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"


def connect(connection_string: str | None = None, *, demo: bool = False, **kwargs: object):  # noqa: ANN201
    """Open a PEP 249 connection; see :func:`sqlspapi.interfaces.dbapi.connect`."""
    from sqlspapi.interfaces.dbapi import connect as _connect

    return _connect(connection_string, demo=demo, **kwargs)


__all__ = [
    "__version__", "apilevel", "threadsafety", "paramstyle", "connect", "Warning", "Error", "InterfaceError",
    "DatabaseError", "DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
    "NotSupportedError", "ConnectionStringError", "SPAPIError",
]
