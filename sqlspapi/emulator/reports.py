"""Reports API 2021-06-30 in the emulator: the report operations, the document download and the endpoints.

The pieces: :mod:`~sqlspapi.emulator.reports_store` (reports, schedules and documents over scaled Amazon time: the
lifecycle, outcomes, schedules that create reports, the account history, ``put_document``),
:mod:`~sqlspapi.emulator.reports_checks` (request checks), :mod:`~sqlspapi.emulator.reports_schedules` (the schedule
operations), :mod:`~sqlspapi.emulator.reports_kinds` (the catalogue of report types) and
:mod:`~sqlspapi.emulator.reports_files` (what the files hold and their real-world quirks).

createReport checks the request and builds the file at once; cancelReport cancels IN_QUEUE reports only.
getReports filters by reportTypes, processingStatuses, marketplaceIds, createdSince/Until (default: the last 90
days), newest first, ``pageSize`` per page; its ``nextToken`` carries the filters and must be sent alone (with any
other parameter: 400). getReports and getReport first let the account's schedules make their due reports.

getReportDocument answers a presigned-style URL on this emulator under :data:`DOWNLOAD_PREFIX`. The document of a
restricted report type (:data:`~sqlspapi.emulator.reports_files.RESTRICTED_TYPES`) wants a Restricted Data Token
whose restrictedResources name ``GET /reports/2021-06-30/documents/<that reportDocumentId>`` (the Tokens API refuses
the generic ``{reportDocumentId}`` path and documents that are not restricted, with Amazon's "Invalid or unsupported
document ID found"); a plain LWA token gets 403 Unauthorized "Access to requested resource is denied.". The download
(:func:`download`) rejects SP-API auth headers (``x-amz-access-token``, ``Authorization``) with 400 as S3 does,
answers 403 once the URL is 5 minutes old (Amazon seconds) or was never issued, and sends the stored bytes as they
are, written once, with the file's ``Content-Type`` (``text/plain;charset=Cp1252`` …);
``enableContentEncodingUrlHeader=true`` adds ``Content-Encoding: gzip`` to GZIP documents.

Report ids are per seller account (``Grant.account``). The operations' usage plans come from
``vtables/reports-2021-06-30.toml``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.emulator.common import (
    ApiError,
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
from sqlspapi.emulator.lwa import DENIED
from sqlspapi.emulator.reports_checks import account_store, body, data_window, marketplaces, options, report_kind
from sqlspapi.emulator.reports_files import Window
from sqlspapi.emulator.reports_schedules import (
    cancel_report_schedule,
    create_report_schedule,
    get_report_schedule,
    get_report_schedules,
)
from sqlspapi.emulator.reports_store import OUTCOMES, Issued, Report, ReportStore, attach, store

SECTION, VERSION = "reports", "2021-06-30"
#: Path prefix of the document downloads (the presigned-style URLs).
DOWNLOAD_PREFIX = "/report-documents"
#: The call-log name of a document download.
DOWNLOAD_OPERATION = "reportDocumentDownload"
#: Seconds (Amazon time) a document URL stays valid.
URL_LIFETIME = 300.0
#: Issued URLs kept before the expired ones are dropped.
ISSUED_KEPT = 1000
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
AUTH_HEADERS = ("x-amz-access-token", "Authorization")
#: Empty: every Reports operation is defined in ``vtables/reports-2021-06-30.toml``. Kept while
#: ``Emulator.__init__`` still passes it to ``build_routes`` with :data:`sqlspapi.emulator.routes.PROVISIONAL`.
SPECS: tuple[OperationSpec, ...] = ()

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


def _store(req: Request) -> ReportStore:
    """The store with the caller's history, its schedules run up to now."""
    st = account_store(req)
    st.run_schedules(req.grant.account)
    return st


def create_report(req: Request) -> Response:
    """POST /reports/2021-06-30/reports → 202 ``{"reportId"}``."""
    st = account_store(req)
    request = body(req)
    kind = report_kind(request.get("reportType"))
    markets = marketplaces(request.get("marketplaceIds"), kind)
    chosen = options(request.get("reportOptions"), kind)
    start, end = data_window(request, kind, st.wall())
    report = st.create(req.grant.account, kind, Window(markets, start, end, chosen))
    return Response(202, {"reportId": report.report_id})


