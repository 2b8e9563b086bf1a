"""The table reference, generated from the definitions: ``docs/tables/<definition file>.md`` and an index.

One page per definition file (``vtables/orders-v0.toml`` → ``orders-v0.md``; the Python sections of
``vtables/generic.py`` → ``generic.md``) and ``README.md``, an index of APIs, versions and tables. For every table a
page shows its description, the connection-string key and value that choose its version, its columns (SQL type,
hidden input or not, description, and where a value comes from when not from the row object), what reaches the API
(pushdown: which operators on which columns become which parameter, batch sizes, windows, LIMIT, marketplace
fan-out, ``includedData`` parts), its required filters, the usage plans of the operations it calls and its example.

Everything is read from the specs the loader builds (:mod:`sqlspapi.definitions.schema`), so the docs cannot
disagree with the definitions; the output is deterministic (no dates, definition order) so that
``tests/test_docs_tables.py`` can fail when the committed pages are stale. ``sqlspapi docs`` writes them,
``sqlspapi docs --check`` lists the stale ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlspapi.definitions.loader import DefinitionError, default_version, definitions_dir, entity_source, load_all
from sqlspapi.definitions.schema import (
    BatchSpec,
    ColumnSpec,
    DocumentSpec,
    FilterSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    OperationSpec,
    PythonSpec,
    RouteSpec,
    SectionSpec,
    TableSpec,
    WindowSpec,
)
from sqlspapi.http.progress import duration

__all__ = ["INDEX", "STALE_MESSAGE", "render", "render_index", "pages", "write_all", "check_all", "default_out_dir",
           "page_name"]

#: The name of the index page.
INDEX = "README.md"

#: What to do when the committed pages differ from what the definitions give.
STALE_MESSAGE = "docs/tables is stale: run `sqlspapi docs` (or python -m sqlspapi.interfaces.cli docs)"

_GENERATED = ("<!-- Generated from the definitions by `sqlspapi docs` (sqlspapi/definitions/docgen.py): "
              "do not edit by hand. -->")

_TYPE_NOTES = ("Types: `TIME` is ISO 8601 text compared as instants (`COLLATE ISOTIME`); `JSON` is text usable "
               "with SQLite's JSON functions (`json_extract`, `json_each`); `BOOLEAN` is 0/1.")


# ------------------------------------------------------------------------------------------------ small helpers


def page_name(section: SectionSpec) -> str:
    """The page of a definition file: its stem plus ``.md`` (``vtables/orders-v0.toml`` → ``orders-v0.md``)."""
    return Path(section.source).stem + ".md"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (one line, pipes escaped)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: Any) -> str:
    """Inline code (a backtick-free value)."""
    return f"`{text}`"


def _value(value: Any) -> str:
    """A parameter value as the API receives it (lists comma-joined, booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_value(v) for v in value)
    return str(value)


def _params(params: Mapping[str, Any]) -> str:
    """``k=v`` pairs as inline code, in key order."""
    return ", ".join(_code(f"{k}={_value(v)}") for k, v in sorted(params.items()))


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _ops(ops: Iterable[str]) -> str:
    """Operators as code, ``=`` before ``IN``."""
    return " ".join(_code(op) for op in sorted(ops, key=lambda op: (op != "=", op)))


def _rate(op: OperationSpec) -> str:
    """A usage plan's rate, with the interval it means when slower than one call a second."""
    text = f"{op.rate:g}/s"
    if 0 < op.rate < 1:
        text += f" (one call every {1 / op.rate:.0f} s)"
    return text


# --------------------------------------------------------------------------------------------------- columns


def column_origin(col: ColumnSpec) -> str:
    """Where a column's value comes from, when not from the row object (empty for an ordinary row path)."""
    name = col.path[0] if col.path else ""
    dotted = ".".join(col.path)
    if col.source == "query_param":
        return f"the call's {dotted}"
    if col.source == "path_param":
        return f"path parameter {dotted}"
    if col.source == "connection":
        return f"connection {dotted}"
    if col.source == "parent":
        return f"parent field {dotted}"
    if col.source == "const":
        return f"constant '{name}'"
    if col.name != dotted.replace(".", "_").replace("-", "_"):
        return f"row field {dotted}"
    return ""


