"""``EXPLAIN``: the API plan of a statement, answered as PostgreSQL's one ``QUERY PLAN`` column, never calling the API.

:class:`ExplainStatement` is the part of :class:`~sqlspapi.server.session.PgSession` that answers it: the database's
``explain`` (the calls the statement would make and their estimated cost), else SQLite's ``EXPLAIN QUERY PLAN``;
a statement that makes no SP-API call answers :data:`NO_CALL`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import apsw

from . import pgtypes, unsupported
from .describe import Prepared, bind_values, parameter_oids
from .guard import Guard
from .statements import ColumnDesc, StatementResult
from .translate import Translation, leading_code

__all__ = ["NO_CALL", "ExplainStatement"]

_SERIES_SCAN = re.compile(r"SCAN PG_SERIES_\w+ VIRTUAL TABLE INDEX \d+:.*", re.I)  # our generate_series table
_PLACEHOLDER = re.compile(r"""'[^']*+(?:''[^']*+)*+'|"[^"]*+(?:""[^"]*+)*+"|\?(\d+)""")  # ?n, not in quotes
#: The one plan line of a statement that makes no SP-API call (SQLite answers it alone).
NO_CALL = "no SP-API call: answered by SQLite alone"


class ExplainStatement:
    """Mixin of :class:`~sqlspapi.server.session.PgSession`: ``EXPLAIN`` (module docstring).

    The host provides ``database``, ``con``, ``guard``, ``_translate(sql)`` and ``_sqlite_text(translation)``.
    """

    database: Any
    con: apsw.Connection
    guard: Guard
    _translate: Callable[[str], Translation]
    _sqlite_text: Callable[[Translation], str]

    def _describe_explain(self, sql: str, param_oids: list[int]) -> Prepared:
        tr = self._translate(unsupported.explain_statement(leading_code(sql)))
        return Prepared(parameter_oids(tr, param_oids), [ColumnDesc("QUERY PLAN", pgtypes.TEXT)], sql=sql)

    def _explain(self, sql: str, prepared: Prepared | None, params: list[object]) -> StatementResult:
        """``EXPLAIN statement``: the API plan, one ``QUERY PLAN`` row per line; never calls the API. Parameter
        values are written into the planned statement, so the plan shows what would be sent."""
        tr = self._translate(unsupported.explain_statement(leading_code(sql)))
        lines: list[str] = []
        if tr.sql:
            bindings = bind_values(tr, prepared, params)
            inlined = _PLACEHOLDER.sub(lambda m: m[0] if m[1] is None else apsw.format_sql_value(
                bindings[int(m[1]) - 1]), tr.sql)
            text = self._sqlite_text(dataclasses.replace(tr, sql=inlined))
            explain = getattr(self.database, "explain", None)
            self.guard.denied = None
            plan = explain(text) if explain is not None else \
                [str(row[-1]) for row in self.con.execute(f"EXPLAIN QUERY PLAN {text}")]
            lines = [_SERIES_SCAN.sub("Function Scan on generate_series (no SP-API call)", part)
                     for line in plan for part in str(line).splitlines()]
        rows = [(line,) for line in lines or [NO_CALL]]
        return StatementResult([ColumnDesc("QUERY PLAN", pgtypes.TEXT)], iter(rows), tag="EXPLAIN")
