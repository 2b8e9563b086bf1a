"""What the emulated Data Kiosk answers: the datasets it serves and their records, from the emulator's own data.

The datasets are a subset of Amazon's GraphQL schemas (``schemas/data-kiosk/`` beside the models; never copied
here): ``analytics_salesAndTraffic_2024_04_24`` (``salesAndTrafficByDate``, ``salesAndTrafficByAsin``) and
``analytics_economics_2024_03_15`` (``economics``), declared below field by field as compact lines and built into
graphql-core schemas (:func:`schema_for`), one per root field as Amazon publishes them. A query is validated and
executed by graphql-core against them, so only the fields asked for (under their aliases) reach the document;
``tests/test_emulator_datakiosk.py`` checks every declared field against Amazon's schema files.

The records agree with the other APIs:

- **sales and traffic by date** are the sales-and-traffic report's (:func:`~sqlspapi.emulator.reports_sales
  .sales_traffic`: the orders of the marketplace that are neither Pending nor Canceled, counted as getOrderMetrics
  counts them; traffic drawn from the seed), one record per DAY, WEEK (Sunday to Saturday) or MONTH;
- **by ASIN** the report's per-product sales and traffic over the window, plus units and orders shipped;
- **economics** per SKU (or child / parent ASIN), marketplace and period: ordered sales and units as above, and the
  fees of every unit ordered at its price: :func:`~sqlspapi.emulator.money.fees_for` (referral, FBA for AFN
  orders) — the fees estimate and Finances give the same amounts. No refunds, ad charges or seller costs.

The demo seller is not an Amazon Business seller: the ``…B2B`` fields are null. As Amazon does, a WEEK or MONTH
query starting mid-period starts at the next period and one ending mid-period ends at the previous one; a start more
than two years before the dataset's day (its anchor: today, unless the emulator was started with another), a start
after the end or an unknown marketplace is an error (the query ends FATAL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema

from sqlspapi.emulator.data import Dataset, Product, money_str
from sqlspapi.emulator.fba_inventory import inventory
from sqlspapi.emulator.money import fees_for
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS_BY_ID, Market
from sqlspapi.emulator.reports_files import Quirks, Window
from sqlspapi.emulator.reports_sales import sales_traffic

__all__ = ["ROOTS", "schema_for", "declared_types", "resolvers"]

SALES_TRAFFIC = "analytics_salesAndTraffic_2024_04_24"
ECONOMICS = "analytics_economics_2024_03_15"
#: Days back a query may start (Amazon: "no more than two years ago").
MAX_DAYS = 730
#: Fields of the B2B-capable types that have no ``…B2B`` twin.
_NO_TWIN = frozenset({"averageOfferCount", "averageParentItems"})


def _b2b(fields: str) -> str:
    """Each ``name:Type!`` field, then its nullable ``nameB2B:Type`` twin (Amazon Business figures)."""
    out = []
    for field in fields.split():
        out.append(field)
        name, _, kind = field.partition(":")
        if name not in _NO_TWIN:
            out.append(f"{name}B2B:{kind.rstrip('!')}")
    return " ".join(out)


_AMOUNT = {"Amount": "amount:Float! currencyCode:String!"}
#: Declared types per root field: type name → its fields (``name(arguments):Type``), enums as ``enum A B``.
_TYPES: dict[str, dict[str, str]] = {
    SALES_TRAFFIC: {
        **_AMOUNT,
        "ByDateSales": _b2b("averageSalesPerOrderItem:Amount! averageSellingPrice:Amount! "
                            "averageUnitsPerOrderItem:Float! claimsAmount:Amount! claimsGranted:Long! "
                            "orderedProductSales:Amount! ordersShipped:Long! refundRate:Float! "
                            "shippedProductSales:Amount! totalOrderItems:Long! unitsOrdered:Long! unitsRefunded:Long! "
                            "unitsShipped:Long!"),
        "ByDateTraffic": _b2b("averageOfferCount:Long! averageParentItems:Long! browserPageViews:Long! "
                              "browserSessions:Long! buyBoxPercentage:Float! feedbackReceived:Long! "
                              "mobileAppPageViews:Long! mobileAppSessions:Long! negativeFeedbackReceived:Long! "
                              "orderItemSessionPercentage:Float! pageViews:Long! receivedNegativeFeedbackRate:Float! "
                              "sessions:Long! unitSessionPercentage:Float!"),
        "ByAsinSales": _b2b("orderedProductSales:Amount! ordersShipped:Long! refundRate:Float! "
                            "shippedProductSales:Amount! totalOrderItems:Long! unitsOrdered:Long! unitsRefunded:Long! "
                            "unitsShipped:Long!"),
        "ByAsinTraffic": _b2b("browserPageViews:Long! browserPageViewsPercentage:Float! "
                              "browserSessionPercentage:Float! browserSessions:Long! buyBoxPercentage:Float! "
                              "mobileAppPageViews:Long! mobileAppPageViewsPercentage:Float! "
                              "mobileAppSessionPercentage:Float! mobileAppSessions:Long! pageViews:Long! "
                              "pageViewsPercentage:Float! sessionPercentage:Float! sessions:Long! "
                              "unitSessionPercentage:Float!"),
        "SalesAndTrafficByDate": "endDate:Date! marketplaceId:String! sales:ByDateSales! startDate:Date! "
                                 "traffic:ByDateTraffic!",
        "SalesAndTrafficByAsin": "childAsin:String endDate:Date! marketplaceId:String! parentAsin:String! "
                                 "sales:ByAsinSales! sku:String startDate:Date! traffic:ByAsinTraffic!",
        "Analytics_SalesAndTraffic_2024_04_24":
            "salesAndTrafficByAsin(aggregateBy:AsinGranularity!,endDate:Date!,marketplaceIds:[String!]!,"
            "startDate:Date!):[SalesAndTrafficByAsin] "
            "salesAndTrafficByDate(aggregateBy:DateGranularity!,endDate:Date!,marketplaceIds:[String!]!,"
            "startDate:Date!):[SalesAndTrafficByDate]",
        "AsinGranularity": "enum CHILD PARENT SKU",
        "DateGranularity": "enum DAY MONTH WEEK",
    },
    ECONOMICS: {
        **_AMOUNT,
        "AdSummary": "adTypeName:String! charge:AggregatedDetail",
        "AggregatedDetail": "amount:Amount! amountPerUnit:Amount amountPerUnitDelta:Amount promotionAmount:Amount! "
                            "quantity:Float taxAmount:Amount! totalAmount:Amount!",
        "Economics": "ads:[AdSummary] childAsin:String cost:PerUnitCost endDate:Date! fees:[FeeSummary]! "
                     "fnsku:String marketplaceId:String! msku:String netProceeds:NetProceeds! parentAsin:String! "
                     "sales:Sales! startDate:Date!",
        "EconomicsProperty": "propertyName:String! propertyValue:String!",
        "FbaPerUnitCost": "shippingToAmazonCost:Amount",
        "Fee": "aggregatedDetail:AggregatedDetail! components:[FeeComponent] endDate:Date identifier:String! "
               "properties:[EconomicsProperty] startDate:Date",
        "FeeComponent": "aggregatedDetail:AggregatedDetail! name:String! properties:[EconomicsProperty]",
        "FeeSummary": "charge:Fee charges:[Fee] feeTypeName:String!",
        "MfnPerUnitCost": "fulfillmentCost:Amount storageCost:Amount",
        "NetProceeds": "perUnit:Amount total:Amount",
        "PerUnitCost": "costOfGoodsSold:Amount fbaCost:FbaPerUnitCost mfnCost:MfnPerUnitCost miscellaneousCost:Amount",
        "Sales": "averageSellingPrice:Amount netProductSales:Amount! netUnitsSold:Long! orderedProductSales:Amount! "
                 "refundedProductSales:Amount! unitsOrdered:Long! unitsRefunded:Long!",
        "Analytics_Economics_2024_03_15":
            "economics(aggregateBy:EconomicsAggregation,endDate:Date!,includeComponentsForFeeTypes:[FeeType],"
            "marketplaceIds:[String!]!,startDate:Date!):[Economics]",
        "EconomicsAggregation": "input date:DateGranularity productId:ProductIdentifierGranularity",
        "DateGranularity": "enum DAY MONTH RANGE WEEK",
        "FeeType": "enum FBA_FULFILLMENT_FEE FBA_STORAGE_FEE",
        "ProductIdentifierGranularity": "enum CHILD_ASIN MSKU PARENT_ASIN",
    },
}
#: The root fields (dataset schemas) the emulator serves.
ROOTS = tuple(_TYPES)


def declared_types(root: str) -> Mapping[str, str]:
    """The declared types of a root field (type name → its field line)."""
    return _TYPES[root]


@cache
def schema_for(root: str) -> GraphQLSchema:
    """The graphql-core schema of one root field: its declared types under ``type Query { <root>: … }``."""
    root_type = next(name for name in _TYPES[root] if name.lower() == root.lower())
    parts = ["scalar Date", "scalar Long", f"type Query {{ {root}: {root_type} }}"]
    for name, fields in _TYPES[root].items():
        word, _, rest = fields.partition(" ")
        if word == "enum":
            parts.append(f"enum {name} {{ {rest} }}")
        elif word == "input":
            parts.append(f"input {name} {{ {rest.replace(':', ': ')} }}")
        else:
            parts.append(f"type {name} {{ {fields} }}")
    return build_schema("\n".join(parts))


def resolvers(data: Dataset, today: date) -> dict[str, Any]:
    """The root value a query executes on: each root field's dataset fields as functions of their arguments."""
    return {
        SALES_TRAFFIC: {"salesAndTrafficByDate": _resolver(data, today, by_date),
                        "salesAndTrafficByAsin": _resolver(data, today, by_asin)},
        ECONOMICS: {"economics": _resolver(data, today, economics)},
    }


