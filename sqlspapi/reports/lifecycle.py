"""One report (or Data Kiosk query) from request to document: reuse, create, wait, fetch the document — and resume
after a timeout.

:class:`ReportService` (one per connection; it holds the account's :class:`~sqlspapi.reports.state.Ledger` and
:class:`~sqlspapi.reports.state.DocumentCache`) runs the lifecycle of an asynchronous document for a request (a
:class:`JobRequest`: a :class:`ReportRequest` of the Reports API, or a Data Kiosk query of the ``document`` route,
:mod:`sqlspapi.sql.routes.document`). :class:`ReportOps` names the API's operations and :class:`JobFields` where its
answers keep the job id, the status and the documents, so both APIs share every rule below:

1. **Reuse** (unless ``DisableReportCache``): the ledger's job for the same request key — still running (any
   age: the query that gave up on it said the next one resumes it) or DONE within ``ReportMaxAgeMinutes`` —, else
   (reports only: :meth:`JobRequest.listing`) a DONE or running report that getReports lists for the same type and
   marketplace created within ``ReportMaxAgeMinutes`` whose data window is the one asked for (only for requests
   without reportOptions: getReports does not show a report's options).
2. **Create**: createReport (createQuery); the id goes to the ledger at once, so a query that gives up leaves it
   resumable.
3. **Wait**: getReport (getQuery) until DONE, CANCELLED or FATAL, polling with backoff (:data:`POLL_FIRST` seconds,
   then ×1.5 up to :data:`POLL_MAX`), each wait shown on the statement's progress; after ``ReportWaitSeconds`` an
   error names the job and says the next identical query resumes it. CANCELLED (Amazon's "no data" for a report)
   and DONE without a document are zero rows — a cancelled Data Kiosk query is an error (someone cancelled it);
   FATAL is a :class:`~sqlspapi.errors.ReportFailedError` with the job id and the text of the error document when
   Amazon supplies one.
4. **Document**: getReportDocument (getDocument; with a Restricted Data Token for a restricted report type), then
   the pre-signed URL is streamed to a 0600 file (the document cache, keyed by the document id, so a second query
   downloads nothing); an expired URL (403) is asked for again once.

It knows nothing of SQL: the ``report`` and ``document`` routes turn the documents into rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import OperationalError, ReportFailedError
from sqlspapi.http.progress import Progress
from sqlspapi.http.response import Envelope
from sqlspapi.reports.state import CachedDocument, DocumentCache, Ledger, LedgerEntry, cache_root, error_text
from sqlspapi.settings.keys import ReportPolicy

#: First wait between getReport polls, in Amazon seconds (then ×1.5 per poll, up to :data:`POLL_MAX`).
POLL_FIRST = 5.0
#: Longest wait between two polls of one report, in Amazon seconds.
POLL_MAX = 30.0
#: Reports getReports may list: the ones worth reusing.
REUSABLE = ("IN_QUEUE", "IN_PROGRESS", "DONE")
#: Most getReports pages one listing follows (90 days of reports at 100 a page is far fewer).
MAX_LIST_PAGES = 1000

_LIST = Envelope(required=("reports",))


class Caller(Protocol):
    """What the lifecycle calls through (the statement scope): API calls, downloads, the statement's progress."""

    progress: Progress
    poll_scale: float

    def call(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             fresh: bool = False, expect: Envelope | None = None, rdt: RestrictedResource | None = None) -> Any:
        """One call's decoded JSON."""

    def download_to(self, url: str, out: IO[bytes]) -> str | None:
        """Stream a pre-signed URL's body into ``out``; its Content-Type."""


