"""Named hooks of the Product Fees tables: the inputs of an estimate, and its fees by type.

:func:`prepare` completes the inputs of one ``fees_estimates`` sub-request (the batch route's ``prepare`` hook): the
currency of the marketplace, ``idType`` spelled as Amazon wants it, and ``sku``/``asin`` (the identifier under the
join-key name its type gives). :func:`fee_types` adds ``fees``: each fee of the estimate's ``FeeDetailList`` by its
type (its ``FinalFee``), so ``ReferralFee``, ``FBAFees``… are columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlspapi.settings.marketplaces import MARKETPLACE_BY_ID

#: The currency of each marketplace's prices, by country code.
CURRENCIES: Mapping[str, str] = {
    "US": "USD", "CA": "CAD", "MX": "MXN", "BR": "BRL", "UK": "GBP", "IE": "EUR", "ES": "EUR", "FR": "EUR",
    "BE": "EUR", "NL": "EUR", "DE": "EUR", "IT": "EUR", "SE": "SEK", "PL": "PLN", "ZA": "ZAR", "EG": "EGP",
    "TR": "TRY", "SA": "SAR", "AE": "AED", "IN": "INR", "SG": "SGD", "AU": "AUD", "JP": "JPY",
}
#: ``idType`` as written → as Amazon spells it.
ID_TYPES: Mapping[str, str] = {"asin": "ASIN", "sku": "SellerSKU", "sellersku": "SellerSKU", "seller_sku": "SellerSKU"}


def currency(marketplace_id: Any) -> str | None:
    """The currency of a marketplace's prices (None for an unknown marketplace: Amazon then says what is wrong)."""
    market = MARKETPLACE_BY_ID.get(str(marketplace_id))
    return CURRENCIES.get(market.country_code) if market is not None else None


def prepare(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs of one estimate, completed: ``currency``, ``idType`` (ASIN or SellerSKU) and ``sku``/``asin``."""
    out = dict(inputs)
    kind = str(out.get("idType") or "SellerSKU")
    out["idType"] = ID_TYPES.get(kind.lower(), kind)
    out["currency"] = currency(out.get("marketplaceId"))
    out["sku"] = out.get("identifier") if out["idType"] == "SellerSKU" else None
    out["asin"] = out.get("identifier") if out["idType"] == "ASIN" else None
    return out


def fee_types(result: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """The estimate with ``fees``: fee type → its final fee (a ``MoneyType``)."""
    details = (result.get("FeesEstimate") or {}).get("FeeDetailList") or []
    fees = {d["FeeType"]: d.get("FinalFee") or d.get("FeeAmount") for d in details
            if isinstance(d, Mapping) and isinstance(d.get("FeeType"), str)}
    yield {**result, "fees": fees}
