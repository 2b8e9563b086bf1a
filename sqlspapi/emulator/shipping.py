"""Shipping API v1 (Amazon Shipping; reads): getShipment and getTrackingInformation for the demo seller's MFN orders.

The demo seller ships its merchant-fulfilled (MFN) orders with Amazon Shipping: every MFN order with shipped units
has one shipment and one tracking id.

* ``shipmentId`` is the order id's digits; ``clientReferenceId`` is the order id. One container holds the shipped
  units: each item's title (cut to the model's 30 characters), quantity, unit price (the order's, in the order's
  currency) and unit weight (fixed per product); the container's value is their sum.
* ``shipTo`` is the order's delivery address, ``shipFrom`` the seller's warehouse in that country; the accepted rate
  follows the order's shipment category (FreeEconomy → Ground, Standard → Standard, faster → Premium), its charge a
  base price per service plus a price per kilogram (converted with the marketplace's price factor); the promise is
  the order's ship-by and deliver-by windows.
* ``trackingId`` is ``TBA`` + the first 12 digits of the order id — the ``trackingNumber`` of the order's package in
  Orders 2026-01-01 — so ``orders.packages`` joins ``shipping_tracking``. Events run from ready-for-pickup to
  delivered (a Shipped order) or out for delivery (a partly shipped one), one step a day from the order's ship-by
  start, none after the dataset's anchor; ``summary.status`` is ``Delivered`` or ``InTransit``.

An unknown shipmentId or trackingId is 404 NotFound. Deterministic in the dataset.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlspapi.emulator.common import Request, Response, not_found
from sqlspapi.emulator.data import Address, Dataset, OrderRecord, Product, iso, money_str
from sqlspapi.emulator.generic import Endpoint, Row, rules
from sqlspapi.emulator.money import usd_to_minor
from sqlspapi.emulator.pools import Market

SECTION, VERSION = "shipping", "v1"
NO_PARAMS = rules("")
#: The demo seller's Amazon Shipping account (``shipper.accountId``; at most 10 characters).
ACCOUNT_ID = "2755049166"
SHIPPED = frozenset({"Shipped", "PartiallyShipped", "InvoiceUnconfirmed"})
#: The longest container item title the model allows (longer order item titles are cut).
TITLE_MAX = 30
#: Shipment category → (Amazon Shipping service, base charge in USD cents, USD cents per kg).
SERVICES = {"FreeEconomy": ("Amazon Shipping Ground", 399, 60), "Standard": ("Amazon Shipping Standard", 499, 80)}
PREMIUM = ("Amazon Shipping Premium", 899, 120)
#: Tracking steps: (event code, days after the ship-by start).
STEPS = (("ReadyForReceive", 0.0), ("PickupDone", 0.25), ("Departed", 0.5), ("ArrivedAtCarrierFacility", 1.0),
         ("OutForDelivery", 2.0), ("Delivered", 2.3))
#: The seller's warehouse per country: (addressLine1, city, stateOrRegion, postalCode).
WAREHOUSES = {"US": ("100 Commerce Way", "Reno", "NV", "89502"), "CA": ("55 Logistics Dr", "Mississauga", "ON",
                                                                         "L5T 2H7"),
              "DE": ("Lagerstraße 12", "Leipzig", "SN", "04109"), "GB": ("Unit 4, Dock Road", "Coventry",
                                                                       "West Midlands", "CV1 2AB"),
              "JP": ("1-2-3 Minato", "Osaka", "Osaka", "552-0021")}


def unit_weight_kg(product: Product) -> float:
    """A product's shipping weight in kilograms (0.1 … 2.5, fixed per ASIN)."""
    return round(0.1 + (zlib.crc32(f"weight:{product.asin}".encode()) % 25) / 10, 2)


def tracking_id(order_id: str) -> str:
    """The tracking id of an order's package (as Orders 2026-01-01 renders its ``trackingNumber``)."""
    return "TBA" + order_id.replace("-", "")[:12]


def _amount(minor: int, market: Market) -> float:
    return float(money_str(minor, market))


def _address(name: str, line1: str, city: str, state: str, postal: str, country: str,
             phone: str | None = None) -> dict[str, Any]:
    out = {"name": name, "addressLine1": line1, "city": city, "stateOrRegion": state, "postalCode": postal,
           "countryCode": country}
    if phone:
        out["phoneNumber"] = phone
    return out


def _ship_to(a: Address) -> dict[str, Any]:
    return _address(a.name, a.line1, a.city, a.state, a.postal, a.country, a.phone)


@dataclass(frozen=True)
class Shipped:
    """An order's Amazon Shipping shipment and tracking, as the API renders them."""

    shipment: dict[str, Any]
    tracking: dict[str, Any]


