"""The AWS Secrets Manager credential source (``CredentialsSecret=``): a JSON secret in either shape a credentials
file takes, read once per process with boto3 and cached (bounded); :mod:`sqlspapi.settings.sources` calls
:func:`read_secret` and shares its field mapping with files.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

from sqlspapi.settings.credfile import Sourced, _document_fields, _Origin, _shown
from sqlspapi.settings.marketplaces import REGIONS, resolve_region

__all__ = ["read_secret", "secret_document", "secret_aws_region", "clear_secret_cache", "quiet_botocore_wire_logs"]

_SECRET_CACHE_SIZE = 32
_secret_cache: dict[tuple[str, str], Any] = {}  # (secret id, AWS region) → parsed SecretString; bounded
_secret_lock = threading.Lock()
_AWS_INSTALL = "pip install 'sqlspapi[aws]'"
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):", re.I)
_AWS_KEYS = ("AwsAccessKeyId", "AwsSecretAccessKey")
_SECRET_REFUSALS = {
    "AccessDenied": "access denied: allow secretsmanager:GetSecretValue on it (and kms:Decrypt on its key) for the "
                    "AWS identity used (AwsAccessKeyId/AwsSecretAccessKey, else boto3's default chain: AWS_PROFILE, "
                    "environment, instance role).",
    "ResourceNotFound": "not found: check its name or ARN and its AWS region (an ARN carries its region; a name is "
                        "looked up in the AWS region of Region).",
    "UnrecognizedClient": "the AWS access key is not valid: check AwsAccessKeyId/AwsSecretAccessKey.",
    "InvalidSignature": "the AWS secret access key does not match: check AwsSecretAccessKey.",
    "DecryptionFailure": "cannot be decrypted: allow kms:Decrypt on its KMS key for the AWS identity used.",
}


#: botocore's loggers that write request and answer bodies at DEBUG.
_WIRE_LOGGERS = ("botocore.endpoint", "botocore.parsers")


class _NoWireBodies(logging.Filter):
    """Drops the DEBUG records of a botocore wire logger (they quote bodies, secrets included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep INFO and above only."""
        return record.levelno > logging.DEBUG


def quiet_botocore_wire_logs() -> None:
    """Keep botocore's DEBUG records of request and answer bodies out of every log (idempotent): call it before
    boto3 reads or writes a secret value."""
    for name in _WIRE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoWireBodies) for f in logger.filters):
            logger.addFilter(_NoWireBodies())


def secret_aws_region(secret_id: str, region: str | None = None) -> str:
    """The AWS region to read ``secret_id`` in: an ARN's own region, else the AWS region of the selling region
    ``region`` (``na``/``eu``/``fe`` or an AWS region name; unknown or ``None`` → ``na``'s ``us-east-1``)."""
    found = _ARN_REGION.match(secret_id)
    if found:
        return found.group(1).lower()
    try:
        name = resolve_region(region or "na")
    except KeyError:
        name = "na"
    return REGIONS[name].aws_region


def clear_secret_cache() -> None:
    """Forget every secret read (the next parse reads them again); :func:`sqlspapi.http.runtime.reset_runtimes`
    should call it."""
    with _secret_lock:
        _secret_cache.clear()


def _secret_document(origin: _Origin, secret_id: str, aws_region: str, aws_keys: Mapping[str, str]) -> Any:
    """The parsed SecretString of ``secret_id``: from the cache, else read once with boto3 and cached."""
    with _secret_lock:
        if (secret_id, aws_region) in _secret_cache:
            return _secret_cache[(secret_id, aws_region)]
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise origin.error(f"reading AWS Secrets Manager needs boto3: {_AWS_INSTALL}") from None
    quiet_botocore_wire_logs()  # botocore's DEBUG logs would quote the secret's value
    keys = {"aws_access_key_id": aws_keys.get("AwsAccessKeyId"),
            "aws_secret_access_key": aws_keys.get("AwsSecretAccessKey")}
    session = boto3.session.Session(region_name=aws_region, **(keys if all(keys.values()) else {}))
    try:
        answer = session.client("secretsmanager").get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "")).removesuffix("Exception")
        if code not in _SECRET_REFUSALS and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            code = "AccessDenied"  # a 403 without a known code (some emulators answer so)
        raise origin.error(_SECRET_REFUSALS.get(code, f"AWS Secrets Manager refused to read it ({_shown(code)}); "
                                                      "check the secret and the AWS identity used.")) from None
    except BotoCoreError as exc:
        raise origin.error(f"cannot be read in AWS region {aws_region} ({type(exc).__name__}): check the AWS "
                           "credentials (AwsAccessKeyId/AwsSecretAccessKey, else boto3's default chain) and the "
                           "network.") from None
    text = answer.get("SecretString")
    if text is None:
        raise origin.error("holds binary data; store the credentials as a JSON SecretString.")
    try:
        document = json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise origin.error(f"its SecretString is not JSON{where}: store one JSON object of fields, or of named "
                           "accounts (value not shown).") from None
    with _secret_lock:
        while len(_secret_cache) >= _SECRET_CACHE_SIZE:
            _secret_cache.pop(next(iter(_secret_cache)))
        _secret_cache[(secret_id, aws_region)] = document
    return document


def secret_document(secret_id: str, *, region: str | None = None,
                    aws_keys: Mapping[str, str] | None = None) -> tuple[_Origin, Any]:
    """The parsed SecretString of ``secret_id`` (cached as :func:`read_secret` reads it) and its origin for
    messages: what ``Accounts=all`` lists the named accounts of."""
    origin = _Origin(f"AWS Secrets Manager secret {_shown(secret_id)}", "CredentialsSecret")
    keys = {k: v for k, v in (aws_keys or {}).items() if k in ("AwsAccessKeyId", "AwsSecretAccessKey")}
    return origin, _secret_document(origin, secret_id, secret_aws_region(secret_id, region), keys)


def read_secret(secret_id: str, account: str | None = None, *, region: str | None = None,
                aws_keys: Mapping[str, str] | None = None) -> Sourced:
    """Read an AWS Secrets Manager secret (name or ARN) whose SecretString is JSON in either shape a credentials
    file takes (one flat object of fields, or named accounts picked by ``account``); read once per process and
    cached per (secret id, AWS region) (:func:`clear_secret_cache`).

    The AWS region is :func:`secret_aws_region` of ``secret_id`` and ``region``. ``aws_keys`` may hold
    ``AwsAccessKeyId`` and ``AwsSecretAccessKey`` (both, or boto3's default chain is used). Needs boto3
    (``pip install 'sqlspapi[aws]'``). :class:`~sqlspapi.errors.ConnectionStringError` naming the secret and what
    to do (access denied, not found, not JSON, unknown field or account), never a value.
    """
    origin, document = secret_document(secret_id, region=region, aws_keys=aws_keys)
    chosen, where = _document_fields(origin, document, account)
    described = f"AWS Secrets Manager secret {_shown(secret_id)}{where}"
    return Sourced(chosen, dict.fromkeys(chosen, described))
