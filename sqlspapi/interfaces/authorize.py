"""The website authorization flow (``sqlspapi authorize``): a seller's consent gives a refresh token.

:func:`authorize` builds the Seller Central (or Vendor Central) consent URL of the app (:func:`consent_url`: its
``application_id``, a random ``state``, ``version=beta`` for a draft app, ``redirect_uri`` = a loopback listener),
shows and opens it, listens on 127.0.0.1 for the one redirect, checks ``state`` (a mismatch is an error and no code
is exchanged), exchanges the ``spapi_oauth_code`` at the connection's TokenUrl (``grant_type=authorization_code``)
and stores the refresh token and ``selling_partner_id`` (as SellerId) into a credentials file
(:func:`sqlspapi.settings.store.store_refresh_token`) or an AWS Secrets Manager secret
(:func:`sqlspapi.settings.secret_store.store_secret_fields`). See ``docs/authorize.md``.

Secrets (client secret, code, refresh token) never appear in messages; the refresh token is a
:class:`~sqlspapi.settings.values.Secret`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlspapi.errors import AuthError, InterfaceError
from sqlspapi.settings.connstr import Settings
from sqlspapi.settings.values import Secret

__all__ = ["CALLBACK_PATH", "SELLER_CENTRAL", "VENDOR_CENTRAL", "Authorization", "add_arguments", "authorize",
           "consent_base", "consent_url", "exchange_code", "from_auth_url", "run_command"]

SELLER_CENTRAL = {"na": "https://sellercentral.amazon.com", "eu": "https://sellercentral-europe.amazon.com",
                  "fe": "https://sellercentral.amazon.co.jp"}
"""Seller Central host of each region (the consent page of seller apps)."""
VENDOR_CENTRAL = {"na": "https://vendorcentral.amazon.com", "eu": "https://vendorcentral.amazon.co.uk",
                  "fe": "https://vendorcentral.amazon.co.jp"}
"""Vendor Central host of each region (the consent page of vendor apps)."""
CONSENT_PATH = "/apps/authorize/consent"
CALLBACK_PATH = "/sqlspapi/authorized"
"""The path of the loopback ``redirect_uri`` (``http://127.0.0.1:PORT/sqlspapi/authorized``)."""

_LWA_ADVICE = {
    "invalid_grant": "the authorization code expired or was already used (codes live five minutes): run "
                     "sqlspapi authorize again",
    "invalid_client": "Login with Amazon did not accept ClientId/ClientSecret: check ClientSecret (it must be the "
                      "app's current secret; secrets expire after 180 days)",
    "unauthorized_client": "this app may not use the authorization-code grant: check the app's OAuth redirect URI "
                           "and that it is a public or draft app you own",
    "invalid_request": "the token request was refused as malformed: check the redirect URI registered for the app",
}


@dataclass(frozen=True)
class Authorization:
    """The outcome of the flow: the refresh token (a Secret), the seller's id, and where it was stored: the
    credentials file's path, or the AWS Secrets Manager secret's id."""

    refresh_token: Secret
    selling_partner_id: str
    stored_in: Path | str | None = None


def consent_base(settings: Settings, *, vendor: bool = False, region: str | None = None) -> str:
    """Where the consent page lives: the emulator (a loopback ``Endpoint``), else the region's Seller Central
    (Vendor Central with ``vendor``)."""
    host = urlsplit(settings.endpoint).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return settings.endpoint.rstrip("/")
    name = (region or settings.region or "na").lower()
    table = VENDOR_CENTRAL if vendor else SELLER_CENTRAL
    if name not in table:
        raise InterfaceError(f"unknown region {name!r}: use one of {', '.join(table)}")
    return table[name]


def consent_url(base: str, application_id: str, *, state: str, redirect_uri: str, draft: bool = False) -> str:
    """The consent page URL: ``base/apps/authorize/consent?application_id=…&state=…[&version=beta]&redirect_uri=…``
    (``base`` may already end with the consent path)."""
    params = {"application_id": application_id, "state": state}
    if draft:
        params["version"] = "beta"
    params["redirect_uri"] = redirect_uri
    base = base.rstrip("/")
    return (base if base.endswith(CONSENT_PATH) else base + CONSENT_PATH) + "?" + urlencode(params)


def from_auth_url(url: str) -> tuple[str, str | None, bool]:
    """A consent page URL as ZappySys's ``AuthUrl`` holds it → (its base for :func:`consent_url`, the
    ``application_id`` it names — None for none or a placeholder such as ``[YOUR-APPLICATION-ID]`` —, whether it says
    ``version=beta``)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InterfaceError("AuthUrl is not an http(s) URL of the consent page (e.g. "
                             "https://sellercentral.amazon.com/apps/authorize/consent?application_id=...)")
    query = dict(parse_qsl(parts.query))
    application = query.get("application_id", "").strip()
    if not application or application.startswith(("[", "<", "{")):
        application = ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}", application or None, query.get("version") == "beta"


class _Listener(HTTPServer):
    """The loopback redirect target: 127.0.0.1 only, keeps the first redirect that reaches :data:`CALLBACK_PATH`."""

    def __init__(self, port: int, state: str) -> None:
        super().__init__(("127.0.0.1", port), _Callback)
        self.state = state
        self.received: dict[str, str] | None = None

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/sqlspapi/authorized``."""
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"


class _Callback(BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """Record the redirect's parameters and answer the browser with a short page."""
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.received is not None:
            self._answer(404, "Not the sqlspapi authorization redirect.")
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.server.received = params
        if not secrets.compare_digest(params.get("state", ""), self.server.state):
            self._answer(400, "The state does not match the one sqlspapi sent: this authorization is refused. "
                              "Run sqlspapi authorize again.")
        elif params.get("error") or not params.get("spapi_oauth_code"):
            self._answer(400, "The authorization was not granted. See the terminal.")
        else:
            self._answer(200, "sqlspapi received the authorization. You can close this window; the terminal "
                              "shows the result.")

    def _answer(self, status: int, text: str) -> None:
        page = (f"<!doctype html><title>sqlspapi authorize</title><p>{text}</p>\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet (the query holds the code)."""


def exchange_code(settings: Settings, code: str, redirect_uri: str) -> Secret:
    """Exchange an ``spapi_oauth_code`` at the connection's TokenUrl; the refresh token. :class:`AuthError` with
    advice (never a secret) when Login with Amazon refuses."""
    import requests

    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.client_id, "client_secret": settings.client_secret.reveal()}
    try:
        answer = requests.post(settings.token_url, data=form, timeout=settings.timeout)
    except requests.RequestException as exc:
        raise AuthError(f"could not reach the token endpoint {settings.token_url} ({type(exc).__name__})") from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if answer.status_code == 200 and body.get("refresh_token"):
        return Secret(str(body["refresh_token"]))
    error = str(body.get("error") or f"HTTP {answer.status_code}")
    advice = _LWA_ADVICE.get(error, "see the error code in the Login with Amazon documentation")
    raise AuthError(f"Login with Amazon refused the authorization code ({error}): {advice}.",
                    lwa_error=error, status=answer.status_code)


def authorize(settings: Settings, application_id: str, *, vendor: bool = False, draft: bool = False,
              region: str | None = None, base: str | None = None, port: int = 0,
              open_url: Callable[[str], Any] | None = None, show_url: Callable[[str], Any] | None = None,
              timeout: float = 600.0, credentials_file: str | Path | None = None,
              account: str | None = None, secret: str | None = None) -> Authorization:
    """Run the website authorization flow for ``application_id`` with the app's ``settings`` (ClientId,
    ClientSecret, TokenUrl, Region, Endpoint).

    ``base`` overrides where the consent page is (default :func:`consent_base`); ``show_url`` then ``open_url``
    (e.g. ``webbrowser.open``; it must not wait for the redirect) get the consent URL. Waits up to ``timeout``
    seconds for the redirect on 127.0.0.1:``port`` (0: a free port). With ``credentials_file`` the refresh token
    and SellerId are stored there (in ``account``); with ``secret`` (an AWS Secrets Manager secret's name or ARN)
    they are stored in that JSON secret (in ``account``), read and written with the connection's AWS keys (else
    boto3's default chain), keeping its other fields and accounts.
    """
    if not settings.client_id or not settings.client_secret:
        raise InterfaceError("authorize needs the app's ClientId and ClientSecret (connection string, "
                             "CredentialsFile/Profile, or LWA_APP_ID/LWA_CLIENT_SECRET)")
    if not application_id:
        raise InterfaceError("authorize needs the app's application id (amzn1.sp.solution.…)")
    if credentials_file is not None and secret is not None:
        raise InterfaceError("store the refresh token in a credentials file or a secret, not both")
    if credentials_file is not None:
        from sqlspapi.settings.store import check_target

        check_target(credentials_file, account)  # a file that cannot take the token fails before the seller consents
    state = secrets.token_urlsafe(24)
    try:
        listener = _Listener(port, state)
    except OSError as exc:
        raise InterfaceError(f"cannot listen on 127.0.0.1:{port} for the redirect ({exc.strerror or exc})") from None
    try:
        url = consent_url(base or consent_base(settings, vendor=vendor, region=region), application_id,
                          state=state, redirect_uri=listener.redirect_uri, draft=draft)
        if show_url is not None:
            show_url(url)
        if open_url is not None:
            threading.Thread(target=open_url, args=(url,), daemon=True, name="sqlspapi-authorize-browser").start()
        deadline = time.monotonic() + timeout
        while listener.received is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise InterfaceError(f"no authorization arrived at {listener.redirect_uri} within {timeout:g} s: "
                                     "open the consent URL and approve the app, then run sqlspapi authorize again")
            listener.timeout = min(left, 1.0)
            listener.handle_request()
        received = listener.received
        redirect_uri = listener.redirect_uri
    finally:
        listener.server_close()
    if not secrets.compare_digest(received.get("state", ""), state):
        raise AuthError("the redirect's state does not match the one sqlspapi sent, so its code was not used "
                        "(a stale or forged redirect): run sqlspapi authorize again")
    if received.get("error") or not received.get("spapi_oauth_code"):
        what = received.get("error_description") or received.get("error") or "no spapi_oauth_code"
        raise AuthError(f"the seller did not authorize the app ({what[:200]})")
    token = exchange_code(settings, received["spapi_oauth_code"], redirect_uri)
    seller = received.get("selling_partner_id", "")
    stored = None
    if credentials_file is not None:
        from sqlspapi.settings.store import store_refresh_token

        stored = store_refresh_token(credentials_file, token.reveal(), account=account, seller_id=seller or None)
    elif secret is not None:
        from sqlspapi.http.rotation import secret_home

        secret_home(settings, secret_id=secret, account=account).write(
            {"RefreshToken": token.reveal(), **({"SellerId": seller} if seller else {})})
        stored = secret
    return Authorization(token, seller, stored)


def add_arguments(parser: Any) -> None:
    """The options of ``sqlspapi authorize`` on an argparse (sub)parser."""
    parser.add_argument("connection_string", nargs="?", default=None, metavar="CONNSTR",
                        help="the app's ClientId/ClientSecret (else $SQLSPAPI_CONNECTION_STRING, a credentials "
                             "file or LWA_APP_ID/LWA_CLIENT_SECRET)")
    parser.add_argument("--application-id", default=None,
                        help="the app's id (amzn1.sp.solution.…); default: the application_id of AuthUrl")
    parser.add_argument("--region", choices=tuple(SELLER_CENTRAL), default=None, help="the consent page's region")
    parser.add_argument("--vendor", action="store_true", help="Vendor Central (a vendor app)")
    parser.add_argument("--draft", action="store_true", help="a draft app (version=beta)")
    parser.add_argument("--credentials-file", metavar="PATH", default=None,
                        help="store the refresh token here (JSON, HJSON or YAML; created with mode 600)")
    parser.add_argument("--secret", metavar="ARN", default=None,
                        help="store the refresh token in this AWS Secrets Manager secret (JSON; other fields kept)")
    parser.add_argument("--account", metavar="NAME", default=None,
                        help="the account of the credentials file or secret")
    parser.add_argument("--print", dest="print_token", action="store_true", help="print the refresh token instead")
    parser.add_argument("--port", type=int, default=0, help="loopback port of the redirect (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the consent URL")
    parser.add_argument("--consent-url", default=None, help="where the consent page is (tests, the emulator)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the redirect")
    parser.add_argument("--demo", action="store_true", help="the built-in emulator's app and consent page")


def run_command(args: Any, out: Any, err: Any) -> int:
    """``sqlspapi authorize``: run the flow, then store the refresh token or (``--print``) print it."""
    import os

    from sqlspapi.engine import resolve_settings

    text = args.connection_string
    if text is None and not args.demo:
        text = os.environ.get("SQLSPAPI_CONNECTION_STRING") or ""
    settings = resolve_settings(text, demo=True) if args.demo else _parse(text)
    target, secret, account = args.credentials_file, args.secret, args.account
    if len([given for given in (target, secret, args.print_token or None) if given is not None]) > 1:
        raise InterfaceError("give one of --credentials-file, --secret or --print")
    if target is None and secret is None and not args.print_token:
        target, secret, account = _connection_target(settings, account)
    for notice in settings.notices:
        print(f"notice: {notice}", file=err)

    def show(url: str) -> None:
        print(f"Open this URL and approve the app (waiting on 127.0.0.1 for the redirect):\n{url}", file=out,
              flush=True)

    opener = None
    if not args.no_browser:
        import webbrowser

        opener = webbrowser.open
    base, application, draft = args.consent_url, args.application_id, args.draft
    if settings.auth_url:  # ZappySys's AuthUrl: the consent page, the app's id and version=beta
        auth_base, auth_application, auth_draft = from_auth_url(settings.auth_url)
        base, application, draft = base or auth_base, application or auth_application, draft or auth_draft
    if not application:
        raise InterfaceError("give the app's id: --application-id amzn1.sp.solution.… (Developer Central → your app), "
                             "or AuthUrl with its application_id in the connection string")
    result = authorize(settings, application, vendor=args.vendor, draft=draft, region=args.region,
                       base=base, port=args.port, open_url=opener, show_url=show,
                       timeout=args.timeout, credentials_file=target, account=account, secret=secret)
    seller = result.selling_partner_id or "(not given)"
    if args.print_token:
        print(f"selling_partner_id: {seller}\nrefresh_token: {result.refresh_token.reveal()}", file=out)
    else:
        where = f" (account {account})" if account else ""
        print(f"Stored the refresh token of selling partner {seller} in {result.stored_in}{where}.", file=out)
    return 0


def _parse(text: str) -> Settings:
    """The app's settings from a connection string that needs no refresh token."""
    from sqlspapi.settings.connstr import parse

    return parse(text, require_credentials=False)


def _connection_target(settings: Settings, account: str | None) -> tuple[str | None, str | None, str | None]:
    """(credentials file, secret, account) of the connection (CredentialsFile, Profile's file, or
    CredentialsSecret) when none of --credentials-file, --secret and --print is given."""
    if settings.credentials_file:
        return settings.credentials_file, None, account or settings.account
    if settings.profile:
        from sqlspapi.settings.sources import profile_file

        return str(profile_file()), None, settings.profile
    if settings.credentials_secret:
        return None, settings.credentials_secret, account or settings.account
    raise InterfaceError("say where the refresh token goes: --credentials-file PATH [--account NAME], --secret ARN, "
                         "or --print")
