"""The asyncio server of ``sqlspapi serve``: startup, TLS, login, cancel, and one worker thread per client.

Each connection: startup packet (SSLRequest → 'S' + TLS or 'N', GSSENCRequest → 'N', CancelRequest), login
(SCRAM-SHA-256, md5, or trust when the operator allowed it on loopback), ParameterStatus/BackendKeyData, then
messages are handed one by one to :class:`~sqlspapi.server.handler.Handler` in the client's own worker thread.
Before login, :class:`LoginLimits` bound what a client that has not logged in can hold: connections still logging in
are capped, startup and login must finish within a few seconds, and an address with repeated failed logins is
refused for a while (:class:`LoginThrottle`); both live in :mod:`~sqlspapi.server.login`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import ssl
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlspapi.server import protocol as pq
from sqlspapi.server import scram as auth
from sqlspapi.server.handler import Handler
from sqlspapi.server.login import LoginLimits, LoginThrottle
from sqlspapi.server.output import ClientGone, Output
from sqlspapi.server.pgerror import PgError

__all__ = ["BridgeServer", "LoginLimits", "LoginThrottle", "SessionFactory"]

log = logging.getLogger("sqlspapi.server")

#: ``(user, database_name, application_name) -> PgSession``; called in the client's worker thread
SessionFactory = Callable[[str, str, str], Any]

MAX_MESSAGE = 1 << 28
#: seconds a connection over the pre-login cap may take to send its startup packet before it is refused
REFUSE_TIMEOUT = 2.0
SERVER_PARAMETERS = {
    "server_version": "15.0", "server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres", "integer_datetimes": "on", "standard_conforming_strings": "on",
    "TimeZone": "UTC", "is_superuser": "off", "default_transaction_read_only": "on", "in_hot_standby": "off",
}


class _Fatal(Exception):
    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.info = pq.ErrorInfo(sqlstate, message, severity="FATAL")


class BridgeServer:
    """The listening server; one instance per ``sqlspapi serve``."""

    def __init__(self, session_factory: SessionFactory, *, credentials: auth.Credentials | None,
                 auth_method: str = auth.SCRAM, ssl_context: ssl.SSLContext | None = None,
                 max_clients: int = 64, login_limits: LoginLimits | None = None) -> None:
        self.session_factory = session_factory
        self.credentials = credentials
        self.auth_method = auth_method if credentials is not None else auth.TRUST
        self.ssl_context = ssl_context
        self.max_clients = max_clients
        self.login_limits = login_limits or LoginLimits()
        self.throttle = LoginThrottle(self.login_limits.max_failed_logins, self.login_limits.failed_login_window)
        self.server: asyncio.base_events.Server | None = None
        self.clients: dict[int, tuple[int, Handler | None, asyncio.StreamWriter]] = {}
        self._pids = itertools.count(secrets.randbelow(1 << 20) + 1000)
        self._tasks: set[asyncio.Task] = set()
        self._unauthenticated = 0
        self._refusing = 0

    @property
    def unauthenticated(self) -> int:
        """Connections in startup or login right now (capped by ``login_limits.max_unauthenticated``)."""
        return self._unauthenticated

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port."""
        self.server = await asyncio.start_server(self._connection, host, port, limit=1 << 20)
        if not auth.is_loopback(host) and self.ssl_context is None:
            log.warning("listening on %s without TLS: bridge logins are protected by %s, but query results "
                        "travel in clear text; consider --tls-cert/--tls-key", host, self.auth_method)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, interrupt running statements and close every connection."""
        if self.server is not None:
            self.server.close()
        for _pid, (_secret, handler, writer) in list(self.clients.items()):
            if handler is not None:
                handler.request_cancel()
                handler.out.closed = True
            writer.transport.abort()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self.server is not None:
            await self.server.wait_closed()

    # ---------------------------------------------------------------- one connection
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pid = next(self._pids)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            if self._unauthenticated >= self.login_limits.max_unauthenticated:
                await self._refuse(reader, writer)
            else:
                await self._serve(pid, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ClientGone, ssl.SSLError):
            pass
        except _Fatal as exc:
            await self._send_now(writer, pq.error_response(exc.info))
        except pq.ProtocolViolation as exc:
            await self._send_now(writer, pq.error_response(pq.ErrorInfo("08P01", str(exc), severity="FATAL")))
        except Exception:  # noqa: BLE001 - one client must not take the server down
            log.exception("connection %d failed", pid)
        finally:
            self.clients.pop(pid, None)
            writer.transport.abort() if writer.transport.is_closing() else writer.close()

    async def _send_now(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), 5)
        except Exception:  # noqa: BLE001, S110 - the client may already be gone
            pass

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Over the cap of connections still logging in: FATAL 53300 after the startup packet (an SSLRequest is
        answered 'N', so that libpq shows the message; a CancelRequest is still honoured), or without waiting for
        it when it does not come within :data:`REFUSE_TIMEOUT` or as many connections are being refused already."""
        too_many = _Fatal("53300", "sorry, too many clients already")
        if self._refusing >= self.login_limits.max_unauthenticated:
            raise too_many
        self._refusing += 1
        try:
            async with asyncio.timeout(min(REFUSE_TIMEOUT, self.login_limits.auth_timeout)):
                if await self._read_startup(reader, writer, offer_tls=False) is None:
                    return
        except TimeoutError:
            pass
        finally:
            self._refusing -= 1
        raise too_many

    async def _read_startup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                            offer_tls: bool = True) -> dict | None:
        tls = False
        while True:
            (n,) = struct.unpack("!i", await reader.readexactly(4))
            if n < 8 or n > 10000:
                raise pq.ProtocolViolation("invalid length of startup packet")
            body = await reader.readexactly(n - 4)
            (code,) = struct.unpack_from("!i", body)
            if code == pq.SSL_REQUEST and not tls:
                start_tls = offer_tls and self.ssl_context is not None
                writer.write(b"S" if start_tls else b"N")
                await writer.drain()
                if start_tls:
                    await writer.start_tls(self.ssl_context)
                    tls = True
                continue
            if code == pq.GSSENC_REQUEST:
                writer.write(b"N")
                await writer.drain()
                continue
            if code == pq.CANCEL_REQUEST:
                if n != 16:
                    raise pq.ProtocolViolation("invalid length of cancel request packet")
                pid, secret = struct.unpack_from("!ii", body, 4)
                self._cancel(pid, secret)
                return None
            if code >> 16 != 3:
                raise _Fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: "
                                      "server supports 3.0")
            params = pq.parse_startup_params(body[4:])
            options = [k for k in params if k.startswith("_pq_.")]
            if code & 0xFFFF or options:
                writer.write(pq.negotiate_protocol_version(0, options))
            return params

    def _cancel(self, pid: int, secret: int) -> None:
        entry = self.clients.get(pid)
        if entry is not None and entry[1] is not None and secrets.compare_digest(
                entry[0].to_bytes(4, "big", signed=True), secret.to_bytes(4, "big", signed=True)):
            entry[1].request_cancel()

    async def _read_password_message(self, reader: asyncio.StreamReader) -> bytes:
        tag = await reader.readexactly(1)
        (n,) = struct.unpack("!i", await reader.readexactly(4))
        if tag != b"p" or n < 4 or n > 100000:
            raise pq.ProtocolViolation("expected a password message")
        return await reader.readexactly(n - 4)

    async def _login(self, user: str, address: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        creds = self.credentials
        if creds is None:
            return
        wait = self.throttle.retry_after(address)
        if wait > 0:
            raise _Fatal("53300", f"too many failed logins from {address}: try again in {math.ceil(wait)} s")
        self.throttle.begin(address)
        ok = None
        try:
            await self._password_exchange(creds, user, reader, writer)
            ok = True
        except _Fatal:  # only a wrong password or user: 28P01
            ok = False
            raise
        finally:
            self.throttle.end(address, ok)

    async def _password_exchange(self, creds: auth.Credentials, user: str, reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> None:
        failed = _Fatal("28P01", f'password authentication failed for user "{user}"')
        try:
            if self.auth_method == auth.MD5:
                md5 = auth.Md5Exchange(creds)
                writer.write(pq.auth_request(5, md5.salt))
                await writer.drain()
                md5.check(await self._read_password_message(reader))
                if not auth.user_matches(creds, user):
                    raise failed
                return
            scram = auth.ScramExchange(creds)
            writer.write(pq.auth_request(10, pq.cstr(auth.SCRAM) + b"\x00"))
            await writer.drain()
            r = pq.Reader(await self._read_password_message(reader))
            mechanism = r.cstr()
            length = r.int32()
            writer.write(pq.auth_request(11, scram.first(mechanism, r.take(length) if length >= 0 else b"")))
            await writer.drain()
            server_final = scram.final(await self._read_password_message(reader))
            if not auth.user_matches(creds, user):
                raise failed
            writer.write(pq.auth_request(12, server_final))
        except (auth.AuthFailed, PgError, ValueError, struct.error) as exc:  # PgError: text that is not UTF-8
            log.info("login refused for user %r: %s", user, exc)
            raise failed from exc

    async def _serve(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "local"
        self._unauthenticated += 1
        try:
            async with asyncio.timeout(self.login_limits.auth_timeout):  # PostgreSQL's authentication_timeout
                params = await self._read_startup(reader, writer)
                if params is None:
                    return
                user = params.get("user", "")
                if not user:
                    raise _Fatal("28000", "no PostgreSQL user name specified in startup packet")
                await self._login(user, address, reader, writer)
        except TimeoutError:
            raise _Fatal("08006", "authentication timed out") from None
        finally:
            self._unauthenticated -= 1
        if len(self.clients) >= self.max_clients:
            raise _Fatal("53300", "sorry, too many clients already")
        secret = secrets.randbits(31)
        self.clients[pid] = (secret, None, writer)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlspapi-pg-{pid}")
        handler: Handler | None = None
        try:
            database = params.get("database") or user
            app_name = params.get("application_name", "")
            try:
                session = await loop.run_in_executor(executor, self.session_factory, user, database, app_name)
            except Exception as exc:  # noqa: BLE001 - reported to the client as FATAL
                info = pq.error_info(exc)
                info.severity = "FATAL"
                writer.write(pq.error_response(info))
                await writer.drain()
                return
            handler = Handler(session, Output(loop, writer))
            self.clients[pid] = (secret, handler, writer)
            startup = [pq.auth_request(0)]
            settings = {**SERVER_PARAMETERS, "application_name": app_name, "session_authorization": user}
            startup += [pq.parameter_status(k, v) for k, v in settings.items()]
            startup += [pq.backend_key_data(pid, secret), pq.ready_for_query("I")]
            writer.write(b"".join(startup))
            await writer.drain()
            while True:
                header = await reader.readexactly(5)
                tag = header[:1]
                (n,) = struct.unpack_from("!i", header, 1)
                if n < 4 or n > MAX_MESSAGE:
                    raise pq.ProtocolViolation(f"invalid message length {n}")
                body = await reader.readexactly(n - 4) if n > 4 else b""
                message = (tag, [body] if tag == b"Q" else body)  # the handler frees a Query's bytes once read
                del body
                keep = await loop.run_in_executor(executor, handler.handle, *message)
                del message
                await writer.drain()
                if not keep:
                    break
        finally:
            self.clients.pop(pid, None)
            if handler is not None:
                handler.out.closed = True
                handler.request_cancel()
                try:
                    closing = loop.run_in_executor(executor, _quiet(handler.close))
                    await asyncio.wait_for(asyncio.shield(closing), 10)
                except (TimeoutError, asyncio.CancelledError, RuntimeError):
                    pass
            executor.shutdown(wait=False)


def _quiet(fn: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - closing must not fail
            log.debug("closing a session failed", exc_info=True)
    return run
