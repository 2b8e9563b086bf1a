"""Application Management API 2023-11-30: ``rotateApplicationClientSecret`` (grantless, rotation scope).

``POST /applications/2023-11-30/clientSecret`` answers 204 with no body, as Amazon does: the new client secret is
not in the answer. It is sent, as Amazon's ``APPLICATION_OAUTH_CLIENT_NEW_SECRET`` notification, to the SQS queue
the app registered (:meth:`Auth.enroll_rotation <sqlspapi.emulator.lwa.Auth.enroll_rotation>`; boto3 is imported
only then), and it works at once; the old secret keeps working for seven days
(:meth:`Auth.rotate_client_secret <sqlspapi.emulator.lwa.Auth.rotate_client_secret>`). An app with no queue
registered is 400 InvalidInput with the model's message. The server lets only a client-credentials token of scope
``sellingpartnerapi::client_credential:rotation`` call it, and throttles it at the definition's usage plan
(``vtables/application-management-2023-11-30.toml``: 0.0167/s, burst 1).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlspapi.emulator.common import ApiError, Request, Response, invalid
from sqlspapi.emulator.faults import RawAnswer
from sqlspapi.emulator.generic import Endpoint, rules

SECTION, VERSION = "applications", "2023-11-30"
NOTIFICATION_TYPE = "APPLICATION_OAUTH_CLIENT_NEW_SECRET"
#: The 400 answer of an app that registered no queue for the notification (Amazon's model).
NOT_ENROLLED = ("Application is not enrolled for rotation notification. Please update application notification "
                "preference in Developer console.")
_QUEUE_REGION = re.compile(r"^https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.I)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def notification(application_id: str, client_id: str, new_secret: str, new_expiry: float,
                 old_expiry: float) -> dict[str, Any]:
    """The ``APPLICATION_OAUTH_CLIENT_NEW_SECRET`` notification as Amazon sends it to the queue."""
    now = _iso(datetime.now(UTC).timestamp())
    return {
        "notificationVersion": "1.0",
        "notificationType": NOTIFICATION_TYPE,
        "payloadVersion": "2023-11-30",
        "eventTime": now,
        "payload": {"applicationOAuthClientNewSecret": {
            "clientId": client_id,
            "newClientSecret": new_secret,
            "newClientSecretExpiryTime": _iso(new_expiry),
            "oldClientSecretExpiryTime": _iso(old_expiry),
        }},
        "notificationMetadata": {"applicationId": application_id, "subscriptionId": str(uuid.uuid4()),
                                 "publishTime": now, "notificationId": str(uuid.uuid4())},
    }


def rotate_client_secret(req: Request) -> Response:
    """POST /applications/2023-11-30/clientSecret: rotate the app's secret, deliver the new one to its queue."""
    auth = req.auth
    queue_url = auth.rotation_queue_url
    if not queue_url:
        raise invalid(NOT_ENROLLED)
    found = _QUEUE_REGION.match(queue_url)
    region = found.group(1) if found else auth.aws_region

    def deliver(new_secret: str, new_expiry: float, old_expiry: float) -> None:
        body = json.dumps(notification(auth.application_id, auth.client_id, new_secret, new_expiry, old_expiry))
        try:
            import boto3

            from sqlspapi.settings.secret_source import quiet_botocore_wire_logs

            quiet_botocore_wire_logs()  # the message holds the new secret
            sqs = boto3.client("sqs", region_name=region, endpoint_url=auth.aws_endpoint_url)
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        except Exception as exc:  # noqa: BLE001 - any failure to deliver: the rotation does not happen
            raise ApiError(500, "InternalFailure", "The new client secret could not be delivered to the "
                           "registered queue; the secret was not rotated.", type(exc).__name__) from None

    auth.rotate_client_secret(req.data.seed, deliver)
    return Response(204, RawAnswer(b""))


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(SECTION, VERSION, "rotateApplicationClientSecret", rotate_client_secret, rules("")),
)
