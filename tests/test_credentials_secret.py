"""CredentialsSecret (issue 11 §1): credentials from an AWS Secrets Manager secret, on moto started on loopback."""

from __future__ import annotations

import json
import sys

import pytest
from emu_helpers import fresh_process_state  # noqa: F401 (fresh_process_state is autouse)

import sqlspapi
from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import parse
from sqlspapi.settings.secret_source import clear_secret_cache, read_secret, secret_aws_region

emulator = pytest.importorskip("sqlspapi.emulator")
boto3 = pytest.importorskip("boto3")

APP = {"lwa_app_id": "amzn1.application-oa2-client.secret0001", "lwa_client_secret": "cs-value-0001",
       "refresh_token": "Atzr|rt-value-0001"}
SHOP = {"client_id": "amzn1.application-oa2-client.shop", "client_secret": "cs-shop-0002",
        "refresh_token": "Atzr|rt-shop-0002", "region": "eu"}


@pytest.fixture(autouse=True)
def no_cached_secrets():
    clear_secret_cache()
    yield
    clear_secret_cache()


@pytest.fixture
def moto(monkeypatch, tmp_path):
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKE-MOTO-TEST-KEY-1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test-secret")
    for variable in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    try:
        yield server
    finally:
        server.stop()


def put_secret(name: str, text: str, region: str = "us-east-1") -> str:
    """Store ``text`` as the SecretString of a new secret; its ARN."""
    return boto3.client("secretsmanager", region_name=region).create_secret(Name=name, SecretString=text)["ARN"]


def test_flat_secret_supplies_the_credentials(moto):
    arn = put_secret("sp-api/flat", json.dumps({**APP, "MarketplaceIds": ["US", "CA"]}))
    settings = parse(f"CredentialsSecret={arn}")
    assert settings.client_id == APP["lwa_app_id"]
    assert settings.client_secret.reveal() == APP["lwa_client_secret"]
    assert settings.refresh_token.reveal() == APP["refresh_token"]
    assert settings.marketplace_ids == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert settings.credentials_secret == arn
    shown = repr(settings) + str(settings.redacted())
    assert APP["lwa_client_secret"] not in shown and APP["refresh_token"] not in shown


def test_named_accounts_are_picked_by_account_and_the_string_wins(moto):
    put_secret("sp-api/accounts", json.dumps({"version": "1.0", "default": APP, "shop": SHOP}), region="eu-west-1")
    shop = parse("CredentialsSecret=sp-api/accounts;Region=eu;Account=shop;RefreshToken=Atzr|from-string")
    assert shop.client_id == SHOP["client_id"] and shop.region == "eu"
    assert shop.refresh_token.reveal() == "Atzr|from-string"
    assert parse("CredentialsSecret=sp-api/accounts;Region=eu-west-1").client_id == APP["lwa_app_id"]
    with pytest.raises(ConnectionStringError, match="no account 'nope'.*'default', 'shop'") as caught:
        parse("CredentialsSecret=sp-api/accounts;Region=eu;Account=nope")
    assert caught.value.key == "Account"


def test_a_name_is_read_in_the_selling_regions_aws_region():
    assert secret_aws_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf", "fe") == "eu-west-1"
    assert secret_aws_region("sp-api/x", "fe") == "us-west-2"
    assert secret_aws_region("sp-api/x") == "us-east-1"


def test_not_found_names_the_secret_and_what_to_do(moto):
    put_secret("sp-api/elsewhere", json.dumps(APP), region="eu-west-1")
    with pytest.raises(ConnectionStringError, match="'sp-api/elsewhere': not found: check its name") as caught:
        parse("CredentialsSecret=sp-api/elsewhere")  # Region na: looked up in us-east-1
    assert caught.value.key == "CredentialsSecret"


def test_access_denied_with_the_aws_keys_of_the_environment(moto, monkeypatch):
    arn = put_secret("sp-api/guarded", json.dumps(APP))
    key = boto3.client("iam", region_name="us-east-1")
    key.create_user(UserName="no-rights")
    access = key.create_access_key(UserName="no-rights")["AccessKey"]
    monkeypatch.setattr("moto.settings.INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks IAM from now on
    monkeypatch.setenv("SP_API_ACCESS_KEY", access["AccessKeyId"])  # python-amazon-sp-api's names, used for AWS
    monkeypatch.setenv("SP_API_SECRET_KEY", access["SecretAccessKey"])
    with pytest.raises(ConnectionStringError, match="access denied: allow secretsmanager:GetSecretValue") as caught:
        parse(f"CredentialsSecret={arn}")
    assert access["SecretAccessKey"] not in str(caught.value)
    with pytest.raises(ConnectionStringError, match="AWS access key is not valid|access denied"):
        parse(f"CredentialsSecret={arn};AwsAccessKeyId=FAKE-UNKNOWN-KEY-ID;AwsSecretAccessKey=nope")


def test_not_json_and_unknown_fields_are_errors_without_values(moto):
    put_secret("sp-api/text", "Atzr|not-json-value")
    with pytest.raises(ConnectionStringError, match="'sp-api/text': its SecretString is not JSON") as caught:
        parse("CredentialsSecret=sp-api/text")
    assert "not-json-value" not in str(caught.value)
    put_secret("sp-api/odd", json.dumps({**APP, "colour": "odd-value-0003"}))
    with pytest.raises(ConnectionStringError, match="field 'colour'") as caught:
        parse("CredentialsSecret=sp-api/odd")
    assert "odd-value-0003" not in str(caught.value)


def test_read_once_then_cached(moto):
    arn = put_secret("sp-api/cached", json.dumps(APP))
    first = read_secret(arn)
    moto.stop()  # AWS is gone: a second read would fail
    assert parse(f"CredentialsSecret={arn}").client_id == APP["lwa_app_id"]
    assert read_secret(arn).values == first.values
    assert APP["refresh_token"] not in repr(first)
    clear_secret_cache()
    with pytest.raises(ConnectionStringError, match="cannot be read in AWS region us-east-1"):
        read_secret(arn)


def test_one_source_only_and_a_secret_cannot_name_another(moto, tmp_path):
    with pytest.raises(ConnectionStringError, match="CredentialsSecret and CredentialsFile") as caught:
        parse(f"CredentialsSecret=sp-api/x;CredentialsFile={tmp_path / 'c.json'}")
    assert caught.value.key == "CredentialsSecret"
    put_secret("sp-api/nested", json.dumps({**APP, "CredentialsFile": "/etc/other"}))
    with pytest.raises(ConnectionStringError, match="cannot be set in a credentials file"):
        parse("CredentialsSecret=sp-api/nested")


def test_without_boto3_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(ConnectionStringError, match=r"needs boto3: pip install 'sqlspapi\[aws\]'"):
        parse("CredentialsSecret=sp-api/x")


def test_query_on_the_emulator_with_credentials_from_a_secret(moto):
    arn = put_secret("sp-api/emulator", json.dumps({
        "client_id": emulator.DEMO_CLIENT_ID, "client_secret": emulator.DEMO_CLIENT_SECRET,
        "refresh_token": emulator.DEMO_REFRESH_TOKEN}))
    with emulator.start(orders=20, time_scale=1000) as emu:
        text = f"CredentialsSecret={arn};TokenUrl={emu.token_url};Endpoint={emu.url}"
        with sqlspapi.connect(text) as connection:
            sql = "SELECT count(*) FROM orders WHERE createdTime >= '2020-01-01'"
            assert connection.cursor().execute(sql).fetchone()[0] > 0
