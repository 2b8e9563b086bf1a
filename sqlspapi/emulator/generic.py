"""The emulator's "validate, filter, page" framework: endpoints, parameter rules and paging tokens.

An API module declares its operations as :class:`Endpoint` values (section, version and operationId name the
operation in ``vtables/*.toml``; the server takes method, path and usage plan from there), each with compact
parameter :func:`rules` copied from Amazon's model (``tests/test_emulator_models.py`` checks them against it)::

    SEARCH = rules('''
    marketplaceIds   string[]  required max_items=1
    pageSize         integer   maximum=20 default=10
    includedData     string[]  enum=summaries,images default=summaries
    ''')

Line format: ``name type [required] [max_items=N] [maximum=N] [minimum=N] [enum=A,B] [default=V]`` with types
``string``, ``string[]`` (csv), ``integer``, ``boolean`` and ``date-time``. The server validates the query with
:func:`validate` before the handler runs (SP-API ``400 InvalidInput`` on a violation) and hands the parsed values
over as ``Request.params``. :class:`Paging` issues and checks the opaque page tokens (offset, a fingerprint of the
filters the follow-up request must repeat, issue time on the emulator clock for APIs whose tokens expire).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlspapi.emulator.common import decode_token, encode_token, get_date, invalid

if TYPE_CHECKING:
    from sqlspapi.emulator.common import Request, Response
    from sqlspapi.emulator.data import Dataset

#: One exported row: (row object, query parameters, path parameters) under which the API returns it.
Row = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
Handler = Callable[["Request"], "Response"]
Exporter = Callable[["Dataset"], Iterable[Row]]

PARAM_TYPES = ("string", "string[]", "integer", "boolean", "date-time")


@dataclass(frozen=True)
class Param:
    """One query parameter's rule, as in the model: type, required, enum, maxItems, maximum/minimum, default."""

    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    max_items: int | None = None
    maximum: int | None = None
    minimum: int | None = None
    default: Any = None


Rules = Mapping[str, Param]


def rules(text: str) -> dict[str, Param]:
    """Parse a compact rule block (one parameter per line; see the module docstring)."""
    out: dict[str, Param] = {}
    for raw in text.strip().splitlines():
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        name, kind, opts = words[0], words[1], words[2:]
        if kind not in PARAM_TYPES:
            raise ValueError(f"rule {name}: unknown type {kind!r}")
        values: dict[str, Any] = {"required": "required" in opts}
        for opt in opts:
            key, _, value = opt.partition("=")
            if key in ("max_items", "maximum", "minimum"):
                values[key] = int(value)
            elif key == "enum":
                values[key] = tuple(value.split(","))
            elif key == "default":
                values[key] = _convert(kind, value, name) if kind != "string[]" else value.split(",")
            elif key != "required":
                raise ValueError(f"rule {name}: unknown option {opt!r}")
        out[name] = Param(name, kind, **values)
    return out


def _convert(kind: str, raw: str, name: str) -> Any:
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise invalid(f"Invalid {name}: {raw!r} is not an integer.") from None
    if kind == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise invalid(f"Invalid {name}: {raw!r} is not a boolean (true or false).")
        return lowered == "true"
    if kind == "date-time":
        return get_date({name: raw}, name)
    return raw


