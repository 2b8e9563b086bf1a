"""Where a connection's LWA client secret is kept, so a new one can replace it: :class:`SecretHome` and
:func:`secret_home` (used by ``sqlspapi rotate-secret`` and ``RotateSecretDaysBefore``, :mod:`sqlspapi.http.rotation`).

A secret that came from a credentials file or profile is replaced in that file, one from an AWS Secrets Manager secret
in that secret (the account it was read from; other fields and accounts kept, atomically). One written in the
connection string or an environment variable cannot be replaced: :func:`secret_home` refuses, before anything is
rotated, saying where to move it. Secrets never appear in messages or ``repr``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlspapi.errors import RotationError
from sqlspapi.settings.values import Secret

__all__ = ["SecretHome", "aws_keys_of", "secret_home"]

_AWS_KEYS = {"AwsAccessKeyId": "SP_API_ACCESS_KEY", "AwsSecretAccessKey": "SP_API_SECRET_KEY"}


def _text(value: Any) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


@dataclass(frozen=True)
class SecretHome:
    """Where a connection's ``ClientSecret`` is kept: ``kind`` ``"file"`` (``where`` is the credentials file) or
    ``"secret"`` (``where`` is an AWS Secrets Manager secret id), with the ``account`` in it; ``region`` and
    ``aws_keys`` read and write a secret (``aws_keys`` hidden from ``repr``)."""

    kind: str
    where: str
    account: str | None = None
    region: str | None = None
    aws_keys: Mapping[str, str] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """``credentials file '…' (account 'x')`` or ``AWS Secrets Manager secret '…'``, for messages."""
        what = "credentials file" if self.kind == "file" else "AWS Secrets Manager secret"
        return f"{what} {self.where!r}" + (f" (account {self.account!r})" if self.account else "")

    def read(self) -> dict[str, str]:
        """The fields the connection takes from here now (canonical key → text), read afresh (no cache)."""
        if self.kind == "file":
            from sqlspapi.settings.credfile import read_credentials_file

            return read_credentials_file(self.where, self.account).values
        from sqlspapi.settings.secret_source import clear_secret_cache, read_secret

        clear_secret_cache()
        return read_secret(self.where, self.account, region=self.region, aws_keys=self.aws_keys).values

    def write(self, values: Mapping[str, str]) -> None:
        """Replace ``values`` (canonical key → text) here, keeping every other field and account (atomic)."""
        if self.kind == "file":
            from sqlspapi.settings.store import store_fields

            store_fields(self.where, values, account=self.account)
            return
        from sqlspapi.settings.secret_store import store_secret_fields

        store_secret_fields(self.where, values, account=self.account, region=self.region, aws_keys=self.aws_keys)

    def lock_path(self) -> Path:
        """The lock file of automatic rotation: beside the credentials file, else in the user cache directory."""
        if self.kind == "file":
            path = Path(os.path.expanduser(self.where))
            return path.with_name(f".{path.name}.rotate-lock")
        from sqlspapi.reports.state import cache_root

        digest = hashlib.sha256(f"{self.where}\x00{self.account or ''}".encode()).hexdigest()[:24]
        return cache_root(None) / f"rotate-secret-{digest}.lock"


def aws_keys_of(settings: Any, environ: Mapping[str, str]) -> dict[str, str]:
    """The AWS keys a secret or queue is used with: the connection string's, else SP_API_ACCESS_KEY/SECRET_KEY
    (both or none: boto3's default chain)."""
    given = settings.given
    keys = {k: _text(given[k]) if k in given else environ.get(v, "") for k, v in _AWS_KEYS.items()}
    return keys if all(keys.values()) else {}


def secret_home(settings: Any, *, credentials_file: str | os.PathLike[str] | None = None,
                account: str | None = None, secret_id: str | None = None,
                environ: Mapping[str, str] | None = None) -> SecretHome:
    """Where ``settings``' ClientSecret is kept, to store a new one: ``credentials_file`` or ``secret_id`` when
    given (and ``account``), else the connection's CredentialsFile, Profile or CredentialsSecret.

    :class:`RotationError` when the secret came from the connection string or an environment variable (nothing to
    update): it says how to move it to a credentials file or secret.
    """
    env = os.environ if environ is None else environ
    aws = aws_keys_of(settings, env)
    region = _text(settings.given["Region"]) if "Region" in settings.given else None
    if credentials_file is not None:
        return SecretHome("file", os.fspath(credentials_file), account)
    if secret_id is not None:
        return SecretHome("secret", secret_id, account, region, aws)
    move = ("Move it to a credentials file (CredentialsFile=path, or Profile=name) or an AWS Secrets Manager secret "
            "(CredentialsSecret=arn) and connect through that, or name where the new secret goes "
            "(--credentials-file PATH [--account NAME] or --secret ARN).")
    if "ClientSecret" in settings.given:
        raise RotationError("ClientSecret is written in the connection string, so sqlspapi cannot replace it after "
                            f"a rotation; nothing was rotated. {move}")
    if settings.credentials_secret:
        home = SecretHome("secret", settings.credentials_secret, settings.account, region, aws)
    elif settings.credentials_file:
        home = SecretHome("file", settings.credentials_file, settings.account)
    elif settings.profile:
        from sqlspapi.settings.sources import profile_file

        home = SecretHome("file", str(profile_file(env)), settings.profile)
    else:
        home = None
    if home is not None and home.account is None:
        home = replace(home, account=_read_account(home))
    if home is None or "ClientSecret" not in home.read():
        raise RotationError("ClientSecret comes from an environment variable (LWA_CLIENT_SECRET), so sqlspapi cannot "
                            f"replace it after a rotation; nothing was rotated. {move}")
    return home


def _read_account(home: SecretHome) -> str | None:
    """The account a connection without ``Account`` reads from ``home`` (``default``, else the only one), or None
    for one flat set of fields: a new secret must replace that account's, not start a ``default`` one."""
    from sqlspapi.settings.credfile import _accounts, _file_origin, _pick, _read_document

    if home.kind == "file":
        file = Path(os.path.expanduser(home.where))
        origin, document = _file_origin(file), _read_document(file)
    else:
        from sqlspapi.settings.secret_source import secret_document

        origin, document = secret_document(home.where, region=home.region, aws_keys=home.aws_keys)
    accounts = _accounts(origin, document)
    return None if accounts is None else _pick(origin, accounts, None)[0]
