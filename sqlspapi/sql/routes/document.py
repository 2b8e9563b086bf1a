"""The ``document`` route: an asynchronous document as a table — Data Kiosk's GraphQL datasets (and any API of the
same shape: create a job, poll it, download its document).

What one scan does (the definition keys are :class:`~sqlspapi.definitions.schema.DocumentSpec`'s):

- **The request.** With ``graphql`` the create body is ``{"query": …}``, a query built by
  :func:`sqlspapi.documents.graphql.build_query`: the dataset's ``arguments`` filled in — the window's
  ``{startDate}``/``{endDate}``, ``{marketplaces}`` and the hidden inputs (an input's default is written
  ``{name:DEFAULT}``; ``enums`` inputs are checked and sent as enum values) — and only the fields the SQL uses
  (SQLite's colUsed: each row column's path, a JSON column's ``selections``, plus the ``keys`` fields). Without it
  the body is the ``body`` template filled the same way (``datakiosk_query`` sends its ``graphql`` input as the
  query).
- **Pushdown.** ``=`` on a hidden input is consumed; ``=``/``IN`` on the ``marketplace`` column fills
  ``{marketplaces}`` (ids or country codes; default the connection's: one query reads them all); ranges on the two
  ``window`` columns (a row's period start and end) set the window, widened to whole periods of the ``period``
  granularity (a period ending inside the range is still asked for); SQLite re-checks the ranges. Without a lower
  bound the window is the ``LookbackDays`` whole days before the upper one (else before today; ``all``: Amazon's
  two years), and the user is told; without an upper bound it ends today.
- **The lifecycle** is the report lifecycle (:class:`~sqlspapi.reports.lifecycle.ReportService`): a query identical
  to one DONE within ``ReportMaxAgeMinutes`` is reused, one still running after an interrupted statement is resumed
  (the per-account ledger), documents are cached on disk (0600, bounded); FATAL is an error with the query id and
  Amazon's error document; DONE without a document is no rows, and the user is told.
- **Pages.** A DONE query whose answer holds a token at ``next_token`` (``pagination.nextToken``) has more rows:
  each page is a new create with the token as ``next_param`` (``paginationToken``), followed until none.
- **Rows.** The document is decoded (gzip by its bytes, the charset of its Content-Type, else UTF-8) and parsed as
  ``format``: each record (a JSON Lines line, a TSV row …) is a row object as it is; the request it comes with
  carries the inputs (defaults applied), the job id (``queryId``) and the ``page`` as its query, for a table's hook
  to show (``vtables/datakiosk_hooks.py``).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlspapi.definitions.schema import DocumentSpec, RouteSpec, TableSpec
from sqlspapi.documents.decode import open_document
from sqlspapi.documents.graphql import PERIODS, EnumValue, build_query, normalized, period_end, period_start
from sqlspapi.errors import NoDataWarning, OperationalError, ProgrammingError
from sqlspapi.reports.lifecycle import JobFields, Report, ReportOps, ReportService
from sqlspapi.settings.keys import ReportPolicy
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.isotime import to_api_time
from sqlspapi.sql.plan import (
    EQ,
    GE,
    GT,
    IMPOSSIBLE_COST,
    LE,
    LT,
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
from sqlspapi.sql.routes.base import Route, Scope, as_text, describe, hidden_inputs, missing_groups
from sqlspapi.sql.routes.report import _marketplaces
from sqlspapi.sql.rows import as_rows, dig

#: Days back Amazon keeps Data Kiosk analytics (a start more than two years ago ends the query FATAL, saying so):
#: the default window with ``LookbackDays=all``.
MAX_DAYS = 730
#: Most pages one query is followed through (a repeated token stops it sooner).
MAX_PAGES = 1000
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?::([^{}]*))?\}")


@dataclass(frozen=True)
class PageRequest:
    """One page of a document job (a :class:`~sqlspapi.reports.lifecycle.JobRequest`): the create body, the page
    token (None: the first page), and words for messages."""

    operation: str
    base: Mapping[str, Any]
    label: str
    next_param: str = ""
    token: str | None = None
    page: int = 1
    restricted: bool = False

    @property
    def key(self) -> str:
        """The ledger key: the operation, the body (a query with its whitespace collapsed) and the token."""
        body = {k: normalized(v) if k == "query" and isinstance(v, str) else v for k, v in self.base.items()}
        return json.dumps(["document", self.operation, body, self.token], sort_keys=True, default=str)

    def describe(self) -> str:
        """The request in words: ``salesAndTrafficByDate for ATVPDKIKX0DER, 2026-10-01 to 2026-10-31, page 2``."""
        return self.label + (f", page {self.page}" if self.page > 1 else "")

    def body(self) -> dict[str, Any]:
        """The create body (with the page token)."""
        return {**self.base, self.next_param: self.token} if self.token and self.next_param else dict(self.base)

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """A job Amazon describes is this one when its query (if it shows one) is this query."""
        shown, asked = meta.get("query"), self.base.get("query")
        return not (isinstance(shown, str) and isinstance(asked, str)) or normalized(shown) == normalized(asked)

    def listing(self, since: datetime) -> dict[str, Any] | None:
        """None: a listed query does not show its page token, so it cannot be told from another page of itself."""
        return None


@dataclass
class _Job:
    """What one scan reads: the first page's body (None: nothing to read), the inputs shown in the rows, notices."""

    body: dict[str, Any] | None = None
    label: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    notify: Notify | None = None
    error: ProgrammingError | None = None


