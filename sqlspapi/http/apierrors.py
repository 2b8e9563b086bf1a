"""Turning SP-API and LWA error answers into exceptions a user can act on.

* SP-API error bodies (``{"errors": [{"code", "message", "details"}, ...]}``) become
  :class:`~sqlspapi.errors.SPAPIError` or, for HTTP 429, :class:`~sqlspapi.errors.ThrottledError`, carrying
  code, API message, details, status, request id and operation, with a hint saying what to check.
* A 2xx answer that is not a whole answer (not JSON, cut short, ``{}``, no rows array) becomes, once no retry is
  left, :func:`incomplete_error`: an SPAPIError with code ``IncompleteResponse`` — never "zero rows".
* :func:`is_token_problem` tells whether a 401/403 says the access token expired (worth one refresh).
* Login with Amazon refusals become :class:`~sqlspapi.errors.AuthError` naming the key to fix; an answer of the token
  endpoint that is not whole (cut off, garbled, empty) is :func:`lwa_incomplete_error` (usually temporary), and only
  an endpoint that cannot be reached at all, or answers like something else than LWA (a 404, an HTML page), is
  blamed on TokenUrl.

Every text taken from an answer is passed through :func:`scrub` before it reaches a message (code, message and
details of an SP-API error included), so no secret (client secret, refresh token, the access token that was sent)
ends up in one — in any encoding an answer may echo it in: raw, URL-encoded, JSON-escaped, HTML-escaped, base64,
and cut off at the end of a quote (:mod:`sqlspapi.http.scrub`). This module imports no other module of
:mod:`sqlspapi.http` but that one: the client and the token provider both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlspapi.errors import AuthError, SPAPIError, ThrottledError
from sqlspapi.http.scrub import MASK, scrub, scrub_value

if TYPE_CHECKING:
    import requests

    from sqlspapi.definitions.schema import OperationSpec
    from sqlspapi.http.response import ApiResponse

#: Hint appended to an SP-API error message, per HTTP status.
HINTS: dict[int, str] = {
    401: "the access token was not accepted: check ClientId/ClientSecret/RefreshToken and that the seller "
         "authorized this app",
    403: "access denied: check that the app has the role this operation needs (restricted data needs "
         "restricted roles and an RDT), that the seller authorized it for this region, and that Endpoint "
         "matches the seller's region",
    404: "not found: check the id and that the operation exists for this region/API version",
}


def is_token_problem(status: int, body: Any, headers: Mapping[str, str]) -> bool:
    """Whether a 401/403 says the access token expired or is not (any more) valid: worth one refresh."""
    if status not in (401, 403):
        return False
    if status == 401:
        return True
    texts = [str(headers.get("x-amzn-ErrorType", ""))]
    if isinstance(body, dict):
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                texts.extend(str(err.get(k) or "") for k in ("code", "message", "details"))
    text = " ".join(texts).lower()
    return ("token" in text and ("expired" in text or "invalid" in text)) or "expiredtoken" in text


def first_error(body: Any) -> tuple[str | None, str | None, Any, int]:
    """(code, message, details, number of errors) of the first error in an SP-API error body."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return None, None, None, 0
    first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
    return first.get("code"), first.get("message"), first.get("details"), len(errors)


def error_message(op: OperationSpec, status: int, code: str | None, api_message: str | None, details: Any,
                  count: int, request_id: str | None, hint: str | None) -> str:
    """The user-facing text of a failed SP-API call: operation, status, code, API message, request id, hint."""
    head = f"{op.name} failed (HTTP {status}{' ' + code if code else ''})"
    msg = f"{head}: {api_message or 'no error message'}"
    if details not in (None, "", [], {}):
        msg += f" — {details}"
    if count > 1:
        msg += f" (+{count - 1} more error{'s' if count > 2 else ''})"
    msg += f" [request id {request_id or 'none'}]"
    if hint:
        msg += f"; {hint}"
    return msg


def _first_error_scrubbed(body: Any, settings: Any, secrets: Iterable[Any]) -> tuple[str | None, str | None, Any, int]:
    """:func:`first_error`, its texts scrubbed of the secrets of ``settings`` and ``secrets`` (an answer may echo
    the token it was sent)."""
    code, api_message, details, count = first_error(body)
    secrets = tuple(secrets)
    return (None if code is None else scrub(str(code), settings, secrets),
            None if api_message is None else scrub(str(api_message), settings, secrets),
            scrub_value(details, settings, secrets), count)


def success_body_error(op: OperationSpec, status: int, payload: Any, request_id: str | None, settings: Any = None,
                       secrets: Iterable[Any] = ()) -> SPAPIError | None:
    """The SPAPIError for a 2xx answer whose body nevertheless lists errors, or None if it lists none (texts
    scrubbed of the secrets of ``settings`` and ``secrets``)."""
    code, api_message, details, count = _first_error_scrubbed(payload, settings, secrets)
    if not count:
        return None
    return SPAPIError(
        error_message(op, status, code, api_message, details, count, request_id, None),
        code=code, api_message=api_message, details=details, status=status,
        request_id=request_id, operation=op.name,
    )


