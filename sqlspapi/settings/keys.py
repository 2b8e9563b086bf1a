"""The connection-string key catalogue: behaviour as data, one row of :data:`KEYS` per key.

Each :class:`KeySpec` row holds a key's canonical name, its aliases, its default, the allowed values or the
converter that checks the text and turns it into the stored value, a one-line description, the
:class:`~sqlspapi.settings.connstr.Settings` attribute it feeds and whether it is secret. Adding or changing a key is a
change to this table, not to the parser (:mod:`sqlspapi.settings.connstr` holds the grammar and builds
:class:`~sqlspapi.settings.connstr.Settings`).

Also here: the value types stored in Settings (:class:`Secret`, whose ``repr`` and ``str`` are ``***``;
:class:`RetryPolicy`), the per-API version keys (:data:`API_VERSIONS`), :func:`lookup_key` (keys are case-,
``_``-, ``-``- and space-insensitive) and the "did you mean" suggestions for unknown keys.

Converters never put a value in a message themselves: they raise :class:`ValueProblem` (what is wrong and what to
write), and the parser (:mod:`sqlspapi.settings.connstr`), which knows where the value came from, decides whether the
value may be shown. Numeric keys carry their range (:attr:`KeySpec.bounds`), checked when parsing.
"""

from __future__ import annotations

import difflib
import hmac
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlspapi.definitions.loader import version_keys
from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings import marketplaces as mp

__all__ = [
    "Secret", "RetryPolicy", "ReportPolicy", "RETRY_MODES", "KeySpec", "KEYS", "API_VERSIONS", "DEFAULT_TOKEN_URL",
    "ORDERS_V0_NOTICE", "MAX_RETRY_WAIT_MS", "ValueProblem", "lookup_key",
]

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

MAX_RETRY_WAIT_MS = 3_600_000
"""The longest single wait between retries (one hour): also the upper bound of ``RetryWaitTimeMs``."""


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries a failed call (``Retry*`` keys, as in the ZappySys connector).

    ``mode``: ``None`` (never), ``RetryAny`` (429, any 5xx, network failures) or ``RetryWhenStatusCodeMatch``
    (``status_codes`` and network failures); at most ``count_max`` retries; the first wait is
    ``first_wait_ms`` and doubles after each retry when ``multiply_wait``, up to :data:`MAX_RETRY_WAIT_MS`. A
    ``Retry-After`` or rate-limit header, when the client sees one, may lengthen it.
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
            return min(self.first_wait_ms, MAX_RETRY_WAIT_MS)
        return min(self.first_wait_ms * (2 ** min(max(0, retries_done), 64)), MAX_RETRY_WAIT_MS)


@dataclass(frozen=True)
class ReportPolicy:
    """How report tables request, reuse, wait for and cache reports (``Report*`` keys; docs/report-tables.md).

    A DONE or running report of the same type, marketplace, options and data window created within
    ``max_age_minutes`` is reused (``disable_cache`` forces a new one); a report still running after
    ``wait_seconds`` is an error that names it, and the next identical query resumes it. Documents are kept on disk
    under ``cache_dir`` (None: the user cache directory) up to ``cache_mb`` megabytes (0: not kept).
    """

    max_age_minutes: int = 15
    disable_cache: bool = False
    wait_seconds: float = 300.0
    cache_dir: str | None = None
    cache_mb: int = 512


class _FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping keyed by str (so :class:`~sqlspapi.settings.connstr.Settings` stays hashable)."""

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
    ConnectionStringError; ``attr`` is the :class:`~sqlspapi.settings.connstr.Settings` attribute it feeds
    (``None``: accepted and ignored); ``allowed`` lists the accepted values for the docs and error
    messages (empty: free-form); ``bounds`` is the inclusive range of a numeric key (a float key's lower bound
    is exclusive: ``Timeout`` > 0), checked by its converter and listed in ``docs/connection-string.md``.
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
    bounds: tuple[float, float] | None = None


def _norm(key: str) -> str:
    """Normal form of a key for look-up: lower case, without ``_``, ``-`` and spaces."""
    return re.sub(r"[\s_\-]+", "", key).lower()


class ValueProblem(ValueError):
    """What is wrong with a key's value, raised by a converter *without* the value.

    ``message`` follows ``Key=<value>`` in the final error (e.g. ``"is not a boolean; allowed values: ..."``);
    ``part``, when given, is the offending piece of the value (one marketplace code), shown where ``message`` says
    ``{part}`` only if the whole value may be shown. The parser turns it into a ConnectionStringError.
    """

    def __init__(self, message: str, part: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.part = part


def _conv_str(spec: KeySpec, text: str) -> str:
    if any(ord(c) < 32 for c in text):
        raise ValueProblem("contains a control character; remove it (line breaks included).")
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
        raise ValueProblem(f"is not a boolean; allowed values: {', '.join(_BOOL_ALLOWED)} (any case).") from None


def describe_bounds(spec: KeySpec) -> str:
    """A numeric key's range in words, as errors and the docs give it: ``"an integer from 1 to 7300"``."""
    if spec.bounds is None:
        return ""
    low, high = spec.bounds
    if spec.convert is _conv_int:
        return f"an integer from {low:.0f} to {high:.0f}"
    if spec.convert is _conv_lookback:
        return f"an integer from {low:.0f} to {high:.0f}, or all"
    return f"a number greater than {low:g} and at most {high:g}"


