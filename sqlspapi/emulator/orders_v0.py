"""Orders API v0: getOrders, getOrder, getOrderItems, getOrderAddress, getOrderBuyerInfo.

Bodies follow ``orders-v0.json`` (``{"payload": ...}``). Personal data (buyer name/email, street, phone) is
returned only when the request's access token is a Restricted Data Token covering the resource (and, for
getOrders/getOrder, granting the ``shippingAddress`` / ``buyerInfo`` data elements).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlspapi.emulator.common import (
    ORDER_ID_RE,
    ApiError,
    Request,
    Response,
    check_window,
    decode_token,
    encode_token,
    get_date,
    get_int,
    get_list,
    invalid,
    iso_or_none,
    require_order,
)
from sqlspapi.emulator.data import STATUSES, Dataset, Item, OrderRecord, iso, money_str
from sqlspapi.emulator.generic import Endpoint, Exporter, Row
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS

FULFILLMENT_CHANNELS = ("AFN", "MFN")
PAYMENT_METHODS = ("COD", "CVS", "Other")
#: The filter parameters a getOrders NextToken carries.
FILTERS = ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore", "OrderStatuses",
           "MarketplaceIds", "FulfillmentChannels", "PaymentMethods", "BuyerEmail", "SellerOrderId",
           "AmazonOrderIds", "IsISPU")
PAYMENT_DETAILS = {"Other": ["Standard"], "COD": ["COD"], "CVS": ["ConvenienceStore"]}


def money(minor: int, order: OrderRecord) -> dict[str, str]:
    """A v0 ``Money`` object (Amount is a string)."""
    return {"CurrencyCode": order.market.currency, "Amount": money_str(minor, order.market)}


def shipping_address(order: OrderRecord, pii: bool) -> dict[str, Any]:
    """``Address``: the full address with PII, else only City, StateOrRegion, PostalCode, CountryCode."""
    a = order.address
    if not pii:
        return {"City": a.city, "StateOrRegion": a.state, "PostalCode": a.postal, "CountryCode": a.country}
    out: dict[str, Any] = {"Name": a.name, "AddressLine1": a.line1, "City": a.city, "StateOrRegion": a.state,
                           "PostalCode": a.postal, "CountryCode": a.country}
    if order.buyer_company:
        out["CompanyName"] = order.buyer_company
    if a.phone:
        out["Phone"] = a.phone
    out["AddressType"] = a.address_type
    return out


def buyer_info(order: OrderRecord, pii: bool) -> dict[str, Any]:
    """Order-level ``BuyerInfo``: BuyerEmail/BuyerName only with PII."""
    out: dict[str, Any] = {}
    if pii:
        if order.buyer_email:
            out["BuyerEmail"] = order.buyer_email
        out["BuyerName"] = order.buyer_name
    if order.purchase_order_number:
        out["PurchaseOrderNumber"] = order.purchase_order_number
    return out


def render_order(order: OrderRecord, elements: set[str] | None = None) -> dict[str, Any]:
    """The model's ``Order`` object; ``elements`` = RDT data elements granted (shippingAddress, buyerInfo)."""
    elements = elements or set()
    shipped = order.units_shipped
    unshipped = 0 if order.status == "Canceled" else order.units - shipped
    out: dict[str, Any] = {"AmazonOrderId": order.order_id}
    if order.seller_order_id:
        out["SellerOrderId"] = order.seller_order_id
    out.update({
        "PurchaseDate": iso(order.purchase),
        "LastUpdateDate": iso(order.last_update),
        "OrderStatus": order.status,
        "FulfillmentChannel": order.channel,
        "SalesChannel": order.market.sales_channel,
        "ShipServiceLevel": order.ship_service_level,
    })
    total = order.total()
    if total is not None:
        out["OrderTotal"] = money(total, order)
    out.update({
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "PaymentMethod": order.payment_method,
        "PaymentMethodDetails": list(PAYMENT_DETAILS[order.payment_method]),
        "MarketplaceId": order.market.id,
        "ShipmentServiceLevelCategory": order.ship_category,
        "OrderType": order.order_type,
        "EarliestShipDate": iso_or_none(order.earliest_ship),
        "LatestShipDate": iso_or_none(order.latest_ship),
    })
    if order.earliest_delivery:
        out["EarliestDeliveryDate"] = iso(order.earliest_delivery)
        out["LatestDeliveryDate"] = iso_or_none(order.latest_delivery)
    out.update({
        "IsBusinessOrder": order.is_business,
        "IsPrime": order.is_prime,
        "IsPremiumOrder": order.is_premium,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": order.replaced_order_id is not None,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": order.is_access_point,
        "HasRegulatedItems": False,
    })
    if order.replaced_order_id:
        out["ReplacedOrderId"] = order.replaced_order_id
    if order.is_business:
        out["BuyerInvoicePreference"] = "BUSINESS"
    out["ShippingAddress"] = shipping_address(order, "shippingAddress" in elements)
    info = buyer_info(order, "buyerInfo" in elements)
    if info:
        out["BuyerInfo"] = info
    if order.channel == "MFN":
        out["AutomatedShippingSettings"] = {"HasAutomatedShippingSettings": False}
    return out


