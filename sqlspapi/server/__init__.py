"""``sqlspapi serve``: the live sqlspapi tables over the PostgreSQL wire protocol, for psqlODBC, psql and drivers.

``main(argv)`` is the command line; ``serve(...)`` runs a server until interrupted; ``start_in_thread(...)`` runs
one in a background thread and returns a handle with ``.port`` and ``.stop()`` (tests, notebooks). ``LoginLimits``
holds the limits on clients that have not logged in yet (docs/server-interface.md, "Limits").
Every client gets its own session (and ``Database``); all share one SP-API ``Client`` — so one rate limiter,
token cache and single-flight — per seller account. The bridge login is separate from the Amazon credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any

from sqlspapi.errors import Error
from sqlspapi.server import scram as auth
from sqlspapi.server.app import LoginLimits

PASSWORD_ENV = "SQLSPAPI_BRIDGE_PASSWORD"
CONNSTR_ENV = "SQLSPAPI_CONNECTION_STRING"
#: Seconds an SP-API answer stays shareable between bridge clients of the same seller account: dashboards
#: refreshing together send each call once (SP-API data is minutes fresh at best, so 5 s costs nothing).
SHARE_WINDOW = 5.0
log = logging.getLogger("sqlspapi.server")


class ServerHandle:
    """A server running in a background thread: ``.host``, ``.port``, ``.stop()``; also a context manager."""

    def __init__(self, thread: threading.Thread, loop: asyncio.AbstractEventLoop, server: Any, host: str,
                 port: int, on_stop: Callable[[], None]) -> None:
        self.thread, self.loop, self.server = thread, loop, server
        self.host, self.port = host, port
        self._on_stop = on_stop
        self._stopped = False

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection and the listener, then end the thread."""
        if self._stopped:
            return
        self._stopped = True
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)
            self._on_stop()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def database_session_factory(connection_string: str | None, *, demo: bool = False,
                             max_query_size: int | None = None) -> tuple[Callable, Callable]:
    """``(factory, close)``: sessions over ``open_database`` sharing the first database's SP-API client.

    The first Database is opened here, so a bad connection string fails at start rather than at first login.
    ``max_query_size``: the sessions' query size cap in bytes (None: ``$SQLSPAPI_BRIDGE_MAX_QUERY_SIZE`` or 16 MiB).
    """
    from sqlspapi.engine import open_database
    from sqlspapi.server.session import PgSession

    first = open_database(connection_string, demo=demo)
    shared_client = first.client
    shared_client.share_window = SHARE_WINDOW

    def factory(user: str, database_name: str, application_name: str) -> Any:
        database = open_database(connection_string, demo=demo, client=shared_client)
        try:
            return PgSession(database, user=user, database_name=database_name,
                             application_name=application_name, max_query_size=max_query_size)
        except BaseException:
            database.close()
            raise

    return factory, first.close


