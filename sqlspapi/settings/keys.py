"""The connection-string key catalogue: behaviour as data, one row of :data:`KEYS` per key.

Each :class:`~sqlspapi.settings.converters.KeySpec` row holds a key's canonical name, its aliases, its default, the
allowed values, the converter that checks the text and turns it into the stored value
(:mod:`sqlspapi.settings.converters`), a one-line description, the :class:`~sqlspapi.settings.connstr.Settings`
attribute it feeds and whether it is secret. Adding or changing a key is a change to this table, not to the parser
(:mod:`sqlspapi.settings.connstr` builds :class:`~sqlspapi.settings.connstr.Settings`).

Also here: the per-API version keys (:data:`API_VERSIONS`), :func:`lookup_key` (keys are case-, ``_``-, ``-``- and
space-insensitive), the "did you mean" suggestions for unknown keys, and stored values back to text (for
``Settings.redacted()`` and :func:`~sqlspapi.settings.connstr.format_connection_string`).

The value types (:class:`Secret`, :class:`RetryPolicy`, :class:`ReportPolicy`; :mod:`sqlspapi.settings.values`) and
:class:`KeySpec`, :class:`ValueProblem` and :func:`describe_bounds` (:mod:`sqlspapi.settings.converters`) are
re-exported here, where callers have always imported them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from sqlspapi.definitions.loader import deprecations, version_keys
from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.converters import (
    _BOOL_ALLOWED,
    LOOKBACK_ALL,
    KeySpec,
    ValueProblem,
    _choice_converter,
    _conv_bool,
    _conv_datetime,
    _conv_ignored,
    _conv_int,
    _conv_lookback,
    _conv_marketplaces,
    _conv_names,
    _conv_path,
    _conv_region,
    _conv_seconds,
    _conv_secret,
    _conv_status_codes,
    _conv_str,
    _conv_url,
    describe_bounds,
)
from sqlspapi.settings.values import MAX_RETRY_WAIT_MS, RETRY_MODES, ReportPolicy, RetryPolicy, Secret

__all__ = [
    "Secret", "RetryPolicy", "ReportPolicy", "RETRY_MODES", "KeySpec", "KEYS", "API_VERSIONS", "DEFAULT_TOKEN_URL",
    "ORDERS_V0_NOTICE", "DEPRECATIONS", "MAX_RETRY_WAIT_MS", "ValueProblem", "lookup_key", "describe_bounds",
    "LOOKBACK_ALL", "AWS_SIGNING_NOTICE",
]

DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
"""Login with Amazon's token endpoint (the same for every SP-API region)."""

#: (version key, version) → the notice choosing that deprecated version gives (the definitions' ``deprecation``).
DEPRECATIONS: Mapping[tuple[str, str], str] = deprecations()

ORDERS_V0_NOTICE = DEPRECATIONS[("OrdersApiVersion", "v0")]
"""The one-line notice emitted (log WARNING + ``Settings.notices``) when ``OrdersApiVersion=v0`` is chosen (every
deprecated version in :data:`DEPRECATIONS` gives its own the same way)."""

AWS_SIGNING_NOTICE = ("Amazon has not required AWS signatures since October 2023; set SignRequests=true to sign "
                      "anyway")
"""The one-line notice (``Settings.notices``) when AWS keys are given without ``SignRequests=true``."""


