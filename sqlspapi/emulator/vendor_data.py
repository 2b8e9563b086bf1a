"""The demo company as an Amazon vendor: the purchase orders Amazon Retail placed with it, built from the dataset.

Amazon orders the dataset's products (``Dataset.products``: the ASIN as ``amazonProductIdentifier``, the seller SKU
as the vendor's ``vendorProductIdentifier``) from the vendor codes of :data:`VENDOR_CODES`, one marketplace each
(``DEMO1`` orders the first half of the catalogue in the US, ``DEMO2`` the second), for delivery to a fulfilment
center of that marketplace. The net cost of a unit is 45–62 % of the listing price (:func:`money.list_price`), which
the purchase order also shows as ``listPrice``; amounts are minor units of the marketplace's currency.

Timing, in the two years before the dataset's anchor (nothing within five minutes of it): Amazon places about 3
purchase orders a weekday and one every other weekend day, seven times as many in October and November (stocking up
for the fourth quarter), so a 7-day window then holds more than one 100-order page. About 18 % are changed by Amazon
a few hours after they were placed (one item's quantity changed, or — with more than one item — one item cancelled
to quantity 0). The vendor acknowledges 3–40 hours after placement (after any change): most items accepted in full,
some partly, some rejected; Amazon receives the accepted units 4–18 days later, when the order is ``Closed``. The
state (``New``, ``Acknowledged``, ``Closed``) is the state at the anchor; an open order may be partly received.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.data import Dataset, Product, iso, money_str
from sqlspapi.emulator.money import list_price
from sqlspapi.emulator.pools import MARKETS, Market

#: Vendor codes (``sellingParty.partyId``, the ``orderingVendorCode`` filter) by marketplace key.
VENDOR_CODES: dict[str, tuple[str, ...]] = {"US": ("DEMO1", "DEMO2"), "CA": ("DEMOCA",), "DE": ("DEMODE",),
                                            "UK": ("DEMOUK",), "JP": ("DEMOJP",)}
#: Share of the purchase orders by marketplace key.
PO_MARKET_WEIGHTS = {"US": 55, "CA": 10, "DE": 15, "UK": 12, "JP": 8}
#: Fulfilment centers by marketplace key: (code, street, city, state or region, postal code).
CENTERS: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "US": (("ABE2", "705 Boulder Dr", "Breinigsville", "PA", "18031"),
           ("PHX6", "4750 W Mohave St", "Phoenix", "AZ", "85043"),
           ("ONT8", "24300 Nandina Ave", "Moreno Valley", "CA", "92551"),
           ("BFI4", "21005 64th Ave S", "Kent", "WA", "98032"),
           ("MDW2", "250 Emerald Dr", "Joliet", "IL", "60433"),
           ("CLT2", "10240 Old Dowd Rd", "Charlotte", "NC", "28214")),
    "CA": (("YYZ4", "8050 Heritage Rd", "Brampton", "ON", "L6Y 0C9"),
           ("YVR2", "450 Derwent Pl", "Delta", "BC", "V3M 5Y9")),
    "DE": (("FRA3", "Amazonstraße 1", "Bad Hersfeld", "Hessen", "36251"),
           ("MUC3", "Amazonstraße 1", "Graben", "Bayern", "86836"),
           ("DUS2", "Amazonstraße 1", "Rheinberg", "Nordrhein-Westfalen", "47495")),
    "UK": (("BHX4", "Plot 1 Lyons Park", "Coventry", "West Midlands", "CV5 9PF"),
           ("LTN1", "Marston Gate", "Ridgmont", "Bedfordshire", "MK43 0ZA"),
           ("EDI4", "Amazon Way", "Dunfermline", "Fife", "KY11 8ST")),
    "JP": (("NRT5", "塩浜2-13-1", "市川市", "千葉県", "272-0127"),
           ("KIX2", "築港八幡町1-1", "堺市堺区", "大阪府", "590-0901")),
}
#: Amazon Retail's buying entity by marketplace key: (party id, name, street, city, state, postal code).
RETAIL: dict[str, tuple[str, str, str, str, str, str]] = {
    "US": ("AMZNUS", "Amazon.com Services LLC", "410 Terry Ave N", "Seattle", "WA", "98109"),
    "CA": ("AMZNCA", "Amazon.com.ca ULC", "40 King St W", "Toronto", "ON", "M5H 3Y2"),
    "DE": ("AMZNDE", "Amazon EU S.à r.l., Niederlassung Deutschland", "Marcel-Breuer-Straße 12", "München", "Bayern",
           "80807"),
    "UK": ("AMZNUK", "Amazon UK Services Ltd.", "1 Principal Place, Worship Street", "London", "London", "EC2A 2FA"),
    "JP": ("AMZNJP", "アマゾンジャパン合同会社", "下目黒1-8-1", "目黒区", "東京都", "153-0064"),
}
#: VAT registrations (vendor, Amazon) where purchase orders carry tax details.
VAT = {"DE": ("DE301234567", "DE812345678"), "UK": ("GB123456789", "GB727255821")}
#: purchaseOrderType values, drawn with the weights beside.
PO_TYPES = ("RegularOrder", "NewProductIntroduction", "RushOrder", "ConsignedOrder")
_PO_TYPE_WEIGHTS = (88, 4, 5, 3)
_ITEM_COUNT_WEIGHTS = (30, 25, 15, 10, 8, 6, 4, 2)  # 1 … 8 items
#: Months in which Amazon stocks up for the fourth quarter, and how many times more it orders then.
PEAK_MONTHS, PEAK_FACTOR = (10, 11), 7
_NUMBER_CHARS = string.ascii_uppercase + string.digits
#: Days of purchase orders before the anchor (the dataset's two years).
SPAN_DAYS = 730


@dataclass(slots=True)
class PoItem:
    """One line of a purchase order; quantities in the line's unit (cases of ``unit_size``, or eaches)."""

    seq: int
    product: Product
    original: int  # ordered when the PO was placed
    ordered: int  # ordered now (0: cancelled by Amazon)
    unit_size: int  # 1: eaches
    back_order: bool
    net_cost: int  # per each, minor units
    list_price: int
    accepted: int = 0
    rejected: int = 0
    received: int = 0
    received_at: datetime | None = None

    @property
    def unit(self) -> str:
        """``unitOfMeasure``: Cases or Eaches."""
        return "Cases" if self.unit_size > 1 else "Eaches"

    @property
    def confirmation(self) -> str:
        """The vendor's confirmation status of the line (UNCONFIRMED before the acknowledgement)."""
        if self.accepted == 0:
            return "REJECTED"
        return "ACCEPTED" if self.rejected == 0 else "PARTIALLY_ACCEPTED"

    @property
    def receive_status(self) -> str:
        """NOT_RECEIVED, PARTIALLY_RECEIVED or RECEIVED."""
        if self.received == 0:
            return "NOT_RECEIVED"
        return "RECEIVED" if self.received >= self.accepted else "PARTIALLY_RECEIVED"


