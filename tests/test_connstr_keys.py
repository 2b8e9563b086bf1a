"""Connection-string keys: unknown keys and their suggestions, defaults, aliases (ZappySys' and the seed's),
the API version keys and their deprecation notices, and the key table that the docs cover."""

from __future__ import annotations

import logging
import warnings

import pytest
from connstr_helpers import CREDS, error, p

from sqlspapi.settings import connstr
from sqlspapi.settings.connstr import (
    KEYS,
    ORDERS_V0_NOTICE,
    RetryPolicy,
    Secret,
    Settings,
    format_connection_string,
    parse,
)

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
