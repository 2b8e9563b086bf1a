"""Client-secret rotation (issue 11 §3, §4): the emulator's rotateApplicationClientSecret (grantless, rotation scope)
delivering Amazon's APPLICATION_OAUTH_CLIENT_NEW_SECRET message to an SQS queue on moto, ``sqlspapi rotate-secret``
storing the new secret in a credentials file or an AWS Secrets Manager secret, ``RotateSecretDaysBefore`` rotating
once for racing connections, and ``sqlspapi authorize`` storing into a secret.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from emu_helpers import fresh_process_state, lwa_token, reset_process_state  # noqa: F401 (autouse fixture)
from moto_helpers import moto_server, moto_session_server  # noqa: F401 (fixtures)

import sqlspapi
from sqlspapi import emulator
from sqlspapi.emulator.appmgmt import NOT_ENROLLED, NOTIFICATION_TYPE
from sqlspapi.engine import open_database
from sqlspapi.http.client import Client
from sqlspapi.http.rotation import ROTATION_SCOPE, RotationError, check_rotation, rotate, secret_home
from sqlspapi.interfaces.authorize import authorize
from sqlspapi.interfaces.cli import main
from sqlspapi.settings.connstr import parse

yaml = pytest.importorskip("yaml")
boto3 = pytest.importorskip("boto3")

ROTATE_PATH = "/applications/2023-11-30/clientSecret"
OTHER = {"lwa_app_id": "amzn1.application-oa2-client.other", "lwa_client_secret": "other-secret-0001",
         "refresh_token": "Atzr|other-0001"}
COUNT = "SELECT count(*) FROM orders WHERE createdTime >= '2020-01-01'"


@pytest.fixture
def emu():
    """An emulator of its own (a rotation changes its app's secret), whose clock lets the 1-per-minute rotation
    plan refill at once."""
    with emulator.start(orders=40, time_scale=1_000_000) as server:
        yield server


@pytest.fixture
def queue(moto_server):  # noqa: F811 - the fixture
    """An SQS queue on moto registered as the emulator app's "Application Client New Secret" destination later."""
    return boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="sp-api-new-secret")["QueueUrl"]


def messages(queue_url: str) -> list[str]:
    """The bodies of the messages visible on the queue now (made visible again afterwards)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for message in got:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [m["Body"] for m in got]


def app_yaml(path, **shop_extra) -> None:
    """A credentials file of two named accounts; ``shop`` is the emulator's demo app and seller."""
    shop = {"lwa_app_id": emulator.DEMO_CLIENT_ID, "lwa_client_secret": emulator.DEMO_CLIENT_SECRET,
            "refresh_token": emulator.DEMO_REFRESH_TOKEN, "marketplace_ids": "US", **shop_extra}
    path.write_text(yaml.safe_dump({"version": "1.0", "default": OTHER, "shop": shop}, sort_keys=False))
    path.chmod(0o600)


def file_connection(emu, path, queue_url: str, **extra: str) -> str:
    keys = {"CredentialsFile": str(path), "Account": "shop", "TokenUrl": emu.token_url, "Endpoint": emu.url,
            "RotationQueueUrl": queue_url, "RetryWaitTimeMs": "10", **extra}
    return ";".join(f"{k}={v}" for k, v in keys.items() if v != "")


def rotate_calls(emu) -> int:
    return len(emu.calls.of("rotateApplicationClientSecret"))


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """``sqlspapi rotate-secret ARGV`` in this process: (exit status, stdout + stderr)."""
    status = main(["rotate-secret", *argv])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# ------------------------------------------------------------------------------------- §3: the operation


