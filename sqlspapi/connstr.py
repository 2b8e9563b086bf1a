"""Connection strings: ODBC-style ``Key=Value;...`` text → a validated, frozen :class:`Settings`.

Grammar (see ``docs/connection-string.md``): pairs split on ``;``; whitespace around keys and values
trimmed; empty segments ignored; a value written ``{...}`` may hold ``;``, ``=`` and spaces, and ``}}``
inside braces is one ``}``. Keys are case-insensitive (``_``, ``-`` and spaces in a key are ignored too,
so ``client_id`` = ``ClientId``) and may be given once only, whichever alias is used. An empty value
means "use the default".

Every key is a row of :data:`KEYS` (behaviour as data): canonical name, aliases, default, allowed values
or a converter, a one-line description, and whether it is secret. Secrets are wrapped in :class:`Secret`,
whose ``repr`` and ``str`` are ``***``; no error message ever contains a secret value.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlspapi import marketplaces as mp
from sqlspapi.errors import ConnectionStringError

__all__ = [
    "Secret", "RetryPolicy", "Settings", "KeySpec", "KEYS", "API_VERSIONS", "DEFAULT_TOKEN_URL",
    "ORDERS_V0_NOTICE", "parse", "format_connection_string", "lookup_key",
]

log = logging.getLogger("sqlspapi")

DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
"""Login with Amazon's token endpoint (the same for every SP-API region)."""

ORDERS_V0_NOTICE = (
    "Orders API v0 is deprecated; Amazon removes it on 2027-03-27. Use OrdersApiVersion=2026-01-01."
)
"""The one-line notice emitted (log WARNING + ``Settings.notices``) when ``OrdersApiVersion=v0`` is chosen."""


# -------------------- value types


class Secret:
    """A secret string (client secret, refresh token, AWS secret key) that never shows itself.

    ``repr()``/``str()``/``format()`` give ``***``; :meth:`reveal` returns the text. Equal to another
    ``Secret`` with the same text (compared in constant time), hashable, and false when empty.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        """The secret text itself: pass it to the wire, never to a log or a message."""
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format("***", spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8", "surrogatepass"),
                                   other._value.encode("utf-8", "surrogatepass"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


RETRY_MODES = ("None", "RetryAny", "RetryWhenStatusCodeMatch")
"""Values of ``RetryMode`` (ZappySys spelling), matched case-insensitively."""


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries a failed call (``Retry*`` keys, as in the ZappySys connector).

    ``mode``: ``None`` (never), ``RetryAny`` (429, any 5xx, network failures) or ``RetryWhenStatusCodeMatch``
    (``status_codes`` and network failures); at most ``count_max`` retries; the first wait is
    ``first_wait_ms`` and doubles after each retry when ``multiply_wait``. A ``Retry-After`` or rate-limit
    header, when the client sees one, may lengthen it.
    """

    mode: str = "RetryWhenStatusCodeMatch"
    status_codes: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    count_max: int = 5
    multiply_wait: bool = True
    first_wait_ms: int = 1000

    def should_retry(self, status: int | None, retries_done: int) -> bool:
        """Whether to retry after HTTP ``status`` (``None``: network error), ``retries_done`` retries in."""
        if self.mode == "None" or retries_done >= self.count_max:
            return False
        if status is None:
            return True
        if self.mode == "RetryAny":
            return status == 429 or status >= 500
        return status in self.status_codes

    def wait_ms(self, retries_done: int) -> int:
        """Milliseconds to wait before retry number ``retries_done + 1``."""
        if not self.multiply_wait:
            return self.first_wait_ms
        return self.first_wait_ms * (2 ** max(0, retries_done))


class _FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping keyed by str (so :class:`Settings` stays hashable)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)


# -------------------- key table


@dataclass(frozen=True)
class KeySpec:
    """One connection-string key: how it is spelled, what it defaults to, how its value is checked and stored.

    ``convert(spec, text)`` turns the (non-empty) text into the stored value or raises
    ConnectionStringError; ``attr`` is the :class:`Settings` attribute it feeds (``None``: accepted and
    ignored); ``allowed`` lists the accepted values for the docs and error messages (empty: free-form).
    """

    name: str
    aliases: tuple[str, ...]
    default: str | None
    allowed: tuple[str, ...]
    description: str
    convert: Callable[[KeySpec, str], Any]
    attr: str | None
    secret: bool = False
    group: str = "general"


