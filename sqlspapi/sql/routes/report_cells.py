"""Rows of one report document for the ``report`` route: flat files through
:class:`~sqlspapi.documents.headers.RowReader`, each typed cell read by :class:`~sqlspapi.documents.values.CellReader`
(blank text cells are NULL; a cell that cannot be read stays text and is counted for one notice); JSON reports at
the definition's ``rows``; documents of unknown type (``report_rows``) as one JSON record per row. A region-wide
report's rows (:func:`placed`) get their marketplace from their sales channel, and those of marketplaces the query
does not read are dropped.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from sqlspapi.definitions.schema import ReportSpec, TableSpec
from sqlspapi.documents.headers import EXTRA, RowReader
from sqlspapi.documents.values import CellReader
from sqlspapi.settings.marketplaces import marketplace_by_sales_channel
from sqlspapi.sql.plan import Request

__all__ = ["CELL_KINDS", "Cells", "placed"]

#: Column type → the value kind :func:`sqlspapi.documents.values.coerce` reads a cell as.
CELL_KINDS: Mapping[str, str] = {"INTEGER": "integer", "REAL": "decimal", "BOOLEAN": "boolean", "TIME": "timestamp"}


class Cells:
    """Rows of a document, typed by the table's columns; counts the cells it could not read (for one notice)."""

    def __init__(self, table: TableSpec, spec: ReportSpec) -> None:
        self.spec = spec
        columns = [c for c in table.columns if c.source == "row" and not c.hidden and c.name != EXTRA]
        self.known = [c.path[0] for c in columns]
        self.typed: list[tuple[str, str]] = [(c.path[0], CELL_KINDS[c.kind]) for c in columns if c.kind in CELL_KINDS]
        #: a region-wide report's column naming each row's sales channel (``marketplace_from``), else ""
        self.channel = table.columns[table.column_index(spec.marketplace_from)].path[0] if spec.marketplace_from \
            else ""
        #: column → [count, an example]; "" → a document-level notice (bad bytes, a cut-off file)
        self.problems: dict[str, list[Any]] = {}

    def rows(self, decoded: Any, marketplace_id: str) -> Iterator[dict[str, Any]]:
        """The document's row objects (``{"record": …}`` for a table of any type)."""
        lines = iter(decoded)
        fmt = self.spec.format
        if fmt == "auto":
            first = next((line for line in lines if line.strip()), "")
            lines = itertools.chain([first], lines)
            fmt = "json" if first.lstrip().startswith(("{", "[")) else "csv" if _csv_header(first) else "tsv"
            if fmt == "json":
                yield from ({"record": record} for record in _json_records(json.loads("\n".join(lines))))
                return
            for row in RowReader(lines, delimiter="\t" if fmt == "tsv" else ","):
                extra = row.pop(EXTRA) or {}
                yield {"record": {**{k: v for k, v in row.items() if v is not None}, **extra}}
            return
        if fmt == "json":
            data = json.loads("\n".join(lines))
            items = _dig(data, self.spec.rows)
            yield from (item for item in items or () if isinstance(item, dict))
            return
        reader = RowReader(lines, delimiter="\t" if fmt == "tsv" else ",", known=self.known)
        cells = CellReader(marketplace_id, self.spec.date_style, exact=False)
        present = set(reader.columns)
        typed = [(name, cells.reader(kind)) for name, kind in self.typed if name in present]
        texts = [name for name in self.known if name in present and name not in dict(self.typed)]
        problems = self.problems
        for row in reader:
            for name in texts:
                text = row[name]
                if text is not None and (not text or text.isspace()):
                    row[name] = None  # a blank cell is no value
            for name, read in typed:
                text = row[name]
                if text is None:
                    continue
                value, ok = read(text)
                if ok:
                    row[name] = value
                else:
                    entry = problems.setdefault(name, [0, text])
                    entry[0] += 1
            yield row

    def notices(self, table: str) -> list[str]:
        """What the user is told about cells kept as text, and damaged documents."""
        out = [entry[1] for name, entry in self.problems.items() if not name]
        cells = {name: entry for name, entry in self.problems.items() if name}
        if cells:
            listed = ", ".join(f"{name} ({count}, e.g. {example!r})" for name, (count, example) in cells.items())
            out.append(f"{table}: {sum(e[0] for e in cells.values())} cell(s) could not be read as their column's "
                       f"type and are kept as text: {listed}")
        return out


def placed(rows: Iterable[dict[str, Any]], source: Request, channel: str, reading: Collection[str] | None,
           named: bool) -> Iterator[tuple[dict[str, Any], Request]]:
    """The rows of a region-wide report, each with the request of its own marketplace (its ``marketplaceId``: the
    marketplace its ``channel`` cell names, e.g. ``Amazon.ca``; NULL for ``Non-Amazon``). With ``reading`` (the
    marketplaces the query reads) the rows of other marketplaces are dropped, and a row naming no marketplace is
    kept only when the query ``named`` none."""
    sources: dict[str | None, Request] = {}
    for row in rows:
        text = row.get(channel)
        market = marketplace_by_sales_channel(text) if isinstance(text, str) else None
        mid = market.id if market is not None else None
        if reading is not None and (mid not in reading if mid is not None else named):
            continue
        if mid not in sources:
            sources[mid] = replace(source, query={**source.query, "marketplaceId": mid})
        yield row, sources[mid]


def _csv_header(line: str) -> bool:
    """Whether a flat file's header line is comma-separated (no tab, a comma)."""
    return "\t" not in line and "," in line


def _json_records(data: Any) -> Iterator[Any]:
    """The records of a JSON document of unknown shape: a top-level array's items; else the items of every
    top-level array of objects (each with ``_section``, its key); else the document itself."""
    if isinstance(data, list):
        yield from data
        return
    sections = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)} \
        if isinstance(data, dict) else {}
    if not sections:
        yield data
        return
    for key, items in sections.items():
        yield from ({"_section": key, **item} if isinstance(item, dict) else item for item in items)


def _dig(data: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        data = data.get(part) if isinstance(data, dict) else None
    return data
