"""sqlspapi tables in Apache Spark (pyspark ≥ 4.0): a Python data source named ``sqlspapi``.

    >>> from sqlspapi.spark import register
    >>> register(spark)
    >>> df = (spark.read.format("sqlspapi").option("table", "orders")
    ...       .option("accounts", "all").option("credentialsFile", "/etc/sqlspapi/sellers.json")
    ...       .option("start", "2025-01-01").option("end", "2026-01-01").load())

Partitioned by seller account × date window; see docs/spark.md.
"""

from __future__ import annotations

from typing import Any

from sqlspapi.spark.partitions import ReadPlan, SqlspapiPartition, plan_partitions, read_plan
from sqlspapi.spark.source import SqlspapiDataSource
from sqlspapi.spark.types import spark_type, table_schema

__all__ = ["SqlspapiDataSource", "register", "PUSHDOWN_CONF", "ReadPlan", "SqlspapiPartition", "plan_partitions",
           "read_plan", "spark_type", "table_schema"]

#: The Spark setting that lets Python data sources take filters (off by default in Spark 4.1–4.3).
PUSHDOWN_CONF = "spark.sql.python.filterPushdown.enabled"


def register(spark: Any, *, pushdown: bool = True) -> None:
    """Register the ``sqlspapi`` data source on ``spark`` (a SparkSession); with ``pushdown`` (default) also turn
    on filter pushdown for Python data sources, so filters on ``account`` and the window column prune partitions.

    Without it, read with ``option("pushFilters", "false")`` (Spark refuses a reader that takes filters while the
    setting is off).
    """
    if pushdown:
        spark.conf.set(PUSHDOWN_CONF, "true")
    spark.dataSource.register(SqlspapiDataSource)
