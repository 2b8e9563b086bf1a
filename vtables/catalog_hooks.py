"""Named hooks of the Catalog Items tables (both versions): per-marketplace rows and child-array explosion.

A catalog item carries every part (summaries, images, salesRanks, …) as an array with one element per
marketplace. :func:`by_marketplace` turns one item into one object per marketplace whose part arrays hold only that
marketplace's element (so ``summaries.0.itemName`` is the item name *in that marketplace*); the child-table hooks
explode one part's inner array into rows carrying ``asin`` and ``marketplaceId``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]


def _marketplaces(item: Obj) -> list[str]:
    """The marketplaces present in an item's per-marketplace parts, in first-seen order."""
    seen: dict[str, None] = {}
    for value in item.values():
        if isinstance(value, list):
            for element in value:
                if isinstance(element, Mapping) and isinstance(element.get("marketplaceId"), str):
                    seen.setdefault(element["marketplaceId"], None)
    return list(seen)


def by_marketplace(item: Obj, request: Any) -> Iterator[Obj]:
    """One object per marketplace: each per-marketplace part reduced to that marketplace's element."""
    for marketplace in _marketplaces(item):
        shaped = dict(item)
        for key, value in item.items():
            if isinstance(value, list) and value and isinstance(value[0], Mapping) and "marketplaceId" in value[0]:
                shaped[key] = [e for e in value if isinstance(e, Mapping) and e.get("marketplaceId") == marketplace]
        yield shaped


def _explode(item: Obj, part: str, inner: str, **extra: Any) -> Iterator[Obj]:
    for element in item.get(part) or ():
        if not isinstance(element, Mapping):
            continue
        for child in element.get(inner) or ():
            row = dict(child) if isinstance(child, Mapping) else {"value": child}
            yield {**row, **extra, "asin": item.get("asin"), "marketplaceId": element.get("marketplaceId")}


def images(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per image per marketplace."""
    return _explode(item, "images", "images")


def identifiers(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per external identifier (EAN, UPC, …) per marketplace."""
    return _explode(item, "identifiers", "identifiers")


def classifications(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per browse classification per marketplace (2022-04-01)."""
    return _explode(item, "classifications", "classifications")


def relationships(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per relationship (variation, package hierarchy) per marketplace (2022-04-01)."""
    return _explode(item, "relationships", "relationships")


def variations(item: Obj, request: Any) -> Iterator[Obj]:
    """2020-12-01: one row per variation group per marketplace, in the 2022 relationship shape."""
    for element in item.get("variations") or ():
        if isinstance(element, Mapping):
            asins = element.get("asins") or []
            yield {"asin": item.get("asin"), "marketplaceId": element.get("marketplaceId"), "type": "VARIATION",
                   "variationType": element.get("variationType"), "childAsins": asins}


def sales_ranks(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per rank per marketplace: classification ranks and display-group ranks (2020: ``ranks``)."""
    yield from _explode(item, "salesRanks", "classificationRanks", rankType="classification")
    yield from _explode(item, "salesRanks", "displayGroupRanks", rankType="displayGroup")
    yield from _explode(item, "salesRanks", "ranks", rankType="rank")


def dimensions(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per marketplace and kind (item, package) with height, length, width and weight (2022-04-01)."""
    for element in item.get("dimensions") or ():
        if not isinstance(element, Mapping):
            continue
        for kind in ("item", "package"):
            if isinstance(element.get(kind), Mapping):
                yield {**element[kind], "kind": kind, "asin": item.get("asin"),
                       "marketplaceId": element.get("marketplaceId")}
