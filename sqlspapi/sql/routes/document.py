"""The ``document`` route: create → poll → download → decode (Reports and Data Kiosk build on it).

The contract, for any "asynchronous document" API:

1. ``operation`` (a POST) creates the job with ``body`` (``{marketplaces}`` in a string becomes the connection's
   marketplace list; hidden input columns given in the query fill ``{column}`` placeholders); the job id is at ``id``
   in the answer;
2. ``poll`` (a GET with path parameter ``poll_param``) is called every ``poll_seconds`` (the rate limiter paces it
   further) until ``status`` is ``done``; a status in ``failed`` raises :class:`~sqlspapi.errors.ReportFailedError`
   naming the job id; past ``timeout_seconds`` an error says which job to look at later;
3. ``get_document`` (path parameter ``document_param``, the id at ``document_id``) gives a pre-signed ``url`` and a
   ``compression`` algorithm;
4. the URL is downloaded (no SP-API token), gunzipped when compressed (and when the bytes are gzip whatever the
   header says), decoded as UTF-8 (else cp1252), and parsed as ``format``: ``tsv``/``csv`` rows keyed by the header,
   ``json`` (rows at ``rows``) or ``jsonl``.

Each answer must hold what the step reads (the job id, the status, the URL): one that does not is retried, then
raised by the client (``IncompleteResponse``). Rows stream from the decoded text; the Reports issue adds reuse
windows, the disk cache and typed report tables.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import DocumentSpec, RouteSpec, TableSpec
from sqlspapi.errors import OperationalError, ReportFailedError
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.plan import BindContext, Bound, Choice, Constraint, Plan, Request, Row
from sqlspapi.sql.routes.base import Route, Scope, base_query
from sqlspapi.sql.rows import as_rows, dig


class DocumentRoute(Route):
    """One asynchronous document per scan; hidden input columns fill the create body."""

    kind = "document"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """``=`` on hidden input columns reaches the create body; everything else is filtered by SQLite."""
        return self.choose_inputs(table, spec, constraints, used, cost=1e6, rows=100_000)

    def note(self, plan: Plan) -> str:
        """The lifecycle."""
        return "create, poll until done, download"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """A create, polls until the document is ready (how many depends on Amazon), a document call."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec)
        return Calls(spec.operation, None, basis=f"one create, a poll every {spec.poll_seconds:g} s until the "
                                                 "document is ready, one download")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The create request, its body filled from the inputs and the connection's marketplaces."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec) and spec.operation is not None
        inputs = {arg.column: value for arg, value in zip(plan.args, values, strict=True) if value is not None}
        fill = {**{k: v for k, v in ctx.connection.items() if isinstance(v, str)}, **inputs}
        body = _fill_body(spec.body, fill, ctx)
        bound = Bound([Request(spec.operation, {}, base_query(spec, ctx.include_restricted), body)])
        bound.inputs.update(inputs)
        return bound

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Create, poll, download, decode; rows keyed by the document's header."""
        spec = plan.route
        assert isinstance(spec, DocumentSpec) and spec.poll is not None and spec.get_document is not None
        for req in bound.requests:
            created = scope.call(req.operation, req.path, req.query, req.body, expect=Envelope(required=(spec.id,)))
            job_id = dig(created, spec.id)
            if not job_id:
                raise OperationalError(f"{req.operation.name} answered without {spec.id}; nothing to poll")
            document_id = self._wait(spec, str(job_id), scope)
            meta = scope.call(spec.get_document, {spec.document_param: document_id}, {}, fresh=True,
                              expect=Envelope(required=(spec.url,)))
            url = dig(meta, spec.url)
            if not url:
                raise OperationalError(f"{spec.get_document.name} for {document_id} gave no {spec.url}")
            raw = scope.download(str(url))
            text = decode_document(raw, dig(meta, spec.compression))
            for obj in parse_document(text, spec.format, spec.rows):
                yield obj, req, None

    @staticmethod
    def _wait(spec: DocumentSpec, job_id: str, scope: Scope) -> str:
        assert spec.poll is not None
        deadline = time.monotonic() + spec.timeout_seconds
        while True:
            state = scope.call(spec.poll, {spec.poll_param: job_id}, {}, fresh=True,
                               expect=Envelope(required=(spec.status,)))
            status = dig(state, spec.status)
            if status == spec.done:
                document_id = dig(state, spec.document_id)
                if document_id:
                    return str(document_id)
                raise ReportFailedError(f"{spec.poll_param} {job_id} is {status} but has no {spec.document_id}")
            if status in spec.failed:
                raise ReportFailedError(
                    f"{spec.poll_param} {job_id} ended {status}; Amazon produced no document. Check it in Seller "
                    "Central, or retry later (FATAL often means no data for the period).")
            if time.monotonic() >= deadline:
                raise OperationalError(f"{spec.poll_param} {job_id} is still {status} after "
                                       f"{spec.timeout_seconds:.0f} s; query it again later")
            scope.progress.wait(spec.poll_seconds * scope.poll_scale,
                                f"document of {spec.poll_param} {job_id} ({status})")


def _fill_body(template: Any, values: Mapping[str, Any], ctx: BindContext) -> Any:
    if isinstance(template, str):
        if template == "{marketplaces}":
            return list(ctx.marketplace_ids())
        return template.format_map(_Missing(values))
    if isinstance(template, Mapping):
        return {k: _fill_body(v, values, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill_body(v, values, ctx) for v in template]
    return template


class _Missing(dict):  # type: ignore[type-arg]
    """format_map helper: unknown placeholders stay as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def decode_document(raw: bytes, compression: Any) -> str:
    """Bytes → text: gunzip when the header says GZIP or the bytes are gzip; UTF-8 (with BOM) else cp1252."""
    if compression == "GZIP" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_document(text: str, fmt: str, rows: str = "") -> Iterator[Mapping[str, Any]]:
    """Rows of a decoded document: tsv/csv keyed by header (ragged rows padded/trimmed), json at ``rows``, jsonl."""
    if fmt in ("tsv", "csv"):
        reader = csv.reader(io.StringIO(text), delimiter="\t" if fmt == "tsv" else ",")
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            yield dict(zip(header, record + [""] * (len(header) - len(record)), strict=False))
    elif fmt == "json":
        yield from as_rows(dig(json.loads(text), rows) if rows else json.loads(text))
    elif fmt == "jsonl":
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)
    else:
        raise OperationalError(f"unknown document format {fmt!r}")
