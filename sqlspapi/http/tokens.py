"""Login with Amazon (LWA) access tokens and Restricted Data Tokens, cached process-wide.

* :func:`get_access_token` runs the LWA refresh-token grant (form POST to ``Settings.token_url``) and
  caches the access token per ``Settings.account_key`` until shortly before it expires (``expires_in`` minus
  ``min(60 s, expires_in / 10)``). One lock per account: one thread refreshes, the others wait and reuse.
* :func:`invalidate` drops a token the API called expired; the client then refreshes once and retries once.
* ``Settings.token_cache`` (optional) names a JSON file, written with mode 0600, that keeps access tokens and
  their expiry across processes. Tokens are written nowhere else and never logged.
* :func:`get_rdt` obtains a Restricted Data Token via ``createRestrictedDataToken`` and caches it per
  (account, resources) until shortly before ``expiresIn``.

LWA refusals become :class:`~sqlspapi.errors.AuthError` with a message that names the key to fix
(:mod:`sqlspapi.http.apierrors`).
AWS SigV4 signing is not implemented: SP-API ignores signatures since 2023-10-02 (LWA token only).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.http import apierrors

if TYPE_CHECKING:
    from sqlspapi.http.client import Client

log = logging.getLogger("sqlspapi.http.tokens")

#: Tokens API operation used for Restricted Data Tokens (tokens-2021-03-01.json: rate 1, burst 10).
CREATE_RDT_OP = OperationSpec(
    name="createRestrictedDataToken",
    section="tokens",
    version="2021-03-01",
    method="POST",
    path="/tokens/2021-03-01/restrictedDataToken",
    rate=1.0,
    burst=10,
)

#: ``expires_in`` assumed when LWA omits it (LWA documents one hour).
DEFAULT_EXPIRES_IN = 3600.0


def refresh_margin(expires_in: float) -> float:
    """Seconds before expiry at which a token is refreshed: ``min(60, expires_in / 10)``."""
    return min(60.0, max(0.0, expires_in) / 10.0)


@dataclass(frozen=True)
class _Token:
    """A cached bearer token; ``refresh_at``/``expires_at`` are wall-clock epoch seconds."""

    value: str
    expires_at: float
    refresh_at: float

    def fresh(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.refresh_at

    def __repr__(self) -> str:
        return f"_Token(***, expires_at={self.expires_at:.0f})"


def _make_token(value: str, expires_in: float, now: float | None = None) -> _Token:
    now = time.time() if now is None else now
    return _Token(value, now + expires_in, now + expires_in - refresh_margin(expires_in))


class _KeyedLocks:
    """One lock per key, created on demand."""

    def __init__(self) -> None:
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock


_lwa_tokens: dict[str, _Token] = {}
_lwa_locks = _KeyedLocks()
_rdt_tokens: dict[tuple[str, tuple[RestrictedResource, ...]], _Token] = {}
_rdt_locks = _KeyedLocks()
_file_lock = threading.Lock()
_stats_lock = threading.Lock()
#: Number of LWA grant requests sent by this process, per account_key (for tests and diagnostics).
lwa_requests: dict[str, int] = {}


def clear_cache() -> None:
    """Forget every in-memory access token and RDT (the token cache file is left alone)."""
    _lwa_tokens.clear()
    _rdt_tokens.clear()


def _cached(store: dict[Any, Any], locks: Any, key: Any, obtain: Callable[[], Any]) -> str:
    """The fresh token under ``key``, else one from ``obtain()`` (one thread per key obtains; others wait)."""
    token = store.get(key)
    if token is not None and token.fresh():
        return token.value
    with locks.get(key):
        token = store.get(key)
        if token is None or not token.fresh():
            token = store[key] = obtain()
        return token.value


def _drop(store: dict[Any, Any], locks: Any, key: Any, token: str | None) -> bool:
    """Forget the token under ``key`` (only if it is still ``token``, when given); True if one was dropped."""
    with locks.get(key):
        current = store.get(key)
        if current is None or (token is not None and current.value != token):
            return False
        del store[key]
        return True


# --------------------------------------------------------------------------------------------- LWA grant


def get_access_token(settings: Any, session: requests.Session | None = None) -> str:
    """A valid LWA access token for ``settings`` (cached process-wide; refreshed by one thread at a time)."""
    key = settings.account_key

    def obtain() -> Any:
        if getattr(settings, "token_cache", None):
            cached = _read_cache_file(settings.token_cache, key)
            if cached is not None and cached.fresh():
                log.debug("LWA access token for account %s… loaded from the token cache file", key[:8])
                return cached
        token = _request_token(settings, session)
        if getattr(settings, "token_cache", None):
            _update_cache_file(settings.token_cache, key, token)
        return token

    return _cached(_lwa_tokens, _lwa_locks, key, obtain)


def invalidate(settings: Any, token: str | None = None) -> bool:
    """Drop the cached access token (only if it is still ``token``, when given); True if one was dropped.

    Called when SP-API says the token expired: several threads may report the same stale token, and only the
    first one's report must cause a refresh.
    """
    key = settings.account_key
    dropped = _drop(_lwa_tokens, _lwa_locks, key, token)
    if dropped and getattr(settings, "token_cache", None):
        _update_cache_file(settings.token_cache, key, None)
    return dropped


def _request_token(settings: Any, session: requests.Session | None) -> _Token:
    """Run the refresh-token grant, retrying transient failures per ``settings.retry``."""
    from sqlspapi.http.client import backoff_seconds, retry_allows

    http = session or requests
    url = settings.token_url
    form = {
        "grant_type": "refresh_token",
        "refresh_token": settings.refresh_token.reveal(),
        "client_id": settings.client_id,
        "client_secret": settings.client_secret.reveal(),
    }
    timeout = float(getattr(settings, "timeout", 60.0) or 60.0)
    retries = 0
    while True:
        with _stats_lock:
            lwa_requests[settings.account_key] = lwa_requests.get(settings.account_key, 0) + 1
        status: int | None = None
        try:
            resp = http.post(
                url,
                data=form,
                headers={"Accept": "application/json",
                         "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            if retry_allows(settings.retry, None, retries):
                wait = backoff_seconds(settings.retry, retries)
                retries += 1
                log.info("cannot reach TokenUrl %s (%s); retry %d in %.1f s", url, type(exc).__name__,
                         retries, wait)
                time.sleep(wait)
                continue
            raise apierrors.lwa_unreachable_error(url, exc, retries) from None
        status = resp.status_code
        body = _json_or_none(resp)
        if status == 200 and isinstance(body, dict) and body.get("access_token"):
            try:
                expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
            except (TypeError, ValueError):
                expires_in = DEFAULT_EXPIRES_IN
            log.debug("LWA access token obtained for account %s… (expires in %.0f s)",
                      settings.account_key[:8], expires_in)
            return _make_token(str(body["access_token"]), expires_in)
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        transient = status >= 500 or status == 429 or error in ("server_error", "temporarily_unavailable")
        if transient and retry_allows(settings.retry, status, retries, transient=True):
            wait = backoff_seconds(settings.retry, retries)
            retries += 1
            log.info("TokenUrl %s answered HTTP %d %s; retry %d in %.1f s", url, status, error or "",
                     retries, wait)
            time.sleep(wait)
            continue
        raise apierrors.lwa_error(settings, status, error, description, transient, retries)


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def scrub(text: str, settings: Any) -> str:
    """``text`` with the client secret, refresh token and the account's cached token replaced by ***."""
    if not text:
        return text
    secrets = []
    for name in ("client_secret", "refresh_token"):
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "reveal"):
            secrets.append(value.reveal())
    token = _lwa_tokens.get(getattr(settings, "account_key", ""))
    if token is not None:
        secrets.append(token.value)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


