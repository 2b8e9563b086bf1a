"""Rate-limit buckets shared by every sqlspapi process on the machine (``RateLimitStore``).

Amazon meters each (application, seller) pair, not each process: two ``sqlspapi query`` processes that each
believed they owned the quota would draw 429s. So a :class:`BucketStore` keeps one row per (account, operation) in
a small SQLite file — rate, burst, tokens and the wall-clock time (``time.time()``) they were counted at — and a
:class:`SharedBucket` is the :class:`~sqlspapi.http.ratelimit.Bucket` interface over one row:

* :meth:`SharedBucket.reserve` is one short ``BEGIN IMMEDIATE`` transaction: refill the row for the time elapsed
  (a clock set back adds nothing), take a token (the count may go negative: callers of any process already queued)
  and return the caller's wait, exactly as the in-process :class:`~sqlspapi.http.ratelimit.TokenBucket` does.
  ``refund``, ``drain`` and ``set_rate`` / ``observe_limit_header`` are transactions too, so a 429 seen by one
  process, or a rate one process learned from ``x-amzn-RateLimit-Limit`` (the demo emulator's scaled rate), holds
  for all of them. ``tokens``, ``rate``, ``burst`` and ``seconds_for`` read the row without writing.
* A row is created, full, from the operation's published plan the first time any process uses the bucket; rows
  not touched for a day (:data:`PRUNE_SECONDS`) are deleted when a process opens the file.
* The file (default ``ratelimits.sqlite`` in the user cache directory, see :func:`store_path`) is WAL, mode 0600,
  in a 0700 folder when sqlspapi creates it; writers wait for each other up to :data:`BUSY_TIMEOUT_MS`. It holds
  the account key (a sha256 hash) and operation names: nothing secret.
* One connection per store per process, used under a lock by every thread: a transaction takes 25-40 µs with 1 or 8
  threads (a connection per thread: 23-30 µs, not worth unbounded connections beside an HTTP call of >= 10 ms;
  ``benchmarks/bench_shared_limits.py`` measures both); a forked child opens its own.

Nothing fails a query for the store: a file that cannot be opened (read-only home, not a database) makes
:meth:`BucketStore.open` log one WARNING naming the file and return None (the caller then counts in memory), and
a store that fails later (locked past the timeout, disk error) logs one WARNING and each bucket goes on in memory
from the state it last saw.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple, TypeVar

from sqlspapi.http.ratelimit import MIN_RATE, Bucket, TokenBucket, refilled, wait_for
from sqlspapi.reports.state import cache_root, private_dir

T = TypeVar("T")

log = logging.getLogger("sqlspapi.http.bucketstore")

#: File name of the default store, in the user cache directory.
FILE_NAME = "ratelimits.sqlite"
#: The ``RateLimitStore`` value that keeps the buckets in this process only.
MEMORY = "memory"
#: How long a transaction waits for another process's (milliseconds).
BUSY_TIMEOUT_MS = 5000
#: Rows not touched for this long (seconds) are deleted when a process opens the store.
PRUNE_SECONDS = 86400.0

_SCHEMA = """CREATE TABLE IF NOT EXISTS buckets (
    account TEXT NOT NULL, operation TEXT NOT NULL, rate REAL NOT NULL, burst INTEGER NOT NULL,
    tokens REAL NOT NULL, updated REAL NOT NULL, PRIMARY KEY (account, operation)) WITHOUT ROWID"""
_READ = "SELECT rate, burst, tokens, updated FROM buckets WHERE account = ? AND operation = ?"
_WRITE = "INSERT OR REPLACE INTO buckets (account, operation, rate, burst, tokens, updated) VALUES (?, ?, ?, ?, ?, ?)"


def store_path(setting: str | None) -> Path | None:
    """The file a ``RateLimitStore`` value names: None (not set) = ``ratelimits.sqlite`` in the user cache directory
    (``$SQLSPAPI_CACHE_DIR`` when set; not ``ReportCacheDir``, which connections may set differently); ``memory``
    (any case) or empty = None, the buckets stay in this process."""
    if setting is None:
        return cache_root(None) / FILE_NAME
    text = str(setting).strip()
    if not text or text.lower() == MEMORY:
        return None
    return Path(text)


class BucketRow(NamedTuple):
    """One row of the store: a bucket as it was last written (``tokens`` as of ``updated``, wall-clock seconds)."""

    account: str
    operation: str
    rate: float
    burst: int
    tokens: float
    updated: float


@dataclass(slots=True)
class _State:
    """A bucket's state inside a transaction (refilled up to now)."""

    rate: float
    burst: int
    tokens: float