def _norm(key: str) -> str:
    """Normal form of a key for look-up: lower case, without ``_``, ``-`` and spaces."""
    return re.sub(r"[\s_\-]+", "", key).lower()


def _err(spec: KeySpec, message: str) -> ConnectionStringError:
    return ConnectionStringError(message, key=spec.name)


def _show(spec: KeySpec, text: str) -> str:
    """How a value may appear in a message: quoted, or ``(hidden)`` for a secret key."""
    return "(hidden)" if spec.secret else repr(text)


def _conv_str(spec: KeySpec, text: str) -> str:
    if any(ord(c) < 32 for c in text):
        raise _err(spec, f"{spec.name} contains a control character; remove it (line breaks included).")
    return text


def _conv_secret(spec: KeySpec, text: str) -> Secret:
    return Secret(_conv_str(spec, text))


_BOOL = {"true": True, "yes": True, "1": True, "on": True,
         "false": False, "no": False, "0": False, "off": False}
_BOOL_ALLOWED = ("true", "false", "yes", "no", "1", "0", "on", "off")


def _conv_bool(spec: KeySpec, text: str) -> bool:
    try:
        return _BOOL[text.lower()]
    except KeyError:
        raise _err(spec, f"{spec.name}={_show(spec, text)} is not a boolean; allowed values: "
                         f"{', '.join(_BOOL_ALLOWED)} (any case).") from None


def _int_converter(minimum: int) -> Callable[[KeySpec, str], int]:
    def conv(spec: KeySpec, text: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,15}", text):
            raise _err(spec, f"{spec.name}={text!r} is not a whole number; write an integer >= {minimum}.")
        value = int(text)
        if value < minimum:
            raise _err(spec, f"{spec.name}={text!r} is too small; write an integer >= {minimum}.")
        return value
    return conv


def _conv_timeout(spec: KeySpec, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise _err(spec, f"{spec.name}={text!r} is not valid; write a number of seconds greater than 0, "
                         f"e.g. 60.")
    return value


def _conv_url(spec: KeySpec, text: str) -> str:
    bad = _err(spec, f"{spec.name}={text!r} is not an http(s) URL; write e.g. "
                     f"{spec.default or 'https://sellingpartnerapi-na.amazon.com'}.")
    if any(ord(c) <= 32 for c in text):
        raise bad
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad
    return text.rstrip("/")


def _choice_converter(canonical: tuple[str, ...], mapping: Mapping[str, str] | None = None
                      ) -> Callable[[KeySpec, str], str]:
    """A converter accepting ``canonical`` values (and ``mapping`` keys) case-insensitively."""
    table = {c.lower(): c for c in canonical} | {k.lower(): v for k, v in (mapping or {}).items()}

    def conv(spec: KeySpec, text: str) -> str:
        try:
            return table[text.lower()]
        except KeyError:
            raise _err(spec, f"{spec.name}={_show(spec, text)} is not valid; allowed values: "
                             f"{', '.join(spec.allowed)}.") from None
    return conv


def _conv_region(spec: KeySpec, text: str) -> str:
    try:
        return mp.resolve_region(text)
    except KeyError:
        raise _err(spec, f"{spec.name}={text!r} is not a selling region; allowed values: "
                         f"{', '.join(spec.allowed)} (case-insensitive).") from None


def _conv_marketplaces(spec: KeySpec, text: str) -> tuple[str, ...]:
    ids: list[str] = []
    for token in text.split(","):
        if not token.strip():
            continue
        try:
            mid = mp.resolve_marketplace(token)
        except KeyError:
            raise _err(spec, f"{spec.name}: unknown marketplace {token.strip()!r}; use marketplace IDs or "
                             f"country codes, comma-separated. Valid codes: {mp.valid_codes()}.") from None
        if mid not in ids:
            ids.append(mid)
    return tuple(ids)


def _conv_status_codes(spec: KeySpec, text: str) -> frozenset[int]:
    codes: set[int] = set()
    for token in re.split(r"[|,]", text):
        token = token.strip()
        if not token:
            continue
        if not re.fullmatch(r"\d{3}", token) or not 100 <= int(token) <= 599:
            raise _err(spec, f"{spec.name}: {token!r} is not an HTTP status code; write codes separated "
                             f"by '|', e.g. 429|500|502|503|504.")
        codes.add(int(token))
    return frozenset(codes)


def _conv_path(spec: KeySpec, text: str) -> str:
    text = _conv_str(spec, text)
    try:
        return os.path.expanduser(text)
    except (ValueError, KeyError):  # pragma: no cover - exotic user names
        return text


def _conv_ignored(spec: KeySpec, text: str) -> None:
    return None


API_VERSIONS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "OrdersApiVersion": (("2026-01-01", "v0"), "2026-01-01"),
    "CatalogItemsApiVersion": (("2022-04-01", "2020-12-01"), "2022-04-01"),
    "ReportsApiVersion": (("2021-06-30",), "2021-06-30"),
    "SellerApiVersion": (("v1",), "v1"),
    "FbaApiVersion": (("v1",), "v1"),
    "FinancesApiVersion": (("v0",), "v0"),
    "ProductPricingApiVersion": (("v0",), "v0"),
    "ProductsFeesApiVersion": (("v0",), "v0"),
    "SalesApiVersion": (("v1",), "v1"),
    "ShippingApiVersion": (("v1",), "v1"),
    "ServicesApiVersion": (("v1",), "v1"),
    "VendorOrdersApiVersion": (("v1",), "v1"),
}
"""Per-API version keys: key name → (supported versions, default)."""

