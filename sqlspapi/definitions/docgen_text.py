"""Markdown pieces of the generated table reference (:mod:`sqlspapi.definitions.docgen`): cells, code, tables,
operators, rates, and the columns section of a table.

Pure functions of the specs: deterministic text, no dates, definition order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import ColumnSpec, OperationSpec, TableSpec

__all__ = ["cell", "code", "value", "params", "md_table", "ops", "rate", "column_origin", "column_flags", "columns"]


def cell(text: str) -> str:
    """Text safe inside a markdown table cell (one line, pipes escaped)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text: Any) -> str:
    """Inline code (a backtick-free value)."""
    return f"`{text}`"


def value(item: Any) -> str:
    """A parameter value as the API receives it (lists comma-joined, booleans lower-case)."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, list | tuple):
        return ",".join(value(v) for v in item)
    return str(item)


def params(pairs: Mapping[str, Any]) -> str:
    """``k=v`` pairs as inline code, in key order."""
    return ", ".join(code(f"{k}={value(v)}") for k, v in sorted(pairs.items()))


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def ops(operators: Iterable[str]) -> str:
    """Operators as code, ``=`` before ``IN``."""
    return " ".join(code(op) for op in sorted(operators, key=lambda op: (op != "=", op)))


def rate(op: OperationSpec) -> str:
    """A usage plan's rate, with the interval it means when slower than one call a second."""
    text = f"{op.rate:g}/s"
    if 0 < op.rate < 1:
        text += f" (one call every {1 / op.rate:.0f} s)"
    return text


def column_origin(col: ColumnSpec, table: TableSpec | None = None) -> str:
    """Where a column's value comes from, when not from the row object (empty for an ordinary row path); a ``^``
    column of a batch table reads its sub-request's inputs, of any other table its parent row."""
    name = col.path[0] if col.path else ""
    dotted = ".".join(col.path)
    if col.source == "query_param":
        return f"the call's {dotted}"
    if col.source == "path_param":
        return f"path parameter {dotted}"
    if col.source == "connection":
        return f"connection {dotted}"
    if col.source == "parent":
        if table is not None and table.route("batch") is not None:
            return f"the sub-request's {dotted}"
        return f"parent field {dotted}"
    if col.source == "const":
        return f"constant '{name}'"
    if col.name != dotted.replace(".", "_").replace("-", "_"):
        return f"row field {dotted}"
    return ""


def column_flags(col: ColumnSpec) -> str:
    """What the "flags" cell of a column says: a hidden input, restricted data (PII)."""
    return ", ".join(flag for flag, on in (("hidden input", col.hidden), ("restricted (PII)", col.restricted)) if on)


def columns(table: TableSpec) -> list[str]:
    """The columns section: a table of columns, then how hidden inputs and restricted columns are used."""
    hidden = [c.name for c in table.columns if c.hidden]
    out = ["### Columns", ""]
    out += md_table(["column", "type", "flags", "description", "value from"],
                    ([code(c.name), c.kind, column_flags(c), c.description, column_origin(c, table)]
                     for c in table.columns))
    if hidden:
        out += ["", f"Hidden columns are inputs: not in `SELECT *`; give them with `=` in WHERE or as arguments in "
                    f"this order: `{table.name}({', '.join(hidden)})`."]
    if any(c.restricted for c in table.columns):
        out += ["", "Restricted columns (PII) come back NULL unless the connection string has "
                    "`IncludeRestrictedData=true` (and the app has the restricted role); a query that uses one "
                    "without it is told so once (a shell `note:`, a DB-API `RestrictedColumnsWarning`, a "
                    "PostgreSQL NOTICE)."]
    return out + [""]
