"""Named hooks of the Listings Items tables: the listing in the call's marketplace, and child-array explosion.

Every listings call asks for one marketplace (``fulfillmentAvailability`` names none, so a call for several could not
say which availability is whose). :func:`by_marketplace` still keeps, of each per-marketplace part, only the call's
marketplace — so ``summaries.0.itemName`` is the name in that marketplace whatever Amazon adds — keeps the issues
that apply there (an issue without ``marketplaceIds`` applies to all), and puts the consumer (B2C) offer first, so
that ``offers.0`` is the listing's price. The child-table hooks explode one part of that listing into rows carrying
``sku`` and ``asin``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]

#: Parts holding one element per marketplace, each naming its ``marketplaceId``.
PER_MARKETPLACE = ("summaries", "offers", "relationships", "productTypes")


def _marketplace(request: Any) -> str | None:
    """The one marketplace the call asked for, or None."""
    query = getattr(request, "query", None) or {}
    value = query.get("marketplaceIds")
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else None
    return value if isinstance(value, str) and "," not in value else None


def _here(element: Any, marketplace: str) -> bool:
    if not isinstance(element, Mapping):
        return False
    if "marketplaceIds" in element:  # an issue
        ids = element.get("marketplaceIds")
        return not ids or marketplace in ids
    return element.get("marketplaceId") in (None, marketplace)


def by_marketplace(item: Obj, request: Any) -> Iterator[Obj]:
    """The listing in the call's marketplace, its consumer offer first."""
    shaped = dict(item)
    marketplace = _marketplace(request)
    if marketplace is not None:
        for key in (*PER_MARKETPLACE, "issues"):
            if isinstance(item.get(key), list):
                shaped[key] = [e for e in item[key] if _here(e, marketplace)]
    if isinstance(shaped.get("offers"), list):
        shaped["offers"] = sorted(shaped["offers"], key=lambda o: not isinstance(o, Mapping)
                                  or o.get("offerType") != "B2C")
    yield shaped


def _explode(item: Obj, request: Any, part: str) -> Iterator[Obj]:
    for listing in by_marketplace(item, request):
        summaries = listing.get("summaries") or [{}]
        asin = summaries[0].get("asin") if isinstance(summaries[0], Mapping) else None
        for child in listing.get(part) or ():
            if isinstance(child, Mapping):
                yield {**child, "sku": listing.get("sku"), "asin": asin}


def issues(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per issue of the listing in the call's marketplace."""
    return _explode(item, request, "issues")


def offers(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per offer (B2C first, then B2B)."""
    return _explode(item, request, "offers")


def fulfillment_availability(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per fulfillment channel."""
    return _explode(item, request, "fulfillmentAvailability")
