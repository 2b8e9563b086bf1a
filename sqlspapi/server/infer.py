"""PostgreSQL's names and types for sqlglot ASTs: result column names, result types, parameter types.

``name_results`` aliases unaliased result expressions as PostgreSQL's FigureColname names them (``count(*)`` →
``count``, ``x::int`` → ``x``, ``1::int`` → ``int4``, ``CASE`` → ``case`` …) and folds unquoted names to lower case;
``infer_type`` gives the static type of an expression (``count`` → int8, comparisons → bool, casts → their type) and
``param_oid`` the type of ``$n`` from its context (the compared column's declared type, LIMIT → int8, else text).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from . import pgtypes

FUNCTION_NAMES = {
    "StrPosition": "strpos", "TimestampTrunc": "date_trunc", "DateTrunc": "date_trunc", "TimeToStr": "to_char",
    "CurrentTimestamp": "now", "CurrentVersion": "version", "GroupConcat": "string_agg", "ArrayAgg": "array_agg",
    "Substring": "substring", "CurrentDate": "current_date", "CurrentSchema": "current_schema",
    "CurrentUser": "current_user", "SessionUser": "session_user", "CurrentCatalog": "current_catalog",
    "Length": "length", "Lower": "lower", "Upper": "upper", "StddevSamp": "stddev_samp", "ApproxDistinct": "count",
    "GenerateSeries": "generate_series", "ExplodingGenerateSeries": "generate_series",
}
_INFERRED: dict[type, int] = {exp.Count: pgtypes.INT8, exp.Avg: pgtypes.FLOAT8, exp.Length: pgtypes.INT4,
                              exp.StrPosition: pgtypes.INT4, exp.Extract: pgtypes.NUMERIC,
                              exp.TimestampTrunc: pgtypes.TIMESTAMP, exp.DateTrunc: pgtypes.TIMESTAMP,
                              exp.CurrentDate: pgtypes.DATE, exp.CurrentTimestamp: pgtypes.TIMESTAMPTZ,
                              exp.Predicate: pgtypes.BOOL, exp.Not: pgtypes.BOOL, exp.Connector: pgtypes.BOOL,
                              exp.Exists: pgtypes.BOOL, exp.Upper: pgtypes.TEXT, exp.Lower: pgtypes.TEXT,
                              exp.Concat: pgtypes.TEXT, exp.DPipe: pgtypes.TEXT, exp.Substring: pgtypes.TEXT}


FUNCTION_TYPES = {  # the bridge's catalog and server functions (SQLite returns 0/1 for booleans)
    **dict.fromkeys(("has_table_privilege", "has_schema_privilege", "has_database_privilege", "pg_has_role",
                     "has_column_privilege", "pg_table_is_visible", "pg_type_is_visible", "pg_is_in_recovery",
                     "pg_function_is_visible", "pg_is_other_temp_schema"), pgtypes.BOOL),
    **dict.fromkeys(("format_type", "pg_get_userbyid", "pg_get_expr", "obj_description", "col_description",
                     "current_database", "pg_encoding_to_char", "pg_size_pretty", "array_to_string",
                     "pg_get_constraintdef", "pg_get_indexdef", "pg_get_viewdef", "quote_ident"), pgtypes.TEXT),
    **dict.fromkeys(("pg_backend_pid",), pgtypes.INT4),
    **dict.fromkeys(("make_date",), pgtypes.DATE),
    **dict.fromkeys(("pg_relation_size", "pg_total_relation_size", "pg_table_size", "txid_current"), pgtypes.INT8),
}
_NUMBERS = {pgtypes.INT2, pgtypes.INT4, pgtypes.INT8, pgtypes.FLOAT4, pgtypes.FLOAT8, pgtypes.NUMERIC}


def pg_column_name(node: exp.Expression) -> tuple[str, int]:
    """PostgreSQL's FigureColname: the result name of an unaliased expression and its strength (0 = ``?column?``)."""
    if isinstance(node, exp.Alias):
        return node.alias, 3
    if isinstance(node, exp.Column):
        return node.name, 2
    if isinstance(node, exp.Paren | exp.Filter | exp.Window):
        return pg_column_name(node.this)
    if isinstance(node, exp.Cast):
        name, strength = pg_column_name(node.this)
        if strength > 1:
            return name, strength
        oid = cast_oid(node)
        return (pgtypes.type_name(oid) if oid else cast_type_text(node).split("(")[0].strip()), 1
    if isinstance(node, exp.Case):
        default = node.args.get("default")
        name, strength = pg_column_name(default) if default is not None else ("case", 1)
        return (name, strength) if strength > 1 else ("case", 1)
    if isinstance(node, exp.Exists):
        return "exists", 2
    if isinstance(node, exp.Array):
        return "array", 2
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and node.this.expressions:
        return pg_column_name(node.this.expressions[0])
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return pg_column_name(node.expression)
    if isinstance(node, exp.Anonymous):
        return node.name.lower(), 2
    if isinstance(node, exp.Binary | exp.Unary | exp.Predicate):
        return "?column?", 0
    if isinstance(node, exp.Trim):
        return {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(str(node.args.get("position") or "").upper(), "btrim"), 2
    if isinstance(node, exp.Pad):
        return ("lpad" if node.args.get("is_left") else "rpad"), 2
    if isinstance(node, exp.Func):
        name = FUNCTION_NAMES.get(type(node).__name__)
        return (name or node.sql_name().lower()), 2
    return "?column?", 0


def cast_type_text(node: exp.Cast) -> str:
    """A cast's target type as PostgreSQL spells it, lower case, without ``pg_catalog.`` (``int4``, ``regclass``)."""
    to = node.to
    if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.USERDEFINED:
        kind = to.args.get("kind")
        text = kind.sql("postgres") if isinstance(kind, exp.Expression) else str(kind)
    elif isinstance(to, exp.DataType):
        text = to.sql("postgres")
    else:
        text = to.name if to is not None else "text"
    return text.replace('"', "").lower().removeprefix("pg_catalog.")


def cast_oid(node: exp.Cast) -> int | None:
    """The OID of a cast's target type, None for types the bridge does not model (arrays of unknown types …)."""
    text = cast_type_text(node)
    return pgtypes.oid_for_name(text.split("(")[0].strip())


class Scope:
    """Table columns visible to a query, for parameter and result type inference."""

    def __init__(self, select: exp.Expression, columns: Mapping[str, Mapping[str, int]]) -> None:
        self.tables: dict[str, Mapping[str, int]] = {}
        self.columns = columns
        for table in select.find_all(exp.Table):
            cols = columns.get(table.name.lower())
            if cols is not None:
                self.tables[(table.alias_or_name or table.name).lower()] = cols

    def column_oid(self, column: exp.Column) -> int | None:
        """The declared type OID of a column reference (qualified or searched in every table), None if unknown."""
        name = column.name.lower()
        if column.table:
            return self.tables.get(column.table.lower(), {}).get(name)
        for cols in self.tables.values():
            if name in cols:
                return cols[name]
        return None


def infer_type(node: exp.Expression, scope: Scope) -> int | None:
    """Static PostgreSQL type of a result expression, None when unknown (the session then looks at values)."""
    if isinstance(node, exp.Alias | exp.Paren | exp.Filter | exp.Window):
        return infer_type(node.this, scope)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):  # pg_catalog.fn(…)
        return infer_type(node.expression, scope)
    if isinstance(node, exp.Column):
        return scope.column_oid(node)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and node.this.expressions:
        return infer_type(node.this.expressions[0], Scope(node.this, scope.columns))
    if isinstance(node, exp.Cast):
        return cast_oid(node)
    if isinstance(node, exp.Avg) and infer_type(node.this, scope) == pgtypes.NUMERIC:
        return pgtypes.NUMERIC  # avg(numeric) is numeric (money stays exact), avg of anything else float8
    if isinstance(node, exp.Sum | exp.Min | exp.Max | exp.Abs | exp.Floor | exp.Ceil | exp.Round | exp.Nullif |
                  exp.Coalesce | exp.Greatest | exp.Least):
        return infer_type(node.this, scope)
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
        return next((oid for b in branches if b is not None and (oid := infer_type(b, scope))), None)
    if isinstance(node, exp.Literal):
        return pgtypes.TEXT if node.is_string else (pgtypes.INT4 if node.this.isdigit() else pgtypes.NUMERIC)
    if isinstance(node, exp.Boolean):
        return pgtypes.BOOL
    if isinstance(node, exp.Add | exp.Sub) and (interval_text(node.this) or interval_text(node.expression)):
        return pgtypes.TIMESTAMP
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod | exp.Neg):
        sides = {infer_type(n, scope) for n in (node.this, node.args.get("expression")) if n is not None}
        for wider in (pgtypes.FLOAT8, pgtypes.FLOAT4, pgtypes.NUMERIC, pgtypes.INT8, pgtypes.INT4, pgtypes.INT2):
            if wider in sides and sides <= _NUMBERS:
                return wider
    if isinstance(node, exp.Anonymous) and node.name.lower() in FUNCTION_TYPES:
        return FUNCTION_TYPES[node.name.lower()]
    for cls, oid in _INFERRED.items():
        if isinstance(node, cls):
            return oid
    return None


