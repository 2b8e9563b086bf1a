"""The PEP 249 exception hierarchy and sqlspapi's own errors, each carrying what the user needs to act.

Every error raised to a user is one of these. Messages say what is wrong and what to do; none contains a secret.
"""

from __future__ import annotations

from typing import Any


class Warning(Exception):  # noqa: A001 - PEP 249 name
    """PEP 249 Warning."""


class Error(Exception):
    """PEP 249 base class of all sqlspapi errors."""


class InterfaceError(Error):
    """PEP 249: an error of the interface rather than the data source (e.g. a bad connection string)."""


class DatabaseError(Error):
    """PEP 249: an error of the data source (SP-API, the emulator, or SQLite)."""


class DataError(DatabaseError):
    """PEP 249: a problem with the processed data (e.g. a value that cannot be converted)."""


class OperationalError(DatabaseError):
    """PEP 249: the data source's operation failed (network, auth, throttling, server errors)."""


class IntegrityError(DatabaseError):
    """PEP 249: relational integrity is affected (unused: the tables are read-only)."""


class InternalError(DatabaseError):
    """PEP 249: the driver's internal state is inconsistent."""


class ProgrammingError(DatabaseError):
    """PEP 249: the SQL is wrong for these tables (e.g. a missing required filter)."""


class NotSupportedError(DatabaseError):
    """PEP 249: the request is valid SQL but not supported (e.g. writing to an API table)."""


class ConnectionStringError(InterfaceError):
    """A connection string that cannot be used; the message names the key and what to write instead."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class AuthError(OperationalError):
    """Login with Amazon refused the credentials; the message says which one and where to fix it."""

    def __init__(self, message: str, lwa_error: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.lwa_error = lwa_error
        self.status = status


class MissingFilterError(ProgrammingError):
    """A table was queried without a filter the API requires; the message shows the SQL to write."""


class RestrictedDataError(ProgrammingError):
    """A table holding restricted data (PII) was queried without IncludeRestrictedData=true."""


class SPAPIError(OperationalError):
    """An error answered by SP-API: carries the API's code, message, details, HTTP status and request id."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        api_message: str | None = None,
        details: Any = None,
        status: int | None = None,
        request_id: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.api_message = api_message
        self.details = details
        self.status = status
        self.request_id = request_id
        self.operation = operation


class ThrottledError(SPAPIError):
    """SP-API kept answering 429 QuotaExceeded after every retry the connection string allows."""


class ReportFailedError(SPAPIError):
    """A report ended FATAL; the message names the report id and what to try."""


class CallLimitError(ProgrammingError):
    """A statement needs more SP-API calls than ``MaxCallsPerStatement`` allows: known before calling (an IN list of
    5,000 ids) or reached while running. The message gives the estimate and the key to raise."""


class QueryCancelled(OperationalError):
    """The statement was cancelled while it ran (``Connection.cancel()``, a PostgreSQL CancelRequest): it stopped
    at once, before its next SP-API call, and the rate-limit token reserved for that call was given back."""


class AccountSwitchError(ProgrammingError):
    """An account's switches (``AllowedTables``, ``AllowedOperations``, ``ReadOnly``) refuse what the statement asks
    of it; the message names the account, the switch and how to change it."""


class AccountErrorsWarning(UserWarning):
    """With ``OnAccountError=skip``, some accounts failed and their rows are left out of the answer: the notice
    names them, and the ``account_errors`` table holds each error.

    A Python warning category (``warnings.warn``), not a PEP 249 exception: the statement still returns the rows of
    the other accounts.
    """


class RotationError(OperationalError):
    """A client-secret rotation that could not be done or finished; the message says what to do (never a secret)."""


class SlowStatementWarning(UserWarning):
    """A statement is about to make many SP-API calls (its estimate says so before the calls are made): how many,
    how long at the account's pace, and the ``MaxCallsPerStatement`` ceiling. The statement still runs."""


class DefaultWindowWarning(UserWarning):
    """A scan read only a default date window (``LookbackDays``) because no date bound reached the API.

    A Python warning category (``warnings.warn``), not a PEP 249 exception: the statement still returns its rows.
    """


class RestrictedColumnsWarning(UserWarning):
    """A query used restricted columns (PII, marked ``RESTRICTED`` in the definition) on a connection without
    ``IncludeRestrictedData=true``: Amazon leaves them out, so they come back NULL.

    A Python warning category (``warnings.warn``), not a PEP 249 exception: the statement still returns its rows.
    """


class NoDataWarning(UserWarning):
    """An asynchronous document the statement waited for (a Data Kiosk query) finished DONE without a document:
    Amazon has no data for that request, so it gives no rows — an answer, told so it is not mistaken for a failure.

    A Python warning category (``warnings.warn``), not a PEP 249 exception.
    """


class ReportValueWarning(UserWarning):
    """A report held cells that could not be read as their column's type (an unknown zone abbreviation, a number in
    an unexpected format) or bytes that are not valid in its charset: the cells are kept as text (bytes replaced by
    U+FFFD), never dropped, and the notice says which columns and how many.

    A Python warning category (``warnings.warn``), not a PEP 249 exception: the statement still returns its rows.
    """


__all__ = [
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError", "IntegrityError",
    "InternalError", "ProgrammingError", "NotSupportedError", "ConnectionStringError", "AuthError",
    "MissingFilterError", "RestrictedDataError", "SPAPIError", "ThrottledError", "ReportFailedError", "QueryCancelled",
    "ReportValueWarning", "NoDataWarning",
    "CallLimitError", "SlowStatementWarning", "AccountSwitchError", "AccountErrorsWarning",
    "RotationError",
    "DefaultWindowWarning", "RestrictedColumnsWarning",
]
