"""The planner's vocabulary: constraints in, plans and requests out (plain data shared by the planner and routes).

A :class:`Constraint` is one WHERE term SQLite offers a table. A route's ``choose`` turns constraints into a
:class:`Choice` (a :class:`Plan` plus what BestIndexObject tells SQLite); its ``bind`` turns the plan and the
values into a :class:`Bound` (the :class:`Request` list); its ``fetch`` yields :class:`Row` items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlspapi.definitions.schema import OperationSpec, RouteSpec, TableSpec, WindowSpec

#: Operators the planner understands (the vtable maps SQLite's codes to these names).
EQ, GT, GE, LT, LE, LIMIT, OFFSET, OTHER = "EQ", "GT", "GE", "LT", "LE", "LIMIT", "OFFSET", "OTHER"
RANGE_TEXT = {GT: ">", GE: ">=", LT: "<", LE: "<="}

#: Marker for a constraint whose right-hand side is not known at planning time (a parameter or a join).
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "?"})()

#: Estimated cost of a plan that cannot run (a required filter is missing): SQLite avoids it when it can.
IMPOSSIBLE_COST = 1e300


@dataclass(frozen=True)
class Constraint:
    """One WHERE term SQLite offers to the table (from IndexInfo)."""

    column: int
    op: str
    usable: bool = True
    is_in: bool = False
    rhs: Any = UNKNOWN


@dataclass(frozen=True)
class Arg:
    """What one Filter argument means: its role and the column/parameter it feeds."""

    role: str  # key | filter | path | after | before | limit | offset
    column: str = ""
    op: str = EQ
    param: str | None = None
    is_in: bool = False


@dataclass(frozen=True)
class Plan:
    """The chosen route for one table access; ``text`` is what EXPLAIN QUERY PLAN shows."""

    table: TableSpec
    route: RouteSpec
    args: tuple[Arg, ...]
    window: WindowSpec | None = None
    missing: tuple[str, ...] = ()
    columns_used: frozenset[int] | None = None
    text: str = ""
    mode: str = ""  # a route's variant: get → "get"/"multiget"; list → "list"/"multiget"
    limited: bool = False  # SQLite holds a LIMIT for this access (pushed or not)
    values: tuple[Any, ...] = ()  # each arg's value when the SQL gives a constant, else UNKNOWN (for estimates)


@dataclass
class Choice:
    """A plan plus what BestIndexObject must tell SQLite."""

    plan: Plan
    usage: list[tuple[int, int, bool, bool]] = field(default_factory=list)  # (constraint, argv, omit, in)
    cost: float = 1.0
    rows: int = 1
    unique: bool = False


@dataclass(frozen=True)
class Request:
    """One API call (chain) to make: the fetcher pages through it when the route pages."""

    operation: OperationSpec
    path: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any = None


class Notify(Protocol):
    """Tell the user something about the running statement (``Database._notice``): the message, and the Python
    warning category the DB-API issues it with (None: the face's default, ``DefaultWindowWarning``)."""

    def __call__(self, message: str, category: type[Warning] | None = None) -> None:
        """Record (and show) one notice."""


def _no_notice(message: str, category: type[Warning] | None = None) -> None:
    """The default :class:`Notify`: tell nobody (planner tests, internal scans)."""


@dataclass(frozen=True)
class BindContext:
    """What binding needs besides the values: the clock, settings, the default marketplaces, connection values."""

    now: datetime
    lookback_days: int
    include_restricted: bool
    marketplace_ids: Callable[[], Sequence[str]]
    connection: Mapping[str, Any] = field(default_factory=dict)
    notice: Notify = _no_notice  # tell the user (a default window applies, restricted columns come back NULL)


@dataclass
class Bound:
    """A plan with values: the requests (or nested keys), how many rows are wanted at most, and the key values."""

    requests: list[Request] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    stop_after: int | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


#: A row as routes yield it: (row object, the request that returned it, the parent entity).
Row = tuple[Mapping[str, Any], Request | None, Mapping[str, Any] | None]
