"""``sync()``: run the sqlspapi dlt source into a destination (a DuckDB file by default), one sync per dataset at a
time, with progress on a terminal and a :class:`Summary` at the end.

The pipeline is named after the dataset (``sqlspapi_<dataset>``) and keeps its working files (load packages, state)
in ``pipelines_dir`` (default: ``sync/`` in sqlspapi's user cache directory, ``$SQLSPAPI_CACHE_DIR`` when set). A
package extracted but not loaded when a sync was killed is loaded by the next one before it reads anything. The lock
is an ``fcntl`` lock on ``<pipelines_dir>/<dataset>.lock`` holding the running sync's pid.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlspapi.errors import Error, OperationalError
from sqlspapi.reports.state import cache_root
from sqlspapi.sync.source import Recorder, source

__all__ = ["sync", "Summary", "SyncLockedError", "default_pipelines_dir", "DEFAULT_DUCKDB_FILE"]

#: The DuckDB file a sync writes by default (in the current directory). Not ``sqlspapi.duckdb``: DuckDB names a
#: file's catalog after it, and a catalog named like the dataset (schema) ``sqlspapi`` makes ``sqlspapi.orders``
#: ambiguous — DuckDB refuses such names.
DEFAULT_DUCKDB_FILE = "sqlspapi_mirror.duckdb"


class SyncLockedError(OperationalError):
    """Another sync of the same dataset is running (the message names the lock file and its pid)."""


@dataclass
class Summary:
    """What a sync did: ``tables`` rows loaded per table (written to the destination: rows read again unchanged are
    not counted), ``rows_read`` rows read from sqlspapi per table, ``calls`` SP-API calls, ``throttle_seconds`` time
    waited on rate limits, ``seconds`` the wall time, ``accounts_failed`` account → message for accounts whose read
    failed (their cursor did not advance), ``notices`` what the statements said (a default window …), ``pipeline``
    the dlt pipeline's name and ``destination`` where the mirror is."""

    tables: dict[str, int] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    throttle_seconds: float = 0.0
    seconds: float = 0.0
    accounts_failed: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    pipeline: str = ""
    destination: str = ""

    def text(self) -> str:
        """The summary as the command prints it."""
        width = max((len(t) for t in self.tables), default=5)
        lines = [f"{name:<{width}}  {self.tables.get(name, 0):>9,} rows loaded  ({self.rows_read.get(name, 0):,} read)"
                 for name in self.rows_read]
        lines.append(f"{self.calls:,} SP-API calls, {self.throttle_seconds:.1f} s waited on rate limits, "
                     f"{self.seconds:.1f} s in all → {self.destination}")
        lines += [f"account {name!r} failed (its cursor did not advance): {message}"
                  for name, message in self.accounts_failed.items()]
        lines += [f"notice: {notice}" for notice in self.notices]
        return "\n".join(lines) + "\n"