def column_flags(col: ColumnSpec) -> str:
    """What the "flags" cell of a column says: a hidden input, restricted data (PII)."""
    return ", ".join(flag for flag, on in (("hidden input", col.hidden), ("restricted (PII)", col.restricted)) if on)


def _columns(table: TableSpec) -> list[str]:
    hidden = [c.name for c in table.columns if c.hidden]
    out = ["### Columns", ""]
    out += _table(["column", "type", "flags", "description", "value from"],
                  ([_code(c.name), c.kind, column_flags(c), c.description, column_origin(c)] for c in table.columns))
    if hidden:
        out += ["", f"Hidden columns are inputs: not in `SELECT *`; give them with `=` in WHERE or as arguments in "
                    f"this order: `{table.name}({', '.join(hidden)})`."]
    if any(c.restricted for c in table.columns):
        out += ["", "Restricted columns (PII) come back NULL unless the connection string has "
                    "`IncludeRestrictedData=true` (and the app has the restricted role); a query that uses one "
                    "without it is told so once (a shell `note:`, a DB-API `RestrictedColumnsWarning`, a "
                    "PostgreSQL NOTICE)."]
    return out + [""]


# -------------------------------------------------------------------------------------------------- pushdown


def _list_filter_row(spec: ListSpec, f: FilterSpec) -> list[str]:
    """One filter of a list route: operators, parameter and notes (batches, exactness, extra parameters)."""
    op = spec.operation.name if spec.operation else spec.kind
    notes = []
    if f.path_param:
        where = f"path parameter {_code(f.path_param)} of {op}"
        notes.append("one call per value")
    else:
        where = f"{_code(f.param)} of {op}"
        if "IN" in f.ops:
            if f.param == spec.marketplace_param and f.batch == 1:
                notes.append("one call per marketplace")
            elif f.batch:
                notes.append(f"IN lists split into calls of at most {f.batch} values")
            else:
                notes.append("the whole IN list in one call")
    if not f.exact:
        notes.append("SQLite re-checks the rows")
    if f.required:
        notes.append("required")
    if f.params:
        notes.append("also sends " + _params(f.params))
    return [_code(f.column), _ops(f.ops), where, "; ".join(notes)]


def _window_rows(spec: ListSpec, w: WindowSpec) -> list[list[str]]:
    """The bounds of one window: lower → After, upper → Before (a missing side is left to SQLite)."""
    op = spec.operation.name if spec.operation else spec.kind
    rows = []
    for ops, param, side in (("> >=", w.after, "lower"), ("< <=", w.before, "upper")):
        notes = []
        if param is None:
            where = "— (SQLite filters it)"
            notes.append(f"the API takes no {side} bound")
        else:
            where = f"{_code(param)} of {op}"
            if side == "upper" and spec.before_min_age_seconds:
                notes.append(f"clamped to now − {spec.before_min_age_seconds} s")
        if w.max_span_days:
            notes.append(f"ranges over {w.max_span_days} days are split into consecutive calls")
        rows.append([_code(w.column), " ".join(_code(o) for o in ops.split()), where, "; ".join(notes)])
    return rows


