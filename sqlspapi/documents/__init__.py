"""Report documents: bytes as Amazon sends them → text lines → rows → typed values.

- :mod:`.decode`: :func:`open_document` (gzip by magic bytes, Java charset names, per-marketplace fallback,
  counted replacement of bad bytes, streaming);
- :mod:`.headers`: the header → column-name rule, localized headers, and :class:`RowReader` (ragged rows, header
  drift, CSV quoting, streaming);
- :mod:`.values`: timestamps as UTC instants, decimals, integers, booleans, and :func:`coerce` that never raises.
"""

from __future__ import annotations

from sqlspapi.documents.decode import DecodedDocument, open_document
from sqlspapi.documents.headers import EXTRA, LOCALIZED_HEADERS, RowReader, column_name, sql_name
from sqlspapi.documents.values import KINDS, coerce, parse_bool, parse_decimal, parse_int, parse_timestamp

__all__ = [
    "EXTRA", "KINDS", "LOCALIZED_HEADERS", "DecodedDocument", "RowReader", "coerce", "column_name", "open_document",
    "parse_bool", "parse_decimal", "parse_int", "parse_timestamp", "sql_name",
]
