"""PostgreSQL v3 wire-protocol messages: frontend message parsing, backend message building, errors → SQLSTATE.

Pure functions over bytes, no I/O: :mod:`sqlspapi.server.app` does the reading and writing. Backend builders return
complete messages (type byte + length + body). See https://www.postgresql.org/docs/15/protocol-message-formats.html
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from sqlspapi import errors
from sqlspapi.server.codec import TYPE_SIZES
from sqlspapi.server.pgerror import PgError

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

_I32 = struct.Struct("!i")
_I16 = struct.Struct("!h")
_U32 = struct.Struct("!I")


class ProtocolViolation(Exception):
    """The client sent bytes that are not a valid message (SQLSTATE 08P01).

    Inside a message's fields (a string without its NUL, a message shorter than its fields) this is an ERROR and the
    connection goes on, as in PostgreSQL; a bad message length or type ends the connection (FATAL).
    """


def invalid_encoding_message(data: bytes | memoryview, exc: UnicodeDecodeError) -> str:
    """PostgreSQL's text: ``invalid byte sequence for encoding "UTF8": 0xe9 0x27 0x20`` (the bytes from the bad one
    on, as many as its lead byte announces)."""
    lead = data[exc.start]
    length = 2 if lead & 0xE0 == 0xC0 else 3 if lead & 0xF0 == 0xE0 else 4 if lead & 0xF8 == 0xF0 else 1
    shown = " ".join(f"0x{b:02x}" for b in data[exc.start:exc.start + length])
    return f'invalid byte sequence for encoding "UTF8": {shown}'


def decode_utf8(data: bytes | memoryview) -> str:
    """``data`` as UTF-8, or a :class:`PgError` 22021 (character_not_in_repertoire) as PostgreSQL reports it."""
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError as exc:
        raise PgError("22021", invalid_encoding_message(data, exc)) from None


# ---------------------------------------------------------------- reading frontend messages

class Reader:
    """A cursor over one message body; a field past the end is a :class:`ProtocolViolation`, as in PostgreSQL."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _unpack(self, fmt: struct.Struct) -> int:
        if self.pos + fmt.size > len(self.data):
            raise ProtocolViolation("insufficient data left in message")
        (v,) = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return v

    def int16(self) -> int:
        """Read a signed 16-bit integer."""
        return self._unpack(_I16)

    def int32(self) -> int:
        """Read a signed 32-bit integer."""
        return self._unpack(_I32)

    def uint32(self) -> int:
        """Read an unsigned 32-bit integer (an OID)."""
        return self._unpack(_U32)

    def cstr(self) -> str:
        """Read a NUL-terminated UTF-8 string."""
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolViolation("invalid string in message")
        s = decode_utf8(memoryview(self.data)[self.pos:end])  # no copy of a big query's bytes
        self.pos = end + 1
        return s

    def take(self, n: int) -> bytes:
        """Read n raw bytes."""
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("insufficient data left in message")
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def rest(self) -> bytes:
        """Everything not read yet."""
        v = self.data[self.pos:]
        self.pos = len(self.data)
        return v

    def end(self) -> None:
        """The message must end here (PostgreSQL's ``pq_getmsgend``)."""
        if self.pos != len(self.data):
            raise ProtocolViolation("invalid message format")


def parse_startup_params(body: bytes) -> dict[str, str]:
    """The key/value pairs of a StartupMessage body (after the protocol version)."""
    parts = body.split(b"\x00")
    params: dict[str, str] = {}
    for i in range(0, len(parts) - 1, 2):
        if not parts[i]:
            break
        params[parts[i].decode("utf-8", "replace")] = parts[i + 1].decode("utf-8", "replace")
    return params


@dataclass
class Parse:
    """Frontend Parse ('P')."""

    name: str
    query: str
    param_oids: list[int]


@dataclass
class Bind:
    """Frontend Bind ('B')."""

    portal: str
    statement: str
    param_formats: list[int]
    params: list[bytes | None]
    result_formats: list[int]


def parse_query(body: bytes) -> str:
    """The SQL of a Query ('Q') body."""
    r = Reader(body)
    sql = r.cstr()
    r.end()
    return sql


