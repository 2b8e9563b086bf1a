"""One report from request to document: reuse, create, wait, fetch the document — and resume after a timeout.

:class:`ReportService` (one per connection; it holds the account's :class:`~sqlspapi.reports.state.Ledger` and
:class:`~sqlspapi.reports.state.DocumentCache`) runs the Reports API lifecycle for a :class:`ReportRequest`:

1. **Reuse** (unless ``DisableReportCache``): the ledger's report for the same request key — still running (any
   age: the query that gave up on it said the next one resumes it) or DONE within ``ReportMaxAgeMinutes`` —, else a
   DONE or running report that getReports lists for the same type and marketplace created within
   ``ReportMaxAgeMinutes`` whose data window is the one asked for (only for requests without reportOptions:
   getReports does not show a report's options).
2. **Create**: createReport; the id goes to the ledger at once, so a query that gives up leaves it resumable.
3. **Wait**: getReport until DONE, CANCELLED or FATAL, polling with backoff (:data:`POLL_FIRST` seconds, then ×1.5
   up to :data:`POLL_MAX`), each wait shown on the statement's progress; after ``ReportWaitSeconds`` an error names
   the report and says the next identical query resumes it. CANCELLED (Amazon's "no data") and DONE without a
   document are zero rows; FATAL is a :class:`~sqlspapi.errors.ReportFailedError` with the report id and the text of
   the error document when Amazon supplies one.
4. **Document**: getReportDocument (with a Restricted Data Token for a restricted type), then the pre-signed URL is
   streamed to a 0600 file (the document cache, keyed by reportDocumentId, so a second query downloads nothing);
   an expired URL (403) is asked for again once.

It knows nothing of SQL: the ``report`` route (:mod:`sqlspapi.sql.routes.report`) turns the document into rows.
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
from sqlspapi.reports.state import CachedDocument, DocumentCache, Ledger, LedgerEntry, cache_root
from sqlspapi.settings.keys import ReportPolicy

#: First wait between getReport polls, in Amazon seconds (then ×1.5 per poll, up to :data:`POLL_MAX`).
POLL_FIRST = 5.0
#: Longest wait between two polls of one report, in Amazon seconds.
POLL_MAX = 30.0
#: Reports getReports may list: the ones worth reusing.
REUSABLE = ("IN_QUEUE", "IN_PROGRESS", "DONE")
#: Most getReports pages one listing follows (90 days of reports at 100 a page is far fewer).
MAX_LIST_PAGES = 1000
#: How many characters of an error document a FATAL error quotes.
ERROR_TEXT_MAX = 600

_REPORT = Envelope(required=("reportId",))
_STATUS = Envelope(required=("processingStatus",))
_DOCUMENT = Envelope(required=("url",))
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
class ReportOps:
    """The Reports API operations a definition declares: create, get (poll), get document, list."""

    create: OperationSpec
    get: OperationSpec
    document: OperationSpec
    list: OperationSpec


@dataclass(frozen=True)
class ReportRequest:
    """One report to obtain: its type, marketplace, data window (ISO 8601 UTC, or None) and options."""

    report_type: str
    marketplace_id: str
    start: str | None = None
    end: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    restricted: bool = False

    @property
    def key(self) -> str:
        """The ledger key: what makes two requests the same report."""
        return json.dumps([self.report_type, self.marketplace_id, self.start, self.end, sorted(self.options.items())])

    def describe(self) -> str:
        """The request in words, for messages: ``GET_X for ATVPDKIKX0DER, 2026-01-01 to 2026-01-31``."""
        window = f", {self.start or '…'} to {self.end or 'now'}" if self.start or self.end else ""
        options = f", options {json.dumps(dict(self.options))}" if self.options else ""
        return f"{self.report_type} for {self.marketplace_id}{window}{options}"

    def body(self) -> dict[str, Any]:
        """The createReport body."""
        body: dict[str, Any] = {"reportType": self.report_type, "marketplaceIds": [self.marketplace_id]}
        if self.start:
            body["dataStartTime"] = self.start
        if self.end:
            body["dataEndTime"] = self.end
        if self.options:
            body["reportOptions"] = dict(self.options)
        return body


@dataclass(frozen=True)
class Begun:
    """A report started (or found) for a request: its id, and whether it was reused rather than created."""

    report_id: str
    reused: bool


@dataclass
class Report:
    """A finished report: getReport's answer (``reportId``, ``processingStatus``, ``dataStartTime``, …)."""

    meta: Mapping[str, Any]

    @property
    def report_id(self) -> str:
        """The report's id."""
        return str(self.meta.get("reportId"))

    @property
    def status(self) -> str:
        """Its processingStatus."""
        return str(self.meta.get("processingStatus"))

    @property
    def document_id(self) -> str | None:
        """Its reportDocumentId, when it has one."""
        value = self.meta.get("reportDocumentId")
        return str(value) if value else None


