"""Login with Amazon (LWA) access tokens and Restricted Data Tokens (RDT) of one seller account.

* :class:`TokenStore` is the token state of one account, owned by its
  :class:`~sqlspapi.http.runtime.AccountRuntime` (so every connection of the account in the process shares it):
  the LWA access token, one RDT per set of restricted resources, one lock per token (one thread obtains it, the
  others wait and reuse it) and the number of LWA grant requests sent.
* :class:`AccountTokens` is the token provider a :class:`~sqlspapi.http.client.Client` uses (the client's
  ``TokenProvider`` interface): :meth:`~AccountTokens.access_token` runs the LWA refresh-token grant (form POST to
  ``Settings.token_url``, retried per ``Settings.retry`` by :func:`sqlspapi.http.retry.run`) and keeps the token
  until shortly before it expires (``expires_in`` minus ``min(60 s, expires_in / 10)``);
  :meth:`~AccountTokens.grantless_token` runs the client-credentials grant for one LWA scope (a grantless
  operation's token: no refresh token is sent) and keeps it the same way, one per scope (in memory only);
  :meth:`~AccountTokens.rdt` obtains an RDT through ``createRestrictedDataToken``, sent by the ``call`` the client
  injects (this module never imports the client); ``invalidate``/``invalidate_rdt`` drop a token the API refused,
  and the client then refreshes once and retries once.
* ``Settings.token_cache`` (optional) names a JSON file, written with mode 0600, that keeps the seller's access
  tokens and their expiry across processes. Tokens are written nowhere else and never logged.

LWA refusals become :class:`~sqlspapi.errors.AuthError` with a message that names the key to fix
(:mod:`sqlspapi.http.apierrors`). An answer that is not a whole one — cut off, reset before it came, garbled, empty,
``{}`` — is an incomplete answer: retried per the retry keys, then reported as usually temporary, never as a key to
fix; so is a createRestrictedDataToken answer without its token. The client secret and the refresh token stay in
``Settings``' :class:`~sqlspapi.settings.keys.Secret` values until the grant form is written
(:class:`~sqlspapi.http.lwa.GrantForm`, with the rest of the grant on the wire): no frame an error passes through
holds them in a plain local.
AWS SigV4 signing is not implemented: SP-API ignores signatures since 2023-10-02 (LWA token only).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import SPAPIError
from sqlspapi.http import apierrors
from sqlspapi.http.lwa import (
    DEFAULT_EXPIRES_IN,
    GRANT_HEADERS,
    GrantForm,
    grantless_error,
    no_answer,
    read_grant_answer,
)
from sqlspapi.http.response import ApiResponse, Envelope
from sqlspapi.http.retry import Failure, RetryState, run

log = logging.getLogger("sqlspapi.http.tokens")


def create_rdt_operation() -> OperationSpec:
    """The Tokens API's createRestrictedDataToken, as ``vtables/tokens-2021-03-01.toml`` declares it."""
    from sqlspapi.definitions.loader import operation

    return operation("tokens", "createRestrictedDataToken")


#: What a whole createRestrictedDataToken answer holds.
_RDT_ANSWER = Envelope(required=("restrictedDataToken",))



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


class TokenStore:
    """The bearer tokens of one account, each obtained by one thread at a time and kept while fresh.

    Keys: :data:`LWA` for the access token, :func:`grantless_key` of a scope for a grantless token, a tuple of
    :class:`RestrictedResource` for an RDT. Also counts the
    LWA grant requests sent for the account (:attr:`lwa_requests`, for tests and diagnostics). ``file_lock``
    serialises reads and writes of the token cache file (``TokenCache=``), which several accounts may share: the
    runtime registry passes one lock for the whole process.
    """

    def __init__(self, file_lock: threading.Lock | None = None) -> None:
        self.file_lock = file_lock if file_lock is not None else threading.Lock()
        self._tokens: dict[Hashable, _Token] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()
        self._lwa_requests = 0

    def _lock(self, key: Hashable) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def get(self, key: Hashable, obtain: Callable[[], _Token]) -> str:
        """The fresh token under ``key``, else one from ``obtain()`` (one thread per key obtains; others wait)."""
        token = self._tokens.get(key)
        if token is not None and token.fresh():
            return token.value
        with self._lock(key):
            token = self._tokens.get(key)
            if token is None or not token.fresh():
                token = self._tokens[key] = obtain()
            return token.value

    def drop(self, key: Hashable, token: str | None = None) -> bool:
        """Forget the token under ``key`` (only if it is still ``token``, when given); True if one was dropped."""
        with self._lock(key):
            current = self._tokens.get(key)
            if current is None or (token is not None and current.value != token):
                return False
            del self._tokens[key]
            return True

    def count_lwa_request(self) -> None:
        """Count one LWA grant request (retries included)."""
        with self._guard:
            self._lwa_requests += 1

    @property
    def lwa_requests(self) -> int:
        """LWA grant requests sent for this account by this process."""
        with self._guard:
            return self._lwa_requests

    def clear(self) -> None:
        """Forget every token held in memory (the token cache file is left alone)."""
        with self._guard:
            self._tokens.clear()

    def __repr__(self) -> str:
        return f"TokenStore({len(self._tokens)} tokens)"


