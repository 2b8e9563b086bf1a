"""The sub-requests of a ``batch`` route's POST and the rows of their sub-responses.

A sub-request is the definition's ``template`` filled with one set of inputs (:func:`fill`, the inputs typed by their
columns with :func:`typed_input`); :func:`canonical` is its identity, :func:`post_body` carries a chunk of them.
:func:`pair_answers` pairs the sub-responses of an answer with their sub-requests (by ``match``, else by position) and
:func:`sub_rows` gives the row objects of one sub-response. :mod:`sqlspapi.sql.routes.batch` plans and sends them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from sqlspapi.definitions.schema import BatchSpec, OperationSpec, TableSpec
from sqlspapi.errors import ProgrammingError, SPAPIError
from sqlspapi.sql.routes.base import as_text
from sqlspapi.sql.rows import dig

__all__ = ["body_subs", "canonical", "fill", "pair_answers", "post_body", "sub_rows", "typed_input"]

#: A template placeholder (a string it ``fullmatch``es is exactly one: the typed value).
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A template value left out (its input has no value).
_OMIT: Any = object()
#: The texts a BOOLEAN input reads as true, and as false.
_TRUE = frozenset({"true", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})


def sub_rows(spec: BatchSpec, response: Mapping[str, Any], inputs: Mapping[str, Any],
             op: OperationSpec | None = None) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The row objects one sub-response gives, each with the inputs of its sub-request (the row's parent).

    Also what the differential tests build a plain copy of a batch table with (from the emulator's export).
    """
    status = dig(response, spec.status or "status.statusCode")
    failed = (isinstance(status, int) and not isinstance(status, bool) and status >= 400) or \
        (bool(spec.status) and isinstance(status, str) and status not in spec.ok)
    if failed and not spec.status:
        if status == 404:
            return  # the API found nothing for this input
        errors = dig(response, "body.errors") or dig(response, "errors") or []
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
        raise SPAPIError(f"{op.name if op else 'a batch'} answered {status} {first.get('code', '')} for "
                         f"{as_text(inputs.get('value'))!r}: {first.get('message', 'no message')}",
                         code=first.get("code"), api_message=first.get("message"), status=status,
                         operation=op.name if op else None)
    obj = dig(response, spec.row) if spec.row else response
    if not isinstance(obj, Mapping):
        if not spec.status:
            return
        obj = {}
    if not spec.explode:
        yield obj, inputs
        return
    path = spec.explode.split(".")
    items = dig(obj, path)
    elements = [e for e in items if isinstance(e, Mapping)] if isinstance(items, list) else []
    for element in elements or [None]:
        yield _replace(obj, path, element), inputs


def fill(template: Any, values: Mapping[str, Any], table: str = "") -> Any:
    """The template with its placeholders filled: a string that is exactly ``{name}`` becomes the value (left out
    when None); within a longer string the value's text (percent-encoded in a path, a string starting with ``/``)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            value = values.get(whole[1])
            return _OMIT if value is None else value

        def text(m: re.Match[str]) -> str:
            value = values.get(m[1])
            if value is None:
                raise ProgrammingError(f"{table}: no value for {m[1]} (needed in {template!r})")
            raw = as_text(value)
            if not template.startswith("/"):
                return raw
            return "%2E" * len(raw) if raw and not raw.strip(".") else quote(raw, safe="")
        return _PLACEHOLDER.sub(text, template)
    if isinstance(template, Mapping):
        return {k: v for k, t in template.items() if (v := fill(t, values, table)) is not _OMIT}
    if isinstance(template, list):
        return [v for t in template if (v := fill(t, values, table)) is not _OMIT]
    return template


def typed_input(table: TableSpec, name: str, value: Any) -> Any:
    """An input value as its column's type says (a value that does not convert is kept: the API says what is wrong
    with it)."""
    try:
        kind = table.columns[table.column_index(name)].kind
    except KeyError:
        return value
    if value is None or kind in ("TEXT", "TIME"):
        return None if value is None else as_text(value)
    if kind == "BOOLEAN":
        text = as_text(value).strip().lower()
        return True if text in _TRUE else False if text in _FALSE else value
    if kind in ("REAL", "INTEGER") and not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        return int(number) if kind == "INTEGER" and number.is_integer() else value if isinstance(value, int) \
            else number
    if kind == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def canonical(value: Any) -> str:
    """One text per JSON value (sorted keys): the identity of a sub-request."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def post_body(spec: BatchSpec, subs: list[Any]) -> Any:
    """The POST body carrying the sub-requests."""
    return subs if not spec.body else {spec.body: subs}


def body_subs(spec: BatchSpec, body: Any) -> list[Any]:
    """The sub-requests of a request's body."""
    return list(body if not spec.body else body[spec.body])


def pair_answers(spec: BatchSpec, answers: list[Mapping[str, Any]], inputs: list[dict[str, Any]]) -> dict[int, Any]:
    """Sub-request index → its sub-response: by the ``match`` echo when the answer carries it, else by position."""
    out: dict[int, Any] = {}
    if spec.match:
        wanted: dict[tuple[str, ...], list[int]] = {}
        for k, given in enumerate(inputs):
            wanted.setdefault(tuple(as_text(given.get(n)) for n in spec.match), []).append(k)
        loose = []
        for position, answer in enumerate(answers):
            echo = tuple(as_text(dig(answer, path)) for path in spec.match.values())
            found = wanted.get(echo)
            if found:
                out[found.pop(0)] = answer
            else:
                loose.append((position, answer))
        for position, answer in loose:
            if position < len(inputs) and position not in out:
                out[position] = answer
        return out
    return {k: answer for k, answer in enumerate(answers[:len(inputs)])}


def _replace(obj: Mapping[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """A copy of ``obj`` with the value at ``path`` replaced (the objects on the way copied, the rest shared)."""
    out = dict(obj)
    head, rest = path[0], path[1:]
    inner = out.get(head)
    out[head] = _replace(inner, rest, value) if rest and isinstance(inner, Mapping) else value if not rest else inner
    return out

