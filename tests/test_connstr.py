"""Connection strings: grammar, keys and aliases, defaults, validation messages, secrets never shown."""

from __future__ import annotations

import logging
import pickle
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspapi.errors import ConnectionStringError, InterfaceError
from sqlspapi.settings import connstr
from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.connstr import (
    KEYS,
    ORDERS_V0_NOTICE,
    RetryPolicy,
    Secret,
    Settings,
    format_connection_string,
    parse,
)

CLIENT_SECRET = "amzn1.oa2-cs.v1.SUPERSECRETVALUE0123456789"
REFRESH = "Atzr|REFRESHTOKENSECRETVALUE"
AWS_SECRET = "AWSSECRETACCESSKEYVALUE"
SECRETS = (CLIENT_SECRET, REFRESH, AWS_SECRET)
CREDS = f"ClientId=amzn1.application-oa2-client.abc;ClientSecret={CLIENT_SECRET};RefreshToken={REFRESH}"


def p(extra: str = "", **kw: object) -> Settings:
    """Parse the base credentials plus ``extra``."""
    return parse(CREDS + (";" + extra if extra else ""), **kw)


def error(text: str, **kw: object) -> ConnectionStringError:
    with pytest.raises(ConnectionStringError) as info:
        parse(text, **kw)
    return info.value


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[6:20] not in text


# ------------------------------------------------------------------------------------------ grammar


@pytest.mark.parametrize(
    ("text", "expected_secret"),
    [
        (f"ClientId=a;ClientSecret={CLIENT_SECRET};RefreshToken=r", CLIENT_SECRET),
        ("ClientId=a;ClientSecret={a;b=c d};RefreshToken=r", "a;b=c d"),
        ("ClientId=a;ClientSecret={x}}y};RefreshToken=r", "x}y"),
        ("ClientId=a;ClientSecret={}}}}};RefreshToken=r", "}}"),
        ("ClientId=a;ClientSecret={  padded  };RefreshToken=r", "  padded  "),
        ("ClientId=a;ClientSecret=  {braced}  ;RefreshToken=r", "braced"),
        ("  ClientId = a ;  ClientSecret =  spaced value  ; RefreshToken=r  ", "spaced value"),
        (";;ClientId=a;;;ClientSecret=s;;RefreshToken=r;;", "s"),
        ("clientid=a;CLIENTSECRET=s;refreshTOKEN=r", "s"),
        ("ClientId=a;ClientSecret=a=b=c;RefreshToken=r", "a=b=c"),
        ("ClientId=a;ClientSecret=x{y}z;RefreshToken=r", "x{y}z"),
        ("ClientId=a\n;ClientSecret=s\n;\tRefreshToken=r\n", "s"),
    ],
)
def test_grammar(text: str, expected_secret: str) -> None:
    s = parse(text)
    assert s.client_id == "a"
    assert s.client_secret.reveal() == expected_secret
    assert s.refresh_token.reveal() == "r"


def test_empty_value_means_default() -> None:
    s = p("Region=;Timeout=;MarketplaceIds={}")
    assert (s.region, s.timeout, s.marketplace_ids) == ("na", 60.0, ())


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("ClientId=a;ClientSecret={abc", ["ClientSecret", "never closed", "character 25"]),
        ("ClientId={a}b;ClientSecret=s", ["after the closing brace", "ClientId", "character 13"]),
        ("ClientId=a;justtext;ClientSecret=s", ["no '='", "character 12"]),
        ("ClientId=a; =x", ["empty key", "character 13"]),
        ("=x", ["empty key", "character 1"]),
        ("ClientId=a;Region", ["no '='", "Did you mean 'Region=...'"]),
    ],
)
def test_grammar_errors_show_position(text: str, fragments: list[str]) -> None:
    message = str(error(text))
    for fragment in fragments:
        assert fragment in message


