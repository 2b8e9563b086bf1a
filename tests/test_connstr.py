"""Connection strings: the grammar (quoting, empty values, repeated keys, errors that show the position), and a
fuzz of it: parsing gives Settings or a ConnectionStringError, nothing else."""

from __future__ import annotations

import pytest
from connstr_helpers import CLIENT_SECRET, CREDS, error, p
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspapi.errors import ConnectionStringError, InterfaceError
from sqlspapi.settings.connstr import (
    KEYS,
    Settings,
    format_connection_string,
    parse,
)

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
