"""Named hook of the Data Kiosk tables: a query's record as a row, with what the query was asked beside it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def with_inputs(record: Mapping[str, Any], request: Any) -> Iterator[Mapping[str, Any]]:
    """One JSON Lines record → one row object: the record's fields, the query's inputs (defaults applied:
    ``aggregateBy`` …), the ``queryId`` and ``page`` it came from (the ``document`` route puts them in the request's
    query), and the whole record as ``record`` (``datakiosk_query``)."""
    given = request.query if request is not None else {}
    yield {**record, **given, "record": record}
