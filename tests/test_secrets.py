"""Secrets never reach screens or disk: connection-string errors (fuzzed), numeric ranges, redaction of text.

The shell's history and ``.open`` credential check are tested in test_shell_credentials.py, the SQLAlchemy URL and
engine in test_sqla_pandas.py.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import KEYS, RetryPolicy, Settings, parse, redact_secrets, secret_keys_in
from sqlspapi.settings.keys import MAX_RETRY_WAIT_MS, describe_bounds

MARK = "SEKRET"
"""Every piece of a planted secret starts with this; it appears nowhere else in the generated strings."""

SECRET_SPELLINGS = [name for spec in KEYS if spec.secret for name in (spec.name, *spec.aliases)]
SECRET_KEYS = [spec for spec in KEYS if spec.secret]
OTHER_PAIRS = [
    "ClientId=amzn1.application-oa2-client.abc", "Region=eu", "Region=mars", "Region={eu}", "Sandbox=true",
    "Sandbox=maybe", "LookbackDays=30", "LookbackDays=999999999999999", "LookbackDays=x", "RetryCountMax=5",
    "RetryCountMax=-1", "RetryWaitTimeMs=10", "Timeout=60", "Timeout=1e999", "MarketplaceIds=US,CA",
    "MarketplaceIds={US,XX}", "RetryStatusCodeList=429|5x", "OrdersApiVersion=v0", "OrdersApiVersion=v9",
    "TokenUrl=http://127.0.0.1:1/auth/o2/token", "Endpoint=ftp://x", "SellerId=A1SELLER", "TokenCache=/tmp/t.json",
    "RetryMode=RetryAny", "RetryMode=Sometimes", "TokenUIMode=OnlyRefreshToken", "Regoin=eu", "Bogus=1",
]
BREAKERS = "{};='\" "


def secret_value(rng: random.Random) -> str:
    """A secret made of marked pieces joined by characters the grammar cares about."""
    pieces = [f"{MARK}{letter}" for letter in "ABCDEFG"[: rng.randint(1, 7)]]
    seps = [rng.choice([";", "=", "}", "{", "'", '"', " ", "}}", ";x=", "|", ""]) for _ in pieces[1:]]
    return "".join(piece + sep for piece, sep in zip(pieces, [*seps, ""], strict=True))


def connection_string(rng: random.Random) -> str:
    """A connection string with a secret planted under secret keys (any spelling), then broken a little."""
    secret = secret_value(rng)
    pairs = [rng.choice(OTHER_PAIRS) for _ in range(rng.randint(0, 6))]
    for spec in rng.sample(SECRET_KEYS, rng.randint(1, len(SECRET_KEYS))):
        spelling = rng.choice([spec.name, *spec.aliases])
        spelling = rng.choice([spelling, spelling.upper(), spelling.lower()])
        value = "{" + secret.replace("}", "}}") + "}" if rng.random() < 0.5 else secret
        pairs.insert(rng.randint(0, len(pairs)), f"{spelling}={value}")
    text = rng.choice([";", "; ", ";;"]).join(pairs)
    for _ in range(rng.randint(0, 2)):  # break braces, ';', '=' and quotes
        action = rng.choice(["delete", "insert", "double"])
        structural = [i for i, c in enumerate(text) if c in BREAKERS]
        if action != "insert" and structural:
            i = rng.choice(structural)
            text = text[:i] + (text[i] if action == "double" else "") + text[i:][action == "delete":]
        else:
            i = rng.randint(0, len(text))
            text = text[:i] + rng.choice(BREAKERS) + text[i:]
    return text


def shown_texts(result: Settings | ConnectionStringError) -> list[str]:
    """Everything a user may see of a parse result."""
    if isinstance(result, ConnectionStringError):
        return [str(result), repr(result), repr(result.args), str(result.key)]
    return [repr(result), str(result), str(result.redacted()), repr(result.given), repr(result.retry)]


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fuzz_no_secret_in_any_message_or_repr(rng: random.Random) -> None:
    """200 examples x 20 strings: 4000 broken connection strings per run."""
    for _ in range(20):
        text = connection_string(rng)
        try:
            result: Settings | ConnectionStringError = parse(text, require_credentials=rng.random() < 0.5)
        except ConnectionStringError as exc:
            result = exc
        for shown in shown_texts(result):
            assert MARK not in shown, (text, shown)


@pytest.mark.parametrize("text", [
    # the issue's leak: an unclosed brace made a number's value run over the secret
    "RetryCountMax={}};ClientSecret=SEKRETA;RefreshToken=SEKRETB}",
    "Region={eu;ClientSecret=SEKRETA}",
    "LookbackDays=3;ClientSecret={SEKRETA}};SEKRETB=1}",
    "ClientSecret={SEKRETA};SEKRETB=x",  # a '}' of the secret was not doubled
    "ClientId=abc ClientSecret=SEKRETA;RefreshToken=x",  # a lost ';' before a secret key
    "ClientId={abc;ClientSecretSEKRETA;}",
    "ClientSecretSEKRETA=SEKRETB;ClientId=a",  # a lost '=' after a secret key
    "ClientSecret=SEKRETA;Region=SEKRETB",  # maybe a secret holding ';Region=' written without braces
    "ClientSecret=SEKRETA;LookbackDays=SEKRETB",
    "ClientSecret=SEKRETA;ClientId=a;ClientSecret=SEKRETB",
    "ClientId=amzn1.application-oa2-client.abcC{lientSecret={SEKRETA}",  # a key name mangled inside a value
])
def test_known_leaks_are_closed(text: str) -> None:
    with pytest.raises(ConnectionStringError) as info:
        parse(text)
    for shown in shown_texts(info.value):
        assert MARK not in shown, shown


def test_values_before_any_secret_are_still_quoted() -> None:
    with pytest.raises(ConnectionStringError, match="Region='mars' is not a selling region"):
        parse("Region=mars;ClientId=a;ClientSecret=s;RefreshToken=r")
    with pytest.raises(ConnectionStringError, match=r"Region=\(not shown: it follows a secret"):
        parse("ClientId=a;ClientSecret=s;RefreshToken=r;Region=mars")
    with pytest.raises(ConnectionStringError, match=r"RetryCountMax=\(not shown: it contains ';'"):
        parse("RetryCountMax={1;2};ClientId=a;ClientSecret=s;RefreshToken=r")


# ---------------------------------------------------------------- numeric ranges

NUMERIC = [spec for spec in KEYS if spec.bounds is not None]


def number(value: float) -> str:
    """A bound as the messages and docs write it (3600000, not 3.6e+06)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def test_every_numeric_key_has_a_range() -> None:
    assert {spec.name for spec in NUMERIC} == {"LookbackDays", "MaxCallsPerStatement", "Timeout", "RetryCountMax",
                                              "RetryWaitTimeMs", "ReportMaxAgeMinutes", "ReportWaitSeconds",
                                              "ReportCacheMB", "RotateSecretDaysBefore"}


