"""Each route on its own: planner.choose/bind, then StatementScope.rows over a fake client with canned answers.

The tables are test-only definitions (``tests/fixtures/definitions/widgets-v1.toml``, a fictional Widgets API with
one table per route kind) loaded with the real loader; the fake client (``tests/fakes``) records every call, so the
tests assert what the API would see: which calls, with which parameters, in which order relative to the rows. The list
route (paging, tokens, ceilings, batching, parts): ``test_list_route.py``; the harness: ``widget_routes.py``.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import FakeClient, canned_bytes
from widget_routes import (
    CA,
    CONNECTION,
    MARKETPLACES,
    PRICES,
    US,
    WIDGETS,
    plan_and_bind,
    rows,
    scope_for,
    table,
    where,
    widgets_client,
)

from sqlspapi.errors import ReportFailedError
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, GE, LT, Constraint
from sqlspapi.sql.rows import row_builder
from sqlspapi.sql.statement import StatementScope


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
