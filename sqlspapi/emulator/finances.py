"""Finances API 2024-06-19: listTransactions over the demo seller's ledger (:mod:`sqlspapi.emulator.ledger`).

Every ledger event is one transaction (``transactionType`` = its kind, ``transactionId`` = its id): its amounts
become ``breakdowns`` — at the transaction level the tree top → group → leaf (``Sales`` → ``ProductCharges`` →
``OurPricePrincipal``, ``Expenses`` → ``AmazonFees`` → ``Commission``, …), for each product line of the event an
``items`` entry with the group → leaf tree, a ``ProductContext`` (asin, sku, units, AFN/MFN) and its
ORDER_ADJUSTMENT_ITEM_ID (refunds) or REMOVAL_SHIPMENT_ITEM_ID. ``relatedIdentifiers`` carry ORDER_ID,
SHIPMENT_ID, REFUND_ID, INVOICE_ID, FINANCIAL_EVENT_GROUP_ID and SETTLEMENT_ID where the event has them; a
deferred transaction carries a ``DeferredContext`` (reason B2B, its maturity date). The v0 emulation renders the
same events, so both versions show the same money.

Rules as Amazon documents them: ``postedAfter`` is required unless ``relatedIdentifierName`` (ORDER_ID or
FINANCIAL_EVENT_GROUP_ID, the only names that filter) and ``relatedIdentifierValue`` are given — always together;
both dates more than two minutes before now, ``postedBefore`` (default: two minutes before now) after
``postedAfter``; a pair more than 180 days apart answers no transactions (not an error); ``transactionStatus`` is
DEFERRED, RELEASED or DEFERRED_RELEASED; ``marketplaceId`` keeps that marketplace's transactions. Pages hold 100
transactions, oldest first; ``nextToken`` (in ``payload``) must come back with the same parameters.

listBalances: per marketplace (``marketplaceIds``, default the seller's), the TOTAL balance = AVAILABLE (what the
group open at that moment holds: posted, not deferred, not yet transferred) + RESERVED (= DEFERRED, the deferred
transactions not yet released, + ACCOUNT_LEVEL_RESERVE, none), as of the ledger's last posting or at the end of
``asOfDate``; ``balanceType`` answers that balance with what it is made of; ``accountType`` other than Standard Orders
has none. listSummary: per marketplace, the net proceeds and breakdowns (the transactions' tree summed) of the days
``periodStart``–``periodEnd`` (dates, both included), or of one settlement (``relatedIdentifierName=SETTLEMENT_ID``):
one of the two is required. Unknown marketplace ids are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import Dataset, iso
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.ledger import AMOUNTS, Event, Group, Ledger, LedgerItem, ledger, number, posted_window, title
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS, MARKETS_BY_ID, Market
from sqlspapi.emulator.sellers import SELLER_ID

PAGE_SIZE = 100
PAGING = Paging("finances-transactions", "nextToken")
TRANSACTIONS = rules("""
postedAfter             date-time
postedBefore            date-time
marketplaceId           string
transactionStatus       string
relatedIdentifierName   string
relatedIdentifierValue  string
nextToken               string
""")
BALANCES = rules("""
marketplaceIds  string[]
balanceType     string
accountType     string
asOfDate        string
nextToken       string
""")
SUMMARY = rules("""
marketplaceIds          string[]
accountType             string
relatedIdentifierName   string
relatedIdentifierValue  string
periodStart             string
periodEnd               string
nextToken               string
""")
ACCOUNT_TYPE = "Standard Orders"
BALANCE_TYPES = ("AVAILABLE", "RESERVED", "ACCOUNT_LEVEL_RESERVE", "DEFERRED", "TOTAL")
STATUSES = ("DEFERRED", "RELEASED", "DEFERRED_RELEASED")
#: The relatedIdentifierName values that filter (Amazon: "the only relatedIdentifier with filtering capabilities").
FILTERING_IDENTIFIERS = ("ORDER_ID", "FINANCIAL_EVENT_GROUP_ID")
#: A transaction's ``description`` by kind (service fees and adjustments say what they are).
DESCRIPTIONS = {"Shipment": "Order Payment", "Refund": "Refund Order", "GuaranteeClaim": "A-to-z Guarantee Claim",
                "Chargeback": "Chargeback Refund", "Retrocharge": "Retrocharge", "ProductAdsPayment":
                "Cost of Advertising", "CouponPayment": "Coupon Redemption Fee", "RemovalShipment": "Liquidations"}


def money(minor: int, market: Market) -> dict[str, Any]:
    """A 2024-06-19 ``Currency``."""
    return {"currencyCode": market.currency, "currencyAmount": number(minor, market)}


def breakdowns(entries: Iterable[tuple[tuple[str, ...], int]], market: Market) -> list[dict[str, Any]]:
    """The breakdown tree of (path, amount) entries: one node per first step, its amount the sum beneath it."""
    grouped: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for path, value in entries:
        grouped.setdefault(path[0], []).append((path[1:], value))
    return [{"breakdownType": name, "breakdownAmount": money(sum(v for _, v in rest), market),
             "breakdowns": breakdowns([(p, v) for p, v in rest if p], market)} for name, rest in grouped.items()]


def _network(event: Event) -> str:
    return event.order.channel if event.order is not None else "AFN"


def _item(event: Event, item: LedgerItem) -> dict[str, Any]:
    m = event.market
    related = [{"itemRelatedIdentifierName": name, "itemRelatedIdentifierValue": value}
               for name, value in (("ORDER_ADJUSTMENT_ITEM_ID", item.adjustment_id),
                                   ("REMOVAL_SHIPMENT_ITEM_ID", item.line_id)) if value]
    return {"description": title(item.product, m), "relatedIdentifiers": related,
            "totalAmount": money(sum(a.value for a in item.amounts), m),
            "breakdowns": breakdowns([(AMOUNTS[a.name][1][1:], a.value) for a in item.amounts], m),
            "contexts": [{"contextType": "ProductContext", "asin": item.product.asin, "sku": item.product.sku,
                          "quantityShipped": item.quantity, "fulfillmentNetwork": _network(event)}]}


def related_identifiers(event: Event) -> list[dict[str, str]]:
    """The transaction's ``relatedIdentifiers``."""
    group = event.group
    pairs = (("ORDER_ID", event.order_id), ("SHIPMENT_ID", event.detail.get("shipment_id")),
             ("REFUND_ID", event.detail.get("refund_id")), ("INVOICE_ID", event.detail.get("invoiceId")),
             ("FINANCIAL_EVENT_GROUP_ID", group.group_id if group else None),
             ("SETTLEMENT_ID", group.settlement_id if group else None))
    return [{"relatedIdentifierName": name, "relatedIdentifierValue": value} for name, value in pairs if value]


