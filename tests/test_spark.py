"""The ``sqlspapi`` Spark data source (issue 12 §2) in Spark local mode against the emulator: a table read gives the
rows of the same sqlspapi query, partitions are account × date window, filters on the window and on ``account``
prune partitions (and calls), and two seller accounts read through one credentials file."""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'sqlspapi[spark]')")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (Spark's Python data sources need it)")
if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
    pytest.skip("no Java runtime: Spark needs one (apt-get install default-jre-headless)", allow_module_level=True)

import sqlspapi  # noqa: E402
from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start  # noqa: E402

SECOND_TOKEN = "Atzr|FAKE-second-shop"
START, END = "2026-09-01", "2026-11-01"


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with start(orders=300, time_scale=1000) as e:
        e.add_account(SECOND_TOKEN)
        yield e


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A Spark session in local mode with two cores, its Python workers running this interpreter."""
    from pyspark.sql import SparkSession

    from sqlspapi.spark import register

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("sqlspapi-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    register(session)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory, emu: Any) -> Path:
    """A credentials file with two named accounts on the emulator (two refresh tokens: same data, own limits)."""
    common = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "token_url": emu.token_url,
              "endpoint": emu.url}
    path = tmp_path_factory.mktemp("spark-accounts") / "credentials.json"
    path.write_text(json.dumps({"shop_us": {**common, "refresh_token": DEMO_REFRESH_TOKEN},
                                "shop_eu": {**common, "refresh_token": SECOND_TOKEN}}))
    path.chmod(0o600)
    return path


def reader(spark: Any, table: str, **options: Any) -> Any:
    read = spark.read.format("sqlspapi").option("table", table)
    for key, value in options.items():
        read = read.option(key, value)
    return read.load()


def utc(value: Any) -> Any:
    """Spark shows timestamps in the session time zone (UTC here) without a zone: compare them as UTC instants."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def spark_rows(df: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(utc(v) for v in row) for row in df.collect()), key=repr)


def sqlspapi_rows(connection_string: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = sqlspapi.connect(connection_string).cursor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cursor.execute(sql)
        rows = [tuple(r) for r in cursor.fetchall()]
    return [d[0] for d in cursor.description], sorted(rows, key=repr)


def api_callers(emu: Any) -> set[str]:
    return {c.account for c in emu.calls if c.operation != "lwaToken"}


def test_a_table_read_gives_the_rows_of_the_same_sqlspapi_query(spark: Any, emu: Any) -> None:
    df = reader(spark, "orders", connection=emu.connection_string(), start=START, end=END)
    columns, expected = sqlspapi_rows(emu.connection_string(),
                                      f"SELECT * FROM orders WHERE createdTime >= '{START}' AND createdTime < '{END}'")
    assert df.columns == columns
    assert dict(df.dtypes)["createdTime"] == "timestamp"
    assert dict(df.dtypes)["proceeds_grandTotal_amount"] == "decimal(38,18)"
    assert len(expected) > 10, "the emulator has orders in the window"
    assert spark_rows(df) == expected


def test_partitions_are_the_date_windows_of_one_account(spark: Any, emu: Any) -> None:
    cs = emu.connection_string()
    assert reader(spark, "orders", connection=cs, start=START, end=END).rdd.getNumPartitions() == 3  # 30+30+1 days
    assert reader(spark, "orders", connection=cs, start=START, end=END, windowDays=7).rdd.getNumPartitions() == 9
    assert reader(spark, "marketplaces", connection=cs).rdd.getNumPartitions() == 1  # no date column


def test_filters_on_the_window_column_prune_windows_and_keep_the_answer(spark: Any, emu: Any) -> None:
    cs = emu.connection_string()

    def orders() -> Any:  # a fresh read per query (docs/spark.md, "One read per filtered query")
        return reader(spark, "orders", connection=cs, start=START, end=END)

    october = orders().filter("createdTime >= '2026-10-01'")
    assert october.rdd.getNumPartitions() == 2
    _, expected = sqlspapi_rows(cs, f"SELECT orderId FROM orders WHERE createdTime >= '2026-10-01' "
                                    f"AND createdTime < '{END}'")
    assert spark_rows(october.select("orderId")) == expected
    everything = orders().count()
    edge = utc(orders().orderBy("createdTime").select("createdTime").first()[0])  # an order exactly on the bound
    up_to = orders().filter(f"createdTime <= '{edge.isoformat()}'")
    assert [utc(r[0]) for r in up_to.select("createdTime").collect()] == [edge]
    assert up_to.rdd.getNumPartitions() == 1
    after = orders().filter(f"createdTime > '{edge.isoformat()}'")
    assert edge not in {utc(r[0]) for r in after.select("createdTime").collect()}
    assert after.count() == everything - 1


def test_two_accounts_read_one_partition_each_with_an_account_column(spark: Any, emu: Any, credentials: Path) -> None:
    df = reader(spark, "orders", accounts="all", credentialsFile=str(credentials), start=START, end=END)
    assert df.columns[-1] == "account"
    assert df.rdd.getNumPartitions() == 2, "one partition per account, holding its windows in order"
    rows = df.select("account", "orderId").collect()
    for name in ("shop_us", "shop_eu"):
        _, alone = sqlspapi_rows(f"CredentialsFile={credentials};Account={name}",
                                 f"SELECT orderId FROM orders WHERE createdTime >= '{START}' AND createdTime < '{END}'")
        assert sorted((r.orderId,) for r in rows if r.account == name) == alone
    assert reader(spark, "marketplaces", accounts="shop_us,shop_eu",
                  credentialsFile=str(credentials)).rdd.getNumPartitions() == 2


def test_a_filter_on_account_calls_only_that_account(spark: Any, emu: Any, credentials: Path) -> None:
    """Months no other test reads, so sqlspapi's report cache cannot answer for an account instead of the API."""
    def orders(start: str, end: str, **options: str) -> Any:
        return reader(spark, "orders", accounts="all", credentialsFile=str(credentials), start=start, end=end,
                      **options)

    eu = orders("2026-03-01", "2026-04-01").filter("account = 'shop_eu'")
    assert eu.rdd.getNumPartitions() == 2, "one account left: its windows are partitions again (30 + 1 days)"
    emu.calls.clear()
    assert {r.account for r in eu.select("account").collect()} == {"shop_eu"}
    assert api_callers(emu) == {SECOND_TOKEN}
    emu.calls.clear()
    both = orders("2026-03-01", "2026-04-01").filter("account IN ('shop_eu', 'shop_us', 'shop_xx')")
    assert sorted(r.account for r in both.select("account").distinct().collect()) == ["shop_eu", "shop_us"]
    assert "demo" in api_callers(emu)
    emu.calls.clear()
    assert orders("2026-03-01", "2026-04-01").filter("account = 'shop_xx'").count() == 0
    assert api_callers(emu) == set()
    unpruned = orders("2026-06-01", "2026-07-01", pushFilters="false").filter("account = 'shop_eu'")
    assert {r.account for r in unpruned.select("account").collect()} == {"shop_eu"}, "Spark applies the filter"
    assert api_callers(emu) == {"demo", SECOND_TOKEN}, "without pushdown every account is read"


def test_options_that_cannot_apply_are_refused_with_the_reason(spark: Any, emu: Any) -> None:
    with pytest.raises(Exception, match="table marketplaces has no date window column, so start/end do not apply"):
        reader(spark, "marketplaces", connection=emu.connection_string(), start=START)
    with pytest.raises(Exception, match="no sqlspapi table 'ordres'"):
        reader(spark, "ordres", connection=emu.connection_string())