def test_error_is_interface_error_with_key() -> None:
    e = error("Regoin=eu;" + CREDS)
    assert isinstance(e, InterfaceError)
    assert e.key == "Regoin"
    # after a secret, the text may be a piece of it: neither the message nor .key carries it
    e = error(CREDS + ";Regoin=eu")
    assert e.key is None and "Regoin" not in str(e) and "Did you mean 'Region'" in str(e)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ClientId=a;ClientId=b", "ClientId"),
        ("ClientId=a;client_id=b", "ClientId"),
        ("ClientId=a;CLIENTID=b", "ClientId"),
        ("RefreshToken=x;amazon_sp_refresh_token=y", "RefreshToken"),
        ("MarketplaceIds=US;MarketplaceId=CA", "MarketplaceIds"),
        ("RetryWaitTimeMs=1;RetryFirstWaitMs=2", "RetryWaitTimeMs"),
        ("Region=na;Region=", "Region"),
    ],
)
def test_repeated_key_is_error(text: str, key: str) -> None:
    e = error(text)
    assert e.key == key
    assert "twice" in str(e) and key in str(e)


# ------------------------------------------------------------------------------------------ keys


def test_unknown_key_suggests_closest() -> None:
    e = error("ClientSecert=x;" + CREDS)
    assert "Unknown connection-string key 'ClientSecert'" in str(e)
    assert "Did you mean 'ClientSecret'" in str(e)
    e = error("Marketplace=US;" + CREDS)
    assert "MarketplaceIds" in str(e)
    e = error(CREDS + ";amazon_sp_client_secrt=x")
    assert "ClientSecret" in str(e) and "amazon_sp_client_secrt" not in str(e)
    e = error("Zzzzqqq=1")
    assert "'Zzzzqqq'" in str(e) and "Did you mean" not in str(e)
    # after a secret, text may be a piece of the secret: not shown, but the suggestion still is
    e = error(CREDS + ";Zzzzqqq=1")
    assert "Zzzzqqq" not in str(e) and "braces" in str(e)
    e = error(CREDS + ";ClientSecert=x")
    assert "ClientSecert" not in str(e) and f"character {len(CREDS) + 2}" in str(e)
    assert "Did you mean 'ClientSecret'" in str(e)
    # a key holding a secret key's name may be "ClientSecret" + its value with the '=' lost
    e = error("ClientId=a;ClientSecretabc=def;RefreshToken=r")
    assert "abc" not in str(e) and "Is '=' missing after ClientSecret?" in str(e)


def test_defaults() -> None:
    s = p()
    assert s.token_url == "https://api.amazon.com/auth/o2/token"
    assert s.region == "na"
    assert s.endpoint == "https://sellingpartnerapi-na.amazon.com"
    assert s.sandbox is False
    assert s.marketplace_ids == ()
    assert s.seller_id is None
    assert s.include_restricted_data is False
    assert s.lookback_days == 30
    assert s.timeout == 60.0
    assert s.token_cache is None
    assert s.retry == RetryPolicy()
    assert s.retry.mode == "RetryWhenStatusCodeMatch"
    assert s.retry.status_codes == frozenset({429, 500, 502, 503, 504})
    assert (s.retry.count_max, s.retry.multiply_wait, s.retry.first_wait_ms) == (5, True, 1000)
    assert (s.aws_access_key_id, s.aws_secret_access_key, s.role_arn) == (None, None, None)
    assert s.notices == ()
    assert dict(s.api_versions) == {k: d for k, (_, d) in connstr.API_VERSIONS.items()}
    assert s.api_version("OrdersApiVersion") == "2026-01-01"
    assert s.api_version("orders") == "2026-01-01"
    assert s == Settings(client_id=s.client_id, client_secret=s.client_secret, refresh_token=s.refresh_token)


