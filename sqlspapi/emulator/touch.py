"""Changing an order of a running emulator, as a seller's order changes on Amazon: :func:`touch_order` gives it a new
status and ``LastUpdateDate`` (now), so searches by last update and the order reports see the change — what
``sqlspapi sync``'s overlap is tested with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.data import ENCODED_VARIANTS, MEMO_SIZE, _Lru

__all__ = ["touch_order"]


def touch_order(emulator: Any, order_id: str, status: str = "Shipped", *, when: datetime | None = None) -> Any:
    """Set order ``order_id``'s status (the v0 word: Shipped, Canceled, Unshipped …) and last update time (``when``,
    default five minutes ago: Amazon's searches leave out the last two minutes) in ``emulator`` (an
    :class:`~sqlspapi.emulator.server.Emulator`); returns the order."""
    dataset = emulator.dataset
    order = dataset.by_id[order_id]
    when = (when or datetime.now(UTC) - timedelta(minutes=5)).astimezone(UTC).replace(microsecond=0)
    order.status = status
    order.last_update = when
    order.update_ts = when.timestamp()
    dataset.by_update.sort(key=lambda o: (o.update_ts, o.order_id))
    dataset._update_keys = [o.update_ts for o in dataset.by_update]
    dataset._memo = _Lru(MEMO_SIZE)  # searches and rendered orders were built from the old values
    dataset._encoded = _Lru(ENCODED_VARIANTS)
    return order
