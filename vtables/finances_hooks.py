"""Named hooks of the Finances tables (2024-06-19 and v0): identifiers as columns, child arrays as rows.

2024-06-19: :func:`transaction_row` pulls a transaction's relatedIdentifiers (ORDER_ID, FINANCIAL_EVENT_GROUP_ID,
SETTLEMENT_ID, …) and its DeferredContext out as columns; :func:`transaction_items` makes one row per item (its
ProductContext as columns); :func:`transaction_breakdowns` and :func:`transaction_item_breakdowns` flatten the
breakdown trees into one row per node with its ``path`` (``Expenses/AmazonFees/Commission``), ``level`` and
``isLeaf``. Child rows carry the transaction's keys, so the parent's filters reach the API the same way.
:func:`balance_rows` flattens a balance the same way; :func:`summary_row` pulls out a summary's SETTLEMENT_ID.

v0: a financial events answer is one ``FinancialEvents`` object with a list per kind of event. :func:`all_events`
makes one row per event of any kind, the ``<kind>_events`` hooks one row per event of their kind, and
:func:`event_items` one row per item of the shipment-shaped events with its money summed into columns. Each event
row gets ``eventType``, ``orderId``, ``PostedDate`` (None for kinds without a date), ``total_amount`` and
``currencyCode`` (:func:`event_total`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]

#: relatedIdentifierName → the transaction column that holds its value.
RELATED_COLUMNS = {"ORDER_ID": "orderId", "FINANCIAL_EVENT_GROUP_ID": "financialEventGroupId",
                   "SETTLEMENT_ID": "settlementId", "SHIPMENT_ID": "shipmentId", "REFUND_ID": "refundId",
                   "INVOICE_ID": "invoiceId"}
#: Transaction columns every child row carries.
PARENT_KEYS = ("transactionId", "transactionType", "transactionStatus", "postedDate", "orderId",
               "financialEventGroupId")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _objects(value: Any) -> Iterator[Obj]:
    return (v for v in _list(value) if isinstance(v, Mapping))


def _context(contexts: Any, kind: str) -> Obj:
    """The first context of ``kind`` (``ProductContext``, ``DeferredContext``), or an empty one."""
    return next((c for c in _objects(contexts) if c.get("contextType") == kind), {})


# -- 2024-06-19 ---------------------------------------------------------------------------------------------------
def transaction_row(obj: Obj, request: Any) -> Iterator[Obj]:
    """The transaction with its related identifiers and its deferral as columns."""
    row = dict(obj)
    for ident in _objects(obj.get("relatedIdentifiers")):
        column = RELATED_COLUMNS.get(str(ident.get("relatedIdentifierName")))
        if column is not None and column not in row:
            row[column] = ident.get("relatedIdentifierValue")
    deferred = _context(obj.get("contexts"), "DeferredContext")
    row["deferralReason"], row["maturityDate"] = deferred.get("deferralReason"), deferred.get("maturityDate")
    yield row


def _parent(obj: Obj) -> dict[str, Any]:
    row = next(transaction_row(obj, None))
    return {k: row.get(k) for k in PARENT_KEYS}


def transaction_items(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per item of the transaction, its ProductContext as columns."""
    parent = _parent(obj)
    for n, item in enumerate(_objects(obj.get("items"))):
        product = _context(item.get("contexts"), "ProductContext")
        adjustment = next((i.get("itemRelatedIdentifierValue") for i in _objects(item.get("relatedIdentifiers"))
                           if i.get("itemRelatedIdentifierName") == "ORDER_ADJUSTMENT_ITEM_ID"), None)
        yield {**item, **parent, "itemIndex": n, "sku": product.get("sku"), "asin": product.get("asin"),
               "quantityShipped": product.get("quantityShipped"),
               "fulfillmentNetwork": product.get("fulfillmentNetwork"), "orderAdjustmentItemId": adjustment}


