"""The bridge's wire layer in isolation: value codecs, message codec, SQLSTATE mapping, SCRAM/md5, options.

Protocol behaviour seen from a raw socket against the real stack is in test_server_wire.py."""

from __future__ import annotations

import hashlib
import math
import struct

import pytest

from sqlspapi import errors
from sqlspapi.server import protocol as pq
from sqlspapi.server import scram as auth
from sqlspapi.server import start_in_thread
from sqlspapi.server.bindparams import decode_binary_param, decode_text_param
from sqlspapi.server.codec import binary_encoder
from sqlspapi.server.datarows import batch_encoder


def parse_datarows(data: bytes) -> list[list[bytes | None]]:
    rows, pos = [], 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"D"
        (length,) = struct.unpack_from("!i", data, pos + 1)
        end = pos + 1 + length
        (n,) = struct.unpack_from("!h", data, pos + 5)
        p, row = pos + 7, []
        for _ in range(n):
            (size,) = struct.unpack_from("!i", data, p)
            p += 4
            row.append(None if size < 0 else data[p:p + size])
            p += max(size, 0)
        assert p == end
        rows.append(row)
        pos = end
    return rows


# ---------------------------------------------------------------- codec

def test_text_datarows_by_type():
    enc = batch_encoder([20, 25, 701, 16, 17], [0] * 5)
    data, n = enc(iter([(1, "é", 3.0, True, b"\x00\xff"), (None, None, None, None, None),
                        (-7, "x", 0.1 + 0.2, False, b"")]), 10)
    assert n == 3
    assert parse_datarows(data) == [
        [b"1", "é".encode(), b"3", b"t", b"\\x00ff"], [None] * 5,
        [b"-7", b"x", b"0.30000000000000004", b"f", b"\\x"]]


@pytest.mark.parametrize("value,text", [(1.5, b"1.5"), (3.0, b"3"), (-0.0, b"-0"), (1e16, b"1e+16"),
                                        (1e-05, b"1e-05"), (math.inf, b"Infinity"), (-math.inf, b"-Infinity"),
                                        (math.nan, b"NaN"), (123456789012345680.0, b"1.2345678901234568e+17")])
def test_float8_text_is_shortest_round_trip(value, text):
    for rows in ([(value,)], [(value,), (2,)]):  # one Python type per column, and mixed (value by value)
        data, _ = batch_encoder([701], [0])(iter(rows), 10)
        assert parse_datarows(data)[0] == [text]
    assert value != value or float(text.replace(b"Infinity", b"inf")) == value


def test_mismatched_python_types_fall_back_to_text():
    data, _ = batch_encoder([20, 16, 25], [0, 0, 0])(iter([("abc", 1, 2.5), (4.0, 0, True), (True, "t", None)]), 9)
    assert parse_datarows(data) == [[b"abc", b"t", b"2.5"], [b"4", b"f", b"t"], [b"1", b"t", None]]


def test_batches_respect_the_limit_and_resume():
    enc = batch_encoder([23], [0])
    rows = iter([(i,) for i in range(2500)])
    sizes = [enc(rows, 1000)[1] for _ in range(4)]
    assert sizes == [1000, 1000, 500, 0]


def test_binary_results():
    data, _ = batch_encoder([20, 23, 21, 701, 700, 16, 25, 17], [1] * 8)(
        iter([(2**40, -5, 7, 2.5, 1.5, True, "é", b"\x01")]), 1)
    assert parse_datarows(data) == [[struct.pack("!q", 2**40), struct.pack("!i", -5), struct.pack("!h", 7),
                                     struct.pack("!d", 2.5), struct.pack("!f", 1.5), b"\x01", "é".encode(),
                                     b"\x01"]]
    assert binary_encoder(26)(5) == b"\x00\x00\x00\x05"


def test_timestamp_and_numeric_results():
    """SQLite's ISO text becomes PostgreSQL's timestamptz form (or microseconds since 2000 in binary); a float in a
    numeric column is the decimal it stands for: a sum of money never shows 432.51000000000005."""
    rows = [("2026-11-20T09:00:00Z", 432.51000000000005, "2026-11-20"),
            ("2026-11-20T10:00:00.5+01:00", 12, None), ("not a time", "n/a", "2026-11-20T23:30:00Z")]
    data, _ = batch_encoder([1184, 1700, 1082], [0, 0, 0])(iter(rows), 9)
    assert parse_datarows(data) == [[b"2026-11-20 09:00:00+00", b"432.51", b"2026-11-20"],
                                    [b"2026-11-20 09:00:00.500000+00", b"12", None],
                                    [b"not a time", b"n/a", b"2026-11-20"]]
    data, _ = batch_encoder([1184, 1700, 1082], [1, 1, 1])(iter(rows[:1]), 1)
    [[stamp, amount, day]] = parse_datarows(data)
    assert decode_binary_param(1184, stamp) == "2026-11-20 09:00:00+00"
    assert decode_binary_param(1082, day) == "2026-11-20"
    assert amount == struct.pack("!hhHh2h", 2, 0, 0, 2, 432, 5100)  # PostgreSQL's own binary numeric
    big = batch_encoder([1700], [1])(iter([(-12345678.9,)]), 1)[0]
    assert decode_binary_param(1700, parse_datarows(big)[0][0]) == -12345678.9


