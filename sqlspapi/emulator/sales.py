"""Sales API v1: getOrderMetrics, aggregated from the emulator's own orders.

What is counted, so that ``order_metrics`` equals a GROUP BY over ``orders`` / ``order_items``: the orders of the
one ``marketplaceIds`` marketplace whose PurchaseDate lies in the interval's bucket (start inclusive, end exclusive)
and whose status is neither Pending (no prices yet) nor Canceled; ``buyerType`` B2B = business orders, B2C = the
others; ``fulfillmentNetwork`` AFN/MFN = the order's FulfillmentChannel; ``asin``/``sku`` keep only the items of
that product (an order counts when one of its items is kept). Per bucket: ``unitCount`` = Σ QuantityOrdered,
``orderItemCount`` = number of items, ``orderCount`` = number of orders, ``totalSales`` = Σ ItemPrice (unit price ×
quantity, without shipping, tax or promotions), ``averageUnitPrice`` = totalSales / unitCount rounded half-up to the
currency's minor unit ("0" without units). ``amazonProgram=AmazonHaul`` matches nothing (no Haul orders).

Buckets: ``interval`` is ``start--end`` (ISO 8601 with ``Z`` or an offset). Hour, Day, Week (from
``firstDayOfWeek``), Month and Year boundaries are local to ``granularityTimeZone`` (required for Day and coarser;
it must have the interval's offset at its start: ``UTC`` for ``Z``); the first and last buckets are cut to the
interval (partial head and tail, as Amazon does); Total is one bucket. Every bucket is returned, empty ones with
zeros; labels read ``2026-01-05T00:00Z--2026-01-06T00:00Z`` (``±HH:MM`` outside UTC). Limitations: the span may not
exceed 30 days for Hour and two years otherwise (Amazon measures both from now); zones other than UTC need the
system's (or the ``tzdata`` package's) IANA database.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import money_str
from sqlspapi.emulator.generic import Endpoint, rules
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS_BY_ID, Market

GRANULARITIES = ("Hour", "Day", "Week", "Month", "Year", "Total")
METRICS = rules(f"""
marketplaceIds       string[]  required
interval             string    required
granularityTimeZone  string
granularity          string    required enum={','.join(GRANULARITIES)}
buyerType            string    enum=B2B,B2C,All default=All
fulfillmentNetwork   string
firstDayOfWeek       string    enum=Monday,Sunday default=Monday
asin                 string
sku                  string
amazonProgram        string    enum=AmazonHaul
""")
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"})
_MAX_SPAN = {"Hour": timedelta(days=30)}
_DEFAULT_SPAN = timedelta(days=731)


def _instant(text: str) -> datetime:
    text = text.strip().replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"Invalid interval: {text!r} is not an ISO 8601 date-time.") from None
    if value.tzinfo is None:
        raise invalid(f"Invalid interval: {text!r} must be an absolute time (Z or an offset such as -07:00).")
    return value


def parse_interval(text: str) -> tuple[datetime, datetime]:
    """``start--end`` → two aware datetimes (400 unless both are absolute and start < end)."""
    head, sep, tail = text.partition("--")
    if not sep:
        raise invalid("Invalid interval: use two ISO 8601 date-times separated by '--'.")
    start, end = _instant(head), _instant(tail)
    if start >= end:
        raise invalid("Invalid interval: the start must be before the end.")
    return start, end


def _zone(name: str | None, granularity: str, start: datetime) -> tzinfo:
    offset = start.utcoffset()
    if name is None:
        if granularity not in ("Hour", "Total"):
            raise invalid(f"Missing required parameter: granularityTimeZone is required with granularity "
                          f"{granularity}.")
        return UTC if not offset else start.tzinfo  # type: ignore[return-value]
    if name in _UTC_NAMES:
        zone: tzinfo = UTC
    else:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid(f"Invalid granularityTimeZone: {name!r} is not an IANA time zone.") from None
    if start.astimezone(zone).utcoffset() != offset:
        raise invalid(f"Invalid granularityTimeZone: {name} does not have the interval's offset at its start.")
    return zone


def _next_boundary(t: datetime, granularity: str, zone: tzinfo, first_day: int) -> datetime:
    """The first bucket boundary after ``t`` (aware, in ``zone``)."""
    local = t.astimezone(zone)
    if granularity == "Hour":
        return (local.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if granularity == "Day":
        wall = midnight + timedelta(days=1)
    elif granularity == "Week":
        wall = midnight + timedelta(days=(first_day - midnight.weekday() - 1) % 7 + 1)
    elif granularity == "Month":
        wall = (midnight.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        wall = midnight.replace(year=midnight.year + 1, month=1, day=1)
    return wall.replace(tzinfo=zone)


def buckets(start: datetime, end: datetime, granularity: str, zone: tzinfo,
            first_day: str = "Monday") -> list[tuple[datetime, datetime]]:
    """The [start, end) buckets of an interval at a granularity (first and last cut to the interval)."""
    if granularity == "Total":
        return [(start, end)]
    day = 0 if first_day == "Monday" else 6
    out: list[tuple[datetime, datetime]] = []
    lo = start
    while lo < end:
        hi = min(_next_boundary(lo, granularity, zone, day), end)
        out.append((lo, hi))
        lo = hi
    return out


def _label(t: datetime, zone: tzinfo) -> str:
    local = t.astimezone(zone)
    if zone is UTC:
        return local.strftime("%Y-%m-%dT%H:%MZ")
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M") + f"{offset[:3]}:{offset[3:]}"


def _money(minor: int, market: Market) -> dict[str, str]:
    return {"amount": money_str(minor, market), "currencyCode": market.currency}


def get_order_metrics(req: Request) -> Response:
    """GET /sales/v1/orderMetrics."""
    p = req.params
    if len(p["marketplaceIds"]) > 1:
        raise invalid("Invalid marketplaceIds: only one marketplace can be specified.")
    mp = p["marketplaceIds"][0]
    if mp not in KNOWN_MARKETPLACE_IDS:
        raise invalid(f"Invalid marketplaceIds: {mp!r} is not a valid marketplace ID.")
    if p["asin"] and p["sku"]:
        raise invalid("Invalid asin: asin and sku cannot both be specified.")
    if p["fulfillmentNetwork"] not in (None, "AFN", "MFN"):
        raise invalid(f"Invalid fulfillmentNetwork: {p['fulfillmentNetwork']!r} is not one of AFN, MFN.")
    start, end = parse_interval(p["interval"])
    granularity = p["granularity"]
    zone = _zone(p["granularityTimeZone"], granularity, start)
    if end - start > _MAX_SPAN.get(granularity, _DEFAULT_SPAN):
        raise invalid(f"Invalid interval: too long for granularity {granularity}.")
    spans = buckets(start, end, granularity, zone, p["firstDayOfWeek"])
    market = MARKETS_BY_ID.get(mp)
    currency = market or MARKETS_BY_ID["ATVPDKIKX0DER"]
    totals = [[0, 0, 0, 0] for _ in spans]  # units, items, orders, minor units of sales
    if market is not None and p["amazonProgram"] is None:
        edges = [lo.timestamp() for lo, _ in spans]
        end_ts = end.timestamp()
        for order in req.data.created_between(start.timestamp(), end_ts):
            if (order.purchase_ts >= end_ts or order.market is not market or order.status in ("Pending", "Canceled")
                    or (p["buyerType"] == "B2B" and not order.is_business)
                    or (p["buyerType"] == "B2C" and order.is_business)
                    or (p["fulfillmentNetwork"] and order.channel != p["fulfillmentNetwork"])):
                continue
            items = [i for i in order.items if (p["asin"] is None or i.product.asin == p["asin"])
                     and (p["sku"] is None or i.product.sku == p["sku"])]
            if not items:
                continue
            row = totals[bisect.bisect_right(edges, order.purchase_ts) - 1]
            row[0] += sum(i.quantity for i in items)
            row[1] += len(items)
            row[2] += 1
            row[3] += sum(i.item_price for i in items)
    payload: list[dict[str, Any]] = []
    for (lo, hi), (units, items_n, orders_n, sales) in zip(spans, totals, strict=True):
        average = (2 * sales + units) // (2 * units) if units else 0
        payload.append({"interval": f"{_label(lo, zone)}--{_label(hi, zone)}", "unitCount": units,
                        "orderItemCount": items_n, "orderCount": orders_n,
                        "averageUnitPrice": _money(average, currency), "totalSales": _money(sales, currency)})
    return Response(200, {"payload": payload})


ENDPOINTS = (Endpoint("sales", "v1", "getOrderMetrics", get_order_metrics, METRICS),)
