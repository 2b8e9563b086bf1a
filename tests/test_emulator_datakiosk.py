"""The emulator's Data Kiosk API 2023-11-15 over real HTTP: createQuery's rules (8,000 characters, GraphQL, served
datasets, paginationToken), FATAL with an error document for a query the schema refuses, DONE without a document
when there is no data, JSON Lines documents paged by paginationToken, cancelQuery, getQueries' paging, accounts —
every answer checked against Amazon's model, every field it serves against Amazon's GraphQL schemas, and the records
against the other APIs (the Sales API's order metrics, the fees of money.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import spapi_models as sm
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, build_schema

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Emulator, start
from sqlspapi.emulator.datakiosk import KioskStore, store
from sqlspapi.emulator.datakiosk_data import ROOTS, declared_types, schema_for
from sqlspapi.emulator.money import fees_for

MODEL = "data-kiosk-2023-11-15.json"
B = "/dataKiosk/2023-11-15"
US, BR = "ATVPDKIKX0DER", "A2Q3Y263D00KWC"
TODAY = datetime.now(UTC).date()
WEEK_AGO, YESTERDAY = TODAY - timedelta(days=7), TODAY - timedelta(days=1)


def by_date(fields: str, start=WEEK_AGO, end=YESTERDAY, period: str = "DAY", markets=(US,)) -> str:
    """A salesAndTrafficByDate query."""
    mps = ",".join(f'"{m}"' for m in markets)
    return (f'query {{ analytics_salesAndTraffic_2024_04_24 {{ salesAndTrafficByDate(aggregateBy: {period}, '
            f'startDate: "{start}", endDate: "{end}", marketplaceIds: [{mps}]) {{ {fields} }} }} }}')


def economics(fields: str, start=WEEK_AGO, end=YESTERDAY, aggregate: str = "{date: RANGE}") -> str:
    """An economics query of the US marketplace."""
    return (f'query {{ analytics_economics_2024_03_15 {{ economics(aggregateBy: {aggregate}, startDate: "{start}", '
            f'endDate: "{end}", marketplaceIds: ["{US}"]) {{ {fields} }} }} }}')


@pytest.fixture(scope="module")
def emu():
    with start(orders=1500, time_scale=500) as e:  # a document URL lives 0.6 s here
        yield e


@pytest.fixture
def kiosk(emu: Emulator):
    """The emulator's Data Kiosk store, its controls restored after the test."""
    st = store(emu.dataset)
    saved = (st.timing, st.page_size)
    yield st
    st.timing, st.page_size = saved
    st.outcomes.clear()


def _token(emu: Emulator, refresh: str = DEMO_REFRESH_TOKEN) -> str:
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": refresh}, timeout=10)
    return r.json()["access_token"]


