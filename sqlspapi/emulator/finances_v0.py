"""Finances API v0: financial event groups and financial events over the demo seller's ledger.

The same events as listTransactions (:mod:`sqlspapi.emulator.finances`; the model is
:mod:`sqlspapi.emulator.ledger`), in v0's shapes: shipments, refunds, A-to-z guarantee claims and chargebacks as
``ShipmentEvent`` (per item ``ItemChargeList`` Principal/Tax/ShippingCharge, ``ItemFeeList`` Commission and
FBAPerUnitFulfillmentFee, ``ItemTaxWithheldList`` MarketplaceFacilitator, ``PromotionList``; the ``…Adjustment…``
lists with ``OrderAdjustmentItemId`` for the others), service fees, adjustments, retrocharges, product ads payments,
coupon payments and removal shipments in theirs. Deferred events are left out until released, as Amazon does.

* listFinancialEventGroups: the groups whose start lies in [FinancialEventGroupStartedAfter,
  FinancialEventGroupStartedBefore) (no lower bound without After), oldest first; ``OriginalTotal`` =
  ``ConvertedTotal`` = the sum of the group's events; closed groups were transferred the day after they ended.
* listFinancialEvents (PostedAfter required; PostedBefore needs PostedAfter), listFinancialEventsByGroupId (404
  for an unknown group; nothing for a group that started more than two years ago) and listFinancialEventsByOrderId
  (any order id; one without events answers empty lists): events posted in [PostedAfter, PostedBefore), oldest
  first, ``MaxResultsPerPage`` events a page. Every answer holds every event list of the model, empty ones too.

Dates as Amazon checks them (more than two minutes before now; a pair more than 180 days apart answers nothing);
``NextToken`` (in ``payload``) must come back with the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid, not_found
from sqlspapi.emulator.data import Dataset, iso
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.ledger import AMOUNTS, Amount, Event, Group, ledger, number, posted_window, title
from sqlspapi.emulator.pools import Market

GROUPS = rules("""
MaxResultsPerPage                 integer    maximum=100 minimum=1 default=10
FinancialEventGroupStartedBefore  date-time
FinancialEventGroupStartedAfter   date-time
NextToken                         string
""")
EVENTS = rules("""
MaxResultsPerPage  integer    maximum=100 minimum=1 default=100
PostedAfter        date-time
PostedBefore       date-time
NextToken          string
""")
BY_ORDER = rules("""
MaxResultsPerPage  integer    maximum=100 minimum=1 default=100
NextToken          string
""")
#: Every event list of the model's ``FinancialEvents``, in its order (each answer holds them all).
EVENT_LISTS = (
    "ShipmentEventList", "ShipmentSettleEventList", "RefundEventList", "GuaranteeClaimEventList",
    "EBTRefundReimbursementOnlyEventList", "ChargebackEventList", "PayWithAmazonEventList",
    "ServiceProviderCreditEventList", "RetrochargeEventList", "RentalTransactionEventList",
    "ProductAdsPaymentEventList", "ServiceFeeEventList", "SellerDealPaymentEventList", "DebtRecoveryEventList",
    "LoanServicingEventList", "AdjustmentEventList", "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList", "FBALiquidationEventList", "CouponPaymentEventList",
    "ImagingServicesFeeEventList", "NetworkComminglingTransactionEventList", "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList", "RemovalShipmentEventList", "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList", "TDSReimbursementEventList", "AdhocDisbursementEventList", "TaxWithholdingEventList",
    "ChargeRefundEventList", "FailedAdhocDisbursementEventList", "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
)
#: How far back listFinancialEventsByGroupId reads a group.
GROUP_HISTORY = timedelta(days=730)


def money(minor: int, market: Market) -> dict[str, Any]:
    """A v0 ``Currency``."""
    return {"CurrencyCode": market.currency, "CurrencyAmount": number(minor, market)}


def _components(amounts: Sequence[Amount], role: str, kind: str, value: str, m: Market) -> list[dict[str, Any]]:
    return [{kind: a.name, value: money(a.value, m)} for a in amounts if AMOUNTS[a.name][0] == role]


def _shipment(e: Event) -> dict[str, Any]:
    """A ``ShipmentEvent``: a shipment's items, or (refund, claim, chargeback) its item adjustments."""
    m, adj = e.market, "" if e.kind == "Shipment" else "Adjustment"
    items = []
    for it in e.items:
        row: dict[str, Any] = {"SellerSKU": it.product.sku, "OrderItemId": it.order_item_id}
        if it.adjustment_id:
            row["OrderAdjustmentItemId"] = it.adjustment_id
        row["QuantityShipped"] = it.quantity
        lists = {f"ItemCharge{adj}List": _components(it.amounts, "charge", "ChargeType", "ChargeAmount", m),
                 f"ItemFee{adj}List": _components(it.amounts, "fee", "FeeType", "FeeAmount", m)}
        withheld = _components(it.amounts, "withheld", "ChargeType", "ChargeAmount", m)
        if withheld:
            lists["ItemTaxWithheldList"] = [{"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": withheld}]
        lists[f"Promotion{adj}List"] = [
            {"PromotionType": "PromotionMetaDataDefinitionValue", "PromotionId": it.promotion_id or "",
             "PromotionAmount": money(a.value, m)} for a in it.amounts if AMOUNTS[a.name][0] == "promotion"]
        row.update({k: v for k, v in lists.items() if v})
        items.append(row)
    out: dict[str, Any] = {"AmazonOrderId": e.order_id}
    if e.order is not None and e.order.seller_order_id:
        out["SellerOrderId"] = e.order.seller_order_id
    out.update({"MarketplaceName": e.market.sales_channel, "PostedDate": iso(e.posted),
                f"ShipmentItem{adj}List": items})
    return out