def parse_parse(body: bytes) -> Parse:
    """Decode a Parse message body."""
    r = Reader(body)
    name, query = r.cstr(), r.cstr()
    oids = [r.uint32() for _ in range(r.int16())]
    r.end()
    return Parse(name, query, oids)


def parse_bind(body: bytes) -> Bind:
    """Decode a Bind message body (the result format codes may be left out, as old clients do)."""
    r = Reader(body)
    portal, statement = r.cstr(), r.cstr()
    formats = [r.int16() for _ in range(r.int16())]
    params: list[bytes | None] = []
    for _ in range(r.int16()):
        n = r.int32()
        params.append(None if n < 0 else r.take(n))
    result_formats = [r.int16() for _ in range(r.int16())] if r.pos < len(body) else []
    r.end()
    return Bind(portal, statement, formats, params, result_formats)


def parse_target(body: bytes) -> tuple[bytes, str]:
    """The kind (``S`` statement / ``P`` portal) and name of a Describe or Close body."""
    r = Reader(body)
    kind, name = r.take(1), r.cstr()
    r.end()
    return kind, name


def parse_execute(body: bytes) -> tuple[str, int]:
    """The portal name and row limit (0 = all) of an Execute body."""
    r = Reader(body)
    name, max_rows = r.cstr(), r.int32()
    r.end()
    return name, max_rows


def expand_formats(formats: Sequence[int], n: int) -> list[int]:
    """Format codes per item: none = all text, one = that for all, else one each (PostgreSQL's rule)."""
    if not formats:
        return [0] * n
    if len(formats) == 1:
        return [formats[0]] * n
    if len(formats) != n:
        raise ProtocolViolation(f"bind message has {len(formats)} format codes for {n} items")
    return list(formats)


# ---------------------------------------------------------------- building backend messages

def message(tag: bytes, body: bytes = b"") -> bytes:
    """A complete backend message."""
    return tag + _I32.pack(len(body) + 4) + body


def cstr(s: str) -> bytes:
    """A NUL-terminated UTF-8 string."""
    return s.encode("utf-8") + b"\x00"


def auth_request(code: int, payload: bytes = b"") -> bytes:
    """Authentication* ('R'): 0 ok, 5 md5 (payload = salt), 10 SASL, 11 SASL continue, 12 SASL final."""
    return message(b"R", _I32.pack(code) + payload)


def parameter_status(name: str, value: str) -> bytes:
    """ParameterStatus ('S')."""
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    """BackendKeyData ('K')."""
    return message(b"K", struct.pack("!ii", pid, secret))


def ready_for_query(status: str) -> bytes:
    """ReadyForQuery ('Z') with 'I', 'T' or 'E'."""
    return message(b"Z", status.encode("ascii"))


def command_complete(tag: str) -> bytes:
    """CommandComplete ('C')."""
    return message(b"C", cstr(tag))


def negotiate_protocol_version(minor: int, unsupported: Sequence[str]) -> bytes:
    """NegotiateProtocolVersion ('v'): we speak 3.0 and none of the ``_pq_`` options."""
    body = struct.pack("!ii", minor, len(unsupported)) + b"".join(cstr(o) for o in unsupported)
    return message(b"v", body)


def row_description(columns: Sequence, formats: Sequence[int]) -> bytes:
    """RowDescription ('T') for ColumnDesc-like objects (name, type_oid, type_size, type_mod)."""
    parts = [_I16.pack(len(columns))]
    for col, fmt in zip(columns, formats, strict=True):
        size = col.type_size if col.type_size != -1 else TYPE_SIZES.get(col.type_oid, -1)
        parts.append(cstr(col.name) + struct.pack("!ihihih", 0, 0, col.type_oid, size, col.type_mod, fmt))
    return message(b"T", b"".join(parts))


def parameter_description(oids: Sequence[int]) -> bytes:
    """ParameterDescription ('t')."""
    return message(b"t", _I16.pack(len(oids)) + b"".join(struct.pack("!I", o) for o in oids))


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY = message(b"I")


# ---------------------------------------------------------------- errors

@dataclass
class ErrorInfo:
    """What goes into an ErrorResponse."""

    sqlstate: str
    message: str
    detail: str | None = None
    hint: str | None = None
    severity: str = "ERROR"
    context: str | None = None        # the W field: where it happened (e.g. "unnamed portal parameter $1")