# --------------------------------------------------------------------------------------- token cache file


def _read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_cache_file(path: str, key: str) -> _Token | None:
    with _file_lock:
        entry = _read_file(path).get("tokens", {}).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        value = str(entry["access_token"])
        expires_at = float(entry["expires_at"])
        refresh_at = float(entry.get("refresh_at", expires_at - 60.0))
    except (KeyError, TypeError, ValueError):
        return None
    return _Token(value, expires_at, refresh_at)


def _update_cache_file(path: str, key: str, token: _Token | None) -> None:
    """Write (or remove, when ``token`` is None) the account's entry; atomic replace, mode 0600."""
    with _file_lock:
        data = _read_file(path)
        tokens = data.get("tokens") if isinstance(data.get("tokens"), dict) else {}
        now = time.time()
        tokens = {k: v for k, v in tokens.items()
                  if isinstance(v, dict) and float(v.get("expires_at", 0) or 0) > now}
        if token is None:
            tokens.pop(key, None)
        else:
            tokens[key] = {"access_token": token.value, "expires_at": token.expires_at,
                           "refresh_at": token.refresh_at}
        payload = json.dumps({"version": 1, "tokens": tokens}, indent=1).encode("utf-8")
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, payload)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write TokenCache file %s (%s); tokens are kept in memory only", path,
                        type(exc).__name__)
            try:
                os.unlink(tmp)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------------- RDT


def _rdt_key(client: Client, resources: list[RestrictedResource] | tuple[RestrictedResource, ...]
             ) -> tuple[str, tuple[RestrictedResource, ...]]:
    return client.settings.account_key, tuple(resources)


def get_rdt(client: Client, resources: list[RestrictedResource]) -> str:
    """A Restricted Data Token for ``resources`` (createRestrictedDataToken), cached until near expiry."""
    if not resources:
        raise ValueError("get_rdt needs at least one RestrictedResource")
    key = _rdt_key(client, resources)

    def obtain() -> Any:
        items = []
        for res in resources:
            item: dict[str, Any] = {"method": res.method.upper(), "path": res.path}
            if res.data_elements:
                item["dataElements"] = list(res.data_elements)
            items.append(item)
        resp = client.call(CREATE_RDT_OP, body={"restrictedResources": items})
        body = resp.json if isinstance(resp.json, dict) else {}
        value = body.get("restrictedDataToken")
        if not value:
            raise apierrors.missing_rdt_error(resp, CREATE_RDT_OP.name)
        try:
            expires_in = float(body.get("expiresIn") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        return _make_token(str(value), expires_in)

    return _cached(_rdt_tokens, _rdt_locks, key, obtain)


def invalidate_rdt(client: Client, resources: list[RestrictedResource], token: str | None = None) -> bool:
    """Drop a cached RDT (only if it is still ``token``, when given); True if something was dropped."""
    return _drop(_rdt_tokens, _rdt_locks, _rdt_key(client, resources), token)


__all__ = [
    "CREATE_RDT_OP", "DEFAULT_EXPIRES_IN", "refresh_margin", "get_access_token", "invalidate", "get_rdt",
    "invalidate_rdt", "clear_cache", "scrub", "lwa_requests",
]
