"""The typed form of a table definition: what ``vtables/*.toml`` files (and Python tables) declare.

Plain frozen data, no behaviour beyond formatting: the loader (:mod:`sqlspapi.definitions.loader`) builds these
from TOML and validates them; the planner and the routes (:mod:`sqlspapi.sql`) read them; the HTTP client reads
:class:`OperationSpec`; the emulator and the generated docs read usage plans and descriptions from them.

A table has columns and one or more *routes* (how rows are fetched). Each route kind has its own spec class
(:class:`GetSpec`, :class:`ListSpec` for ``list``/``window``, :class:`NestedSpec`, :class:`BatchSpec`,
:class:`DocumentSpec`, :class:`ReportSpec`, :class:`PythonSpec`); the route's behaviour lives in
:mod:`sqlspapi.sql.routes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlspapi.definitions.syncspec import SyncSpec


@dataclass(frozen=True)
class OperationSpec:
    """One SP-API operation, as declared in a ``vtables/*.toml`` definition (values from Amazon's model).

    ``rate`` (requests per second) and ``burst`` are the published usage plan; the client seeds its token bucket
    with them and adjusts the rate when a response carries ``x-amzn-RateLimit-Limit``. ``grantless`` is the LWA
    scope of a grantless operation (``sellingpartnerapi::notifications``): it is called with a client-credentials
    token for that scope instead of the seller's refresh-token grant. ``writes``: calling it changes the seller's
    account (a schedule created, a report cancelled), so a ``ReadOnly`` account may not (PUT, PATCH and DELETE by
    default; a definition says ``writes = true`` for such a POST).
    """

    name: str
    section: str
    version: str
    method: str
    path: str
    rate: float
    burst: int
    restricted: bool = False
    rdt_data_elements: tuple[str, ...] = ()
    grantless: str | None = None
    writes: bool = False

    def format_path(self, path_params: Mapping[str, Any] | None = None) -> str:
        """The path with ``{name}`` placeholders replaced by percent-encoded values: every character but letters,
        digits and ``._-~``; a value of dots alone is encoded too, so ``.`` and ``..`` never walk the path to another
        endpoint (the routes do not send such values at all: :func:`usable_path_value`)."""
        from urllib.parse import quote

        out = self.path
        for key, value in (path_params or {}).items():
            text = str(value)
            encoded = "%2E" * len(text) if text and not text.strip(".") else quote(text, safe="")
            out = out.replace("{" + key + "}", encoded)
        return out


def usable_path_value(value: Any) -> bool:
    """Whether ``value`` can be a path parameter (an id): not empty, not blank, not ``.``/``..``. A value that cannot
    be an id matches no row, so it never leaves the process."""
    text = str(value)
    return bool(text.strip()) and text.strip(".") != ""


@dataclass(frozen=True)
class RestrictedResource:
    """A resource for which a Restricted Data Token is requested (Tokens API ``restrictedResources`` item)."""

    method: str
    path: str
    data_elements: tuple[str, ...] = ()


#: Column types a definition may use, and the declared SQLite type each becomes. A declared type names what the value
#: is, then how SQLite holds it: ``TIMESTAMPTZ TEXT`` (ISO 8601 text in UTC; SQLite's TEXT affinity),
#: ``DECIMAL REAL`` (a JSON decimal number such as a money amount; REAL affinity). The clients read the first word:
#: DB-API gives ``datetime``/``Decimal``/``bool``, SQLAlchemy ``DateTime(timezone=True)``/``Numeric``/``Boolean``, the
#: bridge ``timestamptz``/``numeric``/``bool`` (see docs/bi-tools.md, "Types").
COLUMN_TYPES: Mapping[str, str] = {
    "TEXT": "TEXT",
    "INTEGER": "INTEGER",
    "REAL": "DECIMAL REAL",
    "BOOLEAN": "BOOLEAN",
    "JSON": "TEXT",
    "TIME": "TIMESTAMPTZ TEXT",
}

#: Where a column's value comes from, by the prefix of its path in a column line.
COLUMN_SOURCES: Mapping[str, str] = {
    "": "row",  # a dotted path inside the row object (numeric steps index arrays: images.0.link)
    "@": "path_param",  # a path parameter of the call that returned the row
    "?": "query_param",  # a query parameter of that call (a one-item list gives the item): the call's marketplace
    "^": "parent",  # a field of the parent entity (nested tables)
    "$": "connection",  # a value of the connection: sellerId, region, endpoint
    "'": "const",  # a constant: name='value'
}

#: SQL operators a filter may declare.
FILTER_OPS = frozenset({"=", "IN"})


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its SQL name, where its value comes from, its type, a description, whether it is hidden, and
    whether it is restricted.

    ``source`` is one of :data:`COLUMN_SOURCES`' values. A ``hidden`` column is an input: it is not in
    ``SELECT *`` and becomes a table-valued-function argument (``SELECT * FROM catalog_items('usb charger')``).
    A ``restricted`` column holds restricted data (PII) that Amazon returns only with ``IncludeRestrictedData=true``
    (a Restricted Data Token, or a restricted ``includedData`` part); without it the column is NULL and a query
    that uses it is told so (:func:`sqlspapi.sql.routes.base.restricted_notice`).
    """

    name: str
    path: tuple[str, ...]
    kind: str
    description: str = ""
    source: str = "row"
    hidden: bool = False
    restricted: bool = False

    @property
    def sqltype(self) -> str:
        """The declared SQLite type."""
        return COLUMN_TYPES[self.kind]

    @property
    def declaration(self) -> str:
        """The column's declaration in CREATE TABLE: timestamps compare as instants (see ``isotime``)."""
        collate = " COLLATE ISOTIME" if self.kind == "TIME" else ""
        hidden = " HIDDEN" if self.hidden else ""
        return f'"{self.name}" {self.sqltype}{hidden}{collate}'


@dataclass(frozen=True)
class FilterSpec:
    """A key column whose ``=``/``IN`` constraints reach the API as a query parameter or a path parameter.

    ``batch`` caps the values sent in one call (``IN`` lists are split); ``exact`` says the API filters exactly
    (SQLite need not re-check, LIMIT may be pushed); ``required`` makes the table refuse to run without it;
    ``not_with`` names filters the API refuses beside this one (Catalog's identifiers and keywords): when one of them
    is given, this filter is left to SQLite. ``values`` are every value the column is known to take, for a parameter
    the API requires (Notifications' ``notificationTypes``): without a filter on the column the route calls once per
    batch of them, a fan-out like the marketplaces'.
    """

    column: str
    ops: frozenset[str]
    param: str | None = None
    path_param: str | None = None
    batch: int | None = None
    exact: bool = True
    required: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    not_with: tuple[str, ...] = ()
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class WindowSpec:
    """A timestamp column whose range constraints become an After/Before parameter pair (either may be absent).

    ``max_span_days`` splits a longer range into consecutive calls (the ``window`` route).
    """

    column: str
    after: str | None
    before: str | None = None
    max_span_days: int | None = None


@dataclass(frozen=True)
class PartsSpec:
    """A "which parts" parameter (``includedData``) chosen from the columns a query uses (SQLite's colUsed).

    A column needs part ``p`` when the first step of its path is ``p`` (``summaries.0.itemName`` → summaries);
    ``always`` parts are always asked for.
    """

    param: str
    names: tuple[str, ...]
    always: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    """Common fields of every route: its kind (the registry key) and where the definition declared it."""

    kind: str
    operation: OperationSpec | None
    params: Mapping[str, Any] = field(default_factory=dict)
    restricted_params: Mapping[str, Any] = field(default_factory=dict)
    derived: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GetSpec(RouteSpec):
    """One call per key value (``getOrder`` by id): ``key = v`` → one call; ``key IN (…)`` → one call per value."""

    column: str = ""
    path_param: str = ""
    row: str = ""
    not_found_empty: bool = True


@dataclass(frozen=True)
class ListSpec(RouteSpec):
    """A paged list call (``list``), optionally split into date windows no longer than the API allows (``window``).

    Paging: the next-page token is read at ``next_token`` and sent back as ``next_param`` with the original
    parameters, or alone when ``token_only``. ``token_ttl_seconds``: tokens expire that fast, so a stale or refused
    token restarts the chain with fresh calls, skipping rows already produced (a slow reader still gets every row
    once). ``result_ceiling``/``total`` turn the API's reachable-results ceiling into an error instead of a silently
    truncated answer. ``empty_rows_omitted``: the API leaves the rows array out of an answer with no rows (only
    where Amazon is known to): an answer without it is then no rows — never beside a next token; otherwise an
    answer without its rows array is an incomplete answer, retried then reported, not an empty result.
    """

    rows: str = ""
    next_token: str | None = None
    next_param: str | None = None
    token_only: bool = False
    token_ttl_seconds: float | None = None
    page_size_param: str | None = None
    page_size_max: int | None = None
    marketplace_param: str | None = None
    marketplace_batch: int = 50
    window_required: bool = False
    before_min_age_seconds: int = 0
    max_lookback_days: int = 730
    windows: tuple[WindowSpec, ...] = ()
    filters: tuple[FilterSpec, ...] = ()
    result_ceiling: int | None = None
    total: str | None = None
    empty_rows_omitted: bool = False


@dataclass(frozen=True)
class NestedSpec(RouteSpec):
    """Rows that live inside a parent entity (``order_items`` inside a 2026 order): read from the statement's
    entity cache, else fetched through the parent table's routes."""

    entity: str = ""
    column: str = ""
    items: str = ""
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchSpec(RouteSpec):
    """One POST carrying up to ``max_items`` sub-requests, each built from ``template`` and a set of inputs
    (pricing and fees batches; the route is :mod:`sqlspapi.sql.routes.batch`).

    Inputs: the key ``column`` (``=``/``IN``; on a hidden key a JSON array text is the batched form, one element per
    sub-request), the other ``inputs`` columns (``=``), ``marketplace_column`` (``=``/``IN``; none given: the
    connection's marketplaces), ``defaults`` for inputs not given, ``required`` inputs each sub-request needs, and
    what the ``prepare`` hook (``module:function`` in ``vtables/``, inputs → inputs) derives from them.

    ``template`` placeholders ``{name}`` are input names (also ``{value}`` for the key, ``{marketplace}``, and
    ``{ref}``, a digest unique to the sub-request's inputs); a string that is exactly one placeholder becomes the
    input's typed value (a REAL column's value is a number, a BOOLEAN's true/false) and, when the input has no value,
    its key is left out. The sub-requests go in the body at ``body`` (``""``: the body is the list).

    Answers: the sub-responses are at ``rows`` (``""``: the answer is the list), paired with their sub-requests by
    ``match`` (input → path in the sub-response; else by position); the columns read the object at ``row`` (``""``:
    the sub-response), exploded into one row per element of the array at ``explode`` (when set), and ``^name``
    columns read the sub-request's inputs. ``status`` is where a sub-response says whether it failed (an HTTP status
    code, or a text that is one of ``ok``): a failed sub-response is still a row, its status and error columns
    filled. Without ``status``, a 404 sub-response is no row (nothing found) and any other failure an error.
    """

    column: str = ""
    max_items: int = 20
    body: str = "requests"
    template: Mapping[str, Any] = field(default_factory=dict)
    rows: str = "responses"
    row: str = ""
    marketplace_column: str | None = None
    inputs: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    prepare: str | None = None
    match: Mapping[str, str] = field(default_factory=dict)
    explode: str = ""
    status: str = ""
    ok: tuple[str, ...] = ("Success",)

    def input_columns(self) -> tuple[str, ...]:
        """Every column whose constraint values fill the sub-requests: the key, the inputs, the marketplace."""
        return (self.column, *self.inputs, *((self.marketplace_column,) if self.marketplace_column else ()))


@dataclass(frozen=True)
class DocumentSpec(RouteSpec):
    """An asynchronous document as a table (Data Kiosk; the route is :mod:`sqlspapi.sql.routes.document`): create,
    poll, download, decode — with the report lifecycle's reuse, resume and document cache.

    **The create body** is the ``body`` template (``{marketplaces}``: the marketplace list; ``{name}``: a hidden
    input), or a Data Kiosk query ``{"query": …}`` when ``graphql`` names the dataset (``<root field>.<field>``,
    e.g. ``analytics_salesAndTraffic_2024_04_24.salesAndTrafficByDate``): its ``arguments`` are the same kind of
    template (plus ``{startDate}``/``{endDate}``, the window's dates; ``{name:DEFAULT}`` gives an input's default);
    inputs listed in ``enums`` are checked against their allowed values and written as GraphQL enum values; the
    selection is the fields the SQL uses (each row column's path; a JSON column's sub-fields are its ``selections``
    paths), plus the ``keys`` fields always. A table whose hidden ``graphql`` input is the query and which has no
    ``graphql`` key sends that input as it is (``datakiosk_query``).

    **Filters**: ranges on the two ``window`` columns (a row's period start and end dates) set ``{startDate}`` and
    ``{endDate}``, widened to whole periods of the ``period`` input (DAY, WEEK from Sunday, MONTH; RANGE or none: the
    window itself); ``=``/``IN`` on the ``marketplace`` column fills ``{marketplaces}`` (default: the connection's).
    Without a range the window is the last ``LookbackDays`` whole days, and the user is told. ``schema`` names the
    GraphQL schema (the models' ``schemas/data-kiosk/``) the tests check the columns and queries against.

    **The job**: the id at ``id`` of the create answer is polled with ``poll`` (path parameter ``poll_param``) until
    ``status`` is ``done``; a status in ``failed`` raises (another end, a report's CANCELLED, is no rows). The
    document at ``document_id`` (a FATAL job's at ``error_document_id``, default ``document_id``) comes from
    ``get_document`` (``document_param``): its ``url`` is downloaded (gzip told by the bytes; ``compression`` is the
    label) and parsed as ``format`` (``tsv``/``csv`` keyed by the header, ``json`` with rows at ``rows``, ``jsonl``).
    A DONE job whose answer holds a token at ``next_token`` has more pages: each is a new create with the token as
    ``next_param`` in the body, until none. ``poll_seconds`` is the first wait between polls.
    """

    body: Mapping[str, Any] = field(default_factory=dict)
    graphql: str = ""
    schema: str = ""
    arguments: Mapping[str, Any] = field(default_factory=dict)
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    selections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    window: tuple[str, ...] = ()
    marketplace: str = ""
    period: str = ""
    id: str = ""
    poll: OperationSpec | None = None
    poll_param: str = ""
    status: str = "processingStatus"
    done: str = "DONE"
    failed: tuple[str, ...] = ("FATAL", "CANCELLED")
    document_id: str = ""
    error_document_id: str = ""
    get_document: OperationSpec | None = None
    document_param: str = ""
    url: str = "url"
    compression: str = "compressionAlgorithm"
    format: str = "tsv"
    rows: str = ""
    next_token: str = ""
    next_param: str = ""
    poll_seconds: float = 5.0


@dataclass(frozen=True)
class ReportSpec(RouteSpec):
    """A report type read as a table (Reports API): request or reuse a report, wait, download, decode, type the cells.

    ``operation`` is createReport; ``poll`` (getReport), ``get_document`` (getReportDocument) and ``list_reports``
    (getReports) come from the same definition file. ``report_type`` is Amazon's type; ``format`` is ``tsv``,
    ``csv`` or ``json`` (rows at ``rows``). A longer data window than ``max_span_days`` is split into consecutive
    reports; a report with ``default_days`` gets the last that many days when the query bounds no window (and the
    user is told); ``window_column`` is the visible column whose range filters also set the data window.
    ``requestable = false`` reads the DONE reports Amazon made (settlements) instead of creating one;
    ``restricted`` documents need a Restricted Data Token; ``date_style`` (``dmy``/``mdy``) reads ambiguous dates;
    ``schema`` names Amazon's JSON schema of the report (in the models' ``schemas/reports/``) the tests check the
    columns of a JSON report against.
    Each report covers one marketplace (``marketplaceId``; the connection's marketplaces fan out).

    An empty ``report_type`` makes a table of any type (``report_rows``): the type is its hidden ``reportType``
    input, ``format = "auto"`` tells JSON from flat files by the document's first byte, and ``restricted_types``
    lists the types whose documents need a Restricted Data Token. ``params`` may fix inputs (``dataStartTime`` …):
    ``CREATE VIRTUAL TABLE … USING report(…)`` tables keep their arguments there.
    """

    report_type: str = ""
    format: str = "tsv"
    rows: str = ""
    max_span_days: int | None = None
    default_days: int | None = None
    window_column: str | None = None
    requestable: bool = True
    restricted: bool = False
    date_style: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    restricted_types: tuple[str, ...] = ()
    schema: str | None = None
    poll: OperationSpec | None = None
    get_document: OperationSpec | None = None
    list_reports: OperationSpec | None = None


@dataclass(frozen=True)
class PythonSpec(RouteSpec):
    """A table (or route) written in Python: ``function`` names ``module:function`` in ``sqlspapi.vtables``."""

    function: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A virtual table: its columns and the routes that fill it (in the order the planner tries them)."""

    name: str
    section: str
    version: str
    description: str
    columns: tuple[ColumnSpec, ...]
    routes: tuple[RouteSpec, ...] = ()
    entity: str | None = None
    key: str | None = None
    restricted: bool = False
    required_hint: str | None = None
    one_of: tuple[tuple[str, ...], ...] = ()
    parts: PartsSpec | None = None
    hook: str | None = None
    example: str | None = None
    source: str = ""
    sync: SyncSpec | None = None

    def route(self, kind: str) -> RouteSpec | None:
        """The route of this kind, if the table has one."""
        return next((r for r in self.routes if r.kind == kind), None)

    @property
    def get(self) -> GetSpec | None:
        """The ``get`` route (one call per key), if any."""
        route = self.route("get")
        return route if isinstance(route, GetSpec) else None

    @property
    def list(self) -> ListSpec | None:
        """The ``list`` or ``window`` route, if any."""
        route = self.route("list") or self.route("window")
        return route if isinstance(route, ListSpec) else None

    @property
    def nested(self) -> NestedSpec | None:
        """The ``nested`` route, if any."""
        route = self.route("nested")
        return route if isinstance(route, NestedSpec) else None

    def column_index(self, name: str) -> int:
        """The position of column ``name`` (case-insensitive, as SQL is)."""
        lowered = name.lower()
        for i, col in enumerate(self.columns):
            if col.name.lower() == lowered:
                return i
        raise KeyError(name)

    def create_sql(self) -> str:
        """The CREATE TABLE statement that declares this table's columns to SQLite."""
        cols = ", ".join(c.declaration for c in self.columns)
        return f'CREATE TABLE "{self.name}"({cols})'


@dataclass(frozen=True)
class SectionSpec:
    """One definition file: an SP-API section at one version."""

    section: str
    version: str
    version_key: str
    model: str | None
    deprecation: str | None
    operations: Mapping[str, OperationSpec]
    tables: Mapping[str, TableSpec]
    source: str
    title: str = ""
    default: bool = False
    hooks: str | None = None


@dataclass(frozen=True)
class BulkSpec(RouteSpec):
    """Rows of an API table read from an order report instead of paging (the ``bulk`` route, ``Route`` key).

    A scan route (``reports`` given: ``orders``) names, per range column, the report table that serves a range on it
    (``PurchaseDate`` → ``flat_file_all_orders_data_by_order_date_general``; the first is used when no range is
    given); the auto mode reads the report from ``threshold`` orders on (estimated before any call). A lookup route
    (``entity`` given: ``order_items``) serves ``key = v`` from the orders a scan route read this statement, else
    falls back to the table's next route. ``key`` is the report column with the order id; ``columns`` maps each
    table column the report gives faithfully to its report column (``"a / b"``: the exact quotient of two report
    columns, NULL when it is not exact); ``values`` maps a column's report words to the API's (``Amazon`` →
    ``AFN``). Columns not in ``columns`` are not in the report: a query using them pages (or, with
    ``Route=report``, is an error naming them).
    """

    reports: Mapping[str, str] = field(default_factory=dict)
    entity: str = ""
    key: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    threshold: int = 500
