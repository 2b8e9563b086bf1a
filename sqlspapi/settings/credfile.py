"""Reading a credentials document — a credentials file (JSON, HJSON or YAML) or the JSON of an AWS Secrets Manager
secret — into connection-string keys: the shared ground of :mod:`sqlspapi.settings.sources` (which chooses the source
and applies precedence), :mod:`~sqlspapi.settings.secret_source`, and the writers :mod:`~sqlspapi.settings.store` and
:mod:`~sqlspapi.settings.secret_store`.

A document holds either one flat mapping of fields, or several named accounts (top-level mappings; a scalar
``version`` is not an account). Field names are connection-string keys or any of their aliases (``lwa_app_id``,
``client_id``, ``amazon_sp_client_id`` ...). Secret values are never quoted: errors name the file, the account and
the field, never a value; a YAML or JSON syntax error gives the line and column only. A file readable by group or
others gives a notice saying ``chmod 600 <path>``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.keys import _to_text, lookup_key
from sqlspapi.settings.redact import _secret_name_in

__all__ = ["SOURCE_KEYS", "Sourced", "read_credentials_file"]

SOURCE_KEYS = ("CredentialsFile", "Profile", "CredentialsSecret", "Account")
"""The keys that choose a source; a credentials file or secret may not set them."""

_DEFAULT_ACCOUNT = "default"
_NOT_ACCOUNTS = ("version",)
_MAX_BYTES = 1_000_000
_INSTALL = "pip install 'sqlspapi[credentials]'"
_UNSAFE = re.compile(r"[;={}\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Sourced:
    """What the sources gave: canonical key → text, key → where it came from, and notices for the user.

    ``values`` holds secrets as plain text (the parser wraps them in :class:`~sqlspapi.settings.values.Secret`), so
    it is left out of ``repr``: ``origins`` names the keys.
    """

    values: dict[str, str] = field(default_factory=dict, repr=False)
    origins: dict[str, str] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


def _shown(text: str) -> str:
    """``text`` quoted for a message, or a placeholder when it could hold a value (a secret key's name, ``;`` ...)."""
    if _UNSAFE.search(text) or _secret_name_in(text) or len(text) > 200:
        return "(name not shown)"
    return repr(text)


@dataclass(frozen=True)
class _Origin:
    """Where fields come from, for messages: ``label`` starts them, ``key`` is the key that chose the source."""

    label: str
    key: str

    def error(self, message: str, key: str | None = None) -> ConnectionStringError:
        """An error about this source (``key`` defaults to the key that chose it)."""
        return ConnectionStringError(f"{self.label}: {message}", key=key or self.key)


def _file_origin(path: Path) -> _Origin:
    return _Origin(f"Credentials file {_shown(str(path))}", "CredentialsFile")


def _error(path: Path, message: str, key: str | None = None) -> ConnectionStringError:
    return _file_origin(path).error(message, key)


# -------------------- reading a file


def _format_of(path: Path, text: str) -> str:
    """``json``, ``hjson`` or ``yaml``: by extension, else ``json``/``hjson`` for text starting with ``{``."""
    ext = path.suffix.lower()
    if ext in (".json", ".hjson"):
        return ext[1:]
    if ext in (".yml", ".yaml"):
        return "yaml"
    if text.lstrip().startswith("{"):
        try:
            json.loads(text)
        except ValueError:
            return "hjson"
        return "json"
    return "yaml"


def _load(path: Path, text: str) -> Any:
    """The document of ``text`` in its format; syntax errors give a line and column, never the text."""
    kind = _format_of(path, text)
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    if kind == "hjson":
        try:
            import hjson
        except ImportError:
            raise _error(path, f"reading HJSON needs the hjson package: {_INSTALL}") from None
        try:
            return hjson.loads(text)
        except hjson.HjsonDecodeError as exc:
            raise _error(path, f"not valid HJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    try:
        import yaml
    except ImportError:
        raise _error(path, f"reading YAML needs the PyYAML package: {_INSTALL}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise _error(path, f"not valid YAML{where}.") from None


def _accounts(origin: _Origin, document: Any) -> dict[str, Mapping[Any, Any]] | None:
    """Named accounts of a document (top-level mappings), or ``None`` for one flat mapping of fields."""
    if not isinstance(document, Mapping):
        raise origin.error("expected a mapping of fields (or of named accounts) at the top level.")
    if not any(isinstance(v, Mapping) for v in document.values()):
        return None
    accounts: dict[str, Mapping[Any, Any]] = {}
    for name, value in document.items():
        if isinstance(value, Mapping):
            accounts[str(name)] = value
        elif str(name).lower() not in _NOT_ACCOUNTS:
            raise origin.error(f"top-level field {_shown(str(name))} is neither an account (a mapping of fields) "
                               "nor 'version'; put it inside an account.")
    return accounts


def _pick(origin: _Origin, accounts: dict[str, Mapping[Any, Any]],
          account: str | None) -> tuple[str, Mapping[Any, Any]]:
    """The account named ``account``; without one: ``default``, else the only account."""
    names = ", ".join(_shown(n) for n in accounts) or "none"
    if account is not None:
        if account in accounts:
            return account, accounts[account]
        raise origin.error(f"no account {_shown(account)}; its accounts are: {names}.", key="Account")
    if _DEFAULT_ACCOUNT in accounts:
        return _DEFAULT_ACCOUNT, accounts[_DEFAULT_ACCOUNT]
    if len(accounts) == 1:
        return next(iter(accounts.items()))
    raise origin.error(f"holds several accounts and none is named 'default': choose one with Account=name "
                       f"(its accounts are: {names}).", key="Account")


def _fields(origin: _Origin, where: str, fields: Mapping[Any, Any]) -> dict[str, str]:
    """An account's fields as canonical key → text; unknown, duplicate or nested fields are errors."""
    out: dict[str, str] = {}
    field_of: dict[str, str] = {}
    for raw_name, value in fields.items():
        name = str(raw_name)
        spec = lookup_key(name)
        if spec is None or spec.name in SOURCE_KEYS:
            why = "is not a connection-string key or alias" if spec is None else "cannot be set in a credentials file"
            raise origin.error(f"field {_shown(name)}{where} {why} (value not shown).")
        if spec.name in field_of:
            raise origin.error(f"fields {_shown(field_of[spec.name])} and {_shown(name)}{where} both set "
                               f"{spec.name}; keep one.", key=spec.name)
        if isinstance(value, Mapping):
            raise origin.error(f"field {_shown(name)}{where} holds a mapping; write its value as text.",
                         key=spec.name)
        field_of[spec.name] = name
        text = _to_text(spec, value)
        if text != "":
            out[spec.name] = text
    return out


def read_credentials_file(path: str | os.PathLike[str], account: str | None = None) -> Sourced:
    """Read a credentials file: the chosen account's keys, their origin, and a notice if the file is readable by
    group or others. ``account`` names one of several accounts; without it ``default``, else the only one.

    :class:`~sqlspapi.errors.ConnectionStringError` for a missing or unreadable file, a syntax error, an unknown
    account or field (named, never with its value), or a missing HJSON/YAML library.
    """
    file = Path(os.path.expanduser(os.fspath(path)))
    origin = _file_origin(file)
    chosen, where = _document_fields(origin, _read_document(file), account)
    described = f"credentials file {_shown(str(file))}{where}"
    return Sourced(chosen, dict.fromkeys(chosen, described), _permission_notices(file))


def _read_document(file: Path) -> Any:
    """The parsed document of the credentials file ``file`` (errors name the file, never its text)."""
    try:
        if not file.is_file() and file.exists():
            raise _error(file, "is not a regular file.")
        if file.stat().st_size > _MAX_BYTES:
            raise _error(file, f"is larger than {_MAX_BYTES} bytes; a credentials file is a few lines.")
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _error(file, "no such file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(file, f"cannot be read ({type(exc).__name__}).") from None
    return _load(file, text)


def _document_fields(origin: _Origin, document: Any, account: str | None) -> tuple[dict[str, str], str]:
    """The fields of a credentials document (one flat mapping, or named accounts picked by ``account``) as
    canonical key → text, and `` (account 'name')`` or ``""`` for messages. Shared by files and secrets."""
    accounts = _accounts(origin, document)
    if accounts is None:
        if account is not None and account != _DEFAULT_ACCOUNT:
            raise origin.error(f"holds one set of fields, not named accounts, so there is no account "
                               f"{_shown(account)}; remove Account or name the accounts.", key="Account")
        return _fields(origin, "", document), ""
    name, fields = _pick(origin, accounts, account)
    where = f" (account {_shown(name)})"
    return _fields(origin, where, fields), where


def _permission_notices(path: Path) -> tuple[str, ...]:
    """A notice when ``path`` is readable or writable by group or others (POSIX only)."""
    if os.name != "posix":
        return ()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return ()
    if not mode & 0o077:
        return ()
    return (f"Credentials file {path} is accessible by group or others (mode {mode:04o}); it holds secrets, "
            f"so restrict it: chmod 600 {path}",)
