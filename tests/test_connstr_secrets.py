"""Connection-string secrets are never shown (repr, str, errors), the account key, frozen Settings, overrides
and formatting a connection string back."""

from __future__ import annotations

import pickle

import pytest
from connstr_helpers import AWS_SECRET, CLIENT_SECRET, CREDS, REFRESH, assert_no_secret, error, p

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import (
    KEYS,
    Secret,
    Settings,
    format_connection_string,
    parse,
)

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
