"""The Login with Amazon grants on the wire: their form, and how their answers are read.

Two grants: the refresh-token grant (a seller's authorization, for every operation but the grantless ones) and the
client-credentials grant with a ``scope`` (``sellingpartnerapi::notifications``: an operation the definitions mark
``grantless``, called on behalf of the app, not of a seller). :class:`GrantForm` is the URL-encoded form
``requests`` sends, encoded straight from the ``Secret`` values of ``Settings`` (its ``repr`` hides them);
:func:`read_grant_answer` reads one answer of ``TokenUrl`` into a :class:`GrantAnswer` (the token, an LWA error
scrubbed of secrets, or what the body is instead); :func:`no_answer` is the retry loop's
:class:`~sqlspapi.http.retry.Failure` for a request that got no whole answer; :func:`grantless_error` is the error
of a refused client-credentials grant. :class:`~sqlspapi.http.tokens.AccountTokens` runs the grants with them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from sqlspapi.errors import AuthError
from sqlspapi.http import apierrors
from sqlspapi.http.response import broken_off, decode_json, describe_body, is_html
from sqlspapi.http.retry import Failure

#: ``expires_in`` assumed when LWA omits it (LWA documents one hour).
DEFAULT_EXPIRES_IN = 3600.0
#: Longest ``expires_in`` believed (a day); a longer, zero, negative or NaN one is taken as :data:`DEFAULT_EXPIRES_IN`.
_MAX_EXPIRES_IN = 86400.0


#: Headers of the refresh-token grant.
GRANT_HEADERS = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}


class GrantForm(io.BytesIO):
    """A grant's form, URL-encoded, as the stream ``requests`` sends (its ``repr`` shows no secret).

    Without ``scope``: the refresh-token grant. With ``scope``: the client-credentials grant for that scope, which
    sends no refresh token (a grantless token acts for the app, not for a seller).

    The form is encoded straight from ``settings``' :class:`~sqlspapi.settings.keys.Secret` values into this
    buffer, which ``requests`` reads when it writes the request: the client secret and the refresh token are never
    a plain local of a frame an error passes through (Sentry, rich tracebacks and ``pytest -l`` record locals with
    ``repr``). A fresh form is made for each attempt (a stream is read once).
    """

    def __init__(self, settings: Any, scope: str | None = None) -> None:
        grant = {"grant_type": "refresh_token", "refresh_token": settings.refresh_token.reveal()} if scope is None \
            else {"grant_type": "client_credentials", "scope": scope}
        super().__init__(urlencode({
            **grant,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.reveal(),
        }).encode("utf-8"))
        self._what = "refresh-token grant" if scope is None else f"client-credentials grant (scope {scope})"

    def __repr__(self) -> str:
        return f"<LWA {self._what} form, secrets hidden>"

    __str__ = __repr__


@dataclass(frozen=True)
class GrantAnswer:
    """What TokenUrl answered, read so that no raw text of the answer stays in a frame an error passes through.

    ``token``/``expires_in``: the access token of a whole answer, else None. ``error``/``description``: the LWA
    error, scrubbed of the secrets. ``problem``: what the body is when it is not a whole LWA answer (scrubbed quote:
    :func:`~sqlspapi.http.response.describe_body`), ``html`` when it is an HTML page, ``cut_short`` when it is JSON
    cut short (an error answer that did not arrive whole is retried as an incomplete one).
    """

    status: int
    token: str | None = None
    expires_in: float = DEFAULT_EXPIRES_IN
    error: str | None = None
    description: str | None = None
    problem: str | None = None
    html: bool = False
    cut_short: bool = False

    def __repr__(self) -> str:
        return f"GrantAnswer(status={self.status}, error={self.error!r}, problem={self.problem!r})"


def read_grant_answer(settings: Any, resp: requests.Response) -> GrantAnswer:
    """Read one answer of TokenUrl (see :class:`GrantAnswer`)."""
    status = resp.status_code
    content = resp.content or b""
    content_type = resp.headers.get("content-type")
    try:
        body = decode_json(content, resp.encoding, resp.json) if content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        token = body.get("access_token")
        if 200 <= status < 300 and isinstance(token, str) and token:
            try:
                expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
            except (TypeError, ValueError):
                expires_in = DEFAULT_EXPIRES_IN
            if not 0 < expires_in <= _MAX_EXPIRES_IN:  # zero, negative, NaN or days long: not a real lifetime
                expires_in = DEFAULT_EXPIRES_IN
            return GrantAnswer(status, token=token, expires_in=expires_in)
        error, description = body.get("error"), body.get("error_description")
        if error or description:
            return GrantAnswer(status, error=apierrors.scrub(str(error), settings) if error else None,
                                description=apierrors.scrub(str(description), settings) if description else None)
        what = "an empty JSON object" if not body else "JSON without an access_token"
        return GrantAnswer(status, problem=what)
    if body is not None:
        return GrantAnswer(status, problem=f"JSON {type(body).__name__} instead of an object")
    problem = describe_body(content, content_type, lambda text: apierrors.scrub(text, settings))
    cut = content.lstrip()[:1] in (b"{", b"[")
    return GrantAnswer(status, problem=problem, html=is_html(content, content_type), cut_short=cut)


def no_answer(settings: Any, exc: requests.RequestException) -> Failure:
    """The failure of a grant request that got no whole answer: one that broke off or timed out is an incomplete
    answer (temporary); one that could not connect at all names TokenUrl. Only the exception's type is kept."""
    url, kind = settings.token_url, type(exc).__name__
    broken = broken_off(exc)
    if broken is not None:
        return Failure(None, lambda retries: apierrors.lwa_incomplete_error(settings, None, broken, retries),
                       "incomplete answer", note=f"Login with Amazon gave an incomplete answer ({broken})",
                       transient=True)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return Failure(None, lambda retries: apierrors.lwa_timeout_error(settings, retries), "no answer",
                       note=f"TokenUrl {url} did not answer in time", transient=True)
    return Failure(None, lambda retries: apierrors.lwa_unreachable_error(url, kind, retries), "connection error",
                   note=f"cannot reach TokenUrl {url} ({kind})")


