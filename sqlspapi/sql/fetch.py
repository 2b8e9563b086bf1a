"""Runs bound plans against SP-API: pages through list operations, reuses responses within one statement.

The fetcher is the only place the virtual tables touch the client. It keeps, for the current SQL statement,
a response cache keyed by operation and parameters (so the same API call is never made twice in one
statement) and an entity cache (rows of ``orders`` by id) that nested tables such as the 2026 ``order_items``
read instead of calling the API again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from sqlspapi.definitions.loader import GetSpec, TableSpec
from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import SPAPIError
from sqlspapi.sql.planner import Bound, Request
from sqlspapi.sql.rows import as_rows, dig

#: How many responses one statement keeps at most (a full scan of a large account pages through many).
MAX_CACHED_RESPONSES = 2000
#: How many parent entities (e.g. orders) one statement keeps at most for nested tables.
MAX_CACHED_ENTITIES = 200_000


class _ClientLike(Protocol):
    def call(self, op: OperationSpec, *, path: Mapping[str, str] | None = ..., query: Mapping[str, Any] | None = ...,
             body: Any = ..., rdt: RestrictedResource | None = ...) -> Any: ...


Row = tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None]  # (object, path params, parent)


class Fetcher:
    """Per-connection: sends requests through the client, with the per-statement caches."""

    def __init__(self, client: _ClientLike, *, include_restricted: bool,
                 entity_source: Callable[[TableSpec], TableSpec]) -> None:
        self.client = client
        self.include_restricted = include_restricted
        self.entity_source = entity_source
        self._lock = threading.Lock()
        self._responses: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._entities: OrderedDict[tuple[str, str], Mapping[str, Any]] = OrderedDict()

    def begin_statement(self) -> None:
        """Forget the previous statement's responses and entities."""
        with self._lock:
            self._responses.clear()
            self._entities.clear()

    # ------------------------------------------------------------------------------------------ requests
    def call(self, op: OperationSpec, path: Mapping[str, str], query: Mapping[str, Any]) -> Any:
        """One API call (JSON body), answered from the statement cache when it was already made."""
        key = (op.name, op.version, tuple(sorted(path.items())),
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items())))
        with self._lock:
            if key in self._responses:
                return self._responses[key]
        rdt = None
        if op.restricted and self.include_restricted:
            rdt = RestrictedResource(op.method, op.path, op.rdt_data_elements)
        response = self.client.call(op, path=dict(path), query=dict(query), rdt=rdt)
        data = response.json
        with self._lock:
            self._responses[key] = data
            while len(self._responses) > MAX_CACHED_RESPONSES:
                self._responses.popitem(last=False)
        return data

    def _remember(self, table: TableSpec, obj: Mapping[str, Any]) -> None:
        if table.entity is None or table.key is None:
            return
        col = table.columns[table.column_index(table.key)]
        key = dig(obj, col.path)
        if key is None:
            return
        with self._lock:
            self._entities[(table.entity, str(key))] = obj
            while len(self._entities) > MAX_CACHED_ENTITIES:
                self._entities.popitem(last=False)

    # -------------------------------------------------------------------------------------------- routes
    def rows(self, table: TableSpec, route: str, bound: Bound) -> Iterator[Row]:
        """The row objects for a bound plan, lazily, page by page."""
        if route == "nested":
            yield from self._nested(table, bound)
        elif route in ("get", "multiget"):
            assert table.get is not None
            for req in bound.requests:
                obj = self._get(table.get, req)
                if obj is not None:
                    self._remember(table, obj)
                    yield obj, req.path, None
        else:
            yield from self._list(table, bound)

    def _get(self, get: GetSpec, req: Request) -> Mapping[str, Any] | None:
        try:
            data = self.call(req.operation, req.path, req.query)
        except SPAPIError as exc:
            if exc.status == 404:
                return None  # no such order: zero rows, as SQL expects
            raise
        obj = dig(data, get.row)
        return obj if isinstance(obj, Mapping) else None

    def _list(self, table: TableSpec, bound: Bound) -> Iterator[Row]:
        lst = table.list
        assert lst is not None
        produced = 0
        for req in bound.requests:
            token = None
            while True:
                query = dict(req.query)
                if token:
                    query[lst.next_param or "NextToken"] = token
                try:
                    data = self.call(req.operation, req.path, query)
                except SPAPIError as exc:
                    if exc.status == 404 and req.path:
                        break  # e.g. the items of an order that does not exist: no rows
                    raise
                for obj in as_rows(dig(data, lst.rows)):
                    self._remember(table, obj)
                    yield obj, req.path, None
                    produced += 1
                token = dig(data, lst.next_token) if lst.next_token else None
                if not token or (bound.stop_after is not None and produced >= bound.stop_after):
                    break
            if bound.stop_after is not None and produced >= bound.stop_after:
                return

    def _nested(self, table: TableSpec, bound: Bound) -> Iterator[Row]:
        nested = table.nested
        assert nested is not None
        parent_table = self.entity_source(table)
        get = parent_table.get
        assert get is not None
        for key in bound.keys:
            with self._lock:
                parent = self._entities.get((nested.entity, key))
            if parent is None:
                params = dict(get.params)
                if self.include_restricted:
                    for k, v in get.restricted_params.items():
                        params[k] = list(params.get(k, [])) + list(v) if isinstance(v, list) else v
                parent = self._get(get, Request(get.operation, {get.path_param: key}, params))
                if parent is None:
                    continue
                self._remember(parent_table, parent)
            for obj in as_rows(dig(parent, nested.items)):
                yield obj, {}, parent
