"""Deterministic demo data for the emulator: the orders and products :mod:`sqlspapi.emulator.generate` makes from a
seed, held and indexed by :class:`Dataset` for the emulator's queries (by id, by purchase and by update time), with
bounded caches of what the APIs derive from it.

The record types and helpers (:mod:`sqlspapi.emulator.records`) are re-exported here, where the APIs import them.
Money is kept in minor units (cents; whole yen for JPY) and rendered by :func:`money_str`.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlspapi.emulator import generate
from sqlspapi.emulator.records import (
    LANGUAGES,
    OPEN_STATUSES,
    STATUSES,
    Address,
    Item,
    OrderRecord,
    Product,
    iso,
    money_str,
)

__all__ = ["Dataset", "default_anchor", "MEMO_SIZE", "ENCODED_VARIANTS", "LANGUAGES", "OPEN_STATUSES", "STATUSES",
           "Address", "Item", "OrderRecord", "Product", "iso", "money_str"]

T = TypeVar("T")
#: Results of :meth:`Dataset.memo` a dataset keeps (least recently used dropped first).
MEMO_SIZE = 32
#: Variants of :meth:`Dataset.encoded` a dataset keeps; one holds at most one encoded text per order.
ENCODED_VARIANTS = 4


def default_anchor() -> datetime:
    """Today 00:00 UTC."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class Dataset:
    """The generated orders, indexed for the emulator's queries."""

    def __init__(self, seed: int = 7, orders: int = 2000, anchor: datetime | None = None) -> None:
        self.seed = seed
        if anchor is None:
            anchor = default_anchor()
        elif anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        self.anchor = anchor.astimezone(UTC)
        rng = random.Random(seed)
        self.products = generate.products(rng)
        self.orders: list[OrderRecord] = generate.orders(rng, orders, self.anchor, self.products)
        self.by_id: dict[str, OrderRecord] = {o.order_id: o for o in self.orders}
        self.by_update: list[OrderRecord] = sorted(self.orders, key=lambda o: (o.update_ts, o.order_id))
        self._purchase_keys = [o.purchase_ts for o in self.orders]
        self._update_keys = [o.update_ts for o in self.by_update]
        self._derived: dict[str, Any] = {}
        self._derived_lock = threading.Lock()
        self._memo = _Lru(MEMO_SIZE)
        self._encoded = _Lru(ENCODED_VARIANTS)

    def derived(self, key: str, build: Callable[[Dataset], T]) -> T:
        """Data another API derives from this dataset (catalog, inventory), built on first use and kept."""
        with self._derived_lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, kept for ``key`` while among the :data:`MEMO_SIZE` most recently used (the data never
        changes, so e.g. the filtered order list all pages of one search share is built once)."""
        return self._memo.get(key, build)

    def encoded(self, variant: Hashable) -> dict[str, bytes]:
        """A cache the renderer of ``variant`` fills: object key (order id) → its encoded JSON text.

        Kept while among the :data:`ENCODED_VARIANTS` most recently used variants; a variant holds at most one
        entry per order, so the memory is bounded by the dataset's size.
        """
        return self._encoded.get(variant, dict)

    def created_between(self, after: float, before: float) -> list[OrderRecord]:
        """Orders with after <= PurchaseDate <= before, oldest first."""
        lo = bisect.bisect_left(self._purchase_keys, after)
        hi = bisect.bisect_right(self._purchase_keys, before)
        return self.orders[lo:hi]

    def updated_between(self, after: float, before: float) -> list[OrderRecord]:
        """Orders with after <= LastUpdateDate <= before, least recently updated first."""
        lo = bisect.bisect_left(self._update_keys, after)
        hi = bisect.bisect_right(self._update_keys, before)
        return self.by_update[lo:hi]


class _Lru:
    """A thread-safe map of at most ``size`` values built on first use, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``, built (outside the lock) when absent."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()
        with self._lock:
            value = self._values.setdefault(key, value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value
