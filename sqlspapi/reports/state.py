"""What the report lifecycle keeps on disk: the per-account ledger of requested reports (and Data Kiosk queries) and
the document cache.

Both live under the report cache directory (``ReportCacheDir``; default ``$SQLSPAPI_CACHE_DIR``, else the user cache
directory: ``$XDG_CACHE_HOME/sqlspapi`` or ``~/.cache/sqlspapi``, ``%LOCALAPPDATA%\\sqlspapi`` on Windows). Every file
is written 0600 (documents hold a seller's data) by an atomic rename, and every directory 0700.

- :class:`Ledger` — ``reports/<account>.json``: request key → the job requested for it (a report or Data Kiosk
  query id, when, whether it was seen DONE). A job still running when a query gave up is resumed by the next
  identical query, from any process; entries older than :data:`LEDGER_DAYS` are dropped and at most
  :data:`LEDGER_ENTRIES` kept. The request keys of the two APIs never meet (each request type builds its own).
- :class:`DocumentCache` — ``documents/<hash>`` files keyed by account and document id (a reportDocumentId or a
  Data Kiosk documentId), with a ``.json`` sidecar (Content-Type, compression); the least recently used go first
  once the total passes the size limit.

:func:`error_text` reads the reason out of a FATAL job's error document.

The account is a hash of the application and the seller (``Settings.account_key``); nothing secret is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

try:  # POSIX: serialise ledger updates across processes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Days a ledger entry is kept (a report Amazon is still processing after this is not waited for again).
LEDGER_DAYS = 3
#: Most entries one account's ledger keeps (the oldest go first).
LEDGER_ENTRIES = 500

_lock = threading.Lock()  # one process-wide lock for the ledger files (cheap; their updates are tiny)


def cache_root(configured: str | None) -> Path:
    """The report cache directory: ``configured`` (ReportCacheDir), else ``$SQLSPAPI_CACHE_DIR``, else the user
    cache directory."""
    if configured:
        return Path(configured)
    if os.environ.get("SQLSPAPI_CACHE_DIR"):
        return Path(os.environ["SQLSPAPI_CACHE_DIR"])
    if sys.platform == "win32":  # pragma: no cover
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "sqlspapi"
    if sys.platform == "darwin":  # pragma: no cover
        return Path.home() / "Library" / "Caches" / "sqlspapi"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sqlspapi"


def private_dir(path: Path) -> Path:
    """``path`` created (with parents) as a 0700 directory."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed), mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class LedgerEntry:
    """The job requested for one request key: its id (``report_id``: a reportId or a Data Kiosk queryId), when it was
    created (epoch seconds), whether it was DONE."""

    report_id: str
    created: float
    done: bool = False


