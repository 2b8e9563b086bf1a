"""The batch route (sqlspapi/sql/routes/batch.py) as a user meets it: IN lists and JSON arrays sent max_items per
call, one call per distinct input when a join binds the table row by row (and a notice saying how to batch), typed
sub-requests, sub-responses paired with their sub-requests even out of order, failed sub-requests kept as rows, and
a missing sub-response an error rather than a shorter answer.

Most tests run SQL against the emulator and read what it received from its call log; the pairing tests answer from
a fake client (Amazon's answers in an order the emulator never uses).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClient

from sqlspapi.definitions.loader import DefinitionError, load_all, load_file
from sqlspapi.definitions.schema import TableSpec
from sqlspapi.emulator import start
from sqlspapi.emulator.data import Dataset
from sqlspapi.engine import open_database
from sqlspapi.errors import SlowStatementWarning, SPAPIError
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, BindContext, Constraint
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
PRODUCTS = Dataset(seed=7, orders=10).products


@pytest.fixture(scope="module")
def emu():
    e = start(time_scale=1e6, orders=200)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def db(emu):
    database = open_database(emu.connection_string(MarketplaceIds="US,CA"))
    yield database
    database.close()


def run(db, emu, sql: str) -> tuple[list[tuple], list[Any]]:
    """The rows of ``sql`` and the bodies of the batch calls the emulator received for it."""
    before = len(emu.calls)
    rows = list(db.connection.execute(sql))
    bodies = [c.params["body"] for c in emu.calls.snapshot()[before:] if "body" in c.params]
    return rows, bodies


def quoted(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# ---------------------------------------------------------------------------------------------- call counts
def test_prices_for_100_asins_are_5_calls_of_20(db, emu) -> None:
    asins = [p.asin for p in PRODUCTS] + [f"B0NOSUCH{n:02d}" for n in range(40)]
    rows, bodies = run(db, emu, f"SELECT asin, statusCode FROM item_offers WHERE asin IN ({quoted(asins)}) "
                                f"AND marketplaceId = '{US}'")
    assert [len(b["requests"]) for b in bodies] == [20, 20, 20, 20, 20]
    sent = [s["uri"].split("/")[-2] for b in bodies for s in b["requests"]]
    assert sorted(sent) == sorted(asins), "every ASIN once, none twice"
    assert {s["MarketplaceId"] for b in bodies for s in b["requests"]} == {US}
    assert {a for a, status in rows if status == 404} == set(asins[60:]), "an unknown ASIN is a row, not dropped"
    assert {a for a, status in rows if status == 200} == set(asins[:60])


def test_fees_for_100_skus_are_5_calls_of_20(db, emu) -> None:
    wanted = [(p.sku, US) for p in PRODUCTS] + [(p.sku, CA) for p in PRODUCTS[:40]]
    array = json.dumps([{"identifier": sku, "price": 25, "marketplaceId": mp} for sku, mp in wanted])
    rows, bodies = run(db, emu, f"SELECT sku, marketplaceId, status FROM fees_estimates('{array}')")
    assert [len(b) for b in bodies] == [20, 20, 20, 20, 20]
    assert sorted((sku, mp) for sku, mp, _status in rows) == sorted(wanted)
    assert {status for *_, status in rows} == {"Success"}


def test_in_list_and_marketplaces_make_pairs_split_by_max_items(db, emu) -> None:
    """No marketplace filter: each value in each of the connection's marketplaces (US, CA), 20 pairs per call."""
    skus = [p.sku for p in PRODUCTS[:11]]
    rows, bodies = run(db, emu, f"SELECT DISTINCT sku, marketplaceId FROM listing_offers WHERE sku IN ({quoted(skus)})")
    assert [len(b["requests"]) for b in bodies] == [20, 2]
    assert sorted(rows) == sorted((s, m) for s in skus for m in (US, CA))
    first = bodies[0]["requests"][0]
    assert first == {"uri": f"/products/pricing/v0/listings/{min(skus)}/offers", "method": "GET",
                     "MarketplaceId": US, "ItemCondition": "New", "CustomerType": "Consumer"}


