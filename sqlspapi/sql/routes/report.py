"""The ``report`` route: a report type as a table — request (or reuse) reports, then stream their typed rows.

Inputs (hidden columns every report table has, :data:`sqlspapi.definitions.loader.REPORT_COLUMNS`):

- ``dataStartTime`` / ``dataEndTime``: ``>=``/``>`` on dataStartTime (or ``=`` as a table-valued argument) is the
  window's start, ``<``/``<=`` on either (or ``dataEndTime =``) its end; range filters on the definition's
  ``window_column`` (``purchase_date`` of the order reports) set the window too (and SQLite still checks them).
  A window longer than ``max_span_days`` is split into consecutive reports; a type with ``default_days`` and no
  window reads the last that many days, and the user is told.
- ``marketplaceId`` (id or country code): one report per marketplace; default the connection's marketplaces. A
  ``region_wide`` type (the order reports: Amazon ignores ``marketplaceIds`` for them and one report holds every
  marketplace of the endpoint's region; amzn/selling-partner-api-models issues #2209, #534, #1859, #2513) gets one
  report per region of those marketplaces, naming the connection's marketplaces of the region and the ones asked
  for (so a query with and one without a marketplace filter share it); each row's ``marketplaceId`` is the
  marketplace its ``marketplace_from`` column (the sales channel) names, and rows of marketplaces not read are
  dropped (a ``Non-Amazon`` row is kept, its marketplace NULL, only when the query names no marketplace).
- ``reportOptions``: a JSON object of strings, sent as the report's options.
- ``reportId``: read that existing report (no request).

Types Amazon makes itself (``requestable = false``: settlements) read the DONE reports getReports lists whose data
window meets the query's. Rows (:mod:`sqlspapi.sql.routes.report_cells`): flat files through
:class:`~sqlspapi.documents.headers.RowReader` (header names by the column rule, localized headers mapped, unknown
columns in ``extra``, ragged rows kept), each typed cell read by :mod:`sqlspapi.documents.values` with the
marketplace's conventions; a cell that cannot be read stays text and is counted in a
:class:`~sqlspapi.errors.ReportValueWarning` notice. JSON reports give the objects at ``rows``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.definitions.schema import ReportSpec, RouteSpec, TableSpec
from sqlspapi.documents.decode import open_document
from sqlspapi.errors import ProgrammingError, ReportValueWarning, RestrictedDataError
from sqlspapi.reports.lifecycle import Report, ReportOps, ReportRequest, ReportService
from sqlspapi.settings.marketplaces import MARKETPLACE_BY_ID, regions_of, resolve_marketplace
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.isotime import format_api_time, to_api_time
from sqlspapi.sql.plan import (
    GE,
    GT,
    IMPOSSIBLE_COST,
    LE,
    LT,
    UNKNOWN,
    Arg,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Notify,
    Plan,
    Request,
    Row,
)
from sqlspapi.sql.routes.base import Route, Scope, collect, describe, hidden_inputs, missing_groups
from sqlspapi.sql.routes.report_cells import Cells, placed

#: How much shorter than the longest window a slice that ends "now" is kept: Amazon's now is later than the
#: statement's (read to the minute), and a window over the limit is refused.
OPEN_MARGIN = timedelta(minutes=15)
#: Hidden inputs whose ranges bound the data window: (column, start ops, end ops).
_WINDOW_INPUTS = (("dataStartTime", (GT, GE), (LT, LE)), ("dataEndTime", (), (LT, LE)))


@dataclass
class _Job:
    """What one scan reads: the reports to request (or the existing ones to list, or one by id)."""

    requests: list[ReportRequest] = field(default_factory=list)
    listed: list[tuple[str, datetime | None, datetime | None]] = field(default_factory=list)
    report_id: str | None = None
    report_type: str = ""
    restricted: bool = False
    notify: Notify | None = None
    notices: list[str] = field(default_factory=list)
    reading: frozenset[str] | None = None  # a region-wide type: the marketplaces whose rows the query reads
    named: bool = False  # … and whether the query named them


class ReportRoute(Route):
    """A report type as a table (see the module docstring)."""

    kind = "report"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """``=`` on the inputs; ranges on the window inputs (consumed) and on the window column (re-checked)."""
        assert isinstance(spec, ReportSpec)
        usage, args, shown = hidden_inputs(table, constraints)
        ranges = [(name, starts, ends, True) for name, starts, ends in _WINDOW_INPUTS]
        if spec.window_column:
            ranges.append((spec.window_column, (GT, GE), (LT, LE), False))
        for name, starts, ends, omit in ranges:
            index = table.column_index(name)
            for i, c in enumerate(constraints):
                if c.usable and c.column == index and c.op in starts + ends:
                    role = "after" if c.op in starts else "before"
                    usage.append((i, len(usage) + 1, omit, False))
                    args.append(Arg(role, table.columns[index].name, c.op,
                                    "dataStartTime" if role == "after" else "dataEndTime"))
                    shown.append(c)
        missing = missing_groups(table, args)
        plan = describe(Plan(table, spec, tuple(args), missing=missing, columns_used=used), shown, self)
        by_id = any(a.column == "reportId" for a in args)
        cost = IMPOSSIBLE_COST if missing else 10.0 if by_id else 1e6
        return Choice(plan, usage, cost=cost, rows=1_000 if by_id else 100_000)

    def operation_name(self, plan: Plan) -> str:
        """The report type EXPLAIN shows."""
        spec = plan.route
        assert isinstance(spec, ReportSpec)
        return spec.report_type or "report"

    def note(self, plan: Plan) -> str:
        """The lifecycle, in words."""
        spec = plan.route
        assert isinstance(spec, ReportSpec)
        if any(a.column == "reportId" for a in plan.args):
            return "read that report"
        if not spec.requestable:
            return "the DONE reports Amazon made (getReports), downloaded"
        split = f"; windows over {spec.max_span_days} days split" if spec.max_span_days else ""
        return f"reuse a report of the last ReportMaxAgeMinutes, else createReport; wait; download{split}"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """One createReport per marketplace (region, for a region-wide type) and window slice (fewer when reused),
        counted from the query's constants and the connection's marketplaces (regions) when they are known; then
        polls while Amazon works (minutes to hours) and one download per report."""
        spec = plan.route
        assert isinstance(spec, ReportSpec)
        given = {a.column: v for a, v in zip(plan.args, plan.values, strict=False) if a.role == "input"}
        if "reportId" in given:
            return Calls(spec.poll, 1.0, basis="getReport of that report, then polls while it runs")
        if not spec.requestable:
            return Calls(spec.list_reports, None, unit="page",
                         basis="the DONE reports getReports lists for the window, then one download each")
        per = "region (Amazon ignores marketplaceIds for this type)" if spec.region_wide else "marketplace"
        basis = (f"one createReport per {per} and window unless a report of the last ReportMaxAgeMinutes is "
                 "reused; then getReport polls until Amazon is done (minutes to hours), one download each")
        marketplaces = 1 if "marketplaceId" in given else env.regions if spec.region_wide else env.marketplaces
        slices = _slice_count(plan, spec, env.now)
        count = marketplaces * slices if marketplaces is not None and slices is not None else None
        return Calls(spec.operation, float(count) if count is not None else None, unit="report", basis=basis)

    # ------------------------------------------------------------------------------------------ bind
    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The reports to read: per marketplace (region) and window slice (or the existing ones, or one id);
        ``requests`` are the calls they start with (createReport bodies, the getReports listing, getReport of an id)."""
        spec = plan.route
        assert isinstance(spec, ReportSpec)
        job = _Job(notify=ctx.notice)
        bound = Bound(inputs={"job": job})
        got = collect(plan, values)
        if not got.empty:
            self._plan_job(plan, spec, got, ctx, job)
        assert spec.operation and spec.list_reports and spec.poll
        bound.requests = [Request(spec.operation, {}, {}, r.body()) for r in job.requests]
        bound.requests += [Request(spec.list_reports, {}, {"reportTypes": [job.report_type],
                                                            "marketplaceIds": [m], "processingStatuses": ["DONE"]})
                           for m, _lo, _hi in job.listed]
        if job.report_id is not None:
            bound.requests.append(Request(spec.poll, {"reportId": job.report_id}, {}))
        return bound

    @staticmethod
    def _plan_job(plan: Plan, spec: ReportSpec, got: Any, ctx: BindContext, job: _Job) -> None:
        """Fill ``job`` from the query's inputs and window (see the module docstring)."""
        inputs = {column: items for (role, column, _p), items in got.sets.items() if role == "input"}
        for name, value in spec.params.items():  # a CREATE VIRTUAL TABLE … USING report(…) table's arguments
            inputs.setdefault(name, {str(value)})
        job.report_type = spec.report_type or next(iter(inputs.get("reportType", {""}))).strip().upper()
        if not job.report_type:
            raise ProgrammingError(f"{plan.table.name} needs the report type, e.g. SELECT * FROM "
                                   f"{plan.table.name}('GET_MERCHANT_LISTINGS_DATA')")
        job.restricted = spec.restricted or job.report_type in spec.restricted_types
        if job.restricted and not ctx.include_restricted:
            raise RestrictedDataError(
                f"{job.report_type} holds restricted data (PII): its document needs a Restricted Data Token. Add "
                "IncludeRestrictedData=true to the connection string; your SP-API app also needs the restricted "
                "role for this data in Developer Central.")
        if "reportId" in inputs:
            ids = inputs["reportId"]
            if len(ids) == 1:
                job.report_id = next(iter(ids))
            return
        after, before = list(got.after), list(got.before)
        after += [to_api_time(v, "dataStartTime") for v in inputs.get("dataStartTime", ())]
        before += [to_api_time(v, "dataEndTime") for v in inputs.get("dataEndTime", ())]
        marketplaces = _marketplaces(inputs.get("marketplaceId"), ctx)
        options = {**spec.options, **_options(inputs.get("reportOptions"))}
        lo, hi = (max(after) if after else None), (min(before) if before else None)
        now = ctx.now.astimezone(UTC)
        if hi is not None and hi >= now:
            hi = None  # "until now": Amazon reads nothing newer
        if not spec.requestable:
            job.listed = [(m, lo, hi) for m in marketplaces]
            return
        if lo is None and spec.default_days:
            lo = now.replace(hour=0, minute=0, second=0) - timedelta(days=spec.default_days)
            job.notices.append(
                f"{plan.table.name}: no dataStartTime filter reached the report, so it covers the last "
                f"{spec.default_days} days (from {format_api_time(lo)}); filter dataStartTime"
                f"{f' (or {spec.window_column})' if spec.window_column else ''} >= '…' for another window.")
        if lo is not None and lo >= (hi or now):
            return
        groups = [(m, ()) for m in marketplaces]
        if spec.region_wide:
            job.reading, job.named = frozenset(marketplaces), "marketplaceId" in inputs
            groups = _regions(marketplaces, ctx.marketplace_ids() if job.named else marketplaces)
        job.requests = [ReportRequest(job.report_type, m, _text(a), _text(b), options, job.restricted, ids)
                        for m, ids in groups for a, b in _slices(lo, hi, now, spec.max_span_days)]

    # ------------------------------------------------------------------------------------------ fetch
    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Request or reuse each report, wait, download, and stream its typed rows."""
        spec = plan.route
        assert isinstance(spec, ReportSpec) and spec.operation and spec.poll and spec.get_document
        assert spec.list_reports
        job: _Job = bound.inputs["job"]
        service: ReportService = scope.reports
        ops = ReportOps(spec.operation, spec.poll, spec.get_document, spec.list_reports)
        notify = job.notify
        for message in job.notices:
            if notify is not None:
                notify(message)
        reader = Cells(plan.table, spec)
        if job.report_id is not None:
            report = service.by_id(scope, ops, job.report_id)
            if report is None:
                return
            kind = report.meta.get("reportType")
            if spec.report_type and kind != spec.report_type:
                raise ProgrammingError(
                    f"report {job.report_id} is a {kind} report, not {spec.report_type}: read it with "
                    f"SELECT * FROM report_rows('{kind}') WHERE reportId = '{job.report_id}', or its own table")
            request = _request_of(report, str(kind), job.restricted)
            yield from self._rows(scope, service, ops, spec, service.follow(scope, ops, request, report.meta),
                                  request, reader)
        for marketplace, lo, hi in job.listed:
            for report in service.existing(scope, ops, job.report_type, marketplace, lo, hi):
                yield from self._rows(scope, service, ops, spec, report,
                                      _request_of(report, job.report_type, job.restricted), reader)
        started = [(request, service.start(scope, ops, request)) for request in job.requests]
        for request, begun in started:
            report = service.finish(scope, ops, request, begun)
            yield from self._rows(scope, service, ops, spec, report, request, reader, job)
        if notify is not None:
            for message in reader.notices(plan.table.name):
                notify(message, ReportValueWarning)

    @staticmethod
    def _rows(scope: Scope, service: ReportService, ops: ReportOps, spec: ReportSpec, report: Report,
              request: ReportRequest, reader: Cells, job: _Job | None = None) -> Iterator[Row]:
        """The rows of one finished report (none when CANCELLED or without a document); a region-wide type's rows
        each with their own marketplace, those the ``job`` does not read left out."""
        if report.status != "DONE":
            return
        document = service.document(scope, ops, report, request.restricted)
        if document is None:
            return
        source = Request(ops.create, {}, {
            "dataStartTime": report.meta.get("dataStartTime") or request.start,
            "dataEndTime": report.meta.get("dataEndTime") or request.end,
            "marketplaceId": request.marketplace_id, "reportOptions": dict(request.options) or None,
            "reportId": report.report_id, "reportType": request.report_type})
        try:
            decoded = open_document(document.chunks(), content_type=document.content_type,
                                    compression=document.compression, marketplace_id=request.marketplace_id,
                                    report_type=request.report_type)
            rows = reader.rows(decoded, request.marketplace_id)
            if spec.region_wide and reader.channel:
                for obj, own in placed(rows, source, reader.channel, job.reading if job else None,
                                       bool(job and job.named)):
                    yield obj, own, None
            else:
                for obj in rows:
                    yield obj, source, None
            if decoded.notice():
                reader.problems.setdefault("", [0, f"{report.report_id}: {decoded.notice()}"])[0] += 1
        finally:
            document.close()


def requests_of(bound: Bound) -> list[ReportRequest]:
    """The reports a bound plan of the route will request (``CREATE VIRTUAL TABLE … USING report`` reads the first
    one's header)."""
    job = bound.inputs.get("job")
    return list(job.requests) if isinstance(job, _Job) else []


def _slice_count(plan: Plan, spec: ReportSpec, now: datetime) -> int | None:
    """How many consecutive reports the query's window needs (None when a bound is not a constant)."""
    if not spec.max_span_days:
        return 1
    after, before = [], []
    for arg, value in zip(plan.args, plan.values, strict=False):
        column = arg.column if arg.role == "input" else arg.param
        if arg.role in ("after", "before") or column in ("dataStartTime", "dataEndTime"):
            if value is UNKNOWN:
                return None
            try:
                moment = to_api_time(value, arg.column)
            except ProgrammingError:
                return None  # the query fails when it runs, with its message
            (after if arg.role == "after" or column == "dataStartTime" else before).append(moment)
    now = now.astimezone(UTC)
    lo = max(after) if after else (now - timedelta(days=spec.default_days) if spec.default_days else None)
    if lo is None:
        return 1
    hi = min(min(before), now) if before else now
    return max(1, math.ceil((hi - lo).total_seconds() / 86_400 / spec.max_span_days - 1e-9))


def _text(moment: datetime | None) -> str | None:
    return format_api_time(moment) if moment is not None else None


def _slices(lo: datetime | None, hi: datetime | None, now: datetime,
            span_days: int | None) -> list[tuple[datetime | None, datetime | None]]:
    """The data windows of consecutive reports covering [lo, hi) (hi None: until now), each at most ``span_days``."""
    if lo is None or not span_days:
        return [(lo, hi)]
    end = hi or now
    span = timedelta(days=span_days)
    out: list[tuple[datetime | None, datetime | None]] = []
    start = lo
    while start < end:
        stop = start + span
        if hi is None and stop >= end and end - start > span - OPEN_MARGIN:
            stop = start + span - OPEN_MARGIN  # "until now" is later at Amazon: keep the open slice short enough
        out.append((start, stop if stop < end else hi))
        start = stop
    return out


def _marketplaces(given: set[str] | None, ctx: BindContext) -> list[str]:
    """The marketplaces to read: the ``marketplaceId`` inputs (ids or country codes), else the connection's."""
    if not given:
        return list(ctx.marketplace_ids())
    out = []
    for value in sorted(given):
        if value in MARKETPLACE_BY_ID:
            out.append(value)
            continue
        try:
            out.append(resolve_marketplace(value))
        except Exception:  # noqa: BLE001 - any unreadable code gets the same message
            raise ProgrammingError(f"marketplaceId {value!r} is not a marketplace id or country code (e.g. "
                                   "ATVPDKIKX0DER or US)") from None
    return out


def _regions(reading: Sequence[str], connection: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """A region-wide type's reports: per region of the marketplaces read, (the first of them, every marketplace of
    the region among the connection's and the ones read, sorted: the createReport body's ``marketplaceIds``)."""
    out = []
    for region in regions_of(reading):
        ids = sorted({m for m in (*connection, *reading) if m in MARKETPLACE_BY_ID
                      and MARKETPLACE_BY_ID[m].region == region})
        out.append((next(m for m in reading if m in ids), tuple(ids)))
    return out


def _options(given: set[str] | None) -> dict[str, str]:
    """``reportOptions`` input: one JSON object of strings."""
    if not given:
        return {}
    if len(given) > 1:
        raise ProgrammingError("reportOptions: give one JSON object (two different values cannot both apply)")
    text = next(iter(given))
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str | int | float | bool) for v in value.values()):
        raise ProgrammingError(f"reportOptions {text!r} is not a JSON object of strings, e.g. "
                               "'{\"dateGranularity\": \"DAY\"}'")
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def _request_of(report: Report, report_type: str, restricted: bool) -> ReportRequest:
    """The request an existing report answers (for its hidden columns and messages)."""
    marketplaces = report.meta.get("marketplaceIds") or [""]
    return ReportRequest(report_type, str(marketplaces[0]), report.meta.get("dataStartTime"),
                         report.meta.get("dataEndTime"), {}, restricted)

