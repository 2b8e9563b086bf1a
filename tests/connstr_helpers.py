"""Helpers shared by the connection-string tests: credentials whose secrets must never be shown, parsing with them,
and the check that a text shows none of them."""

from __future__ import annotations

import pytest

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.connstr import Settings, parse

CLIENT_SECRET = "amzn1.oa2-cs.v1.FAKE-SUPERSECRETVALUE0123456789"
REFRESH = "Atzr|FAKE-REFRESHTOKENSECRETVALUE"
AWS_SECRET = "FAKE-AWSSECRETACCESSKEYVALUE"
SECRETS = (CLIENT_SECRET, REFRESH, AWS_SECRET)
CREDS = f"ClientId=amzn1.application-oa2-client.abc;ClientSecret={CLIENT_SECRET};RefreshToken={REFRESH}"


def p(extra: str = "", **kw: object) -> Settings:
    """Parse the base credentials plus ``extra``."""
    return parse(CREDS + (";" + extra if extra else ""), **kw)


def error(text: str, **kw: object) -> ConnectionStringError:
    """The ConnectionStringError that parsing ``text`` raises (the test fails if it parses)."""
    with pytest.raises(ConnectionStringError) as info:
        parse(text, **kw)
    return info.value


def assert_no_secret(text: str) -> None:
    """``text`` shows none of the secrets, not even a part of one."""
    for secret in SECRETS:
        assert secret not in text
        assert secret[6:20] not in text
