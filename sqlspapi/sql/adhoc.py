"""``CREATE VIRTUAL TABLE x USING report('GET_X', …)``: a table of any report type, its columns from the header.

The module ``report`` takes the report type, then the inputs of the report tables — positionally
(``dataStartTime``, ``dataEndTime``, ``marketplaceId``, ``reportOptions``) or as ``name=value`` — and, when the
table is created, obtains the report (with the usual reuse: a second CREATE or the first SELECT does not request it
again) to read its header: every column by the column rule (``seller-sku`` → ``seller_sku``), as TEXT, plus
``extra`` and the hidden inputs. Each scan then reads the same request through the ``report`` route, so a report
older than ``ReportMaxAgeMinutes`` is requested anew; columns a newer file adds go to ``extra``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import apsw

from sqlspapi.definitions.loader import parse_columns
from sqlspapi.definitions.schema import ColumnSpec, ReportSpec, TableSpec
from sqlspapi.documents.decode import open_document
from sqlspapi.documents.headers import EXTRA, RowReader
from sqlspapi.errors import ProgrammingError
from sqlspapi.reports.lifecycle import ReportOps
from sqlspapi.sql import planner
from sqlspapi.sql.vtable import Table, TableContext

#: Positional arguments after the report type, in order.
POSITIONAL = ("dataStartTime", "dataEndTime", "marketplaceId", "reportOptions")
_NAMED = re.compile(r"^\s*([A-Za-z]+)\s*=\s*(.*)$", re.DOTALL)


def _unquote(text: str) -> str:
    """A module argument as written (``'GET_X'``, ``"US"``, ``US``) → its text."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    return text


def parse_arguments(args: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """(report type, inputs) from ``USING report(…)`` arguments; a clear error for anything else."""
    if not args or not _unquote(args[0]):
        raise ProgrammingError("USING report(…) needs the report type first, e.g. "
                               "CREATE VIRTUAL TABLE storage_fees USING report('GET_FBA_STORAGE_FEE_CHARGES_DATA', "
                               "'2026-10-01', '2026-11-01', 'US')")
    inputs: dict[str, str] = {}
    for position, raw in enumerate(args[1:]):
        named = _NAMED.match(raw) if not raw.strip().startswith(("'", '"')) else None
        if named:
            name, value = named.group(1), _unquote(named.group(2))
            canonical = next((p for p in POSITIONAL if p.lower() == name.lower()), None)
            if canonical is None:
                raise ProgrammingError(f"USING report(…): unknown argument {name!r}; use {', '.join(POSITIONAL)}")
            name = canonical
        elif position < len(POSITIONAL):
            name, value = POSITIONAL[position], _unquote(raw)
        else:
            raise ProgrammingError(f"USING report(…) takes at most {len(POSITIONAL)} arguments after the type: "
                                   f"{', '.join(POSITIONAL)}")
        if value and value.upper() != "NULL":
            inputs[name] = value
    return _unquote(args[0]).upper(), inputs


class ReportModule:
    """The APSW module ``report`` (see the module docstring); ``template`` is the ``report_rows`` table, whose
    route (operations, restricted types) the created tables share."""

    def __init__(self, template: TableSpec, context: TableContext) -> None:
        self.template = template
        self.context = context

    def Create(self, connection: apsw.Connection, modulename: str, dbname: str, tablename: str,  # noqa: N802
               *args: str) -> tuple[str, Table]:
        """Obtain the report, read its header, declare the columns."""
        report_type, inputs = parse_arguments(args)
        route = self.template.routes[0]
        assert isinstance(route, ReportSpec)
        probe = replace(route, report_type=report_type, format="tsv", params=inputs)
        probe_table = replace(self.template, name=tablename, columns=_columns([], tablename), routes=(probe,),
                              one_of=(), required_hint=None, example=None)
        headers, fmt = self._header(probe_table)
        spec = replace(probe_table, columns=_columns(headers, tablename), routes=(replace(probe, format=fmt),),
                       description=f"{report_type} as a table (CREATE VIRTUAL TABLE … USING report)")
        return spec.create_sql(), Table(spec, self.context)

    Connect = Create

    def _header(self, table: TableSpec) -> tuple[list[str], str]:
        """The column names and format (tsv/csv) of the first report the table's request gives (obtaining it, with
        reuse)."""
        from sqlspapi.sql.routes.report import requests_of

        context = self.context
        scope = context.scope
        route = table.routes[0]
        assert isinstance(route, ReportSpec)
        plan = planner.choose(table, []).plan
        bound = planner.bind(plan, [], context.bind_context())
        requests = requests_of(bound)
        if not requests:
            raise ProgrammingError(f"USING report('{route.report_type}', …): the window given is empty")
        assert route.operation and route.poll and route.get_document and route.list_reports
        ops = ReportOps(route.operation, route.poll, route.get_document, route.list_reports)
        service = scope.reports
        for request in requests:
            report = service.obtain(scope, ops, request)
            document = service.document(scope, ops, report, request.restricted) if report.status == "DONE" else None
            if document is None:
                continue
            try:
                lines = iter(open_document(document.chunks(), content_type=document.content_type,
                                           marketplace_id=request.marketplace_id, report_type=request.report_type))
                first = next((line for line in lines if line.strip()), "")
                if first.lstrip().startswith(("{", "[")):
                    raise ProgrammingError(f"{route.report_type} is a JSON report: read it with SELECT * FROM "
                                           f"report_rows('{route.report_type}', …)")
                fmt = "csv" if "\t" not in first and "," in first else "tsv"
                return list(RowReader([first], delimiter="," if fmt == "csv" else "\t").columns), fmt
            finally:
                document.close()
        raise ProgrammingError(f"{route.report_type}: Amazon produced no document for {requests[0].describe()} "
                               "(CANCELLED: no data), so there is no header to take columns from; choose another "
                               "window or marketplace")


def _columns(headers: list[str], table: str) -> tuple[ColumnSpec, ...]:
    """A created table's columns: each header's SQL name as TEXT (at most 63 bytes, as PostgreSQL allows), then
    the report columns."""
    from sqlspapi.definitions.loader import MAX_NAME_BYTES, REPORT_COLUMNS

    own = tuple(ColumnSpec(name, (name,), "TEXT", "A column of the report's header")
                for name in headers if name != EXTRA and len(name.encode()) <= MAX_NAME_BYTES)
    return own + parse_columns(REPORT_COLUMNS, f"CREATE VIRTUAL TABLE {table}")


def register(connection: apsw.Connection, template: Mapping[str, TableSpec], context: TableContext) -> None:
    """Register the ``report`` module on a connection (when the definitions have ``report_rows``)."""
    table = template.get("report_rows")
    if table is not None:
        connection.create_module("report", ReportModule(table, context), use_bestindex_object=True)