def test_rotation_is_grantless_with_its_own_scope(emu):
    seller = lwa_token(emu)
    notifications = lwa_token(emu, grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    rotation = lwa_token(emu, grant_type="client_credentials", scope=ROTATION_SCOPE)

    def post(token: str) -> requests.Response:
        return requests.post(emu.url + ROTATE_PATH, headers={"x-amz-access-token": token}, timeout=10)

    refused = post(seller)
    assert refused.status_code == 403 and "client_credentials grant for scope " + ROTATION_SCOPE in refused.text
    wrong = post(notifications)
    assert wrong.status_code == 403 and "issued for scope sellingpartnerapi::notifications" in wrong.text
    not_enrolled = post(rotation)  # the right token, but the app registered no queue for the notification
    assert not_enrolled.status_code == 400
    assert not_enrolled.json() == {"errors": [{"code": "InvalidInput", "message": NOT_ENROLLED}]}
    assert not_enrolled.headers["x-amzn-RateLimit-Limit"]
    assert emu.auth.client_secret == emulator.DEMO_CLIENT_SECRET  # nothing rotated


def test_emulator_delivers_the_new_secret_and_keeps_the_old_one_for_a_while(emu, queue):
    emu.auth.enroll_rotation(queue)
    token = lwa_token(emu, grant_type="client_credentials", scope=ROTATION_SCOPE)
    answer = requests.post(emu.url + ROTATE_PATH, headers={"x-amz-access-token": token}, timeout=10)
    assert answer.status_code == 204 and answer.content == b""
    [body] = messages(queue)
    message = json.loads(body)
    assert message["notificationType"] == NOTIFICATION_TYPE
    assert message["notificationMetadata"]["applicationId"] == emu.auth.application_id
    item = message["payload"]["applicationOAuthClientNewSecret"]
    assert item["clientId"] == emulator.DEMO_CLIENT_ID and item["newClientSecret"] == emu.auth.client_secret
    assert item["newClientSecretExpiryTime"] > item["oldClientSecretExpiryTime"]

    def grant(secret: str) -> int:
        return requests.post(emu.token_url, timeout=10, data={
            "grant_type": "client_credentials", "scope": ROTATION_SCOPE, "client_id": emulator.DEMO_CLIENT_ID,
            "client_secret": secret}).status_code

    assert grant(item["newClientSecret"]) == 200 and grant(emulator.DEMO_CLIENT_SECRET) == 200
    emu.auth.expire_retired_secrets()  # seven days later
    assert grant(emulator.DEMO_CLIENT_SECRET) == 401 and grant(item["newClientSecret"]) == 200


# ------------------------------------------------------------------------------------ §4: rotate-secret


def test_rotate_secret_into_a_yaml_credentials_file(emu, queue, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, boto3's wire logs included
    emu.auth.enroll_rotation(queue)
    boto3.client("sqs", region_name="us-east-1").send_message(QueueUrl=queue, MessageBody=json.dumps(
        {"notificationType": NOTIFICATION_TYPE, "payload": {"applicationOAuthClientNewSecret": {
            "clientId": "another-app", "newClientSecret": "not-ours"}}}))
    path = tmp_path / "credentials.yml"
    app_yaml(path, seller_id="A1SELLER")
    status, printed = run_cli(capsys, file_connection(emu, path, queue), "--wait", "10")
    assert status == 0, printed
    new_secret = emu.auth.client_secret
    assert new_secret != emulator.DEMO_CLIENT_SECRET
    document = yaml.safe_load(path.read_text())
    assert document["default"] == OTHER and document["version"] == "1.0"
    shop = document["shop"]
    assert shop["lwa_client_secret"] == new_secret  # the field name the account already used
    assert shop["refresh_token"] == emulator.DEMO_REFRESH_TOKEN and shop["seller_id"] == "A1SELLER"
    assert datetime.fromisoformat(shop["client_secret_expiry"]) > datetime.now(UTC) + timedelta(days=170)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "Stored the new ClientSecret" in printed and str(path) in printed
    shown = printed + caplog.text
    assert new_secret not in shown and emulator.DEMO_CLIENT_SECRET not in shown
    # the matched message is deleted; another app's message stays for its reader
    assert [json.loads(b)["payload"]["applicationOAuthClientNewSecret"]["clientId"] for b in messages(queue)] == [
        "another-app"]
    # the new secret works for a query once the old one has stopped working
    emu.auth.expire_retired_secrets()
    reset_process_state()
    db = open_database(file_connection(emu, path, queue))
    try:
        assert db.settings.client_secret.reveal() == new_secret
        assert db.connection.execute(COUNT).fetchone()[0] > 0
    finally:
        db.close()


def test_rotate_secret_into_a_secrets_manager_secret_of_named_accounts(emu, queue, capsys, caplog):
    emu.auth.enroll_rotation(queue)
    shop = {"client_id": emulator.DEMO_CLIENT_ID, "client_secret": emulator.DEMO_CLIENT_SECRET,
            "refresh_token": emulator.DEMO_REFRESH_TOKEN}
    manager = boto3.client("secretsmanager", region_name="us-east-1")
    arn = manager.create_secret(Name="sp-api/apps", SecretString=json.dumps(
        {"version": "1.0", "default": OTHER, "shop": shop}))["ARN"]
    connection = (f"CredentialsSecret={arn};Account=shop;TokenUrl={emu.token_url};Endpoint={emu.url};"
                  f"RotationQueueUrl={queue};MarketplaceIds=US")
    assert parse(connection).client_secret.reveal() == emulator.DEMO_CLIENT_SECRET  # read once, cached
    caplog.set_level(logging.DEBUG)
    status, printed = run_cli(capsys, connection, "--wait", "10")
    assert status == 0, printed
    new_secret = emu.auth.client_secret
    assert new_secret not in caplog.text  # read, received and written with boto3, never logged
    stored = json.loads(manager.get_secret_value(SecretId=arn)["SecretString"])
    assert stored["default"] == OTHER and stored["version"] == "1.0"
    assert stored["shop"]["client_secret"] == new_secret and stored["shop"]["client_secret_expiry"].endswith("Z")
    assert stored["shop"]["refresh_token"] == emulator.DEMO_REFRESH_TOKEN
    assert new_secret not in printed and "AWS Secrets Manager secret" in printed
    emu.auth.expire_retired_secrets()
    reset_process_state()
    db = open_database(connection)  # the cache was cleared: the new secret is read
    try:
        assert db.connection.execute(COUNT).fetchone()[0] > 0
    finally:
        db.close()


def test_a_connection_without_account_gets_the_secret_of_the_account_it_read(emu, queue, tmp_path):
    """A file of one named account and no Account=: the connection reads that account, so the new secret replaces
    its secret (no ``default`` account appears)."""
    emu.auth.enroll_rotation(queue)
    path = tmp_path / "credentials.json"
    shop = {"client_id": emulator.DEMO_CLIENT_ID, "client_secret": emulator.DEMO_CLIENT_SECRET,
            "refresh_token": emulator.DEMO_REFRESH_TOKEN}
    path.write_text(json.dumps({"shop": shop}))
    path.chmod(0o600)
    settings = parse(file_connection(emu, path, queue, Account=""))
    home = secret_home(settings)
    assert home.account == "shop" and "shop" in home.describe()
    said: list[str] = []
    done = rotate(settings, home, wait=10, say=said.append)
    assert list(json.loads(path.read_text())) == ["shop"]
    assert json.loads(path.read_text())["shop"]["client_secret"] == emu.auth.client_secret
    assert done.settings.client_secret.reveal() == emu.auth.client_secret and done.expiry.endswith("Z")
    assert emu.auth.client_secret not in repr(done) + "".join(said)


def test_refuses_before_rotating_when_the_secret_is_in_the_connection_string_or_environment(
        emu, queue, capsys, monkeypatch):
    emu.auth.enroll_rotation(queue)
    status, printed = run_cli(capsys, emu.connection_string(RotationQueueUrl=queue))
    assert status == 1 and "ClientSecret is written in the connection string" in printed
    assert "nothing was rotated" in printed and "CredentialsFile" in printed
    monkeypatch.setenv("LWA_APP_ID", emulator.DEMO_CLIENT_ID)
    monkeypatch.setenv("LWA_CLIENT_SECRET", emulator.DEMO_CLIENT_SECRET)
    status, printed = run_cli(capsys, f"TokenUrl={emu.token_url};Endpoint={emu.url};RotationQueueUrl={queue}")
    assert status == 1 and "environment variable (LWA_CLIENT_SECRET)" in printed
    assert emulator.DEMO_CLIENT_SECRET not in printed
    assert rotate_calls(emu) == 0 and emu.auth.client_secret == emulator.DEMO_CLIENT_SECRET


def test_an_app_without_a_registered_queue_is_told_how_to_register_one(emu, queue, tmp_path, capsys):
    path = tmp_path / "credentials.yml"
    app_yaml(path)
    before = path.read_text()
    status, printed = run_cli(capsys, file_connection(emu, path, queue), "--wait", "1")
    assert status == 1
    assert "not enrolled" in printed and "\"Application Client New Secret\" notifications in Developer Central" \
        in printed
    assert path.read_text() == before


def test_no_message_in_time_then_receive_only_stores_it(emu, queue, tmp_path, capsys):
    emu.auth.enroll_rotation(queue)
    elsewhere = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="not-registered")["QueueUrl"]
    path = tmp_path / "credentials.yml"
    app_yaml(path)
    before = path.read_text()
    # RotationQueueUrl names a queue Amazon does not send to: the rotation happens, the message does not come
    status, printed = run_cli(capsys, file_connection(emu, path, elsewhere), "--wait", "1")
    assert status == 1 and rotate_calls(emu) == 1
    assert "Amazon rotated the client secret, but no new-secret message" in printed
    assert "old secret keeps working until about" in printed and "--receive-only" in printed
    assert path.read_text() == before
    # the right queue, receiving only: no second rotation
    status, printed = run_cli(capsys, file_connection(emu, path, queue), "--receive-only", "--wait", "10")
    assert status == 0, printed
    assert rotate_calls(emu) == 1
    assert yaml.safe_load(path.read_text())["shop"]["lwa_client_secret"] == emu.auth.client_secret
    assert messages(queue) == []


# ------------------------------------------------------------------------------- RotateSecretDaysBefore


def test_rotate_secret_days_before_rotates_once_for_racing_connections(emu, queue, tmp_path):
    emu.auth.enroll_rotation(queue)
    path = tmp_path / "credentials.yml"
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    app_yaml(path, client_secret_expiry=soon)
    settings = parse(file_connection(emu, path, queue, RotateSecretDaysBefore="10"))
    start = threading.Barrier(2)
    clients: list[Client] = []
    failures: list[BaseException] = []

    def connect() -> None:
        start.wait()
        try:
            clients.append(check_rotation(settings))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=connect) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert rotate_calls(emu) == 1
    new_secret = emu.auth.client_secret
    assert all(rotated.client_secret.reveal() == new_secret for rotated, _ in clients)
    notices = sorted(n for _, said in clients for n in said)
    assert len(notices) == 2 and notices[0].startswith("Rotated the LWA client secret (RotateSecretDaysBefore=10")
    assert "rotated by another process" in notices[1]
    assert all(new_secret not in n for n in notices)
    # the stored expiry is far away now: a new connection does nothing
    assert check_rotation(parse(file_connection(emu, path, queue, RotateSecretDaysBefore="10")))[1] == ()
    emu.auth.expire_retired_secrets()
    db = open_database(settings=clients[0][0])
    try:
        assert db.connection.execute(COUNT).fetchone()[0] > 0
    finally:
        db.close()