def render_item(item: Item, order: OrderRecord) -> dict[str, Any]:
    """The model's ``OrderItem`` object (no prices while the order is Pending, like Amazon)."""
    out: dict[str, Any] = {
        "ASIN": item.product.asin,
        "SellerSKU": item.product.sku,
        "OrderItemId": item.item_id,
        "Title": item.title,
        "QuantityOrdered": item.quantity,
        "QuantityShipped": item.shipped,
        "ProductInfo": {"NumberOfItems": "1"},
    }
    if order.status != "Pending":
        zero = money(0, order)
        out.update({
            "ItemPrice": money(item.item_price, order),
            "ItemTax": money(item.item_tax, order),
            "ShippingPrice": money(item.shipping, order),
            "ShippingTax": zero,
            "ShippingDiscount": zero,
            "ShippingDiscountTax": zero,
            "PromotionDiscount": money(item.promotion, order),
            "PromotionDiscountTax": dict(zero),
        })
        if item.promotion_id:
            out["PromotionIds"] = [item.promotion_id]
    out.update({
        "IsGift": "true" if item.is_gift else "false",
        "ConditionId": item.condition,
        "ConditionSubtypeId": item.condition_subtype,
        "IsTransparency": False,
        "SerialNumberRequired": False,
    })
    if item.condition != "New":
        out["ConditionNote"] = "Leichte Gebrauchsspuren." if order.market.key == "DE" else "Minor signs of use."
    return out


# -- operations ----------------------------------------------------------------------------------------------
def get_orders(req: Request) -> Response:
    """GET /orders/v0/orders."""
    q = req.query
    token = q.get("NextToken")
    if token:
        state = decode_token(token, "NextToken")
        if state.get("k") != "orders":
            raise invalid("Invalid NextToken: the token does not belong to getOrders.")
        filters: dict[str, str] = state["q"]
        offset = int(state["o"])
    else:
        state = {}
        filters = {k: q[k] for k in FILTERS if k in q}
        offset = 0
    size = get_int(q, "MaxResultsPerPage", int(state.get("n", 100)) if token else 100, 1, 100)
    orders, before_key, before = _select(req.data, filters, resume=bool(token))
    page = orders[offset:offset + size]
    payload: dict[str, Any] = {"Orders": [render_order(o, req.rdt_elements) for o in page]}
    if offset + size < len(orders):
        filters = dict(filters)
        filters[before_key] = before
        payload["NextToken"] = encode_token({"k": "orders", "o": offset + size, "n": size, "q": filters})
    payload[before_key] = before
    return Response(200, {"payload": payload})