def make_ssl_context(cert: str, key: str) -> ssl.SSLContext:
    """Server TLS context (TLS 1.2+) from PEM files."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def _build(connection_string: str | None, demo: bool, host: str, user: str, password: str | None,
           trust_loopback: bool, auth_method: str, tls_cert: str | None, tls_key: str | None, max_clients: int,
           login_limits: LoginLimits | None, max_query_size: int | str | None,
           session_factory: Callable | None) -> tuple[Any, Callable[[], None]]:
    from sqlspapi.server.app import BridgeServer
    from sqlspapi.server.guard import query_size_limit

    if password is not None and not password.strip():
        raise ValueError(f"the bridge password is empty: give a non-empty --password or ${PASSWORD_ENV}, or unset "
                         "it and use --trust-loopback to allow logins without one on 127.0.0.1")
    if password is None and not trust_loopback:
        raise ValueError(f"a bridge password is required: --password or ${PASSWORD_ENV} "
                         "(or --trust-loopback to allow logins without one on 127.0.0.1)")
    if password is None and not auth.is_loopback(host):
        raise ValueError(f"--trust-loopback only works when listening on loopback, not on {host!r}")
    if bool(tls_cert) != bool(tls_key):
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    if auth_method not in auth.METHODS:
        raise ValueError(f"auth method must be one of {', '.join(auth.METHODS)}")
    # a typo fails at start, not at each login; without a value, each session reads the environment variable itself
    size = None
    if max_query_size is None:
        query_size_limit()
    else:
        try:
            size = query_size_limit(str(max_query_size))
        except ValueError:
            raise ValueError(f"--max-query-size {str(max_query_size)[:40]!r} is not a size: write bytes (16777216) "
                             "or a number with kB, MB or GB (16MB)") from None
    creds = auth.Credentials.from_password(user, password) if password is not None else None
    ctx = make_ssl_context(tls_cert, tls_key) if tls_cert and tls_key else None
    close: Callable[[], None] = lambda: None  # noqa: E731
    if session_factory is None:
        session_factory, close = database_session_factory(connection_string, demo=demo, max_query_size=size)
    server = BridgeServer(session_factory, credentials=creds, auth_method=auth_method, ssl_context=ctx,
                          max_clients=max_clients, login_limits=login_limits)
    return server, close


def start_in_thread(connection_string: str | None = None, *, demo: bool = False, host: str = "127.0.0.1",
                    port: int = 0, user: str = "sqlspapi", password: str | None = None,
                    trust_loopback: bool = False, auth_method: str = auth.SCRAM, tls_cert: str | None = None,
                    tls_key: str | None = None, max_clients: int = 64, login_limits: LoginLimits | None = None,
                    max_query_size: int | str | None = None, session_factory: Callable | None = None) -> ServerHandle:
    """Start a bridge server in a daemon thread (port 0 = any free port) and return its handle.

    An empty or blank ``password`` is refused (``ValueError``), as is none without ``trust_loopback``.
    ``max_query_size``: bytes, or text such as ``"64MB"``; None: ``$SQLSPAPI_BRIDGE_MAX_QUERY_SIZE`` or 16 MiB.
    """
    server, close = _build(connection_string, demo, host, user, password, trust_loopback, auth_method,
                           tls_cert, tls_key, max_clients, login_limits, max_query_size, session_factory)
    loop = asyncio.new_event_loop()
    started: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["port"] = loop.run_until_complete(server.start(host, port))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            started["error"] = exc
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="sqlspapi-serve", daemon=True)
    thread.start()
    ready.wait()
    if "error" in started:
        close()
        raise started["error"]
    return ServerHandle(thread, loop, server, host, started["port"], close)


def serve(connection_string: str | None = None, *, demo: bool = False, host: str = "127.0.0.1", port: int = 5433,
          user: str = "sqlspapi", password: str | None = None, trust_loopback: bool = False,
          auth_method: str = auth.SCRAM, tls_cert: str | None = None, tls_key: str | None = None,
          max_clients: int = 64, login_limits: LoginLimits | None = None, max_query_size: int | str | None = None,
          ready: Callable[[int], None] | None = None) -> None:
    """Run the bridge in this thread until interrupted (Ctrl-C); arguments and errors as :func:`start_in_thread`."""
    server, close = _build(connection_string, demo, host, user, password, trust_loopback, auth_method,
                           tls_cert, tls_key, max_clients, login_limits, max_query_size, None)

    async def run() -> None:
        bound = await server.start(host, port)
        if ready is not None:
            ready(bound)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        close()


def build_parser() -> argparse.ArgumentParser:
    """The ``sqlspapi serve`` argument parser."""
    p = argparse.ArgumentParser(prog="sqlspapi serve", description="Serve the sqlspapi tables over the "
                                "PostgreSQL wire protocol (psqlODBC, psql, BI tools).")
    p.add_argument("connection_string", nargs="?", help=f"SP-API connection string (default ${CONNSTR_ENV})")
    p.add_argument("--demo", action="store_true", help="serve the built-in emulator's data")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5433, help="port (default 5433)")
    p.add_argument("--user", default="sqlspapi", help="bridge user name clients log in with (default sqlspapi)")
    p.add_argument("--password", help=f"bridge password (default ${PASSWORD_ENV}); not an Amazon credential")
    p.add_argument("--auth", dest="auth_method", default=auth.SCRAM, choices=auth.METHODS,
                   help="password method offered to clients (default SCRAM-SHA-256)")
    p.add_argument("--trust-loopback", action="store_true",
                   help="allow logins without a password (only when listening on loopback)")
    p.add_argument("--tls-cert", help="PEM certificate: answer SSLRequest with TLS")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--max-clients", type=int, default=64, help="concurrent logged-in clients (default 64)")
    d = LoginLimits()
    p.add_argument("--max-unauthenticated", type=int, default=d.max_unauthenticated, metavar="N",
                   help=f"connections still logging in at once; more are refused (default {d.max_unauthenticated})")
    p.add_argument("--auth-timeout", type=float, default=d.auth_timeout, metavar="SECONDS",
                   help=f"time for startup and login (default {d.auth_timeout:g})")
    p.add_argument("--max-failed-logins", type=int, default=d.max_failed_logins, metavar="N",
                   help="failed logins from one address within --failed-login-window before its logins are "
                        f"refused for a while; 0 = never (default {d.max_failed_logins})")
    p.add_argument("--failed-login-window", type=float, default=d.failed_login_window, metavar="SECONDS",
                   help=f"window for --max-failed-logins (default {d.failed_login_window:g})")
    p.add_argument("--max-query-size", metavar="SIZE", help="largest query text, in bytes or with kB/MB/GB "
                   "(default $SQLSPAPI_BRIDGE_MAX_QUERY_SIZE or 16MB); larger ones get SQLSTATE 54000")
    return p


def main(argv: list[str] | None = None) -> int:
    """``sqlspapi serve CONNSTR|--demo [--host H] [--port P] [--user U] [--password P] ...``."""
    args = build_parser().parse_args(argv)
    connstr = args.connection_string or os.environ.get(CONNSTR_ENV)
    if not connstr and not args.demo:
        print(f"error: give a connection string, set ${CONNSTR_ENV}, or use --demo", file=sys.stderr)
        return 2
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    def announce(port: int) -> None:
        login = f"user {args.user}" + (", no password (trust on loopback)" if password is None else "")
        print(f"sqlspapi serve: listening on {args.host}:{port} ({login}); Ctrl-C stops", file=sys.stderr)

    try:
        limits = LoginLimits(args.max_unauthenticated, args.auth_timeout, args.max_failed_logins,
                             args.failed_login_window)
        serve(connstr if not args.demo else None, demo=args.demo, host=args.host, port=args.port,
              user=args.user, password=password, trust_loopback=args.trust_loopback,
              auth_method=args.auth_method, tls_cert=args.tls_cert, tls_key=args.tls_key,
              max_clients=args.max_clients, login_limits=limits, max_query_size=args.max_query_size,
              ready=announce)
    except (ValueError, OSError, Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