@dataclass(slots=True)
class PurchaseOrder:
    """One purchase order Amazon placed with the vendor, as of the dataset's anchor."""

    number: str
    market: Market
    vendor_code: str
    center: tuple[str, str, str, str, str]
    placed: datetime
    po_type: str
    payment: str
    items: list[PoItem]
    state: str = "New"
    state_changed: datetime | None = None
    changed: datetime | None = None
    acknowledged: datetime | None = None
    deal_code: str | None = None
    imported: bool = False
    ship_window: bool = True
    ts: float = 0.0

    @property
    def cancelled_item(self) -> bool:
        """Whether Amazon cancelled an item (quantity 0): the ``poItemState=Cancelled`` filter."""
        return any(i.ordered == 0 for i in self.items)

    @property
    def status(self) -> str:
        """``purchaseOrderStatus`` of getPurchaseOrdersStatus: CLOSED once Amazon received everything."""
        return "CLOSED" if self.state == "Closed" else "OPEN"

    @property
    def last_updated(self) -> datetime:
        """``lastUpdatedDate``: the latest change, acknowledgement, receipt or state change."""
        moments = [self.placed, self.changed, self.acknowledged, self.state_changed,
                   *(i.received_at for i in self.items)]
        return max(m for m in moments if m is not None)


@dataclass(slots=True)
class VendorData:
    """The purchase orders, oldest first, and an index by number."""

    orders: list[PurchaseOrder]
    by_number: dict[str, PurchaseOrder]
    keys: list[float]  # placement timestamps, for bisecting a created window