def _service_fee(e: Event) -> dict[str, Any]:
    m = e.market
    out: dict[str, Any] = {"AmazonOrderId": e.order_id} if e.order_id else {}
    out["FeeList"] = _components(tuple(e.every_amount()), "fee", "FeeType", "FeeAmount", m)
    for it in e.items[:1]:
        out.update({"SellerSKU": it.product.sku, "FnSKU": it.fn_sku, "ASIN": it.product.asin})
    out["FeeDescription"] = e.detail["FeeDescription"]
    return out


def _adjustment(e: Event) -> dict[str, Any]:
    m = e.market
    items = []
    for it in e.items:
        total = sum(a.value for a in it.amounts)
        items.append({"Quantity": str(it.quantity), "PerUnitAmount": money(total // it.quantity, m),
                      "TotalAmount": money(total, m), "SellerSKU": it.product.sku, "FnSKU": it.fn_sku,
                      "ProductDescription": title(it.product, m), "ASIN": it.product.asin})
    return {"AdjustmentType": e.detail["AdjustmentType"], "PostedDate": iso(e.posted),
            "AdjustmentAmount": money(e.total, m), "AdjustmentItemList": items}


def _retrocharge(e: Event) -> dict[str, Any]:
    return {"RetrochargeEventType": "Retrocharge", "AmazonOrderId": e.order_id, "PostedDate": iso(e.posted),
            "BaseTax": money(e.total, e.market), "ShippingTax": money(0, e.market),
            "MarketplaceName": e.market.sales_channel}


def _product_ads(e: Event) -> dict[str, Any]:
    values = {a.name: money(a.value, e.market) for a in e.amounts}
    return {"postedDate": iso(e.posted), "transactionType": "Charge", "invoiceId": e.detail["invoiceId"],
            **values, "transactionValue": money(e.total, e.market)}


def _coupon(e: Event) -> dict[str, Any]:
    d = e.detail
    return {"PostedDate": iso(e.posted), "CouponId": d["CouponId"], "SellerCouponDescription":
            d["SellerCouponDescription"], "ClipOrRedemptionCount": d["ClipOrRedemptionCount"],
            "PaymentEventId": d["PaymentEventId"], "FeeComponent": {"FeeType": "CouponRedemptionFee",
                                                                   "FeeAmount": money(e.total, e.market)},
            "TotalAmount": money(e.total, e.market)}


def _removal(e: Event) -> dict[str, Any]:
    m = e.market
    items = [{"RemovalShipmentItemId": it.line_id, "TaxCollectionModel": "MarketplaceFacilitator",
              "FulfillmentNetworkSKU": it.fn_sku, "Quantity": it.quantity,
              **{a.name: money(a.value, m) for a in it.amounts},
              "TaxAmount": money(0, m), "TaxWithheld": money(0, m)} for it in e.items]
    return {"PostedDate": iso(e.posted), "MerchantOrderId": e.detail["MerchantOrderId"], "OrderId": e.order_id,
            "TransactionType": e.detail["TransactionType"], "RemovalShipmentItemList": items}


#: Event kind → its v0 renderer (the list is kind + "EventList").
RENDER: dict[str, Callable[[Event], dict[str, Any]]] = {
    "Shipment": _shipment, "Refund": _shipment, "GuaranteeClaim": _shipment, "Chargeback": _shipment,
    "ServiceFee": _service_fee, "Adjustment": _adjustment, "Retrocharge": _retrocharge,
    "ProductAdsPayment": _product_ads, "CouponPayment": _coupon, "RemovalShipment": _removal,
}


def financial_events(events: Sequence[Event]) -> dict[str, list[dict[str, Any]]]:
    """The model's ``FinancialEvents`` holding ``events`` (every list present)."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in EVENT_LISTS}
    for e in events:
        out[f"{e.kind}EventList"].append(RENDER[e.kind](e))
    return out


def render_group(group: Group, total: int) -> dict[str, Any]:
    """The model's ``FinancialEventGroup``."""
    m = group.market
    out: dict[str, Any] = {"FinancialEventGroupId": group.group_id,
                           "ProcessingStatus": "Closed" if group.end else "Open"}
    if group.end:
        out["FundTransferStatus"] = "Succeeded"
    out.update({"OriginalTotal": money(total, m), "ConvertedTotal": money(total, m)})
    if group.end:
        out.update({"FundTransferDate": iso(group.end + timedelta(days=1)), "TraceId": group.trace_id,
                    "AccountTail": group.account_tail})
    out.update({"BeginningBalance": money(0, m), "FinancialEventGroupStart": iso(group.start)})
    if group.end:
        out["FinancialEventGroupEnd"] = iso(group.end)
    return out


def _page(req: Request, paging: Paging, found: Sequence[Any], size: int, key: str,
          shape: Callable[..., Any]) -> Response:
    """One page of ``found`` rendered by ``shape`` at ``payload.<key>``, with ``payload.NextToken``."""
    filters = {k: v for k, v in req.params.items() if k != "NextToken"} | req.path_args
    now = req.config.now()
    start, stop = paging.window(paging.offset(req.query, filters, now), size, len(found))
    payload: dict[str, Any] = {key: shape(found[start:stop])}
    token = paging.pagination(start, size, len(found), filters, now).get("nextToken")
    if token:
        payload["NextToken"] = token
    return Response(200, {"payload": payload})


def list_groups(req: Request) -> Response:
    """GET /finances/v0/financialEventGroups."""
    p = req.params
    after = p["FinancialEventGroupStartedAfter"]
    end, too_long = posted_window("FinancialEventGroupStartedAfter", after, "FinancialEventGroupStartedBefore",
                                  p["FinancialEventGroupStartedBefore"])
    book = ledger(req.data)
    found = [] if too_long else [g for g in book.groups if (after is None or g.start >= after) and g.start < end]
    found.sort(key=lambda g: (g.start, g.market.key))
    return _page(req, _GROUP_PAGING, found, p["MaxResultsPerPage"], "FinancialEventGroupList",
                 lambda groups: [render_group(g, book.group_total(g)) for g in groups])


def _posted(req: Request, events: Sequence[Event]) -> list[Event]:
    """The released events posted in the request's [PostedAfter, PostedBefore) (Amazon's checks applied)."""
    after, before = req.params.get("PostedAfter"), req.params.get("PostedBefore")
    if before is not None and after is None:
        raise invalid("Invalid PostedBefore: PostedAfter is required when PostedBefore is given.")
    end, too_long = posted_window("PostedAfter", after, "PostedBefore", before)
    if too_long:
        return []
    return [e for e in events if e.status != "DEFERRED" and (after is None or e.posted >= after) and e.posted < end]


def list_events(req: Request) -> Response:
    """GET /finances/v0/financialEvents."""
    if req.params["PostedAfter"] is None:
        raise invalid("Missing PostedAfter: give the start of the posting window (at most 180 days before "
                      "PostedBefore).")
    found = _posted(req, ledger(req.data).between(req.params["PostedAfter"], datetime.now(UTC)))
    return _events_page(req, _PAGING["listFinancialEvents"], found)


def list_events_by_group(req: Request) -> Response:
    """GET /finances/v0/financialEventGroups/{eventGroupId}/financialEvents."""
    book = ledger(req.data)
    group = book.group_by_id.get(req.path_args["eventGroupId"])
    if group is None:
        raise not_found(f"Financial event group {req.path_args['eventGroupId']} was not found.")
    events = book.by_group.get(group.group_id, []) if group.start >= datetime.now(UTC) - GROUP_HISTORY else []
    return _events_page(req, _PAGING["listFinancialEventsByGroupId"], _posted(req, events))


def list_events_by_order(req: Request) -> Response:
    """GET /finances/v0/orders/{orderId}/financialEvents."""
    events = ledger(req.data).by_order.get(req.path_args["orderId"], [])
    return _events_page(req, _PAGING["listFinancialEventsByOrderId"], _posted(req, events))


def _events_page(req: Request, paging: Paging, found: Sequence[Event]) -> Response:
    return _page(req, paging, found, req.params["MaxResultsPerPage"], "FinancialEvents", financial_events)


_GROUP_PAGING = Paging("finances-v0-groups", "NextToken")
_PAGING = {name: Paging(f"finances-v0-{name}", "NextToken") for name in
           ("listFinancialEvents", "listFinancialEventsByGroupId", "listFinancialEventsByOrderId")}


def _export_groups(data: Dataset) -> Iterator[Row]:
    book = ledger(data)
    for g in book.groups:
        yield render_group(g, book.group_total(g)), {}, {}


def _export_events(path_of: Callable[[Event], dict[str, str]], data: Dataset) -> Iterator[Row]:
    """Every released event, one ``FinancialEvents`` object each (the rows the event tables explode), with the
    path under which the operation returns it (an event without an order or group: no path — the export is the
    whole ledger, what listFinancialEvents pages through)."""
    for e in ledger(data).events:
        if e.status != "DEFERRED":
            yield {f"{e.kind}EventList": [RENDER[e.kind](e)]}, {}, path_of(e)


def _order_path(e: Event) -> dict[str, str]:
    return {"orderId": e.order_id} if e.order_id else {}


def _group_path(e: Event) -> dict[str, str]:
    return {"eventGroupId": e.group.group_id} if e.group else {}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("finances", "v0", "listFinancialEventGroups", list_groups, GROUPS, _export_groups),
    Endpoint("finances", "v0", "listFinancialEvents", list_events, EVENTS, partial(_export_events, lambda e: {})),
    Endpoint("finances", "v0", "listFinancialEventsByGroupId", list_events_by_group, EVENTS,
             partial(_export_events, _group_path)),
    Endpoint("finances", "v0", "listFinancialEventsByOrderId", list_events_by_order, BY_ORDER,
             partial(_export_events, _order_path)),
)