@dataclass(frozen=True)
class JobFields:
    """Where an asynchronous-document API keeps a job's facts, and how the lifecycle speaks of it.

    ``id`` is the job id in the create answer (and in the poll answer), ``poll_param`` the poll's path parameter;
    ``status`` holds the processing status (``done`` when finished); ``document_id`` is the DONE document and
    ``error_document_id`` the FATAL one (Reports: both ``reportDocumentId``); ``document_param`` is the get-document
    path parameter, ``url`` its URL and ``compression`` its compression label (``""``: none). ``noun`` names a job
    in messages; ``cancelled_empty`` says CANCELLED means "no data" (zero rows) rather than an error; ``poll_first``
    is the first wait between polls; ``advice`` ends a FATAL message and ``no_reason`` stands in when Amazon gives
    no error document.
    """

    noun: str = "report"
    id: str = "reportId"
    poll_param: str = "reportId"
    status: str = "processingStatus"
    done: str = "DONE"
    document_id: str = "reportDocumentId"
    error_document_id: str = "reportDocumentId"
    document_param: str = "reportDocumentId"
    url: str = "url"
    compression: str = "compressionAlgorithm"
    cancelled_empty: bool = True
    poll_first: float = POLL_FIRST
    advice: str = "Check the window and options, or look at the report in Seller Central."
    no_reason: str = "Amazon gave no reason (FATAL often means no data for the window)"


#: The Reports API's fields (getReport, getReportDocument).
REPORT_FIELDS = JobFields()


@dataclass(frozen=True)
class ReportOps:
    """The operations of an asynchronous-document API a definition declares: create, get (poll), get document and
    (Reports API) list — and where their answers keep the job's facts (:class:`JobFields`)."""

    create: OperationSpec
    get: OperationSpec
    document: OperationSpec
    list: OperationSpec | None = None
    fields: JobFields = REPORT_FIELDS


class JobRequest(Protocol):
    """One job to obtain: what makes two requests the same (``key``), its create body, whether its document needs a
    Restricted Data Token, and how to recognise it among the jobs Amazon lists."""

    restricted: bool

    @property
    def key(self) -> str:
        """The ledger key: what makes two requests the same job."""

    def describe(self) -> str:
        """The request in words, for messages."""

    def body(self) -> dict[str, Any]:
        """The create body."""

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether a job Amazon describes (a poll or list answer) is the one this request asks for."""

    def listing(self, since: datetime) -> dict[str, Any] | None:
        """The list operation's query finding reusable jobs created since ``since`` (None: not findable there)."""


@dataclass(frozen=True)
class ReportRequest:
    """One report to obtain: its type, marketplace, data window (ISO 8601 UTC, or None) and options.

    ``marketplace_ids`` (a region-wide type: Amazon ignores the list and covers the region) are every marketplace
    the createReport body names; empty: ``marketplace_id`` alone (then it is the marketplace whose conventions the
    cells are read with)."""

    report_type: str
    marketplace_id: str
    start: str | None = None
    end: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    restricted: bool = False
    marketplace_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The ledger key: what makes two requests the same report."""
        where: Any = list(self.marketplace_ids) or self.marketplace_id
        return json.dumps([self.report_type, where, self.start, self.end, sorted(self.options.items())])

    def describe(self) -> str:
        """The request in words, for messages: ``GET_X for ATVPDKIKX0DER, 2026-01-01 to 2026-01-31``."""
        window = f", {self.start or '…'} to {self.end or 'now'}" if self.start or self.end else ""
        options = f", options {json.dumps(dict(self.options))}" if self.options else ""
        return f"{self.report_type} for {', '.join(self.marketplaces)}{window}{options}"

    @property
    def marketplaces(self) -> list[str]:
        """The createReport body's ``marketplaceIds``."""
        return list(self.marketplace_ids) or [self.marketplace_id]

    def body(self) -> dict[str, Any]:
        """The createReport body."""
        body: dict[str, Any] = {"reportType": self.report_type, "marketplaceIds": self.marketplaces}
        if self.start:
            body["dataStartTime"] = self.start
        if self.end:
            body["dataEndTime"] = self.end
        if self.options:
            body["reportOptions"] = dict(self.options)
        return body

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether a listed (or ledger) report is the one asked for: type, marketplace(s) (a region-wide request: a
        report naming at least them), data window."""
        if meta.get("reportType") != self.report_type:
            return False
        named = meta.get("marketplaceIds")
        if named is not None and not (set(self.marketplace_ids) <= set(named) if self.marketplace_ids
                                      else list(named) == [self.marketplace_id]):
            return False
        for asked, key in ((self.start, "dataStartTime"), (self.end, "dataEndTime")):
            if asked is not None and _instant(asked) != _instant(meta.get(key)):
                return False
        return True

    def listing(self, since: datetime) -> dict[str, Any] | None:
        """getReports' query for reusable reports of this type and marketplace (None with reportOptions:
        getReports does not show a report's options)."""
        if self.options:
            return None
        return {"reportTypes": [self.report_type], "processingStatuses": list(REUSABLE),
                "marketplaceIds": self.marketplaces, "createdSince": _iso(since), "pageSize": 100}