SEED_ALIASES = [
    # API2Cart (seed 000)
    ("amazon_sp_client_id", "client_id", "cid"),
    ("amazon_sp_client_secret", "client_secret", Secret("sec")),
    ("amazon_sp_refresh_token", "refresh_token", Secret("Atzr|x")),
    ("amazon_sp_aws_region", "region", "eu"),
    ("amazon_seller_id", "seller_id", "A1SELLER"),
    ("amazon_sp_aws_user_key_id", "aws_access_key_id", "FAKE-EXAMPLE-KEY"),
    ("amazon_sp_aws_user_secret", "aws_secret_access_key", Secret("awssecret")),
    ("amazon_sp_aws_role_arn", "role_arn", "arn:aws:iam::1:role/R"),
    # Zuar (seed 001)
    ("client_id", "client_id", "cid"),
    ("client_secret", "client_secret", Secret("sec")),
    ("refresh_token", "refresh_token", Secret("Atzr|x")),
    ("region", "region", "eu"),
    ("role_arn", "role_arn", "arn:aws:iam::1:role/R"),
    ("aws_access_key_id", "aws_access_key_id", "FAKE-EXAMPLE-KEY"),
    ("aws_secret_access_key", "aws_secret_access_key", Secret("awssecret")),
    # others from the issue
    ("lwa_app_id", "client_id", "cid"),
    ("lwa_client_secret", "client_secret", Secret("sec")),
    ("aws_access_key", "aws_access_key_id", "FAKE-EXAMPLE-KEY"),
    ("aws_secret_key", "aws_secret_access_key", Secret("awssecret")),
    ("token_url", "token_url", "https://example.com/token"),
    ("seller_id", "seller_id", "A1SELLER"),
    ("MerchantToken", "seller_id", "A1SELLER"),
    ("endpoint", "endpoint", "http://127.0.0.1:8080"),
    ("base_uri", "endpoint", "http://127.0.0.1:8080"),
    ("marketplace_ids", "marketplace_ids", ("ATVPDKIKX0DER",)),
    ("MarketplaceId", "marketplace_ids", ("ATVPDKIKX0DER",)),
    ("RetryFirstWaitMs", "retry", RetryPolicy(first_wait_ms=250)),
]

SEED_VALUES = {"region": "eu-west-1", "marketplace_ids": "US", "retry": "250"}


@pytest.mark.parametrize(("alias", "attr", "expected"), SEED_ALIASES)
def test_seed_aliases(alias: str, attr: str, expected: object) -> None:
    base = {"ClientId": "a", "ClientSecret": "b", "RefreshToken": "c"}
    canonical = connstr.lookup_key(alias)
    assert canonical is not None
    base.pop(canonical.name, None)
    value = SEED_VALUES.get(attr)
    if value is None:
        value = expected.reveal() if isinstance(expected, Secret) else expected
    text = format_connection_string(base) + f";{alias}={value}"
    assert getattr(parse(text), attr) == expected


def test_zappysys_ignored_keys() -> None:
    url = "https://sellercentral.amazon.com/apps/authorize/consent?application_id=[YOUR-APPLICATION-ID]&version=beta"
    s = p(f"TokenUIMode=OnlyRefreshToken;AuthUrl={{{url}}}")
    assert s.auth_url == url and s.with_overrides(AuthUrl=None) == p()  # AuthUrl is the authorize command's
    assert "TokenUIMode" not in s.redacted()


def test_zappysys_full_parameter_set() -> None:
    """Every parameter of the ZappySys connector (seed 003) is accepted."""
    text = (CREDS + ";TokenUrl=https://api.amazon.com/auth/o2/token;TokenUIMode=OnlyRefreshToken;"
            "OrdersApiVersion=2026-01-01;SellerApiVersion=v1;ShippingApiVersion=v1;ServicesApiVersion=v1;"
            "FbaApiVersion=v1;SalesApiVersion=v1;ReportsApiVersion=2021-06-30;ProductsFeesApiVersion=v0;"
            "ProductPricingApiVersion=v0;CatalogItemsApiVersion=2022-04-01;VendorOrdersApiVersion=v1;"
            "RetryMode=RetryWhenStatusCodeMatch;RetryStatusCodeList=429;RetryCountMax=5;"
            "RetryMultiplyWaitTime=True")
    s = parse(text)
    assert s.retry.status_codes == frozenset({429})


# ------------------------------------------------------------------------------------------ credentials


@pytest.mark.parametrize(
    ("text", "key", "fragments"),
    [
        ("ClientSecret=s;RefreshToken=r", "ClientId", ["ClientId is missing", "LWA credentials", "View",
                                                        "Develop Apps"]),
        ("ClientId=a;RefreshToken=r", "ClientSecret", ["ClientSecret is missing", "180 days", "LWA credentials"]),
        ("ClientId=a;ClientSecret=s", "RefreshToken", ["RefreshToken is missing", "Authorize app",
                                                        "OAuth"]),
        ("ClientId=a;ClientSecret=s;RefreshToken=", "RefreshToken", ["RefreshToken is missing"]),
        ("", "ClientId", ["ClientId is missing", "ClientSecret is missing", "RefreshToken is missing"]),
    ],
)
def test_missing_credentials(text: str, key: str, fragments: list[str]) -> None:
    e = error(text)
    assert e.key == key
    for fragment in fragments:
        assert fragment in str(e)


