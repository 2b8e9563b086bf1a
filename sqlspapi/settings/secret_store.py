"""Writing fields into an AWS Secrets Manager secret (``CredentialsSecret=``): the counterpart of
:mod:`sqlspapi.settings.secret_source` for ``sqlspapi rotate-secret`` (a new ``ClientSecret`` and its
``ClientSecretExpiry``) and ``sqlspapi authorize`` (a ``RefreshToken``).

:func:`store_secret_fields` reads the secret's current JSON (never the process cache), changes the given keys in the
chosen account (flat or named accounts, the shapes a credentials file takes), keeping every other field and account
and the field names already used, and writes it back with one ``PutSecretValue`` (a new version of the secret,
which AWS makes current at once). Then it forgets the cached copy
(:func:`~sqlspapi.settings.secret_source.clear_secret_cache`) so the next connection reads the new one. Errors name
the secret and what to do, never a value.

:func:`quiet_botocore_wire_logs` keeps boto3's DEBUG logs of request and answer bodies (which hold secret values:
SecretString, an SQS message with a new client secret) out of every log, ``--debug`` included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlspapi.settings.credfile import _DEFAULT_ACCOUNT, _accounts, _Origin, _shown
from sqlspapi.settings.keys import lookup_key
from sqlspapi.settings.secret_source import (
    _AWS_INSTALL,
    clear_secret_cache,
    quiet_botocore_wire_logs,
    secret_aws_region,
)
from sqlspapi.settings.store import _field_for

__all__ = ["store_secret_fields"]

_WRITE_REFUSALS = {
    "AccessDenied": "access denied: allow secretsmanager:GetSecretValue and secretsmanager:PutSecretValue on it (and "
                    "kms:Decrypt and kms:GenerateDataKey on its KMS key) for the AWS identity used.",
    "ResourceNotFound": "not found: check its name or ARN and its AWS region.",
    "UnrecognizedClient": "the AWS access key is not valid: check AwsAccessKeyId/AwsSecretAccessKey.",
    "InvalidSignature": "the AWS secret access key does not match: check AwsSecretAccessKey.",
    "DecryptionFailure": "cannot be decrypted: allow kms:Decrypt on its KMS key for the AWS identity used.",
    "InvalidRequest": "AWS Secrets Manager refused the change (is the secret scheduled for deletion?).",
}


def _refusal(origin: _Origin, exc: Any, doing: str) -> Exception:
    """The error of a ClientError from Secrets Manager: what to do, never a value."""
    response = getattr(exc, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", "")).removesuffix("Exception")
    if code not in _WRITE_REFUSALS and response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
        code = "AccessDenied"
    return origin.error(f"{doing} failed: " + _WRITE_REFUSALS.get(
        code, f"AWS Secrets Manager answered {_shown(code)}; check the secret and the AWS identity used."))


def _target_fields(origin: _Origin, document: Any, account: str | None) -> dict[Any, Any]:
    """The mapping of fields of ``document`` to update: the flat mapping, or ``account`` of the named accounts
    (default ``default``; created when missing), as :func:`sqlspapi.settings.store.store_fields` does in a file."""
    accounts = _accounts(origin, document)
    if accounts is None:
        if account not in (None, _DEFAULT_ACCOUNT):
            raise origin.error(f"holds one set of fields, not named accounts, so there is no account "
                               f"{_shown(account or '')}; name its accounts first (or leave out the account).",
                               key="Account")
        return document
    name = account or _DEFAULT_ACCOUNT
    if not isinstance(document.get(name), dict):
        document[name] = {}
    return document[name]


def store_secret_fields(secret_id: str, values: Mapping[str, str], *, account: str | None = None,
                        region: str | None = None, aws_keys: Mapping[str, str] | None = None) -> str:
    """Write ``values`` (connection-string key → text) into ``account`` of the JSON secret ``secret_id`` (name or
    ARN) with ``PutSecretValue``, keeping its other fields and accounts; returns the secret id.

    The AWS region and credentials are chosen as :func:`~sqlspapi.settings.secret_source.read_secret` chooses them
    (``region``: the selling region or AWS region for a secret named without an ARN; ``aws_keys``:
    ``AwsAccessKeyId`` and ``AwsSecretAccessKey``, else boto3's default chain). An empty secret becomes one flat
    mapping of fields. :class:`~sqlspapi.errors.ConnectionStringError` naming the secret and what to do.
    """
    origin = _Origin(f"AWS Secrets Manager secret {_shown(secret_id)}", "CredentialsSecret")
    quiet_botocore_wire_logs()
    for key in values:
        if lookup_key(key) is None:
            raise ValueError(f"{key!r} is not a connection-string key")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise origin.error(f"writing AWS Secrets Manager needs boto3: {_AWS_INSTALL}") from None
    keys = {"aws_access_key_id": (aws_keys or {}).get("AwsAccessKeyId"),
            "aws_secret_access_key": (aws_keys or {}).get("AwsSecretAccessKey")}
    aws_region = secret_aws_region(secret_id, region)
    session = boto3.session.Session(region_name=aws_region, **(keys if all(keys.values()) else {}))
    client = session.client("secretsmanager")
    try:
        text = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except ClientError as exc:
        raise _refusal(origin, exc, "reading it before the update") from None
    except BotoCoreError as exc:
        raise origin.error(f"cannot be read in AWS region {aws_region} ({type(exc).__name__}): check the AWS "
                           "credentials and the network.") from None
    if text is None:
        raise origin.error("holds binary data; store the credentials as a JSON SecretString.")
    try:
        document = json.loads(text) if text.strip() else {}
    except ValueError:
        raise origin.error("its SecretString is not JSON: store one JSON object of fields, or of named accounts "
                           "(value not shown).") from None
    fields = _target_fields(origin, document, account)
    for key, value in values.items():
        fields[_field_for(fields, key)] = value
    try:
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
    except ClientError as exc:
        raise _refusal(origin, exc, "PutSecretValue") from None
    except BotoCoreError as exc:
        raise origin.error(f"cannot be written in AWS region {aws_region} ({type(exc).__name__}): check the AWS "
                           "credentials and the network.") from None
    finally:
        clear_secret_cache()
    return secret_id