def validate(spec: Rules, query: Mapping[str, str]) -> dict[str, Any]:
    """Check ``query`` against the rules; returns every declared parameter parsed (absent ones: their default)."""
    out: dict[str, Any] = {}
    for name, p in spec.items():
        raw = query.get(name)
        if raw is None or raw == "":
            if p.required:
                raise invalid(f"Missing required parameter: {name}.")
            out[name] = list(p.default) if isinstance(p.default, list) else p.default
            continue
        if p.type == "string[]":
            value: Any = [v.strip() for v in raw.split(",") if v.strip()]
            if not value:
                raise invalid(f"Invalid {name}: the list must not be empty.")
            if p.max_items is not None and len(value) > p.max_items:
                raise invalid(f"Invalid {name}: at most {p.max_items} values are allowed, got {len(value)}.")
            items = value
        else:
            value = _convert(p.type, raw, name)
            items = [value]
        if p.enum is not None:
            bad = [v for v in items if v not in p.enum]
            if bad:
                raise invalid(f"Invalid {name}: {bad[0]!r} is not one of {', '.join(p.enum)}.")
        if p.maximum is not None and value > p.maximum:
            raise invalid(f"Invalid {name}: {value} is greater than the maximum {p.maximum}.")
        if p.minimum is not None and value < p.minimum:
            raise invalid(f"Invalid {name}: {value} is less than the minimum {p.minimum}.")
        out[name] = value
    return out


@dataclass(frozen=True)
class Endpoint:
    """An operation the emulator serves: which definition it is, its handler, rules and export.

    ``log_name`` is the name in the call log, fault injection and rate-limit buckets when the operationId alone is
    ambiguous (``getOrder2026``); ``export`` yields every row object the operation can return (see
    :meth:`sqlspapi.emulator.Emulator.export`).
    """

    section: str
    version: str
    operation: str
    handler: Handler
    rules: Rules | None = None
    export: Exporter | None = None
    log_name: str | None = None

    @property
    def name(self) -> str:
        """The emulator's name of the operation (call log, ``fail_next``, ``rate_limit_header``)."""
        return self.log_name or self.operation


def fingerprint(values: Mapping[str, Any]) -> str:
    """A short digest of the filters a follow-up page request must repeat."""
    raw = json.dumps(values, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Paging:
    """An API's page-token style: the query parameter carrying it, its lifetime, the reachable ceiling.

    ``ttl`` is in seconds of the emulator clock (``Config.now()``); ``ceiling`` is how many results Amazon lets a
    caller page through (Catalog Items: 1,000) — beyond it no next token is issued.
    """

    kind: str
    token_param: str
    ttl: float | None = None
    ceiling: int | None = None
    previous: bool = False

    def offset(self, query: Mapping[str, str], filters: Mapping[str, Any], now: float) -> int:
        """The first row of the page asked for: 0 without a token, else the token's offset (400 when it is not
        this operation's, the filters differ from the first request's, or it has expired)."""
        token = query.get(self.token_param)
        if not token:
            return 0
        state = decode_token(token, self.token_param)
        if state.get("k") != self.kind:
            raise invalid(f"Invalid {self.token_param}: the token does not belong to this operation.")
        if state.get("f") != fingerprint(filters):
            raise invalid(f"Invalid {self.token_param}: send the same parameters as the request that returned it.")
        if self.ttl is not None and now - float(state.get("t", 0.0)) > self.ttl:
            raise invalid(f"Invalid {self.token_param}: the token has expired ({self.ttl:g} seconds after being "
                          "created); start again without it.")
        return int(state["o"])

    def pagination(self, start: int, size: int, total: int, filters: Mapping[str, Any],
                   now: float) -> dict[str, str]:
        """The ``pagination`` object of a page starting at ``start`` (empty when there is no other page)."""
        reachable = total if self.ceiling is None else min(total, self.ceiling)
        out: dict[str, str] = {}
        digest = fingerprint(filters)
        if start + size < reachable:
            out["nextToken"] = encode_token({"k": self.kind, "o": start + size, "f": digest, "t": round(now, 3)})
        if self.previous and start > 0:
            out["previousToken"] = encode_token({"k": self.kind, "o": max(0, start - size), "f": digest,
                                                 "t": round(now, 3)})
        return out

    def window(self, start: int, size: int, total: int) -> tuple[int, int]:
        """The (start, stop) slice of a page, kept within the reachable ceiling."""
        reachable = total if self.ceiling is None else min(total, self.ceiling)
        if start > reachable:
            raise invalid(f"Invalid {self.token_param}: the token points past the last page.")
        return start, min(start + size, reachable)
