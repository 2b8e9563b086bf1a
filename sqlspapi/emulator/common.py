"""Shared pieces of the emulator's operations: requests, responses, errors, parameter parsing, paging tokens."""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlspapi.emulator.data import Dataset
    from sqlspapi.emulator.lwa import Auth, Grant

QUOTA_EXCEEDED = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                  "details": ""}
ORDER_ID_RE = re.compile(r"^\d{3}-\d{7}-\d{7}$")


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            err["details"] = self.details
        return {"errors": [err]}


def invalid(message: str, details: str | None = None) -> ApiError:
    """A 400 InvalidInput error."""
    return ApiError(400, "InvalidInput", message, details)


def not_found(message: str) -> ApiError:
    """A 404 NotFound error."""
    return ApiError(404, "NotFound", message)


@dataclass
class Config:
    """Settings the operations read (changeable while the emulator runs).

    ``clock_offset`` moves the emulator clock (:meth:`now`) forward: paging tokens that expire (FBA Inventory's
    nextToken, 30 seconds) age by it, so a test can make one expire without waiting.
    """

    items_page_size: int = 100
    clock_offset: float = 0.0

    def now(self) -> float:
        """The emulator clock in seconds (monotonic real time plus ``clock_offset``)."""
        return time.monotonic() + self.clock_offset


@dataclass
class Request:
    """One authenticated SP-API request as the operation handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    grant: Grant
    data: Dataset
    auth: Auth
    config: Config
    path_args: dict[str, str] = field(default_factory=dict)
    rdt_elements: set[str] | None = None  # data elements an RDT grants for this resource; None = plain LWA
    params: dict[str, Any] = field(default_factory=dict)  # query parsed by the endpoint's rules (generic APIs)

    def json_body(self) -> Any:
        """The body parsed as JSON (400 InvalidInput when it is not)."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "InvalidInput", "The request body is not valid JSON.", str(exc)) from None


@dataclass
class Response:
    """An operation's successful answer (``body``: a JSON value; see :func:`encode_json` for encoded parts)."""

    status: int
    body: Any


class Encoded(bytes):
    """A JSON value already encoded (UTF-8, as :func:`encode_json` writes it), spliced into an answer as it is."""


class EncodedList(list[Encoded]):
    """A JSON array of :class:`Encoded` elements."""


def encode_json(answer: Any) -> bytes:
    """``json.dumps(answer, ensure_ascii=False)`` as UTF-8, byte for byte.

    :class:`Encoded` and :class:`EncodedList` values (the answer itself, or values of a top-level object) are
    spliced in as they are: an operation can keep the encoded text of an immutable object and answer with it.
    """
    if isinstance(answer, Encoded):
        return bytes(answer)
    if isinstance(answer, EncodedList):
        return b"[" + b", ".join(answer) + b"]"
    if isinstance(answer, dict) and any(isinstance(v, Encoded | EncodedList) for v in answer.values()):
        return b"{" + b", ".join(encode_json(k) + b": " + encode_json(v) for k, v in answer.items()) + b"}"
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def get_list(query: dict[str, str], name: str, *, max_items: int | None = None,
             enum: tuple[str, ...] | frozenset[str] | None = None) -> list[str] | None:
    """A csv list parameter (None when absent); checks ``maxItems`` and enum values."""
    raw = query.get(name)
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values:
        raise invalid(f"Invalid {name}: the list must not be empty.")
    if max_items is not None and len(values) > max_items:
        raise invalid(f"Invalid {name}: at most {max_items} values are allowed, got {len(values)}.")
    if enum is not None:
        bad = [v for v in values if v not in enum]
        if bad:
            raise invalid(f"Invalid {name}: {bad[0]!r} is not one of {', '.join(sorted(enum))}.")
    return values


def get_date(query: dict[str, str], name: str) -> datetime | None:
    """An ISO 8601 date(-time) parameter as an aware UTC datetime (None when absent)."""
    raw = query.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if " " in text and "T" in text:  # an unencoded "+" in an offset arrives as a space
        text = text.replace(" ", "+")
    try:
        if len(text) == 10:
            value = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise invalid(f"Invalid {name}: {raw!r} is not an ISO 8601 date-time.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def get_int(query: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """An integer parameter within [lo, hi]."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid {name}: {raw!r} is not an integer; value must be {lo} - {hi}.") from None
    if not lo <= value <= hi:
        raise invalid(f"Invalid {name}: {value}; value must be {lo} - {hi}.")
    return value


def latest_allowed(now: datetime | None = None) -> datetime:
    """Two minutes before now: the latest CreatedBefore/LastUpdatedBefore Amazon accepts."""
    return (now or datetime.now(UTC)) - timedelta(minutes=2)


def check_window(after_name: str, after: datetime, before_name: str, before: datetime | None) -> datetime:
    """Validate an (after, before) window; returns the effective ``before`` (default: now - 2 minutes)."""
    limit = latest_allowed()
    if before is None:
        effective = limit.replace(microsecond=0)
    else:
        if before > limit:
            raise invalid(f"Invalid {before_name}: {before_name} must be a date at least two minutes before the "
                          f"current time.")
        effective = before
    if after > effective:
        if before is None:
            raise invalid(f"Invalid {after_name}: {after_name} must be at least two minutes before the current "
                          f"time.")
        raise invalid(f"Invalid {after_name}: {after_name} must be before {before_name}.")
    return effective


def iso_or_none(value: datetime | None) -> str | None:
    """``iso(value)`` or None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_token(state: dict[str, Any]) -> str:
    """An opaque paging token carrying ``state``."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str, name: str) -> dict[str, Any]:
    """Inverse of :func:`encode_token` (400 InvalidInput for a token the emulator did not issue)."""
    try:
        pad = "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(token + pad).decode("utf-8"))
        if not isinstance(state, dict) or "o" not in state:
            raise ValueError(token)
        return state
    except (ValueError, UnicodeDecodeError):
        raise invalid(f"Invalid {name}: the token is malformed or expired.") from None


def require_order(req: Request, order_id: str) -> Any:
    """The order with this id: 400 for a malformed id, 404 when there is none."""
    if not ORDER_ID_RE.match(order_id):
        raise invalid(f"Invalid orderId: {order_id!r} is not an AmazonOrderId in 3-7-7 format.")
    order = req.data.by_id.get(order_id)
    if order is None:
        raise not_found(f"Order {order_id} was not found.")
    return order
