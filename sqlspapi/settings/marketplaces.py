"""SP-API selling regions, their hosts, and the marketplaces in each: data tables plus small look-up helpers.

Source: developer-docs.amazon.com "SP-API endpoints" and "Marketplace IDs" (``shared/docs/spapi-facts.md``
§g). The docs spell the United Kingdom ``UK``; ISO 3166-1 (and the Sellers API) say ``GB``: both resolve
to the same ID.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "Region", "Marketplace", "REGIONS", "AWS_REGION_TO_REGION", "MARKETPLACES", "MARKETPLACE_BY_ID",
    "MARKETPLACE_BY_CODE", "COUNTRY_ALIASES", "resolve_marketplace", "marketplace_by_id", "resolve_region",
    "valid_codes", "MARKETPLACE_BY_DOMAIN", "marketplace_by_sales_channel", "regions_of",
]


@dataclass(frozen=True)
class Region:
    """One SP-API selling region: its short name, production and sandbox base URLs, and AWS region."""

    name: str
    description: str
    host: str
    sandbox_host: str
    aws_region: str


@dataclass(frozen=True)
class Marketplace:
    """One Amazon marketplace: its ID, country code and name, the selling region that serves it, and its Amazon
    domain (``amazon.co.uk``: what an order report's ``sales-channel`` names, capitalized, as ``Amazon.co.uk``)."""

    id: str
    country_code: str
    country: str
    region: str
    domain: str


REGIONS: Mapping[str, Region] = MappingProxyType({
    r.name: r
    for r in (
        Region("na", "North America (CA, US, MX, BR)", "https://sellingpartnerapi-na.amazon.com",
               "https://sandbox.sellingpartnerapi-na.amazon.com", "us-east-1"),
        Region("eu", "Europe, Middle East, Africa and India", "https://sellingpartnerapi-eu.amazon.com",
               "https://sandbox.sellingpartnerapi-eu.amazon.com", "eu-west-1"),
        Region("fe", "Far East (SG, AU, JP)", "https://sellingpartnerapi-fe.amazon.com",
               "https://sandbox.sellingpartnerapi-fe.amazon.com", "us-west-2"),
    )
})
"""Selling regions by short name (``na``, ``eu``, ``fe``)."""

AWS_REGION_TO_REGION: Mapping[str, str] = MappingProxyType({r.aws_region: r.name for r in REGIONS.values()})
"""AWS region name (as the seed systems' ``amazon_sp_aws_region`` uses it) → selling region short name."""

MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("A2EUQ1WTGCTBG2", "CA", "Canada", "na", "amazon.ca"),
    Marketplace("ATVPDKIKX0DER", "US", "United States", "na", "amazon.com"),
    Marketplace("A1AM78C64UM0Y8", "MX", "Mexico", "na", "amazon.com.mx"),
    Marketplace("A2Q3Y263D00KWC", "BR", "Brazil", "na", "amazon.com.br"),
    Marketplace("A28R8C7NBKEWEA", "IE", "Ireland", "eu", "amazon.ie"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "Spain", "eu", "amazon.es"),
    Marketplace("A1F83G8C2ARO7P", "UK", "United Kingdom", "eu", "amazon.co.uk"),
    Marketplace("A13V1IB3VIYZZH", "FR", "France", "eu", "amazon.fr"),
    Marketplace("AMEN7PMS3EDWL", "BE", "Belgium", "eu", "amazon.com.be"),
    Marketplace("A1805IZSGTT6HS", "NL", "Netherlands", "eu", "amazon.nl"),
    Marketplace("A1PA6795UKMFR9", "DE", "Germany", "eu", "amazon.de"),
    Marketplace("APJ6JRA9NG5V4", "IT", "Italy", "eu", "amazon.it"),
    Marketplace("A2NODRKZP88ZB9", "SE", "Sweden", "eu", "amazon.se"),
    Marketplace("AE08WJ6YKNBMC", "ZA", "South Africa", "eu", "amazon.co.za"),
    Marketplace("A1C3SOZRARQ6R3", "PL", "Poland", "eu", "amazon.pl"),
    Marketplace("ARBP9OOSHTCHU", "EG", "Egypt", "eu", "amazon.eg"),
    Marketplace("A33AVAJ2PDY3EV", "TR", "Turkey", "eu", "amazon.com.tr"),
    Marketplace("A17E79C6D8DWNP", "SA", "Saudi Arabia", "eu", "amazon.sa"),
    Marketplace("A2VIGQ35RCS4UG", "AE", "United Arab Emirates", "eu", "amazon.ae"),
    Marketplace("A21TJRUUN4KGV", "IN", "India", "eu", "amazon.in"),
    Marketplace("A19VAU5U5O7RUS", "SG", "Singapore", "fe", "amazon.sg"),
    Marketplace("A39IBJ37TRP1C6", "AU", "Australia", "fe", "amazon.com.au"),
    Marketplace("A1VC38T7YXB528", "JP", "Japan", "fe", "amazon.co.jp"),
)
"""Every marketplace SP-API documents, in the docs' order."""

