"""Report headers as SQL column names, and a streaming row reader that never loses a cell.

**The column-name rule** (:func:`sql_name`): lower case; every character that is not a letter or a digit (``-``,
space, ``/``, ``(``, ``.``, ``・`` ...) becomes ``_``; runs of ``_`` collapse to one; leading and trailing ``_`` are
stripped. ``seller-sku`` → ``seller_sku``, ``item-name`` and ``Item Name`` → ``item_name``, ``Unreconciled
Quantity`` → ``unreconciled_quantity``. Letters outside ASCII are kept (``Händler-SKU`` → ``händler_sku``).

**Localized headers** (``preferredReportDocumentLocale``, or a Japanese or German seller account) map to the same
names through :data:`LOCALIZED_HEADERS`, a plain table keyed by the localized header's :func:`sql_name`.

**Rows** (:class:`RowReader`): the first non-blank line is the header; blank lines are skipped; tab-separated files
are split on tabs only (Amazon's TSV has no quoting: a stray ``"`` is data); comma-separated files follow CSV
quoting, including quoted line breaks. A row shorter than the header is padded with ``None``; cells beyond the
header are kept in the row's ``extra`` dict (``column_30``: its 1-based position), except empty trailing cells
(trailing tabs). With ``known`` columns, a header column the caller does not know is kept in ``extra`` too, under
its SQL name, and a known column the file lacks is ``None``.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["EXTRA", "LOCALIZED_HEADERS", "RowReader", "column_name", "column_names", "sql_name"]

EXTRA = "extra"
"""The row key holding cells the header (or the caller's ``known`` columns) does not name."""


def sql_name(header: str) -> str:
    """A header made SQL-friendly by the documented rule (``Item Name`` → ``item_name``); ``""`` for a blank header."""
    chars = [ch if ch.isalnum() else "_" for ch in header.strip().lower()]
    return "_".join(part for part in "".join(chars).split("_") if part)


def _localized(table: Mapping[str, tuple[str, ...]]) -> Mapping[str, str]:
    """Invert ``canonical name → localized headers`` into ``sql_name(localized header) → canonical name``."""
    return MappingProxyType({sql_name(header): name for name, headers in table.items() for header in headers})


LOCALIZED_HEADERS: Mapping[str, str] = _localized({
    # Listings reports. Japanese names as Amazon.co.jp's 出品詳細レポート writes them; German, French, Italian and
    # Spanish seller-sku / product-id names as seen in open-source importers of real files; "ASIN 1" is how the
    # German and Japanese listings reports spell asin1.
    "item_name": ("商品名",),
    "listing_id": ("出品ID",),
    "seller_sku": ("出品者SKU", "Händler-SKU", "sku-vendeur", "SKU venditore", "SKU del vendedor"),
    "price": ("価格",),
    "quantity": ("数量",),
    "open_date": ("出品日",),
    "product_id_type": ("商品IDタイプ",),
    "item_note": ("コンディション説明",),
    "item_condition": ("コンディション",),
    "will_ship_internationally": ("国外へ配送可",),
    "expedited_shipping": ("迅速な配送",),
    "product_id": ("商品ID", "Produkt-ID", "id-produit", "Identificativo del prodotto", "Identificador del producto"),
    "fulfillment_channel": ("フルフィルメント・チャンネル",),
    "status": ("ステータス",),
    "asin1": ("ASIN 1",),
    "asin2": ("ASIN 2",),
    "asin3": ("ASIN 3",),
})
"""``sql_name`` of a localized header → the column name the English header gets (``出品者SKU`` → ``seller_sku``)."""


def column_name(header: str) -> str:
    """The column a header fills: its localized mapping if it has one, else its :func:`sql_name`."""
    name = sql_name(header)
    return LOCALIZED_HEADERS.get(name, name)


def column_names(headers: Iterable[str]) -> tuple[str, ...]:
    """Column names for a header row: :func:`column_name` of each, ``column_N`` for a blank one, and ``_2``, ``_3``
    suffixes so no two columns (nor a column and ``extra``) share a name."""
    names: list[str] = []
    seen = {EXTRA}
    for position, header in enumerate(headers, 1):
        base = column_name(header) or f"column_{position}"
        name, suffix = base, 1
        while name in seen:
            suffix += 1
            name = f"{base}_{suffix}"
        seen.add(name)
        names.append(name)
    return tuple(names)


class RowReader:
    """Rows of a delimited report as dicts ``{column: text | None, ..., "extra": dict | None}``, streamed.

    ``lines`` are text lines without line ends (a :class:`~sqlspapi.documents.decode.DecodedDocument`).
    ``delimiter`` is ``"\\t"`` (no quoting) or ``","`` (CSV quoting). ``known``: the columns the caller's table
    has, in its order; ``None`` means every header column. The header is read when the reader is created.
    """

    def __init__(self, lines: Iterable[str], *, delimiter: str = "\t", known: Collection[str] | None = None) -> None:
        self.delimiter = delimiter
        self._records = self._split(iter(lines))
        header = next(self._records, [])
        while header and not header[-1].strip():
            header.pop()  # a trailing tab after the last header name
        self.headers: tuple[str, ...] = tuple(header)
        """The header cells as the file wrote them."""
        self.columns: tuple[str, ...] = column_names(header)
        """The file's columns as SQL names (localized headers mapped), in file order."""
        self.known: tuple[str, ...] = tuple(known) if known is not None else self.columns
        """The columns every row has (the caller's ``known``, or the file's columns)."""
        self.unknown: tuple[str, ...] = tuple(name for name in self.columns if name not in set(self.known))
        """File columns the caller does not know: kept in each row's ``extra``."""
        self.missing: tuple[str, ...] = tuple(name for name in self.known if name not in set(self.columns))
        """Known columns the file lacks: ``None`` in every row."""
        self.short_rows = 0
        """Rows with fewer cells than the header, so far (padded with ``None``)."""
        self.long_rows = 0
        """Rows with non-empty cells beyond the header, so far (kept in ``extra``)."""

    def _split(self, lines: Iterator[str]) -> Iterator[list[str]]:
        """Non-blank records as lists of cells."""
        if self.delimiter == "\t":
            return (line.split("\t") for line in lines if line.strip())
        records = csv.reader((line + "\n" for line in lines), delimiter=self.delimiter)
        return (record for record in records if any(cell.strip() for cell in record))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        width = len(self.columns)
        known = set(self.known)
        unknown = [(index, name) for index, name in enumerate(self.columns) if name not in known]
        template: dict[str, Any] = dict.fromkeys(self.known)
        pairs = [(index, name) for index, name in enumerate(self.columns) if name in known]
        for cells in self._records:
            if len(cells) < width:
                self.short_rows += 1
            row = template.copy()
            for index, name in pairs:
                row[name] = cells[index] if index < len(cells) else None
            extra = {name: cells[index] for index, name in unknown if index < len(cells)}
            overflow = cells[width:]
            while overflow and not overflow[-1]:
                overflow.pop()
            if overflow:
                self.long_rows += 1
                extra.update((f"column_{width + offset}", cell) for offset, cell in enumerate(overflow, 1))
            row[EXTRA] = extra or None
            yield row
