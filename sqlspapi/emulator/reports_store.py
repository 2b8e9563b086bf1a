"""The emulator's report store: reports, schedules and documents of every seller account, over scaled Amazon time.

Amazon time: :meth:`ReportStore.clock` counts Amazon seconds (real seconds × the emulator's ``time_scale``, plus
``Emulator.advance_clock`` seconds) and :meth:`ReportStore.wall` is the Amazon date that goes with it (the real
date when the store was made, plus ``clock()``).

A report made by createReport is built at once; it then sits IN_QUEUE for ``ReportStore.timing[0]`` seconds,
IN_PROGRESS for ``timing[1]`` seconds, and ends DONE — or CANCELLED when the window holds no data, as Amazon does.
:meth:`ReportStore.outcome_next` makes the next requested report of a type end otherwise: ``FATAL`` (with an error
document whose ``errorDetails`` says why), ``FATAL_NO_DOCUMENT``, ``CANCELLED`` or ``DONE_NO_DOCUMENT``. A report
without a document has no ``reportDocumentId`` key at all.

Schedules create reports (:meth:`ReportStore.run_schedules`, run lazily when getReports, getReport or the schedule
operations are called): a schedule makes a report of its type at ``nextReportCreationTime`` and every ``period``
after it, DONE (or CANCELLED) at once, with ``reportScheduleId`` set and the previous period as its data window.
Only the last :data:`RETENTION_DAYS` days of scheduled reports exist (at most :data:`MAX_SCHEDULED` per schedule);
older ones are dropped, as Amazon keeps reports 90 days. Configured outcomes apply to requested reports only.

Each account starts with a history (:meth:`ReportStore.seed_history`): DONE settlement reports for the periods of
:func:`~sqlspapi.emulator.reports_orders.settlement_periods`, a DONE listings report per marketplace, and a daily
schedule of the orders-by-last-update report for the US marketplace that has run for the last 90 days.
:meth:`ReportStore.put_document` registers a DONE report whose document is given bytes (benchmarks, big files).
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Config, get_date, iso_or_none, not_found
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.pools import MARKETS
from sqlspapi.emulator.reports_files import (
    LISTINGS_ALL,
    ORDERS_UPDATE,
    SETTLEMENT,
    Document,
    Quirks,
    ReportKind,
    Window,
    error_document,
    render,
)
from sqlspapi.emulator.reports_kinds import KINDS, kind_of
from sqlspapi.emulator.reports_orders import settlement_periods

#: Outcomes :meth:`ReportStore.outcome_next` accepts.
OUTCOMES = ("DONE", "DONE_NO_DOCUMENT", "FATAL", "FATAL_NO_DOCUMENT", "CANCELLED")
DEFAULT_FATAL = "The report could not be generated: an internal error occurred while processing the request."
#: The account of the emulator's demo refresh token (:data:`sqlspapi.emulator.DEMO_REFRESH_TOKEN`).
DEMO_ACCOUNT = "demo"
#: Days of scheduled reports kept (Amazon keeps reports 90 days).
RETENTION_DAYS = 90
#: Scheduled reports one schedule keeps at most (a PT5M schedule makes 25,920 in 90 days).
MAX_SCHEDULED = 1000
#: Schedule periods (createReportSchedule's enum) → their length; ``P1M`` is a calendar month.
PERIOD_LENGTHS: dict[str, timedelta | None] = {
    "PT5M": timedelta(minutes=5), "PT15M": timedelta(minutes=15), "PT30M": timedelta(minutes=30),
    "PT1H": timedelta(hours=1), "PT2H": timedelta(hours=2), "PT4H": timedelta(hours=4), "PT8H": timedelta(hours=8),
    "PT12H": timedelta(hours=12), "P1D": timedelta(days=1), "P2D": timedelta(days=2), "P3D": timedelta(days=3),
    "PT84H": timedelta(hours=84), "P7D": timedelta(days=7), "P14D": timedelta(days=14), "P15D": timedelta(days=15),
    "P18D": timedelta(days=18), "P30D": timedelta(days=30), "P1M": None}


def step(when: datetime, period: str, n: int = 1) -> datetime:
    """``when`` moved by ``n`` schedule periods (calendar months for ``P1M``, the day clamped to the month)."""
    length = PERIOD_LENGTHS[period]
    if length is not None:
        return when + n * length
    month = when.year * 12 + when.month - 1 + n
    year, month = divmod(month, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


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
        """The model's ``Report`` object at Amazon-clock ``now`` (``reportDocumentId`` only when there is one)."""
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
    schedules: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # id → (account, ReportSchedule)
    documents: dict[str, Document] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    outcomes: dict[str | None, list[tuple[str, str | None]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _mono0: float = field(default_factory=time.monotonic)
    _wall0: datetime = field(default_factory=lambda: datetime.now(UTC))
    _seeded: set[str] = field(default_factory=set)

    def clock(self) -> float:
        """Amazon seconds since the store was made: real seconds × time_scale, plus ``advance_clock`` seconds."""
        return (time.monotonic() - self._mono0) * self.time_scale + self.config.clock_offset

    def wall(self) -> datetime:
        """Amazon's date now: when the store was made plus :meth:`clock` seconds."""
        return self._wall0 + timedelta(seconds=self.clock())

    def outcome_next(self, report_type: str | None, outcome: str, *, reason: str | None = None, n: int = 1) -> None:
        """End the next ``n`` requested reports of ``report_type`` (None: of any type) with ``outcome`` (one of
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

    def new_id(self) -> str:
        """A new report or schedule id."""
        n = next(self._ids)
        return f"{50000000000 + n * 1019 + self.data.seed % 1000}"

    def _document_id(self, report_id: str) -> str:
        digest = hashlib.sha256(f"{self.data.seed}-{report_id}".encode()).hexdigest()
        return f"amzn1.spdoc.1.4.na.{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def create(self, account: str, kind: ReportKind, window: Window, *, schedule_id: str | None = None,
               created: datetime | None = None) -> Report:
        """Make a report, build its file and return it. ``created``: a report Amazon made at that time (history,
        schedules), DONE already and not subject to :meth:`outcome_next`."""
        doc, rows = render(kind, self.data, window, self.quirks)
        with self._lock:
            taken = self._take_outcome(kind.name) if created is None else None
            outcome, reason = taken if taken else ("DONE" if rows else "CANCELLED", None)
            report_id = self.new_id()
            document_id = None
            if outcome in ("DONE", "FATAL"):
                document_id = self._document_id(report_id)
                self.documents[document_id] = doc if outcome == "DONE" else error_document(reason or DEFAULT_FATAL)
            q, p = (0.0, 0.0) if created else self.timing
            report = Report(report_id, account, kind, window, created or self.wall().replace(microsecond=0),
                            self.clock(), q, p, outcome, document_id, schedule_id)
            self.reports[report_id] = report
            return report

    def put_document(self, account: str, report_type: str, where: Window | str, data: bytes,
                     content_type: str = "text/plain;charset=UTF-8", compression: str | None = None) -> str:
        """Register a DONE report of ``report_type`` (any name; restricted types stay restricted) for ``account``
        (:data:`DEMO_ACCOUNT` for the demo refresh token) whose document is ``data`` as it is, served with
        ``content_type`` and labelled ``compression`` (``"GZIP"`` or None); ``where`` is the report's Window or one
        marketplace id (data window: now). Nothing is built or copied. Returns the reportId."""
        if compression not in (None, "GZIP"):
            raise ValueError(f"compression must be 'GZIP' or None, not {compression!r}")
        self.seed_history(account)
        with self._lock:
            now = self.wall().replace(microsecond=0)
            window = where if isinstance(where, Window) else Window((where,), now, now)
            report_id = self.new_id()
            document_id = self._document_id(report_id)
            self.documents[document_id] = Document(data, content_type, compression)
            self.reports[report_id] = Report(report_id, account, kind_of(report_type), window, now, self.clock(),
                                             0.0, 0.0, "DONE", document_id)
        return report_id

    def find(self, account: str, report_id: str) -> Report:
        """The account's report (404 NotFound otherwise)."""
        report = self.reports.get(report_id)
        if report is None or report.account != account:
            raise not_found(f"Report {report_id} was not found.")
        return report

    def document_owner(self, account: str, document_id: str) -> Report | None:
        """The account's report whose document (or error document) is ``document_id``, or None."""
        with self._lock:
            owner = next((r for r in self.reports.values() if r.document_id == document_id), None)
            if owner is None or owner.account != account or document_id not in self.documents:
                return None
            return owner

    def add_schedule(self, account: str, schedule: dict[str, Any]) -> str:
        """Keep a ReportSchedule object (``reportType``, ``marketplaceIds``, ``period``, optional
        ``reportOptions`` and ``nextReportCreationTime``, default now), replacing the account's schedule of the same
        type and marketplaces; returns its id."""
        with self._lock:
            for sid, (owner, old) in list(self.schedules.items()):
                if owner == account and (old["reportType"], old["marketplaceIds"]) == (schedule["reportType"],
                                                                                        schedule["marketplaceIds"]):
                    del self.schedules[sid]
            sid = self.new_id()
            schedule = {"reportScheduleId": sid, **schedule}
            schedule.setdefault("nextReportCreationTime", iso_or_none(self.wall()))
            self.schedules[sid] = (account, schedule)
            return sid

    def run_schedules(self, account: str) -> None:
        """Make the reports the account's schedules were due to make by now (module docstring), and drop scheduled
        reports older than :data:`RETENTION_DAYS`."""
        with self._lock:
            now = self.wall()
            floor = now - timedelta(days=RETENTION_DAYS)
            for sid, (owner, schedule) in list(self.schedules.items()):
                due = get_date(schedule, "nextReportCreationTime")
                if owner != account or due is None or due > now:
                    continue
                period, length = schedule["period"], PERIOD_LENGTHS[schedule["period"]]
                first = max(floor, now - MAX_SCHEDULED * length) if length else floor
                if length and due < first:
                    due += length * -((due - first) // length)
                kind = KINDS[schedule["reportType"]]
                while due <= now:
                    if due >= first:
                        window = Window(tuple(schedule["marketplaceIds"]), step(due, period, -1), due,
                                        dict(schedule.get("reportOptions") or {}))
                        self.create(account, kind, window, schedule_id=sid, created=due)
                    due = step(due, period)
                schedule["nextReportCreationTime"] = iso_or_none(due)
            for report_id in [r.report_id for r in self.reports.values()
                              if r.schedule_id and r.account == account and r.created < floor]:
                dropped = self.reports.pop(report_id)
                if dropped.document_id:
                    self.documents.pop(dropped.document_id, None)

    def seed_history(self, account: str) -> None:
        """What ``account`` had before the emulator started (once per account; module docstring)."""
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
            self.add_schedule(account, {"reportType": ORDERS_UPDATE, "marketplaceIds": [MARKETS[0].id],
                                        "period": "P1D", "nextReportCreationTime": iso_or_none(
                                            self.data.anchor - timedelta(days=RETENTION_DAYS))})


def store(data: Dataset) -> ReportStore:
    """The report store of a dataset (made on first use; :func:`attach` sets its clock and URL first)."""
    return data.derived("reports", lambda d: ReportStore(d))


def attach(data: Dataset, *, time_scale: float, base_url: str, config: Config) -> ReportStore:
    """Make the dataset's report store with the emulator's time scale, URL and clock (the emulator calls this)."""
    return data.derived("reports", lambda d: ReportStore(d, time_scale=time_scale, base_url=base_url, config=config))


def restricted_document(data: Dataset, account: str, document_id: str) -> bool:
    """Is ``document_id`` the account's document of a restricted report type (an RDT may name it)?"""
    owner = store(data).document_owner(account, document_id)
    return owner is not None and owner.kind.restricted
