"""Restricted report types and registered documents in the emulator, over real HTTP.

getReportDocument of a restricted report's document (GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING,
GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL …) answers 403 Unauthorized to a plain LWA token and 200 to a Restricted
Data Token naming that document; the Tokens API refuses the generic ``{reportDocumentId}`` path and documents that
are not restricted. ``ReportStore.put_document`` registers a DONE report whose document is served byte for byte.
Every JSON answer validates against Amazon's model."""

from __future__ import annotations

import gzip

import pytest
import requests
from test_emulator_reports import DEC, LISTINGS, US, Api, _fresh, _tsv, emu  # noqa: F401 - fixtures
from test_emulator_schema import check, models  # noqa: F401 - fixtures

from sqlspapi.emulator.reports_files import ACTIONABLE_ORDERS, FBA_SHIPMENTS, RESTRICTED_TYPES
from sqlspapi.emulator.reports_kinds import KINDS
from sqlspapi.emulator.reports_orders import ACTIONABLE_COLUMNS, FBA_SHIPMENT_COLUMNS
from sqlspapi.emulator.reports_store import DEMO_ACCOUNT

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
DENIED = {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
UNSUPPORTED = {"code": "InvalidInput", "message": "Invalid or unsupported document ID found", "details": ""}


@pytest.fixture(scope="module")
def api(emu, check):  # noqa: F811 - the imported fixture
    return Api(emu, check)


def _rdt(api: Api, *paths: str, **extra) -> requests.Response:
    resources = [{"method": "GET", "path": p, **extra} for p in paths]
    return requests.post(api.emu.url + TOKENS, json={"restrictedResources": resources}, headers=api.headers,
                         timeout=10)


def _document_path(doc_id: str) -> str:
    return f"/reports/2021-06-30/documents/{doc_id}"


def _get_document(api: Api, doc_id: str, token: str | None = None) -> requests.Response:
    return api.call("GET", "/documents/{reportDocumentId}", f"/documents/{doc_id}", token=token)


def _done(api: Api, report_type: str) -> str:
    report = api.finished(api.create(report_type, [US], **DEC))
    assert report["processingStatus"] == "DONE", report
    return report["reportDocumentId"]


def test_the_restricted_types() -> None:
    assert {ACTIONABLE_ORDERS, FBA_SHIPMENTS, "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING"} <= RESTRICTED_TYPES
    assert {name for name, kind in KINDS.items() if kind.restricted} == {ACTIONABLE_ORDERS, FBA_SHIPMENTS}


@pytest.mark.parametrize("report_type, columns", [(ACTIONABLE_ORDERS, ACTIONABLE_COLUMNS),
                                                  (FBA_SHIPMENTS, FBA_SHIPMENT_COLUMNS)])
def test_restricted_documents_need_an_rdt_naming_them(api, report_type, columns) -> None:
    doc_id = _done(api, report_type)
    plain = _get_document(api, doc_id)
    assert plain.status_code == 403 and plain.json()["errors"] == [DENIED]
    r = _rdt(api, _document_path(doc_id))
    assert r.status_code == 200, r.text
    rdt = r.json()["restrictedDataToken"]
    got = _get_document(api, doc_id, rdt)
    assert got.status_code == 200 and got.json()["reportDocumentId"] == doc_id
    download = requests.get(got.json()["url"], timeout=10)
    rows = _tsv(download.content)
    assert rows[0] == list(columns) and len(rows) > 1 and {len(row) for row in rows} == {len(columns)}
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["buyer-name"] and first["recipient-name"] and first["ship-address-1"]
    other = _done(api, FBA_SHIPMENTS if report_type == ACTIONABLE_ORDERS else ACTIONABLE_ORDERS)
    assert _get_document(api, other, rdt).status_code == 403  # the RDT names one document
    assert api.call("GET", "/reports", token=rdt, params={"reportTypes": report_type}).status_code == 403


def test_the_tokens_api_refuses_documents_it_cannot_restrict(api) -> None:
    listing = api.finished(api.create(LISTINGS, [US]))["reportDocumentId"]
    restricted = _done(api, FBA_SHIPMENTS)
    for path in (_document_path("{reportDocumentId}"), _document_path(listing), _document_path("amzn1.spdoc.x"),
                 "/reports/2021-06-30/reports"):
        r = _rdt(api, path)
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput", (path, r.text)
    assert _rdt(api, _document_path(listing)).json()["errors"] == [UNSUPPORTED]
    assert _rdt(api, _document_path(restricted), dataElements=["buyerInfo"]).status_code == 400
    assert _get_document(api, listing).status_code == 200  # plain LWA for the other documents


def test_put_document_serves_the_given_bytes(api) -> None:
    rows = b"".join(b"SKU-%07d\tB0%08d\t%d.99\t%d\n" % (n, n, n % 90, n % 7) for n in range(100_000))
    data = gzip.compress(b"sku\tasin\tprice\tquantity\n" + rows, compresslevel=1)
    rid = api.emu.reports.put_document(DEMO_ACCOUNT, "GET_FLAT_FILE_OPEN_LISTINGS_DATA", US, data,
                                       "text/plain;charset=UTF-8", "GZIP")
    report = api.report(rid)
    assert report["processingStatus"] == "DONE" and report["marketplaceIds"] == [US]
    listed = api.call("GET", "/reports", params={"reportTypes": "GET_FLAT_FILE_OPEN_LISTINGS_DATA"}).json()
    assert rid in [r["reportId"] for r in listed["reports"]]
    doc = api.document(report["reportDocumentId"])
    assert doc["compressionAlgorithm"] == "GZIP"
    got = requests.get(doc["url"], timeout=30)
    assert got.content == data and got.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert int(got.headers["Content-Length"]) == len(data)


def test_put_document_of_other_types(api) -> None:
    store = api.emu.reports
    other = store.put_document(DEMO_ACCOUNT, "GET_XML_BROWSE_TREE_DATA", US, b"<x/>", "text/xml;charset=UTF-8")
    report = api.report(other)
    assert report["reportType"] == "GET_XML_BROWSE_TREE_DATA" and report["processingStatus"] == "DONE"
    doc = api.document(report["reportDocumentId"])
    assert "compressionAlgorithm" not in doc and requests.get(doc["url"], timeout=10).content == b"<x/>"
    secret = store.put_document(DEMO_ACCOUNT, "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING", US, b"order-id\n",
                                "text/plain;charset=UTF-8", None)
    doc_id = api.report(secret)["reportDocumentId"]
    assert _get_document(api, doc_id).status_code == 403
    assert _get_document(api, doc_id, _rdt(api, _document_path(doc_id)).json()["restrictedDataToken"]).ok
    with pytest.raises(ValueError, match="compression"):
        store.put_document(DEMO_ACCOUNT, LISTINGS, US, b"", "text/plain", "ZIP")