def _select(data: Dataset, f: dict[str, str], resume: bool) -> tuple[list[OrderRecord], str, str]:
    """Validate getOrders filters; returns the matching orders, "CreatedBefore"/"LastUpdatedBefore" and its value."""
    markets = get_list(f, "MarketplaceIds", max_items=50)
    if markets is None:
        raise invalid("Invalid MarketplaceIds: MarketplaceIds is required.")
    unknown = [m for m in markets if m not in KNOWN_MARKETPLACE_IDS]
    if unknown:
        raise invalid(f"Invalid MarketplaceIds: {unknown[0]!r} is not a valid marketplace ID.")
    order_ids = get_list(f, "AmazonOrderIds", max_items=50)
    bad_ids = [i for i in order_ids or () if not ORDER_ID_RE.match(i)]
    if bad_ids:
        raise invalid(f"Invalid AmazonOrderIds: {bad_ids[0]!r} is not an AmazonOrderId in 3-7-7 format.")
    statuses = get_list(f, "OrderStatuses", enum=STATUSES)
    channels = get_list(f, "FulfillmentChannels", enum=FULFILLMENT_CHANNELS)
    payments = get_list(f, "PaymentMethods", enum=PAYMENT_METHODS)
    created_after, created_before = get_date(f, "CreatedAfter"), get_date(f, "CreatedBefore")
    updated_after, updated_before = get_date(f, "LastUpdatedAfter"), get_date(f, "LastUpdatedBefore")
    if created_after is None and updated_after is None:
        raise invalid("Either CreatedAfter or LastUpdatedAfter must be specified.")
    if created_after is not None and (updated_after is not None or updated_before is not None):
        raise invalid("Invalid LastUpdatedAfter/LastUpdatedBefore: LastUpdatedAfter and LastUpdatedBefore cannot "
                      "be set when CreatedAfter is set.")
    if updated_after is not None and created_before is not None:
        raise invalid("Invalid CreatedBefore: CreatedBefore cannot be set when LastUpdatedAfter is set.")
    if "SellerOrderId" in f:
        for name in ("FulfillmentChannels", "OrderStatuses", "PaymentMethods", "LastUpdatedAfter",
                     "LastUpdatedBefore", "BuyerEmail"):
            if name in f:
                raise invalid(f"Invalid {name}: {name} cannot be specified when SellerOrderId is specified.")
    if "BuyerEmail" in f:
        for name in ("FulfillmentChannels", "OrderStatuses", "PaymentMethods", "LastUpdatedAfter",
                     "LastUpdatedBefore"):
            if name in f:
                raise invalid(f"Invalid {name}: {name} cannot be specified when BuyerEmail is specified.")
    if created_after is not None:
        before_key = "CreatedBefore"
        before = created_before if resume and created_before else check_window(
            "CreatedAfter", created_after, "CreatedBefore", created_before)
        candidates = data.created_between(created_after.timestamp(), before.timestamp())
    else:
        assert updated_after is not None
        before_key = "LastUpdatedBefore"
        before = updated_before if resume and updated_before else check_window(
            "LastUpdatedAfter", updated_after, "LastUpdatedBefore", updated_before)
        candidates = data.updated_between(updated_after.timestamp(), before.timestamp())
    market_set = set(markets)
    ids = set(order_ids) if order_ids else None
    email = f.get("BuyerEmail", "").lower() or None
    seller_order_id = f.get("SellerOrderId")
    ispu = f.get("IsISPU", "").lower() == "true"
    out = [
        o for o in candidates
        if o.market.id in market_set
        and (ids is None or o.order_id in ids)
        and (statuses is None or o.status in statuses)
        and (channels is None or o.channel in channels)
        and (payments is None or o.payment_method in payments)
        and (email is None or (o.buyer_email is not None and o.buyer_email.lower() == email))
        and (seller_order_id is None or o.seller_order_id == seller_order_id)
        and not ispu
    ]
    return out, before_key, iso(before)