def _render(order: OrderRecord, anchor_ts: float) -> Shipped:
    market = order.market
    items = [i for i in order.items if i.shipped]
    weight = round(sum(unit_weight_kg(i.product) * i.shipped for i in items) + 0.2, 2)
    service, base, per_kg = SERVICES.get(order.ship_category, PREMIUM)
    charge = usd_to_minor(base + round(per_kg * weight), market)
    ship_by = order.earliest_ship or order.purchase
    shipment = {
        "shipmentId": order.order_id.replace("-", ""),
        "clientReferenceId": order.order_id,
        "shipFrom": _address("Emulator Demo Store", *WAREHOUSES[market.country_code], market.country_code),
        "shipTo": _ship_to(order.address),
        "acceptedRate": {
            "totalCharge": {"value": _amount(charge, market), "unit": market.currency},
            "billedWeight": {"value": weight, "unit": "kg"},
            "serviceType": service,
            "promise": {"receiveWindow": {"start": iso(ship_by), "end": iso(ship_by + timedelta(hours=2))},
                        "deliveryWindow": {"start": iso(order.earliest_delivery or ship_by),
                                           "end": iso(order.latest_delivery or ship_by + timedelta(days=5))}}},
        "shipper": {"accountId": ACCOUNT_ID},
        "containers": [{
            "containerType": "PACKAGE",
            "containerReferenceId": "1",
            "value": {"value": _amount(sum(i.unit_price * i.shipped for i in items), market),
                      "unit": market.currency},
            "dimensions": {"length": 36.0, "width": 31.0, "height": 12.0 + 4 * len(items), "unit": "CM"},
            "items": [{"title": i.title[:TITLE_MAX], "quantity": i.shipped,
                       "unitPrice": {"value": _amount(i.unit_price, market), "unit": market.currency},
                       "unitWeight": {"value": unit_weight_kg(i.product), "unit": "kg"}} for i in items],
            "weight": {"value": weight, "unit": "kg"},
        }],
    }
    last = len(STEPS) if order.status != "PartiallyShipped" else len(STEPS) - 1
    warehouse, home = WAREHOUSES[market.country_code], order.address
    events = []
    for n, (code, days) in enumerate(STEPS[:last]):
        at = ship_by + timedelta(days=days)
        if at.timestamp() > anchor_ts:
            break
        city, state, postal = (warehouse[1], warehouse[2], warehouse[3]) if n < 3 else (home.city, home.state,
                                                                                         home.postal)
        events.append({"eventCode": code, "eventTime": iso(at),
                       "location": {"city": city, "stateOrRegion": state, "postalCode": postal,
                                    "countryCode": market.country_code}})
    delivered = bool(events) and events[-1]["eventCode"] == "Delivered"
    tracking = {"trackingId": tracking_id(order.order_id),
                "summary": {"status": "Delivered" if delivered else "InTransit"},
                "promisedDeliveryDate": iso(order.latest_delivery or ship_by + timedelta(days=5)),
                "eventHistory": events}
    return Shipped(shipment, tracking)


@dataclass(frozen=True)
class Shipments:
    """Shipments by shipmentId and trackings by trackingId."""

    shipments: dict[str, dict[str, Any]]
    trackings: dict[str, dict[str, Any]]


def build(data: Dataset) -> Shipments:
    """Every MFN order with shipped units, rendered once."""
    shipments: dict[str, dict[str, Any]] = {}
    trackings: dict[str, dict[str, Any]] = {}
    anchor_ts = data.anchor.timestamp()
    for order in data.orders:
        if order.channel == "MFN" and order.status in SHIPPED and order.units_shipped:
            done = _render(order, anchor_ts)
            shipments[done.shipment["shipmentId"]] = done.shipment
            trackings.setdefault(done.tracking["trackingId"], done.tracking)
    return Shipments(shipments, trackings)


def shipments(data: Dataset) -> Shipments:
    """The dataset's Amazon Shipping shipments (built on first use)."""
    return data.derived("shipping", build)


def get_shipment(req: Request) -> Response:
    """GET /shipping/v1/shipments/{shipmentId}."""
    wanted = req.path_args["shipmentId"]
    found = shipments(req.data).shipments.get(wanted)
    if found is None:
        raise not_found(f"Shipment {wanted} was not found.")
    return Response(200, {"payload": found})


def get_tracking_information(req: Request) -> Response:
    """GET /shipping/v1/tracking/{trackingId}."""
    wanted = req.path_args["trackingId"]
    found = shipments(req.data).trackings.get(wanted)
    if found is None:
        raise not_found(f"Tracking information for {wanted} was not found.")
    return Response(200, {"payload": found})


def _export_shipments(data: Dataset) -> Iterator[Row]:
    for key, shipment in shipments(data).shipments.items():
        yield shipment, {}, {"shipmentId": key}


def _export_trackings(data: Dataset) -> Iterator[Row]:
    for key, tracking in shipments(data).trackings.items():
        yield tracking, {}, {"trackingId": key}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(SECTION, VERSION, "getShipment", get_shipment, NO_PARAMS, _export_shipments),
    Endpoint(SECTION, VERSION, "getTrackingInformation", get_tracking_information, NO_PARAMS, _export_trackings),
)
