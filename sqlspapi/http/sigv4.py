"""Legacy AWS Signature Version 4 signing of SP-API requests, opt-in with ``SignRequests=true``.

Amazon has not required SigV4 on SP-API since 2023-10-02; some gateways and old setups still expect it. With
``SignRequests=true`` the client (:class:`~sqlspapi.http.client.Client`) hands every SP-API request to
:func:`signer`'s :class:`RequestSigner` (a ``requests`` auth hook): it is signed with botocore's SigV4 signer for
service ``execute-api`` in the selling region's AWS region, over ``host``, ``x-amz-date``, the other ``x-amz-*``
headers (the LWA token included) and ``content-type``. The credentials are the IAM user's keys
(``AwsAccessKeyId``/``AwsSecretAccessKey``) or, with ``RoleArn``, the role's temporary credentials from STS
AssumeRole (boto3; ``AWS_ENDPOINT_URL_STS`` points it elsewhere), kept in this module's cache until five minutes
before they expire. :func:`check_signature` is the other side (the emulator's check): it recomputes a request's
signature with botocore.

boto3/botocore are imported only when needed; without them signing raises ``pip install 'sqlspapi[aws]'``. Secret
keys and session tokens stay :class:`~sqlspapi.settings.values.Secret` and reach no log, repr or message (the
signature is computed with botocore's parts directly: its ``add_auth`` logs the canonical request, which holds the
LWA token).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from sqlspapi.errors import AuthError, OperationalError
from sqlspapi.settings import marketplaces as mp
from sqlspapi.settings.values import Secret

__all__ = ["SERVICE", "ALGORITHM", "CACHE_MAX", "AwsCredentials", "RequestSigner", "signer", "credentials",
           "check_signature", "clear_cache"]

SERVICE = "execute-api"
"""The AWS service name SP-API requests are signed for."""
ALGORITHM = "AWS4-HMAC-SHA256"
"""The signing algorithm named in the ``Authorization`` header."""

_MISSING = "SignRequests=true needs boto3 and botocore: pip install 'sqlspapi[aws]'"
_REFRESH_BEFORE = 300.0  # seconds before expiry at which assumed-role credentials are renewed
_SESSION_NAME = "sqlspapi"
_AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[^/\s,]+)/"
                      r"(?P<service>[^/\s,]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;._-]+),\s*"
                      r"Signature=(?P<signature>[0-9a-f]{64})")
_BAD_SIGNATURE = ("InvalidSignature", "The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
_UNKNOWN_KEY = ("Unauthorized", "The security token included in the request is invalid.")


@dataclass(frozen=True, repr=False)
class AwsCredentials:
    """AWS credentials to sign with: an access key id, its secret, a session token (assumed role), expiry."""

    access_key_id: str
    secret_access_key: Secret
    session_token: Secret | None = None
    expires: float | None = None
    """Epoch seconds the credentials stop working (None: the IAM user's keys, no expiry)."""

    def __repr__(self) -> str:
        return f"AwsCredentials(access_key_id={self.access_key_id!r}, expires={self.expires!r})"

    def fresh(self, now: float | None = None) -> bool:
        """Whether the credentials are good for at least five more minutes."""
        return self.expires is None or self.expires - _REFRESH_BEFORE > (time.time() if now is None else now)


# The AssumeRole credential cache: (key id, sha256 of the secret, role ARN, AWS region) → credentials; at most
# CACHE_MAX entries (expired ones are dropped first, then the oldest), emptied by clear_cache().
_cache: dict[tuple[str, str, str, str], AwsCredentials] = {}
_cache_lock = threading.Lock()
#: Most assumed-role credentials kept at once (one per account and role a process signs for).
CACHE_MAX = 64


def clear_cache() -> None:
    """Forget every assumed-role credential (as a new process would: ``reset_runtimes`` calls it)."""
    with _cache_lock:
        _cache.clear()


def _botocore() -> Any:
    """botocore's signing parts (``botocore.auth``, ``botocore.awsrequest``, ``botocore.credentials``)."""
    try:
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
    except ImportError:
        raise OperationalError(_MISSING) from None
    return botocore


def aws_region(settings: Any) -> str:
    """The AWS region of the settings' selling region (``na`` → ``us-east-1``, ``eu`` → ``eu-west-1`` …)."""
    return mp.REGIONS[settings.region].aws_region


def credentials(settings: Any) -> AwsCredentials:
    """The credentials requests of ``settings`` are signed with (raises AuthError/OperationalError).

    The IAM user's keys; with ``RoleArn``, the role's credentials from STS AssumeRole, cached (per keys, role and
    region, in this process) until five minutes before they expire.
    """
    key_id, secret, role = settings.aws_access_key_id, settings.aws_secret_access_key, settings.role_arn
    if not key_id or not secret:
        raise AuthError("SignRequests=true needs AwsAccessKeyId and AwsSecretAccessKey.")
    user = AwsCredentials(key_id, secret)
    if not role:
        return user
    region = aws_region(settings)
    key = (key_id, hashlib.sha256(secret.reveal().encode("utf-8", "surrogatepass")).hexdigest(), role, region)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached.fresh():
            return cached
        assumed = _assume_role(user, role, region)
        for stale in [k for k, v in _cache.items() if not v.fresh()]:
            del _cache[stale]
        while len(_cache) >= CACHE_MAX:
            del _cache[next(iter(_cache))]
        _cache[key] = assumed
        return assumed


def _assume_role(user: AwsCredentials, role: str, region: str) -> AwsCredentials:
    """STS AssumeRole of ``role`` with the user's keys."""
    botocore = _botocore()
    try:
        import boto3
        import botocore.exceptions
    except ImportError:
        raise OperationalError(_MISSING) from None
    from sqlspapi.settings.secret_source import quiet_botocore_wire_logs

    quiet_botocore_wire_logs()  # botocore's DEBUG logs would quote the assumed role's secret key
    session = boto3.session.Session(aws_access_key_id=user.access_key_id,
                                    aws_secret_access_key=user.secret_access_key.reveal(), region_name=region)
    try:
        answer = session.client("sts").assume_role(RoleArn=role, RoleSessionName=_SESSION_NAME)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AuthError(f"STS AssumeRole of {role} failed: {error.get('Code')}: {error.get('Message')}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise OperationalError(f"STS AssumeRole of {role} failed ({type(exc).__name__}); check the network and "
                               "AWS_ENDPOINT_URL_STS.") from None
    got = answer["Credentials"]
    expiration = got["Expiration"]
    expires = expiration.timestamp() if isinstance(expiration, datetime) else None
    return AwsCredentials(got["AccessKeyId"], Secret(got["SecretAccessKey"]), Secret(got["SessionToken"]), expires)


def _authorization(creds: AwsCredentials, region: str, request: Any) -> str:
    """The ``Authorization`` value of botocore ``AWSRequest`` ``request`` (its context holds the timestamp)."""
    botocore = _botocore()
    token = creds.session_token.reveal() if creds.session_token else None
    auth = botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(creds.access_key_id, creds.secret_access_key.reveal(), token),
        SERVICE, region)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    return f"{ALGORITHM} Credential={auth.scope(request)}, SignedHeaders={signed}, Signature={signature}"


