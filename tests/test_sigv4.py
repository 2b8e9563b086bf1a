"""Legacy AWS signing (issue 11 §5): the notice, SigV4 signing checked by the emulator, STS AssumeRole on moto."""

from __future__ import annotations

import sys

import pytest
import requests
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

import sqlspapi
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import ConnectionStringError, OperationalError, SPAPIError
from sqlspapi.http import sigv4
from sqlspapi.http.client import Client
from sqlspapi.settings.connstr import parse
from sqlspapi.settings.keys import AWS_SIGNING_NOTICE

emulator = pytest.importorskip("sqlspapi.emulator")
pytest.importorskip("botocore")
from sqlspapi.emulator.server import DEMO_AWS_ACCESS_KEY_ID, DEMO_AWS_SECRET_ACCESS_KEY  # noqa: E402

PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)
GET_ORDERS = OperationSpec("getOrders", "orders", "v0", "GET", "/orders/v0/orders", 0.0167, 20)
ORDERS_QUERY = {"MarketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"], "CreatedAfter": "2000-01-01T00:00:00Z",
                "MaxResultsPerPage": 3}
ROLE = "arn:aws:iam::123456789012:role/sp-api"
CREDS = "ClientId=a;ClientSecret=b;RefreshToken=c"


@pytest.fixture
def emu():
    with emulator.start(orders=50, time_scale=1000) as e:
        yield e


def signed(emu, secret: str = DEMO_AWS_SECRET_ACCESS_KEY, **keys):
    return settings_for(emu, SignRequests="true", AwsAccessKeyId=DEMO_AWS_ACCESS_KEY_ID, AwsSecretAccessKey=secret,
                        **keys)


# ------------------------------------------------------------------------------------------------- notice


def test_aws_keys_without_sign_requests_give_one_notice_and_calls_stay_unsigned(emu):
    zuar = parse(f"{CREDS};aws_access_key_id=FAKE-KEY-X;aws_secret_access_key=s3cr3t;role_arn={ROLE}")
    assert zuar.notices == (AWS_SIGNING_NOTICE,) and not zuar.sign_requests
    assert "\n" not in AWS_SIGNING_NOTICE and "SignRequests=true" in AWS_SIGNING_NOTICE
    assert parse(f"{CREDS};RoleArn={ROLE}").notices == (AWS_SIGNING_NOTICE,)
    assert parse(CREDS).notices == ()
    settings = settings_for(emu, AwsAccessKeyId="FAKE-KEY-X", AwsSecretAccessKey="not-the-demo-secret")
    assert Client(settings).signer is None
    assert Client(settings).call(PARTICIPATIONS).status == 200  # not signed, so the unknown key is never checked


def test_sign_requests_needs_the_keys():
    with pytest.raises(ConnectionStringError, match="AwsAccessKeyId and AwsSecretAccessKey") as caught:
        parse(f"{CREDS};SignRequests=true;RoleArn={ROLE}")
    assert caught.value.key == "SignRequests"
    assert parse(f"{CREDS};SignRequests=true;AwsAccessKeyId=FAKE-KEY-X;AwsSecretAccessKey=s").notices == ()


# ------------------------------------------------------------------------------------ signing, emulator check


def test_signed_requests_pass_the_emulator_check(emu):
    client = Client(signed(emu))
    assert client.call(PARTICIPATIONS).status == 200
    orders = client.call(GET_ORDERS, query=ORDERS_QUERY)  # a query string (sorted, comma in a value) is signed too
    assert len(orders.json["payload"]["Orders"]) == 3
    assert DEMO_AWS_SECRET_ACCESS_KEY not in repr(client.signer) + repr(client.settings)


def test_sql_over_signed_requests(emu):
    text = emu.connection_string(SignRequests=True, AwsAccessKeyId=DEMO_AWS_ACCESS_KEY_ID,
                                 AwsSecretAccessKey=DEMO_AWS_SECRET_ACCESS_KEY)
    with sqlspapi.connect(text) as connection:
        sql = "SELECT count(*) FROM orders WHERE createdTime >= '2020-01-01'"
        assert connection.cursor().execute(sql).fetchone()[0] > 0


