"""Data Kiosk API 2023-11-15 in the emulator: createQuery, getQuery, getQueries, cancelQuery and getDocument.

createQuery takes ``{"query", "paginationToken"?}``. Like Amazon it answers 400 InvalidInput ("The provided query is
invalid.") for a body without a query, a query that is not GraphQL, one longer than :data:`MAX_QUERY_CHARS`
characters once unnecessary whitespace is removed, one whose root field is not a dataset the emulator serves
(``Query 'x' is not supported.``, as the model's sandbox example) and a ``paginationToken`` that is not one issued
for the same query. Otherwise the query is made at once and runs (:mod:`~sqlspapi.emulator.datakiosk_data`) with
graphql-core: one that does not validate against the dataset's schema, or whose arguments are refused (a start more
than two years ago, an unknown marketplace), ends **FATAL** with an error document ``{"errorMessage": …}``
(``errorDocumentId``); one with no records ends **DONE without a document** (no ``dataDocumentId``: no data); the
others end DONE with a JSON Lines document of at most :attr:`KioskStore.page_size` records, and a
``pagination.nextToken`` when more remain: the same query sent again with that ``paginationToken`` is the next page.

A query sits IN_QUEUE then IN_PROGRESS for :attr:`KioskStore.timing` Amazon seconds (the report store's clock:
``Emulator.advance_clock`` moves it); :meth:`KioskStore.outcome_next` makes the next queries end ``FATAL`` (with a
reason) or ``DONE_NO_DATA``. cancelQuery cancels IN_QUEUE and IN_PROGRESS queries (a CANCELLED one: nothing to do;
DONE or FATAL: 400). getQueries lists the account's queries newest first, filtered by ``processingStatuses`` and
``createdSince`` (default 90 days ago) / ``createdUntil``, ``pageSize`` per page; its ``paginationToken`` must come
with the same filters. Query ids and document ids are derived from the query (deterministic for a seed).

getDocument answers a URL valid 5 minutes on the report documents' download path
(:data:`~sqlspapi.emulator.reports.DOWNLOAD_PREFIX`): data documents are gzip, sent with ``Content-Encoding: gzip``
(as the model says Amazon does for a compressed document). Queries and documents belong to the seller account that
made them. The usage plans come from ``vtables/data-kiosk-2023-11-15.toml``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, graphql_sync, parse, validate
from graphql.language import FieldNode
from graphql.utilities import strip_ignored_characters

from sqlspapi.emulator.common import ApiError, Request, Response, decode_token, encode_token, invalid, iso_or_none
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.datakiosk_data import ROOTS, resolvers, schema_for
from sqlspapi.emulator.faults import RawAnswer
from sqlspapi.emulator.generic import Endpoint, Paging, fingerprint, rules
from sqlspapi.emulator.reports import DOWNLOAD_PREFIX, URL_LIFETIME
from sqlspapi.emulator.reports_files import Document
from sqlspapi.emulator.reports_store import Issued, ReportStore
from sqlspapi.emulator.reports_store import store as report_store

SECTION, VERSION = "datakiosk", "2023-11-15"
#: createQuery's limit, after unnecessary whitespace is removed.
MAX_QUERY_CHARS = 8000
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
#: Outcomes :meth:`KioskStore.outcome_next` accepts.
OUTCOMES = ("FATAL", "DONE_NO_DATA")
INVALID_QUERY = "The provided query is invalid."
GET_QUERIES = rules(f"""
processingStatuses  string[]   enum={','.join(STATUSES)}
pageSize            integer    maximum=100 minimum=1 default=10
createdSince        date-time
createdUntil        date-time
paginationToken     string
""")
PAGING = Paging("datakiosk-queries", "paginationToken")


@dataclass
class Query:
    """One query: what was asked, by whom, when (Amazon clock), how it ends, its documents and next page."""

    query_id: str
    account: str
    text: str
    created: datetime
    stamp: float
    queue: float
    processing: float
    outcome: str  # DONE | FATAL
    document_id: str | None = None
    error_document_id: str | None = None
    next_token: str | None = None
    cancelled: float | None = None

    def status(self, now: float) -> str:
        """The processingStatus at Amazon-clock ``now``."""
        if self.cancelled is not None:
            return "CANCELLED"
        elapsed = now - self.stamp
        if elapsed < self.queue:
            return "IN_QUEUE"
        return "IN_PROGRESS" if elapsed < self.queue + self.processing else self.outcome

    def render(self, now: float) -> dict[str, Any]:
        """The model's ``Query`` object at Amazon-clock ``now``."""
        status = self.status(now)
        out: dict[str, Any] = {"queryId": self.query_id, "query": self.text,
                               "createdTime": iso_or_none(self.created), "processingStatus": status}
        started = self.created + timedelta(seconds=self.queue)
        if self.cancelled is not None:
            out["processingEndTime"] = iso_or_none(self.created + timedelta(seconds=self.cancelled - self.stamp))
        elif status != "IN_QUEUE":
            out["processingStartTime"] = iso_or_none(started)
            if status != "IN_PROGRESS":
                out["processingEndTime"] = iso_or_none(started + timedelta(seconds=self.processing))
                for key, value in (("dataDocumentId", self.document_id), ("errorDocumentId", self.error_document_id)):
                    if value:
                        out[key] = value
                if self.next_token:
                    out["pagination"] = {"nextToken": self.next_token}
        return out