#: The :class:`TokenStore` key of the LWA access token.
LWA = "lwa"


def grantless_key(scope: str) -> tuple[str, str]:
    """The :class:`TokenStore` key of the grantless (client-credentials) token for ``scope``."""
    return ("grantless", scope)


# ---------------------------------------------------------------------------------------- token provider


class AccountTokens:
    """The token provider of one client: the seller's LWA token, grantless tokens (one per LWA scope) and RDTs for
    ``settings``, kept in the account's ``store``.

    ``session`` sends the LWA grants (default: a plain ``requests.post``); ``call(op, body=...)`` sends
    ``createRestrictedDataToken`` (the client passes its own ``Client.call``, so RDT requests are rate-limited,
    retried and logged like any call). Safe to share between threads.
    """

    def __init__(self, settings: Any, store: TokenStore, *, session: requests.Session | None = None,
                 call: Callable[..., ApiResponse] | None = None) -> None:
        self.settings = settings
        self._store = store
        self._session = session
        self._call = call

    def __repr__(self) -> str:
        return f"AccountTokens(account={self.settings.account_key[:8]}…)"

    # -- LWA ---------------------------------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid LWA access token (kept per account; refreshed by one thread at a time). Never print it."""
        settings = self.settings
        key = settings.account_key

        def obtain() -> _Token:
            if getattr(settings, "token_cache", None):
                cached = _read_cache_file(settings.token_cache, key, self._store.file_lock)
                if cached is not None and cached.fresh():
                    log.debug("LWA access token for account %s… loaded from the token cache file", key[:8])
                    return cached
            token = self._request_token()
            if getattr(settings, "token_cache", None):
                _update_cache_file(settings.token_cache, key, token, self._store.file_lock)
            return token

        return self._store.get(LWA, obtain)

    def invalidate(self, token: str | None = None) -> bool:
        """Drop the access token (only if it is still ``token``, when given); True if one was dropped.

        Called when SP-API says the token expired: several threads may report the same stale token, and only the
        first one's report must cause a refresh.
        """
        dropped = self._store.drop(LWA, token)
        if dropped and getattr(self.settings, "token_cache", None):
            _update_cache_file(self.settings.token_cache, self.settings.account_key, None, self._store.file_lock)
        return dropped

    def grantless_token(self, scope: str) -> str:
        """A valid client-credentials access token for LWA ``scope`` (a grantless operation's token): obtained once
        and kept per scope until shortly before it expires, like the seller's token. Never print it."""
        return self._store.get(grantless_key(scope), lambda: self._request_token(scope))

    def invalidate_grantless(self, scope: str, token: str | None = None) -> bool:
        """Drop the grantless token of ``scope`` (only if it is still ``token``, when given); True if one was
        dropped."""
        return self._store.drop(grantless_key(scope), token)

    def _request_token(self, scope: str | None = None) -> _Token:
        """Run the refresh-token grant (or, with ``scope``, the client-credentials grant for that scope), retrying
        transient failures per ``settings.retry``.

        No frame of this method or of the error paths holds the client secret or the refresh token in a plain local
        (error reporters that record frame locals would keep them): each attempt sends a fresh :class:`GrantForm`,
        and the answer is read by :func:`read_grant_answer` into a :class:`GrantAnswer` whose texts are scrubbed.
        """
        settings = self.settings
        http: Any = self._session or requests
        url = settings.token_url
        timeout = float(getattr(settings, "timeout", 60.0) or 60.0)
        state = RetryState()

        def attempt() -> _Token | Failure:
            self._store.count_lwa_request()
            try:
                resp = http.post(url, data=GrantForm(settings, scope), headers=GRANT_HEADERS, timeout=timeout)
            except requests.RequestException as exc:
                return no_answer(settings, exc)
            answer = read_grant_answer(settings, resp)
            if answer.token is not None:
                log.debug("LWA access token obtained for %s (expires in %.0f s)",
                          f"account {settings.account_key[:8]}…" if scope is None else f"scope {scope}",
                          answer.expires_in)
                return _make_token(answer.token, answer.expires_in)
            status, problem = answer.status, answer.problem
            if problem is not None and (200 <= status < 300 or answer.cut_short):
                return Failure(None, lambda retries: apierrors.lwa_incomplete_error(settings, status, problem, retries,
                                                                                    answer.html),
                               "incomplete answer", note=f"Login with Amazon gave an incomplete answer ({problem})",
                               transient=True)
            error, description = answer.error, answer.description
            transient = status >= 500 or status == 429 or error in ("server_error", "temporarily_unavailable")
            if not transient:
                if scope is not None:
                    raise grantless_error(settings, scope, status, error, description, state.retries, problem)
                raise apierrors.lwa_error(settings, status, error, description, False, state.retries, problem)
            return Failure(status, lambda retries: apierrors.lwa_error(settings, status, error, description, True,
                                                                        retries, problem),
                           f"HTTP {status}", note=f"TokenUrl {url} answered HTTP {status} {error or ''}".rstrip(),
                           transient=True)

        return run(settings.retry, attempt, what="the LWA token request", log=log, state=state)

    # -- RDT ---------------------------------------------------------------------------------------------

    def rdt(self, resources: Sequence[RestrictedResource]) -> str:
        """A Restricted Data Token for ``resources`` (createRestrictedDataToken), kept until near expiry.

        An answer without its ``restrictedDataToken`` (cut off, garbled, ``{}``) is retried per ``settings.retry``:
        the client does not repeat a POST that answered, but creating a token changes nothing and may be repeated.
        """
        if not resources:
            raise ValueError("an RDT needs at least one RestrictedResource")
        if self._call is None:
            raise ValueError("this token provider was given no call to send createRestrictedDataToken")
        call = self._call

        def obtain() -> _Token:
            items = []
            for res in resources:
                item: dict[str, Any] = {"method": res.method.upper(), "path": res.path}
                if res.data_elements:
                    item["dataElements"] = list(res.data_elements)
                items.append(item)
            op = create_rdt_operation()

            def attempt() -> ApiResponse | Failure:
                try:
                    return call(op, body={"restrictedResources": items}, expect=_RDT_ANSWER)
                except SPAPIError as err:
                    if err.code != apierrors.INCOMPLETE_RESPONSE:
                        raise
                    status, what, request_id = err.status, err.api_message or "no restrictedDataToken", err.request_id
                return Failure(None, lambda retries: apierrors.incomplete_error(op, status, what, request_id, retries),
                               "incomplete answer", note=f"{op.name}: incomplete answer ({what}) [request id "
                                                         f"{request_id}]", transient=True)

            resp = run(self.settings.retry, attempt, what=op.name, log=log)
            body = resp.json if isinstance(resp.json, dict) else {}
            value = body.get("restrictedDataToken")
            if not value:
                raise apierrors.missing_rdt_error(resp, op.name)
            try:
                expires_in = float(body.get("expiresIn") or DEFAULT_EXPIRES_IN)
            except (TypeError, ValueError):
                expires_in = DEFAULT_EXPIRES_IN
            return _make_token(str(value), expires_in)

        return self._store.get(tuple(resources), obtain)

    def invalidate_rdt(self, resources: Sequence[RestrictedResource], token: str | None = None) -> bool:
        """Drop the RDT of ``resources`` (only if it is still ``token``, when given); True if one was dropped."""
        return self._store.drop(tuple(resources), token)


# --------------------------------------------------------------------------------------- token cache file


def _read_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_cache_file(path: str, key: str, lock: threading.Lock) -> _Token | None:
    with lock:
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


def _update_cache_file(path: str, key: str, token: _Token | None, lock: threading.Lock) -> None:
    """Write (or remove, when ``token`` is None) the account's entry; atomic replace, mode 0600."""
    with lock:
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


__all__ = ["create_rdt_operation", "DEFAULT_EXPIRES_IN", "LWA", "grantless_key", "refresh_margin", "TokenStore",
           "AccountTokens"]