def test_credentials_optional_when_not_required() -> None:
    s = parse("Endpoint=http://127.0.0.1:9000", require_credentials=False)
    assert s.client_id == "" and not s.client_secret and not s.refresh_token
    assert s.endpoint == "http://127.0.0.1:9000"


# ------------------------------------------------------------------------------------------ endpoint


@pytest.mark.parametrize(
    ("extra", "region", "endpoint"),
    [
        ("", "na", "https://sellingpartnerapi-na.amazon.com"),
        ("Region=EU", "eu", "https://sellingpartnerapi-eu.amazon.com"),
        ("Region=fe", "fe", "https://sellingpartnerapi-fe.amazon.com"),
        ("Region=us-east-1", "na", "https://sellingpartnerapi-na.amazon.com"),
        ("Region=EU-WEST-1", "eu", "https://sellingpartnerapi-eu.amazon.com"),
        ("Region=us-west-2", "fe", "https://sellingpartnerapi-fe.amazon.com"),
        ("Sandbox=true", "na", "https://sandbox.sellingpartnerapi-na.amazon.com"),
        ("Region=eu;Sandbox=yes", "eu", "https://sandbox.sellingpartnerapi-eu.amazon.com"),
        ("Region=fe;Sandbox=1", "fe", "https://sandbox.sellingpartnerapi-fe.amazon.com"),
        ("Endpoint=http://127.0.0.1:8123/", "na", "http://127.0.0.1:8123"),
        ("Endpoint=http://localhost:8123;Sandbox=true;Region=eu", "eu", "http://localhost:8123"),
        ("Endpoint=https://sellingpartnerapi-fe.amazon.com", "fe", "https://sellingpartnerapi-fe.amazon.com"),
        ("MarketplaceIds=DE,FR", "eu", "https://sellingpartnerapi-eu.amazon.com"),
        ("MarketplaceIds=JP;Sandbox=on", "fe", "https://sandbox.sellingpartnerapi-fe.amazon.com"),
    ],
)
def test_region_endpoint_sandbox(extra: str, region: str, endpoint: str) -> None:
    s = p(extra)
    assert (s.region, s.endpoint) == (region, endpoint)


@pytest.mark.parametrize("value", ["mars", "us-east-2", "europe"])
def test_bad_region_lists_allowed(value: str) -> None:
    e = error(f"Region={value};" + CREDS)
    assert e.key == "Region"
    assert repr(value) in str(e)
    for allowed in ("na", "eu", "fe", "us-east-1", "eu-west-1", "us-west-2"):
        assert allowed in str(e)


@pytest.mark.parametrize("key", ["Endpoint", "TokenUrl"])
@pytest.mark.parametrize("value", ["ftp://x.example", "not a url", "http://", "//host/path", "http://[::1"])
def test_bad_urls(key: str, value: str) -> None:
    e = error(CREDS + f";{key}={{{value}}}")
    assert e.key == key
    assert "http(s) URL" in str(e)


def test_marketplace_region_mismatch() -> None:
    e = error(CREDS + ";Region=na;MarketplaceIds=US,DE")
    assert e.key == "MarketplaceIds"
    assert "DE" in str(e) and "region eu" in str(e)
    e = error(CREDS + ";MarketplaceIds=US,JP")
    assert e.key == "MarketplaceIds"
    # an explicit endpoint (e.g. the emulator) serves whatever it serves
    assert p("MarketplaceIds=US,JP;Endpoint=http://127.0.0.1:1").marketplace_ids == (
        "ATVPDKIKX0DER", "A1VC38T7YXB528")


# ------------------------------------------------------------------------------------------ marketplaces


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("US", ("ATVPDKIKX0DER",)),
        ("US,CA", ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")),
        (" us , ca ,", ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")),
        ("UK", ("A1F83G8C2ARO7P",)),
        ("GB", ("A1F83G8C2ARO7P",)),
        ("uk,GB,A1F83G8C2ARO7P", ("A1F83G8C2ARO7P",)),
        ("A1PA6795UKMFR9,fr", ("A1PA6795UKMFR9", "A13V1IB3VIYZZH")),
        ("atvpdkikx0der", ("ATVPDKIKX0DER",)),
    ],
)
def test_marketplace_codes(value: str, ids: tuple[str, ...]) -> None:
    assert p(f"MarketplaceIds={value}").marketplace_ids == ids


