"""Golden pairs for the bridge's SQL translation: PostgreSQL as BI tools send it → SQLite → the rows PostgreSQL gives.

Each case is (PostgreSQL SQL, the expected SQLite SQL, the rows it returns on the table ``t`` below), in the style of
sqlglot's fixture tests. The expected rows were checked against PostgreSQL 15 semantics (C collation, NULLS LAST
ascending, ISO timestamps). Run through ``PgSession`` so the bridge's functions (``pg_date_trunc`` …) are registered.
"""

from __future__ import annotations

import ast
from pathlib import Path

import apsw
import pytest

from sqlspapi.server import pgtypes
from sqlspapi.server.session import PgError, PgSession
from sqlspapi.server.translate import split_statements, translate

ROWS = ("(1, 'ab_c', 1.5, '2024-01-05T10:20:30Z', 1), (2, 'Abd', 0.5, '2024-02-29 23:00:00', 0), "
        "(3, null, 2.25, '2024-03-10', null)")

GOLDEN_FILE = Path(__file__).parent / "fixtures" / "translate_golden.sql"


def load_golden() -> list[tuple[str, str, list]]:
    """Blocks of three lines (PostgreSQL, SQLite, rows as a Python literal), separated by blank lines."""
    text = "\n".join(line for line in GOLDEN_FILE.read_text().splitlines() if not line.startswith("-- "))
    blocks = [b.strip().split("\n") for b in text.split("\n\n") if b.strip()]
    return [(pg, lite, ast.literal_eval(rows)) for pg, lite, rows in blocks]


GOLDEN = load_golden()


@pytest.fixture(scope="module")
def session():
    con = apsw.Connection(":memory:")
    con.execute(f"create table t(id integer, name text, val real, ts text, flag boolean); insert into t values {ROWS}")
    return PgSession(con, user="bi", database_name="main")


@pytest.mark.parametrize(("pg_sql", "sqlite_sql", "rows"), GOLDEN, ids=[c[0][:60] for c in GOLDEN])
def test_golden(session, pg_sql, sqlite_sql, rows):
    assert translate(pg_sql, session.catalog.columns).sql == sqlite_sql
    [result] = list(session.simple_query(pg_sql))
    assert list(result.rows) == rows


COLUMNS = [  # PostgreSQL's result column names and types
    ("select count(*), sum(val), avg(id), max(id) from t", [("count", 20), ("sum", 701), ("avg", 701), ("max", 20)]),
    ("select count(*)::int, id::text, 1::int, 'x'::varchar from t group by id",
     [("count", 23), ("id", 25), ("int4", 23), ("varchar", 1043)]),
    ("select date_trunc('day', ts), extract(year from ts), ts::timestamp + interval '1 day' from t",
     [("date_trunc", 1114), ("extract", 1700), ("?column?", 1114)]),
    ("select current_date, now(), id > 1, flag, version() from t",
     [("current_date", 1082), ("now", 1184), ("?column?", 16), ("flag", 16), ("version", 25)]),
    ("select ID, Name as N, \"id\" from t", [("id", 20), ("n", 25), ("id", 20)]),
    ("select * from t", [("id", 20), ("name", 25), ("val", 701), ("ts", 25), ("flag", 16)]),
    ("select (select max(val) from t), exists (select 1 from t), case when flag then id end from t",
     [("max", 701), ("exists", 16), ("case", 20)]),
]


@pytest.mark.parametrize(("sql", "columns"), COLUMNS)
def test_result_columns_named_and_typed_as_postgresql(session, sql, columns):
    prepared = session.prepare(sql, [])
    assert [(c.name, c.type_oid) for c in prepared.columns] == columns


PARAMS = [  # psqlODBC sends 0 for every parameter: the bridge infers real types
    ("select * from t where id = $1 and name = $2 and val > $3", [20, 25, 701]),
    ("select * from t where $1 = id or ts between $2 and $3", [20, 25, 25]),
    ("select * from t where id in ($1, $2) limit $3 offset $4", [20, 20, 20, 20]),
    ("select * from t a where a.flag = $1 and upper(a.name) like $2", [16, 25]),
    ("select $1::int, $2", [23, 25]),
]


