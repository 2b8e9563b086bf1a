"""The route spec classes of a table definition: how a route kind fetches rows (re-exported by
:mod:`sqlspapi.definitions.schema`, where the rest of a table definition's typed form lives).

:class:`RouteSpec` holds what every route has; each kind adds its own fields: :class:`GetSpec`, :class:`ListSpec`
(``list``/``window``, with :class:`FilterSpec` and :class:`WindowSpec`), :class:`NestedSpec`, :class:`BatchSpec`,
:class:`DocumentSpec`, :class:`ReportSpec`, :class:`PythonSpec`, :class:`BulkSpec`. Plain frozen data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlspapi.definitions.operations import OperationSpec

__all__ = ["FilterSpec", "WindowSpec", "RouteSpec", "GetSpec", "ListSpec", "NestedSpec", "BatchSpec", "DocumentSpec",
           "ReportSpec", "PythonSpec", "BulkSpec"]


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
    Each report covers one marketplace (``marketplaceId``; the connection's marketplaces fan out) — unless
    ``region_wide``: Amazon ignores ``marketplaceIds`` for the type and one report holds every marketplace of the
    endpoint's region (the order reports: amzn/selling-partner-api-models issues #2209, #534, #1859, #2513), so one
    report per region is requested and each row's marketplace is read from its ``marketplace_from`` column (a sales
    channel such as ``Amazon.de``; :func:`sqlspapi.settings.marketplaces.marketplace_by_sales_channel`).

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
    region_wide: bool = False
    marketplace_from: str | None = None


@dataclass(frozen=True)
class PythonSpec(RouteSpec):
    """A table (or route) written in Python: ``function`` names ``module:function`` in ``sqlspapi.vtables``."""

    function: str = ""


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