def _request(method: str, url: str, headers: Mapping[str, str], body: bytes | None, timestamp: str) -> Any:
    """A botocore ``AWSRequest`` of these parts, to sign at ``timestamp`` (``YYYYMMDDTHHMMSSZ``)."""
    request = _botocore().awsrequest.AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    request.context["timestamp"] = timestamp
    return request


class RequestSigner(requests.auth.AuthBase):
    """The ``requests`` auth hook signing SP-API requests of one ``Settings`` (see the module docstring)."""

    def __init__(self, settings: Any) -> None:
        _botocore()  # no boto3: say so when the client is made, not at the first query
        self._settings = settings
        self.region = aws_region(settings)

    def __repr__(self) -> str:
        return f"RequestSigner(region={self.region!r}, role_arn={self._settings.role_arn!r})"

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign ``prepared`` in place: ``x-amz-date``, ``x-amz-security-token`` (a role) and ``Authorization``."""
        creds = credentials(self._settings)
        timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        prepared.headers["x-amz-date"] = timestamp
        if creds.session_token:
            prepared.headers["x-amz-security-token"] = creds.session_token.reveal()
        signed = {k: v for k, v in prepared.headers.items()
                  if k.lower().startswith("x-amz-") or k.lower() == "content-type"}
        body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
        request = _request(prepared.method or "GET", prepared.url or "", signed, body, timestamp)
        prepared.headers["Authorization"] = _authorization(creds, self.region, request)
        return prepared


def signer(settings: Any) -> RequestSigner | None:
    """The request signer of ``settings`` when ``SignRequests=true`` (else None); OperationalError without boto3."""
    return RequestSigner(settings) if getattr(settings, "sign_requests", False) else None


def check_signature(method: str, url: str, headers: Mapping[str, str], body: bytes,
                    keys: Mapping[str, tuple[str, str | None]]) -> tuple[str, str] | None:
    """Check the SigV4 ``Authorization`` header of a received request; None if right, else (code, message).

    ``url`` is the full URL as received (``http://`` + Host + target); ``keys``: access key id → (secret, session
    token or None) of the credentials the server knows. The header must name service ``execute-api``, an SP-API
    AWS region and the date of ``x-amz-date``, and sign ``host`` and ``x-amz-date``; then the signature is
    recomputed with botocore over the signed headers (only the structure is checked when botocore is absent).
    """
    found = _AUTH_RE.fullmatch((headers.get("Authorization") or "").strip())
    if found is None:
        return ("IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and "
                                       "'Signature' parameters.")
    if found["service"] != SERVICE:
        return ("InvalidSignature", f"Credential should be scoped to correct service: '{SERVICE}'.")
    if found["region"] not in {r.aws_region for r in mp.REGIONS.values()}:
        return ("InvalidSignature", "Credential should be scoped to a valid region.")
    names = found["signed"].split(";")
    amz_date = headers.get("x-amz-date") or ""
    if "host" not in names or "x-amz-date" not in names or not amz_date.startswith(found["date"]):
        return ("IncompleteSignature", "'Host' and 'X-Amz-Date' must be signed headers, and the credential date "
                                       "must be the date of X-Amz-Date.")
    known = keys.get(found["key"])
    if known is None or (known[1] or None) != (headers.get("x-amz-security-token") or None):
        return _UNKNOWN_KEY
    try:
        _botocore()
    except OperationalError:
        return None
    signed = {name: headers.get(name) or "" for name in names}
    secret, token = known
    creds = AwsCredentials(found["key"], Secret(secret), Secret(token) if token else None)
    expected = _authorization(creds, found["region"], _request(method, url, signed, body, amz_date))
    return None if hmac.compare_digest(expected.rsplit("=", 1)[1], found["signature"]) else _BAD_SIGNATURE