@pytest.mark.parametrize(("sql", "oids"), PARAMS)
def test_parameter_types_inferred(session, sql, oids):
    assert session.prepare(sql, [0] * len(oids)).param_oids == oids


ERRORS = [  # never a silently changed query: sqlglot warnings and unsupported constructs are errors
    ("select * from t for update", "0A000", "FOR UPDATE"),
    ("select * from t where", "42601", "syntax"),
    ("select 'x'::int", "22P02", "invalid input syntax for type integer"),
    ("select date_trunc('fortnight', ts) from t", "22P02", "fortnight"),
    ("select * from nope", None, "no such table"),
    ("select 1::money", "0A000", "money"),
    ("select to_char(val, '999.99') from t", "0A000", "to_char"),
    ("select array(select id from t)", "0A000", "ARRAY(subquery)"),
    ("select ts::timestamp + 1 from t", "0A000", "date/time arithmetic"),
    ("select distinct on (name) id from t order by name, val * 2", "0A000", "DISTINCT ON"),
]


@pytest.mark.parametrize(("sql", "sqlstate", "text"), ERRORS)
def test_errors(session, sql, sqlstate, text):
    with pytest.raises(Exception) as caught:
        for result in session.simple_query(sql):
            list(result.rows)
    if sqlstate:
        assert isinstance(caught.value, PgError) and caught.value.sqlstate == sqlstate
    assert text.lower() in str(caught.value).lower()


def test_sqlglot_warning_is_an_error(monkeypatch):
    import logging

    from sqlglot.dialects.postgres import Postgres

    original = Postgres.Parser.parse

    def warn_then_parse(self, *args, **kwargs):
        logging.getLogger("sqlglot").warning("something was dropped")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Postgres.Parser, "parse", warn_then_parse)
    with pytest.raises(PgError) as caught:
        translate("select 1")
    assert caught.value.sqlstate == "42601" and "something was dropped" in caught.value.message


def test_split_statements_respects_quotes_and_comments():
    sql = "SET a = 'x;y'; select \"a;b\" from t -- c;\n; select $$;$$; /* ; */ select E'\\';'"
    assert split_statements(sql) == ["SET a = 'x;y'", 'select "a;b" from t -- c;', "select $$;$$",
                                     "/* ; */ select E'\\';'"]
    assert split_statements(" ; ;") == []


def test_qualifiers_stripped():
    assert translate('select "public"."t"."id" from "public"."t"').sql == 'SELECT "t"."id" FROM "t"'
    assert translate("select pg_catalog.format_type(25, -1)").sql == 'SELECT FORMAT_TYPE(25, -1) AS "format_type"'
    assert translate("select c.relname from pg_catalog.pg_class c where c.relname OPERATOR(pg_catalog.~) '^t$' "
                     "COLLATE pg_catalog.default").sql == \
        "SELECT c.relname FROM pg_catalog.pg_class AS c WHERE c.relname REGEXP '^t$'"


def test_pg_value_functions():
    assert pgtypes.pg_date_trunc("month", "2024-05-17T08:00:00-05:00") == "2024-05-01 00:00:00"
    assert pgtypes.pg_extract("isodow", "2024-06-02") == 7 and pgtypes.pg_extract("quarter", "2024-06-02") == 2
    assert pgtypes.pg_add_interval("2024-01-31 10:00:00", "1 year 1 mon 1 day 01:30:00") == "2025-03-01 11:30:00"
    assert pgtypes.pg_add_interval("2024-03-01", "1 week", -1) == "2024-02-23 00:00:00"
    assert pgtypes.oid_for_decltype("INTEGER") == 20 and pgtypes.oid_for_decltype("VARCHAR(20)") == 1043
    assert pgtypes.oid_for_decltype("BOOLEAN") == 16 and pgtypes.oid_for_decltype(None) is None
    assert pgtypes.format_type(20) == "bigint" and pgtypes.format_type(1009) == "text[]"