def test_two_processes_due_together_rotate_once(emu, queue, tmp_path):
    emu.auth.enroll_rotation(queue)
    path = tmp_path / "credentials.yml"
    soon = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    app_yaml(path, client_secret_expiry=soon)
    program = ("import sys; from sqlspapi.http.rotation import check_rotation; "
               "from sqlspapi.settings.connstr import parse; print(*check_rotation(parse(sys.argv[1]))[1])")
    connection = file_connection(emu, path, queue, RotateSecretDaysBefore="5")
    runs = [subprocess.Popen([sys.executable, "-c", program, connection], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    said = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], said
    assert rotate_calls(emu) == 1
    notices = sorted(out for out, _ in said)
    assert notices[0].startswith("Rotated the LWA client secret") and "another process" in notices[1]
    assert yaml.safe_load(path.read_text())["shop"]["lwa_client_secret"] == emu.auth.client_secret
    assert emu.auth.client_secret not in "".join(out + err for out, err in said)


def test_rotate_secret_days_before_without_an_expiry_or_a_place_to_store(emu, queue, tmp_path):
    settings = parse(emu.connection_string(RotateSecretDaysBefore=30, RotationQueueUrl=queue))
    [notice] = check_rotation(settings)[1]
    assert "ClientSecretExpiry is not" in notice and "set ClientSecretExpiry" in notice
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # the expiry in the connection string: a rotation could not update it
    [notice] = check_rotation(parse(emu.connection_string(RotateSecretDaysBefore=30, RotationQueueUrl=queue,
                                                          ClientSecretExpiry=soon)))[1]
    assert "ClientSecretExpiry is written in the connection string" in notice and "nothing was rotated" in notice
    # the expiry in a file, the secret in the connection string: due, but there is nowhere to store a new secret
    path = tmp_path / "credentials.yml"
    path.write_text(yaml.safe_dump({"client_secret_expiry": soon}))
    path.chmod(0o600)
    with pytest.raises(RotationError) as caught:
        open_database(emu.connection_string(CredentialsFile=path, RotateSecretDaysBefore=30, RotationQueueUrl=queue))
    message = str(caught.value)
    assert "cannot be rotated automatically" in message and "rotate it by hand" in message
    assert emulator.DEMO_CLIENT_SECRET not in message and rotate_calls(emu) == 0
    # far from expiry: nothing happens, nothing is said
    later = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert check_rotation(parse(emu.connection_string(RotateSecretDaysBefore=30, ClientSecretExpiry=later)))[1] == ()


# ------------------------------------------------------------------------------- authorize into a secret


def test_authorize_stores_the_refresh_token_into_the_connections_secret(emu, moto_server):  # noqa: F811
    manager = boto3.client("secretsmanager", region_name="us-east-1")
    app = {"lwa_app_id": emulator.DEMO_CLIENT_ID, "lwa_client_secret": emulator.DEMO_CLIENT_SECRET}
    arn = manager.create_secret(Name="sp-api/authorized", SecretString=json.dumps({"default": OTHER, "shop": app}))[
        "ARN"]
    settings = parse(f"CredentialsSecret={arn};Account=shop;TokenUrl={emu.token_url};Endpoint={emu.url}",
                     require_credentials=False)
    result = authorize(settings, "amzn1.sp.solution.test", open_url=lambda url: requests.get(url, timeout=30),
                       timeout=60, secret=arn, account="shop")
    assert result.stored_in == arn
    stored = json.loads(manager.get_secret_value(SecretId=arn)["SecretString"])
    assert stored["default"] == OTHER and stored["shop"]["lwa_client_secret"] == emulator.DEMO_CLIENT_SECRET
    assert stored["shop"]["refresh_token"] == result.refresh_token.reveal()
    assert stored["shop"]["seller_id"] == emu.seller_id
    connection = parse(f"CredentialsSecret={arn};Account=shop;TokenUrl={emu.token_url};Endpoint={emu.url};"
                       "MarketplaceIds=US")
    db = open_database(settings=connection)
    try:
        assert db.connection.execute(COUNT).fetchone()[0] > 0
    finally:
        db.close()


def test_the_notice_of_an_automatic_rotation_reaches_a_dbapi_user(emu, queue, tmp_path):
    """The DB-API user is told with the first statement (a UserWarning and cursor.messages); the CLI prints it."""
    emu.auth.enroll_rotation(queue)
    path = tmp_path / "credentials.yml"
    soon = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    app_yaml(path, client_secret_expiry=soon)
    connection = sqlspapi.connect(file_connection(emu, path, queue, RotateSecretDaysBefore="5"))
    cursor = connection.cursor()
    with pytest.warns(UserWarning, match="Rotated the LWA client secret"):
        cursor.execute("SELECT count(*) FROM marketplaces")
    assert cursor.fetchone()[0] > 0
    cursor.execute("SELECT count(*) FROM marketplaces")
    assert not [m for m in cursor.messages if "Rotated" in str(m)], "told once"
    connection.close()
