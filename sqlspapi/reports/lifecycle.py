"""One report (or Data Kiosk query) from request to document: reuse, create, wait, fetch the document — and resume
after a timeout.

:class:`ReportService` (one per connection; it holds the account's :class:`~sqlspapi.reports.state.Ledger` and
:class:`~sqlspapi.reports.state.DocumentCache`) runs the lifecycle of an asynchronous document for a request (a
:class:`JobRequest`: a :class:`ReportRequest` of the Reports API, or a Data Kiosk query of the ``document`` route,
:mod:`sqlspapi.sql.routes.document`). :class:`ReportOps` names the API's operations and :class:`JobFields` where its
answers keep the job id, the status and the documents (that vocabulary is :mod:`sqlspapi.reports.jobs`, re-exported
here), so both APIs share every rule below:

1. **Reuse** (unless ``DisableReportCache``): the ledger's job for the same request key — still running (any
   age: the query that gave up on it said the next one resumes it) or DONE within ``ReportMaxAgeMinutes`` —, else
   (reports only: :meth:`JobRequest.listing`) a DONE or running report that getReports lists for the same type and
   marketplace created within ``ReportMaxAgeMinutes`` whose data window is the one asked for (only for requests
   without reportOptions: getReports does not show a report's options); one listing serves the requests with the
   same listing for :data:`LISTING_SECONDS` (a statement's windows start together).
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
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import OperationalError, ReportFailedError
from sqlspapi.http.progress import Progress
from sqlspapi.http.response import Envelope
from sqlspapi.reports.jobs import (
    POLL_FIRST,
    REPORT_FIELDS,
    REUSABLE,
    Begun,
    JobFields,
    JobRequest,
    Report,
    ReportOps,
    ReportRequest,
    iso_utc,
    parse_instant,
)
from sqlspapi.reports.state import CachedDocument, DocumentCache, Ledger, LedgerEntry, cache_root, error_text
from sqlspapi.settings.keys import ReportPolicy

#: Longest wait between two polls of one report, in Amazon seconds.
POLL_MAX = 30.0
#: Most getReports pages one listing follows (90 days of reports at 100 a page is far fewer).
MAX_LIST_PAGES = 1000

#: How long one getReports answer serves the reuse check of the requests after it with the same listing (the windows
#: of one statement, started together: a 2-year order backfill makes 25), instead of one listing each (0.0222 calls a
#: second). A report this process creates meanwhile is found in the ledger first.
LISTING_SECONDS = 60.0
#: Listings kept for :data:`LISTING_SECONDS` at most (the oldest go first).
LISTING_MEMO = 16

_LIST = Envelope(required=("reports",))

#: The job vocabulary (:mod:`sqlspapi.reports.jobs`) stays importable from here, with the service and its constants.
__all__ = ["MAX_LIST_PAGES", "POLL_FIRST", "POLL_MAX", "REPORT_FIELDS", "REUSABLE", "Begun", "Caller", "JobFields",
           "JobRequest", "Report", "ReportOps", "ReportRequest", "ReportService"]


class Caller(Protocol):
    """What the lifecycle calls through (the statement scope): API calls, downloads, the statement's progress."""

    progress: Progress
    poll_scale: float

    def call(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             fresh: bool = False, expect: Envelope | None = None, rdt: RestrictedResource | None = None) -> Any:
        """One call's decoded JSON."""

    def download_to(self, url: str, out: IO[bytes]) -> str | None:
        """Stream a pre-signed URL's body into ``out``; its Content-Type."""


class ReportService:
    """The report (and Data Kiosk query) lifecycle for one account (see the module docstring)."""

    def __init__(self, policy: ReportPolicy, account: str) -> None:
        self.policy = policy
        root = cache_root(policy.cache_dir)
        self.ledger = Ledger(root, account)
        self.documents = DocumentCache(root, account, policy.cache_mb * 1_000_000)
        self._listings: OrderedDict[str, tuple[float, list[Mapping[str, Any]]]] = OrderedDict()
        self._listings_lock = threading.Lock()

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
        """A DONE or running job the list operation shows for the same request, created within the reuse age (one
        listing serves the requests of the same listing for :data:`LISTING_SECONDS`)."""
        since = datetime.now(UTC) - timedelta(minutes=self.policy.max_age_minutes)
        query = request.listing(since)
        if ops.list is None or query is None:
            return None
        listed = self._listing(caller, ops.list, query)
        candidates = [r for r in listed if request.matches(r) and _created_since(r, since)]
        candidates.sort(key=lambda r: (r.get("processingStatus") == "DONE", str(r.get("createdTime") or "")))
        return str(candidates[-1]["reportId"]) if candidates else None

    def _listing(self, caller: Caller, op: OperationSpec, query: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The reports getReports lists for ``query``: asked for, or the answer to the same listing (but its
        ``createdSince``) of the last :data:`LISTING_SECONDS`."""
        key = json.dumps({k: v for k, v in query.items() if k != "createdSince"}, sort_keys=True)
        now = time.monotonic()
        with self._listings_lock:
            kept = self._listings.get(key)
            if kept is not None and now - kept[0] < LISTING_SECONDS:
                return kept[1]
        answer = caller.call(op, {}, query, fresh=True, expect=_LIST)
        listed = [r for r in answer.get("reports") or () if isinstance(r, Mapping)]
        with self._listings_lock:
            self._listings[key] = (now, listed)
            self._listings.move_to_end(key)
            while len(self._listings) > LISTING_MEMO:
                self._listings.popitem(last=False)
        return listed

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
                                 "marketplaceIds": [marketplace_id], "createdSince": iso_utc(since), "pageSize": 100}
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
            lo, hi = parse_instant(meta.get("dataStartTime")), parse_instant(meta.get("dataEndTime"))
            if (end is None or lo is None or lo < end) and (start is None or hi is None or hi > start):
                yield Report(meta, ops.fields)

    def by_id(self, caller: Caller, ops: ReportOps, report_id: str) -> Report | None:
        """One existing job by id (None when Amazon does not know it)."""
        meta = self._status(caller, ops, report_id)
        return Report(meta, ops.fields) if meta is not None else None


def _created_since(meta: Mapping[str, Any], since: datetime) -> bool:
    """Whether a listed report was created at ``since`` or later (a listing kept a while was asked for an earlier
    ``createdSince``); one without a readable ``createdTime`` counts as recent."""
    created = parse_instant(meta.get("createdTime"))
    return created is None or created >= since