@dataclass
class KioskStore:
    """The queries of one emulator (thread-safe) and its controls; documents and the clock are the report store's.

    ``timing`` = (seconds IN_QUEUE, seconds IN_PROGRESS) of queries created from now on, in Amazon seconds (default:
    DONE when first asked); ``page_size`` = records per document page.
    """

    reports: ReportStore
    timing: tuple[float, float] = (0.0, 0.0)
    page_size: int = 1000
    queries: dict[str, Query] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # document id → query id
    outcomes: list[tuple[str, str | None]] = field(default_factory=list)
    _made: Counter[str] = field(default_factory=Counter)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def outcome_next(self, outcome: str, *, reason: str | None = None, n: int = 1) -> None:
        """End the next ``n`` queries with ``outcome`` (``FATAL`` with ``reason`` as its error document's message,
        or ``DONE_NO_DATA``)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown query outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        with self._lock:
            self.outcomes.extend([(outcome, reason)] * int(n))

    def create(self, account: str, text: str, schema: GraphQLSchema, offset: int) -> Query:
        """Make and run a query (its page at ``offset``); returns it."""
        records, error = self._run(text, schema)
        with self._lock:
            taken = self.outcomes.pop(0) if self.outcomes else None
            seed = f"{self.reports.data.seed}|{account}|{text}|{offset}"
            self._made[seed] += 1
            digest = hashlib.sha256(f"{seed}|{self._made[seed]}".encode()).hexdigest()
            query = Query(str(10**13 + int(digest[:12], 16) % (9 * 10**13)), account, text,
                          self.reports.wall().replace(microsecond=0), self.reports.clock(), *self.timing, "DONE")
            if taken is not None and taken[0] == "FATAL":
                error = taken[1] or "The query could not be processed: an internal error occurred."
            if error is not None:
                query.outcome = "FATAL"
                query.error_document_id = self._keep(digest, "error", json.dumps({"errorMessage": error}).encode(),
                                                     query)
            elif records[offset:] and (taken is None or taken[0] != "DONE_NO_DATA"):
                page = records[offset:offset + self.page_size]
                lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in page).encode("utf-8")
                query.document_id = self._keep(digest, "data", gzip.compress(lines, mtime=0), query)
                if offset + self.page_size < len(records):
                    query.next_token = encode_token({"k": "datakiosk", "o": offset + self.page_size,
                                                     "f": fingerprint({"query": text})})
            self.queries[query.query_id] = query
            return query

    def _keep(self, digest: str, kind: str, data: bytes, query: Query) -> str:
        """Store a document (data: gzip; error: plain JSON) with the report store's documents; its id."""
        doc_id = f"amzn1.tortuga.4.na.{digest[12:20]}-{digest[20:24]}-{kind}-{digest[24:36]}"
        gzipped = kind == "data"
        self.reports.documents[doc_id] = Document(data, "application/x-ndjson;charset=UTF-8" if gzipped else
                                                  "application/json;charset=UTF-8", "GZIP" if gzipped else None)
        self.owners[doc_id] = query.query_id
        return doc_id

    def _run(self, text: str, schema: GraphQLSchema) -> tuple[list[Any], str | None]:
        """The query's records (every list under its root field, in order), or the error that makes it FATAL."""
        problems = validate(schema, parse(text))
        if problems:
            return [], "; ".join(p.message for p in problems)
        data = self.reports.data
        result = graphql_sync(schema, text, root_value=resolvers(data, data.anchor.date()))
        if result.errors:
            return [], "; ".join(e.message for e in result.errors)
        records: list[Any] = []
        for root in (result.data or {}).values():
            for value in (root or {}).values():
                records += value or []
        return records, None

    def find(self, account: str, query_id: str) -> Query:
        """The account's query (404 NotFound otherwise)."""
        query = self.queries.get(query_id)
        if query is None or query.account != account:
            raise ApiError(404, "NotFound", "The provided queryId was not found.")
        return query


def store(data: Dataset) -> KioskStore:
    """The Data Kiosk store of a dataset (made on first use, over the dataset's report store)."""
    reports = report_store(data)  # first: derived() holds the dataset's lock while it builds
    return data.derived("datakiosk", lambda d: KioskStore(reports))


