"""The error the bridge answers with: a PostgreSQL SQLSTATE, message, detail and hint (``ErrorResponse`` fields)."""

from __future__ import annotations


class PgError(Exception):
    """An error for the client as PostgreSQL reports it: SQLSTATE, message, optional detail and hint."""

    def __init__(self, sqlstate: str, message: str, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.detail, self.hint = sqlstate, message, detail, hint


__all__ = ["PgError"]