@pytest.mark.parametrize("spec", NUMERIC, ids=lambda spec: spec.name)
def test_range_is_checked_when_parsing(spec) -> None:
    low, high = spec.bounds
    is_int = "integer" in describe_bounds(spec)
    for good in ([low, high] if is_int else [high, low + 0.5]):
        text = f"{good:.0f}" if is_int else f"{good:g}"
        parse(f"{spec.name}={text}", require_credentials=False)
    for bad in ("999999999999999", "9" * 5000, "-999999999999999", f"{high + 1:.0f}", f"{low - 1:.0f}"):
        with pytest.raises(ConnectionStringError) as info:
            parse(f"{spec.name}={bad}", require_credentials=False)
        message = str(info.value)
        assert info.value.key == spec.name and message.startswith(f"{spec.name}=")
        assert f"from {number(low)} " in message or f"than {number(low)} " in message
        assert f" {number(high)}" in message


@pytest.mark.parametrize("spec", NUMERIC, ids=lambda spec: spec.name)
def test_ranges_are_documented(spec) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "connection-string.md").read_text()
    row = next(line for line in doc.splitlines() if line.startswith(f"| `{spec.name}` "))
    low, high = spec.bounds
    assert number(low) in row and number(high) in row, row


def test_lookback_days_from_the_issue_is_refused_not_an_overflow() -> None:
    with pytest.raises(ConnectionStringError, match=r"LookbackDays='999999999999999' is out of range; write an "
                                                    r"integer from 1 to 7300"):
        parse("LookbackDays=999999999999999", require_credentials=False)


def test_largest_retry_settings_wait_at_most_an_hour() -> None:
    settings_ = parse(f"RetryCountMax=50;RetryWaitTimeMs={MAX_RETRY_WAIT_MS}", require_credentials=False)
    waits = [settings_.retry.wait_ms(n) for n in range(settings_.retry.count_max + 1)]
    assert max(waits) == MAX_RETRY_WAIT_MS
    time.sleep(0 * max(waits) / 1000)  # a valid argument for sleep: no OverflowError
    assert RetryPolicy(count_max=50).wait_ms(49) == MAX_RETRY_WAIT_MS


# ---------------------------------------------------------------- redacting text


@pytest.mark.parametrize(("text", "expected"), [
    ('.open "ClientId=a;ClientSecret=s3;RefreshToken=Atzr|r"', '.open "ClientId=a;ClientSecret=***;RefreshToken=***"'),
    (".open ClientSecret={a;b}}c};Region=eu", ".open ClientSecret={***};Region=eu"),
    ("client_secret = x;y=z;region=eu", "client_secret = ***;region=eu"),  # ';y=z' may be part of the secret
    ("lwa_client_secret=a;AMAZON_SP_REFRESH_TOKEN={b", "lwa_client_secret=***;AMAZON_SP_REFRESH_TOKEN={***}"),
    ("AwsSecretAccessKey=k", "AwsSecretAccessKey=***"),
    ("SELECT 'ClientSecret' FROM t", "SELECT 'ClientSecret' FROM t"),
    ("TokenUIMode=OnlyRefreshToken;Region=eu", "TokenUIMode=OnlyRefreshToken;Region=eu"),
])
def test_redact_secrets(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


def test_secret_keys_in() -> None:
    assert secret_keys_in("ClientId=a;client_secret=b;Refresh Token={c}") == ["ClientSecret", "RefreshToken"]
    assert secret_keys_in("Region=eu;ClientSecret={never closed") == ["ClientSecret"]
    assert secret_keys_in("Region=eu") == []
