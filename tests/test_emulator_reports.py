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
from jsonschema import Draft7Validator
from test_emulator_schema import check, models  # noqa: F401 - fixtures

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Emulator, start
from sqlspapi.emulator.reports import SPECS
from sqlspapi.emulator.reports_files import Quirks

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

    def call(self, method: str, template: str, path: str | None = None, **kw) -> requests.Response:
        r = requests.request(method, self.emu.url + B + (path or template), headers=self.headers, timeout=10, **kw)
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

    def document(self, document_id: str, **params) -> dict:
        r = self.call("GET", "/documents/{reportDocumentId}", f"/documents/{document_id}", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def finished(self, report_id: str) -> dict:
        self.emu.advance_clock(sum(self.emu.reports.timing))
        return self.report(report_id)

    def file(self, report_type: str, marketplaces: list[str], **extra) -> tuple[requests.Response, dict]:
        """Create a report, let it finish, download its document: (download, getReportDocument answer)."""
        report = self.finished(self.create(report_type, marketplaces, **extra))
        assert report["processingStatus"] == "DONE", report
        doc = self.document(report["reportDocumentId"])
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
    for spec in SPECS:
        raw = sm.operation(model, spec.method, spec.path)
        assert raw["operationId"] == spec.name
        assert (spec.rate, spec.burst) == sm.usage_plan(raw) == (emu.usage_plans[spec.name].rate,
                                                                 emu.usage_plans[spec.name].burst)
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
    ("FATAL_NO_DOCUMENT", "FATAL", False), ("CANCELLED", "CANCELLED", False),
    ("DONE_NO_DOCUMENT", "DONE", False), ("DONE", "DONE", True)])
def test_configured_outcomes(api, emu, outcome, status, has_document) -> None:
    emu.report_outcome_next(LISTINGS, outcome)
    report = api.finished(api.create(LISTINGS, [US]))
    assert report["processingStatus"] == status
    assert ("reportDocumentId" in report) == has_document


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


def test_schedules(api) -> None:
    spec = {"reportType": MYI, "marketplaceIds": [US], "period": "P1D"}
    r = api.call("POST", "/schedules", json=spec)
    assert r.status_code == 201, r.text
    sid = r.json()["reportScheduleId"]
    got = api.call("GET", "/schedules/{reportScheduleId}", f"/schedules/{sid}").json()
    assert (got["reportType"], got["period"], got["marketplaceIds"]) == (MYI, "P1D", [US])
    replaced = api.call("POST", "/schedules", json={**spec, "period": "PT4H"}).json()["reportScheduleId"]
    listed = api.call("GET", "/schedules", params={"reportTypes": MYI}).json()["reportSchedules"]
    assert [(s["reportScheduleId"], s["period"]) for s in listed] == [(replaced, "PT4H")]
    assert api.call("GET", "/schedules/{reportScheduleId}", f"/schedules/{sid}").status_code == 404
    _bad(api.call("POST", "/schedules", json={**spec, "period": "P2W"}), "period")
    _bad(api.call("GET", "/schedules"), "reportTypes")
    assert api.call("DELETE", "/schedules/{reportScheduleId}", f"/schedules/{replaced}").status_code == 200
    assert api.call("GET", "/schedules", params={"reportTypes": MYI}).json()["reportSchedules"] == []


# -- a report and the API agree: Emulator.export gives every row the API returns (test_emulator_apis checks that) ---
def _in_december(stamp: str) -> bool:
    return DEC["dataStartTime"] <= stamp <= DEC["dataEndTime"]


def test_order_report_rows_equal_the_api_orders(api, emu) -> None:
    got, _ = api.file(ORDERS, [US, DE], **DEC)
    rows = _tsv(gzip.decompress(got.content))
    report = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    orders = {o["AmazonOrderId"]: o for o, query, _ in emu.export("getOrders", "v0")
              if query["MarketplaceIds"][0] in (US, DE) and _in_december(o["LastUpdateDate"])}
    api_rows = [(path["orderId"], orders[path["orderId"]]["OrderStatus"], i["SellerSKU"], i["ASIN"],
                 str(i["QuantityOrdered"]), i.get("ItemPrice", {}).get("Amount", ""), i["Title"])
                for i, _, path in emu.export("getOrderItems") if path["orderId"] in orders]
    assert len(orders) > 10
    assert sorted(api_rows) == sorted((r["amazon-order-id"], r["order-status"], r["sku"], r["asin"], r["quantity"],
                                       r["item-price"], r["product-name"]) for r in report)
    assert {r["purchase-date"] for r in report} == {orders[r["amazon-order-id"]]["PurchaseDate"].replace(
        "Z", "+00:00") for r in report}


def test_fba_inventory_report_equals_the_api(api, emu) -> None:
    rows = _tsv(api.file(MYI, [US])[0].content)
    report = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    summaries = [s for s, query, _ in emu.export("getInventorySummaries") if query["marketplaceIds"] == [US]]
    assert {s["sellerSku"]: (s["fnSku"], str(s["totalQuantity"]), str(s["inventoryDetails"]["fulfillableQuantity"]))
            for s in summaries} == {sku: (r["fnsku"], r["afn-total-quantity"], r["afn-fulfillable-quantity"])
                                    for sku, r in report.items()}


def test_sales_and_traffic_report_follows_its_schema_and_the_sales_api(api, models_dir) -> None:
    got, doc = api.file("GET_SALES_AND_TRAFFIC_REPORT", [US], dataStartTime="2025-12-01T00:00:00Z",
                         dataEndTime="2025-12-30T00:00:00Z", reportOptions={"asinGranularity": "SKU"})
    assert doc["compressionAlgorithm"] == "GZIP"
    body = json.loads(gzip.decompress(got.content))
    schema = json.loads((models_dir / "schemas/reports/sellerSalesAndTrafficReport.json").read_text(encoding="utf-8"))
    errors = list(Draft7Validator(schema).iter_errors(body))
    assert not errors, [e.message for e in errors[:5]]
    assert len(body["salesAndTrafficByDate"]) == 30
    metrics = requests.get(api.emu.url + "/sales/v1/orderMetrics", headers=api.headers, timeout=10, params={
        "marketplaceIds": US, "interval": "2025-12-01T00:00:00Z--2025-12-31T00:00:00Z", "granularity": "Total",
        "granularityTimeZone": "UTC"}).json()["payload"][0]
    assert sum(d["salesByDate"]["unitsOrdered"] for d in body["salesAndTrafficByDate"]) == metrics["unitCount"]
    assert sum(a["salesByAsin"]["unitsOrdered"] for a in body["salesAndTrafficByAsin"]) == metrics["unitCount"]


def test_an_account_starts_with_a_history(api) -> None:
    listed = api.call("GET", "/reports", params={"reportTypes": LISTINGS, "processingStatuses": "DONE",
                                                 "createdSince": "2025-12-01T00:00:00Z",
                                                 "createdUntil": "2026-01-01T00:00:00Z"}).json()["reports"]
    assert sorted(m for r in listed for m in r["marketplaceIds"]) == sorted([US, "A2EUQ1WTGCTBG2", DE, UK, JP])
    schedules = api.call("GET", "/schedules", params={"reportTypes": ORDERS}).json()["reportSchedules"]
    assert [(s["period"], s["marketplaceIds"]) for s in schedules] == [("P1D", [US])]
