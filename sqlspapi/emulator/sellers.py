"""Sellers API v1: getMarketplaceParticipations and getAccount for the demo seller."""

from __future__ import annotations

from typing import Any

from sqlspapi.emulator.common import Request, Response
from sqlspapi.emulator.pools import MARKETS

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


def get_marketplace_participations(req: Request) -> Response:
    """GET /sellers/v1/marketplaceParticipations."""
    return Response(200, {"payload": participations()})


def get_account(req: Request) -> Response:
    """GET /sellers/v1/account."""
    address = {"addressLine1": "Königstraße 1", "city": "Stuttgart", "postalCode": "70173", "countryCode": "DE"}
    return Response(200, {"payload": {
        "marketplaceParticipationList": participations(),
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": "PROFESSIONAL",
        "business": {"name": "Emulator Demo GmbH", "registeredBusinessAddress": address},
        "primaryContact": {"name": "Jürgen Müller", "address": address},
    }})