def _resolver(data: Dataset, today: date, build: Callable[..., list[dict[str, Any]]]) -> Callable[..., Any]:
    def resolve(_info: Any, **args: Any) -> list[dict[str, Any]]:
        start, end = _dates(args, today)
        markets = []
        for mp in args["marketplaceIds"]:
            if mp not in KNOWN_MARKETPLACE_IDS:
                raise GraphQLError(f"Invalid marketplaceIds: {mp!r} is not a marketplace ID.")
            if mp in MARKETS_BY_ID:
                markets.append(MARKETS_BY_ID[mp])  # a marketplace the seller does not sell in has no data
        return [record for market in markets for record in build(data, market, start, end, args)]
    return resolve


def _dates(args: Mapping[str, Any], today: date) -> tuple[date, date]:
    try:
        start, end = date.fromisoformat(str(args["startDate"])), date.fromisoformat(str(args["endDate"]))
    except ValueError:
        raise GraphQLError("startDate and endDate are dates in the format YYYY-MM-DD.") from None
    if start < today - timedelta(days=MAX_DAYS):
        raise GraphQLError(f"The start date must be no more than two years ago (on or after "
                           f"{today - timedelta(days=MAX_DAYS)}).")
    if start > end:
        raise GraphQLError("The start date must be on or before the end date.")
    return start, end


