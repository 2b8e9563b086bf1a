"""What a report (or Data Kiosk query) job is to the lifecycle: the operations an API declares and where its answers
keep a job's facts, the request that names a job, and the finished job.

:class:`ReportOps` names an asynchronous-document API's operations and :class:`JobFields` where its answers keep the
job id, the status and the documents (:data:`REPORT_FIELDS`: the Reports API's); a :class:`JobRequest` is one job to
obtain (:class:`ReportRequest` for the Reports API; the ``document`` route, :mod:`sqlspapi.sql.routes.document`, has
its own for Data Kiosk); :class:`Begun` is a job started or found, :class:`Report` a finished one.
:mod:`sqlspapi.reports.lifecycle` runs the lifecycle over them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlspapi.definitions.schema import OperationSpec

#: First wait between getReport polls, in Amazon seconds (then ×1.5 per poll, up to
#: :data:`sqlspapi.reports.lifecycle.POLL_MAX`).
POLL_FIRST = 5.0
#: Reports getReports may list: the ones worth reusing.
REUSABLE = ("IN_QUEUE", "IN_PROGRESS", "DONE")


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
            if asked is not None and parse_instant(asked) != parse_instant(meta.get(key)):
                return False
        return True

    def listing(self, since: datetime) -> dict[str, Any] | None:
        """getReports' query for reusable reports of this type and marketplace (None with reportOptions:
        getReports does not show a report's options)."""
        if self.options:
            return None
        return {"reportTypes": [self.report_type], "processingStatuses": list(REUSABLE),
                "marketplaceIds": self.marketplaces, "createdSince": iso_utc(since), "pageSize": 100}


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


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC to the second (``2026-01-31T00:00:00Z``), as Amazon's list queries take it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