class DocumentRoute(Route):
    """An asynchronous document per scan (see the module docstring)."""

    kind = "document"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """``=`` on hidden inputs and ``=``/``IN`` on the marketplace column are consumed; ranges on the window
        columns reach the query (SQLite re-checks them)."""
        assert isinstance(spec, DocumentSpec)
        usage, args, shown = hidden_inputs(table, constraints)
        for i, c in enumerate(constraints):
            if not c.usable or not 0 <= c.column < len(table.columns):
                continue
            name = table.columns[c.column].name.lower()
            if name == spec.marketplace.lower() and c.op == EQ and not any(a.role == "filter" for a in args):
                usage.append((i, len(usage) + 1, True, c.is_in))
                args.append(Arg("filter", table.columns[c.column].name, EQ, "marketplaceIds", c.is_in))
            elif name in (w.lower() for w in spec.window) and c.op in (GT, GE, LT, LE):
                role = "after" if c.op in (GT, GE) else "before"
                usage.append((i, len(usage) + 1, False, False))
                param = "startDate" if role == "after" else "endDate"
                args.append(Arg(role, table.columns[c.column].name, c.op, param))
            else:
                continue
            shown.append(c)
        missing = missing_groups(table, args)
        plan = describe(Plan(table, spec, tuple(args), missing=missing, columns_used=used), shown, self)
        return Choice(plan, usage, cost=IMPOSSIBLE_COST if missing else 1e6, rows=100_000)

    def operation_name(self, plan: Plan) -> str:
        """The dataset EXPLAIN shows (``salesAndTrafficByDate``), else the create operation."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec)
        return spec.graphql.partition(".")[2] or super().operation_name(plan)

    def note(self, plan: Plan) -> str:
        """The lifecycle, in words."""
        return "reuse the same query of the last ReportMaxAgeMinutes, else create it; wait; download; every page"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """One create per page of results (unless a recent identical query is reused), polls while Amazon works,
        one document call each."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec)
        return Calls(spec.operation, 1.0, unit="query",
                     basis=f"one {spec.operation.name if spec.operation else 'create'} per page of results unless "
                           "the same query ran within ReportMaxAgeMinutes; then polls until Amazon is done "
                           "(minutes), one document each")

    # ------------------------------------------------------------------------------------------ bind
    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The first page's create request. A value the query cannot be built from (an unknown enum value, a date
        that is none) is raised when the scan runs, before any call."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec) and spec.operation is not None
        job = _Job(notify=ctx.notice)
        try:
            self._plan_job(plan, spec, values, ctx, job)
        except ProgrammingError as exc:
            job.error, job.body = exc, None
        bound = Bound(inputs={"job": job})
        if job.body is not None:
            bound.requests = [Request(spec.operation, {}, {}, job.body)]
        return bound

    def _plan_job(self, plan: Plan, spec: DocumentSpec, values: Sequence[Any], ctx: BindContext, job: _Job) -> None:
        """Fill ``job``: inputs (with defaults, checked), marketplaces, window, then the body."""
        given: dict[str, set[str]] = {}
        bounds: list[tuple[Arg, Any]] = []
        for arg, value in zip(plan.args, values, strict=True):
            if arg.role in ("after", "before"):
                if value is None:
                    return  # a range against NULL matches nothing
                bounds.append((arg, value))
                continue
            if value is None and arg.role == "input":
                continue  # a NULL input means "not given": its default applies
            items = {as_text(v) for v in (value if arg.is_in else (value,)) if v is not None}
            given[arg.column] = given[arg.column] & items if arg.column in given else items
        if any(not v for v in given.values()):
            return  # two different values of one input, or a NULL marketplace: nothing can match
        table = plan.table.name
        inputs = {name: next(iter(v)) for name, v in given.items() if name != spec.marketplace}
        defaults = _defaults(spec.arguments if spec.graphql else spec.body)
        for name, allowed in spec.enums.items():
            value = inputs.get(name, defaults.get(name))
            if value is not None and value.upper() not in allowed:
                raise ProgrammingError(f"{table}: {name} = {value!r} is not one of {', '.join(allowed)}")
            if value is not None:
                inputs[name] = value.upper()
        job.inputs = {**{k: v for k, v in defaults.items() if k in spec.enums}, **inputs}
        fill: dict[str, Any] = {**{k: v for k, v in ctx.connection.items() if isinstance(v, str)}, **inputs}
        template = spec.arguments if spec.graphql else spec.body
        if spec.marketplace or "{marketplaces}" in json.dumps(template):  # the connection's may cost a call
            fill["marketplaces"] = _marketplaces(given.get(spec.marketplace), ctx)
        if spec.window:
            period = str(job.inputs.get(spec.period, spec.period)).upper()
            window = _window(spec, table, bounds, period, ctx, job.notices)
            if window is None:
                return
            fill["startDate"], fill["endDate"] = (d.isoformat() for d in window)
        enums = frozenset(spec.enums)
        if spec.graphql:
            job.body = {"query": build_query(spec.graphql, _fill(spec.arguments, fill, enums), _fields(plan, spec))}
            job.label = ", ".join([f"{spec.graphql.partition('.')[2]} for {', '.join(fill.get('marketplaces', ()))}",
                                   *([f"{fill['startDate']} to {fill['endDate']}"] if spec.window else [])])
        else:
            job.body = _fill(spec.body, fill, enums)
            query = job.body.get("query")
            shown = normalized(query if isinstance(query, str) else json.dumps(job.body, ensure_ascii=False))
            job.label = f"{table}: {shown if len(shown) <= 100 else shown[:99] + '…'}"

    # ------------------------------------------------------------------------------------------ fetch
    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Create (or reuse, or resume) each page's job, wait, download, and stream its records."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec) and spec.operation and spec.poll and spec.get_document
        job: _Job = bound.inputs["job"]
        if job.error is not None:
            raise job.error
        for message in job.notices:
            if job.notify is not None:
                job.notify(message)
        if job.body is None:
            return
        service: ReportService = scope.reports or ReportService(ReportPolicy(), "")
        ops = ReportOps(spec.operation, spec.poll, spec.get_document, None, job_fields(spec))
        request = PageRequest(spec.operation.name, job.body, job.label, spec.next_param)
        seen: set[str] = set()
        while True:
            report = service.obtain(scope, ops, request)
            yield from self._records(scope, service, ops, spec, job, report, request)
            token = dig(report.meta, spec.next_token) if spec.next_token else None
            if not token:
                return
            if token in seen or request.page >= MAX_PAGES:
                raise OperationalError(f"{ops.fields.noun} {report.report_id} ({request.describe()}) kept answering a "
                                       f"next page ({request.page} pages, or a token it gave before); the rows would "
                                       "be incomplete. Narrow the window and try again.")
            seen.add(str(token))
            request = PageRequest(request.operation, request.base, request.label, request.next_param, str(token),
                                  request.page + 1)

    @staticmethod
    def _records(scope: Scope, service: ReportService, ops: ReportOps, spec: DocumentSpec, job: _Job,
                 report: Report, request: PageRequest) -> Iterator[Row]:
        """The rows of one finished page (none when it has no document, and the user is told)."""
        if report.status != ops.fields.done:
            return
        document = service.document(scope, ops, report, request.restricted)
        if document is None:
            if job.notify is not None:
                job.notify(f"{ops.fields.noun} {report.report_id} ({request.describe()}) is DONE without a "
                           "document: Amazon has no data for it, so it gives no rows.", NoDataWarning)
            return
        assert spec.operation is not None
        source = Request(spec.operation, {}, {**job.inputs, ops.fields.id: report.report_id, "page": request.page},
                         request.body())
        try:
            lines = open_document(document.chunks(), content_type=document.content_type)
            for record in _parse(lines, spec.format, spec.rows):
                yield record, source, None
        finally:
            document.close()