# -------------------------------------------------------------------------------------------------- operations
def _checked(text: Any, token: Any) -> tuple[str, GraphQLSchema, int]:
    """The query, its dataset's schema and the page offset, or a 400 as Amazon answers it."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(INVALID_QUERY, "The request body needs a query: a GraphQL query as a string.")
    try:
        document = parse(text)
        compact = strip_ignored_characters(text)
    except GraphQLError as exc:
        raise invalid(INVALID_QUERY, exc.message) from None
    if len(compact) > MAX_QUERY_CHARS:
        raise invalid(INVALID_QUERY, f"The query is {len(compact)} characters long once unnecessary whitespace is "
                                     f"removed; at most {MAX_QUERY_CHARS} are allowed.")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    roots = {s.name.value for op in operations for s in op.selection_set.selections if isinstance(s, FieldNode)}
    unknown = sorted(roots - set(ROOTS))
    if unknown or len(roots) != 1:
        raise invalid(INVALID_QUERY, f"Query '{unknown[0]}' is not supported." if unknown
                      else "A query reads one dataset (one root field).")
    offset = 0
    if token is not None:
        state = decode_token(str(token), "paginationToken")
        if state.get("k") != "datakiosk" or state.get("f") != fingerprint({"query": text}):
            raise invalid("Invalid paginationToken: send it with the query of the Query object that returned it.")
        offset = int(state["o"])
    return text, schema_for(roots.pop()), offset


def create_query(req: Request) -> Response:
    """POST /dataKiosk/2023-11-15/queries → 202 ``{"queryId"}``."""
    body = req.json_body()
    if not isinstance(body, dict):
        raise invalid(INVALID_QUERY, "The request body must be a CreateQuerySpecification object.")
    text, schema, offset = _checked(body.get("query"), body.get("paginationToken"))
    query = store(req.data).create(req.grant.account, text, schema, offset)
    return Response(202, {"queryId": query.query_id})


def get_query(req: Request) -> Response:
    """GET /dataKiosk/2023-11-15/queries/{queryId}."""
    st = store(req.data)
    return Response(200, st.find(req.grant.account, req.path_args["queryId"]).render(st.reports.clock()))


def cancel_query(req: Request) -> Response:
    """DELETE /dataKiosk/2023-11-15/queries/{queryId} → 204 (IN_QUEUE and IN_PROGRESS queries only)."""
    st = store(req.data)
    with st._lock:
        query = st.find(req.grant.account, req.path_args["queryId"])
        now = st.reports.clock()
        status = query.status(now)
        if status in ("DONE", "FATAL"):
            raise invalid(f"Query {query.query_id} is {status}: only IN_QUEUE and IN_PROGRESS queries can be "
                          "cancelled.")
        if query.cancelled is None:
            query.cancelled = now
    return Response(204, RawAnswer(b""))


def get_queries(req: Request) -> Response:
    """GET /dataKiosk/2023-11-15/queries: the account's queries, newest first."""
    st = store(req.data)
    p = req.params
    now_wall, now = st.reports.wall(), st.reports.clock()
    since, until = p["createdSince"] or now_wall - timedelta(days=90), p["createdUntil"] or now_wall
    filters = {"statuses": p["processingStatuses"], "since": iso_or_none(p["createdSince"]),
               "until": iso_or_none(p["createdUntil"])}  # as sent: a follow-up page repeats them
    with st._lock:
        mine = sorted((q for q in st.queries.values() if q.account == req.grant.account
                       and since <= q.created <= until), key=lambda q: q.stamp, reverse=True)
        found = [q.render(now) for q in mine]
    if p["processingStatuses"]:
        found = [q for q in found if q["processingStatus"] in p["processingStatuses"]]
    start, stop = PAGING.window(PAGING.offset(req.query, filters, req.config.now()), p["pageSize"], len(found))
    answer: dict[str, Any] = {"queries": found[start:stop]}
    pagination = PAGING.pagination(start, p["pageSize"], len(found), filters, req.config.now())
    if pagination:
        answer["pagination"] = pagination
    return Response(200, answer)


def get_document(req: Request) -> Response:
    """GET /dataKiosk/2023-11-15/documents/{documentId} → a URL valid for 5 minutes."""
    st = store(req.data)
    doc_id = req.path_args["documentId"]
    with st._lock:
        owner = st.queries.get(st.owners.get(doc_id, ""))
    if owner is None or owner.account != req.grant.account:
        raise ApiError(404, "NotFound", "The provided documentId was not found.")
    reports = st.reports
    with reports._lock:
        now = reports.clock()
        signature = hashlib.sha256(f"datakiosk-{doc_id}-{now}-{len(reports.issued)}".encode()).hexdigest()
        reports.issued[signature] = Issued(doc_id, now, reports.documents[doc_id].compression == "GZIP")
    url = (f"{reports.base_url}{DOWNLOAD_PREFIX}/{doc_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Expires={int(URL_LIFETIME)}&X-Amz-Signature={signature}")
    return Response(200, {"documentId": doc_id, "documentUrl": url})


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(SECTION, VERSION, "getQueries", get_queries, GET_QUERIES),
    Endpoint(SECTION, VERSION, "createQuery", create_query),
    Endpoint(SECTION, VERSION, "cancelQuery", cancel_query),
    Endpoint(SECTION, VERSION, "getQuery", get_query),
    Endpoint(SECTION, VERSION, "getDocument", get_document),
)