def _whole(start: date, end: date, period: str) -> tuple[date, date]:
    """Amazon's window for a period granularity: a mid-period start moves to the next period, a mid-period end
    back to the end of the previous one (DAY and RANGE: as given)."""
    if period == "WEEK":
        first = start + timedelta(days=(6 - start.weekday()) % 7)  # the Sunday on or after
        last = end - timedelta(days=(end.weekday() - 5) % 7)  # the Saturday on or before
    elif period == "MONTH":
        first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = end if (end + timedelta(days=1)).day == 1 else end.replace(day=1) - timedelta(days=1)
    else:
        first, last = start, end
    return first, last


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _amount(minor: int, market: Market) -> dict[str, Any]:
    return {"amount": float(money_str(minor, market)), "currencyCode": market.currency}


def _period_end(day: date, period: str, last: date) -> date:
    """The last day of the period starting ``day`` (never past ``last``)."""
    if period == "WEEK":
        return min(day + timedelta(days=6), last)
    if period == "MONTH":
        return min((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1), last)
    return day if period == "DAY" else last


def _orders(data: Dataset, market: Market, start: date, end: date) -> list[Any]:
    """The marketplace's orders placed in [start, end] that count as sales (neither Pending nor Canceled)."""
    hi = _instant(end + timedelta(days=1)).timestamp()
    return [o for o in data.created_between(_instant(start).timestamp(), hi)
            if o.purchase_ts < hi and o.market is market and o.status not in ("Pending", "Canceled")]


