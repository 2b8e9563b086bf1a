"""The ``bulk`` route's data: which table column is which report column, and report rows shaped like the API's JSON.

:class:`Shaper` turns one row of an order report (typed by the report route) into the row object the API would
have returned, each mapped column's value at its column path — a path or query parameter in the request, a parent
field in the parent — so a table's own row builder reads it as it reads the API's answers. The helpers below read a
:class:`~sqlspapi.definitions.schema.BulkSpec` against its tables: the columns a query uses that the report lacks,
the key column, the marketplace column, the report table that serves a range column, and whether its reports are
region-wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import BulkSpec, ReportSpec, TableSpec
from sqlspapi.errors import InternalError
from sqlspapi.sql.cost import CostEnv
from sqlspapi.sql.plan import Request, Row

#: Entity-cache name suffix of the orders a scan read from a report (``order+report``).
ENTITY_SUFFIX = "+report"
#: Key of a cached report order that holds its report rows (no API field has a space in its name).
ROWS = "report rows"
#: The report tables' hidden input holding a report's marketplace.
MARKETPLACE_INPUT = "marketplaceId"


class Shaper:
    """Report rows → row objects shaped like the API's JSON: each mapped column's value at its column path (a path
    or query parameter in the request, a parent field in the parent)."""

    def __init__(self, table: TableSpec, spec: BulkSpec) -> None:
        names = {name.lower(): source for name, source in spec.columns.items()}
        words = {name.lower(): m for name, m in spec.values.items()}
        #: (where the value goes, its path, its report column(s), the API's words for the report's)
        self.mapped = [(c.source, c.path, tuple(s.strip() for s in names[c.name.lower()].split("/")),
                        words.get(c.name.lower()))
                       for c in table.columns if c.name.lower() in names and c.source in _TARGETS]

    def shape(self, row: Mapping[str, Any], source: Request) -> Row:
        """(row object, request, parent) for one report row; a blank cell (or an inexact quotient) is left out."""
        targets: dict[str, dict[str, Any]] = {"row": {}, "parent": {}, "path_param": {}, "query_param": {}}
        inputs = source.query
        for where, path, sources, words in self.mapped:
            if len(sources) == 2:
                value = _quotient(cell(sources[0], row, inputs), cell(sources[1], row, inputs))
            else:
                value = cell(sources[0], row, inputs)
                if words is not None and isinstance(value, str):
                    value = words.get(value, value)
            if value is not None:
                _put(targets[where], path, value)
        path_params, query = targets["path_param"], targets["query_param"]
        request = Request(source.operation, path_params, query) if path_params or query else None
        return targets["row"], request, targets["parent"] or None


#: Where a column's value can be put: in the row object, the parent entity, the call's path or query parameters.
_TARGETS = frozenset({"row", "parent", "path_param", "query_param"})


def _put(obj: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``value`` at a dotted path, making the objects on the way."""
    for step in path[:-1]:
        obj = obj.setdefault(step, {})
    obj[path[-1]] = value


def cell(name: str, row: Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
    """A report row's value of column ``name`` (a hidden input such as ``marketplaceId``: the report request's
    ``inputs``); a blank cell is None."""
    value = row[name] if name in row else inputs.get(name)
    return None if value == "" else value


def _quotient(numerator: Any, denominator: Any) -> float | None:
    """``numerator / denominator`` when the division is exact in decimal (a line price over its quantity); else None,
    never an approximation."""
    if numerator is None or denominator is None:
        return None
    try:
        a, b = Decimal(str(numerator)), Decimal(str(denominator))
    except (InvalidOperation, ValueError):
        return None
    if not (a.is_finite() and b.is_finite()) or b == 0:
        return None
    q = a / b
    return float(q) if q * b == a else None


def unmapped(table: TableSpec, spec: BulkSpec, used: frozenset[int] | None) -> list[str]:
    """The columns a query uses (SQLite's colUsed; None: all; bit 63: 63 and above) that the report does not give."""
    wide = used is None or any(i >= 63 for i in used)
    names = {name.lower() for name in spec.columns}
    return [c.name for i, c in enumerate(table.columns)
            if (used is None or i in used or (wide and i >= 63))
            and c.name.lower() not in names and c.source not in ("const", "connection")]


def marketplace_column(spec: BulkSpec) -> str | None:
    """The table column the report's marketplace (its ``marketplaceId`` input) fills, if any."""
    return next((name for name, source in spec.columns.items() if source == MARKETPLACE_INPUT), None)


def key_column(table: TableSpec, spec: BulkSpec) -> str:
    """The table column the report's order id (``spec.key``) fills."""
    return next(table.columns[table.column_index(name)].name for name, source in spec.columns.items()
                if source == spec.key)


def report_table(spec: BulkSpec, column: str) -> TableSpec:
    """The report table that serves a range on ``column`` (any loaded definition, whatever the connection's API
    versions: it is read through the report route, not registered)."""
    name = next((t for c, t in spec.reports.items() if c.lower() == column.lower()), None)
    for section in load_all():
        table = section.tables.get(str(name))
        if table is not None and isinstance(table.route("report"), ReportSpec):
            return table
    raise InternalError(f"a [bulk] route names report table {name!r} for {column}, which no definition declares")


def region_wide(spec: BulkSpec) -> bool:
    """Whether the scan's order reports are region-wide (one report holds every marketplace of a region, as paging
    does; :attr:`~sqlspapi.definitions.schema.ReportSpec.region_wide`)."""
    return bool(spec.reports) and all(getattr(report_table(spec, column).route("report"), "region_wide", False)
                                      for column in spec.reports)


def report_unit(spec: BulkSpec) -> str:
    """What one report of the scan covers: ``region`` (:func:`region_wide`) or ``marketplace``."""
    return "region" if region_wide(spec) else "marketplace"


def per_report(spec: BulkSpec, env: CostEnv) -> tuple[str, int | None]:
    """What one report of the scan covers and how many of them the connection has (when known)."""
    return (unit := report_unit(spec)), env.regions if unit == "region" else env.marketplaces


def listed(names: Sequence[str]) -> str:
    """Column names for a message: the first three, and how many more."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def span_text(spec: BulkSpec) -> str:
    """The days one report covers at most (the report tables' ``max_span_days``)."""
    spans = {getattr(report_table(spec, column).route("report"), "max_span_days", None) for column in spec.reports}
    return "/".join(str(s) for s in sorted(s for s in spans if s)) or "any number of"


__all__ = ["Shaper", "cell", "unmapped", "key_column", "marketplace_column", "report_table", "span_text", "listed",
           "region_wide", "report_unit", "per_report", "ENTITY_SUFFIX", "ROWS", "MARKETPLACE_INPUT"]
