"""Mapping of the exceptions raised while running SQL to the PEP 249 classes of :mod:`sqlspapi.errors`.

Errors sqlspapi raises itself (a missing filter, a bad connection string, an SP-API answer) come back as they
are, also when SQLite wrapped them on their way out of a virtual table; APSW's own errors map to the PEP 249
class that fits (a syntax error is a ``ProgrammingError``, a write to an API table ``NotSupportedError``, ...).
"""

from __future__ import annotations

import re
from typing import NoReturn

import apsw

from sqlspapi.errors import (
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)

_READ_ONLY = re.compile(r"may not be modified|read-?only|readonly", re.IGNORECASE)


def translate(exc: BaseException) -> Error:
    """The PEP 249 error for an exception raised running SQL; sqlspapi's own errors come back as they are."""
    if isinstance(exc, Error):
        return exc
    original = exc.__cause__ or exc.__context__
    if isinstance(exc, apsw.Error) and isinstance(original, Error):
        return original  # a sqlspapi error wrapped by SQLite on its way out of a virtual table
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, apsw.ReadOnlyError) or (isinstance(exc, apsw.SQLError) and _READ_ONLY.search(message)):
        return NotSupportedError(f"tables are read-only: SP-API data cannot be changed with SQL ({message})")
    if isinstance(exc, apsw.SQLError | apsw.BindingsError):
        return ProgrammingError(message)
    if isinstance(exc, KeyError):
        return ProgrammingError(f"no value for the named parameter :{exc.args[0]}")
    if isinstance(exc, apsw.ConstraintError):
        return IntegrityError(message)
    if isinstance(exc, apsw.MismatchError | apsw.TooBigError | apsw.RangeError):
        return DataError(message)
    if isinstance(exc, apsw.ConnectionClosedError | apsw.CursorClosedError | apsw.ThreadingViolationError):
        return InterfaceError(message)
    if isinstance(exc, apsw.InternalError):
        return InternalError(message)
    if isinstance(exc, apsw.Error):
        return OperationalError(message)
    if isinstance(exc, TypeError) and "binding" in message.lower():
        return ProgrammingError(message)
    return InternalError(f"{type(exc).__name__}: {message}")


def reraise(exc: Exception) -> NoReturn:
    """Raise the PEP 249 form of ``exc`` (itself when it is already one of ours, so no self-cause)."""
    error = translate(exc)
    if error is exc:
        raise exc
    raise error from exc


__all__ = ["translate", "reraise"]
