"""The state of one seller account in this process, and the registry that hands it to every connection.

SP-API meters and authorises per (application, seller) pair, which ``Settings.account_key`` names. Everything the
HTTP layer remembers between calls belongs to that pair, so it lives in one :class:`AccountRuntime`:

* ``tokens`` (:class:`~sqlspapi.http.tokens.TokenStore`): the LWA access token, the RDT per restricted resource
  set, their locks, and the count of LWA grant requests;
* ``limiter`` (:class:`~sqlspapi.http.ratelimit.Limiter`): one rate-limit bucket per operation — rows of the
  machine's shared :class:`~sqlspapi.http.bucketstore.BucketStore` (``RateLimitStore``), or in memory;
* ``flights`` (:class:`~sqlspapi.http.flight.Flights`): single flight of identical GET calls;
* ``pace`` (:class:`~sqlspapi.http.pace.PaceBook`): answer times and data volumes seen, for estimates;
* :meth:`AccountRuntime.memo`: account facts computed once (e.g. the seller's marketplace list).

:func:`runtime_for` returns the same runtime for every connection (``Client``) of the same account in the
process; its registry (with the lock that serialises token cache file access across accounts, and the rate-limit
stores opened, one per file) is the one piece of process-wide mutable state of :mod:`sqlspapi.http`. The store of an
account's buckets is the one ``RateLimitStore`` of the settings that created its runtime: the first connection of
the account in the process wins (a later connection of the same account with another ``RateLimitStore`` shares the
first one's buckets, as it shares its tokens).
:func:`reset_runtimes` forgets them all (tests: as a new process would be).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.http.bucketstore import BucketStore, store_path
from sqlspapi.http.flight import Flights
from sqlspapi.http.pace import PaceBook
from sqlspapi.http.ratelimit import Bucket, Limiter
from sqlspapi.http.tokens import TokenStore

T = TypeVar("T")

#: Most facts a runtime memoises; past it the oldest is forgotten (and computed again when asked for).
MEMO_MAX = 64


class _Fact:
    """One memoised value and the lock its first computation holds."""

    __slots__ = ("lock", "done", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


class AccountRuntime:
    """Everything this process keeps for one (application, seller) account; safe to share between threads."""

    def __init__(self, account_key: str, *, file_lock: threading.Lock | None = None,
                 store: BucketStore | None = None) -> None:
        self.account_key = account_key
        #: LWA access token, RDTs and their locks; the LWA request count.
        self.tokens = TokenStore(file_lock)
        #: One rate-limit bucket per operation: rows of ``store`` (shared by the machine's processes), or in memory.
        self.limiter = Limiter(store=store, account=account_key)
        #: GET calls in flight (single flight) and, for a ``share_window``, those just completed.
        self.flights = Flights()
        #: Answer times, page sizes and rows per day seen per operation (what estimates are made of).
        self.pace = PaceBook()
        self._facts: dict[str, _Fact] = {}
        self._facts_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AccountRuntime(account={self.account_key[:8]}…)"

    @property
    def lwa_requests(self) -> int:
        """LWA grant requests this process sent for the account (retries included)."""
        return self.tokens.lwa_requests

    def bucket(self, op: OperationSpec) -> Bucket:
        """The account's rate-limit bucket of ``op``."""
        return self.limiter.bucket(op)

    def known(self, name: str) -> Any:
        """The fact ``name`` if it was computed already, else None (never computes it: estimates make no call)."""
        with self._facts_lock:
            fact = self._facts.get(name)
        return fact.value if fact is not None and fact.done else None

    def memo(self, name: str, factory: Callable[[], T]) -> T:
        """The fact ``name`` of this account, computed by ``factory()`` once (concurrent callers wait for it).

        A factory that raises stores nothing: the next caller tries again. At most :data:`MEMO_MAX` facts are kept.
        """
        with self._facts_lock:
            fact = self._facts.get(name)
            if fact is None:
                fact = self._facts[name] = _Fact()
                while len(self._facts) > MEMO_MAX:
                    del self._facts[next(iter(self._facts))]
        with fact.lock:
            if not fact.done:
                fact.value = factory()
                fact.done = True
            return fact.value


_runtimes: dict[str, AccountRuntime] = {}
_runtimes_lock = threading.Lock()
#: Serialises token cache file access of every account in the process (several may share one file).
_token_file_lock = threading.Lock()
#: The rate-limit stores opened, by file (None: it could not be opened; its warning was logged once).
_stores: dict[str, BucketStore | None] = {}


def runtime_for(settings: Any) -> AccountRuntime:
    """The runtime of ``settings.account_key``: the same object for every connection of that account.

    A new runtime keeps its rate-limit buckets in the store ``settings.rate_limit_store`` names
    (:func:`~sqlspapi.http.bucketstore.store_path`), opened once per file in the process; in memory for ``memory``
    or when the file cannot be used (one WARNING).
    """
    key = settings.account_key
    with _runtimes_lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            store = _store_for(getattr(settings, "rate_limit_store", None))
            runtime = _runtimes[key] = AccountRuntime(key, file_lock=_token_file_lock, store=store)
        return runtime


def _store_for(setting: str | None) -> BucketStore | None:
    """The open store ``setting`` (``RateLimitStore``) names, or None (memory). Call with ``_runtimes_lock``."""
    path = store_path(setting)
    if path is None:
        return None
    name = os.path.abspath(path)
    if name not in _stores:
        _stores[name] = BucketStore.open(name)
    return _stores[name]


def reset_runtimes() -> None:
    """Forget every account's runtime (tokens, buckets, flights, facts): as a new process would be (tests). A shared
    rate-limit store keeps its rows (a new process sees them too); it is opened again.

    Clients made before keep the runtime they hold; make new ones.
    """
    from sqlspapi.http import sigv4  # the assumed-role credentials and secrets read are per process too
    from sqlspapi.settings.secret_source import clear_secret_cache

    with _runtimes_lock:
        _runtimes.clear()
        _stores.clear()  # not closed: clients made before still use them (a store closes when dropped)
    sigv4.clear_cache()
    clear_secret_cache()


__all__ = ["MEMO_MAX", "AccountRuntime", "runtime_for", "reset_runtimes"]