def tree(nodes: Any, kind: str, inner: str, amount: str, prefix: str = "", level: int = 1) -> Iterator[dict[str, Any]]:
    """Every node of a tree (breakdowns, balances), depth first: its ``path`` from the top, its ``kind``, ``level``,
    whether it is a leaf, and its ``amount`` Currency as ``<amount>_amount`` and ``<amount>_currencyCode``. A wrapper
    object holding the list (``{"breakdowns": [...]}``, as the model's Transaction example has it) is read too."""
    if isinstance(nodes, Mapping):
        nodes = nodes.get(inner)
    for node in _objects(nodes):
        name = str(node.get(kind))
        path = f"{prefix}/{name}" if prefix else name
        children = list(_objects(node.get(inner)))
        money = node.get(amount) if isinstance(node.get(amount), Mapping) else {}
        yield {"path": path, kind: name, "level": level, "isLeaf": not children,
               f"{amount}_amount": money.get("currencyAmount"), f"{amount}_currencyCode": money.get("currencyCode")}
        yield from tree(children, kind, inner, amount, path, level + 1)


def flatten(nodes: Any) -> Iterator[dict[str, Any]]:
    """Every node of a breakdown tree (:func:`tree` of ``breakdownType`` / ``breakdowns`` / ``breakdownAmount``)."""
    return tree(nodes, "breakdownType", "breakdowns", "breakdownAmount")