@pytest.mark.parametrize("value", ["XX", "US,ZZ", "A1234567890"])
def test_unknown_marketplace_lists_codes(value: str) -> None:
    e = error(CREDS + f";MarketplaceIds={value}")
    assert e.key == "MarketplaceIds"
    assert "Valid codes:" in str(e)
    for code in ("US", "UK", "GB", "DE", "JP", "AE"):
        assert code in str(e)


def test_marketplace_table() -> None:
    assert len(mp.MARKETPLACES) == 23
    assert len(mp.MARKETPLACE_BY_ID) == 23
    assert {m.region for m in mp.MARKETPLACES} == set(mp.REGIONS)
    assert mp.resolve_marketplace("gb") == mp.resolve_marketplace("UK") == "A1F83G8C2ARO7P"
    assert mp.marketplace_by_id("A1VC38T7YXB528").country == "Japan"
    assert mp.AWS_REGION_TO_REGION == {"us-east-1": "na", "eu-west-1": "eu", "us-west-2": "fe"}
    assert mp.REGIONS["eu"].sandbox_host == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    with pytest.raises(KeyError):
        mp.resolve_marketplace("XX")


# ------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "expected"),
    [(v, True) for v in ("true", "TRUE", "Yes", "1", "on", "On")]
    + [(v, False) for v in ("false", "False", "NO", "0", "off", "OFF")],
)
@pytest.mark.parametrize(("key", "attr"), [("IncludeRestrictedData", "include_restricted_data"),
                                           ("Sandbox", "sandbox")])
def test_booleans(key: str, attr: str, value: str, expected: bool) -> None:
    assert getattr(p(f"{key}={value}"), attr) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "y", "truee"])
def test_bad_boolean_lists_allowed(value: str) -> None:
    e = error(CREDS + f";IncludeRestrictedData={value}")
    assert e.key == "IncludeRestrictedData"
    for allowed in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        assert allowed in str(e)


@pytest.mark.parametrize(
    ("extra", "attr", "expected"),
    [
        ("LookbackDays=1", "lookback_days", 1),
        ("LookbackDays=365", "lookback_days", 365),
        ("Timeout=2.5", "timeout", 2.5),
        ("Timeout=120", "timeout", 120.0),
        ("SellerId=A2SELLER", "seller_id", "A2SELLER"),
        ("TokenCache=/tmp/tok.json", "token_cache", "/tmp/tok.json"),
        ("TokenCache=", "token_cache", None),
        ("IncludeRestrictedData=true", "include_restricted_data", True),
    ],
)
def test_values(extra: str, attr: str, expected: object) -> None:
    assert getattr(p(extra), attr) == expected


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("LookbackDays=0", "LookbackDays", "from 1 to 7300"),
        ("LookbackDays=abc", "LookbackDays", "whole number"),
        ("LookbackDays=1.5", "LookbackDays", "whole number"),
        ("Timeout=0", "Timeout", "greater than 0"),
        ("Timeout=-1", "Timeout", "greater than 0"),
        ("Timeout=nan", "Timeout", "greater than 0"),
        ("Timeout=inf", "Timeout", "greater than 0"),
        ("Timeout=soon", "Timeout", "greater than 0"),
        ("RetryCountMax=-1", "RetryCountMax", "from 0 to 50"),
        ("RetryWaitTimeMs=fast", "RetryWaitTimeMs", "whole number"),
        ("RetryMode=Sometimes", "RetryMode", "None, RetryAny, RetryWhenStatusCodeMatch"),
        ("RetryStatusCodeList=429|abc", "RetryStatusCodeList", "not an HTTP status code"),
        ("RetryStatusCodeList=42", "RetryStatusCodeList", "not an HTTP status code"),
        ("RetryMultiplyWaitTime=sure", "RetryMultiplyWaitTime", "true, false"),
    ],
)
def test_bad_values(extra: str, key: str, fragment: str) -> None:
    e = error(CREDS + ";" + extra)
    assert e.key == key
    assert fragment in str(e)
    assert key in str(e)