def default_pipelines_dir() -> Path:
    """``sync/`` in sqlspapi's user cache directory (``$SQLSPAPI_CACHE_DIR`` when set)."""
    return cache_root(None) / "sync"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (its content: the holder's pid), or fail at once."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole sync
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            raise SyncLockedError(f"another sync of this dataset is running{f' (pid {pid})' if pid else ''}: "
                                  f"lock file {path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


class _Progress:
    """One status line on a terminal: rows read per table as they load."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.rows: dict[str, int] = {}
        self._drawn = 0.0

    def __call__(self, table: str, rows: int) -> None:
        self.rows[table] = rows
        now = time.monotonic()
        if now - self._drawn >= 0.2:
            self._drawn = now
            text = " · ".join(f"{t} {n:,}" for t, n in self.rows.items())
            self.stream.write(f"\r\x1b[Ksync: {text} rows")
            self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _destination(destination: str, credentials: str | None, dataset: str) -> tuple[Any, str]:
    """The dlt destination (a DuckDB file, :data:`DEFAULT_DUCKDB_FILE` by default; a PostgreSQL URL) and how to name
    it."""
    import dlt

    if destination == "duckdb":
        path = credentials or DEFAULT_DUCKDB_FILE
        if Path(path).stem == dataset:
            raise OperationalError(f"DuckDB file {path} and dataset {dataset!r} have the same name: DuckDB would find "
                                   f"{dataset}.<table> ambiguous (catalog or schema); rename one")
        return dlt.destinations.duckdb(path), f"duckdb {path}"
    if destination == "postgres":
        if not credentials:
            raise OperationalError("destination postgres needs credentials: a URL postgresql://user:pass@host/db")
        return dlt.destinations.postgres(credentials), "postgres"
    from dlt.common.destination import Destination

    # any other dlt destination by name (filesystem, bigquery, snowflake …): its credentials here or in dlt's config
    return Destination.from_reference(destination, credentials=credentials), destination


def _loaded(pipeline: Any) -> dict[str, int]:
    """Rows dlt normalized (and so loaded) per table in the last run, by table name as sqlspapi spells it."""
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace is not None else None
    return {name: count for name, count in (info.row_counts if info is not None else {}).items()
            if not name.startswith("_dlt")}


def _reason(exc: Exception) -> Exception:
    """What to tell of a failed pipeline run: the sqlspapi error dlt wrapped (a step of the pipeline failed because
    of it), else the first line of dlt's message."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, Error):
            return cause
        cause = cause.__cause__ or cause.__context__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return OperationalError(f"dlt: {first}")


def sync(connection_string: str | None = None, *, tables: Sequence[str], destination: str = "duckdb",
         dataset: str = "sqlspapi", credentials: str | None = None, pipelines_dir: str | None = None,
         demo: bool = False, since: str | None = None, overlap_days: float | None = None, backfill: str = "auto",
         progress: bool | None = None) -> Summary:
    """Mirror ``tables`` of the connection into ``destination`` and return a :class:`Summary`.

    ``destination``: ``duckdb`` (``credentials``: the file, default ``./sqlspapi_mirror.duckdb``), ``postgres``
    (``credentials``: a URL) or any dlt destination name; ``dataset`` is the schema the tables land in; ``since``,
    ``overlap_days`` and ``backfill`` as in :func:`sqlspapi.sync.source`. ``progress`` draws rows per table on
    standard error (default: when it is a terminal). Raises :class:`SyncLockedError` when a sync of the same dataset
    is running.
    """
    import dlt

    started = time.monotonic()
    folder = Path(pipelines_dir) if pipelines_dir else default_pipelines_dir()
    show = sys.stderr.isatty() if progress is None else progress
    drawer = _Progress(sys.stderr) if show else None
    recorder = Recorder(on_rows=drawer)
    target, where = _destination(destination, credentials, dataset)
    name = f"sqlspapi_{dataset}"
    with _locked(folder / f"{dataset}.lock"):
        pipeline = dlt.pipeline(pipeline_name=name, pipelines_dir=str(folder), destination=target,
                                dataset_name=dataset)
        if pipeline.has_pending_data:  # a sync killed after extracting: load what it extracted first
            pipeline.normalize()
            pipeline.load()
        data = source(connection_string, tables=tables, demo=demo, since=since, overlap_days=overlap_days,
                      backfill=backfill, recorder=recorder)
        try:
            pipeline.run(data)
        except Exception as exc:
            raise _reason(exc) from exc
        finally:
            if drawer is not None:
                drawer.close()
        loaded = _loaded(pipeline)
    names = {t: pipeline.default_schema.naming.normalize_table_identifier(t) for t in tables}
    return Summary(tables={t: loaded.get(names[t], 0) for t in tables},
                   rows_read={t: recorder.rows.get(t, 0) for t in tables}, calls=recorder.calls,
                   throttle_seconds=recorder.throttle_seconds, seconds=time.monotonic() - started,
                   accounts_failed=dict(recorder.accounts_failed), notices=list(recorder.notices), pipeline=name,
                   destination=where)