class Ledger:
    """Request key → the job (report or query) requested for it, for one account, on disk (see the module
    docstring)."""

    def __init__(self, root: Path, account: str) -> None:
        self.path = root / "reports" / f"{account[:32]}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The ledger's entries, locked against other threads and processes; written back when changed."""
        private_dir(self.path.parent)
        with _lock, open(self.path.with_suffix(".lock"), "a+b") as guard:
            os.chmod(guard.name, 0o600)
            if fcntl is not None:
                fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                entries = self._read()
                before = json.dumps(entries, sort_keys=True)
                yield entries
                if json.dumps(entries, sort_keys=True) != before:
                    self._write(entries)
            finally:
                if fcntl is not None:
                    fcntl.flock(guard, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("entries") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        horizon = time.time() - LEDGER_DAYS * 86400
        kept = sorted(((k, v) for k, v in entries.items() if isinstance(v, dict) and v.get("created", 0) > horizon),
                      key=lambda kv: kv[1]["created"])[-LEDGER_ENTRIES:]
        write_private(self.path, json.dumps({"version": 1, "entries": dict(kept)}, indent=1).encode())

    def get(self, key: str) -> LedgerEntry | None:
        """The entry of ``key``, if any (and not expired)."""
        with self._locked() as entries:
            raw = entries.get(key)
        if not isinstance(raw, dict) or raw.get("created", 0) <= time.time() - LEDGER_DAYS * 86400:
            return None
        return LedgerEntry(str(raw["reportId"]), float(raw["created"]), bool(raw.get("done")))

    def put(self, key: str, entry: LedgerEntry) -> None:
        """Record (or replace) the entry of ``key``."""
        with self._locked() as entries:
            entries[key] = {"reportId": entry.report_id, "created": entry.created, "done": entry.done}

    def forget(self, key: str, report_id: str | None = None) -> None:
        """Drop the entry of ``key`` (only if it still names ``report_id``, when given)."""
        with self._locked() as entries:
            raw = entries.get(key)
            if raw is not None and (report_id is None or raw.get("reportId") == report_id):
                del entries[key]


@dataclass(frozen=True)
class CachedDocument:
    """A downloaded document on disk: its file, the download's Content-Type and getReportDocument's compression.
    ``temporary`` files are deleted by :meth:`close` (the cache keeps nothing)."""

    path: Path
    content_type: str | None
    compression: str | None
    temporary: bool = False

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes as chunks (streamed from disk)."""
        with open(self.path, "rb") as f:
            while chunk := f.read(size):
                yield chunk

    def close(self) -> None:
        """Delete a temporary document."""
        if self.temporary:
            with contextlib.suppress(OSError):
                self.path.unlink()


class DocumentCache:
    """Documents on disk keyed by account and document id (reports, Data Kiosk queries), bounded to ``limit_bytes``
    (0: keep none)."""

    def __init__(self, root: Path, account: str, limit_bytes: int) -> None:
        self.dir = root / "documents"
        self.account = account
        self.limit = limit_bytes

    def _path(self, document_id: str) -> Path:
        digest = hashlib.sha256(f"{self.account}\0{document_id}".encode()).hexdigest()[:40]
        return self.dir / digest

    def get(self, document_id: str) -> CachedDocument | None:
        """The cached document, if present (and marked as just used)."""
        if not self.limit:
            return None
        path = self._path(document_id)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            os.utime(path)
        except (OSError, ValueError):
            return None
        return CachedDocument(path, meta.get("contentType"), meta.get("compression"))

    @contextlib.contextmanager
    def writer(self, document_id: str) -> Iterator[IO[bytes]]:
        """A 0600 file (``.name`` is its path) to stream a download into; give it to :meth:`keep` once complete. On
        failure it is removed."""
        private_dir(self.dir)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".part-")  # mkstemp makes it 0600
        os.close(fd)
        try:
            with open(tmp, "wb") as out:
                yield out
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def keep(self, document_id: str, tmp: str, content_type: str | None, compression: str | None) -> CachedDocument:
        """Make the downloaded file ``tmp`` the cached document (then trim the cache to its limit)."""
        if not self.limit:
            return CachedDocument(Path(tmp), content_type, compression, temporary=True)
        path = self._path(document_id)
        write_private(path.with_suffix(".json"), json.dumps({"contentType": content_type,
                                                             "compression": compression}).encode())
        os.replace(tmp, path)
        self.trim(keep=path)
        return CachedDocument(path, content_type, compression)

    def trim(self, keep: Path | None = None) -> None:
        """Delete the least recently used documents until the total is within the limit (``keep`` stays)."""
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.dir.iterdir()
                     if p.is_file() and not p.suffix and not p.name.startswith(".")]
        except OSError:
            return
        total = sum(size for _t, size, _p in files)
        for _mtime, size, path in sorted(files):
            if total <= self.limit:
                break
            if path == keep:
                continue
            for victim in (path, path.with_suffix(".json")):
                with contextlib.suppress(OSError):
                    victim.unlink()
            total -= size


#: How many characters of an error document a FATAL error quotes.
ERROR_TEXT_MAX = 600


def error_text(raw: bytes) -> str:
    """The reason an error document gives: its ``errorDetails`` (Reports) or ``errorMessage`` (Data Kiosk) when it is
    JSON, else its text; shortened to :data:`ERROR_TEXT_MAX` characters."""
    import gzip

    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        detail = data.get("errorDetails") or data.get("errorMessage") or data.get("errors") or data
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return text if len(text) <= ERROR_TEXT_MAX else text[:ERROR_TEXT_MAX] + "…"