COUNTRY_ALIASES: Mapping[str, str] = MappingProxyType({"GB": "UK"})
"""Extra country codes accepted for a marketplace (ISO ``GB`` for the docs' ``UK``)."""

MARKETPLACE_BY_ID: Mapping[str, Marketplace] = MappingProxyType({m.id: m for m in MARKETPLACES})
"""Marketplaces by marketplace ID."""

MARKETPLACE_BY_CODE: Mapping[str, Marketplace] = MappingProxyType(
    {m.country_code: m for m in MARKETPLACES}
    | {alias: next(m for m in MARKETPLACES if m.country_code == code)
       for alias, code in COUNTRY_ALIASES.items()}
)
"""Marketplaces by upper-case country code, including aliases (``GB``)."""


def valid_codes() -> str:
    """The accepted country codes as one comma-separated string, for error messages."""
    return ", ".join(sorted(MARKETPLACE_BY_CODE))


def resolve_marketplace(token: str) -> str:
    """Map a country code (``US``, ``uk``, ``GB``) or a marketplace ID to the marketplace ID.

    Raises ``KeyError`` (with a message listing the valid codes) when the token is neither.
    """
    key = token.strip().upper()
    if key in MARKETPLACE_BY_CODE:
        return MARKETPLACE_BY_CODE[key].id
    if key in MARKETPLACE_BY_ID:
        return key
    raise KeyError(f"unknown marketplace {token.strip()!r}; use a marketplace ID or one of: {valid_codes()}")


def marketplace_by_id(marketplace_id: str) -> Marketplace:
    """The :class:`Marketplace` with this ID (case-insensitive); ``KeyError`` when unknown."""
    return MARKETPLACE_BY_ID[marketplace_id.strip().upper()]


def resolve_region(token: str) -> str:
    """Map ``na``/``eu``/``fe`` or an AWS region (``us-east-1``...) to the short name; else ``KeyError``."""
    key = token.strip().lower()
    if key in REGIONS:
        return key
    if key in AWS_REGION_TO_REGION:
        return AWS_REGION_TO_REGION[key]
    raise KeyError(token)


MARKETPLACE_BY_DOMAIN: Mapping[str, Marketplace] = MappingProxyType({m.domain: m for m in MARKETPLACES})
"""Marketplaces by Amazon domain (lower case, without ``www.``)."""


def marketplace_by_sales_channel(text: str) -> Marketplace | None:
    """The marketplace an order report's ``sales-channel`` names (``Amazon.de``, ``amazon.de``, ``www.amazon.de``:
    case-insensitive); None for any other text (``Non-Amazon``: a Multi-Channel Fulfillment order)."""
    key = text.strip().lower().removeprefix("www.")
    return MARKETPLACE_BY_DOMAIN.get(key)


def regions_of(marketplace_ids: Iterable[str]) -> tuple[str, ...]:
    """The selling regions of these marketplaces, each once, in the order their first marketplace comes (unknown
    ids are skipped)."""
    found = (MARKETPLACE_BY_ID.get(m.strip().upper()) for m in marketplace_ids)
    return tuple(dict.fromkeys(m.region for m in found if m is not None))
