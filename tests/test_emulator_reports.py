"""The emulator's Reports API 2021-06-30 over real HTTP: the lifecycle over scaled time, getReports' nextToken rule,
schedules, the presigned-style download (auth headers rejected, 5-minute expiry, GZIP) and report files that agree
with the API and carry Amazon's real-world quirks (charsets, local dates, ragged rows, header drift, decimal commas).
Every JSON answer validates against Amazon's model (the ``check`` fixture of ``test_emulator_schema``)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, datetime

import pytest
import requests
import spapi_models as sm
from test_emulator_schema import check, models  # noqa: F401 - fixtures

from sqlspapi.documents.headers import column_names
from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Emulator, start
from sqlspapi.emulator.reports_files import RESTRICTED_TYPES, Quirks
from sqlspapi.emulator.reports_listings import LISTING_COLUMNS

MODEL = "reports-2021-06-30.json"
B = "/reports/2021-06-30"
US, DE, UK, JP = "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
MYI = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
DEC = {"dataStartTime": "2025-12-01T00:00:00Z", "dataEndTime": "2025-12-31T00:00:00Z"}
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def _token(emu: Emulator) -> str:
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
    return r.json()["access_token"]


class Api:
    """A small Reports client for one emulator: every JSON answer is checked against the model."""

    def __init__(self, emu: Emulator, validate) -> None:
        self.emu, self.check, self.headers = emu, validate, {"x-amz-access-token": _token(emu)}

    def call(self, method: str, template: str, path: str | None = None, *, token: str | None = None,
             **kw) -> requests.Response:
        """One request (``token``: another access token, e.g. an RDT), its answer checked against the model."""
        headers = {"x-amz-access-token": token} if token else self.headers
        r = requests.request(method, self.emu.url + B + (path or template), headers=headers, timeout=10, **kw)
        if r.content:
            self.check(MODEL, method, B + template, r)
        return r

    def create(self, report_type: str, marketplaces: list[str], **extra) -> str:
        r = self.call("POST", "/reports", json={"reportType": report_type, "marketplaceIds": marketplaces, **extra})
        assert r.status_code == 202, r.text
        return r.json()["reportId"]

    def report(self, report_id: str) -> dict:
        r = self.call("GET", "/reports/{reportId}", f"/reports/{report_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def document(self, document_id: str, token: str | None = None, **params) -> dict:
        r = self.call("GET", "/documents/{reportDocumentId}", f"/documents/{document_id}", token=token,
                      params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def rdt(self, *resources: dict) -> str:
        """A Restricted Data Token for ``resources`` ({method, path, dataElements})."""
        r = requests.post(self.emu.url + "/tokens/2021-03-01/restrictedDataToken", timeout=10,
                          json={"restrictedResources": list(resources)}, headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()["restrictedDataToken"]

    def finished(self, report_id: str) -> dict:
        self.emu.advance_clock(sum(self.emu.reports.timing))
        return self.report(report_id)

    def file(self, report_type: str, marketplaces: list[str], **extra) -> tuple[requests.Response, dict]:
        """Create a report, let it finish, download its document (with an RDT naming it for restricted types):
        (download, getReportDocument answer)."""
        report = self.finished(self.create(report_type, marketplaces, **extra))
        assert report["processingStatus"] == "DONE", report
        doc_id = report["reportDocumentId"]
        restricted = report_type in RESTRICTED_TYPES
        doc = self.document(doc_id, self.rdt({"method": "GET", "path": f"{B}/documents/{doc_id}"}) if restricted
                            else None)
        got = requests.get(doc["url"], timeout=10)
        assert got.status_code == 200, got.text
        return got, doc


def _bad(r: requests.Response, *words: str) -> None:
    assert r.status_code == 400, r.text
    message = r.json()["errors"][0]["message"]
    assert all(w in message for w in words), message


def _tsv(data: bytes, codec: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(codec)), delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture(scope="module")
def emu():
    with start(orders=400, time_scale=1.0, anchor=ANCHOR) as e:  # reports advance with advance_clock only
        yield e


@pytest.fixture(autouse=True)
def _fresh(emu):
    emu.reset_limits()
    yield
    emu.reports.quirks = Quirks()


@pytest.fixture(scope="module")
def api(emu, check):  # noqa: F811 - the imported fixture
    return Api(emu, check)


def test_usage_plans_equal_the_model(emu, models_dir) -> None:
    model = sm.load(models_dir, MODEL)
    operations = [op for methods in model["paths"].values() for op in methods.values() if "operationId" in op]
    assert len(operations) == 9
    for op in operations:
        plan = emu.usage_plans[op["operationId"]]
        assert (plan.rate, plan.burst) == sm.usage_plan(op), op["operationId"]
    assert emu.rate_limit_header("createReport") == "0.0167"


def test_lifecycle_over_scaled_time(api, emu) -> None:
    rid = api.create(LISTINGS, [US])
    first = api.report(rid)
    assert first["processingStatus"] == "IN_QUEUE" and "reportDocumentId" not in first
    queue, processing = emu.reports.timing
    emu.advance_clock(queue)
    assert api.report(rid)["processingStatus"] == "IN_PROGRESS"
    emu.advance_clock(processing)
    done = api.report(rid)
    assert done["processingStatus"] == "DONE" and done["reportDocumentId"].startswith("amzn1.spdoc.")
    assert done["createdTime"] <= done["processingStartTime"] <= done["processingEndTime"]
    _bad(api.call("DELETE", "/reports/{reportId}", f"/reports/{rid}"), "IN_QUEUE")
    assert api.call("GET", "/reports/{reportId}", "/reports/50000000000").status_code == 404


def test_cancel_in_queue(api) -> None:
    rid = api.create(LISTINGS, [US])
    r = api.call("DELETE", "/reports/{reportId}", f"/reports/{rid}")
    assert r.status_code == 200 and r.content == b""
    cancelled = api.finished(rid)
    assert cancelled["processingStatus"] == "CANCELLED" and "reportDocumentId" not in cancelled


@pytest.mark.parametrize("body, words", [
    ({"reportType": "GET_NO_SUCH_REPORT", "marketplaceIds": [US]}, ["reportType", "GET_NO_SUCH_REPORT"]),
    ({"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "marketplaceIds": [US]}, ["cannot be requested"]),
    ({"reportType": LISTINGS, "marketplaceIds": ["XX"]}, ["marketplaceIds"]),
    ({"reportType": LISTINGS, "marketplaceIds": [US, DE]}, ["only one marketplace"]),
    ({"reportType": LISTINGS}, ["marketplaceIds"]),
    ({"reportType": ORDERS, "marketplaceIds": [US], "dataStartTime": "2025-11-01T00:00:00Z",
      "dataEndTime": "2025-12-02T00:00:00Z"}, ["30 days"]),
    ({"reportType": ORDERS, "marketplaceIds": [US], "dataStartTime": "2099-01-01T00:00:00Z"}, ["dataStartTime"]),
    ({"reportType": ORDERS, "marketplaceIds": [US], "dataStartTime": "2020-01-01T00:00:00Z",
      "dataEndTime": "2020-01-02T00:00:00Z"}, ["730 days"]),
    ({"reportType": LISTINGS, "marketplaceIds": [US], "reportOptions": {"custom": True}}, ["reportOptions"]),
    ({"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [US],
      "reportOptions": {"dateGranularity": "YEAR"}}, ["dateGranularity"]),
])
def test_create_report_validates(api, body, words) -> None:
    _bad(api.call("POST", "/reports", json=body), *words)


def test_get_reports_filters_and_the_next_token_alone(api, emu) -> None:
    ids = {api.create("GET_FLAT_FILE_OPEN_LISTINGS_DATA", [mp]) for mp in (US, DE, UK, JP)}
    query = {"reportTypes": "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "pageSize": 3}
    page = api.call("GET", "/reports", params=query).json()
    seen = [r["reportId"] for r in page["reports"]]
    assert len(seen) == 3 and page["nextToken"]
    _bad(api.call("GET", "/reports", params={**query, "nextToken": page["nextToken"]}), "nextToken", "only")
    last = api.call("GET", "/reports", params={"nextToken": page["nextToken"]}).json()
    seen += [r["reportId"] for r in last["reports"]]
    assert set(seen) == ids and len(seen) == 4 and "nextToken" not in last
    one = api.call("GET", "/reports", params={"reportTypes": "GET_FLAT_FILE_OPEN_LISTINGS_DATA",
                                              "marketplaceIds": JP}).json()["reports"]
    assert [r["marketplaceIds"] for r in one] == [[JP]]
    emu.advance_clock(sum(emu.reports.timing))
    done = api.call("GET", "/reports", params={**query, "processingStatuses": "DONE", "pageSize": 10}).json()
    assert {r["reportId"] for r in done["reports"]} == ids
    assert api.call("GET", "/reports", params={**query, "processingStatuses": "IN_QUEUE"}).json()["reports"] == []
    _bad(api.call("GET", "/reports", params={"pageSize": 5}), "reportTypes")
    _bad(api.call("GET", "/reports", params={"reportTypes": ",".join(f"T{n}" for n in range(11))}), "10")
    _bad(api.call("GET", "/reports", params={**query, "pageSize": 101}), "pageSize")


@pytest.mark.parametrize("outcome, status, has_document", [
    ("FATAL", "FATAL", True), ("FATAL_NO_DOCUMENT", "FATAL", False), ("CANCELLED", "CANCELLED", False),
    ("DONE_NO_DOCUMENT", "DONE", False), ("DONE", "DONE", True)])
def test_configured_outcomes(api, emu, outcome, status, has_document) -> None:
    emu.report_outcome_next(LISTINGS, outcome)
    rid = api.create(LISTINGS, [US])
    report = api.finished(rid)
    assert report["processingStatus"] == status and report["processingEndTime"]
    assert ("reportDocumentId" in report) == has_document  # no key at all (not null) when there is no document
    listed = api.call("GET", "/reports", params={"reportTypes": LISTINGS, "processingStatuses": status,
                                                 "pageSize": 100}).json()["reports"]
    assert [r for r in listed if r["reportId"] == rid] == [report]


def test_fatal_has_an_error_document_that_says_why(api, emu) -> None:
    emu.report_outcome_next(ORDERS, "FATAL", reason="Report data not available for the requested date range.")
    report = api.finished(api.create(ORDERS, [US], **DEC))
    assert report["processingStatus"] == "FATAL"
    got = requests.get(api.document(report["reportDocumentId"])["url"], timeout=10)
    assert json.loads(got.content) == {"errorDetails": "Report data not available for the requested date range."}
    with pytest.raises(ValueError):
        emu.report_outcome_next(ORDERS, "LOST")


def test_a_window_without_orders_is_cancelled(api) -> None:
    report = api.finished(api.create(ORDERS, [US], dataStartTime="2026-06-01T00:00:00Z",
                                     dataEndTime="2026-06-02T00:00:00Z"))
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report


def test_download_rejects_auth_headers_and_expires(api, emu) -> None:
    got, doc = api.file(LISTINGS, [US])
    for header in ({"x-amz-access-token": api.headers["x-amz-access-token"]}, {"Authorization": "Bearer x"}):
        r = requests.get(doc["url"], headers=header, timeout=10)
        assert r.status_code == 400 and b"InvalidArgument" in r.content
    assert requests.get(doc["url"].replace("Signature=", "Signature=0"), timeout=10).status_code == 403
    emu.advance_clock(299)
    assert requests.get(doc["url"], timeout=10).content == got.content
    emu.advance_clock(2)
    expired = requests.get(doc["url"], timeout=10)
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    fresh = api.document(doc["reportDocumentId"])
    assert requests.get(fresh["url"], timeout=10).content == got.content
    assert emu.calls.count("reportDocumentDownload", 400) == 2 and emu.calls.count("reportDocumentDownload", 403) == 2


def test_gzip_by_label_and_content_encoding(api, emu) -> None:
    got, doc = api.file(ORDERS, [US], **DEC)
    assert doc["compressionAlgorithm"] == "GZIP" and got.content[:2] == b"\x1f\x8b"
    assert "Content-Encoding" not in got.headers
    plain = gzip.decompress(got.content)
    encoded = api.document(doc["reportDocumentId"], enableContentEncodingUrlHeader="true")
    r = requests.get(encoded["url"], timeout=10)
    assert r.headers["Content-Encoding"] == "gzip" and r.content == plain  # requests decompressed it once
    listing_doc = api.file(LISTINGS, [US])[1]
    assert "compressionAlgorithm" not in listing_doc
    emu.reports.quirks.not_gzip = True
    lying, doc = api.file(ORDERS, [US], **DEC)
    assert doc["compressionAlgorithm"] == "GZIP" and lying.content == plain


def test_jp_listings_are_cp932_with_cp932_only_characters(api, emu) -> None:
    got, _ = api.file(LISTINGS, [JP])
    assert got.headers["Content-Type"] == "text/plain;charset=Windows-31J"
    with pytest.raises(UnicodeDecodeError):
        got.content.decode("shift_jis")
    rows = _tsv(got.content, "cp932")
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert "①" in first["item-description"] and "髙" in first["item-description"]
    assert first["item-name"] == next(p.titles["ja"] for p in emu.dataset.products if p.sku == first["seller-sku"])
    emu.reports.quirks.charsets = False
    utf8, _ = api.file(LISTINGS, [JP])
    assert utf8.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert utf8.content.decode("utf-8") == got.content.decode("cp932")


def test_eu_listings_are_cp1252_with_question_marks(api) -> None:
    got, _ = api.file(LISTINGS, [DE])
    assert got.headers["Content-Type"] == "text/plain;charset=Cp1252"
    text = got.content.decode("windows-1252")
    assert "Bestseller" in text and "✓" not in text and " ? Bestseller" in text
    assert "Weiß" in text and "Küchenwaage" in text and "–" in text


def _header(data: bytes, codec: str) -> list[str]:
    return data.split(b"\n", 1)[0].decode(codec).split("\t")


def test_localized_headers_of_jp_and_de_listings(api, emu) -> None:
    english = _header(api.file(LISTINGS, [JP])[0].content, "cp932")
    assert english == list(LISTING_COLUMNS)
    emu.reports.quirks.localized_headers = True
    jp = _header(api.file(LISTINGS, [JP])[0].content, "cp932")
    assert jp[:6] == ["商品名", "item-description", "出品ID", "出品者SKU", "価格", "数量"]
    assert {"出品日", "商品IDタイプ", "商品ID", "フルフィルメント・チャンネル", "ステータス", "ASIN 1"} <= set(jp)
    de = _header(api.file(LISTINGS, [DE])[0].content, "windows-1252")
    assert {"Händler-SKU", "Produkt-ID", "ASIN 1", "item-name", "price"} <= set(de) and "seller-sku" not in de
    assert column_names(jp) == column_names(de) == column_names(english)  # the reader maps them back
    assert _header(api.file("GET_FLAT_FILE_OPEN_LISTINGS_DATA", [JP])[0].content, "cp932") == [
        "sku", "asin", "価格", "数量"]
    assert _header(api.file(LISTINGS, [US])[0].content, "utf-8") == english
    assert _header(api.file(MYI, [JP])[0].content, "cp932")[:3] == ["sku", "fnsku", "asin"]


def test_local_dates_ragged_rows_and_header_drift(api, emu) -> None:
    us = _tsv(api.file(LISTINGS, [US])[0].content)
    dates = [dict(zip(us[0], row, strict=True))["open-date"] for row in us[1:]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d P[DS]T", d) for d in dates), dates[:3]
    assert {d[-3:] for d in dates} == {"PDT", "PST"}
    uk = _tsv(api.file(LISTINGS, [UK])[0].content, "windows-1252")
    assert len(uk[0]) == 31 and {len(row) for row in uk[1:]} == {29}
    uk_dates = [row[uk[0].index("open-date")] for row in uk[1:]]
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d (BST|GMT)", d) for d in uk_dates), uk_dates[:3]
    myi = _tsv(api.file(MYI, [US])[0].content)
    assert len(myi[0]) == 21 and "afn-researching-quantity" in myi[0]
    us_orders = _tsv(gzip.decompress(api.file(ORDERS, [US], **DEC)[0].content))
    assert len(us_orders[0]) == 32 and us_orders[0][-1] == "signature-confirmation-recommended"
    emu.reports.quirks = Quirks(ragged_rows=False, header_drift=False, local_dates=False)
    assert len(_tsv(api.file(MYI, [US])[0].content)[0]) == 18
    plain_uk = _tsv(api.file(LISTINGS, [UK])[0].content, "windows-1252")
    assert len(plain_uk[0]) == 29 and plain_uk[1][plain_uk[0].index("open-date")].endswith("+00:00")


def test_settlements_are_listed_not_requested_with_decimal_commas(api) -> None:
    found = api.call("GET", "/reports", params={"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
                                                "marketplaceIds": DE, "createdSince": "2025-01-01T00:00:00Z"}).json()
    assert len(found["reports"]) == 4 and {r["processingStatus"] for r in found["reports"]} == {"DONE"}
    got = requests.get(api.document(found["reports"][0]["reportDocumentId"])["url"], timeout=10)
    rows = _tsv(got.content)
    amounts = [row[rows[0].index("amount")] for row in rows[2:]]
    assert amounts and all(re.fullmatch(r"\d+,\d\d", a) for a in amounts), amounts[:3]
    assert re.fullmatch(r"\d+,\d\d", rows[1][rows[0].index("total-amount")])


def test_an_account_starts_with_a_history(api) -> None:
    listed = api.call("GET", "/reports", params={"reportTypes": LISTINGS, "processingStatuses": "DONE",
                                                 "createdSince": "2025-12-01T00:00:00Z",
                                                 "createdUntil": "2026-01-01T00:00:00Z"}).json()["reports"]
    assert sorted(m for r in listed for m in r["marketplaceIds"]) == sorted([US, "A2EUQ1WTGCTBG2", DE, UK, JP])
    schedules = api.call("GET", "/schedules", params={"reportTypes": ORDERS}).json()["reportSchedules"]
    assert [(s["period"], s["marketplaceIds"]) for s in schedules] == [("P1D", [US])]
