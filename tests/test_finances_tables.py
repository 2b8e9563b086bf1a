"""The Finances tables as an analyst uses them: windows and the clamp, money that agrees with the orders and Amazon's
fees, both API versions showing the same money, joins for profit per order, and errors that say what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import spapi_models as sm

from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator import start
from sqlspapi.emulator.ledger import ledger, number
from sqlspapi.emulator.money import fees_for
from sqlspapi.engine import open_database
from sqlspapi.errors import MissingFilterError

V0 = {"FinancesApiVersion": "v0"}


@pytest.fixture(scope="module")
def emulator():
    emu = start(time_scale=1_000_000)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def book(emulator):
    return ledger(emulator.dataset)


def db_for(emulator, **keys):
    return open_database(emulator.connection_string(**keys))


def instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def scalar(db, sql: str, *args):
    return db.connection.execute(sql, args).fetchone()[0]


# -- windows -------------------------------------------------------------------------------------------------------
def test_one_year_of_transactions_is_three_windows_each_paged(emulator, book) -> None:
    with db_for(emulator) as db:
        count = scalar(db, "SELECT count(*) FROM transactions WHERE postedDate >= datetime('now', '-365 days')")
        calls = db.last_calls()
    assert {c.operation for c in calls} == {"listTransactions"}
    firsts = [(c.params["postedAfter"], c.params["postedBefore"]) for c in calls if "nextToken" not in c.params]
    assert len(firsts) == 3  # 180 + 180 + 5 days
    for (_after, before), (next_after, _next_before) in zip(firsts, firsts[1:], strict=False):
        assert before == next_after
    assert all(instant(b) - instant(a) <= timedelta(days=180) for a, b in firsts)
    assert {(c.params["postedAfter"], c.params["postedBefore"]) for c in calls} == set(firsts)  # the rest: pages
    assert len(calls) == sum(-(-len(book.between(instant(a), instant(b))) // 100) or 1 for a, b in firsts)
    assert count == len(book.between(instant(firsts[0][0]), instant(firsts[-1][1]))) > 300


def test_posted_before_is_clamped_to_two_minutes_before_now(emulator) -> None:
    with db_for(emulator) as db:
        rows = db.connection.execute("SELECT postedDate FROM transactions WHERE postedDate >= datetime('now', "
                                     "'-2 days') AND postedDate < datetime('now', '+7 days')").fetchall()
        (call,) = [c for c in db.last_calls() if "nextToken" not in c.params]
    before = instant(call.params["postedBefore"])
    assert timedelta(minutes=2) <= datetime.now(UTC) - before < timedelta(minutes=10)
    assert rows and all(instant(r[0]) < before for r in rows)


def test_no_date_filter_reads_the_default_window_and_says_so(emulator) -> None:
    with db_for(emulator, LookbackDays="10") as db:
        scalar(db, "SELECT count(*) FROM transactions")
        (call,) = [c for c in db.last_calls() if "nextToken" not in c.params]
        told = [n for n in db.notices() if "LookbackDays=10" in n]
    assert abs(datetime.now(UTC) - instant(call.params["postedAfter"]) - timedelta(days=10)) < timedelta(minutes=5)
    assert told and "postedDate" in told[0] and "transactions" in told[0]


# -- money that agrees with the orders and the fee model -------------------------------------------------------------
def test_item_principal_and_fees_agree_with_the_orders_and_amazons_fees(emulator, book) -> None:
    shipped = [o for o in emulator.dataset.orders if o.status == "Shipped"][-12:]
    assert {o.channel for o in shipped} == {"AFN", "MFN"}
    with db_for(emulator) as db:
        for order in shipped:
            rows = db.connection.execute(
                "SELECT i.product_sellerSku, i.product_price_unitPrice_amount * i.quantityOrdered, "
                "b.breakdownType, b.breakdownAmount_amount FROM order_items i JOIN transaction_item_breakdowns b "
                "ON b.orderId = i.orderId AND b.sku = i.product_sellerSku WHERE i.orderId = ? "
                "AND b.transactionType = 'Shipment' AND b.isLeaf", (order.order_id,)).fetchall()
            posted = {(sku, kind): amount for sku, _price, kind, amount in rows}
            for item in order.items:
                m, sku = order.market, item.product.sku
                fees = fees_for(item.product, m, item.unit_price, afn=order.channel == "AFN")
                price = next(p for s, p, _k, _a in rows if s == sku)
                assert posted[(sku, "OurPricePrincipal")] == pytest.approx(price)  # the order item's price
                assert posted[(sku, "Commission")] == pytest.approx(number(-fees.referral * item.quantity, m))
                assert posted.get((sku, "FBAPerUnitFulfillmentFee")) == (
                    pytest.approx(number(-fees.fba * item.quantity, m)) if order.channel == "AFN" else None)


def test_breakdowns_add_up_to_the_transaction_total(emulator) -> None:
    window = "postedDate >= datetime('now', '-20 days')"
    with db_for(emulator) as db:
        totals = dict(db.connection.execute(
            f"SELECT transactionId, totalAmount_amount FROM transactions WHERE {window}"))
        for condition in ("isLeaf", "level = 1"):
            sums = dict(db.connection.execute(
                f"SELECT transactionId, round(sum(breakdownAmount_amount), 2) FROM transaction_breakdowns "
                f"WHERE {window} AND {condition} GROUP BY transactionId"))
            assert sums == pytest.approx(totals)
        items = dict(db.connection.execute(
            f"SELECT transactionId, round(sum(totalAmount_amount), 2) FROM transaction_items WHERE {window} "
            "GROUP BY transactionId"))
    assert len(totals) > 50
    assert {t: totals[t] for t in items} == pytest.approx(items)  # a transaction with items is its items


# -- both versions show the same money --------------------------------------------------------------------------------
def test_v0_and_2024_agree_on_an_orders_total(emulator, book) -> None:
    picked = {kind: next(oid for oid, events in book.by_order.items() if any(e.kind == kind for e in events)
                         and all(e.status != "DEFERRED" for e in events))
              for kind in ("GuaranteeClaim", "Chargeback", "Retrocharge")}
    picked["Refund"] = next(oid for oid, events in book.by_order.items()
                            if [e.kind for e in events] == ["Shipment", "Refund", "ServiceFee"])  # + a return fee
    with db_for(emulator) as new, db_for(emulator, **V0) as old:
        for order_id in picked.values():
            now = scalar(new, "SELECT round(sum(totalAmount_amount), 2) FROM transactions WHERE orderId = ?",
                         order_id)
            then = scalar(old, "SELECT round(sum(total_amount), 2) FROM financial_events WHERE orderId = ?", order_id)
            expected = number(sum(e.total for e in book.by_order[order_id]), book.by_order[order_id][0].market)
            assert now == then == pytest.approx(expected), order_id
        refund = picked["Refund"]
        items = old.connection.execute(
            "SELECT eventType, sku, principal_amount, commission_amount, fbaFee_amount, otherFees_amount, "
            "total_amount FROM financial_event_items WHERE orderId = ? ORDER BY eventType DESC", (refund,)).fetchall()
        fees = new.connection.execute(
            "SELECT transactionType, sku, breakdownType, breakdownAmount_amount FROM transaction_item_breakdowns "
            "WHERE orderId = ? AND isLeaf", (refund,)).fetchall()
    by_type = {(t, sku, kind): amount for t, sku, kind, amount in fees}
    for event, sku, principal, commission, fba, other, _total in items:
        assert by_type[(event, sku, "OurPricePrincipal")] == principal
        assert by_type[(event, sku, "Commission")] == commission
        assert by_type.get((event, sku, "FBAPerUnitFulfillmentFee"), 0) == fba
        assert by_type.get((event, sku, "RefundCommission"), 0) == other
    assert [row[0] for row in items] == ["Shipment", "Refund"] and items[1][2] == -items[0][2]


def test_group_totals_agree_across_versions_and_with_the_settlement_id(emulator, book) -> None:
    group = next(g for g in reversed(book.groups) if g.end and g.market.key == "US")
    start = group.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    with db_for(emulator, **V0) as old, db_for(emulator) as new:
        total = scalar(old, "SELECT OriginalTotal_amount FROM financial_event_groups WHERE FinancialEventGroupStart "
                            "= ? AND FinancialEventGroupId = ?", start, group.group_id)
        events = scalar(old, "SELECT round(sum(e.total_amount), 2) FROM financial_event_groups g JOIN "
                             "financial_events e ON e.eventGroupId = g.FinancialEventGroupId WHERE "
                             "g.FinancialEventGroupStart = ? AND g.FinancialEventGroupId = ?", start, group.group_id)
        transactions = new.connection.execute(
            "SELECT round(sum(totalAmount_amount), 2), min(settlementId), max(settlementId) FROM transactions "
            "WHERE financialEventGroupId = ?", (group.group_id,)).fetchone()
    assert total == events == transactions[0] == pytest.approx(number(book.group_total(group), group.market))
    assert transactions[1:] == (group.settlement_id, group.settlement_id)


def test_summaries_and_balances_agree_with_the_transactions(emulator, book) -> None:
    group = next(g for g in reversed(book.groups) if g.end and g.market.key == "DE")
    first, last = (emulator.dataset.anchor - timedelta(days=10)).date(), (emulator.dataset.anchor -
                                                                          timedelta(days=3)).date()
    with db_for(emulator) as db:
        settled = db.connection.execute("SELECT marketplaceId, periodStart, netProceeds_amount FROM finance_summaries "
                                        "WHERE settlementId = ?", (group.settlement_id,)).fetchall()
        posted = scalar(db, "SELECT round(sum(totalAmount_amount), 2) FROM transactions WHERE settlementId = ? "
                            "AND postedDate >= ?", group.settlement_id, group.start.strftime("%Y-%m-%d"))
        period = dict(db.connection.execute("SELECT marketplaceId, netProceeds_amount FROM finance_summaries(?, ?)",
                                            (first.isoformat(), last.isoformat())))
        days = dict(db.connection.execute(
            "SELECT marketplaceId, round(sum(totalAmount_amount), 2) FROM transactions WHERE postedDate >= ? AND "
            "postedDate < date(?, '+1 day') GROUP BY marketplaceId", (first.isoformat(), last.isoformat())))
        balances = {path: amount for path, amount in db.connection.execute(
            "SELECT path, amount_amount FROM finance_balances WHERE marketplaceId = 'ATVPDKIKX0DER'")}
        deferred = scalar(db, "SELECT round(sum(totalAmount_amount), 2) FROM transactions WHERE marketplaceId = "
                              "'ATVPDKIKX0DER' AND transactionStatus = 'DEFERRED' AND postedDate >= "
                              "date('now', '-30 days')")
    assert settled == [(group.market.id, group.start.strftime("%Y-%m-%dT%H:%M:%SZ"), posted)]
    assert period == pytest.approx(days)
    assert balances["TOTAL"] == pytest.approx(balances["TOTAL/AVAILABLE"] + balances["TOTAL/RESERVED"])
    assert balances["TOTAL/RESERVED/DEFERRED"] == pytest.approx(deferred or 0)


def test_deferred_transactions_show_in_2024_only(emulator, book) -> None:
    deferred = next((e for e in book.events if e.status == "DEFERRED"), None)
    if deferred is None:
        pytest.skip("no business order shipped in the last seven days of this dataset")
    with db_for(emulator) as new, db_for(emulator, **V0) as old:
        row = new.connection.execute(
            "SELECT transactionStatus, deferralReason, maturityDate, financialEventGroupId FROM transactions "
            "WHERE orderId = ? AND transactionType = 'Shipment'", (deferred.order_id,)).fetchone()
        kinds = [r[0] for r in old.connection.execute("SELECT eventType FROM financial_events WHERE orderId = ?",
                                                      (deferred.order_id,))]
    assert row[:2] == ("DEFERRED", "B2B") and row[3] is None and instant(row[2]) > deferred.posted
    assert "Shipment" not in kinds  # v0 shows deferred events once released


# -- joins an analyst writes -----------------------------------------------------------------------------------------
def test_profit_per_order_joins_orders_and_transactions(emulator, book) -> None:
    window = "o.createdTime >= datetime('now', '-4 days')"
    with db_for(emulator) as db:
        orders = scalar(db, f"SELECT count(*) FROM orders o WHERE {window}")
        rows = db.connection.execute(
            "SELECT o.orderId, o.fulfillment_fulfilledBy, sum(t.totalAmount_amount) AS net FROM orders o "
            f"JOIN transactions t ON t.orderId = o.orderId WHERE {window} GROUP BY o.orderId").fetchall()
        calls = [c for c in db.last_calls() if c.operation == "listTransactions"]
    assert rows and len(calls) == orders  # one call per order, whatever its age
    assert all(c.params["relatedIdentifierName"] == "ORDER_ID" and "postedAfter" not in c.params for c in calls)
    for order_id, _by, net in rows:
        assert net == pytest.approx(number(sum(e.total for e in book.by_order[order_id]),
                                           book.by_order[order_id][0].market))


def test_v0_profit_per_order_and_sku(emulator) -> None:
    with db_for(emulator, **V0) as db:
        rows = db.connection.execute(
            "SELECT i.orderId, i.sku, sum(i.principal_amount + i.shipping_amount), "
            "sum(i.commission_amount + i.fbaFee_amount), sum(i.total_amount) FROM orders o JOIN "
            "financial_event_items i ON i.orderId = o.orderId WHERE o.createdTime >= datetime('now', '-4 days') "
            "AND i.eventType = 'Shipment' GROUP BY i.orderId, i.sku").fetchall()
        calls = {c.operation for c in db.last_calls()}
    assert rows and calls == {"searchOrders", "listFinancialEventsByOrderId"}
    assert all(sales > 0 > fees and total < sales for _o, _s, sales, fees, total in rows)


def test_service_fees_need_an_order_or_a_group_and_say_how(emulator) -> None:
    with db_for(emulator, **V0) as db:
        with pytest.raises(MissingFilterError) as err:
            db.connection.execute("SELECT * FROM financial_events_service_fee").fetchall()
        assert not db.last_calls()
        message = str(err.value)
        assert "one of orderId, eventGroupId" in message and "financial_event_groups" in message
        fees = db.connection.execute(
            "SELECT s.FeeDescription, s.total_amount FROM financial_event_groups g JOIN financial_events_service_fee "
            "s ON s.eventGroupId = g.FinancialEventGroupId WHERE g.FinancialEventGroupStart >= "
            "datetime('now', '-45 days')").fetchall()
    assert {"Subscription Fee", "FBA storage fee"} <= {f for f, _t in fees}
    assert all(total < 0 for _f, total in fees)


def test_v0_is_flagged_deprecated_in_favour_of_2024(emulator) -> None:
    v0 = next(s for s in load_all() if s.section == "finances" and s.version == "v0")
    assert v0.deprecation and "deprecated in favour of 2024-06-19" in v0.deprecation
    page = (Path(__file__).resolve().parent.parent / "docs" / "tables" / "finances-v0.md").read_text(encoding="utf-8")
    assert f"> **Deprecated:** {v0.deprecation}" in page
    with db_for(emulator) as db:
        assert db.settings.api_version("FinancesApiVersion") == "2024-06-19"  # the default
        assert "transactions" in {t.name for t in db.tables()}


# -- hook-made tables: their model columns are model fields ---------------------------------------------------------
#: Columns the hooks make (not fields of Amazon's objects).
HOOK_COLUMNS = {"eventType", "orderId", "PostedDate", "total_amount", "currencyCode", "event"}


def _event_schema(model: dict, kind: str) -> dict:
    lists = sm.resolve(model, model["definitions"]["FinancialEvents"])["properties"]
    return sm.resolve(model, sm.resolve(model, lists[f"{kind}EventList"])["items"])


@pytest.mark.parametrize("table", ["shipment", "refund", "guarantee_claim", "chargeback", "service_fee",
                                   "adjustment", "retrocharge", "product_ads_payment", "coupon_payment",
                                   "removal_shipment"])
def test_v0_event_columns_are_fields_of_their_event(table, models_dir) -> None:
    model = sm.load(models_dir, "finances-v0.json")
    spec = next(s for s in load_all() if s.section == "finances" and s.version == "v0").tables[
        f"financial_events_{table}"]
    kind = "".join(w.title() for w in table.split("_"))
    schema = _event_schema(model, kind)
    checked = 0
    for column in spec.columns:
        if column.source != "row" or column.name in HOOK_COLUMNS and column.path == (column.name,):
            continue
        assert sm.walk(model, schema, list(column.path)) is not None, f"{spec.name}.{column.name}"
        checked += 1
    assert checked >= 3
