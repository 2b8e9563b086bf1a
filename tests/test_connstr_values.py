"""Connection-string values: credentials required, region, endpoint and sandbox, marketplaces, booleans and
numbers, retry policy, each with a message that lists what is allowed."""

from __future__ import annotations

import pytest
from connstr_helpers import CREDS, error, p

from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.connstr import (
    RetryPolicy,
    parse,
)

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
