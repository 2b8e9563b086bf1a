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
from datetime import datetime
from typing import Any

from sqlspapi.definitions.schema import DocumentSpec, RouteSpec, TableSpec
from sqlspapi.documents.decode import open_document
from sqlspapi.documents.graphql import build_query, normalized
from sqlspapi.errors import NoDataWarning, OperationalError, ProgrammingError
from sqlspapi.reports.lifecycle import JobFields, Report, ReportOps, ReportService
from sqlspapi.settings.keys import ReportPolicy
from sqlspapi.sql.cost import Calls, CostEnv
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
from sqlspapi.sql.routes.document_query import fill_template, query_fields, query_window, template_defaults
from sqlspapi.sql.routes.report import _marketplaces
from sqlspapi.sql.rows import as_rows, dig

#: Most pages one query is followed through (a repeated token stops it sooner).
MAX_PAGES = 1000


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
        defaults = template_defaults(spec.arguments if spec.graphql else spec.body)
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
            window = query_window(spec, table, bounds, period, ctx, job.notices)
            if window is None:
                return
            fill["startDate"], fill["endDate"] = (d.isoformat() for d in window)
        enums = frozenset(spec.enums)
        if spec.graphql:
            job.body = {"query": build_query(spec.graphql, fill_template(spec.arguments, fill, enums),
                                             query_fields(plan, spec))}
            job.label = ", ".join([f"{spec.graphql.partition('.')[2]} for {', '.join(fill.get('marketplaces', ()))}",
                                   *([f"{fill['startDate']} to {fill['endDate']}"] if spec.window else [])])
        else:
            job.body = fill_template(spec.body, fill, enums)
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