class ReportService:
    """The report lifecycle for one account (see the module docstring)."""

    def __init__(self, policy: ReportPolicy, account: str) -> None:
        self.policy = policy
        root = cache_root(policy.cache_dir)
        self.ledger = Ledger(root, account)
        self.documents = DocumentCache(root, account, policy.cache_mb * 1_000_000)

    def __repr__(self) -> str:
        return f"ReportService(max_age={self.policy.max_age_minutes} min, wait={self.policy.wait_seconds:g} s)"

    # ----------------------------------------------------------------------------------------- lifecycle
    def obtain(self, caller: Caller, ops: ReportOps, request: ReportRequest) -> Report:
        """The finished report for ``request``: reused, resumed or created, then waited for (see the module)."""
        return self.finish(caller, ops, request, self.start(caller, ops, request))

    def start(self, caller: Caller, ops: ReportOps, request: ReportRequest) -> Begun:
        """Reuse (the ledger's, else a recent one getReports lists) or create the report; do not wait."""
        policy = self.policy
        if not policy.disable_cache:
            entry = self.ledger.get(request.key)
            if entry is not None and (not entry.done or time.time() - entry.created < policy.max_age_minutes * 60):
                return Begun(entry.report_id, True)
            found = self._recent(caller, ops, request) if policy.max_age_minutes and not request.options else None
            if found is not None:
                self.ledger.put(request.key, LedgerEntry(found, time.time()))
                return Begun(found, True)
        return self._create(caller, ops, request)

    def _create(self, caller: Caller, ops: ReportOps, request: ReportRequest) -> Begun:
        created = caller.call(ops.create, {}, {}, request.body(), expect=_REPORT)
        report_id = str(created["reportId"])
        self.ledger.put(request.key, LedgerEntry(report_id, time.time()))
        return Begun(report_id, False)

    def finish(self, caller: Caller, ops: ReportOps, request: ReportRequest, begun: Begun) -> Report:
        """Wait for a started report; one the ledger named that is gone or is another report is requested anew."""
        meta = self._status(caller, ops, begun.report_id)
        if meta is None or not _matches(meta, request):
            self.ledger.forget(request.key, begun.report_id)
            if not begun.reused:
                raise OperationalError(f"report {begun.report_id} ({request.describe()}) cannot be read back with "
                                       "getReport; try the query again")
            begun = self._create(caller, ops, request)
            meta = self._status(caller, ops, begun.report_id)
            if meta is None:
                raise OperationalError(f"report {begun.report_id} ({request.describe()}) cannot be read back with "
                                       "getReport; try the query again")
        return self.follow(caller, ops, request, meta, begun.reused)

    def _recent(self, caller: Caller, ops: ReportOps, request: ReportRequest) -> str | None:
        """A DONE or running report of the same type, marketplace and window created within the reuse age."""
        since = datetime.now(UTC) - timedelta(minutes=self.policy.max_age_minutes)
        query = {"reportTypes": [request.report_type], "processingStatuses": list(REUSABLE),
                 "marketplaceIds": [request.marketplace_id], "createdSince": _iso(since), "pageSize": 100}
        answer = caller.call(ops.list, {}, query, fresh=True, expect=_LIST)
        candidates = [r for r in answer.get("reports") or () if isinstance(r, Mapping) and _matches(r, request)]
        candidates.sort(key=lambda r: (r.get("processingStatus") == "DONE", str(r.get("createdTime") or "")))
        return str(candidates[-1]["reportId"]) if candidates else None

    @staticmethod
    def _status(caller: Caller, ops: ReportOps, report_id: str) -> Mapping[str, Any] | None:
        """getReport's answer, or None when the report does not exist (any more)."""
        try:
            return caller.call(ops.get, {"reportId": report_id}, {}, fresh=True, expect=_STATUS)
        except OperationalError as exc:
            if getattr(exc, "status", None) in (400, 404):
                return None
            raise

    def follow(self, caller: Caller, ops: ReportOps, request: ReportRequest, meta: Mapping[str, Any],
               reused: bool = False) -> Report:
        """Poll until the report ends; FATAL raises, a timeout raises naming the report (the ledger keeps it)."""
        report_id = str(meta["reportId"])
        deadline = time.monotonic() + self.policy.wait_seconds
        began = time.monotonic()
        pause = POLL_FIRST
        while True:
            status = str(meta.get("processingStatus"))
            if status in ("DONE", "CANCELLED"):
                if status == "DONE":
                    known = self.ledger.get(request.key)
                    created = known.created if known is not None and known.report_id == report_id else time.time()
                    self.ledger.put(request.key, LedgerEntry(report_id, created, done=True))
                else:
                    self.ledger.forget(request.key, report_id)
                return Report(meta)
            if status == "FATAL":
                self.ledger.forget(request.key, report_id)
                raise ReportFailedError(self._fatal_message(caller, ops, request, Report(meta)))
            if time.monotonic() >= deadline:
                raise OperationalError(
                    f"report {report_id} ({request.describe()}) is still {status} after "
                    f"{self.policy.wait_seconds:g} s (ReportWaitSeconds). Amazon keeps working on it: run the same "
                    "query again later and it resumes this report instead of requesting another; or raise "
                    "ReportWaitSeconds.")
            waited = time.monotonic() - began
            caller.progress.wait(min(pause * caller.poll_scale, max(0.0, deadline - time.monotonic())),
                                 f"report {report_id} {status}{' (reused)' if reused else ''}, {waited:.0f} s",
                                 ops.get.name)
            pause = min(pause * 1.5, POLL_MAX)
            meta = self._status(caller, ops, report_id) or meta

    def _fatal_message(self, caller: Caller, ops: ReportOps, request: ReportRequest, report: Report) -> str:
        """The FATAL error: the report id, and what Amazon's error document says (when it has one)."""
        text = ""
        if report.document_id:
            try:
                document = self.document(caller, ops, report, request.restricted)
                if document is not None:
                    text = _error_text(b"".join(document.chunks()))
                    document.close()
            except OperationalError:
                text = ""
        said = (f": Amazon says: {text.rstrip('.')}" if text
                else "; Amazon gave no reason (FATAL often means no data for the window)")
        return (f"report {report.report_id} ({request.describe()}) ended FATAL{said}. Check the window and options, "
                "or look at the report in Seller Central.")

    # ----------------------------------------------------------------------------------------- documents
    def document(self, caller: Caller, ops: ReportOps, report: Report, restricted: bool) -> CachedDocument | None:
        """The report's document on disk (cached, or downloaded now); None when the report has none."""
        document_id = report.document_id
        if document_id is None:
            return None
        cached = self.documents.get(document_id)
        if cached is not None:
            return cached
        path = {"reportDocumentId": document_id}
        rdt = RestrictedResource(ops.document.method, ops.document.format_path(path)) if restricted else None
        for attempt in range(2):
            meta = caller.call(ops.document, path, {}, fresh=True, expect=_DOCUMENT, rdt=rdt)
            try:
                with self.documents.writer(document_id) as out:
                    content_type = caller.download_to(str(meta["url"]), out)
                return self.documents.keep(document_id, out.name, content_type, meta.get("compressionAlgorithm"))
            except OperationalError as exc:
                if attempt or getattr(exc, "status", None) != 403:
                    raise OperationalError(f"report {report.report_id}: downloading document {document_id} "
                                           f"failed: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------------------------------- listing
    def existing(self, caller: Caller, ops: ReportOps, report_type: str, marketplace_id: str,
                 start: datetime | None, end: datetime | None) -> Iterator[Report]:
        """The DONE reports Amazon made of ``report_type`` (settlements) whose data window meets [start, end),
        oldest first: getReports pages (the nextToken sent alone), created since ``start`` (else its 90 days)."""
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
                yield Report(meta)

    def by_id(self, caller: Caller, ops: ReportOps, report_id: str) -> Report | None:
        """One existing report by id (None when Amazon does not know it)."""
        meta = self._status(caller, ops, report_id)
        return Report(meta) if meta is not None else None


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


def _matches(meta: Mapping[str, Any], request: ReportRequest) -> bool:
    """Whether a listed (or ledger) report is the one ``request`` asks for: type, marketplace, data window."""
    if meta.get("reportType") != request.report_type:
        return False
    marketplaces = meta.get("marketplaceIds")
    if marketplaces is not None and list(marketplaces) != [request.marketplace_id]:
        return False
    for asked, key in ((request.start, "dataStartTime"), (request.end, "dataEndTime")):
        if asked is not None and _instant(asked) != _instant(meta.get(key)):
            return False
    return True


def _error_text(raw: bytes) -> str:
    """The reason an error document gives: its ``errorDetails`` (JSON), else its text; shortened."""
    import gzip

    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        detail = data.get("errorDetails") or data.get("errors") or data
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return text if len(text) <= ERROR_TEXT_MAX else text[:ERROR_TEXT_MAX] + "…"
