"""Credential sources beside the connection string: a credentials file, a named profile, an AWS Secrets Manager
secret, environment variables.

:func:`resolve` reads them for the keys a connection string left out and returns canonical key → text, each with
where it came from. Precedence, per key: the connection string (and ``connect()`` keywords) win, then the
credentials file or secret (``CredentialsFile=path``, ``Profile=name`` or ``CredentialsSecret=arn``; one of them),
then the environment (:data:`ENVIRONMENT`), then the keys' defaults. See ``docs/connection-string.md``
("Credential sources").

A credentials file is JSON, HJSON (Zuar Runner's block) or YAML (python-amazon-sp-api's ``credentials.yml``), told
apart by extension (``.json``, ``.hjson``, ``.yml``/``.yaml``), else by content. It holds either one flat mapping
of fields, or several named accounts (top-level mappings; a scalar ``version`` is not an account). Field names are
connection-string keys or any of their aliases (``lwa_app_id``, ``client_id``, ``amazon_sp_client_id`` ...).

An AWS Secrets Manager secret (:func:`read_secret`) holds the same JSON shapes; it is read once per process with
boto3 and cached per (secret id, AWS region) (:func:`clear_secret_cache`).

Secret values are never quoted: errors name the file, the account and the field, never a value; a YAML or JSON
syntax error gives the line and column only. A file readable by group or others is a notice (log WARNING and
``Settings.notices``) saying ``chmod 600 <path>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.credfile import (
    SOURCE_KEYS,
    Sourced,
    _accounts,
    _file_origin,
    _permission_notices,
    _read_document,
    _shown,
    read_credentials_file,
)

__all__ = ["ENVIRONMENT", "PROFILE_FILES", "SOURCE_KEYS", "Sourced", "read_credentials_file", "profile_dir",
           "account_names",
           "profile_file", "read_environment", "resolve"]

ENVIRONMENT: Mapping[str, str] = {
    "LWA_APP_ID": "ClientId",
    "LWA_CLIENT_SECRET": "ClientSecret",
    "SP_API_REFRESH_TOKEN": "RefreshToken",
    "SP_API_ACCESS_KEY": "AwsAccessKeyId",
    "SP_API_SECRET_KEY": "AwsSecretAccessKey",
    "SP_API_ROLE_ARN": "RoleArn",
    "SP_API_DEFAULT_MARKETPLACE": "MarketplaceIds",
}
"""Environment variable → key, as python-amazon-sp-api names them. With ``Account=name``, ``VARIABLE_name`` is read
first (that library's per-account suffix)."""

PROFILE_FILES = ("credentials.yml", "credentials.yaml", "credentials.json", "credentials.hjson")
"""The file names ``Profile=name`` looks for in :func:`profile_dir` (exactly one may exist)."""


# -------------------- profiles and the environment


def profile_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where profiles live: ``$XDG_CONFIG_HOME/sqlspapi``, default ``~/.config/sqlspapi``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "sqlspapi"


def profile_file(environ: Mapping[str, str] | None = None) -> Path:
    """The one credentials file of :func:`profile_dir` (:data:`PROFILE_FILES`); an error when none or several."""
    folder = profile_dir(environ)
    found = [folder / name for name in PROFILE_FILES if (folder / name).is_file()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConnectionStringError(
            f"Profile: no credentials file in {_shown(str(folder))}: create one of {', '.join(PROFILE_FILES)} "
            "(mode 600) with the profile as a named account.", key="Profile")
    raise ConnectionStringError(
        f"Profile: several credentials files in {_shown(str(folder))} ({', '.join(p.name for p in found)}); "
        "keep one.", key="Profile")


def read_environment(environ: Mapping[str, str] | None = None, account: str | None = None) -> Sourced:
    """The keys set by :data:`ENVIRONMENT` variables (``VARIABLE_account`` first when ``account`` is given)."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for variable, key in ENVIRONMENT.items():
        for name in ((f"{variable}_{account}",) if account else ()) + (variable,):
            if env.get(name):
                values[key] = env[name]
                origins[key] = f"environment variable {name}"
                break
    return Sourced(values, origins)


# -------------------- all sources


def resolve(given: Mapping[str, str], environ: Mapping[str, str] | None = None) -> Sourced:
    """The keys the sources give that ``given`` (canonical key → text, from the connection string) does not set.

    ``given`` may hold ``CredentialsFile``, ``Profile``, ``CredentialsSecret`` and ``Account`` (text as written; at
    most one of the first three). Precedence per key: ``given``, then the credentials file, profile or secret, then
    the environment. A secret is read with the AWS keys of ``given`` or the environment, in ``given``'s Region.
    """
    path, profile, secret, account = (given.get(k) or None for k in SOURCE_KEYS)
    if path is not None and profile is not None:
        raise ConnectionStringError("CredentialsFile and Profile both name a credentials file; give one.",
                                    key="Profile")
    if secret is not None and (path is not None or profile is not None):
        raise ConnectionStringError(f"CredentialsSecret and {'CredentialsFile' if path else 'Profile'} both name "
                                    "a credentials source; give one.", key="CredentialsSecret")
    if profile is not None and account is not None and account != profile:
        raise ConnectionStringError("Profile names the account already; drop Account (or use CredentialsFile "
                                    "with Account).", key="Account")
    env = os.environ if environ is None else environ
    if given.get("Accounts") and account is None and profile is None:
        # Several accounts: each is resolved on its own (sqlspapi.settings.accounts); this level reads no account.
        return Sourced(notices=_permission_notices(Path(os.path.expanduser(path))) if path else ())
    if profile is not None:
        path, account = str(profile_file(env)), profile
    from_env = read_environment(env, account)
    if secret is not None:
        aws = {**from_env.values, **given}
        from sqlspapi.settings.secret_source import read_secret  # boto3 and the secret cache only when asked

        file = read_secret(secret, account, region=given.get("Region"),
                           aws_keys={k: aws[k] for k in ("AwsAccessKeyId", "AwsSecretAccessKey") if aws.get(k)})
    else:
        file = read_credentials_file(path, account) if path is not None else Sourced()
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for source in (from_env, file):  # later sources win
        values.update(source.values)
        origins.update(source.origins)
    for key in given:
        values.pop(key, None)
        origins.pop(key, None)
    return Sourced(values, origins, file.notices)


def account_names(given: Mapping[str, str], environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The named accounts of the credentials source ``given`` chooses (``CredentialsFile``, ``CredentialsSecret``,
    else the profile file of :func:`profile_dir`), in the order written; what ``Accounts=all`` means. An error when
    there is no such source or it holds one flat set of fields."""
    env = os.environ if environ is None else environ
    path, secret = given.get("CredentialsFile") or None, given.get("CredentialsSecret") or None
    if secret is not None:
        from sqlspapi.settings.secret_source import secret_document

        origin, document = secret_document(secret, region=given.get("Region"),
                                           aws_keys={**read_environment(env).values, **given})
    else:
        file = Path(os.path.expanduser(path)) if path is not None else profile_file(env)
        origin, document = _file_origin(file), _read_document(file)
    accounts = _accounts(origin, document)
    if accounts is None:
        raise origin.error("holds one set of fields, not named accounts, so Accounts=all finds none: name the "
                           "accounts (one mapping of fields per account) or list them in Accounts.", key="Accounts")
    return tuple(accounts)
