"""The differential corpus's query generator (``test_differential_corpus.py``): the column names each Orders API
version gives the same concepts (:data:`DIALECTS`), a seeded generator of WHERE trees, counts, pages, aggregates, id
lists and joins with the items table over them, and the corpus (:data:`CORPUS`): each :class:`Query` names its
version, family and seed, so its SQL is reproducible (``random.Random("<version>/<family>/<seed>")``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: How many corpus queries each (version, family) gets.
FAMILY_SIZES = {"where": 22, "count": 18, "page": 18, "aggregate": 14, "ids": 10, "join": 12, "join_aggregate": 10}


@dataclass(frozen=True)
class Dialect:
    """The column names one Orders API version gives the same concepts."""

    version: str
    key: str
    times: tuple[str, ...]  # the first two have API windows (created, last updated); the rest filter in SQLite
    enums: tuple[str, ...]
    nullable: tuple[str, ...]
    amount: str
    item_key: str
    item_quantity: str
    item_amount: str
    item_enum: str


DIALECTS = {
    "v0": Dialect("v0", "AmazonOrderId", ("PurchaseDate", "LastUpdateDate", "EarliestShipDate", "EarliestDeliveryDate"),
                  ("OrderStatus", "FulfillmentChannel", "MarketplaceId", "PaymentMethod"),
                  ("SellerOrderId", "EarliestDeliveryDate", "OrderTotal_Amount", "ReplacedOrderId",
                   "BuyerInfo_PurchaseOrderNumber"),
                  "OrderTotal_Amount", "OrderItemId", "QuantityOrdered", "ItemPrice_Amount", "ConditionId"),
    "2026-01-01": Dialect("2026-01-01", "orderId",
                          ("createdTime", "lastUpdatedTime", "fulfillment_shipByWindow_earliestDateTime",
                           "fulfillment_deliverByWindow_latestDateTime"),
                          ("fulfillment_fulfillmentStatus", "fulfillment_fulfilledBy", "salesChannel_marketplaceId"),
                          ("programs", "fulfillment_deliverByWindow_earliestDateTime", "proceeds_grandTotal_amount",
                           "buyer_buyerName"),
                          "proceeds_grandTotal_amount", "orderItemId", "quantityOrdered",
                          "proceeds_proceedsTotal_amount", "product_condition_conditionType"),
}


# ------------------------------------------------------------------------------------------------ the generator
@dataclass(frozen=True)
class Domain:
    """What the generator draws literals from: the data's anchor, enum values and order ids."""

    anchor: datetime
    enum_values: dict[str, tuple[str, ...]]
    order_ids: tuple[str, ...]


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Generator:
    """Random SQL over one dialect; ``prefix`` qualifies order columns (``o.``) in joins."""

    def __init__(self, rng: random.Random, dialect: Dialect, domain: Domain, prefix: str = "") -> None:
        self.rng, self.d, self.domain, self.prefix = rng, dialect, domain, prefix

    def col(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def moment(self) -> datetime:
        """A time within (and a little beyond) the data's two years."""
        return self.domain.anchor - timedelta(days=self.rng.uniform(-3, 735))

    def time_column(self) -> str:
        return self.col(self.rng.choices(self.d.times, (6, 2, 1, 1))[0])

    def time_range(self) -> str:
        """A comparison on a timestamp column, bare or through a wrapper, with a literal of the matching shape."""
        rng, col = self.rng, self.time_column()
        wrappers: list[tuple[str, Callable[[datetime], str]]] = [
            (col, lambda t: _q(t.strftime(rng.choice(("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"))))),
            (f"date({col})", lambda t: _q(t.strftime("%Y-%m-%d"))),
            (f"CAST({col} AS TEXT)", lambda t: _q(t.strftime(rng.choice(("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"))))),
            (f"strftime('%Y-%m', {col})", lambda t: _q(t.strftime("%Y-%m"))),
            (f"strftime('%Y', {col})", lambda t: _q(t.strftime("%Y"))),
            (f"substr({col}, 1, 10)", lambda t: _q(t.strftime("%Y-%m-%d"))),
            (f"substr({col}, 1, 7)", lambda t: _q(t.strftime("%Y-%m"))),
            (f"datetime({col})", lambda t: _q(t.strftime("%Y-%m-%d %H:%M:%S"))),
            (f"julianday({col})", lambda t: f"julianday({_q(t.strftime('%Y-%m-%d'))})"),
        ]
        expr, literal = rng.choices(wrappers, (5, 3, 3, 2, 1, 2, 1, 1, 1))[0]
        op = rng.choices((">=", ">", "<", "<=", "=", "BETWEEN", "!="), (5, 2, 4, 2, 2, 4, 1))[0]
        if op == "BETWEEN":
            lo, hi = sorted((self.moment(), self.moment()))
            return f"{expr} BETWEEN {literal(lo)} AND {literal(hi)}"
        return f"{expr} {op} {literal(self.moment())}"

    def enum_test(self) -> str:
        rng = self.rng
        name = rng.choice(self.d.enums)
        values = self.domain.enum_values[name]  # known values only: Amazon rejects others (HTTP 400, a clear error)
        col = self.col(name)
        form = rng.choices(("=", "!=", "IN", "NOT IN"), (4, 1, 4, 1))[0]
        if form in ("=", "!="):
            return f"{col} {form} {_q(rng.choice(values))}"
        picked = rng.sample(values, rng.randint(1, min(4, len(values))))
        return f"{col} {form} ({', '.join(map(_q, picked))})"

    def null_test(self) -> str:
        return f"{self.col(self.rng.choice(self.d.nullable))} IS {self.rng.choice(('', 'NOT '))}NULL"

    def amount_test(self) -> str:
        return f"{self.col(self.d.amount)} {self.rng.choice(('>', '<', '>='))} {self.rng.choice((10, 25, 50, 100))}"

    def id_list(self, name: str | None = None) -> str:
        ids = self.rng.sample(self.domain.order_ids, self.rng.randint(1, 6)) + ["000-0000000-0000000"]
        return f"{name or self.col(self.d.key)} IN ({', '.join(map(_q, ids))})"

    def leaf(self) -> str:
        kinds = (self.time_range, self.enum_test, self.null_test, self.amount_test, self.id_list)
        return self.rng.choices(kinds, (8, 4, 2, 1, 1))[0]()

    def tree(self, depth: int = 3) -> str:
        """A WHERE tree of leaves under AND, OR and NOT."""
        if depth == 0 or self.rng.random() < 0.3:
            return self.leaf()
        kind = self.rng.choices(("AND", "OR", "NOT"), (5, 3, 1))[0]
        if kind == "NOT":
            return f"NOT ({self.tree(depth - 1)})"
        return f"({self.tree(depth - 1)} {kind} {self.tree(depth - 1)})"

    def page(self) -> str:
        limit, offset = self.rng.randint(1, 40), self.rng.choice((0, 0, 1, 5, 30))
        return f"LIMIT {limit}" + (f" OFFSET {offset}" if offset else "")


def _where(g: Generator) -> tuple[str, bool]:
    return f"SELECT {g.d.key}, {g.d.times[0]} FROM orders WHERE {g.tree()}", False


def _count(g: Generator) -> tuple[str, bool]:
    return f"SELECT count(*) FROM orders WHERE {g.tree()}", False


def _page(g: Generator) -> tuple[str, bool]:
    d = g.d
    order = g.rng.choice((f"{d.key}", f"{d.key} DESC", f"{d.times[0]} DESC, {d.key}", f"{d.amount}, {d.key}"))
    return (f"SELECT {d.key}, {d.times[0]}, {d.enums[0]}, {d.amount} FROM orders WHERE {g.tree()} "
            f"ORDER BY {order} {g.page()}"), True


def _aggregate(g: Generator) -> tuple[str, bool]:
    d = g.d
    group = g.rng.choice(d.enums + (f"strftime('%Y-%m', {d.times[0]})", f"date({d.times[0]})"))
    return (f"SELECT {group}, count(*), sum({d.amount}), min({d.times[0]}), max({d.times[1]}), "
            f"count({d.amount}) FROM orders WHERE {g.tree()} GROUP BY 1"), False


def _ids(g: Generator) -> tuple[str, bool]:
    d, rng = g.d, g.rng
    if rng.random() < 0.4:
        ids = g.id_list(f"i.{d.key}" if d.version != "v0" else d.key)
        if d.version == "v0":  # items need an order id: a direct IN list
            return f"SELECT {d.key}, {d.item_key}, {d.item_quantity} FROM order_items WHERE {ids}", False
        return (f"SELECT o.{d.key}, i.{d.item_key} FROM orders o JOIN order_items i ON i.{d.key} = o.{d.key} "
                f"WHERE {ids}"), False
    return f"SELECT {d.key}, {d.enums[0]} FROM orders WHERE {g.id_list()} {rng.choice(('AND', 'OR'))} {g.tree(1)}", \
        False


def _join_where(g: Generator) -> str:
    """A WHERE tree on ``o`` (v0: under a date range of at most ~4 months, as a getOrderItems call per order
    is made), sometimes with an item predicate."""
    where = g.tree(2)
    if g.d.version == "v0":
        end = g.moment()
        start_day = end - timedelta(days=g.rng.randint(1, 120))
        col = g.col(g.d.times[0])
        bound = g.rng.choice((f"{col} >= {_q(f'{start_day:%Y-%m-%d}')} AND {col} < {_q(f'{end:%Y-%m-%d}')}",
                              f"date({col}) BETWEEN {_q(f'{start_day:%Y-%m-%d}')} AND {_q(f'{end:%Y-%m-%d}')}"))
        where = f"{bound} AND {where}"
    if g.rng.random() < 0.3:
        where += f" AND i.{g.d.item_quantity} {g.rng.choice(('>', '='))} 1"
    return where


def _join(g: Generator) -> tuple[str, bool]:
    d = g.d
    sql = (f"SELECT o.{d.key}, i.{d.item_key}, i.{d.item_quantity}, i.{d.item_amount} FROM orders o "
           f"JOIN order_items i ON i.{d.key} = o.{d.key} WHERE {_join_where(g)}")
    if g.rng.random() < 0.5:
        return f"{sql} ORDER BY i.{d.item_key} {g.page()}", True
    return sql, False


def _join_aggregate(g: Generator) -> tuple[str, bool]:
    d = g.d
    return (f"SELECT i.{d.item_enum}, count(*), count(DISTINCT o.{d.key}), sum(i.{d.item_quantity}), "
            f"sum(i.{d.item_amount}), max(o.{d.times[0]}) FROM orders o JOIN order_items i ON i.{d.key} = o.{d.key} "
            f"WHERE {_join_where(g)} GROUP BY 1"), False


FAMILIES: dict[str, Callable[[Generator], tuple[str, bool]]] = {
    "where": _where, "count": _count, "page": _page, "aggregate": _aggregate, "ids": _ids, "join": _join,
    "join_aggregate": _join_aggregate,
}
JOINED = {"join", "join_aggregate"}


@dataclass(frozen=True)
class Query:
    """One corpus entry: which version and family, and the seed that generates its SQL."""

    version: str
    family: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.version}-{self.family}-seed{self.seed}"

    def sql(self, domain: Domain) -> tuple[str, bool]:
        """(SQL, whether its rows come in a deterministic order)."""
        rng = random.Random(f"{self.version}/{self.family}/{self.seed}")
        prefix = "o." if self.family in JOINED else ""
        return FAMILIES[self.family](Generator(rng, DIALECTS[self.version], domain, prefix))


CORPUS = [Query(v, f, s) for v in DIALECTS for f, n in FAMILY_SIZES.items() for s in range(n)]