def render(event: Event) -> dict[str, Any]:
    """The model's ``Transaction`` for a ledger event."""
    m = event.market
    description = DESCRIPTIONS.get(event.kind) or event.detail.get("FeeDescription") or \
        event.detail.get("AdjustmentType") or event.kind
    out: dict[str, Any] = {
        "sellingPartnerMetadata": {"sellingPartnerId": SELLER_ID, "accountType": "Standard Orders",
                                   "marketplaceId": m.id},
        "relatedIdentifiers": related_identifiers(event), "transactionType": event.kind,
        "transactionId": event.event_id, "transactionStatus": event.status, "description": description,
        "postedDate": iso(event.posted), "totalAmount": money(event.total, m),
        "marketplaceDetails": {"marketplaceId": m.id, "marketplaceName": m.name},
        "items": [_item(event, item) for item in event.items],
        "breakdowns": breakdowns([(AMOUNTS[a.name][1], a.value) for a in event.every_amount()], m),
    }
    if event.maturity is not None:
        out["contexts"] = [{"contextType": "DeferredContext", "deferralReason": "B2B",
                            "maturityDate": iso(event.maturity)}]
    return out


def _selected(req: Request) -> list[Event]:
    """The transactions a request selects (before paging), oldest first."""
    p = req.params
    name, value = p["relatedIdentifierName"], p["relatedIdentifierValue"]
    if (name is None) != (value is None):
        raise invalid("relatedIdentifierName and relatedIdentifierValue go together: send both (e.g. "
                      "relatedIdentifierName=ORDER_ID and relatedIdentifierValue=<the order id>) or neither.")
    if name is not None and name not in FILTERING_IDENTIFIERS:
        raise invalid(f"Invalid relatedIdentifierName: {name!r}; only ORDER_ID and FINANCIAL_EVENT_GROUP_ID can "
                      "filter transactions.")
    status = p["transactionStatus"]
    if status is not None and status not in STATUSES:
        raise invalid(f"Invalid transactionStatus: {status!r} is not one of {', '.join(STATUSES)}.")
    after, before = p["postedAfter"], p["postedBefore"]
    if after is None and name is None:
        raise invalid("Missing postedAfter: it is required unless relatedIdentifierName and "
                      "relatedIdentifierValue are given.")
    end, too_long = posted_window("postedAfter", after, "postedBefore", before)
    if too_long:
        return []  # Amazon: "If postedAfter and postedBefore are more than 180 days apart, the response is empty."
    book = ledger(req.data)
    if name is None:
        assert after is not None
        events: Iterable[Event] = book.between(after, end)
    else:
        events = (book.by_order if name == "ORDER_ID" else book.by_group).get(value, [])
        events = [e for e in events if (after is None or e.posted >= after) and e.posted < end]
    market = p["marketplaceId"]
    return [e for e in events if (market is None or e.market.id == market) and status in (None, e.status)]