def job_fields(spec: DocumentSpec) -> JobFields:
    """Where the route's API keeps a job's facts (a report-shaped job's CANCELLED is no data unless ``failed``
    says otherwise)."""
    return JobFields(noun=re.sub(r"Id$", "", spec.poll_param) or "job", id=spec.id, poll_param=spec.poll_param,
                     status=spec.status, done=spec.done, document_id=spec.document_id,
                     error_document_id=spec.error_document_id or spec.document_id,
                     document_param=spec.document_param, url=spec.url, compression=spec.compression,
                     cancelled_empty="CANCELLED" not in spec.failed, poll_first=spec.poll_seconds,
                     advice="Check the query against the dataset's schema, or the window and marketplaces.",
                     no_reason="Amazon gave no error document")


def _defaults(template: Any) -> dict[str, str]:
    """``{name:DEFAULT}`` placeholders of a template: input name → its default."""
    if isinstance(template, str):
        return {m[1]: m[2] for m in _PLACEHOLDER.finditer(template) if m[2] is not None}
    items = template.values() if isinstance(template, Mapping) else template if isinstance(template, list) else ()
    return {k: v for item in items for k, v in _defaults(item).items()}


def _fill(template: Any, values: Mapping[str, Any], enums: frozenset[str]) -> Any:
    """The template with its placeholders filled: a string that is one placeholder becomes the value itself (a list
    for ``{marketplaces}``; an :class:`EnumValue` for an enum input; absent without a value or default: the key is
    left out); placeholders inside longer strings are replaced by text (unknown ones stay)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is None:
            return _PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[2] if m[2] is not None else m[0])), template)
        value = values.get(whole[1], whole[2])
        return EnumValue(value) if whole[1] in enums and value is not None else value
    if isinstance(template, Mapping):
        filled = {k: _fill(v, values, enums) for k, v in template.items()}
        return {k: v for k, v in filled.items() if v is not None}
    if isinstance(template, list):
        return [_fill(v, values, enums) for v in template]
    return template


def _fields(plan: Plan, spec: DocumentSpec) -> list[tuple[str, ...]]:
    """The record fields the query asks for: the ``keys``, then each used row column's path (a JSON column: its
    ``selections`` under it); SQLite's colUsed bit 63 stands for every column from 63 on."""
    used = plan.columns_used
    wide = used is None or any(i >= 63 for i in used)
    paths = [tuple(k.split(".")) for k in spec.keys]
    row_columns = [(i, c) for i, c in enumerate(plan.table.columns) if c.source == "row" and not c.hidden]
    for i, column in row_columns:
        if used is not None and i not in used and not (wide and i >= 63):
            continue
        sub = spec.selections.get(".".join(column.path))
        paths += [(*column.path, *p.split(".")) for p in sub] if sub else [column.path]
    return paths or [row_columns[0][1].path]