def param_oid(param: exp.Expression, scope: Scope) -> int:
    """The type of ``$n`` from its context: the compared column's type, a cast, LIMIT/OFFSET; else text."""
    node, parent = param, param.parent
    while isinstance(parent, exp.Paren | exp.Tuple):
        node, parent = parent, parent.parent
    if isinstance(parent, exp.Cast):
        return cast_oid(parent) or pgtypes.TEXT
    if isinstance(parent, exp.Limit | exp.Offset | exp.Fetch):
        return pgtypes.INT8
    if isinstance(parent, exp.In | exp.Between):
        other = parent.this
    elif isinstance(parent, exp.Binary):
        other = parent.expression if node is parent.this else parent.this
    else:
        return pgtypes.TEXT
    return (infer_type(other, scope) if other is not None else None) or pgtypes.TEXT


def interval_text(node: exp.Expression) -> str | None:
    """The PostgreSQL interval text of ``INTERVAL '…'`` or ``make_interval(days := 7)``, else None."""
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        return f"{node.this.name} {unit.name if unit else ''}".strip().lower()
    if isinstance(node, exp.MakeInterval | exp.Anonymous) and (
            isinstance(node, exp.MakeInterval) or node.name.lower() == "make_interval"):
        order = ["years", "months", "weeks", "days", "hours", "mins", "secs"]
        parts = []
        for index, arg in enumerate(v for v in node.args.values() if isinstance(v, exp.Expression)):
            if isinstance(arg, exp.PropertyEQ | exp.Kwarg):
                parts.append(f"{arg.expression.name} {arg.this.name}")
            elif index < len(order):
                parts.append(f"{arg.name} {order[index]}")
        return " ".join(parts) or "0 days"
    return None


def name_results(tree: exp.Expression, columns: Mapping[str, Mapping[str, int]]) -> tuple[list[str], list]:
    """Alias unaliased expressions in every SELECT as PostgreSQL names them; the top level's names and types."""
    for select in tree.find_all(exp.Select):
        for item in list(select.expressions):
            if isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier) and not item.this.quoted \
                    and item.name != item.name.lower():
                item.replace(exp.alias_(item.copy(), item.name.lower(), quoted=True))  # PostgreSQL folds case
                continue
            if isinstance(item, exp.Alias | exp.Column | exp.Star):
                if isinstance(item, exp.Alias) and not item.args["alias"].quoted:
                    item.set("alias", exp.to_identifier(item.alias.lower(), quoted=True))
                continue
            name, _strength = pg_column_name(item)
            item.replace(exp.alias_(item.copy(), name, quoted=True))
    top = tree
    while isinstance(top, exp.SetOperation):
        top = top.this
    if not isinstance(top, exp.Select):
        return [], []
    scope = Scope(top, columns)
    if any(isinstance(item, exp.Star) or isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
           for item in top.expressions):
        return list(top.named_selects), []
    return list(top.named_selects), [infer_type(item, scope) for item in top.expressions]