_VERSION_API = {
    "OrdersApiVersion": "Orders", "CatalogItemsApiVersion": "Catalog Items", "ReportsApiVersion": "Reports",
    "SellerApiVersion": "Sellers", "FbaApiVersion": "FBA Inventory", "FinancesApiVersion": "Finances",
    "ProductPricingApiVersion": "Product Pricing", "ProductsFeesApiVersion": "Product Fees",
    "SalesApiVersion": "Sales", "ShippingApiVersion": "Shipping", "ServicesApiVersion": "Services",
    "VendorOrdersApiVersion": "Vendor Orders",
}


def _version_converter(supported: tuple[str, ...]) -> Callable[[KeySpec, str], str]:
    table = {v.lower(): v for v in supported}

    def conv(spec: KeySpec, text: str) -> str:
        try:
            return table[text.lower()]
        except KeyError:
            raise _err(spec, f"{spec.name}={text!r} is not supported; supported versions: "
                             f"{', '.join(supported)}.") from None
    return conv


_RETRY_STATUS_DEFAULT = "429|500|502|503|504"

KEYS: tuple[KeySpec, ...] = (
    # -- credentials (Login with Amazon)
    KeySpec("ClientId", ("client_id", "amazon_sp_client_id", "lwa_app_id"), None, (),
            "LWA client identifier of your SP-API app (amzn1.application-oa2-client....).",
            _conv_str, "client_id", group="credentials"),
    KeySpec("ClientSecret", ("client_secret", "amazon_sp_client_secret", "lwa_client_secret"), None, (),
            "LWA client secret of your app; Amazon makes you rotate it every 180 days.",
            _conv_secret, "client_secret", secret=True, group="credentials"),
    KeySpec("RefreshToken", ("refresh_token", "amazon_sp_refresh_token"), None, (),
            "LWA refresh token (Atzr|...) from authorizing the app for the seller account.",
            _conv_secret, "refresh_token", secret=True, group="credentials"),
    KeySpec("TokenUrl", ("token_url",), DEFAULT_TOKEN_URL, (),
            "Login with Amazon token endpoint (http or https URL).",
            _conv_url, "token_url", group="credentials"),
    # -- where to call
    KeySpec("Region", ("region", "amazon_sp_aws_region"), "na",
            ("na", "eu", "fe", "us-east-1", "eu-west-1", "us-west-2"),
            "Selling region; AWS region names map to na/eu/fe.",
            _conv_region, "region", group="endpoint"),
    KeySpec("Endpoint", ("endpoint", "base_uri"), None, (),
            "Base URL override (e.g. the emulator); wins over Region and Sandbox.",
            _conv_url, "endpoint", group="endpoint"),
    KeySpec("Sandbox", ("sandbox",), "false", _BOOL_ALLOWED,
            "Call the regional sandbox host https://sandbox.sellingpartnerapi-{region}.amazon.com.",
            _conv_bool, "sandbox", group="endpoint"),
    KeySpec("MarketplaceIds", ("MarketplaceId", "marketplace_ids"), None, (),
            "Marketplace IDs or country codes, comma-separated (US,CA; UK and GB both mean the UK); "
            "empty = every marketplace the Sellers API reports.",
            _conv_marketplaces, "marketplace_ids", group="endpoint"),
    KeySpec("SellerId", ("seller_id", "amazon_seller_id", "MerchantToken"), None, (),
            "Seller (merchant token) ID, for operations that need it.",
            _conv_str, "seller_id", group="endpoint"),
    # -- behaviour
    KeySpec("IncludeRestrictedData", ("include_restricted_data",), "false", _BOOL_ALLOWED,
            "Allow tables holding restricted data (PII: buyer info, addresses).",
            _conv_bool, "include_restricted_data", group="behaviour"),
    KeySpec("LookbackDays", ("lookback_days",), "30", (),
            "Date window (days, >= 1) of an order scan with no date filter.",
            _int_converter(1), "lookback_days", group="behaviour"),
    KeySpec("Timeout", ("timeout",), "60", (),
            "HTTP timeout in seconds (number > 0).",
            _conv_timeout, "timeout", group="behaviour"),
    KeySpec("TokenCache", ("token_cache",), None, (),
            "Path of a 0600 file caching access tokens across processes; empty = memory only.",
            _conv_path, "token_cache", group="behaviour"),
    # -- retries (ZappySys names)
    KeySpec("RetryMode", ("retry_mode",), "RetryWhenStatusCodeMatch", RETRY_MODES,
            "When to retry a failed call: never, on 429/5xx, or when the status is in RetryStatusCodeList.",
            _choice_converter(RETRY_MODES), "retry.mode", group="retry"),
    KeySpec("RetryStatusCodeList", ("retry_status_code_list", "retry_status_codes"), _RETRY_STATUS_DEFAULT,
            (),
            "HTTP status codes to retry, separated by '|'.",
            _conv_status_codes, "retry.status_codes", group="retry"),
    KeySpec("RetryCountMax", ("retry_count_max",), "5", (),
            "Maximum retries of one call (integer >= 0).",
            _int_converter(0), "retry.count_max", group="retry"),
    KeySpec("RetryMultiplyWaitTime", ("retry_multiply_wait_time",), "true", _BOOL_ALLOWED,
            "Double the wait after each retry.",
            _conv_bool, "retry.multiply_wait", group="retry"),
    KeySpec("RetryWaitTimeMs", ("RetryFirstWaitMs", "retry_wait_time_ms"), "1000", (),
            "Wait before the first retry, in milliseconds (integer >= 0).",
            _int_converter(0), "retry.first_wait_ms", group="retry"),
    # -- API versions
    *(
        KeySpec(name, (), default, supported,
                f"{_VERSION_API[name]} API version"
                + ("; v0 is deprecated (removed 2027-03-27)." if name == "OrdersApiVersion" else "."),
                _version_converter(supported), f"api_versions.{name}", group="versions")
        for name, (supported, default) in API_VERSIONS.items()
    ),
    # -- AWS (optional SigV4; SP-API has not required it since 2023-10-02)
    KeySpec("AwsAccessKeyId", ("amazon_sp_aws_user_key_id", "aws_access_key"), None, (),
            "AWS access key ID of an IAM user, kept for optional SigV4 signing (not needed by SP-API).",
            _conv_str, "aws_access_key_id", group="aws"),
    KeySpec("AwsSecretAccessKey", ("amazon_sp_aws_user_secret", "aws_secret_key"), None, (),
            "AWS secret access key matching AwsAccessKeyId (optional).",
            _conv_secret, "aws_secret_access_key", secret=True, group="aws"),
    KeySpec("RoleArn", ("amazon_sp_aws_role_arn", "role_arn"), None, (),
            "IAM role ARN to assume for SigV4 (optional).",
            _conv_str, "role_arn", group="aws"),
    # -- accepted for ZappySys compatibility, ignored
    KeySpec("TokenUIMode", (), None, (),
            "ZappySys setting; accepted and ignored (the refresh token is always used).",
            _conv_ignored, None, group="ignored"),
    KeySpec("AuthUrl", (), None, (),
            "ZappySys setting for the OAuth consent page; accepted and ignored.",
            _conv_ignored, None, group="ignored"),
)
"""Every connection-string key, in documentation order."""