class BucketStore:
    """The shared SQLite file of rate-limit buckets; thread-safe. Open it with :meth:`open` (never raises)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time,
                 timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        """Open (create) the store at ``path``; raises OSError or sqlite3.Error when it cannot be used. ``timeout``:
        seconds a transaction waits for another process's; ``clock``: wall-clock seconds (tests)."""
        self.path = Path(path)
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._failed = False
        self._abandoned: list[sqlite3.Connection] = []  # inherited through fork: never used, never closed here
        self._pid = os.getpid()
        self._conn = self._connect()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time) -> BucketStore | None:
        """The store at ``path``, or None after one WARNING saying why it cannot be used and what to do."""
        try:
            return cls(path, clock=clock)
        except (OSError, sqlite3.Error) as exc:
            log.warning("rate-limit store %s cannot be used (%s); rate limits are counted in this process only. "
                        "Make the file and its folder writable (or delete a damaged file), or set RateLimitStore "
                        "to another file or to memory.", path, _reason(exc))
            return None

    def _connect(self) -> sqlite3.Connection:
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if hasattr(os, "fchmod") and os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)  # a file made by something else: nobody else reads the account's activity
        finally:
            os.close(fd)
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # losing the last updates on power loss is harmless
            conn.execute(_SCHEMA)
            conn.execute("DELETE FROM buckets WHERE updated < ?", (self._clock() - PRUNE_SECONDS,))
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (a forked child opens its own). Call with the lock held."""
        if self._failed:
            raise sqlite3.OperationalError("the rate-limit store failed earlier in this process")
        if self._pid != os.getpid():
            self._abandoned.append(self._conn)
            self._pid = os.getpid()
            self._conn = self._connect()
        return self._conn

    @property
    def failed(self) -> bool:
        """True once an operation failed: the buckets of this store count in memory from then on."""
        return self._failed

    def fail(self, exc: BaseException) -> None:
        """Stop using the store after ``exc`` (one WARNING per store)."""
        with self._lock:
            first, self._failed = not self._failed, True
        if first:
            log.warning("rate-limit store %s failed (%s); rate limits are counted in this process only from now "
                        "on. Check the disk and the file, or set RateLimitStore to another file or to memory.",
                        self.path, _reason(exc))

    def bucket(self, account: str, operation: str, rate: float, burst: int, *,
               sleep: Callable[[float], None] = time.sleep) -> SharedBucket:
        """The bucket of ``operation`` for ``account``; ``rate`` and ``burst`` (the published plan) fill a row that
        does not exist yet."""
        return SharedBucket(self, account, operation, rate, burst, sleep=sleep)

    def update(self, account: str, operation: str, rate: float, burst: int,
               change: Callable[[_State], T]) -> tuple[_State, T]:
        """One write transaction on a bucket: refill it up to now (create it full from ``rate`` and ``burst``),
        apply ``change``, store it; the state written and what ``change`` returned."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()  # read inside the lock of every process: rows are written in time order
                state = self._read(conn, account, operation, rate, burst, now)
                result = change(state)
                conn.execute(_WRITE, (account, operation, state.rate, state.burst, state.tokens, now))
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        return state, result

    def peek(self, account: str, operation: str, rate: float, burst: int) -> _State:
        """A bucket as it is now (refilled, not written; a missing row as it would be created)."""
        with self._lock:
            conn = self._connection()
            return self._read(conn, account, operation, rate, burst, self._clock())

    @staticmethod
    def _read(conn: sqlite3.Connection, account: str, operation: str, rate: float, burst: int,
              now: float) -> _State:
        row = conn.execute(_READ, (account, operation)).fetchone()
        try:
            stored_rate, size, tokens, updated = (float(row[0]), int(row[1]), float(row[2]), float(row[3]))
        except (TypeError, ValueError):  # no row (or one edited by hand into nonsense): a new bucket, full
            row = None
        if row is None or not (math.isfinite(stored_rate + tokens + updated) and stored_rate > 0 and size > 0):
            size = max(int(burst), 1)
            return _State(max(float(rate), MIN_RATE), size, float(size))
        stored_rate = max(stored_rate, MIN_RATE)
        return _State(stored_rate, size, refilled(min(tokens, size), size, stored_rate, now - updated))

    def forget(self, account: str) -> int:
        """Delete every bucket of ``account`` (for every process: they start full at the published plan again);
        the number of rows deleted (0 when the store failed)."""
        try:
            with self._lock:
                return self._connection().execute("DELETE FROM buckets WHERE account = ?", (account,)).rowcount
        except sqlite3.Error as exc:
            self.fail(exc)
            return 0

    def rows(self, account: str | None = None) -> list[BucketRow]:
        """The rows as stored (of ``account``, or all), by account and operation; raises sqlite3.Error when the
        store cannot be read."""
        where, args = ("WHERE account = ?", (account,)) if account is not None else ("", ())
        with self._lock:
            found = self._connection().execute(
                f"SELECT account, operation, rate, burst, tokens, updated FROM buckets {where} "
                "ORDER BY account, operation", args).fetchall()
        return [BucketRow(*row) for row in found]

    def close(self) -> None:
        """Close this process's connection (buckets still held go on in memory)."""
        with self._lock:
            self._failed = True
            self._conn.close()

    def __repr__(self) -> str:
        return f"BucketStore({str(self.path)!r}{', failed' if self._failed else ''})"


