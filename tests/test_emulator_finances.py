"""The emulator's Finances APIs (2024-06-19 listTransactions, v0 groups and events) over real HTTP: answers shaped as
Amazon's models say, Amazon's rules, paging, and one ledger behind both versions that agrees with the orders and
the settlement reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import spapi_models as sm
from emu_helpers import api_get as get
from emu_helpers import api_ok as ok
from emu_helpers import lwa_token

from sqlspapi.emulator import Emulator, start
from sqlspapi.emulator.finances_v0 import EVENT_LISTS
from sqlspapi.emulator.ledger import HISTORY_PERIODS, ledger
from sqlspapi.emulator.reports_files import Quirks, Window
from sqlspapi.emulator.reports_orders import settlement, settlement_periods

TX, GROUPS, EVENTS = "/finances/2024-06-19/transactions", "/finances/v0/financialEventGroups", \
    "/finances/v0/financialEvents"
BALANCES, SUMMARY = "/finances/2024-06-19/balances", "/finances/2024-06-19/summary"
BY_GROUP, BY_ORDER = GROUPS + "/{eventGroupId}/financialEvents", "/finances/v0/orders/{orderId}/financialEvents"
V24, V0 = "finances-2024-06-19.json", "finances-v0.json"


@pytest.fixture(scope="module")
def emu():
    with start(orders=800, time_scale=1_000_000) as e:
        yield e


@pytest.fixture(scope="module")
def tok(emu):
    return lwa_token(emu)






def refused(r: requests.Response, status: int, *words: str) -> str:
    assert r.status_code == status, r.text
    (err,) = r.json()["errors"]
    for word in words:
        assert word in err["message"], err["message"]
    return err["message"]


def ago(emu: Emulator, days: float) -> str:
    return (emu.dataset.anchor - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def transactions(emu, tok, **params) -> list[dict]:
    """Every transaction of a listTransactions chain."""
    body = ok(get(emu, tok, TX, **params))
    found = list(body["payload"]["transactions"])
    while body["payload"].get("nextToken"):
        body = ok(get(emu, tok, TX, nextToken=body["payload"]["nextToken"], **params))
        found += body["payload"]["transactions"]
    return found


# -- answers validate against Amazon's models ---------------------------------------------------------------------
def test_transactions_validate_against_the_model(emu, tok, models_dir):
    book = ledger(emu.dataset)
    order = next(e.order_id for e in book.events if e.kind == "Refund")
    group = next(g.group_id for g in book.groups if g.end and book.by_group.get(g.group_id))
    answers = [get(emu, tok, TX, postedAfter=ago(emu, 20)),
               get(emu, tok, TX, relatedIdentifierName="ORDER_ID", relatedIdentifierValue=order),
               get(emu, tok, TX, relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID", relatedIdentifierValue=group),
               get(emu, tok, TX, postedAfter=ago(emu, 60), transactionStatus="DEFERRED_RELEASED")]
    kinds = set()
    for r in answers:
        body = ok(r)
        sm.check_response(models_dir, V24, "GET", TX, 200, body)
        assert body["payload"]["transactions"]
        kinds |= {t["transactionType"] for t in body["payload"]["transactions"]}
    assert {"Shipment", "Refund", "ServiceFee"} <= kinds
    sm.check_response(models_dir, V24, "GET", TX, 400, get(emu, tok, TX).json())


def test_balances_and_summaries_validate_against_the_model(emu, tok, models_dir):
    book = ledger(emu.dataset)
    day = (emu.dataset.anchor - timedelta(days=20)).date().isoformat()
    settlement_id = next(g.settlement_id for g in book.groups if g.end)
    for path, params in ((BALANCES, {}), (BALANCES, {"asOfDate": day, "balanceType": "RESERVED"}),
                         (SUMMARY, {"periodStart": day, "periodEnd": day}),
                         (SUMMARY, {"relatedIdentifierName": "SETTLEMENT_ID",
                                    "relatedIdentifierValue": settlement_id})):
        body = ok(get(emu, tok, path, **params))
        sm.check_response(models_dir, V24, "GET", path, 200, body)
        assert body.get("balances") or body.get("summaries")
    sm.check_response(models_dir, V24, "GET", BALANCES, 400,
                      get(emu, tok, BALANCES, marketplaceIds="INVALID_MARKETPLACE_ID").json())
    refused(get(emu, tok, SUMMARY), 400, "periodStart", "SETTLEMENT_ID")
    refused(get(emu, tok, SUMMARY, periodStart=day, periodEnd="yesterday"), 400, "YYYY-MM-DD")
    refused(get(emu, tok, BALANCES, balanceType="FREE"), 400, "AVAILABLE")
    assert ok(get(emu, tok, BALANCES, accountType="Invoiced Orders")) == {"balances": []}


def test_balances_are_the_open_group_and_the_deferred_transactions(emu, tok):
    book = ledger(emu.dataset)
    us = "ATVPDKIKX0DER"
    (total,) = ok(get(emu, tok, BALANCES, marketplaceIds=us))["balances"]
    available, reserved = total["balances"]
    open_group = next(g for g in book.groups if g.end is None and g.market.id == us)
    deferred = sum(e.total for e in book.events if e.market.id == us and e.status == "DEFERRED")
    assert (available["balanceType"], reserved["balanceType"]) == ("AVAILABLE", "RESERVED")
    assert available["amount"]["currencyAmount"] == pytest.approx(book.group_total(open_group) / 100)
    assert reserved["amount"]["currencyAmount"] == pytest.approx(deferred / 100)
    assert total["amount"]["currencyAmount"] == pytest.approx((book.group_total(open_group) + deferred) / 100)
    (only,) = ok(get(emu, tok, BALANCES, marketplaceIds=us, balanceType="DEFERRED"))["balances"]
    assert only["balanceType"] == "DEFERRED" and only["amount"] == reserved["balances"][0]["amount"]


def test_v0_answers_validate_against_the_model(emu, tok, models_dir):
    book = ledger(emu.dataset)
    order = next(e.order_id for e in book.events if e.kind == "Refund")
    group = next(g for g in reversed(book.groups) if g.end and book.by_group.get(g.group_id))
    groups = ok(get(emu, tok, GROUPS, FinancialEventGroupStartedAfter=ago(emu, 60), MaxResultsPerPage=100))
    sm.check_response(models_dir, V0, "GET", GROUPS, 200, groups)
    assert {g["ProcessingStatus"] for g in groups["payload"]["FinancialEventGroupList"]} == {"Open", "Closed"}
    for path, template, params in ((EVENTS, EVENTS, {"PostedAfter": ago(emu, 120)}),
                                   (BY_ORDER.format(orderId=order), BY_ORDER, {}),
                                   (BY_GROUP.format(eventGroupId=group.group_id), BY_GROUP, {})):
        body = ok(get(emu, tok, path, **params))
        sm.check_response(models_dir, V0, "GET", template, 200, body)
        assert tuple(body["payload"]["FinancialEvents"]) == EVENT_LISTS  # every list, empty ones too
    missing = get(emu, tok, BY_GROUP.format(eventGroupId="no-such-group"))
    refused(missing, 404, "no-such-group")
    sm.check_response(models_dir, V0, "GET", BY_GROUP, 404, missing.json())
    sm.check_response(models_dir, V0, "GET", EVENTS, 400, get(emu, tok, EVENTS).json())


def test_every_kind_of_event_is_posted_in_v0_shape(emu, tok):
    found: dict[str, int] = {}
    body = ok(get(emu, tok, EVENTS, PostedAfter=ago(emu, 179), MaxResultsPerPage=100))
    while True:
        for name, events in body["payload"]["FinancialEvents"].items():
            found[name] = found.get(name, 0) + len(events)
        if not body["payload"].get("NextToken"):
            break
        body = ok(get(emu, tok, EVENTS, PostedAfter=ago(emu, 179), NextToken=body["payload"]["NextToken"]))
    posted = {name for name, n in found.items() if n}
    assert posted == {"ShipmentEventList", "RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList",
                      "RetrochargeEventList", "ServiceFeeEventList", "AdjustmentEventList",
                      "ProductAdsPaymentEventList", "CouponPaymentEventList", "RemovalShipmentEventList"}


# -- Amazon's rules -----------------------------------------------------------------------------------------------
def test_list_transactions_rules_say_what_to_do(emu, tok):
    refused(get(emu, tok, TX), 400, "postedAfter", "required unless relatedIdentifierName")
    refused(get(emu, tok, TX, relatedIdentifierName="ORDER_ID"), 400, "go together", "relatedIdentifierValue")
    refused(get(emu, tok, TX, relatedIdentifierName="SHIPMENT_ID", relatedIdentifierValue="1"), 400,
            "only ORDER_ID and FINANCIAL_EVENT_GROUP_ID")
    refused(get(emu, tok, TX, postedAfter=ago(emu, 3), transactionStatus="Released"), 400,
            "DEFERRED, RELEASED, DEFERRED_RELEASED")
    future = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused(get(emu, tok, TX, postedAfter=ago(emu, 3), postedBefore=future), 400, "postedBefore",
            "two minutes before")
    refused(get(emu, tok, TX, postedAfter=future), 400, "postedAfter", "two minutes before")
    refused(get(emu, tok, TX, postedAfter=ago(emu, 3), postedBefore=ago(emu, 4)), 400, "later than postedAfter")


def test_more_than_180_days_apart_answers_nothing(emu, tok):
    assert transactions(emu, tok, postedAfter=ago(emu, 181), postedBefore=ago(emu, 0.5)) == []
    assert transactions(emu, tok, postedAfter=ago(emu, 200)) == []  # postedBefore defaults to now - 2 minutes
    assert transactions(emu, tok, postedAfter=ago(emu, 180), postedBefore=ago(emu, 0.5))
    body = ok(get(emu, tok, EVENTS, PostedAfter=ago(emu, 200), PostedBefore=ago(emu, 1)))
    assert not any(body["payload"]["FinancialEvents"].values())


def test_next_token_must_repeat_the_parameters(emu, tok):
    first = ok(get(emu, tok, TX, postedAfter=ago(emu, 60)))
    token = first["payload"]["nextToken"]
    refused(get(emu, tok, TX, postedAfter=ago(emu, 59), nextToken=token), 400, "same parameters")
    second = ok(get(emu, tok, TX, postedAfter=ago(emu, 60), nextToken=token))
    assert {t["transactionId"] for t in second["payload"]["transactions"]}.isdisjoint(
        t["transactionId"] for t in first["payload"]["transactions"])


def test_v0_rules_say_what_to_do(emu, tok):
    refused(get(emu, tok, EVENTS), 400, "Missing PostedAfter")
    group = next(g.group_id for g in ledger(emu.dataset).groups if g.end is None)
    refused(get(emu, tok, BY_GROUP.format(eventGroupId=group), PostedBefore=ago(emu, 1)), 400,
            "PostedAfter is required when PostedBefore is given")
    refused(get(emu, tok, EVENTS, PostedAfter=ago(emu, 2), MaxResultsPerPage=101), 400, "MaxResultsPerPage")
    refused(get(emu, tok, GROUPS, FinancialEventGroupStartedAfter=ago(emu, 2),
                FinancialEventGroupStartedBefore=ago(emu, 3)), 400, "later than FinancialEventGroupStartedAfter")
    empty = ok(get(emu, tok, BY_ORDER.format(orderId="111-0000000-0000000")))
    assert not any(empty["payload"]["FinancialEvents"].values())
    groups = ok(get(emu, tok, GROUPS, FinancialEventGroupStartedAfter=ago(emu, 60)))
    assert len(groups["payload"]["FinancialEventGroupList"]) == 10  # MaxResultsPerPage defaults to 10
    assert groups["payload"]["NextToken"]


# -- one ledger, agreeing with the orders and the settlement reports ------------------------------------------------
def test_groups_are_the_settlement_periods_with_their_settlement_ids(emu):
    data = emu.dataset
    book = ledger(data)
    closed = {(g.market.id, g.start, g.end): g for g in book.groups if g.end}
    assert len(closed) == HISTORY_PERIODS * 5 and sum(1 for g in book.groups if g.end is None) == 5
    for market, begin, end in settlement_periods(data):
        group = closed[(market.id, begin, end)]
        report = settlement(data, Window((market.id,), begin, end), Quirks())
        assert report.rows[0][0] == group.settlement_id  # the settlement report's settlement-id
        shipped = {e.order_id for e in book.by_group[group.group_id] if e.kind == "Shipment"}
        deferred = {e.order_id for e in book.events if e.status == "DEFERRED"}  # in no group until released
        assert {row[7] for row in report.rows[1:]} - deferred <= shipped  # its orders were posted in the group
    assert all(e.group is not None or e.status == "DEFERRED" for e in book.events)
    for e in book.events:
        if e.group is not None:
            assert e.group.market is e.market and e.group.start <= e.posted
            assert e.group.end is None or e.posted < e.group.end


def test_a_shipment_posts_what_the_order_sold(emu):
    book = ledger(emu.dataset)
    for order in emu.dataset.orders:
        shipment = next((e for e in book.by_order.get(order.order_id, ()) if e.kind == "Shipment"), None)
        assert (shipment is not None) == (order.status in ("Shipped", "InvoiceUnconfirmed", "PartiallyShipped"))
        if shipment is None or order.status != "Shipped":
            continue
        assert shipment.posted == order.last_update
        for item, line in zip([i for i in order.items if i.shipped], shipment.items, strict=True):
            principal = sum(a.value for a in line.amounts if a.name == "Principal")
            assert (line.order_item_id, line.quantity, principal) == (item.item_id, item.quantity, item.item_price)


def test_exports_equal_what_paging_returns(emu, tok):
    after, before = ago(emu, 90), ago(emu, 1)
    paged = transactions(emu, tok, postedAfter=after, postedBefore=before)
    exported = [row for row, _q, _p in emu.export("listTransactions", "2024-06-19")
                if after <= row["postedDate"] < before]
    assert paged == exported
    exported_v0 = [row for row, _q, _p in emu.export("listFinancialEventsByOrderId", "v0")]
    assert len(exported_v0) == sum(1 for e in ledger(emu.dataset).events if e.status != "DEFERRED")