def _list_notes(table: TableSpec, spec: ListSpec) -> list[str]:
    """Bullet points of a list/window route: windows, marketplaces, derived and fixed parameters, paging."""
    notes = []
    if len(spec.windows) > 1:
        notes.append("Only one window reaches the API per query (the first with a lower bound, else the first with "
                     "any bound); SQLite re-checks every range.")
    elif spec.windows:
        notes.append("SQLite re-checks the exact range bounds.")
    if spec.window_required and spec.windows:
        column = _code(spec.windows[0].column)
        notes.append(f"**Default window:** without a lower bound on {column} the scan starts `LookbackDays` ago "
                     f"(30 days unless the connection says otherwise; {_code(spec.windows[0].after)}), and the user "
                     f"is told (a shell line, a DB-API `DefaultWindowWarning`, a PostgreSQL NOTICE, EXPLAIN). "
                     f"`LookbackDays=all` reads Amazon's full {spec.max_lookback_days} days, as do an upper bound "
                     f"alone and a batched id list (an `IN` filter above). Bounds written through `date()`, casts, "
                     f"`strftime`, `extract(year …)` or `date_trunc` reach the API too.")
    if spec.marketplace_param:
        if spec.marketplace_batch == 1:
            fan = "one call chain per marketplace (fan-out)"
        else:
            fan = f"up to {spec.marketplace_batch} marketplaces per call"
        origin = [c.name for c in table.columns if c.source == "query_param" and c.path[0] == spec.marketplace_param]
        tail = f"; {', '.join(_code(n) for n in origin)} holds the call's marketplace" if origin else ""
        notes.append(f"Without a filter on it, {_code(spec.marketplace_param)} holds the connection's marketplaces, "
                     f"{fan}{tail}.")
    notes += _route_param_notes(spec)
    if spec.next_token:
        how = "alone" if spec.token_only else "with the original parameters"
        notes.append(f"Paging: the token at {_code(spec.next_token)} goes back as {_code(spec.next_param)} {how}."
                     + (f" Tokens live {spec.token_ttl_seconds:g} s: a stale one restarts the chain, skipping the "
                        "rows already read." if spec.token_ttl_seconds else ""))
    if spec.result_ceiling:
        notes.append(f"The API lets at most {spec.result_ceiling} results through one search: a query whose total "
                     "exceeds that is an error, never a silently short answer.")
    return notes


def _route_param_notes(spec: RouteSpec) -> list[str]:
    """Fixed, restricted-data and derived parameters of a route."""
    notes = []
    if spec.params:
        notes.append(f"Always sends {_params(spec.params)}.")
    if spec.restricted_params:
        notes.append(f"With `IncludeRestrictedData=true` also {_params(spec.restricted_params)}.")
    for param, expr in sorted(spec.derived.items()):
        if expr == "$marketplaces":
            source = "the connection's marketplaces"
        elif expr.startswith("$"):
            source = f"connection value {_code(expr[1:])}"
        else:
            source = f"the call's {_code(expr[1:])}"
        notes.append(f"{_code(param)} = {source} (unless a filter sets it).")
    return notes


def _limit_row(spec: ListSpec) -> list[list[str]]:
    """How LIMIT/OFFSET reach a list route (only when nothing is left for SQLite to filter)."""
    when = "only when every other WHERE term is an exact filter above and there is no ORDER BY"
    if spec.windows:
        when += " (a range on a window column is re-checked by SQLite, so it keeps LIMIT in SQLite)"
    if spec.page_size_param and spec.page_size_max:
        where = f"{_code(spec.page_size_param)} = n + m (at most {spec.page_size_max}); paging stops after n + m rows"
    else:
        where = "paging stops after n + m rows"
    return [["`LIMIT n OFFSET m`", "", where, when]]