# -------------------- key table


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
    KeySpec("CredentialsFile", ("credentials_file", "credentials_path"), None, (),
            "Path of a credentials file (JSON, HJSON or YAML; one set of fields or named accounts) supplying the "
            "keys this string leaves out; keep it chmod 600.",
            _conv_path, "credentials_file", group="credentials"),
    KeySpec("Account", ("account_name",), None, (),
            "Which named account of the credentials file to use (default: 'default', else the only one); also "
            "picks per-account environment variables (LWA_APP_ID_name ...).",
            _conv_str, "account", group="credentials"),
    KeySpec("Profile", ("profile_name",), None, (),
            "Named account of the credentials file in $XDG_CONFIG_HOME/sqlspapi (~/.config/sqlspapi), so the "
            "connection string carries no secret.",
            _conv_str, "profile", group="credentials"),
    KeySpec("CredentialsSecret", ("credentials_secret",), None, (),
            "AWS Secrets Manager secret (ARN or name) whose JSON SecretString supplies the keys this string leaves "
            "out, like a credentials file; read once per process with boto3 (pip install 'sqlspapi[aws]').",
            _conv_str, "credentials_secret", group="credentials"),
    KeySpec("RotationQueueUrl", ("rotation_queue_url",), None, (),
            "URL of the Amazon SQS queue your app registered for 'Application Client New Secret' notifications: "
            "where sqlspapi rotate-secret receives the new LWA client secret (boto3: pip install 'sqlspapi[aws]').",
            _conv_url, "rotation_queue_url", group="credentials"),
    KeySpec("ClientSecretExpiry", ("client_secret_expiry",), None, (),
            "When the LWA client secret expires (ISO 8601, UTC); written by sqlspapi rotate-secret, or copied from "
            "Developer Central. RotateSecretDaysBefore counts from it.",
            _conv_datetime, "client_secret_expiry", group="credentials"),
    KeySpec("RotateSecretDaysBefore", ("rotate_secret_days_before",), "0", (),
            "Rotate the LWA client secret automatically when a query runs within this many days of "
            "ClientSecretExpiry (integer from 0 to 179; 0 = never: run sqlspapi rotate-secret yourself).",
            _conv_int, "rotate_secret_days_before", group="credentials", bounds=(0, 179)),
    # -- many accounts (named accounts of the credentials file or secret)
    KeySpec("Accounts", ("accounts",), None, (),
            "Query several named accounts of the credentials file (or secret) at once: names separated by commas, "
            "or all. Every table gets an account column; WHERE account = 'x' (or IN) picks which are called.",
            _conv_names, "accounts", group="accounts"),
    KeySpec("OnAccountError", ("on_account_error",), "fail", ("fail", "skip"),
            "With Accounts: fail (one account's error fails the statement, naming the account) or skip (its rows "
            "are left out, a notice says so and the account_errors table holds the error).",
            _choice_converter(("fail", "skip")), "on_account_error", group="accounts"),
    KeySpec("AllowedTables", ("allowed_tables",), None, (),
            "Tables this account may read, separated by commas ('*' and '?' wildcards: orders,order_*); empty = "
            "every table. Usually set per account in the credentials file.",
            _conv_names, "allowed_tables", group="accounts"),
    KeySpec("AllowedOperations", ("allowed_operations",), None, (),
            "SP-API operations this account may call, separated by commas (wildcards allowed: get*); empty = every "
            "operation its tables need.",
            _conv_names, "allowed_operations", group="accounts"),
    KeySpec("ReadOnly", ("read_only",), "true", _BOOL_ALLOWED,
            "Refuse operations that change the account (report schedules, cancellations, notification "
            "subscriptions); reading, including requesting reports and Data Kiosk queries, is always allowed.",
            _conv_bool, "read_only", group="accounts"),
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
    KeySpec("SellerId", ("seller_id", "amazon_seller_id", "MerchantToken", "merchant_id"), None, (),
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
    KeySpec("RateLimitStore", ("rate_limit_store",), None, (),
            "File of the rate-limit buckets every sqlspapi process on this machine shares (SQLite, 0600), so cron "
            "jobs, shells and the bridge stay within one quota together; default: ratelimits.sqlite in the user "
            "cache directory; memory = this process only.",
            _conv_path, "rate_limit_store", group="behaviour"),
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
                f"{_VERSION_API[name]} API version" + "".join(
                    f"; {version} is deprecated" + (" (removed 2027-03-27)" if name == "OrdersApiVersion" else "")
                    for (key, version) in DEPRECATIONS if key == name) + ".",
                _choice_converter(supported, refusal="is not supported; supported versions"),
                f"api_versions.{name}", group="versions")
        for name, (supported, default) in API_VERSIONS.items()
    ),
    # -- AWS (optional SigV4; SP-API has not required it since 2023-10-02)
    KeySpec("AwsAccessKeyId", ("amazon_sp_aws_user_key_id", "aws_access_key", "access_key"), None, (),
            "AWS access key ID of an IAM user, kept for optional SigV4 signing (not needed by SP-API).",
            _conv_str, "aws_access_key_id", group="aws"),
    KeySpec("AwsSecretAccessKey", ("amazon_sp_aws_user_secret", "aws_secret_key", "secret_key"), None, (),
            "AWS secret access key matching AwsAccessKeyId (optional).",
            _conv_secret, "aws_secret_access_key", secret=True, group="aws"),
    KeySpec("RoleArn", ("amazon_sp_aws_role_arn", "role_arn", "arn"), None, (),
            "IAM role ARN to assume for SigV4 (optional).",
            _conv_str, "role_arn", group="aws"),
    KeySpec("SignRequests", ("sign_requests",), "false", _BOOL_ALLOWED,
            "Sign every SP-API request with AWS Signature Version 4 (the AWS keys, or RoleArn's credentials from "
            "STS AssumeRole); needs boto3 (pip install 'sqlspapi[aws]').",
            _conv_bool, "sign_requests", group="aws"),
    # -- accepted for ZappySys compatibility, ignored
    KeySpec("TokenUIMode", (), None, (),
            "ZappySys setting; accepted and ignored (the refresh token is always used).",
            _conv_ignored, None, group="ignored"),
    KeySpec("AuthUrl", ("auth_url",), None, (),
            "The app's consent page (ZappySys's AuthUrl, e.g. https://sellercentral.amazon.com/apps/authorize/"
            "consent?application_id=...&version=beta): sqlspapi authorize opens it, taking its application_id and "
            "version=beta; queries ignore it.",
            _conv_str, "auth_url", group="credentials"),
    *(
        KeySpec(name, (), None, (),
                f"Version key of an API that has no tables yet ({api}); accepted (ZappySys strings carry it) "
                "and ignored until its tables are defined.",
                _conv_ignored, None, group="ignored")
        for name, api in _PENDING_VERSION_KEYS.items() if name not in API_VERSIONS
    ),
)
"""Every connection-string key, in documentation order."""


# -------------------- lookups


def _norm(key: str) -> str:
    """Normal form of a key for look-up: lower case, without ``_``, ``-`` and spaces."""
    return re.sub(r"[\s_\-]+", "", key).lower()


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
