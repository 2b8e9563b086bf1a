"""The statement scope: where routes meet the client, with the per-statement caches, bounded.

One :class:`StatementScope` per connection; :meth:`StatementScope.statement` (a context manager) or
:meth:`begin` starts a new SQL statement. Within a statement:

- the response cache answers a GET already made (same operation and parameters) without a call — so a join that
  re-scans a small table costs nothing — and holds at most :data:`MAX_CACHED_BYTES` of response bodies (least
  recently used out first): a streamed scan of a large account keeps only its last pages, so memory stays flat;
- the entity cache keeps the last :data:`MAX_CACHED_ENTITIES` parent objects (orders by id) with the parts they were
  fetched with, for nested tables (``orders JOIN order_items`` reads items from the order just scanned).

It also applies a table's named hook (a processor that may reshape or explode each object) and remembers entities.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource, TableSpec
from sqlspapi.http.flight import answer_size
from sqlspapi.http.pace import PaceBook
from sqlspapi.http.progress import Progress
from sqlspapi.http.response import Envelope
from sqlspapi.sql.hooks import load_function
from sqlspapi.sql.plan import Bound, Plan, Row
from sqlspapi.sql.routes import route_for
from sqlspapi.sql.rows import source_value

#: Response bytes one statement keeps at most for re-use (least recently used evicted first).
MAX_CACHED_BYTES = 2_000_000
#: Bytes read at a time from a document download.
DOWNLOAD_CHUNK = 1 << 20
#: Parent entities (e.g. orders) one statement keeps at most for nested tables (the most recent ones).
MAX_CACHED_ENTITIES = 2_000


class ClientLike(Protocol):
    """What the scope needs of :class:`sqlspapi.http.client.Client`."""

    def call(self, op: OperationSpec, *, path: Mapping[str, Any] | None = ..., query: Mapping[str, Any] | None = ...,
             body: Any = ..., rdt: RestrictedResource | None = ..., expect: Envelope | None = ...,
             watch: Progress | None = ..., fresh: bool = ...) -> Any:
        """Send one operation; the answer has ``.json`` and ``.headers``; one without what ``expect`` says a whole
        answer holds is retried, then raised; ``watch`` hears of the call and shows (and may cancel) its waits."""

    def download(self, url: str, *, stream: bool = ...) -> Any:
        """GET a pre-signed URL; the answer has ``.content`` (or, streamed, ``iter_content``)."""


class StatementScope:
    """Per connection: sends requests through the client, with the per-statement caches."""

    def __init__(self, client: ClientLike, *, include_restricted: bool,
                 entity_source: Callable[[TableSpec], TableSpec], connection: Mapping[str, Any] | None = None,
                 poll_scale: float = 1.0, entities: Iterable[str] | None = None,
                 progress: Progress | None = None) -> None:
        self.client = client
        #: The running statement's progress: calls, waits, pages and rows are reported to it; it may cancel them.
        self.progress = progress if progress is not None else Progress()
        runtime = getattr(client, "runtime", None)
        #: The account's pace book (what estimates are made of); a client without a runtime gets a private one.
        self.pace: PaceBook = runtime.pace if runtime is not None else PaceBook()
        #: The entities some nested table reads (None: all); rows of other entities are not kept.
        self.entities = None if entities is None else frozenset(entities)
        self.include_restricted = include_restricted
        self.entity_source = entity_source
        self.connection = dict(connection or {})
        self.poll_scale = poll_scale
        #: The account's report lifecycle (set by the Database: reuse, ledger, document cache).
        self.reports: Any = None
        self._lock = threading.Lock()
        self._responses: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._entities: OrderedDict[tuple[str, str], tuple[Mapping[str, Any], frozenset[str]]] = OrderedDict()
        self._memos: dict[str, dict[Any, Any]] = {}

    def begin(self) -> None:
        """A new statement: forget the previous one's responses, entities and memos."""
        with self._lock:
            self._responses.clear()
            self._entities.clear()
            self._memos.clear()
            self._bytes = 0

    def memo(self, name: str) -> dict[Any, Any]:
        """A dict a route keeps under ``name`` for the running statement (the batch route's sub-responses already
        answered, so a join that binds a table once per row calls once per distinct input); the next statement
        starts with none."""
        with self._lock:
            return self._memos.setdefault(name, {})

    @contextlib.contextmanager
    def statement(self) -> Iterator[StatementScope]:
        """``with scope.statement():`` — one SQL statement's caches (cleared on entry)."""
        self.begin()
        yield self

    # ------------------------------------------------------------------------------------------ requests
    def call(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             fresh: bool = False, expect: Envelope | None = None, rdt: RestrictedResource | None = None) -> Any:
        """One API call's decoded JSON; a GET already made in this statement is answered from the cache.

        ``expect`` (the route's :class:`~sqlspapi.http.response.Envelope`) is checked by the client inside its retry
        loop: only whole answers are returned, and so cached. ``rdt``: the call carries a Restricted Data Token for
        this resource (a restricted report's document).
        """
        cacheable = op.method == "GET" and not fresh
        key = (op.name, op.version, tuple(sorted(path.items())),
               tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items())), expect)
        if cacheable:
            with self._lock:
                hit = self._responses.get(key)
                if hit is not None:
                    self._responses.move_to_end(key)
                    return hit[0]
        response = self.send(op, path, query, body, expect=expect, fresh=fresh, rdt=rdt)
        data = response.json
        if cacheable:
            size = answer_size(response)
            with self._lock:
                self._responses[key] = (data, size)
                self._bytes += size
                while self._bytes > MAX_CACHED_BYTES and len(self._responses) > 1:
                    _old, (_data, old_size) = self._responses.popitem(last=False)
                    self._bytes -= old_size
        return data

    def send(self, op: OperationSpec, path: Mapping[str, Any], query: Mapping[str, Any], body: Any = None, *,
             expect: Envelope | None = None, fresh: bool = False, rdt: RestrictedResource | None = None) -> Any:
        """One API call, uncached: the client's answer (``status``, ``json``, ``headers``, ``request_id``); ``fresh``
        also refuses an identical call's answer completed moments ago (the client's share window).

        A restricted operation carries a Restricted Data Token when the connection includes restricted data.
        """
        if rdt is None and op.restricted and self.include_restricted:
            rdt = RestrictedResource(op.method, op.path, op.rdt_data_elements)
        return self.client.call(op, path=dict(path), query=dict(query), body=body, rdt=rdt, expect=expect,
                                watch=self.progress, fresh=fresh, caller=self)

    def download(self, url: str) -> bytes:
        """The bytes at a pre-signed URL (no SP-API token, no rate limit)."""
        return bytes(self.client.download(url).content)

    def download_to(self, url: str, out: IO[bytes]) -> str | None:
        """Stream the body at a pre-signed URL into ``out`` (memory stays flat); its Content-Type."""
        response = self.client.download(url, stream=True)
        try:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                self.progress.check()
                out.write(chunk)
            return response.headers.get("content-type")
        finally:
            response.close()

    # ------------------------------------------------------------------------------------------ entities
    def remember(self, table: TableSpec, obj: Mapping[str, Any], request: Any, parent: Any = None,
                 parts: frozenset[str] = frozenset()) -> None:
        """Keep ``obj`` as entity ``table.entity`` under its key (most recent first out of the bounded cache)."""
        if table.entity is None or table.key is None:
            return
        key = source_value(table.columns[table.column_index(table.key)], obj, request, parent, self.connection)
        if key is None:
            return
        with self._lock:
            entry = (table.entity, str(key))
            self._entities[entry] = (obj, parts)
            self._entities.move_to_end(entry)
            while len(self._entities) > MAX_CACHED_ENTITIES:
                self._entities.popitem(last=False)

    def entity(self, entity: str, key: str, parts: Iterable[str] = ()) -> Mapping[str, Any] | None:
        """A cached entity fetched with at least ``parts``, else None."""
        with self._lock:
            hit = self._entities.get((entity, key))
        if hit is None or not set(parts) <= hit[1]:
            return None
        return hit[0]

    # ------------------------------------------------------------------------------------------ rows
    def rows(self, plan: Plan, bound: Bound) -> Iterator[Row]:
        """The row objects of a bound plan: the route's fetch, the table's hook, entities remembered."""
        table = plan.table
        hook = load_function(table.hook) if table.hook else None
        parts = _parts(table, bound)
        keep = table.entity is not None and (self.entities is None or table.entity in self.entities)
        row = self.progress.row
        for obj, request, parent in route_for(plan.route.kind).fetch(plan, bound, self):
            row()
            if keep:
                self.remember(table, obj, request, parent, parts if request is not None else frozenset())
            if hook is None:
                yield obj, request, parent
            else:
                for shaped in hook(obj, request):
                    yield shaped, request, parent


def _parts(table: TableSpec, bound: Bound) -> frozenset[str]:
    """The parts (includedData) the bound requests asked for: what cached entities may serve later."""
    if table.parts is None or not bound.requests:
        return frozenset()
    value = bound.requests[0].query.get(table.parts.param) or ()
    return frozenset(value if isinstance(value, list | tuple) else [value])