def build_vendor_data(data: Dataset) -> VendorData:
    """Every purchase order of the dataset (deterministic in its seed, products and anchor)."""
    rng = random.Random(f"vendor-orders-{data.seed}")
    markets = {m.key: m for m in MARKETS}
    keys, weights = zip(*PO_MARKET_WEIGHTS.items(), strict=True)
    half = len(data.products) // 2
    assortment = {"DEMO1": data.products[:half], "DEMO2": data.products[half:]}
    latest = data.anchor - timedelta(minutes=5)
    first_day = (data.anchor - timedelta(days=SPAN_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    seen: set[str] = set()
    out: list[PurchaseOrder] = []
    for day in range(SPAN_DAYS + 1):
        start = first_day + timedelta(days=day)
        count = rng.randint(2, 4) if start.weekday() < 5 else rng.randint(0, 1)
        if start.month in PEAK_MONTHS:
            count *= PEAK_FACTOR
        for stamp in sorted(rng.randrange(86400) for _ in range(count)):
            placed = start + timedelta(seconds=stamp)
            if placed >= latest:
                continue
            market = markets[rng.choices(keys, weights)[0]]
            code = rng.choice(VENDOR_CODES[market.key])
            number = ""
            while not number or number in seen:
                number = rng.choice(string.digits[1:]) + "".join(rng.choices(_NUMBER_CHARS, k=7))
            seen.add(number)
            po = _purchase_order(rng, number, market, code, placed, assortment.get(code, data.products))
            _lifecycle(rng, po, data.anchor)
            out.append(po)
    return VendorData(out, {po.number: po for po in out}, [po.ts for po in out])


def vendor_data(data: Dataset) -> VendorData:
    """The dataset's purchase orders (built on first use)."""
    return data.derived("vendor_orders", build_vendor_data)


def _purchase_order(rng: random.Random, number: str, market: Market, code: str, placed: datetime,
                    products: list[Product]) -> PurchaseOrder:
    po_type = rng.choices(PO_TYPES, _PO_TYPE_WEIGHTS)[0]
    payment = "Consignment" if po_type == "ConsignedOrder" else ("Prepaid" if rng.random() < 0.03 else "Invoice")
    lines = []
    n_items = rng.choices(range(1, 9), _ITEM_COUNT_WEIGHTS)[0]
    for seq, product in enumerate(rng.sample(products, min(n_items, len(products))), start=1):
        size = rng.choice((6, 12, 24)) if rng.random() < 0.3 else 1
        amount = rng.randint(1, 20) if size > 1 else rng.randint(1, 40) * 5
        price = list_price(product, market)
        net = max(1, int(round(price * rng.uniform(0.45, 0.62))))
        lines.append(PoItem(seq, product, amount, amount, size, rng.random() < 0.3, net, price))
    po = PurchaseOrder(number, market, code, rng.choice(CENTERS[market.key]), placed, po_type, payment, lines,
                       ts=placed.timestamp())
    if rng.random() < 0.05:
        po.deal_code = f"DEAL{rng.randrange(10**5):05d}"
    po.imported = market.key == "US" and rng.random() < 0.03
    po.ship_window = rng.random() < 0.65
    return po


def _lifecycle(rng: random.Random, po: PurchaseOrder, anchor: datetime) -> None:
    """Change, acknowledge and receive ``po`` as far as the anchor lets it get."""
    po.state_changed = po.placed
    if rng.random() < 0.18:
        changed = po.placed + timedelta(seconds=rng.randrange(3600, 30 * 3600))
        if changed < anchor:
            po.changed = changed
            item = rng.choice(po.items)
            if len(po.items) > 1 and rng.random() < 0.4:
                item.ordered = 0
            else:
                item.ordered = max(1, item.original + rng.choice((-1, 1)) * max(1, item.original // rng.randint(2, 4)))
    acked = po.placed + timedelta(seconds=rng.randrange(3 * 3600, 40 * 3600))
    if po.changed is not None:
        acked = max(acked, po.changed + timedelta(minutes=30))
    if acked >= anchor:
        return
    po.acknowledged = po.state_changed = acked
    po.state = "Acknowledged"
    for item in po.items:
        roll = rng.random()
        if item.ordered == 0:
            continue
        if roll < 0.82 or (roll < 0.92 and item.ordered == 1):
            item.accepted = item.ordered
        elif roll < 0.92:
            item.accepted = rng.randint(1, item.ordered - 1)
        item.rejected = item.ordered - item.accepted
    done = acked + timedelta(seconds=rng.randrange(4 * 86400, 18 * 86400))
    if not any(i.accepted for i in po.items):
        done = acked + timedelta(hours=rng.randint(1, 24))
    if done < anchor:
        po.state, po.state_changed = "Closed", done
        for item in po.items:
            if item.accepted:
                item.received = item.accepted
                item.received_at = done - timedelta(seconds=rng.randrange(0, 86400))
        return
    first = acked + timedelta(seconds=rng.randrange(2 * 86400, 4 * 86400))
    if first < anchor:
        for item in po.items:
            if item.accepted and rng.random() < 0.5:
                item.received = rng.randint(1, item.accepted)
                item.received_at = first


# ------------------------------------------------------------------------------------------------ rendering
def _money(minor: int, market: Market) -> dict[str, str]:
    return {"amount": money_str(minor, market), "currencyCode": market.currency}


def _quantity(amount: int, item: PoItem) -> dict[str, Any]:
    return {"amount": amount, "unitOfMeasure": item.unit, "unitSize": item.unit_size}


def _party(party_id: str, name: str, street: str, city: str, state: str, postal: str, country: str,
           vat: str | None = None) -> dict[str, Any]:
    address = {"name": name, "addressLine1": street, "city": city, "stateOrRegion": state, "postalCode": postal,
               "countryCode": country}
    out: dict[str, Any] = {"partyId": party_id, "address": address}
    if vat:
        out["taxInfo"] = {"taxRegistrationType": "VAT", "taxRegistrationNumber": vat}
    return out


def _center(po: PurchaseOrder) -> dict[str, Any]:
    code, street, city, state, postal = po.center
    return _party(code, f"{RETAIL[po.market.key][1]} ({code})", street, city, state, postal, po.market.country_code)


def _window(start: datetime, days: int) -> str:
    """An ISO 8601 interval ``start--end`` (``DateTimeInterval``)."""
    return f"{iso(start)}--{iso(start + timedelta(days=days))}"


def render_order(po: PurchaseOrder, details: bool = True) -> dict[str, Any]:
    """The model's ``Order``; without ``details`` only its number and state (``includeDetails=false``)."""
    out: dict[str, Any] = {"purchaseOrderNumber": po.number, "purchaseOrderState": po.state}
    if not details:
        return out
    m = po.market
    assert po.state_changed is not None
    d: dict[str, Any] = {"purchaseOrderDate": iso(po.placed)}
    if po.changed is not None:
        d["purchaseOrderChangedDate"] = iso(po.changed)
    d["purchaseOrderStateChangedDate"] = iso(po.state_changed)
    d["purchaseOrderType"] = po.po_type
    if po.imported:
        d["importDetails"] = {"methodOfPayment": "PaidByBuyer", "internationalCommercialTerms": "FreeOnBoard",
                              "portOfDelivery": "USLAX", "importContainers": "1-40'HC",
                              "shippingInstructions": "Floor-loaded containers are refused: palletize."}
    if po.deal_code:
        d["dealCode"] = po.deal_code
    d["paymentMethod"] = po.payment
    retail_id, name, street, city, state, postal = RETAIL[m.key]
    vendor_vat, amazon_vat = VAT.get(m.key, (None, None))
    d["buyingParty"] = _center(po)
    d["sellingParty"] = {"partyId": po.vendor_code}
    if vendor_vat:
        d["sellingParty"]["taxInfo"] = {"taxRegistrationType": "VAT", "taxRegistrationNumber": vendor_vat}
    d["shipToParty"] = _center(po)
    d["billToParty"] = _party(retail_id, name, street, city, state, postal, m.country_code, amazon_vat)
    day = po.placed.replace(hour=7, minute=0, second=0, microsecond=0)
    if po.ship_window:
        d["shipWindow"] = _window(day + timedelta(days=1), 6)
    else:
        d["deliveryWindow"] = _window(day + timedelta(days=3), 7)
    d["items"] = [{"itemSequenceNumber": str(i.seq), "amazonProductIdentifier": i.product.asin,
                   "vendorProductIdentifier": i.product.sku, "orderedQuantity": _quantity(i.ordered, i),
                   "isBackOrderAllowed": i.back_order, "netCost": _money(i.net_cost, m),
                   "listPrice": _money(i.list_price, m)} for i in po.items]
    out["orderDetails"] = d
    return out


def _item_status(po: PurchaseOrder, item: PoItem) -> dict[str, Any]:
    m = po.market
    details: list[dict[str, Any]] = [{"updatedDate": iso(po.placed), "orderedQuantity": _quantity(item.original, item)}]
    if po.changed is not None and item.ordered > item.original:
        details.append({"updatedDate": iso(po.changed), "orderedQuantity": _quantity(item.ordered - item.original,
                                                                                        item)})
    elif po.changed is not None and item.ordered < item.original:
        details.append({"updatedDate": iso(po.changed),
                        "cancelledQuantity": _quantity(item.original - item.ordered, item)})
    ack: dict[str, Any] = {"confirmationStatus": "UNCONFIRMED"}
    if po.acknowledged is not None:
        ack = {"confirmationStatus": item.confirmation, "acceptedQuantity": _quantity(item.accepted, item),
               "rejectedQuantity": _quantity(item.rejected, item),
               "acknowledgementStatusDetails": [{"acknowledgementDate": iso(po.acknowledged),
                                                 "acceptedQuantity": _quantity(item.accepted, item),
                                                 "rejectedQuantity": _quantity(item.rejected, item)}]}
    receiving: dict[str, Any] = {"receiveStatus": item.receive_status,
                                 "receivedQuantity": _quantity(item.received, item)}
    if item.received_at is not None:
        receiving["lastReceiveDate"] = iso(item.received_at)
    return {"itemSequenceNumber": str(item.seq), "buyerProductIdentifier": item.product.asin,
            "vendorProductIdentifier": item.product.sku, "netCost": _money(item.net_cost, m),
            "listPrice": _money(item.list_price, m),
            "orderedQuantity": {"orderedQuantity": _quantity(item.ordered, item), "orderedQuantityDetails": details},
            "acknowledgementStatus": ack, "receivingStatus": receiving}


def render_status(po: PurchaseOrder) -> dict[str, Any]:
    """The model's ``OrderStatus`` of getPurchaseOrdersStatus."""
    return {"purchaseOrderNumber": po.number, "purchaseOrderStatus": po.status,
            "purchaseOrderDate": iso(po.placed), "lastUpdatedDate": iso(po.last_updated),
            "sellingParty": {"partyId": po.vendor_code}, "shipToParty": _center(po),
            "itemStatus": [_item_status(po, i) for i in po.items]}


def retention_start(data: Dataset, now: datetime | None = None) -> datetime:
    """The oldest moment getPurchaseOrders searches: six months (183 days) before now — or before the dataset's
    anchor when that is earlier, so a dataset anchored in the past keeps its last six months searchable."""
    moment = min(now or datetime.now(UTC), data.anchor)
    return moment - timedelta(days=183)