def get_report(req: Request) -> Response:
    """GET /reports/2021-06-30/reports/{reportId}."""
    st = _store(req)
    return Response(200, st.find(req.grant.account, req.path_args["reportId"]).render(st.clock()))


def cancel_report(req: Request) -> Response:
    """DELETE /reports/2021-06-30/reports/{reportId}: only IN_QUEUE reports can be cancelled."""
    st = account_store(req)
    with st._lock:
        report = st.find(req.grant.account, req.path_args["reportId"])
        now = st.clock()
        status = report.status(now)
        if status != "IN_QUEUE":
            raise invalid(f"Report {report.report_id} is {status}: only reports with processingStatus=IN_QUEUE "
                          "can be cancelled.")
        report.cancelled = now
    return Response(200, RawAnswer(b""))


def _report_filters(req: Request, st: ReportStore) -> tuple[dict[str, Any], int]:
    """getReports' filters and offset: from the nextToken (sent alone), else from the query."""
    token = req.query.get("nextToken")
    if token:
        others = sorted(k for k in req.query if k != "nextToken")
        if others:
            raise invalid(f"Invalid nextToken: nextToken must be the only parameter; remove {', '.join(others)}.")
        state = decode_token(token, "nextToken")
        if state.get("k") != "reports":
            raise invalid("Invalid nextToken: the token does not belong to this operation.")
        return state["f"], int(state["o"])
    p = req.params
    if not p["reportTypes"]:
        raise invalid("Invalid request: either reportTypes or nextToken is required.")
    now = st.wall()
    since = p["createdSince"] or now - timedelta(days=90)
    until = p["createdUntil"] or now
    return {"types": p["reportTypes"], "statuses": p["processingStatuses"], "mps": p["marketplaceIds"],
            "since": iso_or_none(since), "until": iso_or_none(until), "size": p["pageSize"]}, 0


def get_reports(req: Request) -> Response:
    """GET /reports/2021-06-30/reports (nextToken alone, or reportTypes)."""
    st = _store(req)
    filters, start = _report_filters(req, st)
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
    size = int(filters["size"])
    answer: dict[str, Any] = {"reports": found[start:start + size]}
    if start + size < len(found):
        answer["nextToken"] = encode_token({"k": "reports", "o": start + size, "f": filters})
    return Response(200, answer)


def get_report_document(req: Request) -> Response:
    """GET /reports/2021-06-30/documents/{reportDocumentId} → a URL valid for 5 minutes (restricted types: with
    an RDT naming the document only)."""
    st = account_store(req)
    doc_id = req.path_args["reportDocumentId"]
    owner = st.document_owner(req.grant.account, doc_id)
    if owner is None:
        raise not_found(f"Report document {doc_id} was not found.")
    if owner.kind.restricted and req.rdt_elements is None:
        raise ApiError(403, "Unauthorized", DENIED, "")
    with st._lock:
        doc = st.documents[doc_id]
        now = st.clock()
        if len(st.issued) >= ISSUED_KEPT:
            st.issued = {k: v for k, v in st.issued.items() if now - v.stamp <= URL_LIFETIME}
        signature = hashlib.sha256(f"{doc_id}-{now}-{len(st.issued)}".encode()).hexdigest()
        encoding = bool(req.params["enableContentEncodingUrlHeader"]) and doc.compression == "GZIP"
        st.issued[signature] = Issued(doc_id, now, encoding)
    url = (f"{st.base_url}{DOWNLOAD_PREFIX}/{doc_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Expires={int(URL_LIFETIME)}&X-Amz-Signature={signature}")
    out: dict[str, Any] = {"reportDocumentId": doc_id, "url": url}
    if doc.compression:
        out["compressionAlgorithm"] = doc.compression
    return Response(200, out)


# -- the download -----------------------------------------------------------------------------------------------
def _s3_error(status: int, code: str, message: str) -> tuple[int, RawAnswer, dict[str, str]]:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
           "</Error>").encode()
    return status, RawAnswer(xml, content_type="application/xml"), {}


def download(data: Dataset, method: str, path: str, query: Mapping[str, str],
             headers: Any) -> tuple[int, RawAnswer, dict[str, str]]:
    """Answer a request for a document URL: (status, body, extra headers), as S3 answers presigned URLs. The body
    is the stored document's bytes object itself (the server writes it once, uncopied)."""
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