# -------------------------------------------------------------------------------------------- sales and traffic
def by_date(data: Dataset, market: Market, start: date, end: date, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """salesAndTrafficByDate of one marketplace: the sales-and-traffic report's buckets."""
    period = str(args["aggregateBy"])
    first, last = _whole(start, end, period)
    if first > last:
        return []
    report = sales_traffic(data, Window((market.id,), _instant(first), _instant(last), {"dateGranularity": period}),
                           Quirks())
    out = []
    for entry in report["salesAndTrafficByDate"]:
        day = date.fromisoformat(entry["date"])
        out.append({"startDate": day.isoformat(), "endDate": _period_end(day, period, last).isoformat(),
                    "marketplaceId": market.id, "sales": entry["salesByDate"], "traffic": entry["trafficByDate"]})
    return out


def by_asin(data: Dataset, market: Market, start: date, end: date, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """salesAndTrafficByAsin of one marketplace over the window: the report's products, with what shipped."""
    granularity = str(args["aggregateBy"])
    report = sales_traffic(data, Window((market.id,), _instant(start), _instant(end),
                                        {"asinGranularity": "SKU"}), Quirks())
    shipped: dict[str, list[int]] = {}
    for order in _orders(data, market, start, end):
        for item in order.items:
            row = shipped.setdefault(item.product.sku, [0, 0, 0])
            row[0] += item.shipped
            row[1] += item.unit_price * item.shipped
            row[2] += 1 if item.shipped else 0
    out = []
    for entry in report["salesAndTrafficByAsin"]:
        units, sales, orders = shipped.get(entry["sku"], [0, 0, 0])
        out.append({
            "startDate": start.isoformat(), "endDate": end.isoformat(), "marketplaceId": market.id,
            "parentAsin": entry["parentAsin"], "childAsin": entry["childAsin"] if granularity != "PARENT" else None,
            "sku": entry["sku"] if granularity == "SKU" else None,
            "sales": {**entry["salesByAsin"], "unitsShipped": units, "shippedProductSales": _amount(sales, market),
                      "ordersShipped": orders, "unitsRefunded": 0, "refundRate": 0.0},
            "traffic": entry["trafficByAsin"]})
    return out


# -------------------------------------------------------------------------------------------- economics
_FEES = (("REFERRAL_FEE", "Referral fees"), ("FBA_FULFILLMENT_FEE", "FBA fulfillment fees"))


def economics(data: Dataset, market: Market, start: date, end: date, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """economics of one marketplace: per period and product, the ordered sales and the fees of those units."""
    aggregate = args.get("aggregateBy") or {}
    period, product_id = str(aggregate.get("date") or "DAY"), str(aggregate.get("productId") or "MSKU")
    first, last = _whole(start, end, period)
    components = "FBA_FULFILLMENT_FEE" in (args.get("includeComponentsForFeeTypes") or ())
    fn_skus = {s.product.sku: s.fn_sku for s in inventory(data).get(market.id, ())}
    totals: dict[tuple[date, str], list[Any]] = {}
    for order in _orders(data, market, first, last) if first <= last else ():
        day = order.purchase.date()
        bucket = {"DAY": day, "WEEK": day - timedelta(days=(day.weekday() + 1) % 7),
                  "MONTH": day.replace(day=1)}.get(period, first)
        for item in order.items:
            key = item.product.sku if product_id == "MSKU" else item.product.asin
            row = totals.setdefault((bucket, key), [item.product, 0, 0, 0, 0, 0])
            afn = order.channel == "AFN"
            fees = fees_for(item.product, market, item.unit_price, afn=afn)
            row[1] += item.quantity
            row[2] += item.item_price
            row[3] += fees.referral * item.quantity
            row[4] += fees.fba * item.quantity
            row[5] += item.quantity if afn else 0
    out = []
    for (bucket, _key), (product, units, sales, referral, fba, afn_units) in sorted(totals.items(),
                                                                                   key=lambda kv: kv[0]):
        span = (bucket.isoformat(), _period_end(bucket, period, last).isoformat())
        fees = {"REFERRAL_FEE": (referral, units), "FBA_FULFILLMENT_FEE": (fba, afn_units)}
        out.append(_economics_record(market, product, product_id, fn_skus, span, units, sales, fees, components))
    return out


def _economics_record(market: Market, product: Product, product_id: str, fn_skus: Mapping[str, str],
                      span: tuple[str, str], units: int, sales: int, fees: Mapping[str, tuple[int, int]],
                      components: bool) -> dict[str, Any]:
    """One Economics record (amounts in the marketplace's currency; no refunds, ads or seller costs); ``fees`` maps
    a fee identifier to (its total, the units it was charged for)."""
    summaries = []
    for identifier, name in _FEES:
        total, charged = fees[identifier]
        if not total:
            continue
        detail = {"amount": _amount(total, market), "promotionAmount": _amount(0, market),
                  "taxAmount": _amount(0, market), "totalAmount": _amount(total, market),
                  "quantity": float(charged), "amountPerUnit": _amount(round(total / charged), market)}
        fee = {"identifier": identifier, "startDate": span[0], "endDate": span[1], "aggregatedDetail": detail}
        if components and identifier == "FBA_FULFILLMENT_FEE":
            fee["components"] = [{"name": "Base fulfillment fee", "aggregatedDetail": detail}]
        summaries.append({"feeTypeName": name, "charges": [fee], "charge": fee})
    proceeds = sales - sum(total for total, _units in fees.values())
    msku = product_id == "MSKU"
    return {
        "startDate": span[0], "endDate": span[1], "marketplaceId": market.id, "parentAsin": product.asin,
        "childAsin": product.asin if product_id != "PARENT_ASIN" else None,
        "msku": product.sku if msku else None, "fnsku": fn_skus.get(product.sku) if msku else None,
        "sales": {"orderedProductSales": _amount(sales, market), "unitsOrdered": units,
                  "refundedProductSales": _amount(0, market), "unitsRefunded": 0,
                  "netProductSales": _amount(sales, market), "netUnitsSold": units,
                  "averageSellingPrice": _amount(round(sales / units), market) if units else None},
        "fees": summaries, "ads": [],
        "netProceeds": {"total": _amount(proceeds, market),
                        "perUnit": _amount(round(proceeds / units), market) if units else None},
        "cost": None,
    }
