"""Pushdown, required filters and usage plans of a table in the generated reference
(:mod:`sqlspapi.definitions.docgen`): which WHERE terms reach which API parameter, what a table refuses to run
without, and the published usage plans of the operations it calls.

Pure functions of the specs (:mod:`sqlspapi.definitions.schema`); report tables get their rows and notes from
:mod:`sqlspapi.definitions.docgen_report`.
"""

from __future__ import annotations

from sqlspapi.definitions import docgen_text as md
from sqlspapi.definitions.docgen_report import report_notes, report_operations, report_rows
from sqlspapi.definitions.loader import entity_source
from sqlspapi.definitions.schema import (
    BatchSpec,
    DocumentSpec,
    FilterSpec,
    GetSpec,
    ListSpec,
    NestedSpec,
    OperationSpec,
    PythonSpec,
    ReportSpec,
    RouteSpec,
    SectionSpec,
    TableSpec,
    WindowSpec,
)
from sqlspapi.http.progress import duration

__all__ = ["PACE_ROWS", "pushdown", "required", "usage", "table_operations"]


# -------------------------------------------------------------------------------------------------- pushdown


def _list_filter_row(spec: ListSpec, f: FilterSpec) -> list[str]:
    """One filter of a list route: operators, parameter and notes (batches, exactness, extra parameters)."""
    op = spec.operation.name if spec.operation else spec.kind
    notes = []
    if f.path_param:
        where = f"path parameter {md.code(f.path_param)} of {op}"
        notes.append("one call per value")
    else:
        where = f"{md.code(f.param)} of {op}"
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
    if f.values:
        notes.append(f"without it, one call per batch of its {len(f.values)} known values "
                     f"({', '.join(md.code(v) for v in f.values)})")
    if f.params:
        notes.append("also sends " + md.params(f.params))
    return [md.code(f.column), md.ops(f.ops), where, "; ".join(notes)]


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
            where = f"{md.code(param)} of {op}"
            if side == "upper" and spec.before_min_age_seconds:
                notes.append(f"clamped to now − {spec.before_min_age_seconds} s")
        if w.max_span_days:
            notes.append(f"ranges over {w.max_span_days} days are split into consecutive calls")
        rows.append([md.code(w.column), " ".join(md.code(o) for o in ops.split()), where, "; ".join(notes)])
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
        column = md.code(spec.windows[0].column)
        notes.append(f"**Default window:** without a lower bound on {column} the scan starts `LookbackDays` ago "
                     f"(30 days unless the connection says otherwise; {md.code(spec.windows[0].after)}), and the user "
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
        tail = f"; {', '.join(md.code(n) for n in origin)} holds the call's marketplace" if origin else ""
        notes.append(f"Without a filter on it, {md.code(spec.marketplace_param)} holds the connection's marketplaces, "
                     f"{fan}{tail}.")
    notes += _route_param_notes(spec)
    if spec.next_token:
        how = "alone" if spec.token_only else "with the original parameters"
        notes.append(f"Paging: the token at {md.code(spec.next_token)} goes back as {md.code(spec.next_param)} {how}."
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
        notes.append(f"Always sends {md.params(spec.params)}.")
    if spec.restricted_params:
        notes.append(f"With `IncludeRestrictedData=true` also {md.params(spec.restricted_params)}.")
    for param, expr in sorted(spec.derived.items()):
        if expr == "$marketplaces":
            source = "the connection's marketplaces"
        elif expr.startswith("$"):
            source = f"connection value {md.code(expr[1:])}"
        else:
            source = f"the call's {md.code(expr[1:])}"
        notes.append(f"{md.code(param)} = {source} (unless a filter sets it).")
    return notes


def _limit_row(spec: ListSpec) -> list[list[str]]:
    """How LIMIT/OFFSET reach a list route (only when nothing is left for SQLite to filter)."""
    when = "only when every other WHERE term is an exact filter above and there is no ORDER BY"
    if spec.windows:
        when += " (a range on a window column is re-checked by SQLite, so it keeps LIMIT in SQLite)"
    if spec.page_size_param and spec.page_size_max:
        where = f"{md.code(spec.page_size_param)} = n + m (at most {spec.page_size_max}); paging stops after n + m rows"
    else:
        where = "paging stops after n + m rows"
    return [["`LIMIT n OFFSET m`", "", where, when]]


def pushdown(section: SectionSpec, table: TableSpec) -> list[str]:
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
            rows.append([md.code(route.column), md.ops(ops), f"path parameter {md.code(route.path_param)} of {op}",
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
            rows.append([md.code(route.column), md.ops({"=", "IN"}),
                         f"{md.code(route.items)} of the parent row ({parent.name})",
                         f"required; {parent.get.operation.name} per parent unless the statement already read it"])
        elif isinstance(route, BatchSpec):
            rows.append([md.code(route.column), md.ops({"=", "IN"}),
                         f"sub-requests of one {op} POST" + (f" (body {md.code(route.body)})" if route.body else ""),
                         f"required; at most {route.max_items} values per call"])
            rows += [[md.code(c), md.ops({"="}), "each sub-request's input",
                      ("required; " if c in route.required else "")
                      + (f"default {md.code(str(route.defaults[c]))}" if c in route.defaults else "optional")]
                     for c in route.inputs if c != route.marketplace_column]
            if route.marketplace_column:
                rows.append([md.code(route.marketplace_column), md.ops({"=", "IN"}), "the sub-requests' marketplace",
                             "otherwise the connection's marketplaces"])
        elif isinstance(route, DocumentSpec):
            assert route.poll is not None and route.get_document is not None
            where = f"the {md.code(route.graphql.partition('.')[2])} query" if route.graphql else f"the {op} body"
            rows += [[md.code(c), "`>` `>=` `<` `<=`", f"`startDate` / `endDate` of {where}", "whole periods of the "
                      "date granularity; SQLite re-checks the rows"] for c in route.window]
            rows += [[md.code(c), md.ops({"=", "IN"}), f"`marketplaceIds` of {where}", "ids or country codes, all "
                      "in one query; else the connection's marketplaces"] for c in filter(None, [route.marketplace])]
            rows += [[md.code(c.name), md.ops({"="}), f"input of {where}", " ".join(md.code(v) for v in
                      route.enums.get(c.name, ()))] for c in table.columns if c.hidden]
            notes.append(f"Document: {op} creates it, {route.poll.name} polls until {md.code(route.status)} is "
                         f"{md.code(route.done)}, {route.get_document.name} gives the URL; the download is decoded "
                         f"as {route.format}. A query DONE within `ReportMaxAgeMinutes` is reused, one left running is "
                         "resumed, documents are cached (as report tables do).")
            if route.graphql:
                keys = f" (and {', '.join(md.code(k) for k in route.keys)})" if route.keys else ""
                notes.append(f"The GraphQL query asks only for the fields of the columns the SQL uses{keys}. Without "
                             "a lower bound on the window the query covers `LookbackDays` whole days, and the user is "
                             "told.")
            if route.next_token:
                notes.append(f"Pages: a DONE job with {md.code(route.next_token)} is followed by the same request with "
                             f"{md.code(route.next_param)}, until none.")
        elif isinstance(route, ReportSpec):
            rows += report_rows(table, route)
            notes += report_notes(table, route)
            continue
        elif isinstance(route, PythonSpec):
            rows += [[md.code(c.name), md.ops({"="}), f"argument {md.code(c.name)} of {md.code(route.function)}", ""]
                     for c in table.columns if c.hidden]
            notes.append(f"Written in Python: {md.code(route.function)} (vtables/) makes the calls.")
        notes += [f"{op}: {n}" for n in _route_param_notes(route)]
    if table.parts is not None:
        notes.append(_parts_note(table))
    if table.hook:
        notes.append(f"Each object the API returns passes through the hook {md.code(table.hook)} (vtables/), which "
                     "reshapes it into the rows.")
    kinds = ", ".join(r.kind for r in table.routes)
    out = ["### Pushdown", "", f"Routes, in the order the planner tries them: {kinds}. Terms not listed here are "
           "filtered by SQLite after the calls.", ""]
    out += md.md_table(["WHERE on", "operators", "reaches the API as", "notes"], rows) if rows else []
    out += ([""] if rows else []) + [f"- {n}" for n in notes]
    return out + ([""] if notes else [])


def _parts_note(table: TableSpec) -> str:
    """Which columns make the query ask for which part of ``includedData`` (or its equivalent)."""
    parts = table.parts
    assert parts is not None
    by_part = {p: [c.name for c in table.columns if c.source == "row" and c.path and c.path[0] == p]
               for p in parts.names}
    listed = "; ".join(f"{md.code(p)} when the query uses {', '.join(md.code(n) for n in names)}"
                       for p, names in by_part.items() if names)
    wanted = ",".join(parts.always or parts.names[:1])
    fallback = md.code(wanted)
    if not listed:
        return f"Sends {md.code(f'{parts.param}={wanted}')}."
    always = f" Always asked for: {', '.join(md.code(p) for p in parts.always)}." if parts.always else \
        f" A query using none of them asks for {fallback}."
    return f"{md.code(parts.param)} is chosen from the columns the query uses (SQLite's colUsed): {listed}.{always}"


# ------------------------------------------------------------------------------------------ required filters


def required(table: TableSpec) -> list[str]:
    """Filters without which the table refuses to run (the error names them)."""
    per_route: list[list[str]] = []
    for route in table.routes:
        needs: list[str] = []
        if isinstance(route, ListSpec):
            needs += [f"{md.code(f.column)} ({md.ops(f.ops)})" for f in route.filters if f.required]
        elif isinstance(route, NestedSpec):
            needs.append(f"{md.code(route.column)} (`=` `IN`): the parent key")
        elif isinstance(route, BatchSpec | GetSpec):
            needs.append(f"{md.code(route.column)} (`=` `IN`)")
        per_route.append(needs)
    if any(not needs for needs in per_route):
        items = []  # some route runs without a filter: nothing is required of the table
    elif len(per_route) == 1:
        items = per_route[0]
    else:  # each route needs its own filter: any one of them will do
        items = ["one of (each reaches the API by its own route): " + "; ".join(", ".join(n) for n in per_route)]
    items += ["one of " + ", ".join(md.code(c) for c in group) for group in table.one_of]
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
        if isinstance(route, ReportSpec):
            ops = list(report_operations(route))
        if isinstance(route, NestedSpec):
            parent_get = entity_source([section], route.entity, section.section).get
            ops.append(parent_get.operation if parent_get else None)
        found += [op for op in ops if op is not None and op not in found]
    return found


def usage(section: SectionSpec, table: TableSpec) -> list[str]:
    """The usage plans section: the operations a table calls, their published rates and bursts, and how long
    :data:`PACE_ROWS` rows take through the paged ones."""
    ops = table_operations(section, table)
    out = ["### Usage plans", ""]
    if not ops:
        return out + ["Decided by the Python function: each call is paced on the usage plan of the operation its "
                      "path matches (an undeclared path: 0.5/s, burst 1, until Amazon's "
                      "`x-amzn-RateLimit-Limit` says better).", ""]
    pages = {r.operation.name: r.page_size_max if isinstance(r, ListSpec) else 1 for r in table.routes
             if r.operation is not None and (isinstance(r, GetSpec) or isinstance(r, ListSpec) and r.page_size_max)}
    rows = [[op.name, f"{op.method} {md.code(op.path)}", md.rate(op), str(op.burst), _pace(op, pages.get(op.name)),
             "yes (RDT with `IncludeRestrictedData=true`)" if op.restricted
             else f"grantless (LWA scope {md.code(op.grantless)})" if op.grantless else ""] for op in ops]
    header = ["operation", "request", "rate", "burst", f"{PACE_ROWS:,} rows take", "restricted / grant"]
    if table.route("report") is not None:  # reports are not paged: no pace column
        return out + md.md_table(header[:4] + header[5:], [row[:4] + row[5:] for row in rows]) + [""]
    return out + md.md_table(header, rows) + ["", _PACE_NOTE, ""]


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
