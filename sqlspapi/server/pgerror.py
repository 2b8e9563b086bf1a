"""The error the bridge answers with: a PostgreSQL SQLSTATE, message, detail and hint (``ErrorResponse`` fields).

:func:`client_error` is the last step before a statement's exception reaches a client: errors that are ours
(``PgError``, sqlspapi's errors, SQLite's own messages) pass, Python's exceptions become PostgreSQL's SQLSTATE and a
plain message (a bug is logged here with its traceback and answered XX000 without one), and no message is longer
than :data:`MAX_MESSAGE` characters. :func:`plain_text` takes sqlglot's internals out of a message.
"""

from __future__ import annotations

import logging
import re

import apsw

from sqlspapi import errors

log = logging.getLogger("sqlspapi.server")

#: A message is cut to this many characters (a 100,000-character identifier is echoed as its start).
MAX_MESSAGE = 500
_INTERNALS = re.compile(r"\s*(?:but got|for)?\s*<(?:class|Token)\b[^>]*>|\. Falling back to parsing as a 'Command'\.?|"
                        r"\b[A-Z]\w*(?:Error|Exception)\b:?\s*")
_PYTHON_VALUES = ((re.compile(r"invalid literal for int\(\) with base \d+: (.*)", re.S), "integer"),
                  (re.compile(r"could not convert string to float: (.*)", re.S), "double precision"))


class PgError(Exception):
    """An error for the client as PostgreSQL reports it: SQLSTATE, message, optional detail and hint."""

    def __init__(self, sqlstate: str, message: str, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.detail, self.hint = sqlstate, message, detail, hint


def too_complex(what: str, hint: str | None = None) -> PgError:
    """SQLSTATE 54001 (statement_too_complex): ``statement too complex: <what>``."""
    return PgError("54001", f"statement too complex: {what}", hint=hint)


def plain_text(text: str) -> str:
    """``text`` without the translator's internals: no ``<Token …>``/``<class …>`` reprs, no exception class names,
    no "Falling back to parsing as a 'Command'"; "sqlglot" becomes "the SQL translator"."""
    return _INTERNALS.sub("", text).replace("sqlglot", "the SQL translator").strip()


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


def _value_error(text: str) -> str:
    for pattern, type_name in _PYTHON_VALUES:
        if match := pattern.fullmatch(text):
            return f"invalid input syntax for type {type_name}: {match[1]}"
    return plain_text(text) or "invalid input value"


def client_error(error: BaseException) -> BaseException:
    """``error`` as a client may see it (see the module docstring); never raises."""
    if isinstance(error, PgError):
        if len(error.message) <= MAX_MESSAGE:
            return error
        return type(error)(error.sqlstate, _shorten(error.message), error.detail, error.hint)
    if isinstance(error, errors.Error):
        return error
    if isinstance(error, apsw.Error):
        text = str(error)
        if "Expression tree is too large" in text or "parser stack overflow" in text:
            return too_complex("expressions nested too deeply for SQLite")
        return error if len(text) <= MAX_MESSAGE else type(error)(_shorten(text))
    if isinstance(error, RecursionError):
        return too_complex("expressions nested too deeply")
    if isinstance(error, MemoryError):
        return PgError("53200", "out of memory")
    if isinstance(error, ZeroDivisionError):
        return PgError("22012", "division by zero")
    if isinstance(error, OverflowError):
        return PgError("22003", "value out of range")
    if isinstance(error, UnicodeError):
        return PgError("22021", 'invalid byte sequence for encoding "UTF8"')
    if isinstance(error, re.error):  # a bad pattern for ~, ~*, regexp (PostgreSQL: 2201B)
        return PgError("2201B", f"invalid regular expression: {_shorten(error.msg)}")
    if isinstance(error, ValueError):
        return PgError("22P02", _shorten(_value_error(str(error))))
    log.error("a statement failed inside sqlspapi", exc_info=error)
    return PgError("XX000", "internal error in sqlspapi while running the statement",
                   hint="The sqlspapi serve log has the details; please report it.")


__all__ = ["MAX_MESSAGE", "PgError", "client_error", "plain_text", "too_complex"]