_LOOKUP: dict[str, KeySpec] = {}
for _spec in KEYS:
    for _name in (_spec.name, *_spec.aliases):
        _n = _norm(_name)
        if _n in _LOOKUP and _LOOKUP[_n] is not _spec:  # pragma: no cover - table sanity
            raise RuntimeError(f"connection-string key {_name!r} is ambiguous")
        _LOOKUP[_n] = _spec
_KEY_BY_NAME: dict[str, KeySpec] = {s.name: s for s in KEYS}
_ALL_SPELLINGS: dict[str, str] = {n.lower(): s.name for s in KEYS for n in (s.name, *s.aliases)}


def lookup_key(name: str) -> KeySpec | None:
    """The :class:`KeySpec` for a key name or alias (case-, ``_``- and space-insensitive), else ``None``."""
    return _LOOKUP.get(_norm(name))


def _close_keys(key: str) -> list[str]:
    """Canonical names of the known keys (or aliases) closest to ``key``, best first."""
    close = difflib.get_close_matches(key.lower(), list(_ALL_SPELLINGS), n=3, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(_norm(key), [_norm(n) for n in _ALL_SPELLINGS], n=3, cutoff=0.6)
        close = [next(n for n in _ALL_SPELLINGS if _norm(n) == c) for c in close]
    return list(dict.fromkeys(_ALL_SPELLINGS[c] for c in close))


def _unknown_key(key: str) -> ConnectionStringError:
    names = _close_keys(key)
    hint = f" Did you mean {' or '.join(repr(n) for n in names)}?" if names else ""
    return ConnectionStringError(
        f"Unknown connection-string key {key!r}.{hint} See docs/connection-string.md for the list of keys.",
        key=key,
    )


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
        given = dict(self.given)
        for key, value in values.items():
            spec = lookup_key(key)
            if spec is None:
                raise _unknown_key(key)
            text = _to_text(spec, value)
            if text:
                given[spec.name] = text
            else:
                given.pop(spec.name, None)
        required = bool(self.client_id and self.client_secret and self.refresh_token)
        return _build(given, require_credentials=required, log_notices=not self.notices)


def _get_attr(settings: Settings, attr: str) -> Any:
    head, _, tail = attr.partition(".")
    value = getattr(settings, head)
    if not tail:
        return value
    if isinstance(value, Mapping):
        return value[tail]
    return getattr(value, tail)


def _display(spec: KeySpec, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return "|".join(str(v) for v in sorted(value))
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_text(spec: KeySpec | None, value: Any) -> str:
    """A Python value as connection-string text for ``spec`` (``None`` → ``""``)."""
    if value is None:
        return ""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        sep = "|" if spec is not None and spec.name == "RetryStatusCodeList" else ","
        return sep.join(str(v) for v in items)
    return str(value)


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


def parse(text: str, *, require_credentials: bool = True) -> Settings:
    """Parse and validate a connection string; :class:`~sqlspapi.errors.ConnectionStringError` if unusable.

    ``require_credentials=False`` lets ClientId/ClientSecret/RefreshToken be absent (the demo emulator,
    tests); they are then ``""``/``Secret("")``.
    """
    return _build(_read(text), require_credentials=require_credentials)


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
