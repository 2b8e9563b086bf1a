"""A fake SP-API client for route unit tests (shillelagh style): canned answers, every call recorded.

:class:`FakeClient` implements what :class:`sqlspapi.sql.statement.StatementScope` needs of the real client —
``call(op, *, path, query, body, rdt, expect)`` returning an object with ``.json``/``.headers``/``.status``/
``.request_id`` and ``download(url)`` returning an object with ``.content`` — and answers from handlers keyed by
operation name. Like the real client it refuses an answer without what ``expect`` (the route's envelope) says a
whole answer holds, raising the real client's ``IncompleteResponse`` error (as if no retry were left).
A handler is a function ``(path, query, body) -> JSON`` (or raises :class:`~sqlspapi.errors.SPAPIError`, e.g. for
a 404), or a list of JSON answers given out in order. Every call and download is appended to ``events``, which a
test may share with its own markers (e.g. one per row consumed) to check what happened in which order.

The canned data (``widgets.json``, ``report.tsv``) lives beside this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import SPAPIError
from sqlspapi.http.apierrors import incomplete_error
from sqlspapi.http.response import Envelope

HERE = Path(__file__).resolve().parent

Handler = Callable[[Mapping[str, Any], Mapping[str, Any], Any], Any] | list[Any]


def canned(name: str) -> Any:
    """A canned JSON file of this folder, decoded."""
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def canned_bytes(name: str) -> bytes:
    """A canned file of this folder, as bytes."""
    return (HERE / name).read_bytes()


def not_found(what: str) -> SPAPIError:
    """The error the real client raises for a 404 answer."""
    return SPAPIError(f"404 NotFound: {what}", code="NotFound", api_message=f"{what} not found", status=404,
                      request_id="fake-404")


@dataclass(frozen=True)
class FakeResponse:
    """What the real client's ``call`` returns."""

    json: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str = "fake-request"


@dataclass(frozen=True)
class FakeDownload:
    """What the real client's ``download`` returns (read at once, or streamed: ``iter_content``, ``close``)."""

    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def iter_content(self, size: int) -> Iterator[bytes]:
        """The body in chunks of at most ``size`` bytes."""
        return (self.content[i:i + size] for i in range(0, len(self.content), size))

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class Call:
    """One recorded call."""

    operation: str
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any = None
    rdt: RestrictedResource | None = None


class FakeClient:
    """Answers SP-API calls from handlers keyed by operation name; records every call in order."""

    def __init__(self, handlers: Mapping[str, Handler], downloads: Mapping[str, bytes] | None = None,
                 events: list[Any] | None = None) -> None:
        self.handlers = {name: (list(h) if isinstance(h, list) else h) for name, h in handlers.items()}
        self.downloads = dict(downloads or {})
        self.events: list[Any] = events if events is not None else []
        self.calls: list[Call] = []
        self.downloaded: list[str] = []

    def call(self, op: OperationSpec, *, path: Mapping[str, Any] | None = None,
             query: Mapping[str, Any] | None = None, body: Any = None,
             rdt: RestrictedResource | None = None, expect: Envelope | None = None,
             watch: Any = None, fresh: bool = False, caller: object | None = None) -> FakeResponse:
        """Record the call, then answer it from the operation's handler (checked against ``expect``); a ``watch``
        (the statement's progress) hears of it as the real client's would."""
        if watch is not None:
            watch.calling(op.name)
        record = Call(op.name, dict(path or {}), dict(query or {}), body, rdt)
        self.calls.append(record)
        self.events.append(record)
        handler = self.handlers.get(op.name)
        if handler is None:
            raise AssertionError(f"the fake client has no answer for {op.name}")
        if isinstance(handler, list):
            if not handler:
                raise AssertionError(f"the fake client ran out of canned answers for {op.name}")
            answer = handler.pop(0)
        else:
            answer = handler(record.path, record.query, body)
        problem = expect.problem(answer) if expect is not None else None
        if problem is not None:
            raise incomplete_error(op, 200, problem, "fake-request", 0)
        return FakeResponse(answer)

    def download(self, url: str, *, stream: bool = False) -> FakeDownload:
        """Record the download and return the canned bytes of ``url`` (``stream`` as the real client takes it)."""
        self.downloaded.append(url)
        self.events.append(("download", url))
        return FakeDownload(self.downloads[url])

    def operations(self) -> list[str]:
        """The operation names called, in order."""
        return [c.operation for c in self.calls]


def paged(items: list[Any], rows: str, token: str, page_size: int = 3,
          select: Callable[[Mapping[str, Any], Any], bool] | None = None) -> Callable[..., Any]:
    """A handler serving ``items`` (those ``select(query, item)`` keeps) ``page_size`` at a time.

    ``rows`` and ``token`` are where the rows and the next token go in the answer (dotted paths, e.g.
    ``payload.widgets``); the next token is ``"page-<offset>"`` and is read back from any query parameter.
    """

    def handler(path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        start = 0
        for value in query.values():
            if isinstance(value, str) and value.startswith("page-"):
                start = int(value.removeprefix("page-"))
        kept = [i for i in items if select is None or select(query, i)]
        page: dict[str, Any] = {}
        _put(page, rows, kept[start:start + page_size])
        if start + page_size < len(kept):
            _put(page, token, f"page-{start + page_size}")
        return page

    return handler


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for step in parents:
        target = target.setdefault(step, {})
    target[last] = value