def test_wrong_secret_is_refused_as_amazon_did_and_never_shown(emu):
    wrong = "fake-wrong-secret-access-key-not-real"
    with pytest.raises(SPAPIError) as caught:
        Client(signed(emu, secret=wrong, RetryMode="None")).call(PARTICIPATIONS)
    assert caught.value.status == 403 and caught.value.code == "InvalidSignature"
    assert wrong not in str(caught.value) + repr(caught.value)


def test_unknown_key_is_refused(emu):
    settings = settings_for(emu, SignRequests="true", AwsAccessKeyId="FAKE-UNKNOWN-KEY-ID",
                            AwsSecretAccessKey="whatever", RetryMode="None")
    with pytest.raises(SPAPIError) as caught:
        Client(settings).call(PARTICIPATIONS)
    assert caught.value.status == 403 and "security token" in str(caught.value)


@pytest.mark.parametrize(("scope", "signed_headers", "says"), [
    ("us-east-1/s3", "host;x-amz-date", "execute-api"),
    ("mars-north-1/execute-api", "host;x-amz-date", "valid region"),
    ("us-east-1/execute-api", "host", "X-Amz-Date"),
])
def test_malformed_authorization_headers_are_refused(emu, scope, signed_headers, says):
    header = (f"AWS4-HMAC-SHA256 Credential={DEMO_AWS_ACCESS_KEY_ID}/20261126/{scope}/aws4_request, "
              f"SignedHeaders={signed_headers}, Signature={'0' * 64}")
    answer = requests.get(emu.url + PARTICIPATIONS.path, timeout=30,
                          headers={"Authorization": header, "x-amz-date": "20261126T100000Z"})
    assert answer.status_code == 403
    assert says in answer.json()["errors"][0]["message"]


def test_without_boto3_the_error_says_what_to_install(emu, monkeypatch):
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(OperationalError, match=r"pip install 'sqlspapi\[aws\]'"):
        Client(signed(emu))


def test_credentials_are_fresh_until_five_minutes_before_expiry():
    from sqlspapi.settings.values import Secret

    creds = sigv4.AwsCredentials("ASIAX", Secret("secret"), Secret("token"), expires=10_000.0)
    assert creds.fresh(now=9_000.0) and not creds.fresh(now=9_800.0)
    assert sigv4.AwsCredentials("FAKE-KEY-X", Secret("s")).fresh()
    assert "secret" not in repr(creds) and "token" not in repr(creds)


# --------------------------------------------------------------------------------------------- STS on moto


@pytest.fixture
def sts(monkeypatch, tmp_path):
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    try:
        yield server
    finally:
        server.stop()


def test_role_credentials_from_sts_sign_requests_and_are_cached(emu, sts):
    user_secret = "moto-user-secret-0001"
    settings = settings_for(emu, SignRequests="true", AwsAccessKeyId="FAKE-MOTO-USER-KEY-1",
                            AwsSecretAccessKey=user_secret, RoleArn=ROLE, RetryMode="None")
    client = Client(settings)
    # The role's credentials are what the requests are signed with: the emulator does not know them yet.
    with pytest.raises(SPAPIError) as caught:
        client.call(PARTICIPATIONS)
    assert caught.value.status == 403
    role = sigv4.credentials(settings)
    assert role.session_token and role.expires is not None and role.access_key_id != "FAKE-MOTO-USER-KEY-1"
    assert user_secret not in repr(role) + repr(settings) + repr(client.signer)
    assert role.secret_access_key.reveal() not in repr(role)
    emu.accept_aws_key(role.access_key_id, role.secret_access_key.reveal(), role.session_token.reveal())
    assert client.call(PARTICIPATIONS).status == 200
    # Cached until expiry: STS is not asked again (it is gone now), another client of the keys reuses them.
    sts.stop()
    assert sigv4.credentials(settings) is role
    assert Client(settings).call(GET_ORDERS, query=ORDERS_QUERY).status == 200


def test_sts_refusal_is_an_auth_error_without_secrets(emu, sts):
    secret = "moto-user-secret-0002"
    settings = settings_for(emu, SignRequests="true", AwsAccessKeyId="FAKE-MOTO-USER-KEY-2",
                            AwsSecretAccessKey=secret, RoleArn="not-an-arn", RetryMode="None")
    with pytest.raises(OperationalError) as caught:
        Client(settings).call(PARTICIPATIONS)
    assert "AssumeRole" in str(caught.value) and secret not in str(caught.value)
