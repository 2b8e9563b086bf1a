"""Bridge login: SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL does it), md5, and trust on loopback (opt-in).

The server keeps only derived secrets: the SCRAM StoredKey/ServerKey of a random salt, and the md5 hash PostgreSQL
stores (``md5(password + user)``). The bridge password is unrelated to the Amazon credentials, which never leave
the server. Each exchange is a small state machine driven by :mod:`sqlspapi.server.app`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass

SCRAM = "SCRAM-SHA-256"
MD5 = "md5"
TRUST = "trust"
METHODS = (SCRAM, MD5)
ITERATIONS = 4096


class AuthFailed(Exception):
    """The client's proof of the password is wrong or malformed (SQLSTATE 28P01 / 08P01)."""


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


@dataclass(frozen=True)
class Credentials:
    """The one bridge login: user name plus derived password secrets (the password itself is not kept)."""

    user: str
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes
    md5_hash: str  # hex md5(password + user), as in pg_authid

    @classmethod
    def from_password(cls, user: str, password: str, iterations: int = ITERATIONS) -> Credentials:
        """Derive the secrets of ``password`` for ``user`` with a fresh random salt."""
        salt = os.urandom(16)
        salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode("utf-8"), salt, iterations)
        stored_key = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
        server_key = _hmac(salted, b"Server Key")
        md5_hash = hashlib.md5((password + user).encode("utf-8")).hexdigest()  # noqa: S324 - the md5 protocol
        return cls(user, salt, iterations, stored_key, server_key, md5_hash)


def _saslprep(password: str) -> str:
    """PostgreSQL's SASLprep for ASCII passwords is the identity; others are NFKC-normalised as a close stand-in."""
    if password.isascii():
        return password
    import unicodedata

    return unicodedata.normalize("NFKC", password)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class ScramExchange:
    """Server side of one SCRAM-SHA-256 exchange (no channel binding: the mechanism offered is not -PLUS)."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.nonce = ""
        self.client_first_bare = ""
        self.server_first = ""

    def first(self, mechanism: str, client_first: bytes) -> bytes:
        """Take the SASLInitialResponse; return the server-first-message."""
        if mechanism != SCRAM:
            raise AuthFailed(f"unsupported SASL mechanism {mechanism!r}")
        text = client_first.decode("utf-8")
        if not text.startswith(("n,", "y,")):
            raise AuthFailed("channel binding is not supported; use SCRAM-SHA-256 without -PLUS")
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise AuthFailed("malformed SCRAM client-first-message")
        self.client_first_bare = parts[2]
        attrs = dict(a.split("=", 1) for a in self.client_first_bare.split(",") if "=" in a)
        client_nonce = attrs.get("r")
        if not client_nonce:
            raise AuthFailed("SCRAM client-first-message without nonce")
        self.nonce = client_nonce + base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        salt = base64.b64encode(self.creds.salt).decode("ascii")
        self.server_first = f"r={self.nonce},s={salt},i={self.creds.iterations}"
        return self.server_first.encode("ascii")

    def final(self, client_final: bytes) -> bytes:
        """Check the client-final-message's proof; return the server-final-message (``v=...``)."""
        text = client_final.decode("utf-8")
        without_proof, sep, proof_b64 = text.rpartition(",p=")
        if not sep:
            raise AuthFailed("SCRAM client-final-message without proof")
        attrs = dict(a.split("=", 1) for a in without_proof.split(",") if "=" in a)
        if attrs.get("r") != self.nonce:
            raise AuthFailed("SCRAM nonce mismatch")
        if attrs.get("c") not in ("biws", "eSws"):  # base64 of "n,," / "y,,"
            raise AuthFailed("SCRAM channel binding data mismatch")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = _hmac(self.creds.stored_key, auth_message)
        try:
            proof = base64.b64decode(proof_b64, validate=True)
        except ValueError as exc:
            raise AuthFailed("malformed SCRAM proof") from exc
        if len(proof) != len(signature):
            raise AuthFailed("password authentication failed")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.creds.stored_key):
            raise AuthFailed("password authentication failed")
        server_signature = _hmac(self.creds.server_key, auth_message)
        return b"v=" + base64.b64encode(server_signature)


class Md5Exchange:
    """Server side of md5 password authentication."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.salt = os.urandom(4)

    def check(self, password_message: bytes) -> None:
        """Check the PasswordMessage body ``md5<hex>``; raise :class:`AuthFailed` when it does not match."""
        got = password_message.rstrip(b"\x00").decode("ascii", "replace")
        inner = self.creds.md5_hash.encode("ascii") + self.salt
        want = "md5" + hashlib.md5(inner).hexdigest()  # noqa: S324 - the md5 protocol
        if not hmac.compare_digest(got, want):
            raise AuthFailed("password authentication failed")


def user_matches(creds: Credentials, user: str) -> bool:
    """Constant-time comparison of the startup user with the configured bridge user."""
    return hmac.compare_digest(creds.user.encode("utf-8"), user.encode("utf-8"))
