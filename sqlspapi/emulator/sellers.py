"""Sellers API v1: getMarketplaceParticipations and getAccount for the demo seller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlspapi.emulator.common import Request, Response
from sqlspapi.emulator.generic import Endpoint, Row
from sqlspapi.emulator.pools import MARKETS, SELLER_ID

STORE_NAME = "Emulator Demo Store"


def participations() -> list[dict[str, Any]]:
    """``MarketplaceParticipationList`` of the demo seller (US, CA, DE, UK, JP)."""
    return [
        {
            "marketplace": {"id": m.id, "name": m.name, "countryCode": m.country_code,
                            "defaultCurrencyCode": m.currency, "defaultLanguageCode": m.language,
                            "domainName": m.domain},
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": STORE_NAME,
        }
        for m in MARKETS
    ]


def account() -> dict[str, Any]:
    """The demo seller's ``Account`` (getAccount's payload)."""
    address = {"addressLine1": "Königstraße 1", "city": "Stuttgart", "stateOrProvinceCode": "BW",
               "postalCode": "70173", "countryCode": "DE"}
    return {
        "marketplaceParticipationList": participations(),
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": "PROFESSIONAL",
        "business": {"name": "Emulator Demo GmbH", "registeredBusinessAddress": address,
                     "companyRegistrationNumber": "HRB 765432", "companyTaxIdentificationNumber": "DE123456789"},
        "primaryContact": {"name": "Jürgen Müller", "address": address},
    }


def get_marketplace_participations(req: Request) -> Response:
    """GET /sellers/v1/marketplaceParticipations."""
    return Response(200, {"payload": participations()})


def get_account(req: Request) -> Response:
    """GET /sellers/v1/account."""
    return Response(200, {"payload": account()})


def _export_participations(data: Any) -> Iterator[Row]:
    for row in participations():
        yield row, {}, {}


def _export_account(data: Any) -> Iterator[Row]:
    yield account(), {}, {}


ENDPOINTS = (
    Endpoint("sellers", "v1", "getMarketplaceParticipations", get_marketplace_participations,
             export=_export_participations),
    Endpoint("sellers", "v1", "getAccount", get_account, export=_export_account),
)

__all__ = ["ENDPOINTS", "SELLER_ID", "STORE_NAME", "participations", "account", "get_marketplace_participations",
           "get_account"]