def test_sub_requests_are_typed_from_the_columns(db, emu) -> None:
    """A REAL input is a JSON number, a BOOLEAN one true/false; text given for a number is converted."""
    _rows, bodies = run(db, emu, f"SELECT status FROM fees_estimates('SKU-001-BLA', '19.99', 2, 0, '{US}')")
    (sub,) = bodies[0]
    request = sub["FeesEstimateRequest"]
    assert request["PriceToEstimateFees"] == {"ListingPrice": {"CurrencyCode": "USD", "Amount": 19.99},
                                              "Shipping": {"CurrencyCode": "USD", "Amount": 2}}
    assert request["IsAmazonFulfilled"] is False and request["MarketplaceId"] == US
    assert (sub["IdType"], sub["IdValue"]) == ("SellerSKU", "SKU-001-BLA")


# ---------------------------------------------------------------------------------------------- joins
def test_a_join_calls_once_per_distinct_input_and_says_how_to_batch(db, emu) -> None:
    sql = ("WITH l(sku, price) AS (VALUES ('SKU-001-BLA', 19.99), ('SKU-001-WHI', 20.99), ('SKU-001-BLA', 19.99), "
           "('SKU-001-WHI', 20.99), ('SKU-002-BLA', 24.49)) "
           f"SELECT l.sku, f.totalFees_amount FROM l JOIN fees_estimates(l.sku, l.price, 0, 1, '{US}') AS f")
    rows, bodies = run(db, emu, sql)
    assert len(rows) == 5 and rows[0] == rows[2] and rows[1] == rows[3]
    assert [len(b) for b in bodies] == [1, 1, 1], "three distinct inputs: three calls, repeats answered from memory"
    (notice,) = [n for n in db.notices() if "once per row of a join" in n]
    assert notice.category is SlowStatementWarning
    assert "fees_estimates((SELECT json_group_array(json_object('identifier', …, 'price', …)) FROM …))" in notice


def test_the_batched_form_of_the_same_join_is_one_call(db, emu) -> None:
    sql = ("WITH l(sku, price) AS (VALUES ('SKU-001-BLA', 19.99), ('SKU-001-WHI', 20.99), ('SKU-001-BLA', 19.99), "
           "('SKU-002-BLA', 24.49)) "
           "SELECT sku, totalFees_amount FROM fees_estimates((SELECT json_group_array(json_object('identifier', sku, "
           f"'price', price)) FROM l), NULL, NULL, NULL, '{US}') ORDER BY sku")
    rows, bodies = run(db, emu, sql)
    assert [len(b) for b in bodies] == [3], "one call; the repeated input once"
    assert [sku for sku, _ in rows] == ["SKU-001-BLA", "SKU-001-WHI", "SKU-002-BLA"]
    assert not [n for n in db.notices() if "once per row" in n]


def test_an_in_subquery_arrives_whole(db, emu) -> None:
    asins = [p.asin for p in PRODUCTS[:25]]
    sql = (f"WITH w(asin) AS (VALUES {', '.join(f'({a!r})' for a in asins)}) "
           f"SELECT DISTINCT asin FROM item_offers WHERE asin IN (SELECT asin FROM w) AND marketplaceId = '{US}'")
    rows, bodies = run(db, emu, sql)
    assert [len(b["requests"]) for b in bodies] == [20, 5]
    assert sorted(r[0] for r in rows) == sorted(asins)