def _pushdown(section: SectionSpec, table: TableSpec) -> list[str]:
    """The pushdown section: a table of WHERE terms that reach the API, then notes per route."""
    rows: list[list[str]] = []
    notes: list[str] = []
    lst = table.list
    for route in table.routes:
        op = route.operation.name if route.operation else route.kind
        if isinstance(route, GetSpec):
            list_in = lst is not None and any(f.column.lower() == route.column.lower() and "IN" in f.ops
                                              for f in lst.filters)
            ops = {"="} if list_in else {"=", "IN"}
            rows.append([_code(route.column), _ops(ops), f"path parameter {_code(route.path_param)} of {op}",
                         "one call" if list_in else "one call per value"])
        elif isinstance(route, ListSpec):
            rows += [_list_filter_row(route, f) for f in route.filters]
            rows += [r for w in route.windows for r in _window_rows(route, w)]
            rows += _limit_row(route)
            notes += [f"{op}: {n}" for n in _list_notes(table, route)]
            continue
        elif isinstance(route, NestedSpec):
            parent = entity_source([section], route.entity, section.section)
            assert parent.get is not None and parent.get.operation is not None
            rows.append([_code(route.column), _ops({"=", "IN"}),
                         f"{_code(route.items)} of the parent row ({parent.name})",
                         f"required; {parent.get.operation.name} per parent unless the statement already read it"])
        elif isinstance(route, BatchSpec):
            rows.append([_code(route.column), _ops({"=", "IN"}),
                         f"sub-requests of one {op} POST" + (f" (body {_code(route.body)})" if route.body else ""),
                         f"required; at most {route.max_items} values per call"])
            if route.marketplace_column:
                rows.append([_code(route.marketplace_column), _ops({"=", "IN"}), "the sub-requests' marketplace",
                             "otherwise the connection's marketplaces"])
        elif isinstance(route, DocumentSpec):
            assert route.poll is not None and route.get_document is not None
            notes.append(f"Document: {op} creates it, {route.poll.name} polls until {_code(route.status)} is "
                         f"{_code(route.done)}, {route.get_document.name} gives the URL; the download is decoded "
                         f"as {route.format}.")
        elif isinstance(route, PythonSpec):
            rows += [[_code(c.name), _ops({"="}), f"argument {_code(c.name)} of {_code(route.function)}", ""]
                     for c in table.columns if c.hidden]
            notes.append(f"Written in Python: {_code(route.function)} (vtables/) makes the calls.")
        notes += [f"{op}: {n}" for n in _route_param_notes(route)]
    if table.parts is not None:
        notes.append(_parts_note(table))
    if table.hook:
        notes.append(f"Each object the API returns passes through the hook {_code(table.hook)} (vtables/), which "
                     "reshapes it into the rows.")
    kinds = ", ".join(r.kind for r in table.routes)
    out = ["### Pushdown", "", f"Routes, in the order the planner tries them: {kinds}. Terms not listed here are "
           "filtered by SQLite after the calls.", ""]
    out += _table(["WHERE on", "operators", "reaches the API as", "notes"], rows) if rows else []
    out += ([""] if rows else []) + [f"- {n}" for n in notes]
    return out + ([""] if notes else [])


def _parts_note(table: TableSpec) -> str:
    """Which columns make the query ask for which part of ``includedData`` (or its equivalent)."""
    parts = table.parts
    assert parts is not None
    by_part = {p: [c.name for c in table.columns if c.source == "row" and c.path and c.path[0] == p]
               for p in parts.names}
    listed = "; ".join(f"{_code(p)} when the query uses {', '.join(_code(n) for n in names)}"
                       for p, names in by_part.items() if names)
    wanted = ",".join(parts.always or parts.names[:1])
    fallback = _code(wanted)
    if not listed:
        return f"Sends {_code(f'{parts.param}={wanted}')}."
    always = f" Always asked for: {', '.join(_code(p) for p in parts.always)}." if parts.always else \
        f" A query using none of them asks for {fallback}."
    return f"{_code(parts.param)} is chosen from the columns the query uses (SQLite's colUsed): {listed}.{always}"


# ------------------------------------------------------------------------------------------ required filters


