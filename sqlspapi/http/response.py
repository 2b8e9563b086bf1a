"""The answer of a successful SP-API call, shared by the client, the token provider and the error mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiResponse:
    """A successful SP-API answer: status, decoded JSON (None if empty/not JSON), headers, request id."""

    status: int
    json: Any
    headers: Mapping[str, str] = field(repr=False)
    request_id: str | None = None


__all__ = ["ApiResponse"]