def get_order(req: Request) -> Response:
    """GET /orders/v0/orders/{orderId}."""
    order = require_order(req, req.path_args["orderId"])
    return Response(200, {"payload": render_order(order, req.rdt_elements)})


def get_order_items(req: Request) -> Response:
    """GET /orders/v0/orders/{orderId}/orderItems (paged by ``items_page_size``)."""
    order = require_order(req, req.path_args["orderId"])
    offset = 0
    token = req.query.get("NextToken")
    if token:
        state = decode_token(token, "NextToken")
        if state.get("k") != "items" or state.get("id") != order.order_id:
            raise invalid("Invalid NextToken: the token does not belong to this order's items.")
        offset = int(state["o"])
    size = max(1, req.config.items_page_size)
    page = order.items[offset:offset + size]
    payload: dict[str, Any] = {"OrderItems": [render_item(i, order) for i in page]}
    if offset + size < len(order.items):
        payload["NextToken"] = encode_token({"k": "items", "id": order.order_id, "o": offset + size})
    payload["AmazonOrderId"] = order.order_id
    return Response(200, {"payload": payload})


def render_address(order: OrderRecord, pii: bool) -> dict[str, Any]:
    """getOrderAddress's ``OrderAddress`` payload."""
    payload: dict[str, Any] = {"AmazonOrderId": order.order_id}
    if pii and order.buyer_company:
        payload["BuyerCompanyName"] = order.buyer_company
    payload["ShippingAddress"] = shipping_address(order, pii)
    return payload


def render_buyer_info(order: OrderRecord, pii: bool) -> dict[str, Any]:
    """getOrderBuyerInfo's ``OrderBuyerInfo`` payload."""
    return {"AmazonOrderId": order.order_id, **buyer_info(order, pii)}


def get_order_address(req: Request) -> Response:
    """GET /orders/v0/orders/{orderId}/address (PII only with an RDT for this path)."""
    order = require_order(req, req.path_args["orderId"])
    return Response(200, {"payload": render_address(order, req.rdt_elements is not None)})


def get_order_buyer_info(req: Request) -> Response:
    """GET /orders/v0/orders/{orderId}/buyerInfo (BuyerEmail/BuyerName only with an RDT for this path)."""
    order = require_order(req, req.path_args["orderId"])
    return Response(200, {"payload": render_buyer_info(order, req.rdt_elements is not None)})


# -- export: orders as a plain LWA token sees them; address and buyer info (read only by restricted tables) as a
#    Restricted Data Token sees them ------------------------------------------------------------------------------
def _export_orders(data: Dataset) -> Iterator[Row]:
    for o in data.orders:
        yield render_order(o), {"MarketplaceIds": [o.market.id]}, {}


def _export_by_id(render: Callable[[OrderRecord], dict[str, Any]]) -> Exporter:
    def run(data: Dataset) -> Iterator[Row]:
        for o in data.orders:
            yield render(o), {}, {"orderId": o.order_id}
    return run


def _export_items(data: Dataset) -> Iterator[Row]:
    for o in data.orders:
        for i in o.items:
            yield render_item(i, o), {}, {"orderId": o.order_id}


ENDPOINTS = (
    Endpoint("orders", "v0", "getOrders", get_orders, export=_export_orders),
    Endpoint("orders", "v0", "getOrder", get_order, export=_export_by_id(render_order)),
    Endpoint("orders", "v0", "getOrderItems", get_order_items, export=_export_items),
    Endpoint("orders", "v0", "getOrderAddress", get_order_address,
             export=_export_by_id(lambda o: render_address(o, True))),
    Endpoint("orders", "v0", "getOrderBuyerInfo", get_order_buyer_info,
             export=_export_by_id(lambda o: render_buyer_info(o, True))),
)

__all__ = ["ENDPOINTS", "ApiError", "get_order", "get_order_address", "get_order_buyer_info", "get_order_items",
           "get_orders", "render_address", "render_buyer_info", "render_item", "render_order"]
