"""Reports API 2021-06-30 in the emulator: reports, schedules and documents over scaled time.

Lifecycle: createReport validates the request (a known report type of :data:`~sqlspapi.emulator.reports_files.KINDS`
that can be requested, known marketplaces — one for single-marketplace types —, the type's longest data window and
how far back it may start, ``reportOptions`` as strings, enumerated options) and builds the file at once from the
emulator's data. The report then sits IN_QUEUE for ``ReportStore.timing[0]`` seconds, IN_PROGRESS for
``timing[1]`` seconds (Amazon seconds: real seconds × the emulator's ``time_scale``, plus
``Emulator.advance_clock``), then ends DONE — or CANCELLED when the window holds no data, as Amazon does.
:meth:`ReportStore.outcome_next` makes the next report of a type end otherwise: ``FATAL`` (with an error document
whose ``errorDetails`` says why), ``FATAL_NO_DOCUMENT``, ``CANCELLED`` or ``DONE_NO_DOCUMENT``. cancelReport cancels
IN_QUEUE reports only. getReports filters by reportTypes, processingStatuses, marketplaceIds, createdSince/Until
(default: the last 90 days), newest first, ``pageSize`` per page; its ``nextToken`` carries the filters and must be
sent alone (with any other parameter: 400). Schedules are kept and listed, not run.

getReportDocument answers a presigned-style URL on this emulator under :data:`DOWNLOAD_PREFIX`; the download
(:func:`download`) rejects SP-API auth headers (``x-amz-access-token``, ``Authorization``) with 400 as S3 does,
answers 403 once the URL is 5 minutes old (Amazon seconds) or was never issued, and sends the bytes with the
file's ``Content-Type`` (``text/plain;charset=Cp1252`` …); ``enableContentEncodingUrlHeader=true`` adds
``Content-Encoding: gzip`` to GZIP documents. Settlement reports cannot be requested. Each account starts with a
history (:meth:`ReportStore.seed_history`): DONE settlement reports for the periods of
:func:`~sqlspapi.emulator.reports_files.settlement_periods`, a DONE listings report per marketplace and an orders
report schedule.

Report ids are per seller account (``Grant.account``). An operation's usage plan comes from its ``vtables/*.toml``
definition; operations not defined there yet are bound to :data:`SPECS` (Amazon's model values) by
:data:`sqlspapi.emulator.routes.PROVISIONAL`.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.emulator.common import (
    Config,
    Request,
    Response,
    decode_token,
    encode_token,
    get_date,
    invalid,
    iso_or_none,
    not_found,
)
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.faults import RawAnswer
from sqlspapi.emulator.generic import Endpoint, rules
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS
from sqlspapi.emulator.reports_files import (
    KINDS,
    LISTINGS_ALL,
    ORDERS_UPDATE,
    SETTLEMENT,
    Document,
    Quirks,
    ReportKind,
    Window,
    error_document,
    render,
    settlement_periods,
)

SECTION, VERSION = "reports", "2021-06-30"
BASE = "/reports/2021-06-30"
#: Path prefix of the document downloads (the presigned-style URLs).
DOWNLOAD_PREFIX = "/report-documents"
#: The call-log name of a document download.
DOWNLOAD_OPERATION = "reportDocumentDownload"
#: Seconds (Amazon time) a document URL stays valid.
URL_LIFETIME = 300.0
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
#: Outcomes :meth:`ReportStore.outcome_next` accepts.
OUTCOMES = ("DONE", "DONE_NO_DOCUMENT", "FATAL", "FATAL_NO_DOCUMENT", "CANCELLED")
PERIODS = ("PT5M", "PT15M", "PT30M", "PT1H", "PT2H", "PT4H", "PT8H", "PT12H", "P1D", "P2D", "P3D", "PT84H", "P7D",
           "P14D", "P15D", "P18D", "P30D", "P1M")
AUTH_HEADERS = ("x-amz-access-token", "Authorization")
DEFAULT_FATAL = "The report could not be generated: an internal error occurred while processing the request."

#: The Reports operations: (operationId, method, path, rate, burst), values from Amazon's model.
SPECS: tuple[OperationSpec, ...] = tuple(OperationSpec(name, SECTION, VERSION, method, BASE + path, rate, burst)
                                         for name, method, path, rate, burst in (
    ("getReports", "GET", "/reports", 0.0222, 10),
    ("createReport", "POST", "/reports", 0.0167, 15),
    ("cancelReport", "DELETE", "/reports/{reportId}", 0.0222, 10),
    ("getReport", "GET", "/reports/{reportId}", 2.0, 15),
    ("getReportSchedules", "GET", "/schedules", 0.0222, 10),
    ("createReportSchedule", "POST", "/schedules", 0.0222, 10),
    ("cancelReportSchedule", "DELETE", "/schedules/{reportScheduleId}", 0.0222, 10),
    ("getReportSchedule", "GET", "/schedules/{reportScheduleId}", 0.0222, 10),
    ("getReportDocument", "GET", "/documents/{reportDocumentId}", 0.0167, 15),
))

GET_REPORTS = rules(f"""
reportTypes         string[]  max_items=10
processingStatuses  string[]  enum={','.join(STATUSES)}
marketplaceIds      string[]  max_items=10
pageSize            integer   maximum=100 minimum=1 default=10
createdSince        date-time
createdUntil        date-time
nextToken           string
""")
GET_SCHEDULES = rules("""
reportTypes  string[]  required max_items=10
""")
GET_DOCUMENT = rules("""
enableContentEncodingUrlHeader  boolean
""")


@dataclass
class Report:
    """One report: what was asked, when (Amazon clock), how it ends, its document."""

    report_id: str
    account: str
    kind: ReportKind
    window: Window
    created: datetime
    stamp: float  # ReportStore.clock() at creation
    queue: float
    processing: float
    outcome: str
    document_id: str | None
    schedule_id: str | None = None
    cancelled: float | None = None  # ReportStore.clock() when cancelled

    def status(self, now: float) -> str:
        """The processingStatus at Amazon-clock ``now``."""
        if self.cancelled is not None:
            return "CANCELLED"
        elapsed = now - self.stamp
        if elapsed < self.queue:
            return "IN_QUEUE"
        if elapsed < self.queue + self.processing:
            return "IN_PROGRESS"
        return "DONE" if self.outcome.startswith("DONE") else self.outcome.split("_")[0]

    def render(self, now: float) -> dict[str, Any]:
        """The model's ``Report`` object at Amazon-clock ``now``."""
        status = self.status(now)
        out: dict[str, Any] = {"reportId": self.report_id, "reportType": self.kind.name,
                               "dataStartTime": iso_or_none(self.window.start),
                               "dataEndTime": iso_or_none(self.window.end),
                               "marketplaceIds": list(self.window.marketplace_ids),
                               "createdTime": iso_or_none(self.created), "processingStatus": status}
        if self.schedule_id:
            out["reportScheduleId"] = self.schedule_id
        started = self.created + timedelta(seconds=self.queue)
        if self.cancelled is not None:
            out["processingEndTime"] = iso_or_none(self.created + timedelta(seconds=self.cancelled - self.stamp))
        elif status != "IN_QUEUE":
            out["processingStartTime"] = iso_or_none(started)
            if status != "IN_PROGRESS":
                out["processingEndTime"] = iso_or_none(started + timedelta(seconds=self.processing))
                if self.document_id:
                    out["reportDocumentId"] = self.document_id
        return out


