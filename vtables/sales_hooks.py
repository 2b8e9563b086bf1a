"""Named hook of the Sales API table: split an order-metrics interval into its start and end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def split_interval(row: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """``2026-11-01T00:00-07:00--2026-11-02T00:00-07:00`` → ``intervalStart`` and ``intervalEnd`` beside it."""
    start, _, end = str(row.get("interval") or "").partition("--")
    yield {**row, "intervalStart": start or None, "intervalEnd": end or None}
