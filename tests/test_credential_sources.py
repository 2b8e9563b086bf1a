"""Credential sources: CredentialsFile (JSON, HJSON, YAML), Account, Profile, environment variables, precedence, the
permission warning, secrets kept out of messages, and a secret-free connection string querying the emulator."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

import sqlspapi
from sqlspapi import emulator
from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import Secret, parse
from sqlspapi.settings.sources import profile_dir, read_credentials_file

CLIENT_ID = "amzn1.application-oa2-client.filed"
SECRET = "amzn1.oa2-cs.v1.s3cr3t-from-file"
TOKEN = "Atzr|refresh-from-file"
AWS_SECRET = "aws/secret+from+file"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    """``text`` in ``path``, with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def assert_no_secret(text: str) -> None:
    for secret in (SECRET, TOKEN, AWS_SECRET, "s3cr3t", "refresh-from"):
        assert secret not in text


YAML_ACCOUNTS = f"""\
version: '1.0'

default:
  refresh_token: '{TOKEN}'
  lwa_app_id: '{CLIENT_ID}'
  lwa_client_secret: '{SECRET}'
  aws_secret_key: '{AWS_SECRET}'
  aws_access_key: 'FAKE-FILE-KEY'
  role_arn: 'arn:aws:iam::123456789012:role/sp'
another_account:
  refresh_token: 'Atzr|another'
  lwa_app_id: 'amzn1.application-oa2-client.another'
  lwa_client_secret: 'another-secret'
"""


# ------------------------------------------------------------------------------------------ formats


def test_plain_json_file(tmp_path: Path) -> None:
    path = write(tmp_path / "creds.json",
                 f'{{"client_id": "{CLIENT_ID}", "client_secret": "{SECRET}", "refresh_token": "{TOKEN}", '
                 f'"MarketplaceIds": ["DE", "FR"]}}')
    s = parse(f"CredentialsFile={path}")
    assert s.client_id == CLIENT_ID and s.client_secret == Secret(SECRET) and s.refresh_token == Secret(TOKEN)
    assert s.marketplace_ids == ("A1PA6795UKMFR9", "A13V1IB3VIYZZH") and s.region == "eu"
    assert s.credentials_file == str(path) and s.notices == ()
    assert dict(s.given) == {"CredentialsFile": str(path)}  # file values are not "written" keys
    assert_no_secret(repr(s) + str(s.redacted()) + repr(s.given))
    sourced = read_credentials_file(path)
    assert sourced.values["ClientSecret"] == SECRET and "ClientSecret" in repr(sourced)
    assert_no_secret(repr(sourced))


def test_zuar_hjson_block(tmp_path: Path) -> None:
    path = write(tmp_path / "zuar.hjson", f"""{{
  # Zuar Runner's Amazon SP-API connection
  region: us-east-1
  role_arn: arn:aws:iam::123456789012:role/sp
  aws_access_key_id: FAKE-ZUAR-KEY
  aws_secret_access_key: {AWS_SECRET}
  client_id: {CLIENT_ID}
  client_secret: {SECRET}
  refresh_token: {TOKEN}
}}
""")
    s = parse(f"CredentialsFile={path}")
    assert (s.region, s.client_id, s.role_arn, s.aws_access_key_id) == (
        "na", CLIENT_ID, "arn:aws:iam::123456789012:role/sp", "FAKE-ZUAR-KEY")
    assert s.aws_secret_access_key == Secret(AWS_SECRET) and s.refresh_token.reveal() == TOKEN


