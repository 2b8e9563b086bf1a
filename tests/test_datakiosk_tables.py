"""The Data Kiosk tables as a user meets them through SQL, against the emulator over HTTP: the GraphQL a query
becomes (only the fields it uses, its ranges as whole periods, its marketplaces in one query), the default window
and its notice, the report lifecycle's rules (an identical recent query reused, a query left running resumed by the
next statement, documents cached 0600), pages followed by paginationToken, FATAL and no-data endings, the
``datakiosk_query`` table function — and, against Amazon's GraphQL schemas, every column path and every query the
tables build."""

from __future__ import annotations

import itertools
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    parse,
    validate,
)

from sqlspapi.definitions.loader import load_all
from sqlspapi.definitions.schema import DocumentSpec, TableSpec
from sqlspapi.emulator import start
from sqlspapi.emulator.datakiosk import KioskStore, store
from sqlspapi.engine import Database
from sqlspapi.errors import (
    MissingFilterError,
    NoDataWarning,
    OperationalError,
    ProgrammingError,
    ReportFailedError,
    SPAPIError,
)
from sqlspapi.sql import planner
from sqlspapi.sql.plan import EQ, BindContext, Constraint

TODAY = datetime.now(UTC).date()
US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"
TABLES = [t for s in load_all() if s.section == "datakiosk" for t in s.tables.values()]
GRAPHQL_TABLES = [t for t in TABLES if isinstance(t.routes[0], DocumentSpec) and t.routes[0].graphql]
_SQL_TYPES = {"INTEGER": {"Long", "Int"}, "REAL": {"Float"}, "TEXT": {"String", "ID"}, "TIME": {"Date"}}


# ------------------------------------------------------------------------------------------------ Amazon's schemas
def _named(kind):
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _schema(models_dir: Path, spec: DocumentSpec):
    return build_schema((models_dir / "schemas" / "data-kiosk" / spec.schema).read_text(encoding="utf-8"))


def _dataset(schema, spec: DocumentSpec):
    root, _, field = spec.graphql.partition(".")
    return _named(schema.query_type.fields[root].type).fields[field]


def _walk(kind, path):
    """The field type at a path below an object type (None when a step is not a field)."""
    for step in path:
        kind = _named(kind)
        if not isinstance(kind, GraphQLObjectType) or step not in kind.fields:
            return None
        kind = kind.fields[step].type
    return kind


@pytest.mark.parametrize("table", GRAPHQL_TABLES, ids=[t.name for t in GRAPHQL_TABLES])
def test_every_column_path_is_a_field_of_the_graphql_schema(table: TableSpec, models_dir) -> None:
    """Each row column (and each JSON column's selection, each key) is a field of the dataset's records in Amazon's
    schema, typed as the column says; each enum input's values are values of the argument it fills."""
    spec = table.routes[0]
    assert isinstance(spec, DocumentSpec)
    schema = _schema(models_dir, spec)
    dataset = _dataset(schema, spec)
    for column in table.columns:
        if column.source != "row" or column.hidden:
            continue
        found = _walk(dataset.type, column.path)
        assert found is not None, f"{table.name}.{column.name}: {'.'.join(column.path)} is not in {spec.schema}"
        leaf = _named(found)
        if column.kind == "JSON":
            assert isinstance(leaf, GraphQLObjectType), f"{table.name}.{column.name}"
            for sub in spec.selections[".".join(column.path)]:
                assert isinstance(_named(_walk(leaf, sub.split("."))), GraphQLScalarType | GraphQLEnumType), sub
        else:
            assert leaf.name in _SQL_TYPES[column.kind], f"{table.name}.{column.name}: {leaf.name} as {column.kind}"
    for key in spec.keys:
        assert _walk(dataset.type, key.split(".")) is not None, key
    for name, value in _placeholders(spec.arguments):
        if name in spec.enums:
            enum = _named(_argument(dataset, value))
            assert isinstance(enum, GraphQLEnumType) and set(spec.enums[name]) <= set(enum.values), name


