"""Connection strings: ODBC-style ``Key=Value;...`` text → a validated, frozen :class:`Settings`.

Grammar (see ``docs/connection-string.md``): pairs split on ``;``; whitespace around keys and values
trimmed; empty segments ignored; a value written ``{...}`` may hold ``;``, ``=`` and spaces, and ``}}``
inside braces is one ``}``. Keys are case-insensitive (``_``, ``-`` and spaces in a key are ignored too,
so ``client_id`` = ``ClientId``) and may be given once only, whichever alias is used. An empty value
means "use the default".

Every key is a row of :data:`KEYS` (:mod:`sqlspapi.settings.keys`, re-exported here). Secrets are
:class:`Secret` (``***`` in ``repr``/``str``); no error message ever contains a secret value.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.keys import (
    _KEY_BY_NAME,
    API_VERSIONS,
    DEFAULT_TOKEN_URL,
    KEYS,
    ORDERS_V0_NOTICE,
    KeySpec,
    RetryPolicy,
    Secret,
    _close_keys,
    _display,
    _FrozenMap,
    _norm,
    _to_text,
    _unknown_key,
    lookup_key,
)

__all__ = [
    "Secret", "RetryPolicy", "Settings", "KeySpec", "KEYS", "API_VERSIONS", "DEFAULT_TOKEN_URL",
    "ORDERS_V0_NOTICE", "parse", "format_connection_string", "lookup_key",
]

log = logging.getLogger("sqlspapi")


# -------------------- grammar


def _segments(text: str) -> Iterator[tuple[str | None, str, int, bool]]:
    """Split ``text`` into ``(key, value, position, braced)``; ``position``: 1-based character of the key.

    A segment without ``=`` is yielded as ``(None, first_word, position, False)``: the caller decides how
    much of it may be shown (only a recognised key name, never the text itself, which may be a secret).
    """
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in "=;":
            j += 1
        raw_key = text[i:j]
        if j >= n or text[j] == ";":
            if raw_key.strip():
                start = i + (len(raw_key) - len(raw_key.lstrip())) + 1
                first = re.split(r"[\s:]+", raw_key.strip(), maxsplit=1)[0]
                yield None, first, start, False
            i = j + 1
            continue
        key = raw_key.strip()
        key_pos = i + (len(raw_key) - len(raw_key.lstrip())) + 1
        if not key:
            raise ConnectionStringError(
                f"Connection string: empty key before '=' at character {j + 1}; write Key=Value.", key=None)
        k = j + 1
        while k < n and text[k] in " \t\r\n\f\v":
            k += 1
        braced = k < n and text[k] == "{"
        if braced:
            buf: list[str] = []
            m = k + 1
            while True:
                if m >= n:
                    raise ConnectionStringError(
                        f"Connection string: the value of {_safe_key(key)} opens a brace at character "
                        f"{k + 1} that is never closed; end it with '}}' (write '}}}}' for a literal '}}' "
                        f"inside braces).",
                        key=_spec_name(key))
                c = text[m]
                if c == "}":
                    if m + 1 < n and text[m + 1] == "}":
                        buf.append("}")
                        m += 2
                        continue
                    m += 1
                    break
                buf.append(c)
                m += 1
            value = "".join(buf)
            while m < n and text[m] in " \t\r\n\f\v":
                m += 1
            if m < n and text[m] != ";":
                raise ConnectionStringError(
                    f"Connection string: unexpected text at character {m + 1} after the closing brace of "
                    f"{_safe_key(key)}'s value; put ';' after '}}' (write '}}}}' for a literal '}}' inside "
                    f"braces).",
                    key=_spec_name(key))
            i = m + 1
        else:
            m = text.find(";", k)
            if m < 0:
                m = n
            value = text[k:m].strip()
            i = m + 1
        yield key, value, key_pos, braced


def _spec_name(key: str) -> str | None:
    spec = lookup_key(key)
    return spec.name if spec else key


def _safe_key(key: str) -> str:
    """A key as shown in grammar errors: its canonical name when known, else as written."""
    spec = lookup_key(key)
    return spec.name if spec else repr(key)


_BRACE_HINT = " If a secret value contains ';', write it in braces: ClientSecret={...}."


def _read(text: str) -> dict[str, str]:
    """Parse the grammar and resolve keys: canonical key → raw value text (empty values dropped)."""
    if not isinstance(text, str):
        raise ConnectionStringError(f"A connection string must be text, not {type(text).__name__}.")
    given: dict[str, str] = {}
    seen: dict[str, tuple[str, int]] = {}
    after_open_secret = False  # the previous pair was a secret key with an unbraced value
    for key, value, pos, braced in _segments(text):
        if key is None:
            spec = lookup_key(value) if value else None
            hint = f" Did you mean '{spec.name}=...'?" if spec else ""
            raise ConnectionStringError(
                f"Connection string: the segment at character {pos} has no '=' (write Key=Value pairs "
                f"separated by ';'; put a value containing ';' in braces {{...}}).{hint}"
                + (_BRACE_HINT if after_open_secret else ""),
                key=spec.name if spec else None,
            )
        spec = lookup_key(key)
        if spec is None:
            if after_open_secret and not _close_keys(key):
                raise ConnectionStringError(
                    f"Connection string: the text at character {pos} is not a known key (not shown: it "
                    f"follows a secret value and may be part of it).{_BRACE_HINT}", key=None)
            raise _unknown_key(key)
        if spec.name in seen:
            first, first_pos = seen[spec.name]
            same = "" if _norm(first) == _norm(key) else f" (as {first!r})"
            raise ConnectionStringError(
                f"Connection string: key {spec.name} is given twice: at character {first_pos}{same} and at "
                f"character {pos} (as {key!r}); keep one.", key=spec.name)
        seen[spec.name] = (key, pos)
        after_open_secret = spec.secret and not braced
        if value != "":
            given[spec.name] = value
    return given


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
    include_restricted_data: bool = False
    lookback_days: int = 30
    timeout: float = 60.0
    token_cache: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: Secret | None = None
    role_arn: str | None = None
    notices: tuple[str, ...] = ()
    given: Mapping[str, str | Secret] = field(
        default_factory=_FrozenMap, repr=False, compare=False, hash=False)
    """Canonical key → value as written, for the keys the text set (secrets as :class:`Secret`)."""

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
           log_notices: bool = True) -> Settings:
    """Validate canonical key → text and assemble the :class:`Settings`."""
    given = {k: _to_text(_KEY_BY_NAME[k], v) for k, v in given_in.items()}
    values: dict[str, Any] = {}
    for spec in KEYS:
        text = given.get(spec.name)
        if text is None:
            if spec.default is None:
                continue
            text = spec.default
        values[spec.name] = spec.convert(spec, text)

    if require_credentials:
        missing = [k for k in ("ClientId", "ClientSecret", "RefreshToken") if not values.get(k)]
        if missing:
            raise ConnectionStringError(" ".join(_CREDENTIAL_HELP[k] for k in missing), key=missing[0])

    marketplace_ids: tuple[str, ...] = values.get("MarketplaceIds", ())
    market_regions = list(dict.fromkeys(mp.marketplace_by_id(m).region for m in marketplace_ids))
    explicit_endpoint = values.get("Endpoint")
    region = values["Region"]
    if explicit_endpoint is None:
        if "Region" not in given and len(market_regions) == 1:
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
        if "Region" not in given:
            for r in mp.REGIONS.values():
                if explicit_endpoint.lower() in (r.host, r.sandbox_host):
                    region = r.name

    versions = {name: values[name] for name in API_VERSIONS}
    notices: tuple[str, ...] = ()
    if versions["OrdersApiVersion"] == "v0":
        notices = (ORDERS_V0_NOTICE,)
        if log_notices:
            log.warning(ORDERS_V0_NOTICE)

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
        include_restricted_data=values["IncludeRestrictedData"],
        lookback_days=values["LookbackDays"],
        timeout=values["Timeout"],
        token_cache=values.get("TokenCache"),
        aws_access_key_id=values.get("AwsAccessKeyId"),
        aws_secret_access_key=values.get("AwsSecretAccessKey"),
        role_arn=values.get("RoleArn"),
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
    return _build(_override(_read(text), overrides or {}), require_credentials=require_credentials)


def _needs_braces(value: str) -> bool:
    return (
        value != value.strip()
        or any(c in value for c in ";{}=")
    )


def format_connection_string(mapping: Mapping[str, Any]) -> str:
    """Build connection-string text from key → value (the inverse of :func:`parse` for the same keys).

    Values may be text or Python values (bool → ``true``/``false``, lists joined with ``,`` — ``|`` for
    RetryStatusCodeList —, :class:`Secret` revealed); ``None`` skips the key. Values containing ``;``, ``=``,
    braces or leading/trailing spaces are written ``{...}`` with ``}`` doubled.
    """
    parts: list[str] = []
    for key, value in mapping.items():
        if value is None:
            continue
        if not isinstance(key, str) or not key.strip() or any(c in key for c in ";={}"):
            raise ValueError(f"invalid connection-string key {key!r}")
        text = _to_text(lookup_key(key), value)
        if _needs_braces(text):
            text = "{" + text.replace("}", "}}") + "}"
        parts.append(f"{key.strip()}={text}")
    return ";".join(parts)