def _required(table: TableSpec) -> list[str]:
    """Filters without which the table refuses to run (the error names them)."""
    items = []
    for route in table.routes:
        if isinstance(route, ListSpec):
            items += [f"{_code(f.column)} ({_ops(f.ops)})" for f in route.filters if f.required]
        elif isinstance(route, NestedSpec):
            items.append(f"{_code(route.column)} (`=` `IN`): the parent key")
        elif isinstance(route, BatchSpec):
            items.append(f"{_code(route.column)} (`=` `IN`)")
    items += ["one of " + ", ".join(_code(c) for c in group) for group in table.one_of]
    out = ["### Required filters", ""]
    if not items:
        out.append("None: a plain `SELECT * FROM " + table.name + "` runs.")
    else:
        out += [f"- {item}" for item in items]
    if table.required_hint:
        out += ["", "When one is missing the error suggests:", "", "```sql", table.required_hint, "```"]
    if table.restricted:
        out += ["", "Restricted data: the table refuses to run without `IncludeRestrictedData=true`."]
    return out + [""]


# ------------------------------------------------------------------------------------------------ usage plans


def table_operations(section: SectionSpec, table: TableSpec) -> list[OperationSpec]:
    """The operations a table's routes call, in route order (a nested table calls its parent's get)."""
    found: list[OperationSpec] = []
    for route in table.routes:
        ops = [route.operation]
        if isinstance(route, DocumentSpec):
            ops += [route.poll, route.get_document]
        if isinstance(route, NestedSpec):
            parent_get = entity_source([section], route.entity, section.section).get
            ops.append(parent_get.operation if parent_get else None)
        found += [op for op in ops if op is not None and op not in found]
    return found


def _usage(section: SectionSpec, table: TableSpec) -> list[str]:
    ops = table_operations(section, table)
    out = ["### Usage plans", ""]
    if not ops:
        return out + ["Decided by the Python function: each call is paced on the usage plan of the operation its "
                      "path matches (an undeclared path: 0.5/s, burst 1, until Amazon's "
                      "`x-amzn-RateLimit-Limit` says better).", ""]
    pages = {r.operation.name: r.page_size_max if isinstance(r, ListSpec) else 1 for r in table.routes
             if r.operation is not None and (isinstance(r, GetSpec) or isinstance(r, ListSpec) and r.page_size_max)}
    rows = [[op.name, f"{op.method} {_code(op.path)}", _rate(op), str(op.burst), _pace(op, pages.get(op.name)),
             "yes (RDT with `IncludeRestrictedData=true`)" if op.restricted else ""] for op in ops]
    return out + _table(["operation", "request", "rate", "burst", f"{PACE_ROWS:,} rows take", "restricted"],
                        rows) + ["", _PACE_NOTE, ""]


#: The row count the docs time each list operation on.
PACE_ROWS = 10_000

_PACE_NOTE = (f"*{PACE_ROWS:,} rows take*: the wall time of reading {PACE_ROWS:,} rows through the operation at "
              "Amazon's published pace, starting with a full burst (pages of the largest size; a date range split "
              "into several calls, or several marketplaces, add calls). `EXPLAIN QUERY PLAN` gives the estimate "
              "for a query at the account's current rate-limit state.")