# ------------------------------------------------------------------------------------------ versions


@pytest.mark.parametrize(("key", "spec"), list(connstr.API_VERSIONS.items()))
def test_version_keys(key: str, spec: tuple[tuple[str, ...], str]) -> None:
    supported, default = spec
    assert p().api_version(key) == default
    for version in supported:
        assert p(f"{key}={version.upper()}").api_version(key) == version
    e = error(f"{key}=1999-01-01;" + CREDS)
    assert e.key == key
    assert "1999-01-01" in str(e)
    for version in supported:
        assert version in str(e)


def test_catalog_accepts_2020() -> None:
    assert p("CatalogItemsApiVersion=2020-12-01").api_versions["CatalogItemsApiVersion"] == "2020-12-01"


def test_orders_v0_notice(caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING, logger="sqlspapi"):
            s = p("OrdersApiVersion=v0")
    assert s.notices == (ORDERS_V0_NOTICE,)
    assert ORDERS_V0_NOTICE == (
        "Orders API v0 is deprecated; Amazon removes it on 2027-03-27. Use OrdersApiVersion=2026-01-01.")
    records = [r for r in caplog.records if r.name == "sqlspapi"]
    assert [r.getMessage() for r in records] == [ORDERS_V0_NOTICE]
    assert records[0].levelno == logging.WARNING
    assert p().notices == ()


def test_every_deprecated_version_gives_its_notice(caplog: pytest.LogCaptureFixture) -> None:
    """Finances v0 (like Orders v0) is deprecated in its definition: choosing it tells the user, once each."""
    with caplog.at_level(logging.WARNING, logger="sqlspapi"):
        s = p("FinancesApiVersion=v0;OrdersApiVersion=v0")
    assert len(s.notices) == 2 and ORDERS_V0_NOTICE in s.notices
    finances = next(n for n in s.notices if n != ORDERS_V0_NOTICE)
    assert finances.startswith("Finances API v0 is deprecated") and "FinancesApiVersion=2024-06-19" in finances
    assert sorted(r.getMessage() for r in caplog.records if r.name == "sqlspapi") == sorted(s.notices)
    assert p("FinancesApiVersion=2024-06-19").notices == ()


# ------------------------------------------------------------------------------------------ retry


def test_retry_keys() -> None:
    s = p("RetryMode=retryany;RetryStatusCodeList=429 | 503;RetryCountMax=0;RetryMultiplyWaitTime=false;"
          "RetryWaitTimeMs=250")
    assert s.retry == RetryPolicy(mode="RetryAny", status_codes=frozenset({429, 503}), count_max=0,
                                  multiply_wait=False, first_wait_ms=250)
    assert p("RetryMode=none").retry.mode == "None"


def test_retry_policy_helpers() -> None:
    r = RetryPolicy()
    assert r.should_retry(429, 0) and r.should_retry(503, 4)
    assert not r.should_retry(429, 5)
    assert not r.should_retry(400, 0) and r.should_retry(None, 0)  # network errors are retried
    assert [r.wait_ms(i) for i in range(4)] == [1000, 2000, 4000, 8000]
    any_ = RetryPolicy(mode="RetryAny", multiply_wait=False)
    assert any_.should_retry(429, 0) and any_.should_retry(599, 0) and any_.should_retry(None, 0)
    assert not any_.should_retry(400, 0) and not any_.should_retry(404, 0)
    assert any_.wait_ms(3) == 1000
    assert not RetryPolicy(mode="None").should_retry(429, 0)
    assert not RetryPolicy(mode="None").should_retry(None, 0)


# ------------------------------------------------------------------------------------------ secrets


def test_secret_type() -> None:
    s = Secret("hunter2")
    assert repr(s) == str(s) == f"{s}" == "***"
    assert s.reveal() == "hunter2"
    assert s == Secret("hunter2") and s != Secret("other") and s != "hunter2"
    assert hash(s) == hash(Secret("hunter2"))
    assert {s, Secret("hunter2")} == {s}
    assert bool(s) and not Secret("")
    assert pickle.loads(pickle.dumps(s)) == s
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]


def full_settings() -> Settings:
    return parse(CREDS + f";AwsAccessKeyId=FAKE-KEY-1;AwsSecretAccessKey={AWS_SECRET};RoleArn=arn:aws:iam::1:role/x")