def list_transactions(req: Request) -> Response:
    """GET /finances/2024-06-19/transactions."""
    events = _selected(req)
    filters = {k: v for k, v in req.params.items() if k != "nextToken"}
    now = req.config.now()
    start, stop = PAGING.window(PAGING.offset(req.query, filters, now), PAGE_SIZE, len(events))
    payload: dict[str, Any] = {"transactions": [render(e) for e in events[start:stop]]}
    payload.update(PAGING.pagination(start, PAGE_SIZE, len(events), filters, now))
    return Response(200, {"payload": payload})


def _export(data: Dataset) -> Iterator[Row]:
    for event in ledger(data).events:
        yield render(event), {}, {}


# -- balances and summaries ----------------------------------------------------------------------------------------
def _markets(req: Request) -> list[Market]:
    """The requested marketplaces (default: the seller's), known ids checked; ones the seller does not sell in: none."""
    wanted = req.params["marketplaceIds"]
    if wanted is None:
        return list(MARKETS)
    bad = [m for m in wanted if m not in KNOWN_MARKETPLACE_IDS]
    if bad:
        raise invalid(f"Invalid marketplaceIds: {bad[0]!r} is not a marketplace ID.")
    return [MARKETS_BY_ID[m] for m in wanted if m in MARKETS_BY_ID]


def _metadata(market: Market) -> dict[str, str]:
    return {"partnerId": SELLER_ID, "accountType": ACCOUNT_TYPE, "marketplaceId": market.id}


def _day(req: Request, name: str) -> date | None:
    raw = req.params[name]
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(f"Invalid {name}: {raw!r} is not an ISO 8601 date (YYYY-MM-DD).") from None


def balance_tree(book: Ledger, market: Market, moment: datetime) -> dict[str, Any]:
    """The TOTAL balance of a marketplace at ``moment`` with what it is made of."""
    group = next(g for g in book.groups if g.market is market and g.start <= moment
                 and (g.end is None or moment < g.end))

    def deferred(e: Event) -> bool:
        return e.maturity is not None and e.maturity > moment

    available = sum(e.total for e in book.by_group.get(group.group_id, ()) if e.posted < moment and not deferred(e))
    held = sum(e.total for e in book.events if e.market is market and e.posted < moment and deferred(e))

    def node(kind: str, minor: int, *parts: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"balanceType": kind, "amount": money(minor, market)}
        if parts:
            out["balances"] = list(parts)
        return out

    return node("TOTAL", available + held, node("AVAILABLE", available),
                node("RESERVED", held, node("DEFERRED", held), node("ACCOUNT_LEVEL_RESERVE", 0)))


def _find(node: dict[str, Any], kind: str) -> dict[str, Any] | None:
    if node["balanceType"] == kind:
        return node
    return next((found for inner in node.get("balances", ()) if (found := _find(inner, kind))), None)