#: The code of :func:`incomplete_error` (``SPAPIError.code``).
INCOMPLETE_RESPONSE = "IncompleteResponse"


def incomplete_error(op: OperationSpec, status: int | None, what: str, request_id: str | None, retries: int,
                     repeatable: bool = True) -> SPAPIError:
    """The exception for a success answer that was not a whole answer (``what`` says how), after ``retries``.

    ``what`` comes from :func:`sqlspapi.http.response.describe_body` or an :class:`~sqlspapi.http.response.Envelope`
    (the caller scrubs any quoted body text); ``repeatable`` False says the request (a write) was not sent again.
    """
    answered = f" HTTP {status}" if status else ""
    tried = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
    hint = ("this is usually transient (a proxy, load balancer or network fault between here and Amazon): run the "
            "query again; raise RetryCountMax to retry more" if repeatable else
            "the request was not sent again because it may have been carried out; check before repeating it")
    return SPAPIError(
        f"{op.name} answered{answered} with an incomplete response{tried}: {what} "
        f"[request id {request_id or 'none'}]; no rows were taken from it; {hint}.",
        code=INCOMPLETE_RESPONSE, api_message=what, status=status, request_id=request_id, operation=op.name,
    )


def api_error(op: OperationSpec, status: int, payload: Any, resp: requests.Response, request_id: str | None,
              retries: int, settings: Any, secrets: Iterable[Any] = ()) -> SPAPIError:
    """The exception for a non-2xx SP-API answer (after ``retries`` retries): ThrottledError for 429.

    Every text taken from the answer is scrubbed of the secrets of ``settings`` and of ``secrets`` (the token the
    request carried); a body that is not an SP-API error body contributes at most 300 characters of its text.
    """
    secrets = tuple(secrets)
    if isinstance(payload, list):
        payload = {"errors": payload}  # a bare ErrorList: the error body some operations document (Services v1)
    code, api_message, details, count = _first_error_scrubbed(payload, settings, secrets)
    if code is None and api_message is None:
        text = (resp.text or "").strip()
        api_message = scrub(text or resp.reason or "", settings, secrets)[:300] or None
        code = scrub(resp.headers.get("x-amzn-ErrorType") or "", settings, secrets) or None
    hint = HINTS.get(status)
    cls = SPAPIError
    if status == 429:
        cls = ThrottledError
        if retries:
            hint = (f"still throttled after {retries} retr{'y' if retries == 1 else 'ies'}; raise "
                    "RetryCountMax/RetryWaitTimeMs or query less at a time")
        else:
            hint = ("throttled, and the connection string allows no retry (RetryMode/RetryCountMax/"
                    "RetryStatusCodeList); enable retries or query less at a time")
    elif status >= 500 and retries:
        hint = f"after {retries} retr{'y' if retries == 1 else 'ies'}"
    message = error_message(op, status, code, api_message, details, count, request_id, hint)
    return cls(message, code=code, api_message=api_message, details=details, status=status,
               request_id=request_id, operation=op.name)


def missing_rdt_error(resp: ApiResponse, operation: str) -> SPAPIError:
    """The exception for a createRestrictedDataToken answer that holds no ``restrictedDataToken``."""
    return SPAPIError(
        f"{operation} answered HTTP {resp.status} without a restrictedDataToken [request id {resp.request_id}]",
        status=resp.status, request_id=resp.request_id, operation=operation,
    )


# --------------------------------------------------------------------------------------------------- LWA


def attempts_note(retries: int) -> str:
    """``", N attempts"`` after ``retries`` retries, or "" when there was a single attempt."""
    return f", {retries + 1} attempts" if retries else ""