def _pace(op: OperationSpec, page_size: int | None) -> str:
    """How long :data:`PACE_ROWS` rows take through a list operation with pages of ``page_size`` rows."""
    if not page_size:
        return ""
    pages = -(-PACE_ROWS // page_size)
    wait = max(0, pages - op.burst) / op.rate if op.rate > 0 else 0.0
    unit = "pages" if page_size > 1 else "calls (one per row)"
    return f"{pages:,} {unit}, ~{duration(wait) if wait else 'no wait'}"


# ------------------------------------------------------------------------------------------------------ pages


def _default_of(section: SectionSpec) -> str:
    """The default version of the section's version key (its own version when the key is unknown)."""
    try:
        return default_version(section.version_key)
    except (KeyError, DefinitionError):
        return section.version


def _version_text(section: SectionSpec) -> str:
    """How a connection chooses this section's version."""
    if not section.version_key:
        return "Always available (no version key)."
    choose = _code(f"{section.version_key}={section.version}")
    default = _default_of(section)
    if default == section.version:
        return f"{choose} in the connection string — the default (used when the key is absent)."
    return f"{choose} in the connection string (the default is {_code(default)})."


def _table_section(section: SectionSpec, table: TableSpec) -> list[str]:
    out = [f"## {table.name}", "", table.description, "", f"**Version:** {_version_text(section)}", ""]
    out += _columns(table) + _pushdown(section, table) + _required(table) + _usage(section, table)
    if table.example:
        out += ["### Example", "", "```sql", table.example.strip(), "```", ""]
    return out


def render(section: SectionSpec) -> str:
    """The markdown page of one definition file (one section at one version)."""
    title = f"{section.title or section.section} ({section.version})"
    head = f"Definition: `{section.source}`"
    if section.model:
        head += f" · Amazon's model: `{section.model}`"
    out = [_GENERATED, "", f"# {title}", "", head + ".", "", f"Version: {_version_text(section)}", "", _TYPE_NOTES,
           ""]
    if section.deprecation:
        out += [f"> **Deprecated:** {section.deprecation}", ""]
    if section.tables:
        out += ["Tables: " + ", ".join(f"[{name}](#{name})" for name in section.tables) + ".", ""]
    else:
        out += ["No tables are defined for this version yet.", ""]
    for table in section.tables.values():
        out += _table_section(section, table)
    if section.operations:
        declared = [[op.name, f"{op.method} {_code(op.path)}", _rate(op), str(op.burst)]
                    for op in section.operations.values()]
        out += ["## Operations", "", "Declared in the definition with Amazon's published usage plans.", ""]
        out += _table(["operation", "request", "rate", "burst"], declared) + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_index(sections: Sequence[SectionSpec]) -> str:
    """The index page: APIs with their versions and version keys, then every table with its description."""
    apis = [[f"[{s.title or s.section}]({page_name(s)})", s.version,
             _code(s.version_key) if s.version_key else "—",
             "always on" if not s.version_key else ("yes" if _default_of(s) == s.version else "no"),
             str(len(s.tables))] for s in sections]
    tables = [[f"[{t.name}]({page_name(s)}#{t.name})", f"{s.title or s.section} {s.version}", t.description]
              for s in sections for t in s.tables.values()]
    out = [_GENERATED, "", "# Table reference", "",
           "One page per definition file in `vtables/`, generated by `sqlspapi docs` from the definitions (the "
           "language: [definition-language.md](../definition-language.md); adding an API: "
           "[adding-an-api.md](../adding-an-api.md)). A connection chooses each API's version with its version key.",
           "", "## APIs", ""]
    out += _table(["API", "version", "version key", "default", "tables"], apis)
    out += ["", "## Tables", ""] + _table(["table", "API", "description"], tables)
    return "\n".join(out) + "\n"


def pages(sections: Sequence[SectionSpec] | None = None) -> dict[str, str]:
    """Every page by file name: one per definition file (sections sharing a file share its page), and the index."""
    sections = tuple(load_all() if sections is None else sections)
    out: dict[str, str] = {}
    for section in sections:
        name = page_name(section)
        out[name] = out[name] + "\n" + render(section) if name in out else render(section)
    out[INDEX] = render_index(sections)
    return out


def default_out_dir() -> Path:
    """``docs/tables`` of the source checkout the definitions come from, else of the current directory."""
    root = definitions_dir().parent
    return root / "docs" / "tables" if (root / "docs").is_dir() else Path.cwd() / "docs" / "tables"


def write_all(out_dir: Path | str | None = None) -> list[Path]:
    """Write every page into ``out_dir`` (default :func:`default_out_dir`) and delete ``.md`` files no definition
    gives any more; returns the pages written, in name order."""
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for old in out.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    written = []
    for name, text in sorted(wanted.items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_all(out_dir: Path | str | None = None) -> list[str]:
    """The names of the stale pages in ``out_dir``: missing, different, or no longer generated (empty = fresh)."""
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    wanted = pages()
    stale = [name for name, text in wanted.items()
             if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text]
    stale += [p.name for p in out.glob("*.md") if p.name not in wanted] if out.is_dir() else []
    return sorted(stale)
