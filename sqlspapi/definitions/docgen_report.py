"""The ``report`` route in the generated table reference: what reaches createReport, the window rules, and where
the lifecycle (reuse, caching, waiting) is explained (``docs/report-tables.md``, linked rather than repeated).

Used by :mod:`sqlspapi.definitions.docgen_routes`; pure functions of the specs.
"""

from __future__ import annotations

from sqlspapi.definitions.docgen_text import code, ops, params
from sqlspapi.definitions.schema import OperationSpec, ReportSpec, TableSpec

__all__ = ["GUIDE", "report_rows", "report_notes", "report_operations"]

#: The hand-written guide the report pages link to, relative to ``docs/tables/``.
GUIDE = "../report-tables.md"


def _link(anchor: str, text: str) -> str:
    return f"[{text}]({GUIDE}#{anchor})"


def report_rows(table: TableSpec, spec: ReportSpec) -> list[list[str]]:
    """Pushdown rows of a report table: the inputs and where each reaches the Reports API."""
    create = spec.operation.name if spec.operation else "createReport"
    get = spec.poll.name if spec.poll else "getReport"
    listed = spec.list_reports.name if spec.list_reports else "getReports"
    rows: list[list[str]] = []
    if not spec.report_type:
        rows.append([code("reportType"), ops({"="}), f"{code('reportType')} of {create}", "required"])
    if spec.requestable:
        window = f"the data window of {create}"
        start = [code("dataStartTime"), ops({"=", ">", ">="}), f"{code('dataStartTime')} of {create}", ""]
        end = [code("dataEndTime"), ops({"=", "<", "<="}), f"{code('dataEndTime')} of {create}",
               "`<` `<=` on dataStartTime mean the same"]
    else:
        window = f"the data window of the reports {listed} lists"
        start = [code("dataStartTime"), ops({"=", ">", ">="}), window,
                 f"{code('createdSince')} of {listed}; reports whose window ends after it"]
        end = [code("dataEndTime"), ops({"=", "<", "<="}), window, "reports whose window starts before it"]
    rows += [start, end]
    if spec.window_column:
        rows.append([code(spec.window_column), ops({">", ">=", "<", "<="}), window,
                     "the range sets the window; SQLite re-checks the rows"])
    per = f"{code('marketplaceIds')} of {create if spec.requestable else listed}"
    each = (f"one report per region, rows read by {code(str(spec.marketplace_from))}" if spec.region_wide
            else "one report per marketplace")
    rows.append([code("marketplaceId"), ops({"="}), per,
                 f"id or country code; {each} (default: the connection's); `IN` runs one scan per value"])
    if spec.requestable:
        fixed = f"; always with {params(spec.options)}" if spec.options else ""
        rows.append([code("reportOptions"), ops({"="}), f"{code('reportOptions')} of {create}",
                     f"a JSON object of strings{fixed}"])
    rows.append([code("reportId"), ops({"="}), f"path parameter {code('reportId')} of {get}",
                 "reads that existing report; nothing is requested"])
    return rows


def report_notes(table: TableSpec, spec: ReportSpec) -> list[str]:
    """Bullet points of a report table: type and format, window rules, requestable, restricted, lifecycle."""
    kind = code(spec.report_type) if spec.report_type else "the `reportType` input"
    if spec.format == "json":
        shape = f"a JSON document; one row per object of {code(spec.rows)}" if spec.rows else "a JSON document"
    elif spec.format == "auto":
        shape = "JSON or a flat file, told apart by the document's first character; one row per record"
    else:
        shape = (f"a {'tab' if spec.format == 'tsv' else 'comma'}-separated file; columns matched by header name "
                 f"({_link('column-names', 'the column rule')}), unknown ones kept in `extra`")
    notes = [f"**Report type:** {kind}: {shape}."]
    notes.append(_window_note(spec))
    if spec.region_wide:
        notes.append(f"**Region-wide:** Amazon ignores `marketplaceIds` for this type: one report holds every "
                     f"marketplace of the region. One report is requested per region and window, naming the "
                     f"connection's marketplaces of the region; each row's `marketplaceId` is the marketplace its "
                     f"{code(str(spec.marketplace_from))} names (NULL for `Non-Amazon`), and rows of marketplaces the "
                     f"query does not read are dropped ({_link('region-wide-order-reports', 'region-wide reports')}).")
    if spec.date_style:
        order = "month" if spec.date_style == "mdy" else "day"
        notes.append(f"**Dates:** `NN/NN/YYYY` values are read {order} first ({code(spec.date_style)}), as this "
                     f"report writes them ({_link('dates', 'dates')}).")
    if not spec.requestable:
        notes.append("**Not requestable:** Amazon creates these reports itself (createReport refuses the type): the "
                     "table reads the DONE reports getReports lists (the last 90 days unless dataStartTime says "
                     f"otherwise) whose data window meets the query's ({_link('settlements', 'settlements')}).")
    if spec.restricted or table.restricted or spec.restricted_types:
        which = "the report's documents hold" if spec.restricted or table.restricted else \
            f"documents of {', '.join(code(t) for t in spec.restricted_types)} hold"
        notes.append(f"**Restricted:** {which} personal data: getReportDocument gets a Restricted Data Token, and "
                     "the query refuses to run without `IncludeRestrictedData=true` "
                     f"({_link('restricted-report-types', 'restricted report types')}).")
    notes.append(f"**Reuse and caching:** a report of the same type, marketplace, options and window created within "
                 f"`ReportMaxAgeMinutes` is reused (`DisableReportCache=true` requests a new one); documents are kept "
                 f"on disk (`ReportCacheDir`, `ReportCacheMB`); after `ReportWaitSeconds` the query stops and the "
                 f"next identical one resumes the same report ({_link('reuse-caching-and-waiting', 'details')}).")
    return notes


def _window_note(spec: ReportSpec) -> str:
    """The data-window rules of a report type."""
    if not spec.requestable:
        return "**Window:** each report covers the settlement period Amazon chose; the inputs pick which reports."
    parts = []
    through = f" (or a range on {code(spec.window_column)})" if spec.window_column else ""
    if spec.default_days:
        parts.append(f"without a lower bound on dataStartTime{through} the report covers the last "
                     f"{spec.default_days} days, and the user is told")
    else:
        parts.append(f"without dataStartTime{through} Amazon's default applies (for snapshot reports such as "
                     "listings and inventory: the current state)")
    if spec.max_span_days:
        parts.append(f"a window longer than {spec.max_span_days} days is split into consecutive reports, one "
                     "createReport each")
    return f"**Window:** {'; '.join(parts)} ({_link('windows', 'windows')})."


def report_operations(spec: ReportSpec) -> list[OperationSpec]:
    """The operations a report table calls: create (when requestable), poll, list (reuse or settlements),
    get document."""
    found = [spec.operation if spec.requestable else None, spec.poll, spec.list_reports, spec.get_document]
    return [op for op in found if op is not None]