def test_a_statement_reuses_sub_responses_it_already_has(db, emu) -> None:
    """The same IN list read twice in one statement (a self-join) is asked once; the next statement asks again."""
    asins = quoted([p.asin for p in PRODUCTS[:3]])
    sql = (f"SELECT count(*) FROM (SELECT asin FROM item_offers WHERE asin IN ({asins}) AND marketplaceId = '{US}') a "
           f"JOIN (SELECT asin FROM item_offers WHERE asin IN ({asins}) AND marketplaceId = '{US}') b USING (asin)")
    _rows, bodies = run(db, emu, sql)
    assert len(bodies) == 1
    _rows, again = run(db, emu, sql)
    assert len(again) == 1


def test_explain_shows_the_batch_and_the_row_by_row_estimate(db) -> None:
    batched = db.explain(f"SELECT * FROM item_offers WHERE asin IN ('B0A', 'B0B') AND marketplaceId = '{US}'")
    assert any("getItemOffersBatch(" in line and "20 sub-requests per call" in line for line in batched)
    joined = db.explain(f"SELECT * FROM competitive_pricing c JOIN fees_estimates(c.sku, 10, 0, 1, '{US}') f "
                        f"WHERE c.sku = 'SKU-001-BLA' AND c.marketplaceId = '{US}'")
    assert any("getMyFeesEstimates(" in line and "one call per distinct input the join gives" in line
               for line in joined)


# ---------------------------------------------------------------------------------------------- answers
@cache
def table(name: str) -> TableSpec:
    return next(t for s in load_all() for t in s.tables.values() if t.name == name)


def fake_rows(name: str, client: FakeClient, constraints: list[Constraint]) -> list[dict[str, Any]]:
    """The rows (column → value) a table gives over a fake client, planned and bound like the engine does."""
    spec = table(name)
    choice = planner.choose(spec, constraints)
    assert not choice.plan.missing, choice.plan.text
    values = [constraints[i].rhs for i, *_ in sorted(choice.usage, key=lambda u: u[1])]
    ctx = BindContext(now=datetime.now(UTC), lookback_days=30, include_restricted=False,
                      marketplace_ids=lambda: [US])
    bound = planner.bind(choice.plan, values, ctx)
    scope = StatementScope(client, include_restricted=False, entity_source=lambda t: t)
    build = row_builder(spec.columns)
    return [dict(zip([c.name for c in spec.columns], build(*row), strict=True))
            for row in scope.rows(choice.plan, bound)]


def eq(name: str, column: str, value: Any) -> Constraint:
    is_in = isinstance(value, tuple)
    return Constraint(table(name).column_index(column), EQ, True, is_in, value)


def estimate(item: dict[str, Any], total: float) -> dict[str, Any]:
    request = item["FeesEstimateRequest"]
    return {"Status": "Success", "FeesEstimateIdentifier": {
        "MarketplaceId": request["MarketplaceId"], "IdType": item["IdType"], "IdValue": item["IdValue"],
        "SellerInputIdentifier": request["Identifier"], "PriceToEstimateFees": request["PriceToEstimateFees"]},
        "FeesEstimate": {"TimeOfFeesEstimation": "2026-01-01T00:00:00Z",
                         "TotalFeesEstimate": {"CurrencyCode": "USD", "Amount": total}}}


def test_sub_responses_in_another_order_pair_by_their_echo() -> None:
    """Amazon's results echo each request's Identifier: reversed, every row still belongs to its input."""
    def reversed_fees(path: Any, query: Any, body: Any) -> Any:
        return [estimate(item, item["FeesEstimateRequest"]["PriceToEstimateFees"]["ListingPrice"]["Amount"] / 10)
                for item in reversed(body)]
    array = json.dumps([{"identifier": "A", "price": 10}, {"identifier": "B", "price": 20},
                        {"identifier": "C", "price": 30}])
    client = FakeClient({"getMyFeesEstimates": reversed_fees})
    got = fake_rows("fees_estimates", client, [eq("fees_estimates", "identifier", array),
                                               eq("fees_estimates", "marketplaceId", US)])
    assert [(r["sku"], r["price"], r["totalFees_amount"]) for r in got] == [("A", 10, 1.0), ("B", 20, 2.0),
                                                                           ("C", 30, 3.0)]