def _conv_int(spec: KeySpec, text: str) -> int:
    assert spec.bounds is not None
    low, high = spec.bounds
    wanted = f"write {describe_bounds(spec)}"
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueProblem(f"is not a whole number; {wanted}.")
    # longer than any bound: out of range without converting (int() of thousands of digits is refused)
    value = int(text) if len(text) <= 20 else (-1 if text.startswith("-") else 1) * 10 ** 21
    if not low <= value <= high:
        raise ValueProblem(f"is out of range; {wanted}.")
    return value


#: ``LookbackDays=all``: each table's full retention at Amazon (e.g. 730 days for orders).
LOOKBACK_ALL = 0


def _conv_lookback(spec: KeySpec, text: str) -> int:
    if text.strip().lower() == "all":
        return LOOKBACK_ALL
    return _conv_int(spec, text)


def _conv_seconds(spec: KeySpec, text: str) -> float:
    assert spec.bounds is not None
    low, high = spec.bounds
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low < value <= high):
        raise ValueProblem(f"is not valid; write a number of seconds greater than {low:g} and at most {high:g}, "
                           f"e.g. 60.")
    return value


def _conv_url(spec: KeySpec, text: str) -> str:
    bad = ValueProblem(f"is not an http(s) URL; write e.g. "
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


def _choice_converter(canonical: tuple[str, ...], mapping: Mapping[str, str] | None = None, *,
                      refusal: str = "is not valid; allowed values") -> Callable[[KeySpec, str], str]:
    """A converter accepting ``canonical`` values (and ``mapping`` keys) case-insensitively; anything else is a
    problem "<refusal>: <the values>"."""
    table = {c.lower(): c for c in canonical} | {k.lower(): v for k, v in (mapping or {}).items()}

    def conv(spec: KeySpec, text: str) -> str:
        try:
            return table[text.lower()]
        except KeyError:
            raise ValueProblem(f"{refusal}: {', '.join(spec.allowed or canonical)}.") from None
    return conv


def _conv_region(spec: KeySpec, text: str) -> str:
    try:
        return mp.resolve_region(text)
    except KeyError:
        raise ValueProblem(f"is not a selling region; allowed values: {', '.join(spec.allowed)} "
                           f"(case-insensitive).") from None


def _conv_marketplaces(spec: KeySpec, text: str) -> tuple[str, ...]:
    ids: list[str] = []
    for token in text.split(","):
        if not token.strip():
            continue
        try:
            mid = mp.resolve_marketplace(token)
        except KeyError:
            raise ValueProblem(f"has an unknown marketplace{{part}}; use marketplace IDs or country codes, "
                               f"comma-separated. Valid codes: {mp.valid_codes()}.", token.strip()) from None
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
            raise ValueProblem("has{part} which is not an HTTP status code; write codes separated by '|', "
                               "e.g. 429|500|502|503|504.", token)
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


#: Per-API version keys, read from the table definitions (the single source): key → (supported versions, default).
API_VERSIONS: Mapping[str, tuple[tuple[str, ...], str]] = {
    key: (supported, default) for key, (supported, default, _title) in version_keys().items()
}
_VERSION_API = {key: title for key, (_s, _d, title) in version_keys().items()}
#: Version keys other connectors (ZappySys) send for APIs whose tables are not defined yet: accepted, ignored.
_PENDING_VERSION_KEYS = {
    "ReportsApiVersion": "Reports", "FinancesApiVersion": "Finances", "ProductPricingApiVersion": "Product Pricing",
    "ProductsFeesApiVersion": "Product Fees", "ShippingApiVersion": "Shipping", "ServicesApiVersion": "Services",
    "VendorOrdersApiVersion": "Vendor Orders",
}


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
            "Date window (days, 1 to 7300, or all: Amazon's full retention) of a scan with no date filter; "
            "the user is told whenever it applies.",
            _conv_lookback, "lookback_days", group="behaviour", bounds=(1, 7300)),
    KeySpec("MaxCallsPerStatement", ("max_calls_per_statement", "MaxCalls"), "1000", (),
            "Most SP-API calls one SQL statement may make (integer from 0 to 10000000; 0 = no limit). A statement "
            "whose calls are known to exceed it fails before calling; one that reaches it while running stops "
            "with an error. Long statements are announced with their estimate either way.",
            _conv_int, "max_calls_per_statement", group="behaviour", bounds=(0, 10_000_000)),
    KeySpec("ReportMaxAgeMinutes", ("report_max_age_minutes",), "15", (),
            "Reuse a DONE or running report of the same type, marketplace, options and data window created within "
            "this many minutes instead of requesting a new one (integer from 0 to 10080; 0 = never reuse).",
            _conv_int, "reports.max_age_minutes", group="reports", bounds=(0, 10080)),
    KeySpec("DisableReportCache", ("disable_report_cache",), "false", _BOOL_ALLOWED,
            "Always request a new report (no reuse of recent reports).",
            _conv_bool, "reports.disable_cache", group="reports"),
    KeySpec("ReportWaitSeconds", ("report_wait_seconds",), "300", (),
            "How long a query waits for a report to be DONE (seconds, greater than 0 and at most 86400); a report "
            "still running then is an error naming it, and the next identical query resumes it.",
            _conv_seconds, "reports.wait_seconds", group="reports", bounds=(0, 86400)),
    KeySpec("ReportCacheDir", ("report_cache_dir",), None, (),
            "Directory of the report state and downloaded documents (0600 files); default: the user cache directory "
            "(~/.cache/sqlspapi, or $SQLSPAPI_CACHE_DIR).",
            _conv_path, "reports.cache_dir", group="reports"),
    KeySpec("ReportCacheMB", ("report_cache_mb",), "512", (),
            "Most megabytes of report documents kept on disk (integer from 0 to 1000000; 0 = keep none).",
            _conv_int, "reports.cache_mb", group="reports", bounds=(0, 1_000_000)),
    KeySpec("Route", ("route",), "auto", ("auto", "api", "report"),
            "How orders and order_items are read: auto (a report when the query covers many orders and only asks "
            "for columns the report has), api (always paging), report (always the order report).",
            _choice_converter(("auto", "api", "report")), "route", group="reports"),
    KeySpec("Timeout", ("timeout",), "60", (),
            "HTTP timeout in seconds (a number > 0 and <= 3600).",
            _conv_seconds, "timeout", group="behaviour", bounds=(0, 3600)),
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
            "Maximum retries of one call (integer from 0 to 50).",
            _conv_int, "retry.count_max", group="retry", bounds=(0, 50)),
    KeySpec("RetryMultiplyWaitTime", ("retry_multiply_wait_time",), "true", _BOOL_ALLOWED,
            "Double the wait after each retry.",
            _conv_bool, "retry.multiply_wait", group="retry"),
    KeySpec("RetryWaitTimeMs", ("RetryFirstWaitMs", "retry_wait_time_ms"), "1000", (),
            "Wait before the first retry, in milliseconds (integer from 0 to 3600000, one hour).",
            _conv_int, "retry.first_wait_ms", group="retry", bounds=(0, MAX_RETRY_WAIT_MS)),
    # -- API versions
    *(
        KeySpec(name, (), default, supported,
                f"{_VERSION_API[name]} API version"
                + ("; v0 is deprecated (removed 2027-03-27)." if name == "OrdersApiVersion" else "."),
                _choice_converter(supported, refusal="is not supported; supported versions"),
                f"api_versions.{name}", group="versions")
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
    *(
        KeySpec(name, (), None, (),
                f"Version key of an API that has no tables yet ({api}); accepted (ZappySys strings carry it) "
                "and ignored until its tables are defined.",
                _conv_ignored, None, group="ignored")
        for name, api in _PENDING_VERSION_KEYS.items() if name not in API_VERSIONS
    ),
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
        f"Unknown connection-string key {key!r}.{hint} The list of keys: sqlspapi help connection-string.",
        key=key,
    )




# -------------------- settings values back to text


def _display(spec: KeySpec, value: Any) -> str:
    """A stored value as shown by ``Settings.redacted()`` (bools as ``true``/``false``, lists joined)."""
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