def _placeholders(arguments, prefix=()):
    """(input name, argument path) of every ``{input…}`` placeholder of an arguments template."""
    for key, value in arguments.items():
        if isinstance(value, dict):
            yield from _placeholders(value, (*prefix, key))
        elif isinstance(value, str) and value.startswith("{"):
            yield value.strip("{}").split(":")[0], (*prefix, key)


def _argument(dataset, path):
    kind = dataset.args[path[0]].type
    for step in path[1:]:
        named = _named(kind)
        assert isinstance(named, GraphQLInputObjectType)
        kind = named.fields[step].type
    return kind


def _built_query(table: TableSpec, inputs: dict[str, str] | None = None) -> str:
    """The query a scan of every column builds (with these hidden inputs)."""
    constraints = [Constraint(table.column_index(k), EQ, True, False, v) for k, v in (inputs or {}).items()]
    choice = planner.choose(table, constraints, 0, None)
    values = [constraints[i].rhs for i, _argv, _omit, _in in sorted(choice.usage, key=lambda u: u[1])]
    ctx = BindContext(now=datetime.now(UTC), lookback_days=30, include_restricted=False, marketplace_ids=lambda: [US])
    bound = planner.bind(choice.plan, values, ctx)
    return bound.requests[0].body["query"]


@pytest.mark.parametrize("table", GRAPHQL_TABLES, ids=[t.name for t in GRAPHQL_TABLES])
def test_every_query_a_table_builds_is_valid_for_amazons_schema(table: TableSpec, models_dir) -> None:
    """Every column asked for, with every value of every enum input: the query validates against Amazon's schema
    and stays within createQuery's 8,000 characters."""
    spec = table.routes[0]
    assert isinstance(spec, DocumentSpec)
    schema = _schema(models_dir, spec)
    names = list(spec.enums)
    for chosen in itertools.product(*(spec.enums[n] for n in names)):
        query = _built_query(table, dict(zip(names, chosen, strict=True)))
        assert validate(schema, parse(query)) == [], query
        assert len(query) <= 8000


# ------------------------------------------------------------------------------------------------ SQL → GraphQL
@pytest.fixture(scope="module")
def emu():
    with start(orders=1500, time_scale=500.0) as e:  # a document URL lives 0.6 s here
        yield e


@pytest.fixture
def kiosk(emu) -> KioskStore:
    """The emulator's Data Kiosk store, its controls restored after the test."""
    emu.reset_limits()
    st = store(emu.dataset)
    saved = (st.timing, st.page_size)
    yield st
    st.timing, st.page_size = saved
    st.outcomes.clear()


def _db(emu, **keys) -> Database:
    return Database(settings_for(emu, MarketplaceIds="US", **keys), poll_scale=1 / emu.time_scale)


def _run(db: Database, sql: str) -> list[tuple]:
    with db.statement():
        return list(db.connection.execute(sql))


def _last_query(kiosk: KioskStore) -> str:
    """The text of the query created last."""
    return max(kiosk.queries.values(), key=lambda q: q.stamp).text


def _operations(db: Database) -> list[str]:
    return [c.operation for c in db.last_calls()]


def test_only_the_columns_the_query_uses_are_asked_for(emu, kiosk: KioskStore) -> None:
    start, end = TODAY - timedelta(days=10), TODAY - timedelta(days=4)
    with _db(emu) as db:
        rows = _run(db, f"SELECT startDate, sales_unitsOrdered FROM sales_traffic_by_date WHERE "
                        f"startDate >= '{start}' AND endDate <= '{end}' AND traffic_sessions > 0 ORDER BY 1")
        assert _operations(db) == ["createQuery", "getQuery", "getDocument"]
    assert _last_query(kiosk) == (
        f'query{{analytics_salesAndTraffic_2024_04_24{{salesAndTrafficByDate(aggregateBy:DAY,startDate:"{start}",'
        f'endDate:"{end}",marketplaceIds:["{US}"]){{startDate endDate marketplaceId sales{{unitsOrdered}} '
        'traffic{sessions}}}}')
    assert [r[0] for r in rows] == [(start + timedelta(days=n)).isoformat() for n in range(7)]
    assert sum(r[1] for r in rows) > 0