def _window(spec: DocumentSpec, table: str, bounds: list[tuple[Arg, Any]], period: str, ctx: BindContext,
            notices: list[str]) -> tuple[date, date] | None:
    """The query's first and last day from the ranges on the window columns (see the module docstring); None when
    the range is empty."""
    start_column, end_column = (w.lower() for w in spec.window)
    whole = period in PERIODS
    lows: list[date] = []
    highs: list[date] = []
    for arg, value in bounds:
        moment = to_api_time(value, arg.column).astimezone(UTC)
        day = moment.date()
        on_midnight = moment == datetime.combine(day, time(), UTC)
        column = arg.column.lower()
        if arg.role == "after":
            first = day if on_midnight and arg.op == GE else day + timedelta(days=1)
            if column == start_column:
                lows.append(first)
            elif whole:  # a period ending on or after `first` starts at the beginning of `first`'s period
                lows.append(period_start(first, period))
        else:
            last = day - timedelta(days=1) if on_midnight and arg.op == LT else day
            if column == end_column:
                highs.append(last)
            elif whole:  # a period starting by `last` ends at the end of `last`'s period
                highs.append(period_end(last, period))
    today = ctx.now.astimezone(UTC).date()
    days = ctx.lookback_days or MAX_DAYS
    names = f"{spec.window[0]} / {spec.window[1]}"
    if not lows:
        end = min(highs) if highs else today - timedelta(days=1)
        start = end - timedelta(days=days - 1)
        notices.append(f"{table}: no lower bound on {names} reached the query, so it covers the {days} days to "
                       f"{end} (from {start}; LookbackDays); filter {spec.window[0]} >= '…' for another window.")
    else:
        start, end = max(lows), min(highs) if highs else today
    return (start, end) if start <= end else None


def _parse(lines: Any, fmt: str, rows: str) -> Iterator[dict[str, Any]]:
    """The records of a decoded document: JSON Lines, a JSON document (rows at ``rows``), or TSV/CSV keyed by the
    header (short rows padded, blank rows skipped)."""
    if fmt == "jsonl":
        for line in lines:
            if line.strip():
                record = json.loads(line)
                yield record if isinstance(record, dict) else {"value": record}
    elif fmt == "json":
        data = json.loads("\n".join(lines))
        yield from (dict(r) for r in as_rows(dig(data, rows) if rows else data))
    else:
        reader = csv.reader(iter(lines), delimiter="\t" if fmt == "tsv" else ",")
        header = [h.strip() for h in next(reader, [])]
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
