"""The list route on its own: paging with the token (sent alone or with the original parameters), short-lived,
refused and stale tokens, the result ceiling, IN-list batches, the marketplace fan-out, one-sided windows, parts and
LIMIT — planner.choose/bind, then StatementScope.rows over a fake client with canned answers (the Widgets harness,
``widget_routes.py``), asserting which calls the API would see, with which parameters, in which order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from fakes import FakeClient, paged
from widget_routes import (
    CA,
    US,
    WIDGETS,
    limit,
    plan_and_bind,
    rows,
    scope_for,
    table,
    where,
    widgets_client,
)

from sqlspapi.errors import ProgrammingError, SPAPIError
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, GE, LT
from sqlspapi.sql.routes import listing


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
