"""Connection strings: ODBC-style ``Key=Value;...`` text → a validated, frozen :class:`Settings`.

:func:`parse` reads the text with the grammar (:mod:`sqlspapi.settings.grammar`: pairs split on ``;``, a value
written ``{...}`` may hold ``;``, ``=`` and spaces, ``}}`` inside braces is one ``}``; see
``docs/connection-string.md``), resolves each key against the catalogue, converts every value and assembles the
:class:`Settings`. Keys are case-insensitive (``_``, ``-`` and spaces in a key are ignored too, so ``client_id`` =
``ClientId``) and may be given once only, whichever alias is used. An empty value means "use the default".
:func:`format_connection_string` writes text back from key → value.

Every key is a row of :data:`KEYS` (:mod:`sqlspapi.settings.keys`, re-exported here). Secrets are
:class:`Secret` (``***`` in ``repr``/``str``).

No error message quotes text that contains, or may contain, another key's value (:mod:`sqlspapi.settings.redact`
says what may be shown). A non-secret value containing a secret key's name is refused (so a swallowed secret never
reaches ``Settings``; the values of accepted-and-ignored keys are kept nowhere, so
``TokenUIMode=OnlyRefreshToken`` passes). :func:`redact_secrets` (re-exported here) hides the secret values of
connection-string text for history files and logs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.converters import KeySpec, ValueProblem
from sqlspapi.settings.grammar import _segments, format_connection_string
from sqlspapi.settings.keys import (
    _KEY_BY_NAME,
    API_VERSIONS,
    AWS_SIGNING_NOTICE,
    DEFAULT_TOKEN_URL,
    DEPRECATIONS,
    KEYS,
    ORDERS_V0_NOTICE,
    _display,
    _norm,
    _to_text,
    _unknown_key,
    lookup_key,
)
from sqlspapi.settings.redact import (
    _BRACE_HINT,
    _catalogue_spelling,
    _secret_name_in,
    _unknown_key_in_text,
    _value_error,
    redact_secrets,
    secret_keys_in,
)
from sqlspapi.settings.sources import resolve as resolve_sources
from sqlspapi.settings.values import ReportPolicy, RetryPolicy, Secret, _FrozenMap

__all__ = [
    "Secret", "RetryPolicy", "Settings", "KeySpec", "KEYS", "API_VERSIONS", "DEFAULT_TOKEN_URL",
    "ORDERS_V0_NOTICE", "parse", "format_connection_string", "lookup_key", "redact_secrets", "secret_keys_in",
]

log = logging.getLogger("sqlspapi")


# -------------------- reading the pairs


def _read(text: str) -> tuple[dict[str, str], frozenset[str]]:
    """Parse the grammar and resolve keys: canonical key → raw value text (empty values dropped), and the keys
    whose values come after a secret (their values are never shown in errors)."""
    if not isinstance(text, str):
        raise ConnectionStringError(f"A connection string must be text, not {type(text).__name__}.")
    given: dict[str, str] = {}
    seen: dict[str, tuple[str, int]] = {}
    after_secret: set[str] = set()
    secret_seen = False  # a secret pair was read: what follows may be a piece of it
    for key, value, pos, _braced_value in _segments(text):
        if key is None:
            spec = lookup_key(value) if value else None
            hint = f" Did you mean '{spec.name}=...'?" if spec else ""
            raise ConnectionStringError(
                f"Connection string: the segment at character {pos} has no '=' (write Key=Value pairs "
                f"separated by ';'; put a value containing ';' in braces {{...}}).{hint}"
                + (_BRACE_HINT if secret_seen else ""),
                key=spec.name if spec else None,
            )
        spec = lookup_key(key)
        if spec is None:
            raise _unknown_key_in_text(key, pos, secret_seen)
        if spec.name in seen:
            first, first_pos = seen[spec.name]
            same = "" if _norm(first) == _norm(key) else f" (as {_catalogue_spelling(spec, first)})"
            again = "" if _norm(first) == _norm(key) else f" (as {_catalogue_spelling(spec, key)})"
            raise ConnectionStringError(
                f"Connection string: key {spec.name} is given twice: at character {first_pos}{same} and at "
                f"character {pos}{again}; keep one.", key=spec.name)
        seen[spec.name] = (key, pos)
        if not spec.secret and spec.attr is not None and (swallowed := _secret_name_in(value)):
            raise ConnectionStringError(
                f"Connection string: the value of {spec.name} (the pair at character {pos}) contains the name of the "
                f"secret key {swallowed}, so it probably swallowed that pair: a ';' is missing before {swallowed}, "
                f"or a brace opened before it closes only later. The value is not shown.", key=spec.name)
        if secret_seen:
            after_secret.add(spec.name)
        secret_seen = secret_seen or spec.secret
        if value != "":
            given[spec.name] = value
    return given, frozenset(after_secret)


# -------------------- settings


_CREDENTIAL_HELP = {
    "ClientId": (
        "ClientId is missing: the LWA 'Client identifier' of your SP-API app. Find it in Seller Central -> "
        "Apps and Services -> Develop Apps (Developer Central / Developer Console): click 'View' under "
        "'LWA credentials' for your app."
    ),
    "ClientSecret": (
        "ClientSecret is missing: the LWA 'Client secret' of your SP-API app, shown next to the Client "
        "identifier in Seller Central -> Apps and Services -> Develop Apps -> 'View' under "
        "'LWA credentials'. "
        "LWA client secrets must be rotated every 180 days ('Rotate secret' on that page); update this "
        "connection string when you rotate it."
    ),
    "RefreshToken": (
        "RefreshToken is missing: the LWA refresh token (Atzr|...) that authorizes your app for a seller "
        "account. For your own account use self-authorization: in Develop Apps choose Edit App -> Authorize, "
        "then 'Authorize app' and copy the Refresh Token; otherwise obtain it through your website OAuth "
        "authorization workflow."
    ),
}


_SOURCES_HINT = (" Keys may also come from a credentials file (CredentialsFile=path or Profile=name) or environment "
                 "variables (LWA_APP_ID, LWA_CLIENT_SECRET, SP_API_REFRESH_TOKEN): see 'Credential sources' in "
                 "docs/connection-string.md.")


@dataclass(frozen=True)
class Settings:
    """A validated connection string (see ``docs/internals.md``): what the client, auth and tables read.

    Build one with :func:`parse`; derive variants with :meth:`with_overrides`. Secrets are :class:`Secret`, so
    ``repr(settings)`` never shows them.
    """

    client_id: str = ""
    client_secret: Secret = Secret("")
    refresh_token: Secret = Secret("")
    token_url: str = DEFAULT_TOKEN_URL
    region: str = "na"
    endpoint: str = mp.REGIONS["na"].host
    sandbox: bool = False
    marketplace_ids: tuple[str, ...] = ()
    seller_id: str | None = None
    api_versions: Mapping[str, str] = field(
        default_factory=lambda: _FrozenMap({k: d for k, (_, d) in API_VERSIONS.items()}))
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    reports: ReportPolicy = field(default_factory=ReportPolicy)
    route: str = "auto"
    include_restricted_data: bool = False
    lookback_days: int = 30
    max_calls_per_statement: int = 1000
    timeout: float = 60.0
    token_cache: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: Secret | None = None
    role_arn: str | None = None
    sign_requests: bool = False
    credentials_file: str | None = None
    account: str | None = None
    profile: str | None = None
    credentials_secret: str | None = None
    rotation_queue_url: str | None = None
    auth_url: str | None = None
    client_secret_expiry: str | None = None
    rotate_secret_days_before: int = 0
    accounts: tuple[str, ...] = ()
    on_account_error: str = "fail"
    allowed_tables: tuple[str, ...] = ()
    allowed_operations: tuple[str, ...] = ()
    read_only: bool = True
    rate_limit_store: str | None = None
    notices: tuple[str, ...] = ()
    given: Mapping[str, str | Secret] = field(
        default_factory=_FrozenMap, repr=False, compare=False, hash=False)
    """Canonical key → value as written, for the keys the text set (secrets as :class:`Secret`); keys that came
    from a credentials file or the environment are not here (they are read again by :meth:`with_overrides`)."""

    def api_version(self, key: str) -> str:
        """The version chosen for a version key, e.g. ``api_version("OrdersApiVersion") -> "2026-01-01"``.

        Also accepts the key in any case or the API's short name (``"Orders"``, ``"orders"``).
        """
        if key in self.api_versions:
            return self.api_versions[key]
        spec = lookup_key(key) or lookup_key(key + "ApiVersion")
        if spec is None or spec.name not in self.api_versions:
            raise KeyError(key)
        return self.api_versions[spec.name]

    @property
    def account_key(self) -> str:
        """sha256 hex of token_url, client_id and refresh_token: names app + seller, reveals nothing."""
        material = "\x00".join((self.token_url, self.client_id, self.refresh_token.reveal()))
        return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()

    def redacted(self) -> dict[str, str]:
        """Canonical key → display value (effective values, defaults included); set secrets show ``***``."""
        out: dict[str, str] = {}
        for spec in KEYS:
            if spec.attr is None:
                continue
            value = _get_attr(self, spec.attr)
            if spec.secret:
                out[spec.name] = "***" if value else ""
            else:
                out[spec.name] = _display(spec, value)
        return out

    def with_overrides(self, **values: Any) -> Settings:
        """A new Settings with some keys changed: ``s.with_overrides(Region="eu", Sandbox=True)``.

        Keys are canonical names or aliases (any case); values are text as in a connection string or Python
        values (bool, int, float, list of marketplaces/status codes, Secret); ``None`` or ``""`` resets a key
        to its default. Validation is the same as :func:`parse`; credentials stay as optional as they were.
        """
        required = bool(self.client_id and self.client_secret and self.refresh_token)
        return _build(_override(self.given, values), require_credentials=required, log_notices=not self.notices)


def _get_attr(settings: Settings, attr: str) -> Any:
    """The value at a :attr:`KeySpec.attr` path of ``settings`` (``"region"``, ``"retry.mode"``)."""
    head, _, tail = attr.partition(".")
    value = getattr(settings, head)
    if not tail:
        return value
    if isinstance(value, Mapping):
        return value[tail]
    return getattr(value, tail)


def _override(given: Mapping[str, str | Secret], values: Mapping[str, Any]) -> dict[str, str | Secret]:
    """``given`` (canonical key → text) with ``values`` (any key spelling → text or Python value) applied."""
    out = dict(given)
    for key, value in values.items():
        spec = lookup_key(key)
        if spec is None:
            raise _unknown_key(key)
        text = _to_text(spec, value)
        if text:
            out[spec.name] = text
        else:
            out.pop(spec.name, None)
    return out


def _build(given_in: Mapping[str, str | Secret], *, require_credentials: bool,
           log_notices: bool = True, after_secret: frozenset[str] = frozenset()) -> Settings:
    """Validate canonical key → text and assemble the :class:`Settings` (``after_secret``: keys whose text
    followed a secret in the connection string, never shown in errors)."""
    given = {k: _to_text(_KEY_BY_NAME[k], v) for k, v in given_in.items()}
    sourced = resolve_sources(given)
    texts = {**sourced.values, **given}  # the connection string wins over the credential sources
    values: dict[str, Any] = {}
    for spec in KEYS:
        text = texts.get(spec.name)
        if text is None:
            if spec.default is None:
                continue
            text = spec.default
        try:
            values[spec.name] = spec.convert(spec, text)
        except ValueProblem as problem:
            error = _value_error(spec, text, problem, after_secret=spec.name in after_secret)
            if spec.name in sourced.origins:
                error = ConnectionStringError(f"{error} (set by {sourced.origins[spec.name]})", key=spec.name)
            raise error from None

    if require_credentials and not values.get("Accounts"):  # several accounts: each one needs its own
        missing = [k for k in ("ClientId", "ClientSecret", "RefreshToken") if not values.get(k)]
        if missing:
            raise ConnectionStringError(" ".join(_CREDENTIAL_HELP[k] for k in missing) + _SOURCES_HINT,
                                        key=missing[0])

    marketplace_ids: tuple[str, ...] = values.get("MarketplaceIds", ())
    market_regions = list(dict.fromkeys(mp.marketplace_by_id(m).region for m in marketplace_ids))
    explicit_endpoint = values.get("Endpoint")
    region = values["Region"]
    if explicit_endpoint is None:
        if "Region" not in texts and len(market_regions) == 1:
            region = market_regions[0]
        wrong = [m for m in marketplace_ids if mp.marketplace_by_id(m).region != region]
        if wrong:
            shown = ", ".join(f"{mp.marketplace_by_id(m).country_code} ({m}, region "
                              f"{mp.marketplace_by_id(m).region})" for m in wrong)
            raise ConnectionStringError(
                f"MarketplaceIds: {shown} not served by region {region}; one connection talks to one "
                f"region, so list marketplaces of region {region} only or set Region to theirs.",
                key="MarketplaceIds")
        host = mp.REGIONS[region]
        endpoint = host.sandbox_host if values["Sandbox"] else host.host
    else:
        endpoint = explicit_endpoint
        if "Region" not in texts:
            for r in mp.REGIONS.values():
                if explicit_endpoint.lower() in (r.host, r.sandbox_host):
                    region = r.name

    versions = {name: values[name] for name in API_VERSIONS}
    notices = tuple(text for key, version in versions.items() if (text := DEPRECATIONS.get((key, version))))
    notices += sourced.notices
    aws_given = [k for k in ("AwsAccessKeyId", "AwsSecretAccessKey", "RoleArn") if values.get(k)]
    if values["SignRequests"] and not (values.get("AwsAccessKeyId") and values.get("AwsSecretAccessKey")):
        raise ConnectionStringError("SignRequests=true needs AwsAccessKeyId and AwsSecretAccessKey (and RoleArn to "
                                    "sign as an IAM role).", key="SignRequests")
    if aws_given and not values["SignRequests"]:
        notices += (AWS_SIGNING_NOTICE,)
    if log_notices:
        for text in notices:
            log.warning(text)

    return Settings(
        client_id=values.get("ClientId", ""),
        client_secret=values.get("ClientSecret", Secret("")),
        refresh_token=values.get("RefreshToken", Secret("")),
        token_url=values["TokenUrl"],
        region=region,
        endpoint=endpoint,
        sandbox=values["Sandbox"],
        marketplace_ids=marketplace_ids,
        seller_id=values.get("SellerId"),
        api_versions=_FrozenMap(versions),
        retry=RetryPolicy(
            mode=values["RetryMode"],
            status_codes=values["RetryStatusCodeList"],
            count_max=values["RetryCountMax"],
            multiply_wait=values["RetryMultiplyWaitTime"],
            first_wait_ms=values["RetryWaitTimeMs"],
        ),
        reports=ReportPolicy(
            max_age_minutes=values["ReportMaxAgeMinutes"],
            disable_cache=values["DisableReportCache"],
            wait_seconds=values["ReportWaitSeconds"],
            cache_dir=values.get("ReportCacheDir"),
            cache_mb=values["ReportCacheMB"],
        ),
        route=values["Route"],
        include_restricted_data=values["IncludeRestrictedData"],
        lookback_days=values["LookbackDays"],
        max_calls_per_statement=values["MaxCallsPerStatement"],
        timeout=values["Timeout"],
        token_cache=values.get("TokenCache"),
        aws_access_key_id=values.get("AwsAccessKeyId"),
        aws_secret_access_key=values.get("AwsSecretAccessKey"),
        role_arn=values.get("RoleArn"),
        sign_requests=values["SignRequests"],
        credentials_file=values.get("CredentialsFile"),
        account=values.get("Account"),
        profile=values.get("Profile"),
        credentials_secret=values.get("CredentialsSecret"),
        rotation_queue_url=values.get("RotationQueueUrl"),
        auth_url=values.get("AuthUrl"),
        client_secret_expiry=values.get("ClientSecretExpiry"),
        rotate_secret_days_before=values["RotateSecretDaysBefore"],
        accounts=values.get("Accounts", ()),
        on_account_error=values["OnAccountError"],
        allowed_tables=values.get("AllowedTables", ()),
        allowed_operations=values.get("AllowedOperations", ()),
        read_only=values["ReadOnly"],
        rate_limit_store=values.get("RateLimitStore"),
        notices=notices,
        given=_FrozenMap({k: Secret(v) if _KEY_BY_NAME[k].secret else v
                          for k, v in given.items() if _KEY_BY_NAME[k].attr is not None}),
    )


def parse(text: str, *, require_credentials: bool = True, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Parse and validate a connection string; :class:`~sqlspapi.errors.ConnectionStringError` if unusable.

    ``require_credentials=False`` lets ClientId/ClientSecret/RefreshToken be absent (the demo emulator,
    tests); they are then ``""``/``Secret("")``. ``overrides`` (e.g. ``connect()``'s keyword arguments) are
    keys applied on top of the text, as :meth:`Settings.with_overrides` applies them.
    """
    given, after_secret = _read(text)
    return _build(_override(given, overrides or {}), require_credentials=require_credentials,
                  after_secret=after_secret)