def test_secrets_absent_from_repr_and_str() -> None:
    s = full_settings()
    assert s.aws_secret_access_key == Secret(AWS_SECRET)
    for text in (repr(s), str(s), repr(s.retry), str(s.retry), repr(s.client_secret), str(s.refresh_token),
                 repr(s.given), str(s.redacted()), repr(s.api_versions)):
        assert_no_secret(text)
    red = s.redacted()
    assert red["ClientSecret"] == red["RefreshToken"] == red["AwsSecretAccessKey"] == "***"
    assert red["ClientId"] == "amzn1.application-oa2-client.abc"
    assert red["Region"] == "na" and red["Sandbox"] == "false"
    assert red["RetryStatusCodeList"] == "429|500|502|503|504"
    assert list(red) == [k.name for k in KEYS if k.attr is not None]


SECRET_ERROR_CASES = [
    f"ClientId=a;ClientSecret={{{CLIENT_SECRET}",                       # unterminated brace
    f"ClientId=a;ClientSecret={{{CLIENT_SECRET}}}trailing;RefreshToken=r",  # text after brace
    f"ClientId=a;ClientSecret={CLIENT_SECRET};{REFRESH}",               # segment without '='
    f"ClientId=a;ClientSecret={CLIENT_SECRET[:10]};{CLIENT_SECRET[10:]}=x;RefreshToken=r",  # ';' in secret
    f"ClientId=a;ClientSecret={CLIENT_SECRET}\x01;RefreshToken=r",      # control character
    f"ClientId=a;ClientSecret=x;RefreshToken={REFRESH};RefreshToken={REFRESH}",  # repeated
    f"ClientId=a;ClientSecret={CLIENT_SECRET};RefreshToken={REFRESH};Region=mars",
    f"ClientId=a;ClientSecret={CLIENT_SECRET};RefreshToken={REFRESH};Regoin=eu",
    f"ClientSecret={CLIENT_SECRET};RefreshToken={REFRESH}",             # missing ClientId
    f"ClientId=a;ClientSecret=x;RefreshToken=r;AwsSecretAccessKey={{{AWS_SECRET}",
]


@pytest.mark.parametrize("text", SECRET_ERROR_CASES)
def test_secrets_absent_from_errors(text: str) -> None:
    e = error(text)
    assert_no_secret(str(e))
    assert_no_secret(repr(e))
    assert_no_secret(repr(e.args))


def test_account_key() -> None:
    a, b = p(), p()
    assert a.account_key == b.account_key and len(a.account_key) == 64
    assert_no_secret(a.account_key)
    other = parse(f"ClientId=amzn1.application-oa2-client.abc;ClientSecret=zzz;RefreshToken={REFRESH}x")
    assert other.account_key != a.account_key
    # the client secret (rotated every 180 days) does not change the account
    rotated = parse(f"ClientId=amzn1.application-oa2-client.abc;ClientSecret=new;RefreshToken={REFRESH}")
    assert rotated.account_key == a.account_key


def test_settings_frozen_and_hashable() -> None:
    s = p()
    with pytest.raises(AttributeError):
        s.region = "eu"  # type: ignore[misc]
    assert hash(s) == hash(p())
    assert {s: 1}[p()] == 1


# ------------------------------------------------------------------------------------------ overrides, formatting


def test_with_overrides() -> None:
    s = p()
    eu = s.with_overrides(Region="eu", Sandbox=True, MarketplaceIds=["DE", "FR"], RetryStatusCodeList=[429])
    assert eu.endpoint == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    assert eu.marketplace_ids == ("A1PA6795UKMFR9", "A13V1IB3VIYZZH")
    assert eu.retry.status_codes == frozenset({429})
    assert eu.client_secret == s.client_secret
    assert s.region == "na"
    assert eu.with_overrides(Region=None, MarketplaceIds=None, Sandbox=None, RetryStatusCodeList="") == s
    assert s.with_overrides(timeout=5).timeout == 5.0
    with pytest.raises(ConnectionStringError) as info:
        s.with_overrides(Regoin="eu")
    assert "Region" in str(info.value)
    with pytest.raises(ConnectionStringError):
        s.with_overrides(LookbackDays=0)
    with pytest.raises(ConnectionStringError):
        s.with_overrides(ClientSecret=None)
    demo = parse("Endpoint=http://127.0.0.1:1", require_credentials=False)
    assert demo.with_overrides(Timeout=1).timeout == 1.0


