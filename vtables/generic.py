"""The generic escape hatch, written as a Python table: ``spapi_request(method, path, query, body, json_path)``.

Any SP-API call, through the same auth, Restricted Data Tokens, rate limits, retries and call log as every other
table, so a user is never stuck waiting for a definition::

    SELECT status, json FROM spapi_request('GET', '/sellers/v1/marketplaceParticipations');
    SELECT value FROM spapi_request('GET', '/orders/v0/orders',
        '{"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "2026-10-01T00:00:00Z"}', NULL, '$.payload.Orders');

One call per scan, no automatic paging (pass the next-page token in ``query`` to page): a scan costs exactly the
raw calls. The path is matched against every defined operation to pace the call on that operation's usage plan
(and to use an RDT for a restricted one with ``IncludeRestrictedData=true``); an unknown path is paced
conservatively (0.5 requests per second, burst 1) until Amazon's ``x-amzn-RateLimit-Limit`` header says better.
An answer with an error status is a row too (``status`` ≥ 400, the error body in ``json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from sqlspapi.definitions.loader import parse_columns
from sqlspapi.definitions.schema import OperationSpec, PythonSpec, SectionSpec, TableSpec
from sqlspapi.errors import ProgrammingError, SPAPIError

#: Usage plan assumed for a path no definition declares.
UNKNOWN_RATE, UNKNOWN_BURST = 0.5, 1

_COLUMNS = """
method      TEXT HIDDEN  Input: the HTTP method (GET, POST, PUT, PATCH, DELETE)
path        TEXT HIDDEN  Input: the path, e.g. /sellers/v1/marketplaceParticipations
query       TEXT HIDDEN  Input: query parameters as a JSON object or a=b&c=d (lists are comma-joined)
body        TEXT HIDDEN  Input: the JSON body of a POST/PUT/PATCH
json_path   TEXT HIDDEN  Input: $.a.b — one row per element of the array there (or the one object)
status      INTEGER      HTTP status of the answer
request_id  TEXT         x-amzn-RequestId of the answer (quote it to Amazon support)
operation   TEXT         The operation the path matched (or METHOD path when no definition declares it)
idx         INTEGER      Position of the element under json_path (0 without json_path)
value       JSON         The element under json_path, or the whole answer
"""

TABLE = TableSpec(
    name="spapi_request",
    section="generic",
    version="1",
    description="Any SP-API call as a table: spapi_request(method, path, query, body, json_path) — status and raw "
                "JSON, or one row per element under json_path. Same auth, rate limits, retries and call log.",
    columns=parse_columns(_COLUMNS, "vtables/generic.py: table spapi_request"),
    routes=(PythonSpec(kind="python", operation=None, function="generic:spapi_request"),),
    one_of=(("path",),),
    example="SELECT status, value FROM spapi_request('GET', '/sellers/v1/marketplaceParticipations')",
    source="vtables/generic.py",
)

#: The always-on section holding the generic table (no version key).
SECTION = SectionSpec(section="generic", version="1", version_key="", model=None, deprecation=None, operations={},
                      tables={"spapi_request": TABLE}, source="vtables/generic.py", title="Generic request")


def spapi_request(scope: Any, ctx: Any, *, path: str, method: str = "GET", query: str | None = None,
                  body: str | None = None, json_path: str | None = None) -> Iterator[tuple[dict[str, Any], Any]]:
    """Send one call and yield its answer as rows (see the module docstring)."""
    method = method.upper()
    if not path.startswith("/"):
        raise ProgrammingError(f"spapi_request: path must start with '/', got {path!r}")
    op, path_params = match_operation(method, path)
    params = parse_query(query)
    payload = _json_arg("body", body) if body else None
    try:
        answer = scope.send(op, path_params, params, payload)
        status, request_id, data = answer.status, answer.request_id, answer.json
    except SPAPIError as exc:
        if exc.status is None:
            raise
        status, request_id = exc.status, exc.request_id
        data = {"errors": [{"code": exc.code, "message": exc.api_message, "details": exc.details}]}
    found = select(data, json_path)
    for idx, element in enumerate(found):
        yield {"status": status, "request_id": request_id, "operation": op.name, "idx": idx, "value": element,
               "method": method, "path": path, "query": query, "body": body, "json_path": json_path}, None


def match_operation(method: str, path: str) -> tuple[OperationSpec, dict[str, str]]:
    """The defined operation whose template matches (with its path parameters), else an ad-hoc one."""
    for op, pattern in _templates():
        if op.method == method:
            m = pattern.match(path)
            if m:
                return op, m.groupdict()
    return OperationSpec(f"{method} {path}", "generic", "1", method, path, UNKNOWN_RATE, UNKNOWN_BURST), {}


@cache
def _templates() -> tuple[tuple[OperationSpec, re.Pattern[str]], ...]:
    from sqlspapi.definitions.loader import load_all

    out = []
    for section in load_all():
        for op in section.operations.values():
            regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
            out.append((op, re.compile(f"^{regex}$")))
    # Literal segments beat parameters: /orders/v0/orders/{orderId} must not swallow .../orderItems.
    return tuple(sorted(out, key=lambda item: -item[0].path.count("/")))


def parse_query(text: str | None) -> dict[str, Any]:
    """``{"a": 1}`` or ``a=1&b=2`` → a dict of query parameters."""
    if not text:
        return {}
    text = text.strip()
    if text.startswith("{"):
        value = _json_arg("query", text)
        if not isinstance(value, Mapping):
            raise ProgrammingError("spapi_request: query must be a JSON object or a=b&c=d")
        return dict(value)
    return dict(parse_qsl(text.lstrip("?"), keep_blank_values=True))


def _json_arg(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ProgrammingError(f"spapi_request: {name} is not valid JSON ({exc})") from None


def select(data: Any, json_path: str | None) -> list[Any]:
    """The elements at ``$.a.b[0].c`` (an array gives its elements, anything else itself; missing gives none)."""
    if not json_path:
        return [data]
    steps = [s for s in re.split(r"\.|\[(\d+)\]", json_path.strip().lstrip("$")) if s]
    value = data
    for step in steps:
        if isinstance(value, list) and step.isdigit():
            value = value[int(step)] if int(step) < len(value) else None
        elif isinstance(value, Mapping):
            value = value.get(step)
        else:
            value = None
        if value is None:
            return []
    return list(value) if isinstance(value, list) else [value]
