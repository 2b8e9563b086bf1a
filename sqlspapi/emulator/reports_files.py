"""Report files of the emulated Reports API 2021-06-30: the shapes every file shares and how a file is encoded.

What each report type holds lives with its builder (:mod:`sqlspapi.emulator.reports_orders`: orders, the restricted
shipping reports, returns, ledger, reimbursements, settlements; :mod:`sqlspapi.emulator.reports_listings`: listings
and FBA inventory; :mod:`sqlspapi.emulator.reports_sales`: sales and traffic); the catalogue of types and their
request rules is :data:`sqlspapi.emulator.reports_kinds.KINDS`. Every file is generated from the emulator's own
data, so a report and the API tables agree.

Real-world quirks (``../shared/docs/report-formats.md``), each a :class:`Quirks` switch, on by default where Amazon
does it: charsets (JP ``Windows-31J`` with cp932-only characters, EU listings ``Cp1252`` with characters outside it as
``?``), local listing dates (``2019-06-17 14:24:11 PDT``, ``29/09/2025 16:19:39 BST``), ragged rows (UK listings:
31 header names, 29 fields), header drift (an extra column in US orders reports; 21 FBA inventory columns instead
of 18), decimal commas in EU settlements. ``not_gzip`` (off by default) labels a file GZIP and sends it plain.
``localized_headers`` (off by default: Amazon does it per seller account, not per request) writes the header of JP
listings files in Japanese and of DE listings files in German, for the columns
:data:`sqlspapi.documents.headers.LOCALIZED_HEADERS` knows (:func:`localized_header`).

Restricted report types (:data:`RESTRICTED_TYPES`, Amazon's list plus GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL)
carry personal data: getReportDocument of their documents wants a Restricted Data Token naming the document.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlspapi.documents.headers import LOCALIZED_HEADERS, sql_name
from sqlspapi.emulator.data import LANGUAGES, Dataset, Product
from sqlspapi.emulator.pools import MARKETS, MARKETS_BY_ID, Market

ORDERS_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ORDERS_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
LISTINGS_ALL = "GET_MERCHANT_LISTINGS_ALL_DATA"
MYI_UNSUPPRESSED = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
SALES_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ACTIONABLE_ORDERS = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
FBA_SHIPMENTS = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"

#: Report types whose documents need a Restricted Data Token (getReportDocument answers 403 Unauthorized to a
#: plain LWA token): Amazon's restricted report types (Tokens API guide) and the FBA shipments report, which
#: carries buyer names and addresses. The emulator builds GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING and
#: GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL; a document of any of them registered with
#: :meth:`~sqlspapi.emulator.reports_store.ReportStore.put_document` is restricted too.
RESTRICTED_TYPES: frozenset[str] = frozenset({
    ACTIONABLE_ORDERS, FBA_SHIPMENTS, "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING",
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_TAX", "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING",
    "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING", "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX",
    "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_TAX", "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_INVOICING",
    "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_SHIPPING", "GET_ORDER_REPORT_DATA_INVOICING",
    "GET_ORDER_REPORT_DATA_TAX", "GET_ORDER_REPORT_DATA_SHIPPING", "GET_EASYSHIP_DOCUMENTS",
    "GET_GST_MTR_B2B_CUSTOM", "GET_VAT_TRANSACTION_DATA", "SC_VAT_TAX_REPORT",
})
#: Listing dates: (zone, strftime format) by marketplace key, as the marketplace's files write them.
LISTING_DATES = {"US": ("America/Los_Angeles", "%Y-%m-%d %H:%M:%S %Z"),
                 "CA": ("America/Los_Angeles", "%Y-%m-%d %H:%M:%S %Z"),
                 "UK": ("Europe/London", "%d/%m/%Y %H:%M:%S %Z"),
                 "DE": ("Europe/Berlin", "%d/%m/%Y %H:%M:%S %Z"),
                 "JP": ("Asia/Tokyo", "%Y/%m/%d %H:%M:%S %Z")}
#: Marketplaces whose listings files are windows-1252 (Amazon's EU listings).
CP1252_MARKETS = frozenset({"UK", "DE"})
#: Marketplaces whose listings headers are localized when ``Quirks.localized_headers`` is on.
LOCALIZED_MARKETS = frozenset({"JP", "DE"})


@dataclass
class Quirks:
    """Which real-world file quirks the emulator reproduces (each on by default where Amazon does it)."""

    charsets: bool = True
    local_dates: bool = True
    ragged_rows: bool = True
    header_drift: bool = True
    decimal_comma: bool = True
    not_gzip: bool = False  # a file labelled GZIP whose bytes are not compressed (a fault; off by default)
    localized_headers: bool = False  # JP / DE listings headers in Japanese / German (an account setting)


@dataclass(frozen=True)
class Window:
    """What a report covers: its marketplaces, data window and options."""

    marketplace_ids: tuple[str, ...]
    start: datetime
    end: datetime
    options: dict[str, str] = field(default_factory=dict)

    @property
    def market(self) -> Market:
        """The first marketplace of the report (the demo seller's US store when it sells in none of them)."""
        return next((MARKETS_BY_ID[m] for m in self.marketplace_ids if m in MARKETS_BY_ID), MARKETS[0])

    @property
    def markets(self) -> list[Market]:
        """The report's marketplaces the demo seller sells in."""
        return [MARKETS_BY_ID[m] for m in self.marketplace_ids if m in MARKETS_BY_ID]


@dataclass(frozen=True)
class Table:
    """A flat file before encoding: header names and rows of text fields (a row may be shorter than the header)."""

    header: tuple[str, ...]
    rows: list[list[str]]


@dataclass(frozen=True)
class Document:
    """A stored report document: its bytes as served, the download's Content-Type, the GZIP label."""

    data: bytes
    content_type: str
    compression: str | None  # "GZIP" or None, as getReportDocument labels it


Builder = Callable[[Dataset, Window, Quirks], "Table | dict[str, Any]"]


def _unbuildable(data: Dataset, w: Window, quirks: Quirks) -> Table:
    raise ValueError("this report type has no builder: its documents are registered with put_document")


@dataclass(frozen=True)
class ReportKind:
    """A report type the emulator knows: how to build its file and the rules of its requests."""

    name: str
    build: Builder = _unbuildable
    max_days: int | None = None  # the longest data window one request may cover
    max_age_days: int | None = None  # how far back dataStartTime may go
    requestable: bool = True  # False: Amazon generates it (settlements); createReport answers 400
    gzip: bool = False
    single_marketplace: bool = False
    listings: bool = False  # EU listings files are windows-1252; JP/DE listings headers may be localized
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reportOptions with enumerated values

    @property
    def restricted(self) -> bool:
        """Does getReportDocument of its documents want a Restricted Data Token (:data:`RESTRICTED_TYPES`)?"""
        return self.name in RESTRICTED_TYPES


def seeded(data: Dataset, *parts: object) -> random.Random:
    """A random generator determined by the dataset's seed and ``parts`` (files are reproducible)."""
    return random.Random("-".join(str(p) for p in (data.seed, *parts)))


def iso_offset(dt: datetime) -> str:
    """``2017-06-17T08:04:21+00:00``: the orders reports' date format."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def local_date(dt: datetime, market: Market, quirks: Quirks) -> str:
    """A listings date as the marketplace's file writes it (ISO 8601 UTC when the quirk is off)."""
    if not quirks.local_dates or market.key not in LISTING_DATES:
        return iso_offset(dt)
    zone, fmt = LISTING_DATES[market.key]
    return dt.astimezone(ZoneInfo(zone)).strftime(fmt)


def title(product: Product, market: Market) -> str:
    """The product's title in the marketplace (the Title getOrderItems gives)."""
    return product.titles[LANGUAGES.get(market.key, "en")]


# -- localized headers ------------------------------------------------------------------------------------------
def _cjk(text: str) -> bool:
    return any(ord(ch) >= 0x3000 for ch in text)


def _spelled(name: str) -> str:
    """A header as a file writes it from its :func:`sql_name` (which only lower-cased it and turned separators
    into ``_``): ASCII runs in Japanese words and short ASCII words are acronyms (``出品者SKU``, ``Produkt-ID``,
    ``ASIN 1``), other words are capitalized; Japanese words join with ``・``, numbers with a space, others with
    ``-``. ``sql_name`` of the result is ``name`` again."""
    words = name.split("_")
    out = []
    for n, word in enumerate(words):
        if _cjk(word) or (word.isascii() and len(word) <= 4):
            spelled = "".join(ch.upper() if ch.isascii() else ch for ch in word)
        else:
            spelled = word[:1].upper() + word[1:]
        if n:
            previous = words[n - 1]
            out.append("・" if _cjk(word) and _cjk(previous) else " " if word.isdigit() or _cjk(previous) else "-")
        out.append(spelled)
    return "".join(out)


def _localized_by_market() -> dict[str, dict[str, str]]:
    """marketplace key → {English header's SQL name → localized header}, by inverting LOCALIZED_HEADERS: the
    Japanese name is the first one with Japanese characters, the German one the first other (the table lists
    Japanese, then German, then other languages)."""
    names: dict[str, list[str]] = {}
    for localized, canonical in LOCALIZED_HEADERS.items():
        names.setdefault(canonical, []).append(localized)
    out: dict[str, dict[str, str]] = {"JP": {}, "DE": {}}
    for canonical, found in names.items():
        for key, pick in (("JP", [n for n in found if _cjk(n)] or found), ("DE", [n for n in found if not _cjk(n)])):
            if pick:
                out[key][canonical] = _spelled(pick[0])
    return out


_LOCALIZED = _localized_by_market()


def localized_header(header: str, market_key: str) -> str:
    """The header as a ``market_key`` (``JP``, ``DE``) seller's listings file writes it (``seller-sku`` →
    ``出品者SKU`` / ``Händler-SKU``); ``header`` itself when the table has no localized name for it."""
    return _LOCALIZED.get(market_key, {}).get(sql_name(header), header)


# -- encoding ---------------------------------------------------------------------------------------------------
def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def charset(kind: ReportKind, market: Market, quirks: Quirks) -> tuple[str, str]:
    """(the Content-Type's Java charset name, the Python codec) of a report file in a marketplace."""
    if quirks.charsets and market.key == "JP":
        return "Windows-31J", "cp932"
    if quirks.charsets and kind.listings and market.key in CP1252_MARKETS:
        return "Cp1252", "windows-1252"
    return "UTF-8", "utf-8"


def render(kind: ReportKind, data: Dataset, window: Window, quirks: Quirks) -> tuple[Document, int]:
    """Build the report's file: (the document as served, its number of data rows)."""
    built = kind.build(data, window, quirks)
    if isinstance(built, Table):
        market = window.market
        java, codec = charset(kind, market, quirks)
        header = built.header
        if quirks.localized_headers and kind.listings and market.key in LOCALIZED_MARKETS:
            header = tuple(localized_header(h, market.key) for h in header)
        lines = ["\t".join(_clean(v) for v in header)]
        lines += ["\t".join(_clean(v) for v in row) for row in built.rows]
        raw = ("\n".join(lines) + "\n").encode(codec, errors="replace")
        count = len(built.rows)
    else:
        java, raw = "UTF-8", json.dumps(built, ensure_ascii=False).encode("utf-8")
        count = len(built.get("salesAndTrafficByDate", ())) + len(built.get("salesAndTrafficByAsin", ()))
    content_type = f"text/plain;charset={java}"
    if not kind.gzip:
        return Document(raw, content_type, None), count
    body = raw if quirks.not_gzip else gzip.compress(raw, compresslevel=6, mtime=0)
    return Document(body, content_type, "GZIP"), count


def error_document(reason: str) -> Document:
    """The document a FATAL report points to: JSON ``{"errorDetails": reason}``."""
    return Document(json.dumps({"errorDetails": reason}).encode("utf-8"), "text/plain;charset=UTF-8", None)
