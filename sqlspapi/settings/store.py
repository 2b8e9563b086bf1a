"""Writing fields into a credentials file: JSON, HJSON or YAML, as :mod:`sqlspapi.settings.sources` reads them.

:func:`store_fields` puts connection-string keys (``ClientSecret`` and ``ClientSecretExpiry`` after a rotation, ...)
into the chosen account of the file, keeping its other fields and accounts and the field names it already uses; a
new file gets one named account. :func:`store_refresh_token` is the same for a refresh token (and ``SellerId``).
The file is replaced atomically (a temporary file in the same folder, then ``os.replace``) with mode 0600. Values
are never shown in errors. HJSON comments are not kept (the file is written back as plain HJSON).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlspapi.settings.credfile import (
    _DEFAULT_ACCOUNT,
    _INSTALL,
    _accounts,
    _error,
    _file_origin,
    _format_of,
    _load,
    _shown,
)
from sqlspapi.settings.keys import lookup_key

__all__ = ["check_target", "store_fields", "store_refresh_token"]

#: Field names written for keys an account does not name yet (python-amazon-sp-api's credentials.yml spelling).
_NEW_FIELDS = {"RefreshToken": "refresh_token", "SellerId": "seller_id", "ClientSecret": "lwa_client_secret",
               "ClientSecretExpiry": "client_secret_expiry"}


def _field_for(fields: Mapping[Any, Any], key: str) -> str:
    """The field of ``fields`` that sets connection-string ``key`` (any alias), else the name a new one gets."""
    for name in fields:
        spec = lookup_key(str(name))
        if spec is not None and spec.name == key:
            return str(name)
    return _NEW_FIELDS.get(key, key)


def _dump(path: Path, kind: str, document: Any) -> str:
    """``document`` as the text of a ``kind`` file (a missing HJSON/YAML library is an error saying what to install)."""
    if kind == "json":
        return json.dumps(document, indent=2) + "\n"
    try:
        if kind == "hjson":
            import hjson

            return hjson.dumps(document) + "\n"
        import yaml
    except ImportError:
        raise _error(path, f"writing {kind.upper()} needs the {'hjson' if kind == 'hjson' else 'PyYAML'} package: "
                           f"{_INSTALL}") from None
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once, mode 0600 (a reader sees the old file or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temp, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    os.chmod(path, 0o600)


def _prepare(path: str | os.PathLike[str], account: str | None) -> tuple[Path, str, Any, dict[Any, Any]]:
    """Read the credentials file (if any): (path, format, document, the mapping of fields to update)."""
    file = Path(os.path.expanduser(os.fspath(path)))
    text = ""
    if file.exists():
        if not file.is_file():
            raise _error(file, "is not a regular file.")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise _error(file, f"cannot be read ({type(exc).__name__}).") from None
    kind = _format_of(file, text) if text.strip() else ("yaml" if file.suffix.lower() not in (".json", ".hjson")
                                                         else file.suffix.lower()[1:])
    document: Any = (_load(file, text) if text.strip() else None) or {}
    accounts = _accounts(_file_origin(file), document) if document else {}
    if accounts is None:  # one flat mapping of fields
        if account not in (None, _DEFAULT_ACCOUNT):
            raise _error(file, f"holds one set of fields, not named accounts, so there is no account "
                               f"{_shown(account or '')}; name its accounts first (or leave out the account).",
                         key="Account")
        return file, kind, document, document
    name = account or _DEFAULT_ACCOUNT
    fields = dict(accounts.get(name) or {})
    document[name] = fields
    return file, kind, document, fields


def check_target(path: str | os.PathLike[str], account: str | None = None) -> Path:
    """Fail early (before a refresh token is obtained) when :func:`store_refresh_token` could not write ``account``
    of ``path``: unreadable or invalid file, a flat file with another account, a folder that cannot be written."""
    file = _prepare(path, account)[0]
    folder = file.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise _error(file, f"its folder {_shown(str(folder))} cannot be written.")
    return file


def store_refresh_token(path: str | os.PathLike[str], refresh_token: str, *, account: str | None = None,
                        seller_id: str | None = None, extra: Mapping[str, str] | None = None) -> Path:
    """Write ``refresh_token`` (and ``seller_id``, and ``extra`` connection-string keys such as ``ClientId``) into
    ``account`` of the credentials file at ``path``, creating it; returns the file's path.

    A file of named accounts gets (or updates) ``account`` (default ``default``); a file of one flat mapping is
    updated when ``account`` is None or ``default``, else it is an error (name the accounts first). The format follows
    the extension (``.json``, ``.hjson``, ``.yml``/``.yaml``); a new file without one is YAML.
    """
    values = {**(extra or {}), "RefreshToken": refresh_token}
    if seller_id:
        values["SellerId"] = seller_id
    return store_fields(path, values, account=account)


def store_fields(path: str | os.PathLike[str], values: Mapping[str, str], *, account: str | None = None) -> Path:
    """Write ``values`` (connection-string key → text, e.g. ``{"ClientSecret": ..., "ClientSecretExpiry": ...}``)
    into ``account`` of the credentials file at ``path``, creating it; returns the file's path.

    Each key replaces the field that sets it (under whatever alias the account uses), else gets a new field; the
    other fields and accounts are kept. Accounts, formats and errors as :func:`store_refresh_token`. The file is
    replaced atomically with mode 0600.
    """
    for key in values:
        if lookup_key(key) is None:
            raise ValueError(f"{key!r} is not a connection-string key")
    file, kind, document, fields = _prepare(path, account)
    for key, value in values.items():
        fields[_field_for(fields, key)] = value
    _write_atomic(file, _dump(file, kind, document))
    return file