def test_parameter_decoding():
    assert decode_text_param(23, b"42") == 42
    assert decode_text_param(701, b"Infinity") == math.inf
    assert decode_text_param(1700, b"12.50") == 12.5 and decode_text_param(1700, b"12") == 12
    assert decode_text_param(16, b"t") is True and decode_text_param(16, b"false") is False
    assert decode_text_param(17, b"\\x00ff") == b"\x00\xff"
    assert decode_text_param(0, "é".encode()) == "é" and decode_text_param(25, b"x") == "x"
    assert decode_binary_param(20, struct.pack("!q", -3)) == -3
    assert decode_binary_param(701, struct.pack("!d", 0.5)) == 0.5
    assert decode_binary_param(16, b"\x01") is True
    assert decode_binary_param(25, b"abc") == "abc"
    # numeric 1234.5: ndigits 2, weight 0, sign +, dscale 1, digits [1234, 5000]
    assert decode_binary_param(1700, struct.pack("!hhHh2h", 2, 0, 0, 1, 1234, 5000)) == 1234.5
    assert decode_binary_param(1082, struct.pack("!i", 1)) == "2000-01-02"
    with pytest.raises(ValueError):
        decode_text_param(23, b"x1")


# ---------------------------------------------------------------- message codec

def test_bind_parsing_and_format_expansion():
    body = (b"p\x00s\x00" + struct.pack("!hh", 1, 1) + struct.pack("!h", 2) + struct.pack("!i", 2) + b"42"
            + struct.pack("!i", -1) + struct.pack("!hh", 1, 0))
    bind = pq.parse_bind(body)
    assert (bind.portal, bind.statement, bind.param_formats, bind.params, bind.result_formats) == \
        ("p", "s", [1], [b"42", None], [0])
    assert pq.expand_formats([], 3) == [0, 0, 0] and pq.expand_formats([1], 2) == [1, 1]
    with pytest.raises(pq.ProtocolViolation):
        pq.expand_formats([0, 1], 3)


def test_row_description_fills_fixed_sizes():
    class Col:
        def __init__(self, name, oid):
            self.name, self.type_oid, self.type_size, self.type_mod = name, oid, -1, -1

    msg = pq.row_description([Col("id", 20), Col("t", 25)], [0, 1])
    assert msg[:1] == b"T"
    assert b"id\x00" + struct.pack("!ihihih", 0, 0, 20, 8, -1, 0) in msg
    assert b"t\x00" + struct.pack("!ihihih", 0, 0, 25, -1, -1, 1) in msg


@pytest.mark.parametrize("exc,state", [
    (errors.MissingFilterError("needs a filter"), "22023"), (errors.RestrictedDataError("pii"), "42501"),
    (errors.ProgrammingError("bad"), "42000"), (errors.NotSupportedError("no"), "0A000"),
    (errors.ConnectionStringError("key"), "08001"), (errors.InterfaceError("x"), "08000"),
    (errors.AuthError("lwa"), "28000"), (errors.ThrottledError("slow", code="QuotaExceeded"), "53400"),
    (errors.InternalError("bug"), "XX000"), (errors.OperationalError("net"), "58000"),
    (RuntimeError("boom"), "XX000")])
def test_sqlstate_mapping(exc, state):
    assert pq.error_info(exc).sqlstate == state


def test_spapi_error_text_carries_code_and_request_id():
    exc = errors.SPAPIError("getOrders failed: InvalidInput", code="InvalidInput", request_id="req-123",
                            status=400, operation="getOrders", api_message="bad date")
    info = pq.error_info(exc)
    assert info.sqlstate == "58000"
    assert "req-123" in info.message and "InvalidInput" in info.message
    assert "getOrders" in info.detail and "400" in info.detail and "bad date" in info.detail
    msg = pq.error_response(info)
    assert b"C58000\x00" in msg and b"req-123" in msg


def test_apsw_errors_map_to_sqlstates():
    import apsw

    con = apsw.Connection(":memory:")
    for sql, state in [("select * from nope", "42P01"), ("select nope", "42703"), ("selec 1", "42601")]:
        with pytest.raises(apsw.Error) as info:
            con.execute(sql)
        assert pq.error_info(info.value).sqlstate == state


# ---------------------------------------------------------------- auth

def test_scram_against_an_independent_client():
    scramp = pytest.importorskip("scramp")
    creds = auth.Credentials.from_password("bi", "s3cret")
    for password, ok in (("s3cret", True), ("wrong", False)):
        client = scramp.ScramClient(["SCRAM-SHA-256"], "bi", password)
        server = auth.ScramExchange(creds)
        server_first = server.first("SCRAM-SHA-256", client.get_client_first().encode())
        client.set_server_first(server_first.decode())
        if ok:
            client.set_server_final(server.final(client.get_client_final().encode()).decode())  # verifies us
        else:
            with pytest.raises(auth.AuthFailed):
                server.final(client.get_client_final().encode())


def test_md5_exchange_and_loopback():
    creds = auth.Credentials.from_password("bi", "pw")
    ex = auth.Md5Exchange(creds)
    inner = hashlib.md5(b"pwbi").hexdigest().encode()
    ex.check(b"md5" + hashlib.md5(inner + ex.salt).hexdigest().encode() + b"\x00")
    with pytest.raises(auth.AuthFailed):
        ex.check(b"md5" + b"0" * 32)
    assert auth.is_loopback("127.0.0.1") and auth.is_loopback("::1") and not auth.is_loopback("0.0.0.0")


def test_password_required_and_trust_only_on_loopback():
    with pytest.raises(ValueError, match="password is required"):
        start_in_thread(demo=True)
    with pytest.raises(ValueError, match="loopback"):
        start_in_thread(demo=True, host="0.0.0.0", trust_loopback=True)


def test_main_refuses_without_password(capsys):
    from sqlspapi.server import main

    assert main(["--demo", "--port", "0"]) == 2
    assert "password is required" in capsys.readouterr().err
