"""Rotating the app's LWA client secret: ``sqlspapi rotate-secret`` and ``RotateSecretDaysBefore=N``.

:func:`rotate` does the whole rotation: it asks Amazon for a new secret (``rotateApplicationClientSecret``, a
grantless operation called with the app's client-credentials token for :data:`ROTATION_SCOPE`), long-polls the SQS
queue the app registered for "Application Client New Secret" notifications (``RotationQueueUrl``; boto3) for the
``APPLICATION_OAUTH_CLIENT_NEW_SECRET`` message of this ``ClientId`` (others are left on the queue), verifies the new
secret with an LWA client-credentials grant, replaces ``ClientSecret`` and writes ``ClientSecretExpiry`` in the place
the secret came from (:class:`SecretHome`: a credentials file or profile, or an AWS Secrets Manager secret), and only
then deletes the message. The old secret keeps working for seven days after the rotation.

:func:`secret_home` finds that place and refuses (before anything is rotated) when ``ClientSecret`` came from the
connection string or an environment variable: there is nothing sqlspapi could update.

:func:`check_rotation` is the automatic mode: when ``RotateSecretDaysBefore`` is set and ``ClientSecretExpiry`` is
that close, it rotates once — across processes too: an exclusive ``flock`` on a lock file beside the credentials
file (for a secret: in the user cache directory), and the source is read again under the lock, so a process that
waited finds the secret another one stored — and returns the settings with the new secret and a notice.

Secrets never appear in messages, logs or ``repr``; the new one is a :class:`~sqlspapi.settings.values.Secret`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlspapi.errors import OperationalError, RotationError, SPAPIError
from sqlspapi.settings.secret_home import SecretHome, aws_keys_of, secret_home
from sqlspapi.settings.values import Secret

log = logging.getLogger("sqlspapi.http.rotation")

__all__ = ["DEFAULT_WAIT", "NOTIFICATION_TYPE", "OLD_SECRET_DAYS", "ROTATION_SCOPE", "NewSecret", "Rotated",
           "RotationError", "SecretHome", "check_rotation", "receive_new_secret", "request_rotation", "rotate",
           "secret_home", "verify_secret"]

#: The LWA scope of rotateApplicationClientSecret's client-credentials token.
ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
#: The notification that carries the new secret.
NOTIFICATION_TYPE = "APPLICATION_OAUTH_CLIENT_NEW_SECRET"
#: Days the old secret keeps working after a rotation (Amazon).
OLD_SECRET_DAYS = 7
#: Seconds :func:`rotate` waits for the new secret's message by default.
DEFAULT_WAIT = 120.0
_SQS_INSTALL = "pip install 'sqlspapi[aws]'"
_ENROLL = ("register an Amazon SQS queue for \"Application Client New Secret\" notifications in Developer Central "
           "(Seller Central → Apps and Services → Develop Apps → your app → Notifications), allow Amazon to send to "
           "it (docs/rotate-secret.md), and set RotationQueueUrl to its URL")
_BY_HAND = ("rotate it by hand: Developer Central (Seller Central → Apps and Services → Develop Apps → Edit App → "
            "LWA credentials → View → Rotate secret), then put the new secret and its expiry (ClientSecret, "
            "ClientSecretExpiry) where the connection reads them")
_process_lock = threading.Lock()  # the flock fallback where fcntl is missing (Windows): one process at a time


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time (``Z``, an offset or none: UTC) as an aware datetime."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class NewSecret:
    """The new client secret from Amazon's notification, its expiry and the old secret's (``YYYY-MM-DDTHH:MM:SSZ``)."""

    client_secret: Secret
    expiry: str
    old_expiry: str | None = None

    def __repr__(self) -> str:
        return f"NewSecret(***, expiry={self.expiry!r}, old_expiry={self.old_expiry!r})"


@dataclass(frozen=True)
class Rotated:
    """The outcome of :func:`rotate`: where the new secret was stored, its expiry, the old secret's expiry, and
    ``settings`` (the connection's settings with the new secret and expiry)."""

    home: SecretHome
    expiry: str
    old_expiry: str | None
    settings: Any = field(repr=False)


def request_rotation(settings: Any) -> None:
    """Call rotateApplicationClientSecret (grantless). :class:`RotationError` saying what to do when Amazon
    refuses (400: the app registered no queue for the notification)."""
    from sqlspapi.definitions.loader import operation
    from sqlspapi.http.client import Client

    op = operation("applications", "rotateApplicationClientSecret")
    with Client(replace(settings, rotate_secret_days_before=0)) as client:
        try:
            client.call(op)
        except SPAPIError as exc:
            if exc.status == 400:
                raise RotationError(f"Amazon refused to rotate the client secret ({exc.code}: the app is not "
                                    f"enrolled for the new-secret notification): {_ENROLL}.") from None
            raise


def _queue_region(queue_url: str, settings: Any) -> str:
    """The AWS region of an SQS queue URL (``https://sqs.REGION.amazonaws.com/…``), else the selling region's."""
    from urllib.parse import urlsplit

    host = (urlsplit(queue_url).hostname or "").split(".")
    if len(host) >= 3 and host[0] == "sqs" and host[-2:] == ["amazonaws", "com"]:
        return host[1]
    from sqlspapi.settings.secret_source import secret_aws_region

    return secret_aws_region("", settings.region)


def _match(body: str, client_id: str) -> NewSecret | None:
    """The new secret of a message body when it is this ClientId's new-secret notification, else None."""
    try:
        message = json.loads(body)
        item = message["payload"]["applicationOAuthClientNewSecret"]
        if message.get("notificationType") != NOTIFICATION_TYPE or item.get("clientId") != client_id:
            return None
        new = str(item["newClientSecret"])
        expiry = _iso(_parse_time(str(item["newClientSecretExpiryTime"])))
        old = item.get("oldClientSecretExpiryTime")
        return NewSecret(Secret(new), expiry, _iso(_parse_time(str(old))) if old else None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@contextlib.contextmanager
def _aws_errors(what: str) -> Iterator[None]:
    """Turn boto3 failures into a RotationError naming ``what`` (the queue), never a value."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "")) or "error"
        raise RotationError(f"Amazon SQS refused {what} ({code}): check the queue URL (RotationQueueUrl) and that "
                            "the AWS identity used (AwsAccessKeyId/AwsSecretAccessKey, SP_API_ACCESS_KEY, else "
                            "boto3's default chain) may sqs:ReceiveMessage and sqs:DeleteMessage on it.") from None
    except BotoCoreError as exc:
        raise RotationError(f"cannot reach Amazon SQS for {what} ({type(exc).__name__}): check the AWS credentials "
                            "and the network.") from None


def receive_new_secret(settings: Any, *, wait: float = DEFAULT_WAIT,
                       environ: Mapping[str, str] | None = None) -> tuple[NewSecret, Callable[[], None]] | None:
    """Long-poll ``settings.rotation_queue_url`` up to ``wait`` seconds for this ClientId's new-secret message.

    Returns the newest such message's secret and a function that deletes the matched messages (call it once the
    secret is stored), or None when none came. Other messages are made visible again at once.
    """
    queue_url = settings.rotation_queue_url
    if not queue_url:
        raise RotationError(f"RotationQueueUrl is not set: {_ENROLL}.")
    try:
        import boto3
    except ImportError:
        raise RotationError(f"receiving the new secret from Amazon SQS needs boto3: {_SQS_INSTALL}") from None
    from sqlspapi.settings.secret_source import quiet_botocore_wire_logs

    quiet_botocore_wire_logs()  # the message holds the new secret
    keys = aws_keys_of(settings, os.environ if environ is None else environ)
    credentials = {"aws_access_key_id": keys["AwsAccessKeyId"],
                   "aws_secret_access_key": keys["AwsSecretAccessKey"]} if keys else {}
    what = f"queue {queue_url}"
    with _aws_errors(what):
        sqs = boto3.session.Session(region_name=_queue_region(queue_url, settings), **credentials).client("sqs")
    deadline = time.monotonic() + max(0.0, wait)
    found: list[tuple[NewSecret, str]] = []
    while not found:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        with _aws_errors(what):
            answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=max(1, min(20, math.ceil(left))))
        for message in answer.get("Messages", []):
            new = _match(message.get("Body", ""), settings.client_id)
            if new is not None:
                found.append((new, message["ReceiptHandle"]))
            else:
                with contextlib.suppress(Exception):  # another reader's message: let it be seen again now
                    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                  VisibilityTimeout=0)
    newest = max(found, key=lambda pair: pair[0].expiry)[0]

    def delete() -> None:
        with _aws_errors(what):
            for _, handle in found:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)

    return newest, delete


def verify_secret(settings: Any, client_secret: Secret) -> None:
    """A client-credentials grant with ``client_secret``: :class:`RotationError` when Login with Amazon refuses it."""
    from sqlspapi.errors import AuthError
    from sqlspapi.http.tokens import AccountTokens, TokenStore

    try:
        AccountTokens(replace(settings, client_secret=client_secret), TokenStore()).grantless_token(ROTATION_SCOPE)
    except AuthError as exc:
        raise RotationError(f"Login with Amazon did not accept the new client secret ({exc.lwa_error or 'refused'}); "
                            "it was not stored and its message stays on the queue. Check that ClientId is the app "
                            f"the queue's notifications are for, or {_BY_HAND}.") from None


def rotate(settings: Any, home: SecretHome, *, wait: float = DEFAULT_WAIT, receive_only: bool = False,
           say: Callable[[str], Any] | None = None, environ: Mapping[str, str] | None = None) -> Rotated:
    """Rotate the client secret of ``settings``' app and store the new one in ``home`` (see the module docstring).

    With ``receive_only`` no rotation is requested: only the message of an earlier one is awaited and stored.
    ``say`` hears each step (text without secrets). :class:`RotationError` saying what to do.
    """
    tell = say or (lambda text: None)
    if not settings.rotation_queue_url:
        raise RotationError(f"RotationQueueUrl is not set, so the new secret could not be received; nothing was "
                            f"rotated: {_ENROLL}.")
    rotated_at = datetime.now(UTC)
    if not receive_only:
        request_rotation(settings)
        tell(f"Amazon rotated the client secret of ClientId {settings.client_id}; the old one works until about "
             f"{_iso(rotated_at + timedelta(days=OLD_SECRET_DAYS))}.")
    tell(f"Waiting up to {wait:g} s for the new secret on {settings.rotation_queue_url} ...")
    received = receive_new_secret(settings, wait=wait, environ=environ)
    if received is None:
        if receive_only:
            raise RotationError(f"no new-secret message for ClientId {settings.client_id} arrived on "
                                f"{settings.rotation_queue_url} within {wait:g} s. Check that this is the queue "
                                "registered for \"Application Client New Secret\" notifications, wait longer "
                                "(--wait SECONDS), or rotate again if the old secret is about to expire.")
        raise RotationError(f"Amazon rotated the client secret, but no new-secret message for ClientId "
                            f"{settings.client_id} arrived on {settings.rotation_queue_url} within {wait:g} s. The "
                            f"old secret keeps working until about "
                            f"{_iso(rotated_at + timedelta(days=OLD_SECRET_DAYS))}: run sqlspapi rotate-secret "
                            "--receive-only (same connection) to wait for the message and store it; check that "
                            "RotationQueueUrl is the queue registered for \"Application Client New Secret\" "
                            "notifications in Developer Central.")
    new, delete = received
    verify_secret(settings, new.client_secret)
    tell("Login with Amazon accepted the new client secret.")
    home.write({"ClientSecret": new.client_secret.reveal(), "ClientSecretExpiry": new.expiry})
    from sqlspapi.settings.secret_source import clear_secret_cache

    clear_secret_cache()
    delete()
    tell(f"Stored the new ClientSecret and ClientSecretExpiry={new.expiry} in {home.describe()}.")
    log.info("LWA client secret of ClientId %s rotated; stored in %s", settings.client_id, home.describe())
    return Rotated(home, new.expiry, new.old_expiry,
                   replace(settings, client_secret=new.client_secret, client_secret_expiry=new.expiry))


# ---------------------------------------------------------------------------------------- automatic mode


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created 0600): ``flock`` across processes and threads."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one rotation at a time in this process only
        with _process_lock:
            yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _due(expiry: str, days: int, now: datetime) -> bool:
    """Is ``now`` within ``days`` of ``expiry`` (or is ``expiry`` unreadable)?"""
    try:
        return now >= _parse_time(expiry) - timedelta(days=days)
    except ValueError:
        return True


def check_rotation(settings: Any, *, wait: float = DEFAULT_WAIT,
                   environ: Mapping[str, str] | None = None) -> tuple[Any, tuple[str, ...]]:
    """The automatic rotation of ``RotateSecretDaysBefore=N``: ``(settings, notices)``.

    Nothing to do (N = 0, or ClientSecretExpiry more than N days away): ``settings`` as they are and no notice.
    ClientSecretExpiry unknown: a notice saying to set it. Due: under an exclusive lock (:meth:`SecretHome.lock_path`)
    the source is read again; if another process already rotated, its secret is used, else :func:`rotate` runs.
    Either way the settings returned carry the new secret and a notice says what happened. A failure is a
    :class:`RotationError` saying what to do by hand.
    """
    days = int(getattr(settings, "rotate_secret_days_before", 0) or 0)
    if days <= 0:
        return settings, ()
    if not settings.client_secret_expiry:
        return settings, (f"RotateSecretDaysBefore={days} is set but ClientSecretExpiry is not, so sqlspapi cannot "
                          "tell when to rotate the client secret: set ClientSecretExpiry to the date Developer "
                          "Central shows for the secret (sqlspapi rotate-secret writes it after each rotation).",)
    now = datetime.now(UTC)
    if not _due(settings.client_secret_expiry, days, now):
        return settings, ()
    if "ClientSecretExpiry" in settings.given:
        return settings, (f"RotateSecretDaysBefore={days}: the client secret expires on "
                          f"{settings.client_secret_expiry}, but ClientSecretExpiry is written in the connection "
                          "string, where a rotation cannot update it; nothing was rotated. Move ClientSecretExpiry "
                          "beside ClientSecret (credentials file or secret), or run sqlspapi rotate-secret.",)
    try:
        home = secret_home(settings, environ=environ)
    except RotationError as exc:
        raise RotationError(f"RotateSecretDaysBefore={days}: the client secret expires on "
                            f"{settings.client_secret_expiry} but cannot be rotated automatically: {exc} Or "
                            f"{_BY_HAND}.") from None
    with _exclusive(home.lock_path()):
        fresh = home.read()
        stored = fresh.get("ClientSecretExpiry")
        if stored and fresh.get("ClientSecret") and not _due(stored, days, now):
            return (replace(settings, client_secret=Secret(fresh["ClientSecret"]), client_secret_expiry=stored),
                    (f"The LWA client secret was rotated by another process; using the new one from "
                     f"{home.describe()} (expires {stored}).",))
        try:
            done = rotate(settings, home, wait=wait, environ=environ)
        except (RotationError, SPAPIError, OperationalError) as exc:
            raise RotationError(f"RotateSecretDaysBefore={days}: rotating the client secret (it expires on "
                                f"{settings.client_secret_expiry}) failed: {exc} To connect without rotating set "
                                f"RotateSecretDaysBefore=0, or {_BY_HAND}.") from None
    old = f"; the old one works until {done.old_expiry}" if done.old_expiry else ""
    return done.settings, (f"Rotated the LWA client secret (RotateSecretDaysBefore={days}: it was to expire on "
                           f"{settings.client_secret_expiry}); the new one is stored in {home.describe()} and "
                           f"expires {done.expiry}{old}.",)
