"""The ``batch`` route: POSTs carrying up to ``max_items`` sub-requests each (Product Pricing and Product Fees).

**Inputs.** The definition's key ``column`` takes ``=`` or ``IN`` (an ``IN`` list arrives whole); each other input
column (``inputs``: hidden table-valued-function arguments, e.g. ``fees_estimates(sku, price)``) takes ``=``; the
``marketplace_column`` takes ``=`` or ``IN``, and when the query gives none, each value is asked for in each of
the connection's marketplaces. Inputs not given take the definition's ``defaults``; a NULL argument is "not
given". Values are typed by their column: a REAL input is a number in the sub-request, a BOOLEAN true/false.

**Sub-requests.** Each distinct set of inputs fills the ``template`` once (``{name}`` placeholders; a string that
is exactly one placeholder becomes the typed value, and disappears when the input has none); the ``prepare`` hook
may derive more inputs first (the currency of the marketplace). ``{ref}`` is a digest of the inputs, so an answer
that echoes it (``match``) pairs with its sub-request. The sub-requests are sent ``max_items`` per call: prices
for 100 ASINs are 5 calls of 20.

**Batching a join.** SQLite runs a join as a nested loop and calls Filter once per row of the outer table, so
``SELECT … FROM listings l JOIN fees_estimates(l.sku, l.price) f`` binds this route once per listing: one call per
row, each carrying one sub-request. That is correct and each distinct input is called once per statement (a
sub-response already answered is reused, :meth:`~sqlspapi.sql.statement.StatementScope.memo`), but it is slow; a
statement that makes such calls repeatedly is told how to batch them (a :class:`~sqlspapi.errors.SlowStatementWarning`
notice). The batched forms send 20 per call:

- a visible key: ``WHERE asin IN (SELECT asin FROM …)`` — the whole list arrives at once;
- a hidden key: a JSON array as its argument, one element per sub-request — an object of inputs by column name (the
  other arguments are defaults for every element) or a bare key value::

      SELECT * FROM fees_estimates((SELECT json_group_array(json_object('identifier', seller_sku, 'price', price))
                                   FROM merchant_listings_all_data WHERE marketplaceId = 'ATVPDKIKX0DER'))

**Answers.** The sub-responses (at ``rows``) are paired with their sub-requests by ``match`` (else by position); a
sub-request left without an answer is an ``IncompleteResponse`` error, never a silently shorter result. Each
sub-response gives the object at ``row``, one row per element of the array at ``explode`` (the element in the
array's place; an empty or missing array gives one row with it NULL), and its sub-request's inputs as the row's
parent (``^name`` columns). With ``status`` declared, a failed sub-response is a row whose status and error columns
say why; without it, a 404 sub-response is no row (nothing found) and any other failure raises. A whole call that
fails raises as any call does (retried first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import BatchSpec, RouteSpec, TableSpec
from sqlspapi.errors import ProgrammingError, SlowStatementWarning
from sqlspapi.http.apierrors import incomplete_error
from sqlspapi.http.response import Envelope
from sqlspapi.sql.cost import Calls, CostEnv
from sqlspapi.sql.hooks import load_function
from sqlspapi.sql.plan import (
    EQ,
    IMPOSSIBLE_COST,
    UNKNOWN,
    Arg,
    BindContext,
    Bound,
    Choice,
    Constraint,
    Plan,
    Request,
    Row,
)
from sqlspapi.sql.routes.base import Route, Scope, as_text, base_query, describe, missing_groups, usable_on
from sqlspapi.sql.routes.subrequests import (
    body_subs,
    canonical,
    fill,
    pair_answers,
    post_body,
    sub_rows,
    typed_input,
)
from sqlspapi.sql.rows import as_rows, dig

__all__ = ["BatchRoute", "sub_rows", "fill", "MAX_ANSWERS"]

#: Sub-responses one statement keeps for re-use (a join that binds a table once per row asks each input once).
MAX_ANSWERS = 2_000


class BatchRoute(Route):
    """Inputs in, batched POSTs out, one row per sub-response (or per element of its exploded array)."""

    kind = "batch"

    def choose(self, table: TableSpec, spec: RouteSpec, constraints: Sequence[Constraint], n_orderby: int,
               used: frozenset[int] | None) -> Choice:
        """The key is required; the key and marketplace take ``IN`` lists whole, the other inputs one value."""
        assert isinstance(spec, BatchSpec)
        usage: list[tuple[int, int, bool, bool]] = []
        args: list[Arg] = []
        shown: list[Constraint] = []
        for column in spec.input_columns():
            found = usable_on(table, constraints, column, EQ)
            if not found:
                continue
            i, c = found[0]
            whole = c.is_in and column in (spec.column, spec.marketplace_column)
            role = "key" if column == spec.column else "marketplace" if column == spec.marketplace_column \
                else "input"
            usage.append((i, len(usage) + 1, True, whole))
            args.append(Arg(role, column, is_in=whole))
            shown.append(c)
        missing = list(missing_groups(table, args, [spec.column]))
        key = next((c for a, c in zip(args, shown, strict=True) if a.role == "key"), None)
        if key is not None and key.rhs is not UNKNOWN and not _json_array(table, spec, key.rhs):
            have = {a.column for a in args}
            missing += [n for n in spec.required if n not in have and n not in spec.defaults]
        plan = describe(Plan(table, spec, tuple(args), missing=tuple(missing), columns_used=used), shown, self)
        if missing:
            return Choice(plan, usage, cost=IMPOSSIBLE_COST, rows=2**62)
        return Choice(plan, usage, cost=10.0, rows=20)

    def note(self, plan: Plan) -> str:
        """How many sub-requests one call carries."""
        assert isinstance(plan.route, BatchSpec)
        return f"{plan.route.max_items} sub-requests per call"

    def calls(self, plan: Plan, env: CostEnv) -> Calls:
        """One call per ``max_items`` sub-requests; unknown when a join gives the key one row at a time."""
        spec = plan.route
        assert isinstance(spec, BatchSpec)
        if _per_row(plan):
            return Calls(spec.operation, None, basis="one call per distinct input the join gives, row by row; pass "
                                                      "the inputs at once to send them "
                                                      f"{spec.max_items} per call")
        return Calls(spec.operation, 1.0, per=f"{spec.max_items} sub-requests")

    def bind(self, plan: Plan, values: Sequence[Any], ctx: BindContext) -> Bound:
        """The sub-requests (one per distinct set of inputs), ``max_items`` per request."""
        spec = plan.route
        table = plan.table
        assert isinstance(spec, BatchSpec) and spec.operation is not None
        given: dict[str, Any] = {}
        nulls: set[str] = set()
        keys: list[Any] = []
        markets: list[Any] = []
        json_form = False
        for arg, value in zip(plan.args, values, strict=True):
            if value is None:
                nulls.add(arg.column)  # a NULL argument is "not given": the default applies (none: no row)
                continue
            if arg.role == "key":
                items = sorted(value, key=as_text) if arg.is_in else [value]
                if not arg.is_in and _json_array(table, spec, value):
                    items, json_form = json.loads(value), True
                keys += [v for v in items if v is not None]
            elif arg.role == "marketplace":
                markets += sorted(value, key=as_text) if arg.is_in else [value]
            else:
                given[arg.column] = typed_input(table, arg.column, value)
        subs: dict[str, tuple[Any, dict[str, Any]]] = {}
        for n, item in enumerate(keys):
            for inputs in self._inputs(table, spec, item, n, given, nulls, markets, ctx):
                sub = fill(spec.template, inputs, table.name)
                subs.setdefault(canonical(sub), (sub, inputs))
        chunks = [list(subs.values())[i:i + spec.max_items] for i in range(0, len(subs), spec.max_items)]
        query = base_query(spec, ctx.include_restricted)
        requests = [Request(spec.operation, {}, query, post_body(spec, [s for s, _ in chunk])) for chunk in chunks]
        per_row = _per_row(plan) and not json_form
        return Bound(requests, inputs={"subs": [[i for _, i in chunk] for chunk in chunks], "per_row": per_row,
                                       "notify": ctx.notice})

    def _inputs(self, table: TableSpec, spec: BatchSpec, item: Any, n: int, given: Mapping[str, Any],
                nulls: Collection[str], markets: Sequence[Any], ctx: BindContext) -> Iterator[dict[str, Any]]:
        """The inputs of the sub-requests one key value (or JSON element) makes: one per marketplace.

        A required input that is NULL (an argument, or a JSON element's field) makes none — as ``= NULL`` matches no
        row: an order without a price has no fee estimate; one that is absent is an error saying what to give.
        """
        base = {name: typed_input(table, name, v) for name, v in spec.defaults.items()}
        base.update(given)
        if isinstance(item, Mapping):
            nulls = {str(f).lower() for f, v in item.items() if v is None}
            names = {c.lower(): c for c in spec.input_columns()}
            for field, value in item.items():
                name = names.get(str(field).lower())
                if name is None:
                    raise ProgrammingError(f"{table.name}: element {n + 1} of the JSON array has {field!r}, which is "
                                           f"not an input (inputs: {', '.join(spec.input_columns())})")
                if value is not None:
                    base[name] = typed_input(table, name, value)
        elif not isinstance(item, list):
            base[spec.column] = typed_input(table, spec.column, item)
        key = base.get(spec.column)
        if key is None or not as_text(key).strip():
            if isinstance(item, Mapping) or table.columns[table.column_index(spec.column)].hidden:
                raise ProgrammingError(f"{table.name}: element {n + 1} of the input has no {spec.column}")
            return  # an empty key value matches no row: no call
        mc = spec.marketplace_column
        chosen = [base[mc]] if mc and base.get(mc) is not None else list(markets) or \
            (list(ctx.marketplace_ids()) if mc else [None])
        for market in chosen:
            inputs = dict(base)
            if mc:
                inputs[mc] = typed_input(table, mc, market)
            inputs["value"], inputs["marketplace"] = inputs[spec.column], inputs.get(mc) if mc else None
            if spec.prepare:
                inputs = dict(load_function(spec.prepare)(inputs))
            lacking = [r for r in spec.required if inputs.get(r) is None]
            if lacking and all(r in nulls or r.lower() in nulls for r in lacking):
                return  # NULL: no sub-request, no row
            if lacking:
                raise ProgrammingError(
                    f"{table.name} needs {' and '.join(lacking)} for {spec.column} {as_text(inputs['value'])!r}: "
                    f"pass it as an argument, or as a field of each element of a JSON array "
                    f"({_example(table, spec)})")
            inputs["ref"] = hashlib.sha256(canonical(inputs).encode()).hexdigest()[:16]
            yield inputs

    def fetch(self, plan: Plan, bound: Bound, scope: Scope) -> Iterator[Row]:
        """Each sub-response's rows, calling only for the sub-requests this statement has not had answered (the
        last :data:`MAX_ANSWERS` sub-responses are kept for the statement)."""
        spec = plan.route
        assert isinstance(spec, BatchSpec) and spec.operation is not None
        op = spec.operation
        answered = scope.memo(f"batch:{op.version}:{op.name}")
        for req, inputs in zip(bound.requests, bound.inputs.get("subs", []), strict=True):
            subs = body_subs(spec, req.body)
            keys = [canonical(s) for s in subs]
            got = {key: answered.pop(key) for key in keys if key in answered}
            answered.update(got)  # the most recently used last
            todo = [k for k, key in enumerate(keys) if key not in got]
            if todo:
                got.update(self._send(plan, req, [subs[k] for k in todo], [keys[k] for k in todo],
                                      [inputs[k] for k in todo], scope))
                answered.update((key, got[key]) for key in keys)
                while len(answered) > MAX_ANSWERS:
                    del answered[next(iter(answered))]
                if bound.inputs.get("per_row"):
                    self._per_row_notice(plan, scope, bound)
            for key, given in zip(keys, inputs, strict=True):
                for obj, parent in sub_rows(spec, got[key], given, op):
                    yield obj, req, parent

    def _send(self, plan: Plan, req: Request, subs: list[Any], keys: list[str], inputs: list[dict[str, Any]],
              scope: Scope) -> dict[str, Any]:
        """One call for the sub-requests not answered yet: each sub-response by its sub-request's key."""
        spec = plan.route
        assert isinstance(spec, BatchSpec) and spec.operation is not None
        response = scope.send(spec.operation, req.path, req.query, post_body(spec, subs),
                              expect=Envelope(rows=spec.rows))
        answers = as_rows(dig(response.json, spec.rows) if spec.rows else response.json)
        paired = pair_answers(spec, answers, inputs)
        missing = [k for k in range(len(subs)) if k not in paired]
        if missing:
            what = (f"{len(missing)} of its {len(subs)} sub-requests have no sub-response (first: "
                    f"{plan.table.name} {spec.column} {as_text(inputs[missing[0]]['value'])!r})")
            raise incomplete_error(spec.operation, response.status, what, response.request_id, 0)
        return {keys[k]: answer for k, answer in paired.items()}

    def _per_row_notice(self, plan: Plan, scope: Scope, bound: Bound) -> None:
        """From the second call a row-by-row join makes, tell the user (once) how to send the inputs together."""
        spec = plan.route
        assert isinstance(spec, BatchSpec) and spec.operation is not None
        count = scope.memo(f"batch-rows:{plan.table.name}")
        count["calls"] = count.get("calls", 0) + 1
        if count["calls"] == 2:
            bound.inputs["notify"](
                f"{plan.table.name}: this statement calls {spec.operation.name} once per row of a join (each call "
                f"carries one sub-request; one can carry {spec.max_items}): {_example(plan.table, spec)} sends "
                f"them {spec.max_items} per call.", SlowStatementWarning)


# ------------------------------------------------------------------------------------------------- helpers


def _per_row(plan: Plan) -> bool:
    """Whether the key is one value not known when planning (a join, a ``?`` parameter): bound once per row."""
    return any(a.role == "key" and not a.is_in and v is UNKNOWN for a, v in zip(plan.args, plan.values, strict=False))


def _json_array(table: TableSpec, spec: BatchSpec, value: Any) -> bool:
    """Whether a hidden key's value is the batched form: the text of a JSON array."""
    if not isinstance(value, str) or not value.lstrip().startswith("[") \
            or not table.columns[table.column_index(spec.column)].hidden:
        return False
    try:
        return isinstance(json.loads(value), list)
    except ValueError:
        return False


def _example(table: TableSpec, spec: BatchSpec) -> str:
    """The batched form of a query on this table, for messages."""
    if table.columns[table.column_index(spec.column)].hidden:
        fields = ", ".join(f"'{n}', …" for n in (spec.column, *spec.required))
        return f"{table.name}((SELECT json_group_array(json_object({fields})) FROM …))"
    return f"WHERE {spec.column} IN (SELECT … FROM …)"
