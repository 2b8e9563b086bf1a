"""Each route on its own: planner.choose/bind, then StatementScope.rows over a fake client with canned answers.

The tables are test-only definitions (``tests/fixtures/definitions/widgets-v1.toml``, a fictional Widgets API with
one table per route kind) loaded with the real loader; the fake client (``tests/fakes``) records every call, so the
tests assert what the API would see: which calls, with which parameters, in which order relative to the rows.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClient, canned, canned_bytes, not_found, paged

from sqlspapi.definitions.loader import load_file
from sqlspapi.definitions.schema import TableSpec
from sqlspapi.errors import ProgrammingError, ReportFailedError, SPAPIError
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, GE, LIMIT, LT, BindContext, Bound, Constraint, Plan
from sqlspapi.sql.routes import listing
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope

DEFINITION = Path(__file__).parent / "fixtures" / "definitions" / "widgets-v1.toml"
MARKETPLACES = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
US, CA = MARKETPLACES
CONNECTION = {"sellerId": "A1SELLER", "region": "na"}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WIDGETS: list[dict[str, Any]] = canned("widgets.json")["widgets"]
PRICES: dict[str, float] = canned("widgets.json")["prices"]


@cache
def table(name: str) -> TableSpec:
    """A table of the test-only Widgets definition."""
    return load_file(DEFINITION).tables[name]


def where(name: str, column: str, op: str = EQ, rhs: Any = None) -> Constraint:
    """A usable WHERE term on ``column`` (a list or tuple ``rhs`` with EQ is an IN list)."""
    is_in = op == EQ and isinstance(rhs, list | tuple)
    return Constraint(table(name).column_index(column), op, True, is_in, tuple(rhs) if is_in else rhs)


def limit(n: int) -> Constraint:
    """A LIMIT term."""
    return Constraint(-1, LIMIT, True, False, n)


def context() -> BindContext:
    """A fixed clock, the two test marketplaces and the connection values."""
    return BindContext(now=NOW, lookback_days=30, include_restricted=False, marketplace_ids=lambda: MARKETPLACES,
                       connection=CONNECTION)


def plan_and_bind(name: str, constraints: Sequence[Constraint] = (),
                  used: Iterable[int] | None = None) -> tuple[Plan, Bound]:
    """planner.choose, then planner.bind with the constraints' values in the order the plan asks for them."""
    choice = planner.choose(table(name), constraints, 0, used)
    assert not choice.plan.missing, choice.plan.text
    values = [constraints[i].rhs for i, _argv, _omit, _in in sorted(choice.usage, key=lambda u: u[1])]
    return choice.plan, planner.bind(choice.plan, values, context())


def scope_for(client: FakeClient) -> StatementScope:
    """A statement scope over the fake client (nested tables find their parent in the Widgets definition)."""
    return StatementScope(client, include_restricted=False, entity_source=lambda t: table("widgets"),
                          connection=CONNECTION, poll_scale=0)


def rows(name: str, client: FakeClient, constraints: Sequence[Constraint] = (), used: Iterable[int] | None = None,
         scope: StatementScope | None = None) -> list[dict[str, Any]]:
    """The SQL rows (column name → value) the table gives for these constraints."""
    plan, bound = plan_and_bind(name, constraints, used)
    spec = table(name)
    build = row_builder(spec.columns, None, CONNECTION)
    out = []
    for obj, request, parent in (scope or scope_for(client)).rows(plan, bound):
        out.append(dict(zip([c.name for c in spec.columns], build(obj, request, parent), strict=True)))
    return out