def test_json_columns_ask_for_their_selection(emu, kiosk: KioskStore) -> None:
    with _db(emu) as db:
        rows = _run(db, f"SELECT sku, sales_orderedProductSales_amount, netProceeds_total_amount, "
                        "(SELECT sum(c.value ->> '$.aggregatedDetail.totalAmount.amount') FROM json_each(fees) AS f, "
                        "json_each(f.value, '$.charges') AS c) AS fees_total FROM economics "
                        f"WHERE startDate >= '{TODAY - timedelta(days=30)}' AND dateAggregation = 'RANGE'")
    query = _last_query(kiosk)
    assert "fees{feeTypeName charges{identifier startDate endDate aggregatedDetail{amount{amount currencyCode}" in query
    assert "aggregateBy:{date:RANGE,productId:MSKU}" in query and "ads{" not in query and "cost{" not in query
    assert rows and all(sales - fees == pytest.approx(proceeds) for _sku, sales, proceeds, fees in rows)


def test_ranges_become_whole_periods(emu, kiosk: KioskStore) -> None:
    """With WEEK, a range on startDate ends at the Saturday of its last week (a week starting in the range is
    whole); Amazon starts at the first Sunday; SQLite keeps the rows of the range."""
    low, high = TODAY - timedelta(days=60), TODAY - timedelta(days=20)
    with _db(emu) as db:
        rows = _run(db, f"SELECT startDate, endDate, aggregateBy FROM sales_traffic_by_date('WEEK') "
                        f"WHERE startDate >= '{low}' AND startDate < '{high}' ORDER BY 1")
    saturday = (high - timedelta(days=1)) + timedelta(days=(5 - (high - timedelta(days=1)).weekday()) % 7)
    assert f'startDate:"{low}",endDate:"{saturday}"' in _last_query(kiosk)
    assert rows and all(r[2] == "WEEK" for r in rows)
    firsts = [date.fromisoformat(r[0]) for r in rows]
    assert all(d.weekday() == 6 and low <= d < high for d in firsts)
    assert date.fromisoformat(rows[-1][1]) == saturday  # the last week is whole, though it ends after the range


def test_marketplaces_go_in_one_query(emu, kiosk: KioskStore) -> None:
    with _db(emu) as db:
        rows = _run(db, f"SELECT DISTINCT marketplaceId FROM sales_traffic_by_date WHERE marketplaceId IN ('US', 'DE') "
                        f"AND startDate >= '{TODAY - timedelta(days=3)}' ORDER BY 1")
        assert _operations(db).count("createQuery") == 1
    assert f'marketplaceIds:["{DE}","{US}"]' in _last_query(kiosk)
    assert rows == [(DE,), (US,)]


def test_no_range_reads_the_last_lookback_days_and_says_so(emu, kiosk: KioskStore) -> None:
    with _db(emu, LookbackDays=10) as db:
        rows = _run(db, "SELECT count(*), min(startDate), max(endDate) FROM sales_traffic_by_date")
        notices = db.notices()
    first, last = TODAY - timedelta(days=10), TODAY - timedelta(days=1)
    assert rows == [(10, first.isoformat(), last.isoformat())]
    assert any("no lower bound on startDate / endDate" in n and "LookbackDays" in n for n in notices), notices


def test_a_value_the_query_cannot_take_is_an_error_before_any_call(emu, kiosk: KioskStore) -> None:
    with _db(emu) as db:
        with pytest.raises(ProgrammingError, match=r"aggregateBy = 'YEAR' is not one of DAY, WEEK, MONTH"):
            _run(db, "SELECT * FROM sales_traffic_by_date('YEAR')")
        with pytest.raises(ProgrammingError, match="not a marketplace id or country code"):
            _run(db, "SELECT * FROM economics WHERE marketplaceId = 'Atlantis'")
        assert _operations(db) == []