class Api:
    """A small Data Kiosk client: every answer with a body is checked against the model."""

    def __init__(self, emu: Emulator, models_dir, refresh: str = DEMO_REFRESH_TOKEN) -> None:
        self.emu, self.models = emu, models_dir
        self.headers = {"x-amz-access-token": _token(emu, refresh)}

    def call(self, method: str, template: str, path: str | None = None, **kw) -> requests.Response:
        r = requests.request(method, self.emu.url + B + (path or template), headers=self.headers, timeout=10, **kw)
        if r.content:
            sm.check_response(self.models, MODEL, method, B + template, r.status_code, r.json())
        return r

    def create(self, query: str, token: str | None = None) -> str:
        r = self.call("POST", "/queries", json={"query": query, **({"paginationToken": token} if token else {})})
        assert r.status_code == 202, r.text
        return r.json()["queryId"]

    def query(self, query_id: str) -> dict:
        r = self.call("GET", "/queries/{queryId}", f"/queries/{query_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def document(self, document_id: str) -> requests.Response:
        r = self.call("GET", "/documents/{documentId}", f"/documents/{document_id}")
        assert r.status_code == 200, r.text
        download = requests.get(r.json()["documentUrl"], timeout=10)
        assert download.status_code == 200
        return download

    def records(self, query: str, token: str | None = None) -> tuple[list[dict], dict]:
        """Run a query to DONE: its records (JSON Lines) and its Query object."""
        meta = self.query(self.create(query, token))
        assert meta["processingStatus"] == "DONE", meta
        if "dataDocumentId" not in meta:
            return [], meta
        download = self.document(meta["dataDocumentId"])
        assert download.headers.get("Content-Encoding") == "gzip"  # requests undid it
        return [json.loads(line) for line in download.text.splitlines() if line], meta


@pytest.fixture
def api(emu, kiosk, models_dir) -> Api:
    emu.reset_limits()
    return Api(emu, models_dir)


# ------------------------------------------------------------------------------------------------- the schemas
@pytest.mark.parametrize("root", ROOTS)
def test_every_served_field_is_amazons(root: str, models_dir) -> None:
    """Each declared type, field, argument and enum value exists in Amazon's schema with the same type."""
    real = build_schema((models_dir / "schemas" / "data-kiosk" / f"{root}.graphql").read_text(encoding="utf-8"))
    ours = schema_for(root)
    assert str(ours.query_type.fields[root].type) == str(real.query_type.fields[root].type)
    for name in declared_types(root):
        mine, theirs = ours.type_map[name], real.type_map.get(name)
        assert theirs is not None and type(mine) is type(theirs), name
        if isinstance(mine, GraphQLEnumType):
            assert set(mine.values) <= set(theirs.values), name
            continue
        assert isinstance(mine, GraphQLObjectType | GraphQLInputObjectType) and isinstance(theirs, type(mine))
        for field, spec in mine.fields.items():
            assert field in theirs.fields, f"{name}.{field}"
            assert str(spec.type) == str(theirs.fields[field].type), f"{name}.{field}"
            args = getattr(spec, "args", {})
            assert {a: str(t.type) for a, t in args.items()} == \
                {a: str(t.type) for a, t in getattr(theirs.fields[field], "args", {}).items()}, f"{name}.{field}"
        if isinstance(mine, GraphQLObjectType) and name not in (root, "Query") and not name.startswith("Analytics"):
            assert set(mine.fields) == set(theirs.fields), f"{name}: every field of Amazon's type is served"


# ------------------------------------------------------------------------------------------------- queries
def test_a_query_gives_only_the_fields_asked_for_as_json_lines(api: Api) -> None:
    records, meta = api.records(by_date("startDate day: endDate sales { unitsOrdered } traffic { sessions }"))
    assert len(records) == 7 and "pagination" not in meta and "errorDocumentId" not in meta
    assert records[0]["startDate"] == records[0]["day"] == WEEK_AGO.isoformat()
    assert all(set(r) == {"startDate", "day", "sales", "traffic"} and set(r["sales"]) == {"unitsOrdered"}
               for r in records)
    assert meta["query"].startswith("query { analytics_salesAndTraffic_2024_04_24")


def test_sales_by_date_agree_with_the_sales_api(api: Api) -> None:
    records, _meta = api.records(by_date("startDate sales { unitsOrdered totalOrderItems orderedProductSales "
                                         "{ amount currencyCode } }"))
    interval = f"{WEEK_AGO}T00:00:00Z--{TODAY}T00:00:00Z"
    r = requests.get(api.emu.url + "/sales/v1/orderMetrics", headers=api.headers, timeout=10, params={
        "marketplaceIds": US, "interval": interval, "granularity": "Day", "granularityTimeZone": "UTC"})
    metrics = r.json()["payload"]
    assert [(m["unitCount"], m["orderItemCount"], float(m["totalSales"]["amount"])) for m in metrics] == \
        [(x["sales"]["unitsOrdered"], x["sales"]["totalOrderItems"], x["sales"]["orderedProductSales"]["amount"])
         for x in records]
    assert sum(m["unitCount"] for m in metrics) > 0


def test_weeks_run_sunday_to_saturday_and_whole(api: Api) -> None:
    start, end = TODAY - timedelta(days=40), TODAY - timedelta(days=3)
    records, _meta = api.records(by_date("startDate endDate", start, end, "WEEK"))
    days = [(datetime.fromisoformat(r["startDate"]).date(), datetime.fromisoformat(r["endDate"]).date())
            for r in records]
    assert days and all(a.weekday() == 6 and (b - a).days == 6 and start <= a and b <= end for a, b in days)


def test_economics_fees_are_the_fees_of_the_units_ordered(api: Api, emu: Emulator) -> None:
    records, _meta = api.records(economics("msku childAsin sales { unitsOrdered orderedProductSales { amount } } "
                                           "fees { feeTypeName charges { identifier aggregatedDetail { quantity "
                                           "totalAmount { amount } } } } netProceeds { total { amount } }"))
    market = next(m for m in emu.dataset.orders if m.market.id == US).market
    expected: dict[str, list[int]] = {}
    lo = datetime.combine(WEEK_AGO, datetime.min.time(), UTC).timestamp()
    for order in emu.dataset.created_between(lo, datetime.combine(TODAY, datetime.min.time(), UTC).timestamp()):
        if order.market.id != US or order.status in ("Pending", "Canceled") or order.purchase.date() >= TODAY:
            continue
        for item in order.items:
            fee = fees_for(item.product, market, item.unit_price, afn=order.channel == "AFN")
            row = expected.setdefault(item.product.sku, [0, 0, 0])
            row[0] += item.quantity
            row[1] += fee.referral * item.quantity
            row[2] += fee.fba * item.quantity
    assert {r["msku"] for r in records} == set(expected)
    for record in records:
        units, referral, fba = expected[record["msku"]]
        fees = {c["identifier"]: c["aggregatedDetail"] for f in record["fees"] for c in f["charges"]}
        assert record["sales"]["unitsOrdered"] == fees["REFERRAL_FEE"]["quantity"] == units
        assert round(fees["REFERRAL_FEE"]["totalAmount"]["amount"] * 100) == referral
        assert round(fees.get("FBA_FULFILLMENT_FEE", {"totalAmount": {"amount": 0}})["totalAmount"]["amount"] * 100) \
            == fba
        total = sum(d["totalAmount"]["amount"] for d in fees.values())
        assert record["netProceeds"]["total"]["amount"] == pytest.approx(
            record["sales"]["orderedProductSales"]["amount"] - total)


def test_no_data_is_done_without_a_document(api: Api, kiosk: KioskStore) -> None:
    records, meta = api.records(by_date("startDate", markets=(BR,)))  # a marketplace the seller does not sell in
    assert records == [] and "dataDocumentId" not in meta
    kiosk.outcome_next("DONE_NO_DATA")
    assert api.records(by_date("startDate marketplaceId"))[0] == []


# ------------------------------------------------------------------------------------------------- failures
@pytest.mark.parametrize(("query", "why"), [
    (by_date("startDate sales { noSuchField }"), "Cannot query field 'noSuchField' on type 'ByDateSales'."),
    (by_date("startDate", start=TODAY - timedelta(days=800)), "The start date must be no more than two years ago"),
    (by_date("startDate", start=YESTERDAY, end=WEEK_AGO), "The start date must be on or before the end date."),
    (by_date("startDate", markets=("XX",)), "Invalid marketplaceIds: 'XX' is not a marketplace ID."),
])
def test_a_query_the_dataset_refuses_is_fatal_with_an_error_document(api: Api, query: str, why: str) -> None:
    meta = api.query(api.create(query))
    assert meta["processingStatus"] == "FATAL" and "dataDocumentId" not in meta
    error = api.document(meta["errorDocumentId"]).json()
    assert error["errorMessage"].startswith(why)


def test_an_outcome_can_be_forced_fatal(api: Api, kiosk: KioskStore) -> None:
    kiosk.outcome_next("FATAL", reason="Amazon is busy.")
    meta = api.query(api.create(by_date("startDate")))
    assert meta["processingStatus"] == "FATAL"
    assert api.document(meta["errorDocumentId"]).json() == {"errorMessage": "Amazon is busy."}
    with pytest.raises(ValueError, match="unknown query outcome"):
        kiosk.outcome_next("LATE")


@pytest.mark.parametrize(("body", "details"), [
    ({}, "The request body needs a query"),
    ({"query": "query { analytics_economics_2024_03_15 { economics("}, "Syntax Error"),
    ({"query": 'query {sampleQuery(startDate:"2023-03-01"){sales{date}}}'}, "Query 'sampleQuery' is not supported."),
    ({"query": by_date("startDate " * 900)}, "at most 8000 are allowed"),
    ({"query": by_date("startDate"), "paginationToken": "bm90LWEtdG9rZW4"}, None),
])
def test_create_query_refuses_what_amazon_refuses(api: Api, body: dict, details: str | None) -> None:
    r = api.call("POST", "/queries", json=body)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    if details is None:
        assert "paginationToken" in error["message"]
    else:
        assert error["message"] == "The provided query is invalid." and details in error["details"]


# ------------------------------------------------------------------------------------------------- pages
def test_large_results_page_by_pagination_token(api: Api, kiosk: KioskStore) -> None:
    query = economics("msku startDate sales { unitsOrdered }", aggregate="{date: DAY}")
    whole, _meta = api.records(query)
    kiosk.page_size = 7
    pages, token = [], None
    while True:
        records, meta = api.records(query, token)
        pages.append(records)
        token = meta.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert len(pages) == -(-len(whole) // 7) > 2 and [r for page in pages for r in page] == whole
    other = api.call("POST", "/queries", json={"query": by_date("startDate"), "paginationToken": token or "x"})
    assert other.status_code == 400


# ------------------------------------------------------------------------------------------------- lifecycle
def test_queries_wait_and_can_be_cancelled(api: Api, emu: Emulator, kiosk: KioskStore) -> None:
    kiosk.timing = (60.0, 60.0)
    query_id = api.create(by_date("startDate endDate"))
    assert api.query(query_id)["processingStatus"] == "IN_QUEUE"
    emu.advance_clock(90)
    assert api.query(query_id)["processingStatus"] == "IN_PROGRESS"
    for _ in range(2):  # cancelling a cancelled query does nothing
        r = api.call("DELETE", "/queries/{queryId}", f"/queries/{query_id}")
        assert r.status_code == 204 and not r.content
    meta = api.query(query_id)
    assert meta["processingStatus"] == "CANCELLED" and "dataDocumentId" not in meta
    emu.advance_clock(100)
    done = api.create(by_date("startDate endDate"))
    emu.advance_clock(200)
    assert api.query(done)["processingStatus"] == "DONE"
    assert api.call("DELETE", "/queries/{queryId}", f"/queries/{done}").status_code == 400
    assert api.call("DELETE", "/queries/{queryId}", "/queries/12345").status_code == 404


def test_get_queries_lists_newest_first_and_pages(api: Api) -> None:
    made = [api.create(by_date(f"startDate a{i}: endDate")) for i in range(3)]
    r = api.call("GET", "/queries", params={"pageSize": 2, "processingStatuses": "DONE"})
    first = r.json()
    assert [q["queryId"] for q in first["queries"]] == made[::-1][:2]
    token = first["pagination"]["nextToken"]
    second = api.call("GET", "/queries", params={"pageSize": 2, "processingStatuses": "DONE",
                                                 "paginationToken": token}).json()
    assert second["queries"][0]["queryId"] == made[0]
    refused = api.call("GET", "/queries", params={"processingStatuses": "FATAL", "paginationToken": token})
    assert refused.status_code == 400
    assert api.call("GET", "/queries", params={"processingStatuses": "LOST"}).status_code == 400


def test_queries_and_documents_belong_to_their_account(api: Api, emu: Emulator, models_dir) -> None:
    meta = api.query(api.create(by_date("startDate")))
    emu.add_account("Atzr|datakiosk-other-seller")
    other = Api(emu, models_dir, "Atzr|datakiosk-other-seller")
    assert other.call("GET", "/queries/{queryId}", f"/queries/{meta['queryId']}").status_code == 404
    document = f"/documents/{meta['dataDocumentId']}"
    assert other.call("GET", "/documents/{documentId}", document).status_code == 404
    assert other.call("GET", "/queries").json()["queries"] == []
