"""Named hooks of the Shipping API v1 tables: a shipment's containers and a tracking's events as child rows.

Each child row is the array element with its parent's key beside it (``shipmentId``, ``trackingId``), so the child
tables join their parent table and filter by the same key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def _children(parent: Mapping[str, Any], array: str, key: str) -> Iterator[Mapping[str, Any]]:
    for child in parent.get(array) or ():
        if isinstance(child, Mapping):
            yield {**child, key: parent.get(key)}


def containers(shipment: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """One row per container of a shipment, with its ``shipmentId``."""
    return _children(shipment, "containers", "shipmentId")


def events(tracking: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """One row per tracking event, with its ``trackingId``."""
    return _children(tracking, "eventHistory", "trackingId")