def test_format_connection_string_round_trip() -> None:
    mapping = {
        "ClientId": "id",
        "ClientSecret": Secret("a;b}c{d=e"),
        "RefreshToken": "  spaced  ",
        "Sandbox": True,
        "MarketplaceIds": ["US", "CA"],
        "RetryStatusCodeList": [429, 503],
        "Timeout": 5,
        "SellerId": None,
    }
    text = format_connection_string(mapping)
    assert "SellerId" not in text
    assert "ClientSecret={a;b}}c{d=e}" in text
    s = parse(text)
    assert s.client_secret.reveal() == "a;b}c{d=e"
    assert s.refresh_token.reveal() == "  spaced  "
    assert s.sandbox is True and s.timeout == 5.0
    assert s.marketplace_ids == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert s.retry.status_codes == frozenset({429, 503})
    with pytest.raises(ValueError):
        format_connection_string({"Bad;Key": "x"})


# ------------------------------------------------------------------------------------------ the key table


def test_keys_table_is_consistent() -> None:
    names = [k.name for k in KEYS]
    assert len(names) == len(set(names))
    for spec in KEYS:
        assert spec.description and spec.description.endswith(".")
        if spec.default is not None:  # every default passes its own validation
            spec.convert(spec, spec.default)
        for alias in (spec.name, *spec.aliases):
            assert connstr.lookup_key(alias) is spec
            assert connstr.lookup_key(alias.upper()) is spec
    secret = {k.name for k in KEYS if k.secret}
    assert secret == {"ClientSecret", "RefreshToken", "AwsSecretAccessKey"}


def test_docs_cover_every_key() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "connection-string.md").read_text()
    for spec in KEYS:
        assert f"`{spec.name}`" in doc, spec.name
        for alias in spec.aliases:
            assert f"`{alias}`" in doc, alias


# ------------------------------------------------------------------------------------------ fuzz

KEY_NAMES = [n for k in KEYS for n in (k.name, *k.aliases)] + ["Bogus", "", " ", "Client Id", "{x}"]
VALUES = st.one_of(
    st.sampled_from(["", "true", "no", "eu", "us-west-2", "US,GB", "v0", "2026-01-01", "0", "-1", "1e400", "nan",
                     "http://127.0.0.1:1", "http://[::1", "429|503", "RetryAny", "~", "~nouser/x", "A1F83G8C2ARO7P"]),
    st.text(max_size=20),
)


@st.composite
def plausible(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.sampled_from(KEY_NAMES) | st.text(max_size=8))
        value = draw(VALUES)
        style = draw(st.sampled_from(["plain", "braced", "open", "noeq", "dup"]))
        if style == "braced":
            value = "{" + value.replace("}", "}}") + "}"
        elif style == "open":
            value = "{" + value
        elif style == "noeq":
            parts.append(key + value)
            continue
        sep = draw(st.sampled_from(["=", " = ", "=="]))
        parts.append(f"{key}{sep}{value}")
    joiner = draw(st.sampled_from([";", "; ", ";;", " ;"]))
    prefix = draw(st.sampled_from(["", CREDS + ";"]))
    return prefix + joiner.join(parts)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), plausible()), st.booleans())
def test_fuzz_parse_only_settings_or_connection_string_error(text: str, require: bool) -> None:
    try:
        result = parse(text, require_credentials=require)
    except ConnectionStringError as e:
        assert isinstance(str(e), str)
        return
    assert isinstance(result, Settings)
    repr(result)
    result.redacted()
    hash(result)
    assert parse(format_connection_string(
        {k: v for k, v in result.given.items()}), require_credentials=require) == result


def test_doc_examples_parse() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "connection-string.md").read_text()
    examples = [b.replace("\n", "") for b in re.findall(r"```\n(.*?)```", doc, re.S)
                if b.startswith(("ClientId=", "amazon_sp_"))]
    assert len(examples) >= 4
    parsed = [parse(text) for text in examples]
    assert any(s.sandbox and s.region == "eu" for s in parsed)
    assert any(s.endpoint == "http://127.0.0.1:8080" for s in parsed)
