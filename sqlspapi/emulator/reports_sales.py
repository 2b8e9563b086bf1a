"""The sales and traffic report (``GET_SALES_AND_TRAFFIC_REPORT``): JSON per
``schemas/reports/sellerSalesAndTrafficReport.json``, sales counted as getOrderMetrics counts them (no Pending, no
Canceled orders), traffic drawn from the seed. ``dateGranularity`` (DAY, WEEK, MONTH) buckets ``salesAndTrafficByDate``;
``asinGranularity=SKU`` adds the SKU to ``salesAndTrafficByAsin``.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlspapi.emulator.data import Dataset, money_str
from sqlspapi.emulator.pools import Market
from sqlspapi.emulator.reports_files import SALES_TRAFFIC, Quirks, Window, seeded

#: The report's enumerated reportOptions.
OPTIONS = {"dateGranularity": ("DAY", "WEEK", "MONTH"), "asinGranularity": ("PARENT", "CHILD", "SKU")}


def _bucket(day: date, granularity: str) -> date:
    if granularity == "WEEK":
        return day - timedelta(days=(day.weekday() + 1) % 7)  # weeks start on Sunday
    if granularity == "MONTH":
        return day.replace(day=1)
    return day


def _amount(minor: int, m: Market) -> dict[str, Any]:
    return {"amount": float(money_str(minor, m)), "currencyCode": m.currency}


def _traffic(rng: random.Random, orders: int) -> dict[str, Any]:
    browser, mobile = rng.randint(orders * 20, orders * 40 + 50), rng.randint(orders * 10, orders * 20 + 30)
    b_sess, m_sess = browser // 2 + 1, mobile // 2 + 1
    sessions = b_sess + m_sess
    return {"browserPageViews": browser, "mobileAppPageViews": mobile, "pageViews": browser + mobile,
            "browserSessions": b_sess, "mobileAppSessions": m_sess, "sessions": sessions,
            "buyBoxPercentage": round(rng.uniform(80, 100), 2),
            "orderItemSessionPercentage": round(min(100.0, 100 * orders / sessions), 2),
            "unitSessionPercentage": round(100 * orders / sessions, 2)}


def sales_traffic(data: Dataset, w: Window, quirks: Quirks) -> dict[str, Any]:
    """The report's JSON for the window's (single) marketplace."""
    m = w.market
    granularity = w.options.get("dateGranularity", "DAY")
    by_sku = w.options.get("asinGranularity", "PARENT") == "SKU"
    first, last = w.start.date(), w.end.date()
    days: dict[date, list[int]] = {}
    day = first
    while day <= last:
        days.setdefault(_bucket(day, granularity), [0, 0, 0, 0, 0])
        day += timedelta(days=1)
    products: dict[str, list[Any]] = {}
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    for o in data.created_between(datetime.combine(first, datetime.min.time(), UTC).timestamp(), hi):
        if o.purchase_ts >= hi or o.market is not m or o.status in ("Pending", "Canceled"):
            continue
        row = days[_bucket(o.purchase.date(), granularity)]
        row[0] += sum(i.quantity for i in o.items)
        row[1] += len(o.items)
        row[2] += sum(i.item_price for i in o.items)
        row[3] += sum(i.shipped for i in o.items)
        row[4] += 1 if o.units_shipped else 0
        for i in o.items:
            p = products.setdefault(i.product.sku, [i.product, 0, 0, 0])
            p[1], p[2], p[3] = p[1] + i.quantity, p[2] + 1, p[3] + i.item_price
    by_date = []
    for day, (units, items, sales, shipped_units, shipped_orders) in days.items():
        rng = seeded(data, "traffic", m.id, day)
        traffic = _traffic(rng, items)
        traffic.update({"averageOfferCount": rng.randint(50, 80), "averageParentItems": len(data.products),
                        "feedbackReceived": rng.randint(0, 3), "negativeFeedbackReceived": 0,
                        "receivedNegativeFeedbackRate": 0.0})
        by_date.append({"date": day.isoformat(), "salesByDate": {
            "orderedProductSales": _amount(sales, m), "unitsOrdered": units, "totalOrderItems": items,
            "averageSalesPerOrderItem": _amount(sales // items if items else 0, m),
            "averageUnitsPerOrderItem": round(units / items, 2) if items else 0.0,
            "averageSellingPrice": _amount(sales // units if units else 0, m), "unitsRefunded": 0,
            "refundRate": 0.0, "claimsGranted": 0, "claimsAmount": _amount(0, m),
            "shippedProductSales": _amount(0, m), "unitsShipped": shipped_units, "ordersShipped": shipped_orders},
            "trafficByDate": traffic})
    by_asin = []
    for sku, (product, units, items, sales) in sorted(products.items()):
        entry: dict[str, Any] = {"parentAsin": product.asin, "childAsin": product.asin}
        if by_sku:
            entry["sku"] = sku
        traffic = _traffic(seeded(data, "asin-traffic", m.id, sku, first), items)
        traffic.pop("orderItemSessionPercentage")
        for name, key in (("browserSession", "browserSessions"), ("mobileAppSession", "mobileAppSessions"),
                          ("session", "sessions"), ("browserPageViews", "browserPageViews"),
                          ("mobileAppPageViews", "mobileAppPageViews"), ("pageViews", "pageViews")):
            traffic[f"{name}Percentage"] = round(min(100.0, traffic[key] / 40), 2)
        entry.update({"salesByAsin": {"unitsOrdered": units, "orderedProductSales": _amount(sales, m),
                                      "totalOrderItems": items}, "trafficByAsin": traffic})
        by_asin.append(entry)
    return {"reportSpecification": {"reportType": SALES_TRAFFIC, "reportOptions": dict(w.options),
                                    "dataStartTime": first.isoformat(), "dataEndTime": last.isoformat(),
                                    "marketplaceIds": list(w.marketplace_ids)},
            "salesAndTrafficByDate": by_date, "salesAndTrafficByAsin": by_asin}