def test_explain_names_the_dataset_and_calls_nothing(emu, kiosk: KioskStore) -> None:
    with _db(emu) as db:
        plan = db.explain("SELECT * FROM economics WHERE marketplaceId = 'US' AND startDate >= '2026-01-01'")
        assert "economics(marketplaceIds='US', startDate←startDate>='2026-01-01')" in plan[0]
        assert "[est. ~1 query," in plan[0] and _operations(db) == []


# ------------------------------------------------------------------------------------------------ the lifecycle
SQL = (f"SELECT asin, sales_unitsOrdered FROM sales_traffic_by_asin WHERE startDate >= '{TODAY - timedelta(days=14)}' "
       "ORDER BY 2 DESC, 1")


def test_an_identical_recent_query_is_reused_and_its_document_cached(emu, kiosk: KioskStore,
                                                                     private_report_cache: Path) -> None:
    creates, downloads = emu.calls.count("createQuery"), emu.calls.count("reportDocumentDownload")
    with _db(emu) as db:
        first = _run(db, SQL)
        assert first and emu.calls.count("createQuery") == creates + 1
        assert _run(db, SQL) == first
        assert _operations(db) == ["getQuery"]  # the ledger's query, DONE: its document is on disk
    with _db(emu) as db:  # another connection (and process state), the same cache directory
        assert _run(db, SQL) == first
    assert emu.calls.count("createQuery") == creates + 1
    assert emu.calls.count("reportDocumentDownload") == downloads + 1
    files = [p for p in private_report_cache.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    with _db(emu, DisableReportCache="true") as db:
        assert _run(db, SQL) == first
    with _db(emu, ReportMaxAgeMinutes=0) as db:
        assert _run(db, SQL) == first
    assert emu.calls.count("createQuery") == creates + 3


def test_a_query_left_running_is_resumed_by_the_next_statement(emu, kiosk: KioskStore) -> None:
    kiosk.timing = (600.0, 600.0)  # 20 minutes of Amazon time: 2.4 s here
    creates = emu.calls.count("createQuery")
    sql = SQL.replace("ORDER BY", "AND aggregateBy = 'SKU' ORDER BY")
    with _db(emu, ReportWaitSeconds=0.2) as db, pytest.raises(OperationalError) as caught:
        _run(db, sql)
    message = str(caught.value)
    query_id = message.split("query ", 1)[1].split(" ", 1)[0]
    assert query_id in kiosk.queries and "is still IN_QUEUE" in message
    assert "resumes this query instead of requesting another" in message
    emu.advance_clock(1300)
    with _db(emu) as db:
        rows = _run(db, sql)
        assert rows and _operations(db)[:2] == ["getQuery", "getDocument"]
    assert emu.calls.count("createQuery") == creates + 1


def test_a_query_cancelled_meanwhile_is_an_error_then_asked_anew(emu, kiosk: KioskStore) -> None:
    kiosk.timing = (600.0, 600.0)
    sql = SQL.replace("ORDER BY", "AND aggregateBy = 'PARENT' ORDER BY")
    with _db(emu, ReportWaitSeconds=0.2) as db, pytest.raises(OperationalError, match="still IN_QUEUE"):
        _run(db, sql)
    query = max(kiosk.queries.values(), key=lambda q: q.stamp)
    query.cancelled = kiosk.reports.clock()  # as cancelQuery does
    kiosk.timing = (0.0, 0.0)
    creates = emu.calls.count("createQuery")
    with _db(emu) as db:
        with pytest.raises(ReportFailedError, match=rf"query {query.query_id} .* was CANCELLED"):
            _run(db, sql)
        assert emu.calls.count("createQuery") == creates  # the resumed query was the cancelled one
        assert _run(db, sql)
        assert emu.calls.count("createQuery") == creates + 1


def test_pages_are_followed_by_pagination_token(emu, kiosk: KioskStore) -> None:
    sql = (f"SELECT sku, startDate, sales_unitsOrdered FROM economics WHERE startDate >= "
           f"'{TODAY - timedelta(days=21)}' ORDER BY 1, 2")
    with _db(emu, DisableReportCache="true") as db:
        whole = _run(db, sql)
        kiosk.page_size = 10
        paged = _run(db, sql)
        assert _operations(db).count("createQuery") == -(-len(whole) // 10) > 2
        pages = _run(db, "SELECT page, count(*), count(DISTINCT queryId) FROM datakiosk_query('query { "
                         "analytics_economics_2024_03_15 { economics(startDate: \"" + str(TODAY - timedelta(days=21))
                         + f"\", endDate: \"{TODAY}\", marketplaceIds: [\"{US}\"]) {{ msku }} }} }}') GROUP BY page")
    assert paged == whole
    assert [p[0] for p in pages] == list(range(1, len(pages) + 1)) and all(p[1] <= 10 and p[2] == 1 for p in pages)
    with _db(emu) as db:  # every page is in the ledger: an identical statement creates nothing
        assert _run(db, sql) == whole
        creates = emu.calls.count("createQuery")
        assert _run(db, sql) == whole and emu.calls.count("createQuery") == creates
        assert set(_operations(db)) == {"getQuery"}


def test_fatal_is_an_error_with_the_query_id_and_amazons_message(emu, kiosk: KioskStore) -> None:
    kiosk.outcome_next("FATAL", reason="The requested marketplace is not enabled for this account.")
    with _db(emu, DisableReportCache="true") as db, pytest.raises(ReportFailedError) as caught:
        _run(db, SQL)
    message = str(caught.value)
    query_id = message.split("query ", 1)[1].split(" ", 1)[0]
    assert kiosk.queries[query_id].outcome == "FATAL"
    assert "ended FATAL: Amazon says: The requested marketplace is not enabled for this account. Check" in message
    assert f"salesAndTrafficByAsin for {US}, {TODAY - timedelta(days=14)} to {TODAY}" in message


def test_done_without_a_document_is_no_rows_and_a_notice(emu, kiosk: KioskStore) -> None:
    kiosk.outcome_next("DONE_NO_DATA")
    with _db(emu, DisableReportCache="true") as db:
        assert _run(db, SQL) == []
        told = [n for n in db.notices() if "is DONE without a document: Amazon has no data" in n]
        assert told and all(n.category is NoDataWarning for n in told)


# ------------------------------------------------------------------------------------------------ datakiosk_query
def test_datakiosk_query_reads_any_query(emu, kiosk: KioskStore) -> None:
    start = TODAY - timedelta(days=5)
    graphql = ('query { analytics_salesAndTraffic_2024_04_24 { salesAndTrafficByDate(aggregateBy: DAY, '
               f'startDate: "{start}", endDate: "{TODAY - timedelta(days=1)}", marketplaceIds: ["{US}"]) '
               '{ day: startDate sales { unitsOrdered } } } }')
    with _db(emu) as db:
        rows = _run(db, f"SELECT record ->> '$.day', record ->> '$.sales.unitsOrdered', queryId, page "
                        f"FROM datakiosk_query('{graphql}')")
        by_date = _run(db, f"SELECT startDate, sales_unitsOrdered FROM sales_traffic_by_date "
                           f"WHERE startDate >= '{start}' AND endDate < '{TODAY}' ORDER BY 1")
        assert [r[:2] for r in rows] == by_date and len(rows) == 5
        assert len({r[2] for r in rows}) == 1 and rows[0][2] in kiosk.queries and {r[3] for r in rows} == {1}
        with pytest.raises(MissingFilterError, match="needs one of graphql"):
            _run(db, "SELECT * FROM datakiosk_query")
        with pytest.raises(SPAPIError, match="Query 'sampleQuery' is not supported"):
            _run(db, "SELECT * FROM datakiosk_query('query { sampleQuery { sales { date } } }')")
        with pytest.raises(ReportFailedError) as caught:  # the schema refuses it: FATAL, with the error document
            _run(db, f"SELECT * FROM datakiosk_query('{graphql.replace('unitsOrdered', 'unitsSold')}')")
        message = str(caught.value)
        assert message.split("query ", 1)[1].split(" ", 1)[0] in kiosk.queries
        assert "ended FATAL: Amazon says: Cannot query field 'unitsSold' on type 'ByDateSales'" in message
