"""The Login with Amazon refresh-token grant on the wire: its form, and how its answers are read.

:class:`GrantForm` is the URL-encoded form ``requests`` sends, encoded straight from the ``Secret`` values of
``Settings`` (its ``repr`` hides them); :func:`read_grant_answer` reads one answer of ``TokenUrl`` into a
:class:`GrantAnswer` (the token, an LWA error scrubbed of secrets, or what the body is instead);
:func:`no_answer` is the retry loop's :class:`~sqlspapi.http.retry.Failure` for a request that got no whole answer.
:class:`~sqlspapi.http.tokens.AccountTokens` runs the grant with them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

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
    """The refresh-token grant's form, URL-encoded, as the stream ``requests`` sends (its ``repr`` shows no secret).

    The form is encoded straight from ``settings``' :class:`~sqlspapi.settings.keys.Secret` values into this
    buffer, which ``requests`` reads when it writes the request: the client secret and the refresh token are never
    a plain local of a frame an error passes through (Sentry, rich tracebacks and ``pytest -l`` record locals with
    ``repr``). A fresh form is made for each attempt (a stream is read once).
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(urlencode({
            "grant_type": "refresh_token",
            "refresh_token": settings.refresh_token.reveal(),
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.reveal(),
        }).encode("utf-8"))

    def __repr__(self) -> str:
        return "<LWA refresh-token grant form, secrets hidden>"

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


__all__ = ["DEFAULT_EXPIRES_IN", "GRANT_HEADERS", "GrantForm", "GrantAnswer", "read_grant_answer", "no_answer"]