def get_widget(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    """getWidget: the canned widget, or a 404."""
    found = [w for w in WIDGETS if w["widgetId"] == path["widgetId"]]
    if not found:
        raise not_found(f"widget {path['widgetId']}")
    return {"widget": found[0]}


def wanted(query: Mapping[str, Any], widget: Mapping[str, Any]) -> bool:
    """listWidgets' filters: widgetIds and statuses."""
    ids = query.get("widgetIds")
    return (ids is None or widget["widgetId"] in ids) and query.get("statuses", widget["status"]) == widget["status"]


def widgets_client(**more: Any) -> FakeClient:
    """A fake client serving listWidgets (3 per page) and getWidget."""
    return FakeClient({"listWidgets": paged(WIDGETS, "payload.widgets", "payload.nextToken", select=wanted),
                       "getWidget": get_widget, **more})


# ------------------------------------------------------------------------------------------------------ get
def test_get_equal_is_one_call() -> None:
    client = widgets_client()
    got = rows("widgets", client, [where("widgets", "widgetId", EQ, "W2")])
    assert [r["widgetId"] for r in got] == ["W2"]
    assert client.operations() == ["getWidget"]
    assert client.calls[0].path == {"widgetId": "W2"}


def test_get_in_is_one_call_per_value_when_no_list_takes_the_list() -> None:
    client = widgets_client()
    plan, bound = plan_and_bind("gadgets", [where("gadgets", "gadgetId", EQ, ["W3", "W1", "W1"])])
    assert plan.mode == "multiget"
    got = [obj["widgetId"] for obj, _req, _parent in scope_for(client).rows(plan, bound)]
    assert sorted(got) == ["W1", "W3"]
    assert [c.path for c in client.calls] == [{"widgetId": "W1"}, {"widgetId": "W3"}]


def test_get_404_is_zero_rows() -> None:
    client = widgets_client()
    assert rows("widgets", client, [where("widgets", "widgetId", EQ, "NOPE")]) == []
    assert client.operations() == ["getWidget"]


# ------------------------------------------------------------------------------------------------------ list
def test_list_pages_with_the_token_and_the_original_parameters() -> None:
    client = widgets_client()
    got = rows("widgets", client, [where("widgets", "marketplaceId", EQ, US)])
    assert [r["widgetId"] for r in got] == [w["widgetId"] for w in WIDGETS]
    first, second, third = client.calls
    assert "nextToken" not in first.query
    assert second.query == {**first.query, "nextToken": "page-3"}
    assert third.query == {**first.query, "nextToken": "page-6"}


def test_list_token_only_sends_the_token_alone() -> None:
    def search(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        return {**paged(WIDGETS[:5], "items", "nextToken")(path, query, body), "numberOfResults": 5}

    client = FakeClient({"searchWidgets": search})
    got = rows("widget_search", client, [where("widget_search", "keywords", EQ, "gear")])
    assert [r["widgetId"] for r in got] == ["W1", "W2", "W3", "W4", "W5"]
    assert [c.query for c in client.calls] == [{"keywords": "gear"}, {"pageToken": "page-3"}]


def _stock_events(client: FakeClient, events: list[Any], between: Any = None) -> list[Any]:
    """Scan widget_stock (tokens live 30 s), calling ``between()`` after each row; calls and rows in order."""
    plan, bound = plan_and_bind("widget_stock")
    for obj, _req, _parent in scope_for(client).rows(plan, bound):
        events.append(obj["widgetId"])
        if between is not None:
            between()
    return [e.query.get("nextToken", "first") if not isinstance(e, str) else e for e in events]


def test_list_short_lived_token_read_fast_pages_on_demand() -> None:
    events: list[Any] = []
    client = FakeClient({"listWidgets": paged(WIDGETS, "payload.widgets", "payload.nextToken")}, events=events)
    assert _stock_events(client, events) == ["first", "W1", "W2", "W3", "page-3", "W4", "W5", "W6", "page-6", "W7"]


def test_list_refused_token_restarts_the_chain_and_skips_what_was_read() -> None:
    events: list[Any] = []
    pages = paged(WIDGETS, "payload.widgets", "payload.nextToken")
    refused: list[str] = []

    def expiring(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        if query.get("nextToken") == "page-3" and not refused:
            refused.append("page-3")
            raise SPAPIError("expired", code="InvalidInput", status=400)
        return pages(path, query, body)

    client = FakeClient({"listWidgets": expiring}, events=events)
    shown = _stock_events(client, events)
    assert [e for e in shown if e.startswith("W")] == [w["widgetId"] for w in WIDGETS]  # every row once
    assert shown == ["first", "W1", "W2", "W3", "page-3", "first", "page-3", "W4", "W5", "W6", "page-6", "W7"]


def test_list_stale_token_is_not_sent_the_chain_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(listing, "time", type("Clock", (), {"monotonic": staticmethod(lambda: clock[0])}))
    events: list[Any] = []
    client = FakeClient({"listWidgets": paged(WIDGETS, "payload.widgets", "payload.nextToken")}, events=events)

    def slow() -> None:
        clock[0] += 15.0  # three rows a page: 45 s between pages, past the 30 s life

    shown = _stock_events(client, events, slow)
    assert [e for e in shown if e.startswith("W")] == [w["widgetId"] for w in WIDGETS]
    assert shown == ["first", "W1", "W2", "W3", "first", "page-3", "W4", "W5", "W6", "first", "page-3", "page-6",
                     "W7"]


def test_list_without_token_ttl_fetches_the_next_page_when_the_rows_are_consumed() -> None:
    events: list[Any] = []
    client = FakeClient({"listWidgets": paged(WIDGETS, "payload.widgets", "payload.nextToken")}, events=events)
    plan, bound = plan_and_bind("widgets", [where("widgets", "marketplaceId", EQ, US)])
    for obj, _req, _parent in scope_for(client).rows(plan, bound):
        events.append(obj["widgetId"])
    shown = [e.query.get("nextToken", "first") if not isinstance(e, str) else e for e in events]
    assert shown == ["first", "W1", "W2", "W3", "page-3", "W4", "W5", "W6", "page-6", "W7"]


def _search_total(total: int) -> FakeClient:
    return FakeClient({"searchWidgets": lambda path, query, body: {"items": WIDGETS[:3], "numberOfResults": total,
                                                                    "nextToken": "page-3"}})


def test_list_result_ceiling_is_an_error_naming_the_total_and_the_ceiling() -> None:
    client = _search_total(1500)
    with pytest.raises(ProgrammingError) as err:
        rows("widget_search", client, [where("widget_search", "keywords", EQ, "gear")])
    assert "1,500" in str(err.value) and "at most 10" in str(err.value)
    assert "keywords=gear" in str(err.value)
    assert len(client.calls) == 1


def test_list_result_ceiling_with_a_limit_within_it_is_no_error() -> None:
    client = _search_total(1500)
    plan, bound = plan_and_bind("widget_search", [where("widget_search", "keywords", EQ, "gear"), limit(2)])
    assert bound.stop_after == 2
    got = list(scope_for(client).rows(plan, bound))
    assert len(got) >= 2 and len(client.calls) == 1


def test_list_result_ceiling_with_a_limit_over_it_is_an_error() -> None:
    client = _search_total(1500)
    with pytest.raises(ProgrammingError, match="1,500"):
        rows("widget_search", client, [where("widget_search", "keywords", EQ, "gear"), limit(11)])


def test_list_in_list_is_batched() -> None:
    client = widgets_client()
    ids = [w["widgetId"] for w in WIDGETS]
    got = rows("widgets", client, [where("widgets", "widgetId", EQ, list(reversed(ids))),
                                   where("widgets", "marketplaceId", EQ, US)])
    assert sorted(r["widgetId"] for r in got) == ids
    assert [c.query["widgetIds"] for c in client.calls] == [["W1", "W2", "W3"], ["W4", "W5", "W6"], ["W7"]]
    assert all(c.query["marketplaceIds"] == [US] for c in client.calls)


def test_list_marketplace_fan_out_derives_parameters_and_fills_the_marketplace_column() -> None:
    client = widgets_client()
    got = rows("widgets", client, [where("widgets", "status", EQ, "INACTIVE")])
    assert [(r["widgetId"], r["marketplaceId"]) for r in got] == [("W3", US), ("W7", US), ("W3", CA), ("W7", CA)]
    assert [(c.query["marketplaceIds"], c.query["granularityId"]) for c in client.calls] == [([US], US), ([CA], CA)]
    assert {r["sellerId"] for r in got} == {"A1SELLER"} and {r["origin"] for r in got} == {"fixture"}


def test_list_one_sided_window_sends_only_its_bound() -> None:
    constraints = [where("widgets", "updatedAt", GE, "2026-01-08"), where("widgets", "updatedAt", LT, "2026-01-10"),
                   where("widgets", "marketplaceId", EQ, US)]
    choice = planner.choose(table("widgets"), constraints)
    assert sorted(i for i, *_ in choice.usage) == [0, 2], "the upper bound stays with SQLite"
    _plan, bound = plan_and_bind("widgets", constraints)
    (request,) = bound.requests
    assert request.query["updatedSince"] == "2026-01-08T00:00:00Z"
    assert not any("before" in k.lower() or "until" in k.lower() for k in request.query)


def test_list_parts_follow_the_columns_used() -> None:
    names = [c.name for c in table("widgets").columns]
    only_id = {names.index("widgetId")}
    name_and_images = {names.index("widgetId"), names.index("summaries_0_name"), names.index("images")}
    eq_us = [where("widgets", "marketplaceId", EQ, US)]
    assert plan_and_bind("widgets", eq_us, only_id)[1].requests[0].query["includedData"] == ["summaries"]
    assert plan_and_bind("widgets", eq_us, name_and_images)[1].requests[0].query["includedData"] == [
        "images", "summaries"]
    assert plan_and_bind("widgets", eq_us)[1].requests[0].query["includedData"] == ["details", "images", "summaries"]


def test_list_limit_sizes_the_page_and_stops_paging() -> None:
    client = widgets_client()
    got = rows("widgets", client, [where("widgets", "marketplaceId", EQ, US), limit(2)])
    assert [r["widgetId"] for r in got] == ["W1", "W2"]
    assert len(client.calls) == 1 and client.calls[0].query["pageSize"] == 2


# ------------------------------------------------------------------------------------------------------ window
def test_window_splits_a_long_range_into_consecutive_calls() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=400)
    client = FakeClient({"listEvents": lambda path, query, body: {"payload": {"events": [
        {"eventId": query["postedAfter"], "postedDate": query["postedAfter"]}]}}})
    got = rows("widget_events", client, [where("widget_events", "postedDate", GE, start.isoformat()),
                                         where("widget_events", "postedDate", LT, end.isoformat())])
    spans = [(datetime.fromisoformat(c.query["postedAfter"]), datetime.fromisoformat(c.query["postedBefore"]))
             for c in client.calls]
    assert len(spans) == 3 and len(got) == 3
    assert spans[0][0] == start and spans[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), "no gap, no overlap"
    assert all(timedelta(0) < hi - lo <= timedelta(days=180) for lo, hi in spans)


# ------------------------------------------------------------------------------------------------------ nested
def _parts_rows(scope: StatementScope, key: str) -> list[tuple[str, str]]:
    plan, bound = plan_and_bind("widget_parts", [where("widget_parts", "widgetId", EQ, key)])
    build = row_builder(table("widget_parts").columns, None, CONNECTION)
    return [tuple(build(obj, req, parent)[:2]) for obj, req, parent in scope.rows(plan, bound)]


def test_nested_reads_a_cached_parent_that_has_the_parts() -> None:
    client = widgets_client()
    scope = scope_for(client)
    rows("widgets", client, [where("widgets", "widgetId", EQ, "W1")], scope=scope)  # all columns: every part
    assert client.operations() == ["getWidget"]
    assert _parts_rows(scope, "W1") == [("W1", "P-1"), ("W1", "P-2")]
    assert client.operations() == ["getWidget"], "no call: the parent was cached with the details part"


def test_nested_fetches_the_parent_with_the_parts_it_needs() -> None:
    client = widgets_client()
    scope = scope_for(client)
    names = [c.name for c in table("widgets").columns]
    rows("widgets", client, [where("widgets", "widgetId", EQ, "W2")], used={names.index("widgetId")}, scope=scope)
    assert client.calls[0].query["includedData"] == ["summaries"]
    assert _parts_rows(scope, "W2") == [("W2", "P-3")]
    assert client.operations() == ["getWidget", "getWidget"], "the cached parent lacked the details part"
    assert "details" in client.calls[1].query["includedData"]


def test_nested_without_a_cached_parent_calls_the_parent_get() -> None:
    client = widgets_client()
    assert _parts_rows(scope_for(client), "W1") == [("W1", "P-1"), ("W1", "P-2")]
    assert [(c.operation, c.path) for c in client.calls] == [("getWidget", {"widgetId": "W1"})]
    assert _parts_rows(scope_for(client), "NOPE") == []


# ------------------------------------------------------------------------------------------------------ batch
def prices_batch(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
    """getPricesBatch: one sub-response per sub-request; a widget without a price answers 404."""
    out = []
    for sub in body["requests"]:
        widget_id = sub["uri"].split("/")[-2]
        if widget_id in PRICES:
            out.append({"status": {"statusCode": 200}, "body": {"payload": {
                "widgetId": widget_id, "marketplaceId": sub["marketplaceId"], "amount": PRICES[widget_id]}}})
        else:
            out.append({"status": {"statusCode": 404}, "body": {"errors": [{"code": "NotFound"}]}})
    return {"responses": out}


def test_batch_fills_the_template_splits_by_max_items_and_skips_error_responses() -> None:
    client = FakeClient({"getPricesBatch": prices_batch})
    got = rows("widget_prices", client, [where("widget_prices", "widgetId", EQ, ["W5", "W1", "W3", "W2", "W4"]),
                                         where("widget_prices", "marketplaceId", EQ, US)])
    assert [(r["widgetId"], r["amount"]) for r in got] == [("W1", 9.99), ("W2", 4.5), ("W4", 12.0), ("W5", 1.25)]
    bodies = [c.body for c in client.calls]
    assert [len(b["requests"]) for b in bodies] == [2, 2, 1]
    assert bodies[0] == {"requests": [
        {"uri": "/widgets/v1/widgets/W1/price", "method": "GET", "marketplaceId": US},
        {"uri": "/widgets/v1/widgets/W2/price", "method": "GET", "marketplaceId": US}]}


def test_batch_uses_the_connection_marketplaces_when_none_is_given() -> None:
    client = FakeClient({"getPricesBatch": prices_batch})
    got = rows("widget_prices", client, [where("widget_prices", "widgetId", EQ, "W1")])
    assert [(r["widgetId"], r["marketplaceId"]) for r in got] == [("W1", US), ("W1", CA)]
    assert len(client.calls) == 1


# ------------------------------------------------------------------------------------------------------ document
def report_client(statuses: list[str]) -> FakeClient:
    """createReport → getReport answering ``statuses`` in turn → getReportDocument → a gzipped TSV."""
    polls = [{"reportId": "R-42", "processingStatus": s, **({"reportDocumentId": "D-7"} if s == "DONE" else {})}
             for s in statuses]
    return FakeClient(
        {"createReport": [{"reportId": "R-42"}], "getReport": polls,
         "getReportDocument": [{"reportDocumentId": "D-7", "url": "https://docs.invalid/D-7",
                                "compressionAlgorithm": "GZIP"}]},
        downloads={"https://docs.invalid/D-7": gzip.compress(canned_bytes("report.tsv"))})


def test_document_creates_polls_downloads_and_decodes() -> None:
    client = report_client(["IN_QUEUE", "IN_PROGRESS", "DONE"])
    got = rows("widget_report", client, [where("widget_report", "reportType", EQ, "GET_STOCK")])
    assert [(r["sku"], r["quantity"], r["item_name"]) for r in got] == [
        ("SKU-1", 3, "Red sprocket"), ("SKU-2", 0, "Blue gear"), ("SKU-3", 7, "")]
    assert client.operations() == ["createReport", "getReport", "getReport", "getReport", "getReportDocument"]
    assert client.calls[0].body == {"reportType": "GET_STOCK", "marketplaceIds": MARKETPLACES}
    assert client.calls[1].path == {"reportId": "R-42"}
    assert client.calls[-1].path == {"reportDocumentId": "D-7"}
    assert client.downloaded == ["https://docs.invalid/D-7"]


def test_document_rows_are_keyed_by_the_header_without_the_bom() -> None:
    client = report_client(["DONE"])
    plan, bound = plan_and_bind("widget_report", [where("widget_report", "reportType", EQ, "GET_STOCK")])
    objects = [obj for obj, _req, _parent in scope_for(client).rows(plan, bound)]
    assert objects[0] == {"sku": "SKU-1", "quantity": "3", "item-name": "Red sprocket"}
    assert objects[-1] == {"sku": "SKU-3", "quantity": "7", "item-name": ""}, "a short row is padded"


def test_document_fatal_raises_naming_the_report() -> None:
    client = report_client(["IN_PROGRESS", "FATAL"])
    with pytest.raises(ReportFailedError, match="R-42") as err:
        rows("widget_report", client, [where("widget_report", "reportType", EQ, "GET_STOCK")])
    assert "FATAL" in str(err.value)
    assert client.downloaded == [] and "getReportDocument" not in client.operations()


# ------------------------------------------------------------------------------------------------------ python
def test_python_route_calls_the_function_with_the_hidden_inputs() -> None:
    client = FakeClient({"GET /widgets/v1/widgets": lambda path, query, body: {"payload": {"widgets": WIDGETS[:2]}}})
    got = rows("widget_raw", client, [where("widget_raw", "path", EQ, "/widgets/v1/widgets"),
                                      where("widget_raw", "json_path", EQ, "$.payload.widgets")])
    assert [(r["status"], r["idx"]) for r in got] == [(200, 0), (200, 1)]
    assert '"widgetId":"W2"' in got[1]["value"]
    assert client.operations() == ["GET /widgets/v1/widgets"]


def test_python_route_without_its_required_input_names_it() -> None:
    choice = planner.choose(table("widget_raw"), [])
    assert choice.plan.missing == ("one of path",)


# ------------------------------------------------------------------------------------------------------ inputs
def kept_by_sqlite(name: str, constraints: Sequence[Constraint], got: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that survive SQLite's own check of the EQ constraints the plan did not omit."""
    choice = planner.choose(table(name), constraints)
    omitted = {i for i, _argv, omit, _in in choice.usage if omit}
    columns = [c.name for c in table(name).columns]
    kept = [(columns[c.column], c.rhs) for i, c in enumerate(constraints) if i not in omitted and c.op == EQ]
    return [r for r in got if all(r[col] == value for col, value in kept)]


def test_an_input_given_with_a_key_still_matches() -> None:
    """``catalog_items('charger') WHERE asin = 'B0…'`` must not lose the item: a search input beside the key."""
    client = FakeClient({"searchWidgets": lambda path, query, body: {"items": WIDGETS[:3], "numberOfResults": 3}})
    constraints = [where("widget_search", "keywords", EQ, "gear"), where("widget_search", "widgetId", EQ, "W2")]
    got = rows("widget_search", client, constraints)  # the search (a get cannot take the input); SQLite keeps W2
    assert client.operations() == ["searchWidgets"]
    assert [r["widgetId"] for r in kept_by_sqlite("widget_search", constraints, got)] == ["W2"]