def lwa_error(settings: Any, status: int, error: str | None, description: str | None, transient: bool, retries: int,
              answer: str | None = None) -> AuthError:
    """The AuthError for an LWA refusal: says which of ClientId/ClientSecret/RefreshToken/TokenUrl to fix.

    ``answer`` says what a body that holds no LWA error was (:func:`sqlspapi.http.response.describe_body`, scrubbed by
    the caller). A transient refusal (5xx, 429, ``temporarily_unavailable``) is said to be temporary, not a
    configuration mistake; TokenUrl is named as the thing to check only when the answer does not come from LWA at
    all (a 404 or an HTML page at a wrong URL).
    """
    url = settings.token_url
    error = scrub(str(error), settings)[:100] if error else None
    said = f": {scrub(str(description), settings)[:300]}" if description else ""
    if error == "invalid_client":
        msg = (
            f"LWA rejected ClientId/ClientSecret (invalid_client{said}): the secret is wrong or expired — "
            "Amazon rotates LWA client secrets every 180 days; rotate it in Developer Central "
            "(Seller Central → Apps and Services → Develop Apps → Edit App → LWA credentials) "
            f"and update ClientSecret (ClientId {settings.client_id}); while the old secret still works, "
            "sqlspapi rotate-secret does it for you (docs/rotate-secret.md)."
        )
    elif error == "invalid_grant":
        msg = (
            f"LWA rejected RefreshToken (invalid_grant{said}): the refresh token was revoked, has expired, "
            f"or was issued to another app than ClientId {settings.client_id}. Re-authorize the app "
            "for this selling partner (Seller Central → Apps and Services → Develop Apps → Authorize app, "
            "or the OAuth authorization workflow) and update RefreshToken."
        )
    elif error == "unauthorized_client":
        msg = (
            f"LWA says ClientId {settings.client_id} may not use the refresh-token grant (unauthorized_client"
            f"{said}): check that ClientId and ClientSecret belong to the SP-API app the RefreshToken was "
            "issued to (Developer Central → LWA credentials), not to another Login with Amazon security "
            "profile."
        )
    elif error == "invalid_request":
        msg = (
            f"LWA rejected the token request as malformed (invalid_request{said}): check ClientId, "
            "ClientSecret and RefreshToken for stray spaces, quotes or truncation, and that TokenUrl "
            f"points at the LWA token endpoint (now {url})."
        )
    elif error in ("access_denied", "invalid_scope"):
        msg = (
            f"LWA refused the token ({error}{said}): the selling partner has not granted this app access; "
            "re-authorize the app and update RefreshToken."
        )
    elif transient:
        msg = (
            f"Login with Amazon at TokenUrl {url} is unavailable (HTTP {status}{' ' + error if error else ''}"
            f"{attempts_note(retries)}{said}); it is usually temporary: try again later, or raise RetryCountMax."
        )
    elif error:
        msg = (
            f"LWA refused the token request (HTTP {status} {error}{said}); check ClientId, ClientSecret, "
            f"RefreshToken and TokenUrl ({url})."
        )
    else:
        msg = (
            f"TokenUrl {url} answered HTTP {status} without an LWA error{f' ({answer})' if answer else ''}: it does "
            "not look like the Login with Amazon token endpoint; check TokenUrl "
            "(default https://api.amazon.com/auth/o2/token)."
        )
    return AuthError(msg, lwa_error=error, status=status)


def lwa_incomplete_error(settings: Any, status: int | None, what: str, retries: int, html: bool = False
                         ) -> AuthError:
    """The AuthError for answers of TokenUrl that were not whole LWA answers, after ``retries`` retries: cut off,
    empty, garbled, ``{}``, or a body without an access token (``what`` says how; the caller scrubs any quote).

    Such an answer is usually temporary (a proxy, load balancer or network fault), not a configuration mistake;
    only an HTML page in place of the token may also mean that TokenUrl points elsewhere, and the message says so.
    """
    answered = f"HTTP {status}, " if status else ""
    msg = (f"Login with Amazon gave an incomplete answer ({answered}{what}{attempts_note(retries)}); it is usually "
           "temporary (a proxy, load balancer or network fault between here and Amazon): retry, or raise "
           "RetryCountMax to retry more.")
    if html:
        msg += (f" If it keeps happening, something else answers at TokenUrl {settings.token_url} (a proxy or "
                "captive portal, or a TokenUrl that is not the Login with Amazon token endpoint).")
    return AuthError(msg, status=status)


def lwa_timeout_error(settings: Any, retries: int) -> AuthError:
    """The AuthError for a TokenUrl that took the request but did not answer within ``Timeout``."""
    timeout = float(getattr(settings, "timeout", 60.0) or 60.0)
    return AuthError(
        f"Login with Amazon did not answer within {timeout:g} s (ReadTimeout{attempts_note(retries)}); it is "
        "usually temporary: retry, or raise Timeout or RetryCountMax."
    )


def lwa_unreachable_error(url: str, kind: str, retries: int) -> AuthError:
    """The AuthError for a TokenUrl that could not be reached at all (``kind`` names the exception: no connection
    could be made, no name resolution, a proxy or TLS failure), after ``retries`` retries."""
    return AuthError(
        f"Cannot reach Login with Amazon at TokenUrl {url} ({kind}"
        f"{attempts_note(retries)}): check the network or proxy, and the TokenUrl key "
        "(default https://api.amazon.com/auth/o2/token)."
    )


__all__ = [
    "HINTS", "scrub", "is_token_problem", "first_error", "error_message", "success_body_error", "api_error",
    "INCOMPLETE_RESPONSE", "incomplete_error",
    "missing_rdt_error", "attempts_note", "lwa_error", "lwa_incomplete_error", "lwa_timeout_error",
    "lwa_unreachable_error", "MASK", "scrub_value",
]