def test_a_sub_request_left_without_an_answer_is_an_error_not_a_shorter_result() -> None:
    client = FakeClient({"getMyFeesEstimates": lambda path, query, body: [estimate(body[0], 1.0)]})
    array = json.dumps([{"identifier": "A", "price": 10}, {"identifier": "B", "price": 20}])
    with pytest.raises(SPAPIError, match="1 of its 2 sub-requests have no sub-response") as err:
        fake_rows("fees_estimates", client, [eq("fees_estimates", "identifier", array),
                                             eq("fees_estimates", "marketplaceId", US)])
    assert err.value.code == "IncompleteResponse"


def test_a_failed_sub_response_is_a_row_with_its_status() -> None:
    def offers(path: Any, query: Any, body: Any) -> Any:
        return {"responses": [{"status": {"statusCode": 503, "reasonPhrase": "Service Unavailable"},
                               "request": {"Asin": s["uri"].split("/")[-2], "MarketplaceId": s["MarketplaceId"],
                                           "ItemCondition": "New"},
                               "body": {"errors": [{"code": "ServiceUnavailable", "message": "Try again."}]}}
                              for s in body["requests"]]}
    got = fake_rows("item_offers", FakeClient({"getItemOffersBatch": offers}),
                    [eq("item_offers", "asin", ("B0X", "B0Y")), eq("item_offers", "marketplaceId", US)])
    assert [(r["asin"], r["statusCode"], r["sellerId"]) for r in got] == [("B0X", 503, None), ("B0Y", 503, None)]
    assert json.loads(got[0]["errors"]) == [{"code": "ServiceUnavailable", "message": "Try again."}]


# ---------------------------------------------------------------------------------------------- the definition
PRICES = """
section = "prices"
version = "v1"
title = "Prices"

[operations.getPricesBatch]
method = "POST"
path = "/prices/v1/batch"
rate = 1
burst = 1

[tables.prices]
description = "Prices."
columns = \"\"\"
sku=^sku          TEXT     The SKU
amount=body.amount REAL    Price
currency=^currency TEXT HIDDEN Input
\"\"\"

[tables.prices.batch]
operation = "getPricesBatch"
column = "sku"
max_items = 5
status = "status"
template = { uri = "/prices/v1/{sku}", currency = "{currency}" }
"""


@pytest.mark.parametrize(("old", "new", "message"), [
    ('max_items = 5', 'max_items = 5\ninputs = ["currency"]\nrequired = ["curency"]',
     "curency named in required/defaults/match but not an input"),
    ('max_items = 5', 'max_items = 5\ninputs = ["currency"]\ndefaults = { cost = 1 }', "cost named in"),
    ('max_items = 5', 'max_items = 0', "max_items 0: want a count of sub-requests"),
    ('max_items = 5', 'max_items = 5\ninputs = ["currency"]\nprepare = "nowhere:fn"',
     "hook module 'nowhere' cannot be imported"),
    ('max_items = 5', 'max_items = 5\ninputs = ["currencies"]\nprepare = "fees_hooks:prepare"',
     "column 'currencies' is named but not declared"),
])
def test_batch_definitions_are_checked(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "prices-v1.toml"
    path.write_text(PRICES.replace(old, new), encoding="utf-8")
    with pytest.raises(DefinitionError, match=message):
        load_file(path)


def test_a_template_placeholder_must_name_an_input(tmp_path: Path) -> None:
    path = tmp_path / "prices-v1.toml"
    path.write_text(PRICES, encoding="utf-8")
    with pytest.raises(DefinitionError, match="placeholder.s. currency name no input"):
        load_file(path)
    path.write_text(PRICES.replace("max_items = 5", 'max_items = 5\ninputs = ["currency"]'), encoding="utf-8")
    spec = load_file(path).tables["prices"].routes[0]
    assert spec.input_columns() == ("sku", "currency") and spec.max_items == 5