@dataclass
class Issued:
    """A document URL handed out: which document, when (Amazon clock), whether it sends Content-Encoding."""

    document_id: str
    stamp: float
    content_encoding: bool


@dataclass
class ReportStore:
    """The reports, schedules and documents of one emulator (thread-safe), and its controls.

    ``timing`` = (seconds IN_QUEUE, seconds IN_PROGRESS) of reports created from now on, in Amazon seconds;
    ``quirks`` switches the file quirks of reports created from now on.
    """

    data: Dataset
    time_scale: float = 1.0
    base_url: str = ""
    config: Config = field(default_factory=Config)
    timing: tuple[float, float] = (30.0, 60.0)
    quirks: Quirks = field(default_factory=Quirks)
    reports: dict[str, Report] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → (account, ReportSchedule object)
    documents: dict[str, Document] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    outcomes: dict[str | None, list[tuple[str, str | None]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _mono0: float = field(default_factory=time.monotonic)
    _seeded: set[str] = field(default_factory=set)

    def clock(self) -> float:
        """Amazon seconds since the store was made: real seconds × time_scale, plus ``advance_clock`` seconds."""
        return (time.monotonic() - self._mono0) * self.time_scale + self.config.clock_offset

    def wall(self) -> datetime:
        """Amazon's wall clock: now, moved by ``advance_clock``."""
        return datetime.now(UTC) + timedelta(seconds=self.config.clock_offset)

    def outcome_next(self, report_type: str | None, outcome: str, *, reason: str | None = None, n: int = 1) -> None:
        """End the next ``n`` reports of ``report_type`` (None: of any type) created with ``outcome`` (one of
        :data:`OUTCOMES`); ``reason`` is the FATAL error document's ``errorDetails``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown report outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        if report_type is not None and report_type not in KINDS:
            raise ValueError(f"the emulator knows no report type {report_type!r}")
        with self._lock:
            self.outcomes.setdefault(report_type, []).extend([(outcome, reason)] * int(n))

    def _take_outcome(self, report_type: str) -> tuple[str, str | None] | None:
        for key in (report_type, None):
            queue = self.outcomes.get(key)
            if queue:
                return queue.pop(0)
        return None

    def _new_id(self, prefix: str = "") -> str:
        n = next(self._ids)
        return f"{prefix}{50000000000 + n * 1019 + self.data.seed % 1000}"

    def _document_id(self, report_id: str) -> str:
        digest = hashlib.sha256(f"{self.data.seed}-{report_id}".encode()).hexdigest()
        return f"amzn1.spdoc.1.4.na.{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def create(self, account: str, kind: ReportKind, window: Window, *, schedule_id: str | None = None,
               created: datetime | None = None) -> Report:
        """Make a report, build its file and return it (``created``: a report Amazon made in the past, DONE
        already)."""
        doc, rows = render(kind, self.data, window, self.quirks)
        with self._lock:
            taken = self._take_outcome(kind.name)
            outcome, reason = taken if taken else ("DONE" if rows else "CANCELLED", None)
            report_id = self._new_id()
            document_id = None
            if outcome == "DONE":
                document_id = self._document_id(report_id)
                self.documents[document_id] = doc
            elif outcome == "FATAL":
                document_id = self._document_id(report_id)
                self.documents[document_id] = error_document(reason or DEFAULT_FATAL)
            q, p = (0.0, 0.0) if created else self.timing
            report = Report(report_id, account, kind, window, created or self.wall().replace(microsecond=0),
                            self.clock(), q, p, outcome, document_id, schedule_id)
            self.reports[report_id] = report
            return report

    def find(self, account: str, report_id: str) -> Report:
        """The account's report (404 NotFound otherwise)."""
        report = self.reports.get(report_id)
        if report is None or report.account != account:
            raise not_found(f"Report {report_id} was not found.")
        return report

    def seed_history(self, account: str) -> None:
        """What ``account`` had before the emulator started (once per account): the DONE settlement reports Amazon
        made, a DONE GET_MERCHANT_LISTINGS_ALL_DATA report per marketplace created a day before the dataset's anchor,
        and a daily schedule of the orders-by-last-update report for the US marketplace."""
        with self._lock:
            if account in self._seeded:
                return
            self._seeded.add(account)
            for market, start, end in settlement_periods(self.data):
                self.create(account, KINDS[SETTLEMENT], Window((market.id,), start, end),
                            created=end + timedelta(hours=1))
            day_before = self.data.anchor - timedelta(days=1)
            for market in MARKETS:
                self.create(account, KINDS[LISTINGS_ALL], Window((market.id,), day_before, day_before),
                            created=day_before + timedelta(minutes=5))
            sid = self._new_id()
            self.schedules[sid] = (account, {"reportScheduleId": sid, "reportType": ORDERS_UPDATE,
                                             "marketplaceIds": [MARKETS[0].id], "period": "P1D",
                                             "nextReportCreationTime": iso_or_none(self.data.anchor)})


def _store(req: Request) -> ReportStore:
    """The store, with the caller's account history in it."""
    st = store(req.data)
    st.seed_history(req.grant.account)
    return st


def store(data: Dataset) -> ReportStore:
    """The report store of a dataset (made on first use; :func:`attach` sets its clock and URL first)."""
    return data.derived("reports", lambda d: ReportStore(d))


def attach(data: Dataset, *, time_scale: float, base_url: str, config: Config) -> ReportStore:
    """Make the dataset's report store with the emulator's time scale, URL and clock (the emulator calls this)."""
    return data.derived("reports", lambda d: ReportStore(d, time_scale=time_scale, base_url=base_url, config=config))


# -- validation helpers -----------------------------------------------------------------------------------------
def _body(req: Request) -> dict[str, Any]:
    body = req.json_body()
    if not isinstance(body, dict):
        raise invalid("Invalid request body: a JSON object is required.")
    return body


def _kind(value: Any) -> ReportKind:
    if not isinstance(value, str) or not value:
        raise invalid("Invalid reportType: reportType is required.")
    kind = KINDS.get(value)
    if kind is None:
        raise invalid(f"Invalid reportType: {value!r} is not a supported report type.")
    if not kind.requestable:
        raise invalid(f"Invalid reportType: {value} cannot be requested or scheduled; Amazon generates it. "
                      "Find its reports with getReports.")
    return kind


def _marketplaces(value: Any, kind: ReportKind) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid("Invalid marketplaceIds: a list of 1 to 25 marketplace IDs is required.")
    if len(value) > 25:
        raise invalid(f"Invalid marketplaceIds: at most 25 values are allowed, got {len(value)}.")
    bad = [v for v in value if v not in KNOWN_MARKETPLACE_IDS]
    if bad:
        raise invalid(f"Invalid marketplaceIds: {bad[0]!r} is not a valid marketplace ID.")
    if kind.single_marketplace and len(value) > 1:
        raise invalid(f"Invalid marketplaceIds: {kind.name} takes only one marketplace per report.")
    return tuple(value)


def _options(value: Any, kind: ReportKind) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid("Invalid reportOptions: an object of string values is required.")
    for name, allowed in kind.options.items():
        if name in value and value[name] not in allowed:
            raise invalid(f"Invalid reportOptions: {name} must be one of {', '.join(allowed)}.")
    return dict(value)


def _window(body: Mapping[str, Any], kind: ReportKind, now: datetime) -> tuple[datetime, datetime]:
    dates = {}
    for name in ("dataStartTime", "dataEndTime"):
        raw = body.get(name)
        if raw is not None and not isinstance(raw, str):
            raise invalid(f"Invalid {name}: an ISO 8601 date-time is required.")
        dates[name] = get_date({name: raw}, name) if raw is not None else None
    end = dates["dataEndTime"] or now
    start = dates["dataStartTime"] or (end if dates["dataEndTime"] else now)
    if start > now:
        raise invalid("Invalid dataStartTime: it must be prior to or equal to the current date and time.")
    if start > end:
        raise invalid("Invalid dataStartTime: dataStartTime must be before dataEndTime.")
    if kind.max_days is not None and end - start > timedelta(days=kind.max_days):
        raise invalid(f"Invalid dataEndTime: {kind.name} covers at most {kind.max_days} days per report.")
    if kind.max_age_days is not None and now - start > timedelta(days=kind.max_age_days):
        raise invalid(f"Invalid dataStartTime: {kind.name} covers only the last {kind.max_age_days} days.")
    return start, end


# -- handlers ---------------------------------------------------------------------------------------------------
def create_report(req: Request) -> Response:
    """POST /reports/2021-06-30/reports → 202 ``{"reportId"}``."""
    st = _store(req)
    body = _body(req)
    kind = _kind(body.get("reportType"))
    markets = _marketplaces(body.get("marketplaceIds"), kind)
    options = _options(body.get("reportOptions"), kind)
    start, end = _window(body, kind, st.wall())
    report = st.create(req.grant.account, kind, Window(markets, start, end, options))
    return Response(202, {"reportId": report.report_id})


def get_report(req: Request) -> Response:
    """GET /reports/2021-06-30/reports/{reportId}."""
    st = _store(req)
    return Response(200, st.find(req.grant.account, req.path_args["reportId"]).render(st.clock()))


def cancel_report(req: Request) -> Response:
    """DELETE /reports/2021-06-30/reports/{reportId}: only IN_QUEUE reports can be cancelled."""
    st = _store(req)
    with st._lock:
        report = st.find(req.grant.account, req.path_args["reportId"])
        now = st.clock()
        status = report.status(now)
        if status != "IN_QUEUE":
            raise invalid(f"Report {report.report_id} is {status}: only reports with processingStatus=IN_QUEUE "
                          "can be cancelled.")
        report.cancelled = now
    return Response(200, RawAnswer(b""))


def get_reports(req: Request) -> Response:
    """GET /reports/2021-06-30/reports (nextToken alone, or reportTypes)."""
    st = _store(req)
    token = req.query.get("nextToken")
    if token:
        others = sorted(k for k in req.query if k != "nextToken")
        if others:
            raise invalid(f"Invalid nextToken: nextToken must be the only parameter; remove {', '.join(others)}.")
        state = decode_token(token, "nextToken")
        if state.get("k") != "reports":
            raise invalid("Invalid nextToken: the token does not belong to this operation.")
        filters = state["f"]
    else:
        p = req.params
        if not p["reportTypes"]:
            raise invalid("Invalid request: either reportTypes or nextToken is required.")
        now = st.wall()
        since = p["createdSince"] or now - timedelta(days=90)
        until = p["createdUntil"] or now
        filters = {"types": p["reportTypes"], "statuses": p["processingStatuses"], "mps": p["marketplaceIds"],
                   "since": iso_or_none(since), "until": iso_or_none(until), "size": p["pageSize"]}
        state = {"o": 0}
    now_clock = st.clock()
    since, until = get_date({"s": filters["since"]}, "s"), get_date({"u": filters["until"]}, "u")
    with st._lock:
        found = [r.render(now_clock) for r in st.reports.values()
                 if r.account == req.grant.account and r.kind.name in filters["types"]
                 and since <= r.created <= until  # type: ignore[operator]
                 and (not filters["mps"] or set(filters["mps"]) & set(r.window.marketplace_ids))]
    if filters["statuses"]:
        found = [r for r in found if r["processingStatus"] in filters["statuses"]]
    found.sort(key=lambda r: (r["createdTime"], r["reportId"]), reverse=True)
    start, size = int(state["o"]), int(filters["size"])
    body: dict[str, Any] = {"reports": found[start:start + size]}
    if start + size < len(found):
        body["nextToken"] = encode_token({"k": "reports", "o": start + size, "f": filters})
    return Response(200, body)


def get_report_document(req: Request) -> Response:
    """GET /reports/2021-06-30/documents/{reportDocumentId} → a URL valid for 5 minutes."""
    st = _store(req)
    doc_id = req.path_args["reportDocumentId"]
    with st._lock:
        owner = next((r for r in st.reports.values() if r.document_id == doc_id), None)
        if owner is None or owner.account != req.grant.account or doc_id not in st.documents:
            raise not_found(f"Report document {doc_id} was not found.")
        doc = st.documents[doc_id]
        signature = hashlib.sha256(f"{doc_id}-{st.clock()}-{len(st.issued)}".encode()).hexdigest()
        encoding = bool(req.params["enableContentEncodingUrlHeader"]) and doc.compression == "GZIP"
        st.issued[signature] = Issued(doc_id, st.clock(), encoding)
    url = (f"{st.base_url}{DOWNLOAD_PREFIX}/{doc_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Expires={int(URL_LIFETIME)}&X-Amz-Signature={signature}")
    out: dict[str, Any] = {"reportDocumentId": doc_id, "url": url}
    if doc.compression:
        out["compressionAlgorithm"] = doc.compression
    return Response(200, out)


def _schedule_body(req: Request) -> dict[str, Any]:
    body = _body(req)
    kind = _kind(body.get("reportType"))
    schedule: dict[str, Any] = {"reportType": kind.name, "marketplaceIds": list(_marketplaces(
        body.get("marketplaceIds"), kind)), "reportOptions": _options(body.get("reportOptions"), kind)}
    if body.get("period") not in PERIODS:
        raise invalid(f"Invalid period: {body.get('period')!r} is not one of {', '.join(PERIODS)}.")
    schedule["period"] = body["period"]
    raw = body.get("nextReportCreationTime")
    if raw is not None:
        if not isinstance(raw, str):
            raise invalid("Invalid nextReportCreationTime: an ISO 8601 date-time is required.")
        schedule["nextReportCreationTime"] = iso_or_none(get_date({"t": raw}, "nextReportCreationTime"))
    if not schedule["reportOptions"]:
        del schedule["reportOptions"]
    return schedule


def create_report_schedule(req: Request) -> Response:
    """POST /reports/2021-06-30/schedules → 201; replaces a schedule of the same type and marketplaces."""
    st = _store(req)
    schedule = _schedule_body(req)
    account = req.grant.account
    with st._lock:
        for sid, (owner, old) in list(st.schedules.items()):
            if owner == account and (old["reportType"], old["marketplaceIds"]) == (schedule["reportType"],
                                                                                    schedule["marketplaceIds"]):
                del st.schedules[sid]
        sid = st._new_id()
        schedule["reportScheduleId"] = sid
        schedule.setdefault("nextReportCreationTime", iso_or_none(st.wall()))
        st.schedules[sid] = (account, schedule)
    return Response(201, {"reportScheduleId": sid})


def _schedule(req: Request) -> tuple[ReportStore, str]:
    st = _store(req)
    sid = req.path_args["reportScheduleId"]
    found = st.schedules.get(sid)
    if found is None or found[0] != req.grant.account:
        raise not_found(f"Report schedule {sid} was not found.")
    return st, sid


def get_report_schedule(req: Request) -> Response:
    """GET /reports/2021-06-30/schedules/{reportScheduleId}."""
    st, sid = _schedule(req)
    return Response(200, dict(st.schedules[sid][1]))


def cancel_report_schedule(req: Request) -> Response:
    """DELETE /reports/2021-06-30/schedules/{reportScheduleId}."""
    st, sid = _schedule(req)
    with st._lock:
        st.schedules.pop(sid, None)
    return Response(200, RawAnswer(b""))


def get_report_schedules(req: Request) -> Response:
    """GET /reports/2021-06-30/schedules?reportTypes=…"""
    st = _store(req)
    types = set(req.params["reportTypes"])
    with st._lock:
        found = [dict(s) for owner, s in st.schedules.values()
                 if owner == req.grant.account and s["reportType"] in types]
    return Response(200, {"reportSchedules": found})


# -- the download -----------------------------------------------------------------------------------------------
def _s3_error(status: int, code: str, message: str) -> tuple[int, RawAnswer, dict[str, str]]:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
           "</Error>").encode()
    return status, RawAnswer(xml, content_type="application/xml"), {}


def download(data: Dataset, method: str, path: str, query: Mapping[str, str],
             headers: Any) -> tuple[int, RawAnswer, dict[str, str]]:
    """Answer a request for a document URL: (status, body, extra headers), as S3 answers presigned URLs."""
    st = store(data)
    if method != "GET":
        return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    sent = [h for h in AUTH_HEADERS if headers.get(h) is not None]
    if sent:
        return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                         f"parameter, Signature query string parameter or the Authorization header should be "
                         f"specified (got {', '.join(sent)}).")
    doc_id = path[len(DOWNLOAD_PREFIX) + 1:]
    with st._lock:
        issued = st.issued.get(query.get("X-Amz-Signature", ""))
        doc = st.documents.get(doc_id)
    if issued is None or doc is None or issued.document_id != doc_id:
        return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                         "signature you provided.")
    if st.clock() - issued.stamp > URL_LIFETIME:
        return _s3_error(403, "AccessDenied", "Request has expired")
    extra = {"Content-Encoding": "gzip"} if issued.content_encoding else {}
    return 200, RawAnswer(doc.data, content_type=doc.content_type), extra


# -- routes -----------------------------------------------------------------------------------------------------
ENDPOINTS = (
    Endpoint(SECTION, VERSION, "getReports", get_reports, GET_REPORTS),
    Endpoint(SECTION, VERSION, "createReport", create_report),
    Endpoint(SECTION, VERSION, "cancelReport", cancel_report),
    Endpoint(SECTION, VERSION, "getReport", get_report),
    Endpoint(SECTION, VERSION, "getReportSchedules", get_report_schedules, GET_SCHEDULES),
    Endpoint(SECTION, VERSION, "createReportSchedule", create_report_schedule),
    Endpoint(SECTION, VERSION, "cancelReportSchedule", cancel_report_schedule),
    Endpoint(SECTION, VERSION, "getReportSchedule", get_report_schedule),
    Endpoint(SECTION, VERSION, "getReportDocument", get_report_document, GET_DOCUMENT),
)


__all__ = ["DOWNLOAD_OPERATION", "DOWNLOAD_PREFIX", "ENDPOINTS", "OUTCOMES", "SPECS", "URL_LIFETIME", "Report",
           "ReportStore", "attach", "download", "store"]
