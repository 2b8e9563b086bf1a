"""The ``sqlspapi`` Spark data source: ``spark.read.format("sqlspapi").option("table", "orders")…load()``.

The driver plans the read (:mod:`sqlspapi.spark.partitions`); each partition runs on an executor, opens a sqlspapi
DB-API connection for its account (the read's connection string with ``Accounts=<that account>``) and runs
``SELECT cols FROM table WHERE window >= start AND window < end`` for each of its windows in order, streaming Arrow
batches. The calls of every process on one machine share each account's rate-limit buckets through the
``RateLimitStore`` file (docs/internals.md, "Shared rate limits").
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, Filter, InputPartition
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType

from sqlspapi.spark.partitions import ReadPlan, SqlspapiPartition, Window, plan_partitions, push_filters, read_plan
from sqlspapi.spark.types import converters, table_schema

__all__ = ["SqlspapiDataSource", "SqlspapiReader", "FilteringReader", "select_statement", "read_partition"]

#: Rows fetched from the sqlspapi cursor at a time (memory stays flat however large the partition).
BATCH = 500

log = logging.getLogger(__name__)
T = TypeVar("T")


def _noting(told: set[str], step: Callable[[], T]) -> T:
    """Run ``step``; the notices sqlspapi gives as warnings (a default window, NULL restricted columns) go to the
    executor's log once each instead of its stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = step()
    for w in caught:
        if str(w.message) not in told:
            told.add(str(w.message))
            log.warning("%s", w.message)
    return result


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def select_statement(table: str, columns: Sequence[str], window_column: str | None,
                     window: Window) -> tuple[str, tuple[str, ...]]:
    """The SQL of one window of a partition and its parameters:
    ``SELECT "a", "b" FROM "t" WHERE "w" >= ? AND "w" < ?`` (an open end has no condition)."""
    where: list[str] = []
    params: list[str] = []
    if window_column is not None:
        for op, bound in ((">=", window[0]), ("<", window[1])):
            if bound is not None:
                where.append(f"{_ident(window_column)} {op} ?")
                params.append(bound)
    sql = f"SELECT {', '.join(_ident(c) for c in columns)} FROM {_ident(table)}"
    return (sql + " WHERE " + " AND ".join(where) if where else sql), tuple(params)


def read_partition(plan: ReadPlan, schema: StructType, partition: SqlspapiPartition) -> Iterator[pa.RecordBatch]:
    """The rows of one partition as Arrow record batches typed for ``schema`` (one per :data:`BATCH` rows fetched,
    so Spark's conversion keeps pace with the pages instead of running after the last one): one sqlspapi
    connection for the partition's account, its windows read one after the other."""
    import sqlspapi

    if not partition.windows:
        return
    convert = converters(schema)
    arrow = to_arrow_schema(schema, timezone="UTC")
    columns = schema.fieldNames()
    keys = {"Accounts": partition.account} if partition.account is not None else {}
    connection = sqlspapi.connect(plan.connection_string, **keys)
    try:
        cursor = connection.cursor()
        told: set[str] = set()
        for window in partition.windows:
            statement = select_statement(plan.table, columns, plan.window_column, window)
            _noting(told, lambda s=statement: cursor.execute(*s))
            while batch := _noting(told, lambda: cursor.fetchmany(BATCH)):
                values = zip(*batch, strict=True)
                yield pa.RecordBatch.from_arrays(
                    [pa.array([None if v is None else f(v) for v in column], type=t)
                     for f, column, t in zip(convert, values, arrow.types, strict=True)], schema=arrow)
    finally:
        connection.close()


class SqlspapiReader(DataSourceReader):
    """Reads a planned sqlspapi table: :meth:`partitions` are account × date window, :meth:`read` streams one."""

    def __init__(self, plan: ReadPlan, schema: StructType) -> None:
        self.plan = plan
        self.schema = schema

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.plan!r})"

    def partitions(self) -> Sequence[InputPartition]:
        """Account × date window (docs/spark.md, "Partitioning")."""
        return plan_partitions(self.plan)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        """The rows of ``partition`` (run on an executor)."""
        assert isinstance(partition, SqlspapiPartition)
        return read_partition(self.plan, self.schema, partition)


class FilteringReader(SqlspapiReader):
    """A :class:`SqlspapiReader` that also takes Spark's filters on ``account`` and the window column to prune
    partitions (needs ``spark.sql.python.filterPushdown.enabled=true``, which :func:`sqlspapi.spark.register` sets)."""

    def pushFilters(self, filters: list[Filter]) -> list[Filter]:  # noqa: N802 (Spark's name)
        """Narrow the accounts and the window; return the filters Spark must still apply."""
        self.plan, remaining = push_filters(self.plan, filters)
        return remaining


class SqlspapiDataSource(DataSource):
    """The ``sqlspapi`` data source (pyspark ≥ 4.0; filter pushdown ≥ 4.1).

    Options: ``table`` (required); ``connection`` (a connection string), and/or ``profile``, ``accounts``,
    ``credentialsFile``, ``credentialsSecret``; ``start``/``end`` (dates or ISO timestamps, UTC unless they say);
    ``windowDays`` (default 30); ``windowColumn`` (default: the table's); ``pushFilters`` (default true).
    """

    @classmethod
    def name(cls) -> str:
        """``spark.read.format("sqlspapi")``."""
        return "sqlspapi"

    def __repr__(self) -> str:
        return f"SqlspapiDataSource(table={self.options.get('table')!r})"

    def schema(self) -> StructType:
        """The table's columns as Spark types (:mod:`sqlspapi.spark.types`), plus ``account`` with ``accounts``."""
        plan, table = read_plan(self.options)
        return table_schema(table, with_account=plan.named_accounts)

    def reader(self, schema: StructType) -> DataSourceReader:
        """A reader of the planned read (filter pushdown unless ``option("pushFilters", "false")``)."""
        plan, _ = read_plan(self.options)
        return (FilteringReader if plan.pushdown else SqlspapiReader)(plan, schema)