class SharedBucket(Bucket):
    """One (account, operation) row of a :class:`BucketStore`, with the interface of
    :class:`~sqlspapi.http.ratelimit.TokenBucket`; thread-safe. After the store fails it goes on as an in-memory
    :class:`~sqlspapi.http.ratelimit.TokenBucket` from the last state it saw."""

    def __init__(self, store: BucketStore, account: str, operation: str, rate: float, burst: int, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._account = account
        self.operation = operation
        self._plan = (max(float(rate), MIN_RATE), max(int(burst), 1))
        self._seen = _State(self._plan[0], self._plan[1], float(self._plan[1]))
        self._sleep = sleep
        self._local: TokenBucket | None = None
        self._local_lock = threading.Lock()

    def _in_memory(self, exc: sqlite3.Error) -> TokenBucket:
        self._store.fail(exc)
        with self._local_lock:
            if self._local is None:
                seen = self._seen
                self._local = TokenBucket(seen.rate, seen.burst, sleep=self._sleep, tokens=seen.tokens)
            return self._local

    def _change(self, change: Callable[[_State], T], local: Callable[[TokenBucket], T]) -> T:
        bucket = self._local
        if bucket is None:
            try:
                state, result = self._store.update(self._account, self.operation, *self._plan, change)
            except sqlite3.Error as exc:
                bucket = self._in_memory(exc)
            else:
                self._seen = replace(state)
                return result
        return local(bucket)

    def _look(self) -> _State:
        bucket = self._local
        if bucket is None:
            try:
                self._seen = state = self._store.peek(self._account, self.operation, *self._plan)
                return state
            except sqlite3.Error as exc:
                bucket = self._in_memory(exc)
        tokens, rate = bucket._now()
        return _State(rate, bucket.burst, tokens)

    @property
    def rate(self) -> float:
        """Current refill rate in tokens (requests) per second (learned by any process)."""
        return self._look().rate

    @property
    def burst(self) -> int:
        """Bucket capacity."""
        return self._look().burst

    def _now(self) -> tuple[float, float]:
        state = self._look()
        return state.tokens, state.rate

    def _known_rate(self) -> float:
        bucket = self._local
        return bucket.rate if bucket is not None else self._seen.rate

    def reserve(self) -> float:
        """Take one token now (for every process); return the seconds the caller must wait (0.0 if none)."""
        def take(state: _State) -> float:
            state.tokens -= 1.0
            return wait_for(state.tokens, state.rate)

        return self._change(take, TokenBucket.reserve)

    def refund(self) -> None:
        """Give back a token taken by :meth:`reserve` for a call that was then not sent."""
        def give(state: _State) -> None:
            state.tokens = min(float(state.burst), state.tokens + 1.0)

        self._change(give, TokenBucket.refund)

    def drain(self) -> None:
        """Empty the bucket for every process (after a 429)."""
        def empty(state: _State) -> None:
            state.tokens = min(state.tokens, 0.0)

        self._change(empty, TokenBucket.drain)

    def set_rate(self, rate: float) -> None:
        """Change the refill rate for every process; tokens earned so far are kept, the burst is unchanged."""
        if not math.isfinite(rate) or rate <= 0:
            return

        def adopt(state: _State) -> None:
            state.rate = max(float(rate), MIN_RATE)

        self._change(adopt, lambda bucket: bucket.set_rate(rate))

    def __repr__(self) -> str:
        state = self._look()
        where = "memory" if self._local is not None else "shared"
        return f"SharedBucket({self.operation}, rate={state.rate:g}/s, burst={state.burst}, " \
               f"tokens={state.tokens:.2f}, {where})"


def _reason(exc: BaseException) -> str:
    """``exc`` in one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


__all__ = ["BUSY_TIMEOUT_MS", "FILE_NAME", "MEMORY", "PRUNE_SECONDS", "BucketRow", "BucketStore", "SharedBucket",
           "store_path"]