def test_yaml_accounts_default_and_account(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.yml", YAML_ACCOUNTS)
    s = parse(f"CredentialsFile={path}")
    assert s.client_id == CLIENT_ID and s.aws_access_key_id == "FAKE-FILE-KEY" and s.account is None
    other = parse(f"CredentialsFile={path};Account=another_account")
    assert other.client_id.endswith(".another") and other.aws_access_key_id is None
    assert other.client_secret.reveal() == "another-secret"


def test_format_from_content_without_extension(tmp_path: Path) -> None:
    as_json = write(tmp_path / "creds", f'{{"lwa_app_id": "{CLIENT_ID}", "lwa_client_secret": "{SECRET}", '
                                        f'"refresh_token": "{TOKEN}"}}')
    assert parse(f"CredentialsFile={as_json}").client_id == CLIENT_ID
    as_hjson = write(tmp_path / "creds2", f"{{\n  lwa_app_id: {CLIENT_ID}\n  lwa_client_secret: {SECRET}\n"
                                          f"  refresh_token: {TOKEN}\n}}\n")
    assert parse(f"CredentialsFile={as_hjson}").client_secret == Secret(SECRET)
    as_yaml = write(tmp_path / "creds3", YAML_ACCOUNTS)
    assert parse(f"CredentialsFile={as_yaml}").refresh_token == Secret(TOKEN)


def test_api2cart_fields(tmp_path: Path) -> None:
    path = write(tmp_path / "api2cart.json", f"""{{
        "amazon_seller_id": "A1B2C3D4E5", "amazon_sp_client_id": "{CLIENT_ID}",
        "amazon_sp_client_secret": "{SECRET}", "amazon_sp_refresh_token": "{TOKEN}",
        "amazon_sp_aws_user_key_id": "FAKE-2CART-KEY", "amazon_sp_aws_user_secret": "{AWS_SECRET}",
        "amazon_sp_aws_region": "eu-west-1", "amazon_sp_aws_role_arn": "arn:aws:iam::1:role/r"}}""")
    s = parse(f"CredentialsFile={path}")
    assert (s.seller_id, s.region, s.aws_access_key_id, s.role_arn) == (
        "A1B2C3D4E5", "eu", "FAKE-2CART-KEY", "arn:aws:iam::1:role/r")


# ------------------------------------------------------------------------------------------ errors


def test_account_errors_list_the_names(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.yml", YAML_ACCOUNTS)
    with pytest.raises(ConnectionStringError) as info:
        parse(f"CredentialsFile={path};Account=nobody")
    assert "'nobody'" in str(info.value) and "'default'" in str(info.value) and "'another_account'" in str(info.value)
    assert info.value.key == "Account"
    no_default = write(tmp_path / "two.yml", YAML_ACCOUNTS.replace("default:", "first:"))
    with pytest.raises(ConnectionStringError, match="Account=name.*'first', 'another_account'"):
        parse(f"CredentialsFile={no_default}")
    only = write(tmp_path / "one.yml", "version: 1\nshop:\n" + "".join(
        f"  {line}\n" for line in (f"lwa_app_id: {CLIENT_ID}", f"lwa_client_secret: {SECRET}",
                                   f"refresh_token: '{TOKEN}'")))
    assert parse(f"CredentialsFile={only}").client_id == CLIENT_ID  # the only account
    flat = write(tmp_path / "flat.json", f'{{"client_id": "{CLIENT_ID}"}}')
    with pytest.raises(ConnectionStringError, match="not named accounts"):
        parse(f"CredentialsFile={flat};Account=shop", require_credentials=False)


def test_unknown_field_names_field_and_file_not_value(tmp_path: Path) -> None:
    path = write(tmp_path / "creds.json", f'{{"client_id": "{CLIENT_ID}", "cliend_secret": "{SECRET}"}}')
    with pytest.raises(ConnectionStringError) as info:
        parse(f"CredentialsFile={path}")
    message = str(info.value)
    assert "'cliend_secret'" in message and str(path) in message
    assert_no_secret(message)


def test_syntax_errors_give_position_not_text(tmp_path: Path) -> None:
    bad_yaml = write(tmp_path / "c.yml", f"default:\n  lwa_client_secret: {SECRET}\n   bad: [\n")
    with pytest.raises(ConnectionStringError, match=r"not valid YAML at line \d+, column \d+") as info:
        parse(f"CredentialsFile={bad_yaml}")
    assert_no_secret(str(info.value))
    bad_json = write(tmp_path / "c.json", f'{{"client_secret": "{SECRET}" "x": 1}}')
    with pytest.raises(ConnectionStringError, match="not valid JSON: .* line 1, column") as info:
        parse(f"CredentialsFile={bad_json}")
    assert_no_secret(str(info.value))


def test_bad_values_from_a_file_name_their_origin_and_hide_secrets(tmp_path: Path) -> None:
    path = write(tmp_path / "creds.json", f'{{"client_secret": "{SECRET}\\u0001", "region": "mars"}}')
    with pytest.raises(ConnectionStringError) as info:
        parse(f"CredentialsFile={path}")
    message = str(info.value)
    assert "ClientSecret=(hidden)" in message and f"credentials file '{path}'" in message
    assert_no_secret(message)
    write(path, '{"region": "mars"}')
    with pytest.raises(ConnectionStringError, match="Region='mars'.*set by credentials file"):
        parse(f"CredentialsFile={path}", require_credentials=False)


def test_missing_file_and_missing_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConnectionStringError, match="no such file") as info:
        parse(f"CredentialsFile={tmp_path / 'absent.json'}")
    assert info.value.key == "CredentialsFile"
    with pytest.raises(ConnectionStringError, match="not a regular file"):
        parse(f"CredentialsFile={tmp_path}")
    path = write(tmp_path / "c.hjson", "{ client_id: x }")
    monkeypatch.setitem(sys.modules, "hjson", None)  # as if hjson were not installed
    with pytest.raises(ConnectionStringError, match=r"pip install 'sqlspapi\[credentials\]'"):
        parse(f"CredentialsFile={path}", require_credentials=False)


# ------------------------------------------------------------------------------------------ environment, profile


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LWA_APP_ID", CLIENT_ID)
    monkeypatch.setenv("LWA_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", TOKEN)
    monkeypatch.setenv("SP_API_ROLE_ARN", "arn:aws:iam::1:role/env")
    monkeypatch.setenv("SP_API_DEFAULT_MARKETPLACE", "UK")
    s = parse("")
    assert s.client_id == CLIENT_ID and s.refresh_token == Secret(TOKEN) and s.role_arn == "arn:aws:iam::1:role/env"
    assert s.region == "eu" and s.marketplace_ids == ("A1F83G8C2ARO7P",)
    monkeypatch.setenv("SP_API_REFRESH_TOKEN_shop2", "Atzr|shop2")  # python-amazon-sp-api's per-account suffix
    assert parse("Account=shop2").refresh_token == Secret("Atzr|shop2")
    monkeypatch.setenv("LWA_CLIENT_SECRET", SECRET + "\x01")
    with pytest.raises(ConnectionStringError, match="set by environment variable LWA_CLIENT_SECRET") as info:
        parse("")
    assert_no_secret(str(info.value))


def test_profile_in_xdg_config_dir(tmp_path: Path) -> None:
    assert profile_dir() == Path(os.environ["XDG_CONFIG_HOME"]) / "sqlspapi"  # the test's own (tests/conftest.py)
    with pytest.raises(ConnectionStringError, match="no credentials file") as info:
        parse("Profile=default")
    assert info.value.key == "Profile"
    write(profile_dir() / "credentials.yml", YAML_ACCOUNTS)
    s = parse("Profile=another_account;Region=eu")
    assert s.client_id.endswith(".another") and s.profile == "another_account" and s.region == "eu"
    with pytest.raises(ConnectionStringError, match="no account 'shop'"):
        parse("Profile=shop")
    write(profile_dir() / "credentials.json", "{}")
    with pytest.raises(ConnectionStringError, match="several credentials files"):
        parse("Profile=default")


def test_profile_default_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert profile_dir() == tmp_path / "home" / ".config" / "sqlspapi"


def test_precedence_string_then_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LWA_APP_ID", "from-env")
    monkeypatch.setenv("LWA_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", "Atzr|env")
    path = write(tmp_path / "c.json", f'{{"client_id": "from-file", "client_secret": "{SECRET}"}}')
    s = parse(f"CredentialsFile={path};ClientId=from-string")
    assert s.client_id == "from-string"                 # the string wins
    assert s.client_secret == Secret(SECRET)            # then the file
    assert s.refresh_token == Secret("Atzr|env")        # then the environment
    assert s.token_url == "https://api.amazon.com/auth/o2/token"  # then the defaults
    rotated = s.with_overrides(ClientId=None, Region="fe")   # sources are read again
    assert rotated.client_id == "from-file" and rotated.client_secret == Secret(SECRET) and rotated.region == "fe"


def test_conflicting_source_keys(tmp_path: Path) -> None:
    with pytest.raises(ConnectionStringError, match="give one"):
        parse(f"CredentialsFile={tmp_path / 'x.json'};Profile=p")
    path = write(tmp_path / "c.json", '{"CredentialsFile": "other.json"}')
    with pytest.raises(ConnectionStringError, match="cannot be set in a credentials file"):
        parse(f"CredentialsFile={path}")


# ------------------------------------------------------------------------------------------ permissions


@posix_only
def test_readable_by_others_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "c.json", f'{{"client_id": "{CLIENT_ID}"}}', mode=0o644)
    with caplog.at_level(logging.WARNING, logger="sqlspapi"):
        s = parse(f"CredentialsFile={path}", require_credentials=False)
    assert any(f"chmod 600 {path}" in notice and "0644" in notice for notice in s.notices)
    assert any(f"chmod 600 {path}" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    path.chmod(0o600)
    assert parse(f"CredentialsFile={path}", require_credentials=False).notices == ()


# ------------------------------------------------------------------------------------------ end to end


def test_query_with_no_secret_in_the_connection_string(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.yml", f"""\
version: '1.0'
default:
  lwa_app_id: {emulator.DEMO_CLIENT_ID}
  lwa_client_secret: {emulator.DEMO_CLIENT_SECRET}
  refresh_token: '{emulator.DEMO_REFRESH_TOKEN}'
""")
    with emulator.start(time_scale=1e6, orders=20) as emu:
        text = f"CredentialsFile={path};TokenUrl={emu.token_url};Endpoint={emu.url}"
        with sqlspapi.connect(text) as connection:
            rows = connection.cursor().execute("SELECT marketplace_id FROM marketplaces").fetchall()
    assert rows
    assert emulator.DEMO_CLIENT_SECRET not in text and emulator.DEMO_REFRESH_TOKEN not in text
