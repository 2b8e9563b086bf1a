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
and cut off at the end of a quote. This module imports no other module of :mod:`sqlspapi.http`: the client and the
token provider both use it.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from sqlspapi.errors import AuthError, SPAPIError, ThrottledError

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


#: An encoded character in text an answer quotes: ``%XX`` (also ``%25XX``, percent-encoded twice), a JSON ``\uXXXX``,
#: a backslash-escaped punctuation mark (JSON's ``\/`` and ``\"``), an HTML character reference.
_ENCODED = re.compile(r"%(?:25)?([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\([^0-9A-Za-z])|&#([0-9]{1,7});"
                      r"|&#[xX]([0-9A-Fa-f]{1,6});|&(amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: Secrets shorter than this are not searched for (they would match by chance).
_MIN_SECRET = 4
#: Base64 runs shorter than this are not searched for.
_MIN_BASE64 = 8
#: The shortest piece of a secret masked where a text is cut off.
_MIN_PIECE = 4
MASK = "***"


def _decoded(match: re.Match[str]) -> str:
    """The character one :data:`_ENCODED` match stands for (a percent-encoded byte as its Latin-1 character)."""
    byte, unit, escaped, decimal, hexa, entity = match.groups()
    if byte is not None:
        return chr(int(byte, 16))
    if unit is not None:
        return chr(int(unit, 16))
    if escaped is not None:
        return escaped
    if entity is not None:
        return _ENTITIES[entity]
    code = int(decimal) if decimal is not None else int(hexa, 16)
    return chr(code) if code <= sys.maxunicode else "\ufffd"


class _DecodedView:
    """``text`` with every encoded character decoded (:data:`_ENCODED`), and the way back to ``text``'s positions.

    The view is made of segments: runs copied from ``text`` and single decoded characters, each with its start in
    the view and its span in ``text``.
    """

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self._starts: list[int] = []  # start of each segment in the view
        self._spans: list[tuple[int, int, bool]] = []  # (start in text, end in text, decoded)
        at = size = 0
        for match in _ENCODED.finditer(text):
            if match.start() > at:
                self._add(pieces, text[at:match.start()], size, at, match.start(), False)
                size += match.start() - at
            self._add(pieces, _decoded(match), size, match.start(), match.end(), True)
            size += 1
            at = match.end()
        if self._starts:
            if at < len(text):
                self._add(pieces, text[at:], size, at, len(text), False)
            self.text = "".join(pieces)
        else:
            self.text = text

    def _add(self, pieces: list[str], piece: str, start: int, text_start: int, text_end: int, decoded: bool) -> None:
        pieces.append(piece)
        self._starts.append(start)
        self._spans.append((text_start, text_end, decoded))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``text`` that view characters ``start`` to ``end`` (exclusive) come from."""
        if not self._starts:
            return start, end
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_right(self._starts, end - 1) - 1
        text_start, _, decoded = self._spans[first]
        begin = text_start if decoded else text_start + start - self._starts[first]
        text_start, text_end, decoded = self._spans[last]
        return begin, text_end if decoded else text_start + end - self._starts[last]


def _base64_runs(data: bytes) -> set[str]:
    """The base64 characters that encode ``data`` whatever bytes surround it (3 alignments, standard and URL-safe
    alphabets): at most the two characters at each end that also encode a neighbouring byte are left out."""
    runs = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
        run = encoded[-(-8 * offset // 6):8 * (offset + len(data)) // 6]
        if len(run) >= _MIN_BASE64:
            runs.update((run, run.translate(_URLSAFE)))
    return runs


_URLSAFE = str.maketrans("+/", "-_")


def _surrogates(text: str) -> str:
    """``text`` with each character beyond the BMP as its UTF-16 surrogate pair (as JSON's ``\\uD83D\\uDE00``
    decodes in :class:`_DecodedView`)."""
    return "".join(ch if ord(ch) < 0x10000 else
                   chr(0xD800 + ((ord(ch) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(ch) - 0x10000) & 0x3FF))
                   for ch in text)


def _forms(secret: str) -> set[str]:
    """What ``secret`` may look like in a :class:`_DecodedView`: itself (also as the view decodes it, should it hold
    ``%41`` or ``\\/``), with spaces as ``+`` (form encoding), its UTF-8 bytes as Latin-1 characters (percent-encoded
    bytes), with surrogate pairs (JSON), URL-encoded (for a text cut off in the middle of a ``%XX``), and base64 of
    it raw and URL-encoded."""
    url_encoded = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms = {secret, _DecodedView(secret).text, secret.replace(" ", "+"), secret.encode("utf-8").decode("latin-1"),
             _surrogates(secret), *url_encoded}  # URL-encoded as they are: a text cut off inside a %XX
    for encoded in {secret, *url_encoded}:
        forms |= _base64_runs(encoded.encode("utf-8"))
    return forms


def _revealed(settings: Any, secrets: Iterable[Any]) -> list[str]:
    """The text of every secret of ``settings`` (each :class:`~sqlspapi.settings.keys.Secret` field) and of
    ``secrets`` (text or Secret), long enough to search for."""
    found: list[Any] = list(secrets)
    if dataclasses.is_dataclass(settings):
        found.extend(value for f in dataclasses.fields(settings)
                     if hasattr(value := getattr(settings, f.name, None), "reveal"))
    else:
        found.extend(getattr(settings, name, None) for name in ("client_secret", "refresh_token"))
    texts = []
    for value in found:
        text = value.reveal() if hasattr(value, "reveal") else value
        if isinstance(text, str) and len(text) >= _MIN_SECRET:
            texts.append(text)
    return texts


def scrub(text: str, settings: Any, secrets: Iterable[Any] = ()) -> str:
    """``text`` with every secret of ``settings`` (client secret, refresh token, AWS secret key) and ``secrets``
    (e.g. the token a request sent) replaced by ``***``, in whatever encoding ``text`` holds it: raw, URL-encoded
    (``%7C``, ``+`` for a space, also encoded twice), JSON-escaped (``\\/``, ``\\u007c``), as HTML character
    references, or base64 (at any alignment; at most two characters at each end stay), or a mix of them; and a
    piece of one (4 characters or more) where ``text`` begins or ends, for a text cut off in the middle of a secret.
    ``secrets`` may be text or :class:`~sqlspapi.settings.keys.Secret`; secrets shorter than 4 characters are not
    searched for."""
    if not text:
        return text
    forms = {form for secret in _revealed(settings, secrets) for form in _forms(secret)}
    if not forms:
        return text
    spans = _found(text, forms)
    view = _DecodedView(text)
    if view.text is not text:
        spans += [view.span(start, end) for start, end in _found(view.text, forms)]
    return _masked(text, spans) if spans else text


def _found(text: str, forms: Iterable[str]) -> list[tuple[int, int]]:
    """The spans of ``text`` that hold one of ``forms``, or, at either end of ``text``, a piece of one at least
    :data:`_MIN_PIECE` characters long: a text cut short in the middle of a secret (or starting in one)."""
    spans = []
    for form in forms:
        at = text.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = text.find(form, at + 1)
        # The longest piece first; only pieces that end (start) with the text's last (first) character are tried.
        end = form.rfind(text[-1], 0, len(form) - 1) + 1
        while end >= _MIN_PIECE and not text.endswith(form[:end]):
            end = form.rfind(text[-1], 0, end - 1) + 1
        if end >= _MIN_PIECE:
            spans.append((len(text) - end, len(text)))
        start = form.find(text[0], 1)
        while 0 < start <= len(form) - _MIN_PIECE and not text.startswith(form[start:]):
            start = form.find(text[0], start + 1)
        if 0 < start <= len(form) - _MIN_PIECE:
            spans.append((0, len(form) - start))
    return spans


def _masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (they may overlap) replaced by :data:`MASK`, overlapping ones by one."""
    out, done = [], 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        if start >= done:
            out += [text[done:start], MASK]
        done = end
    out.append(text[done:])
    return "".join(out)


def scrub_value(value: Any, settings: Any, secrets: Iterable[Any] = ()) -> Any:
    """``value`` (decoded JSON: an error's ``details``) with :func:`scrub` applied to every string in it."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, settings, secrets)
    if isinstance(value, Mapping):
        return {scrub(str(k), settings, secrets): scrub_value(v, settings, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v, settings, secrets) for v in value]
    return value


# ------------------------------------------------------------------------------------------------ SP-API


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
            f"and update ClientSecret (ClientId {settings.client_id})."
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