def transaction_breakdowns(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per node of the transaction's breakdown tree."""
    parent = _parent(obj)
    for node in flatten(obj.get("breakdowns")):
        yield {**parent, **node}


def transaction_item_breakdowns(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per node of each item's breakdown tree, with the item's sku and asin."""
    for item in transaction_items(obj, request):
        keys = {k: item.get(k) for k in (*PARENT_KEYS, "itemIndex", "sku", "asin")}
        for node in flatten(item.get("breakdowns")):
            yield {**keys, **node}


def balance_rows(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per balance of a listBalances answer and per balance it is made of, with its path and level."""
    for node in tree([obj], "balanceType", "balances", "amount"):
        yield {**obj, **node}


def summary_row(obj: Obj, request: Any) -> Iterator[Obj]:
    """The summary with its settlement id (relatedIdentifier SETTLEMENT_ID) as a column."""
    settlement = next((i.get("relatedIdentifierValue") for i in _objects(obj.get("relatedIdentifiers"))
                       if i.get("relatedIdentifierName") == "SETTLEMENT_ID"), None)
    yield {**obj, "settlementId": settlement}


# -- v0 -------------------------------------------------------------------------------------------------------------
#: Event kind → the field holding its whole amount, for kinds whose other money repeats it.
TOTAL_FIELDS = {"Adjustment": "AdjustmentAmount", "ProductAdsPayment": "transactionValue",
                "CouponPayment": "TotalAmount", "SellerDealPayment": "totalAmount",
                "SellerReviewEnrollmentPayment": "TotalAmount", "AdhocDisbursement": "TransactionAmount"}
#: Kinds shaped as a ShipmentEvent (their items make financial_event_items).
SHIPMENT_KINDS = ("Shipment", "Refund", "GuaranteeClaim", "Chargeback", "ShipmentSettle")


#: Money fields that say what something is worth, not what it moves (left out of totals).
NOT_MOVED = frozenset({"CostOfPointsGranted", "CostOfPointsReturned", "PerUnitAmount"})


def _currencies(value: Any) -> Iterator[Obj]:
    """Every Currency object (CurrencyAmount and CurrencyCode) in an event, depth first (but :data:`NOT_MOVED`)."""
    if isinstance(value, Mapping):
        if "CurrencyAmount" in value:
            yield value
            return
        for key, inner in value.items():
            if key not in NOT_MOVED:
                yield from _currencies(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _currencies(inner)


def _sum(value: Any) -> tuple[float | int | None, str | None]:
    """The sum of the Currency objects in ``value`` and their (first) currency; (None, None) without any."""
    found = list(_currencies(value))
    amounts = [c["CurrencyAmount"] for c in found if isinstance(c.get("CurrencyAmount"), int | float)]
    if not amounts:
        return None, None
    code = next((c.get("CurrencyCode") for c in found if c.get("CurrencyCode")), None)
    return round(sum(amounts), 6), code


def event_total(kind: str, event: Obj) -> tuple[float | int | None, str | None]:
    """What an event moves in all, and its currency: its :data:`TOTAL_FIELDS` field, else every Currency in it."""
    field = TOTAL_FIELDS.get(kind)
    return _sum(event.get(field) if field else event)


def _event_rows(obj: Obj, kinds: tuple[str, ...] | None) -> Iterator[dict[str, Any]]:
    """One row per event of ``kinds`` (None: every kind) in a FinancialEvents object."""
    for name, events in obj.items():
        kind = name.removesuffix("EventList")
        if not name.endswith("EventList") or (kinds is not None and kind not in kinds):
            continue
        for event in _objects(events):
            total, code = event_total(kind, event)
            yield {**event, "eventType": kind, "event": event, "total_amount": total, "currencyCode": code,
                   "orderId": event.get("AmazonOrderId") or event.get("OrderId"),
                   "PostedDate": event.get("PostedDate") or event.get("postedDate")
                   or event.get("TransactionPostedDate") or event.get("TransactionCreationDate")}


def all_events(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per event of any kind."""
    return _event_rows(obj, None)


def _kind_hook(kind: str) -> Callable[[Obj, Any], Iterator[Obj]]:
    def hook(obj: Obj, request: Any) -> Iterator[Obj]:
        return _event_rows(obj, (kind,))
    hook.__doc__ = f"One row per event of {kind}EventList."
    return hook


shipment_events = _kind_hook("Shipment")
refund_events = _kind_hook("Refund")
guarantee_claim_events = _kind_hook("GuaranteeClaim")
chargeback_events = _kind_hook("Chargeback")
service_fee_events = _kind_hook("ServiceFee")
adjustment_events = _kind_hook("Adjustment")
retrocharge_events = _kind_hook("Retrocharge")
product_ads_payment_events = _kind_hook("ProductAdsPayment")
coupon_payment_events = _kind_hook("CouponPayment")
removal_shipment_events = _kind_hook("RemovalShipment")

#: Money columns of financial_event_items: column → the ChargeType / FeeType values summed into it.
CHARGE_COLUMNS = {"principal_amount": ("Principal",), "tax_amount": ("Tax", "ShippingTax", "GiftWrapTax"),
                  "shipping_amount": ("ShippingCharge",)}
FEE_COLUMNS = {"commission_amount": ("Commission",), "fbaFee_amount": ("FBAPerUnitFulfillmentFee",)}


def _split(components: list[Obj], kind: str, amount: str, columns: Mapping[str, tuple[str, ...]],
           rest: str) -> dict[str, Any]:
    """Sum charge or fee components into the named columns, the others into ``rest``."""
    out: dict[str, Any] = {}
    for component in components:
        value, _code = _sum(component.get(amount))
        if value is None:
            continue
        column = next((c for c, names in columns.items() if component.get(kind) in names), rest)
        out[column] = round(out.get(column, 0) + value, 6)
    return out


def event_items(obj: Obj, request: Any) -> Iterator[Obj]:
    """One row per item of the shipment-shaped events (ShipmentItemList or ShipmentItemAdjustmentList), its
    charges, fees, promotions and taxes withheld summed into columns; ``total_amount`` is their sum."""
    for event in _event_rows(obj, SHIPMENT_KINDS):
        for item in (*_objects(event.get("ShipmentItemList")), *_objects(event.get("ShipmentItemAdjustmentList"))):
            charges = [*_objects(item.get("ItemChargeList")), *_objects(item.get("ItemChargeAdjustmentList"))]
            fees = [*_objects(item.get("ItemFeeList")), *_objects(item.get("ItemFeeAdjustmentList"))]
            promotions = [*_objects(item.get("PromotionList")), *_objects(item.get("PromotionAdjustmentList"))]
            money = {**dict.fromkeys((*CHARGE_COLUMNS, *FEE_COLUMNS, "otherCharges_amount", "otherFees_amount"), 0),
                     **_split(charges, "ChargeType", "ChargeAmount", CHARGE_COLUMNS, "otherCharges_amount"),
                     **_split(fees, "FeeType", "FeeAmount", FEE_COLUMNS, "otherFees_amount"),
                     "promotion_amount": _sum(promotions)[0] or 0,
                     "taxWithheld_amount": _sum(item.get("ItemTaxWithheldList"))[0] or 0}
            code = _sum([charges, fees, promotions])[1] or event["currencyCode"]
            yield {"eventType": event["eventType"], "orderId": event["orderId"], "PostedDate": event["PostedDate"],
                   "SellerOrderId": event.get("SellerOrderId"), "MarketplaceName": event.get("MarketplaceName"),
                   "sku": item.get("SellerSKU"), "OrderItemId": item.get("OrderItemId"),
                   "OrderAdjustmentItemId": item.get("OrderAdjustmentItemId"),
                   "QuantityShipped": item.get("QuantityShipped"),
                   **money, "total_amount": round(sum(money.values()), 6), "currencyCode": code,
                   "charges": charges, "fees": fees}