def list_balances(req: Request) -> Response:
    """GET /finances/2024-06-19/balances."""
    kind, as_of = req.params["balanceType"], _day(req, "asOfDate")
    if kind is not None and kind not in BALANCE_TYPES:
        raise invalid(f"Invalid balanceType: {kind!r} is not one of {', '.join(BALANCE_TYPES)}.")
    book = ledger(req.data)
    moment = book.data.anchor if as_of is None else \
        datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=1)
    if moment <= book.start or moment.date() > datetime.now(UTC).date() + timedelta(days=1):
        raise invalid(f"Invalid asOfDate: {as_of} is not a date of the account's history (give a past date).")
    out = []
    for m in _markets(req) if req.params["accountType"] in (None, ACCOUNT_TYPE) else []:
        balance = _find(balance_tree(book, m, moment), kind or "TOTAL")
        assert balance is not None
        stamp: dict[str, str] = {"asOfDate": as_of.isoformat()} if as_of else {"lastUpdatedTime": iso(max(
            e.posted for e in book.events if e.market is m))}
        out.append({"partnerMetadata": _metadata(m), **balance, **stamp})
    return Response(200, {"balances": out})


def summary(book: Ledger, market: Market, start: datetime, end: datetime, group: Group | None) -> dict[str, Any]:
    """The model's ``Summary`` of a marketplace's transactions posted in [start, end]."""
    events = book.by_group.get(group.group_id, []) if group else \
        [e for e in book.between(start, end) if e.market is market]
    out: dict[str, Any] = {"partnerMetadata": _metadata(market), "netProceeds": money(sum(e.total for e in events),
                                                                                      market)}
    if group is not None and group.settlement_id:
        out["relatedIdentifiers"] = [{"relatedIdentifierName": "SETTLEMENT_ID",
                                      "relatedIdentifierValue": group.settlement_id}]
    out["breakdowns"] = breakdowns([(AMOUNTS[a.name][1], a.value) for e in events for a in e.every_amount()],
                                   market)
    out.update({"periodStart": iso(start), "periodEnd": iso(end - timedelta(seconds=1))})
    return out


def list_summary(req: Request) -> Response:
    """GET /finances/2024-06-19/summary."""
    p = req.params
    book = ledger(req.data)
    markets = _markets(req) if p["accountType"] in (None, ACCOUNT_TYPE) else []
    if p["relatedIdentifierName"] is not None or p["relatedIdentifierValue"] is not None:
        if p["relatedIdentifierName"] != "SETTLEMENT_ID" or not p["relatedIdentifierValue"]:
            raise invalid("Invalid relatedIdentifierName: send relatedIdentifierName=SETTLEMENT_ID with "
                          "relatedIdentifierValue=<the settlement id>.")
        found = [g for g in book.groups if g.settlement_id == p["relatedIdentifierValue"] and g.market in markets]
        return Response(200, {"summaries": [summary(book, g.market, g.start, g.end, g) for g in found if g.end]})
    first, last = _day(req, "periodStart"), _day(req, "periodEnd")
    if first is None or last is None:
        raise invalid("Missing periodStart or periodEnd: give both dates (YYYY-MM-DD, both included), or "
                      "relatedIdentifierName=SETTLEMENT_ID with a settlement id.")
    if last < first:
        raise invalid("Invalid periodEnd: it must not be before periodStart.")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return Response(200, {"summaries": [summary(book, m, start, end, None) for m in markets]})


def _export_balances(data: Dataset) -> Iterator[Row]:
    book = ledger(data)
    for m in MARKETS:
        stamp = iso(max(e.posted for e in book.events if e.market is m))
        yield ({"partnerMetadata": _metadata(m), **balance_tree(book, m, data.anchor), "lastUpdatedTime": stamp},
               {"marketplaceIds": [m.id]}, {})


def _export_summaries(data: Dataset) -> Iterator[Row]:
    """The summary of every settlement (what a query by settlement id answers)."""
    book = ledger(data)
    for g in book.groups:
        if g.end is not None:
            yield (summary(book, g.market, g.start, g.end, g),
                   {"marketplaceIds": [g.market.id], "relatedIdentifierName": "SETTLEMENT_ID",
                    "relatedIdentifierValue": g.settlement_id}, {})


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("finances", "2024-06-19", "listTransactions", list_transactions, TRANSACTIONS, _export),
    Endpoint("finances", "2024-06-19", "listBalances", list_balances, BALANCES, _export_balances),
    Endpoint("finances", "2024-06-19", "listSummary", list_summary, SUMMARY, _export_summaries),
)