def error_response(info: ErrorInfo) -> bytes:
    """ErrorResponse ('E') with severity, SQLSTATE, message and optional detail/hint."""
    fields = [(b"S", info.severity), (b"V", info.severity), (b"C", info.sqlstate), (b"M", info.message)]
    if info.detail:
        fields.append((b"D", info.detail))
    if info.hint:
        fields.append((b"H", info.hint))
    if info.context:
        fields.append((b"W", info.context))
    return message(b"E", b"".join(k + cstr(v) for k, v in fields) + b"\x00")


def notice_response(text: str) -> bytes:
    """NoticeResponse ('N') with severity NOTICE."""
    fields = [(b"S", "NOTICE"), (b"V", "NOTICE"), (b"C", "00000"), (b"M", text)]
    return message(b"N", b"".join(k + cstr(v) for k, v in fields) + b"\x00")


_SQLITE_STATES = (("no such table", "42P01"), ("no such column", "42703"), ("syntax error", "42601"),
                  ("no such function", "42883"), ("ambiguous column", "42702"), ("incomplete input", "42601"))


def _spapi_info(exc: errors.SPAPIError, sqlstate: str) -> ErrorInfo:
    message_text = str(exc)
    extra = []
    if exc.code and exc.code not in message_text:
        extra.append(f"SP-API code {exc.code}")
    if exc.request_id and exc.request_id not in message_text:
        extra.append(f"request id {exc.request_id}")
    if extra:
        message_text += f" ({', '.join(extra)})"
    detail = "; ".join(f"{k}: {v}" for k, v in (("operation", exc.operation), ("HTTP status", exc.status),
                                                 ("SP-API code", exc.code), ("request id", exc.request_id),
                                                 ("API message", exc.api_message)) if v)
    return ErrorInfo(sqlstate, message_text, detail or None)


def error_info(exc: BaseException) -> ErrorInfo:
    """Map any exception raised by a session to the SQLSTATE and text of an ErrorResponse (see server-interface.md)."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return ErrorInfo(sqlstate, getattr(exc, "message", None) or str(exc), getattr(exc, "detail", None),
                         getattr(exc, "hint", None), context=getattr(exc, "context", None))
    if isinstance(exc, errors.QueryCancelled):  # cancelled, even while waiting for the rate limiter
        return ErrorInfo("57014", "canceling statement due to user request", str(exc) or None)
    if isinstance(exc, errors.ThrottledError):
        return _spapi_info(exc, "53400")
    if isinstance(exc, errors.SPAPIError):
        return _spapi_info(exc, "58000")
    table: list[tuple[type[BaseException], str]] = [
        (errors.MissingFilterError, "22023"), (errors.RestrictedDataError, "42501"), (errors.CallLimitError, "54000"),
        (errors.NotSupportedError, "0A000"), (errors.ProgrammingError, "42000"), (errors.DataError, "22000"),
        (errors.ConnectionStringError, "08001"), (errors.InterfaceError, "08000"), (errors.AuthError, "28000"),
        (errors.InternalError, "XX000"), (errors.DatabaseError, "58000"), (errors.Error, "58000")]
    for cls, state in table:
        if isinstance(exc, cls):
            return ErrorInfo(state, str(exc))
    return _apsw_or_internal(exc)


def _apsw_or_internal(exc: BaseException) -> ErrorInfo:
    try:
        import apsw
    except ImportError:  # pragma: no cover - apsw is a hard dependency
        apsw = None
    text = str(exc)
    if apsw is not None:
        if isinstance(exc, apsw.InterruptError):
            return ErrorInfo("57014", "canceling statement due to user request")
        if isinstance(exc, apsw.SQLError):
            low = text.lower()
            state = next((s for key, s in _SQLITE_STATES if key in low), "42000")
            return ErrorInfo(state, text.removeprefix("SQLError: "))
        if isinstance(exc, apsw.ReadOnlyError):
            return ErrorInfo("25006", text)
        if isinstance(exc, apsw.ConstraintError):
            return ErrorInfo("23000", text)
        if isinstance(exc, apsw.Error):
            return ErrorInfo("58000", text)
    if isinstance(exc, ValueError | UnicodeDecodeError | struct.error):
        return ErrorInfo("22P02", f"invalid input: {text}")
    return ErrorInfo("XX000", f"internal error: {type(exc).__name__}: {text}")
