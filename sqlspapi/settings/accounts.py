"""Several seller accounts on one connection (``Accounts=a,b,c``), and the per-account switches.

:func:`expand` turns a connection's settings into one :class:`~sqlspapi.settings.connstr.Settings` per named account:
the connection's keys, plus that account's fields from the credentials file, profile file or secret (``Account=name``
semantics; ``Accounts=all`` lists the source's accounts). Each account keeps its own credentials, region, marketplaces
and switches, so each gets its own runtime (tokens, rate-limit buckets) and is called within its own usage plans.

The switches, as a seller-management tool keeps them per account (usually written in the account's entry of the
credentials file): ``AllowedTables`` and ``AllowedOperations`` (names, ``*``/``?`` wildcards; empty = all), and
``ReadOnly`` (default true: operations that change the account are refused). :func:`table_refusal` and
:func:`operation_refusal` say why an account may not read a table or call an operation, or return None.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.sources import account_names

__all__ = ["ALL", "MAX_ACCOUNTS", "expand", "account_label", "table_refusal", "operation_refusal"]

#: ``Accounts=all``: every named account of the credentials source.
ALL = "all"
#: Most accounts one connection fans out to.
MAX_ACCOUNTS = 200


def expand(settings: Any) -> dict[str, Any]:
    """Account name → its Settings, in the order ``Accounts`` lists them (``all``: the source's order).

    :class:`~sqlspapi.errors.ConnectionStringError` naming the account when one cannot be used (unknown name, missing
    credentials), or when ``Accounts`` is combined with ``Account``/``Profile``.
    """
    given = {k: str(v.reveal() if hasattr(v, "reveal") else v) for k, v in settings.given.items()}
    for key in ("Account", "Profile"):
        if given.get(key):
            raise ConnectionStringError(f"Accounts and {key} both choose accounts; give Accounts only (its names are "
                                        "the named accounts of the credentials file or secret).", key=key)
    names = list(settings.accounts)
    if ALL in (n.lower() for n in names):
        if len(names) > 1:
            raise ConnectionStringError("Accounts=all cannot be combined with names; write all, or the names.",
                                        key="Accounts")
        names = list(account_names(given))
    if not names:
        raise ConnectionStringError("Accounts names no account.", key="Accounts")
    if len(names) > MAX_ACCOUNTS:
        raise ConnectionStringError(f"Accounts names {len(names)} accounts; one connection fans out to at most "
                                    f"{MAX_ACCOUNTS}. Split them over several connections.", key="Accounts")
    use_profile = not (given.get("CredentialsFile") or given.get("CredentialsSecret")) and _has_profile_file()
    out: dict[str, Any] = {}
    for name in names:
        choose = {"Profile": name} if use_profile else {"Account": name}
        try:
            one = settings.with_overrides(Accounts=None, **choose)
        except ConnectionStringError as exc:
            raise ConnectionStringError(f"account {name!r}: {exc}", key=exc.key) from None
        missing = [key for key, value in (("ClientId", one.client_id), ("ClientSecret", one.client_secret),
                                          ("RefreshToken", one.refresh_token)) if not value]
        if missing:
            from sqlspapi.settings.connstr import _CREDENTIAL_HELP

            raise ConnectionStringError(f"account {name!r}: {_CREDENTIAL_HELP[missing[0]]} Write it in the "
                                        "account's entry of the credentials file (or secret).", key=missing[0])
        _same_versions(settings, one, name)
        out[name] = one
    return out


def _same_versions(connection: Any, one: Any, name: str) -> None:
    """A connection reads one version of each API for all its accounts (its tables are registered once): an
    account whose entry chooses another version is refused, naming the key, rather than silently read with the
    connection's."""
    for key, version in one.api_versions.items():
        chosen = connection.api_versions.get(key)
        if chosen is not None and version != chosen:
            raise ConnectionStringError(
                f"account {name!r}: its entry sets {key}={version}, but this connection reads {key}={chosen} for "
                f"every account (a connection's tables are one version). Remove {key} from the account's entry, "
                f"set it in the connection string for all accounts, or open one connection per version.", key=key)


def _has_profile_file() -> bool:
    """Whether the profile folder holds a credentials file (then ``Accounts`` names its accounts)."""
    from sqlspapi.settings.sources import PROFILE_FILES, profile_dir

    folder = profile_dir()
    return any((folder / name).is_file() for name in PROFILE_FILES)


def account_label(settings: Any) -> str:
    """How messages name the account of ``settings``: its name (``Account``/``Profile``), else its seller id,
    else "this account"."""
    name = getattr(settings, "account", None) or getattr(settings, "profile", None)
    if name:
        return f"account {name!r}"
    if getattr(settings, "seller_id", None):
        return f"seller {settings.seller_id}"
    return "this account"


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def table_refusal(settings: Any, table: str) -> str | None:
    """Why the account of ``settings`` may not read ``table`` (its ``AllowedTables`` switch), else None."""
    allowed = getattr(settings, "allowed_tables", ())
    if not allowed or _matches(table, allowed):
        return None
    return (f"{account_label(settings)} may not read table {table}: its AllowedTables switch allows "
            f"{', '.join(allowed)}. Add the table to AllowedTables (in the account's entry of the credentials file), "
            "or leave the account out (WHERE account <> '...').")


def operation_refusal(settings: Any, op: Any) -> str | None:
    """Why the account of ``settings`` may not call the operation ``op`` (``AllowedOperations``, ``ReadOnly``), else
    None. Grantless operations are the application's, not the account's: no switch applies to them."""
    if op.grantless:
        return None
    if getattr(settings, "read_only", False) and op.writes:
        return (f"{account_label(settings)} is read-only: {op.name} changes the account. Set ReadOnly=false for "
                "this account (in its entry of the credentials file, or the connection string) to allow it.")
    allowed = getattr(settings, "allowed_operations", ())
    if allowed and not _matches(op.name, allowed):
        return (f"{account_label(settings)} may not call {op.name}: its AllowedOperations switch allows "
                f"{', '.join(allowed)}. Add the operation to AllowedOperations (in the account's entry of the "
                "credentials file), or query another table.")
    return None
