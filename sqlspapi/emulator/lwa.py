"""Login with Amazon (LWA) for the emulator: the token endpoint and access-token / RDT bookkeeping.

Three grants, as LWA has them: ``refresh_token`` (a seller's token, keyed to the seller's account),
``client_credentials`` with a ``scope`` (a grantless token: the app's, for no seller), and ``authorization_code``
(the website authorization flow: :meth:`Auth.consent` is the consent page, which redirects to the app's
``redirect_uri`` with a ``spapi_oauth_code``; the code is single use, lives :data:`CODE_LIFETIME` seconds and is
bound to the client id and redirect_uri, and its exchange issues a new refresh token of the demo seller).
:meth:`Auth.refusal` is the rule the server applies to every SP-API request: a grantless operation needs a grantless
token of its scope, every other operation a seller's token (Amazon answers 403 Unauthorized otherwise).

The app's client secret can be rotated (:meth:`Auth.rotate_client_secret`, called by
:mod:`sqlspapi.emulator.appmgmt`): the new secret works at once and the old one keeps working until
:data:`OLD_SECRET_DAYS` days after the rotation, as Amazon has it. Where the new secret is delivered (the SQS queue
the app registered for "Application Client New Secret" notifications) is set with :meth:`Auth.enroll_rotation`.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlspapi.emulator.pools import SELLER_ID

DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_REFRESH_TOKEN = "Atzr|demo-refresh-token"
DEMO_APPLICATION_ID = "amzn1.sp.solution.demo"

#: Days a rotated-out client secret keeps working (Amazon: seven), and days a new one lives (Amazon: 180).
OLD_SECRET_DAYS = 7
NEW_SECRET_DAYS = 180
_DAY = 86400.0

#: Seconds a consent page's ``spapi_oauth_code`` can be exchanged (Amazon: five minutes).
CODE_LIFETIME = 300.0

GRANTLESS = "<grantless>"  # account of client_credentials tokens: no seller data
EXPIRED = "The access token you provided has expired."
DENIED = "Access to requested resource is denied."
#: The LWA scopes of SP-API grantless operations (Notifications; Authorization's migration; client-secret rotation).
GRANTLESS_SCOPES = ("sellingpartnerapi::notifications", "sellingpartnerapi::migration",
                    "sellingpartnerapi::client_credential:rotation")


@dataclass
class Grant:
    """An issued access token (LWA or RDT): whose account it is, when it expires, what an RDT covers."""

    token: str
    account: str
    expires: float
    rdt: bool = False
    resources: list[dict[str, Any]] = field(default_factory=list)
    scope: str | None = None  # the LWA scope of a grantless (client_credentials) token


@dataclass
class AuthResult:
    """Outcome of checking ``x-amz-access-token``: ``grant`` when valid, else ``details`` of the 403."""

    grant: Grant | None
    details: str = ""


class Auth:
    """Refresh tokens, issued access tokens and Restricted Data Tokens (thread-safe)."""

    def __init__(self, token_lifetime: float = 3600.0) -> None:
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.token_lifetime = float(token_lifetime)
        self._lock = threading.Lock()
        #: refresh token -> account name (the account keys the rate-limit buckets).
        self.refresh_tokens: dict[str, str] = {DEMO_REFRESH_TOKEN: "demo"}
        self.revoked: set[str] = set()
        #: The scopes the demo app may get a client_credentials token for (others: ``invalid_scope``).
        self.grantless_scopes: set[str] = set(GRANTLESS_SCOPES)
        self._grants: dict[str, Grant] = {}
        #: authorization code -> (client_id, redirect_uri, expiry): issued by the consent page, single use.
        self._codes: dict[str, tuple[str, str, float]] = {}
        self.application_id = DEMO_APPLICATION_ID
        #: When the current client secret expires (epoch seconds); None until the first rotation.
        self.client_secret_expires: float | None = None
        #: rotated-out client secret -> when it stops working (epoch seconds).
        self._retired: dict[str, float] = {}
        self.rotations = 0
        self._rotation_lock = threading.Lock()
        #: Where rotateApplicationClientSecret delivers the new secret (:meth:`enroll_rotation`); None: not enrolled.
        self.rotation_queue_url: str | None = None
        self.aws_endpoint_url: str | None = None
        self.aws_region = "us-east-1"

    # -- configuration -----------------------------------------------------------------------------------
    def set_token_lifetime(self, seconds: float) -> None:
        """Lifetime of access tokens and RDTs issued from now on."""
        self.token_lifetime = float(seconds)

    def revoke(self, refresh_token: str = DEMO_REFRESH_TOKEN) -> None:
        """Later grants for ``refresh_token`` answer ``invalid_grant`` (issued access tokens stay valid)."""
        with self._lock:
            self.revoked.add(refresh_token)

    def add_account(self, refresh_token: str, account: str | None = None) -> None:
        """Accept another refresh token (a second selling-partner account with its own rate-limit buckets)."""
        with self._lock:
            self.refresh_tokens[refresh_token] = account or refresh_token
            self.revoked.discard(refresh_token)

    def deny_scope(self, scope: str) -> None:
        """Later client_credentials grants for ``scope`` answer ``invalid_scope`` (an app without that scope)."""
        with self._lock:
            self.grantless_scopes.discard(scope)

    def enroll_rotation(self, queue_url: str | None, *, aws_endpoint_url: str | None = None,
                        aws_region: str = "us-east-1") -> None:
        """Register (None: remove) the SQS queue that receives the app's "Application Client New Secret"
        notifications, as a developer does in Developer Central. ``aws_endpoint_url`` points boto3 at another SQS
        (moto in the tests); ``aws_region`` is used when the queue URL does not name one."""
        with self._rotation_lock:
            self.rotation_queue_url = queue_url
            self.aws_endpoint_url = aws_endpoint_url
            self.aws_region = aws_region

    def rotate_client_secret(self, seed: int, deliver: Callable[[str, float, float], None]) -> str:
        """Replace the client secret with the next one of ``seed`` (deterministic: seed and rotation count). The
        old one keeps working for :data:`OLD_SECRET_DAYS` days. ``deliver(new_secret, new_expiry, old_expiry)``
        (epoch seconds) sends the notification first; when it raises, nothing changes. Returns the new secret."""
        with self._rotation_lock:
            number = self.rotations + 1
            digest = hashlib.sha256(f"sqlspapi-emulator-secret:{seed}:{number}".encode()).hexdigest()
            new = f"amzn1.oa2-cs.v1.emu{digest[:48]}"
            now = time.time()
            new_expiry, old_expiry = now + NEW_SECRET_DAYS * _DAY, now + OLD_SECRET_DAYS * _DAY
            deliver(new, new_expiry, old_expiry)
            with self._lock:
                self._retired = {k: v for k, v in self._retired.items() if v > now}
                self._retired[self.client_secret] = old_expiry
                self.client_secret = new
                self.client_secret_expires = new_expiry
                self.rotations = number
            return new

    def expire_retired_secrets(self) -> None:
        """Rotated-out client secrets stop working now (as seven days after a rotation)."""
        with self._lock:
            self._retired.clear()

    def _secret_ok(self, given: str) -> bool:
        """Is ``given`` the current client secret, or a rotated-out one still in its grace period?"""
        with self._lock:
            if secrets.compare_digest(given, self.client_secret):
                return True
            now = time.time()
            return any(secrets.compare_digest(given, old) and until > now for old, until in self._retired.items())

    def expires_in(self) -> int:
        """The ``expires_in`` / ``expiresIn`` value of a token issued now (whole seconds, at least 1)."""
        return max(1, math.ceil(self.token_lifetime))

    # -- LWA endpoint ------------------------------------------------------------------------------------
    def token_endpoint(self, body: bytes, content_type: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """Answer ``POST /auth/o2/token``: (status, JSON body, params safe to log)."""
        form: dict[str, str] = {}
        if "json" in content_type.lower():
            import json

            try:
                parsed = json.loads(body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if not isinstance(parsed, dict):
                return 400, _oauth("invalid_request", "The request body is not valid JSON."), {}
            form = {str(k): str(v) for k, v in parsed.items() if v is not None}
        else:
            try:
                qs = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return 400, _oauth("invalid_request", "The request body is not valid UTF-8."), {}
            form = {k: v[-1] for k, v in qs.items()}
        logged = {k: form[k] for k in ("grant_type", "scope") if k in form}
        grant_type = form.get("grant_type", "")
        if not grant_type:
            return 400, _oauth("invalid_request", "The request is missing a required parameter : grant_type"), logged
        if grant_type not in ("refresh_token", "client_credentials", "authorization_code"):
            return 400, _oauth("unsupported_grant_type", f"The grant type {grant_type!r} is not supported"), logged
        for name in ("client_id", "client_secret"):
            if not form.get(name):
                return 400, _oauth("invalid_request", f"The request is missing a required parameter : {name}"), logged
        if form["client_id"] != self.client_id or not self._secret_ok(form["client_secret"]):
            return 401, _oauth("invalid_client", "Client authentication failed"), logged
        if grant_type == "authorization_code":
            return self._exchange_code(form, logged)
        if grant_type == "client_credentials":
            scope = form.get("scope", "")
            if not scope:
                return 400, _oauth("invalid_request", "The request is missing a required parameter : scope"), logged
            with self._lock:
                allowed = scope in self.grantless_scopes
            if not allowed:
                return 400, _oauth("invalid_scope", "The request has an invalid parameter : scope"), logged
            grant = self._issue(GRANTLESS, rdt=False, scope=scope)
            return 200, _token_body(grant, self.expires_in(), None, scope), logged
        refresh = form.get("refresh_token", "")
        if not refresh:
            return 400, _oauth("invalid_request", "The request is missing a required parameter : refresh_token"), logged
        with self._lock:
            account = self.refresh_tokens.get(refresh)
            revoked = refresh in self.revoked
        if account is None or revoked:
            return 400, _oauth("invalid_grant", "The request has an invalid grant parameter : refresh_token"), logged
        grant = self._issue(account, rdt=False)
        return 200, _token_body(grant, self.expires_in(), refresh, None), logged

    # -- website authorization flow ----------------------------------------------------------------------
    def consent(self, query: dict[str, str]) -> tuple[int, str, str | None]:
        """Answer ``GET /apps/authorize/consent``: (status, text, redirect location). The seller "consents" at once:
        the answer redirects to ``redirect_uri`` with ``spapi_oauth_code``, ``state`` and ``selling_partner_id``."""
        redirect_uri = query.get("redirect_uri", "")
        if not query.get("application_id"):
            return 400, "The consent page needs application_id.", None
        if urlsplit(redirect_uri).scheme not in ("http", "https") or not urlsplit(redirect_uri).netloc:
            return 400, "The consent page needs the app's redirect_uri (an http or https URL).", None
        code = "ANemu" + secrets.token_urlsafe(18)
        with self._lock:
            now = time.monotonic()
            self._codes = {k: v for k, v in self._codes.items() if v[2] > now}
            self._codes[code] = (self.client_id, redirect_uri, now + CODE_LIFETIME)
        answer = {"spapi_oauth_code": code, "state": query.get("state", ""),
                  "selling_partner_id": SELLER_ID}
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        return 302, "Redirecting to the app.", redirect_uri + joiner + urlencode(answer)

    def _exchange_code(self, form: dict[str, str], logged: dict[str, Any]) -> tuple[int, dict[str, Any],
                                                                                       dict[str, Any]]:
        """The ``authorization_code`` grant (client already authenticated): a new refresh token, single use."""
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                return 400, _oauth("invalid_request", f"The request is missing a required parameter : {name}"), logged
        with self._lock:
            issued = self._codes.pop(form["code"], None)
        if issued is None or issued[2] <= time.monotonic():
            return 400, _oauth("invalid_grant", "The authorization code is invalid or expired."), logged
        if issued[0] != form["client_id"] or issued[1] != form["redirect_uri"]:
            return 400, _oauth("invalid_grant", "The authorization code was issued to another client or "
                                                "redirect_uri."), logged
        refresh = "Atzr|emu-" + secrets.token_urlsafe(32)
        self.add_account(refresh, "demo")
        grant = self._issue("demo", rdt=False)
        return 200, _token_body(grant, self.expires_in(), refresh, None), logged

    # -- access tokens -----------------------------------------------------------------------------------
    def _issue(self, account: str, *, rdt: bool, resources: list[dict[str, Any]] | None = None,
               scope: str | None = None) -> Grant:
        prefix = "Atz.sprdt|emu-" if rdt else "Atza|emu-"
        token = prefix + secrets.token_urlsafe(24)
        grant = Grant(token, account, time.monotonic() + self.token_lifetime, rdt, list(resources or []), scope)
        with self._lock:
            self._grants[token] = grant
            if len(self._grants) > 50_000:  # drop expired grants now and then
                now = time.monotonic()
                self._grants = {k: g for k, g in self._grants.items() if g.expires > now}
        return grant

    def issue_rdt(self, account: str, resources: list[dict[str, Any]]) -> Grant:
        """A Restricted Data Token for ``account`` covering ``resources`` ({method, path, dataElements})."""
        return self._issue(account, rdt=True, resources=resources)

    def check(self, token: str | None) -> AuthResult:
        """Validate an ``x-amz-access-token`` value."""
        if not token:
            return AuthResult(None, "Access token is missing in the request header.")
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            return AuthResult(None, "The access token you provided is revoked, malformed or invalid.")
        if time.monotonic() >= grant.expires:
            return AuthResult(None, EXPIRED)
        return AuthResult(grant)


    @staticmethod
    def refusal(grant: Grant, grantless: str | None) -> str | None:
        """Why ``grant`` may not call an operation (the details of Amazon's 403 Unauthorized), or None.

        ``grantless`` is the operation's LWA scope when it is grantless: it needs a client_credentials token of that
        scope. Any other operation acts on a seller's data and needs a seller's (refresh-token) token.
        """
        if grantless is None:
            if grant.account == GRANTLESS:
                return "A grantless access token cannot call operations that need seller authorization."
            return None
        if grant.account != GRANTLESS:
            return (f"This operation is grantless: call it with an access token from the client_credentials grant "
                    f"for scope {grantless}, not with a selling partner's token.")
        if grant.scope != grantless:
            return f"The grantless access token was issued for scope {grant.scope}; this operation needs {grantless}."
        return None


def _oauth(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def _token_body(grant: Grant, expires_in: int, refresh: str | None, scope: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": grant.token, "token_type": "bearer", "expires_in": expires_in}
    if refresh is not None:
        body["refresh_token"] = refresh
    if scope is not None:
        body["scope"] = scope
    return body


_SEGMENT = re.compile(r"\{[^/{}]+\}")


def path_matches(pattern: str, path: str) -> bool:
    """Does an RDT resource path (specific, or generic with ``{orderId}``) cover a request path?"""
    if pattern == path:
        return True
    if "{" not in pattern:
        return False
    regex = "^" + _SEGMENT.sub("[^/]+", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    return re.match(regex, path) is not None


def rdt_elements(grant: Grant, method: str, path: str) -> set[str] | None:
    """The data elements an RDT grants for (method, path), or None when it does not cover that resource."""
    found: set[str] | None = None
    for res in grant.resources:
        if res.get("method", "").upper() == method.upper() and path_matches(res.get("path", ""), path):
            found = (found or set()) | set(res.get("dataElements") or [])
    return found