#: LWA errors of a client-credentials grant that say the app may not have a token for the scope.
_SCOPE_REFUSALS = frozenset({"invalid_scope", "unauthorized_client", "access_denied"})


def grantless_error(settings: Any, scope: str, status: int, error: str | None, description: str | None,
                    retries: int, problem: str | None = None) -> AuthError:
    """The error of a refused client-credentials grant for ``scope`` (a grantless operation's token).

    A refusal of the scope itself says what to do about the app (a grantless token is the app's, so no seller
    re-authorization helps); anything else (``invalid_client``: a wrong or expired client secret, an unreachable
    or wrong TokenUrl) is the refresh-token grant's error, which names the key to fix.
    """
    if error in _SCOPE_REFUSALS:
        said = f": {apierrors.scrub(str(description), settings)[:300]}" if description else ""
        return AuthError(
            f"LWA refused a grantless token for scope {scope} ({error}{said}): the operation is grantless (it acts "
            f"for the app, not for a seller) and the app with ClientId {settings.client_id} may not use this "
            "scope. Check in Developer Central (Seller Central → Apps and Services → Develop Apps) that the app is "
            "an SP-API app with the role the operation needs (Notifications: any role that has notifications), "
            "and that ClientId/ClientSecret are that app's LWA credentials.",
            lwa_error=error, status=status)
    return apierrors.lwa_error(settings, status, error, description, False, retries, problem)


__all__ = ["DEFAULT_EXPIRES_IN", "GRANT_HEADERS", "GrantForm", "GrantAnswer", "read_grant_answer", "no_answer",
           "grantless_error"]
