"""The catalogue of report types the emulator builds (:data:`KINDS`) and the rules of their requests.

Each :class:`~sqlspapi.emulator.reports_files.ReportKind` names its builder, the longest data window one request may
cover (``max_days``), how far back it may start (``max_age_days``), whether it can be requested at all (settlements
cannot), whether it is GZIP-compressed, single-marketplace, a listings file (charsets, localized headers) and its
enumerated ``reportOptions``. Restricted types (:data:`~sqlspapi.emulator.reports_files.RESTRICTED_TYPES`) say so
through ``ReportKind.restricted``. :func:`kind_of` also names types outside the catalogue (documents registered with
``ReportStore.put_document``).
"""

from __future__ import annotations

from sqlspapi.emulator.reports_files import (
    ACTIONABLE_ORDERS,
    FBA_SHIPMENTS,
    LISTINGS_ALL,
    MYI_UNSUPPRESSED,
    ORDERS_DATE,
    ORDERS_UPDATE,
    SALES_TRAFFIC,
    SETTLEMENT,
    ReportKind,
)
from sqlspapi.emulator.reports_listings import afn, listings, myi, open_listings
from sqlspapi.emulator.reports_orders import actionable_orders, fba_shipments, item_report, orders, settlement
from sqlspapi.emulator.reports_sales import OPTIONS as SALES_TRAFFIC_OPTIONS
from sqlspapi.emulator.reports_sales import sales_traffic

RETURNS_COLUMNS = (
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
    "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments")
LEDGER_COLUMNS = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity", "Fulfillment Center",
    "Disposition", "Reason", "Country", "Reconciled Quantity", "Unreconciled Quantity")
LEDGER_SUMMARY_COLUMNS = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "Starting Warehouse Balance", "Customer Shipments",
    "Ending Warehouse Balance", "Location")
REIMBURSEMENT_COLUMNS = (
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku", "fnsku", "asin",
    "product-name", "condition", "currency-unit", "amount-per-unit", "amount-total", "quantity-reimbursed-cash",
    "quantity-reimbursed-inventory", "quantity-reimbursed-total", "original-reimbursement-id",
    "original-reimbursement-type")
RETURNS_MFN_COLUMNS = (
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID", "Merchant SKU",
    "ASIN", "Item Name", "Return quantity", "Return reason")

#: Every report type the emulator builds, by name.
KINDS: dict[str, ReportKind] = {k.name: k for k in (
    ReportKind(ORDERS_UPDATE, orders(True), max_days=30, max_age_days=730, gzip=True),
    ReportKind(ORDERS_DATE, orders(False), max_days=30, max_age_days=730, gzip=True),
    ReportKind(LISTINGS_ALL, listings(False), single_marketplace=True, listings=True),
    ReportKind("GET_MERCHANT_LISTINGS_DATA", listings(True), single_marketplace=True, listings=True),
    ReportKind("GET_FLAT_FILE_OPEN_LISTINGS_DATA", open_listings, single_marketplace=True, listings=True),
    ReportKind(MYI_UNSUPPRESSED, myi, single_marketplace=True),
    ReportKind("GET_FBA_MYI_ALL_INVENTORY_DATA", myi, single_marketplace=True),
    ReportKind("GET_AFN_INVENTORY_DATA", afn, single_marketplace=True),
    ReportKind("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", item_report(RETURNS_COLUMNS, 7), max_days=90),
    ReportKind("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", item_report(RETURNS_MFN_COLUMNS, 9), max_days=60),
    ReportKind("GET_LEDGER_DETAIL_VIEW_DATA", item_report(LEDGER_COLUMNS, 1), max_days=540),
    ReportKind("GET_LEDGER_SUMMARY_VIEW_DATA", item_report(LEDGER_SUMMARY_COLUMNS, 3), max_days=540),
    ReportKind("GET_FBA_REIMBURSEMENTS_DATA", item_report(REIMBURSEMENT_COLUMNS, 11), max_days=540),
    ReportKind(SALES_TRAFFIC, sales_traffic, max_days=730, gzip=True, single_marketplace=True,
               options=SALES_TRAFFIC_OPTIONS),
    ReportKind(SETTLEMENT, settlement, requestable=False),
    ReportKind(ACTIONABLE_ORDERS, actionable_orders, max_days=30, max_age_days=730),
    ReportKind(FBA_SHIPMENTS, fba_shipments, max_days=30, max_age_days=730),
)}


def kind_of(report_type: str) -> ReportKind:
    """The catalogue's kind, or for another type a kind that cannot be built or requested (its documents are
    registered with ``ReportStore.put_document``)."""
    return KINDS.get(report_type) or ReportKind(report_type, requestable=False)