@dataclass(frozen=True)
class Begun:
    """A report started (or found) for a request: its id, and whether it was reused rather than created."""

    report_id: str
    reused: bool


@dataclass
class Report:
    """A finished report (or query): the poll's answer (``reportId``, ``processingStatus``, ``dataStartTime``, …),
    read through the API's :class:`JobFields`."""

    meta: Mapping[str, Any]
    fields: JobFields = REPORT_FIELDS

    @property
    def report_id(self) -> str:
        """The job's id."""
        return str(self.meta.get(self.fields.id))

    @property
    def status(self) -> str:
        """Its processing status."""
        return str(self.meta.get(self.fields.status))

    @property
    def document_id(self) -> str | None:
        """Its document (the error document when FATAL), when it has one."""
        fields = self.fields
        value = self.meta.get(fields.error_document_id if self.status == "FATAL" else fields.document_id)
        return str(value) if value else None


class ReportService:
    """The report (and Data Kiosk query) lifecycle for one account (see the module docstring)."""

    def __init__(self, policy: ReportPolicy, account: str) -> None:
        self.policy = policy
        root = cache_root(policy.cache_dir)
        self.ledger = Ledger(root, account)
        self.documents = DocumentCache(root, account, policy.cache_mb * 1_000_000)

    def __repr__(self) -> str:
        return f"ReportService(max_age={self.policy.max_age_minutes} min, wait={self.policy.wait_seconds:g} s)"

    # ----------------------------------------------------------------------------------------- lifecycle
    def obtain(self, caller: Caller, ops: ReportOps, request: JobRequest) -> Report:
        """The finished job for ``request``: reused, resumed or created, then waited for (see the module)."""
        return self.finish(caller, ops, request, self.start(caller, ops, request))

    def start(self, caller: Caller, ops: ReportOps, request: JobRequest) -> Begun:
        """Reuse (the ledger's, else a recent one the list operation shows) or create the job; do not wait."""
        policy = self.policy
        if not policy.disable_cache:
            entry = self.ledger.get(request.key)
            if entry is not None and (not entry.done or time.time() - entry.created < policy.max_age_minutes * 60):
                return Begun(entry.report_id, True)
            found = self._recent(caller, ops, request) if policy.max_age_minutes else None
            if found is not None:
                self.ledger.put(request.key, LedgerEntry(found, time.time()))
                return Begun(found, True)
        return self._create(caller, ops, request)

    def _create(self, caller: Caller, ops: ReportOps, request: JobRequest) -> Begun:
        created = caller.call(ops.create, {}, {}, request.body(), expect=Envelope(required=(ops.fields.id,)))
        report_id = str(created[ops.fields.id])
        self.ledger.put(request.key, LedgerEntry(report_id, time.time()))
        return Begun(report_id, False)

    def finish(self, caller: Caller, ops: ReportOps, request: JobRequest, begun: Begun) -> Report:
        """Wait for a started job; one the ledger named that is gone or is another job is requested anew."""
        meta = self._status(caller, ops, begun.report_id)
        if meta is None or not request.matches(meta):
            self.ledger.forget(request.key, begun.report_id)
            if not begun.reused:
                raise OperationalError(self._unreadable(ops, request, begun.report_id))
            begun = self._create(caller, ops, request)
            meta = self._status(caller, ops, begun.report_id)
            if meta is None:
                raise OperationalError(self._unreadable(ops, request, begun.report_id))
        return self.follow(caller, ops, request, meta, begun.reused)

    @staticmethod
    def _unreadable(ops: ReportOps, request: JobRequest, job_id: str) -> str:
        return (f"{ops.fields.noun} {job_id} ({request.describe()}) cannot be read back with {ops.get.name}; try the "
                "query again")

    def _recent(self, caller: Caller, ops: ReportOps, request: JobRequest) -> str | None:
        """A DONE or running job the list operation shows for the same request, created within the reuse age."""
        query = request.listing(datetime.now(UTC) - timedelta(minutes=self.policy.max_age_minutes))
        if ops.list is None or query is None:
            return None
        answer = caller.call(ops.list, {}, query, fresh=True, expect=_LIST)
        candidates = [r for r in answer.get("reports") or () if isinstance(r, Mapping) and request.matches(r)]
        candidates.sort(key=lambda r: (r.get("processingStatus") == "DONE", str(r.get("createdTime") or "")))
        return str(candidates[-1]["reportId"]) if candidates else None

    @staticmethod
    def _status(caller: Caller, ops: ReportOps, report_id: str) -> Mapping[str, Any] | None:
        """The poll's answer, or None when the job does not exist (any more)."""
        fields = ops.fields
        try:
            return caller.call(ops.get, {fields.poll_param: report_id}, {}, fresh=True,
                               expect=Envelope(required=(fields.status,)))
        except OperationalError as exc:
            if getattr(exc, "status", None) in (400, 404):
                return None
            raise

    def follow(self, caller: Caller, ops: ReportOps, request: JobRequest, meta: Mapping[str, Any],
               reused: bool = False) -> Report:
        """Poll until the job ends; FATAL raises, a timeout raises naming the job (the ledger keeps it)."""
        fields = ops.fields
        report_id = str(meta[fields.id])
        deadline = time.monotonic() + self.policy.wait_seconds
        began = time.monotonic()
        pause = fields.poll_first
        while True:
            status = str(meta.get(fields.status))
            if status == fields.done:
                known = self.ledger.get(request.key)
                created = known.created if known is not None and known.report_id == report_id else time.time()
                self.ledger.put(request.key, LedgerEntry(report_id, created, done=True))
                return Report(meta, fields)
            if status in ("FATAL", "CANCELLED"):
                self.ledger.forget(request.key, report_id)
                if status == "CANCELLED" and fields.cancelled_empty:
                    return Report(meta, fields)
                raise ReportFailedError(self._failure(caller, ops, request, Report(meta, fields)))
            if time.monotonic() >= deadline:
                noun = fields.noun
                raise OperationalError(
                    f"{noun} {report_id} ({request.describe()}) is still {status} after "
                    f"{self.policy.wait_seconds:g} s (ReportWaitSeconds). Amazon keeps working on it: run the same "
                    f"query again later and it resumes this {noun} instead of requesting another; or raise "
                    "ReportWaitSeconds.")
            waited = time.monotonic() - began
            caller.progress.wait(min(pause * caller.poll_scale, max(0.0, deadline - time.monotonic())),
                                 f"{fields.noun} {report_id} {status}{' (reused)' if reused else ''}, {waited:.0f} s",
                                 ops.get.name)
            pause = min(pause * 1.5, POLL_MAX)
            meta = self._status(caller, ops, report_id) or meta

    def _failure(self, caller: Caller, ops: ReportOps, request: JobRequest, report: Report) -> str:
        """The FATAL (or cancelled) error: the job id, and what Amazon's error document says (when it has one)."""
        fields = ops.fields
        head = f"{fields.noun} {report.report_id} ({request.describe()})"
        if report.status == "CANCELLED":
            return (f"{head} was CANCELLED (cancelled before it produced a document); run the statement again to "
                    "request it anew.")
        text = ""
        if report.document_id:
            try:
                document = self.document(caller, ops, report, request.restricted)
                if document is not None:
                    text = error_text(b"".join(document.chunks()))
                    document.close()
            except OperationalError:
                text = ""
        said = f": Amazon says: {text.rstrip('.')}" if text else f"; {fields.no_reason}"
        return f"{head} ended FATAL{said}. {fields.advice}"

    # ----------------------------------------------------------------------------------------- documents
    def document(self, caller: Caller, ops: ReportOps, report: Report, restricted: bool) -> CachedDocument | None:
        """The job's document on disk (cached, or downloaded now); None when the job has none."""
        document_id = report.document_id
        if document_id is None:
            return None
        cached = self.documents.get(document_id)
        if cached is not None:
            return cached
        fields = ops.fields
        path = {fields.document_param: document_id}
        rdt = RestrictedResource(ops.document.method, ops.document.format_path(path)) if restricted else None
        for attempt in range(2):
            meta = caller.call(ops.document, path, {}, fresh=True, expect=Envelope(required=(fields.url,)), rdt=rdt)
            try:
                with self.documents.writer(document_id) as out:
                    content_type = caller.download_to(str(meta[fields.url]), out)
                compression = meta.get(fields.compression) if fields.compression else None
                return self.documents.keep(document_id, out.name, content_type, compression)
            except OperationalError as exc:
                if attempt or getattr(exc, "status", None) != 403:
                    raise OperationalError(f"{fields.noun} {report.report_id}: downloading document {document_id} "
                                           f"failed: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------------------------------- listing
    def existing(self, caller: Caller, ops: ReportOps, report_type: str, marketplace_id: str,
                 start: datetime | None, end: datetime | None) -> Iterator[Report]:
        """The DONE reports Amazon made of ``report_type`` (settlements) whose data window meets [start, end),
        oldest first: getReports pages (the nextToken sent alone), created since ``start`` (else its 90 days)."""
        assert ops.list is not None
        since = start or datetime.now(UTC) - timedelta(days=90)
        query: dict[str, Any] = {"reportTypes": [report_type], "processingStatuses": ["DONE"],
                                 "marketplaceIds": [marketplace_id], "createdSince": _iso(since), "pageSize": 100}
        found: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        while True:
            answer = caller.call(ops.list, {}, query, fresh=True, expect=_LIST)
            found += [r for r in answer.get("reports") or () if isinstance(r, Mapping)]
            token = answer.get("nextToken")
            if not token:
                break
            if token in seen or len(seen) >= MAX_LIST_PAGES:
                raise OperationalError(f"{ops.list.name} for {report_type} kept answering a next page ({len(seen)} "
                                       "pages, or a token it gave before); the list of reports would be incomplete. "
                                       "Narrow the window (dataStartTime) and try again.")
            seen.add(str(token))
            query = {"nextToken": token}
        for meta in sorted(found, key=lambda r: str(r.get("dataStartTime") or "")):
            lo, hi = _instant(meta.get("dataStartTime")), _instant(meta.get("dataEndTime"))
            if (end is None or lo is None or lo < end) and (start is None or hi is None or hi > start):
                yield Report(meta, ops.fields)

    def by_id(self, caller: Caller, ops: ReportOps, report_id: str) -> Report | None:
        """One existing job by id (None when Amazon does not know it)."""
        meta = self._status(caller, ops, report_id)
        return Report(meta, ops.fields) if meta is not None else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
