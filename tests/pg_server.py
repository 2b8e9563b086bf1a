"""A real PostgreSQL server for the tests: a throwaway cluster started and stopped by the test run itself.

:class:`PostgresServer` runs ``initdb`` into a fresh temporary directory, starts the server with ``pg_ctl start`` on
127.0.0.1 and a free port (the Unix socket in the same directory, no other address), and stops it with
``pg_ctl stop -m fast`` afterwards, removing the directory. TCP connections need the superuser's password (a random
one per server, SCRAM): dlt's PostgreSQL destination refuses a URL without a password, so trust authentication
would not do; the Unix socket, private to the directory, trusts its owner. The binaries are found in
``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql`` package, which ``.ci/run`` installs) or on ``PATH``.

PostgreSQL refuses to run as root: as root the cluster is owned by, and the server runs as, the ``postgres`` user
(``runuser -u postgres``); that user exists once the package is installed. The directory is made directly under the
system temporary directory, since pytest's own ``/tmp/pytest-of-root`` is not traversable by another user.

The :func:`postgres_url` fixture (one server per test module) yields
``postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres``
or skips, with the reason, when the binaries or a non-root user are missing. Import it into a test module:
``from pg_server import postgres_url  # noqa: F401``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The user that owns the cluster when the tests run as root.
SERVER_USER = "postgres"


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (the newest Debian version first), or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version(p.parent.name),
                        reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _version(name: str) -> tuple[int, ...]:
    """``"15"`` → ``(15,)``; a name that is not a version sorts first."""
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return ()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if find_bindir() is None:
        return ("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql "
                "(.ci/run installs it)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to own the cluster (PostgreSQL refuses root)"
        if shutil.which("runuser") is None:
            return "running as root and runuser(1) is missing: cannot run PostgreSQL as another user"
    return None


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, serving on 127.0.0.1 (context manager); :attr:`url`."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(unavailable_reason() or "PostgreSQL binaries not found")
        self.bindir = bindir
        self.port = 0
        self.password = secrets.token_hex(16)
        self.directory: Path | None = None
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        """``postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres``."""
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        """Run a server program (as the ``postgres`` user when we are root); its output in the error when it fails."""
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                              check=False)
        if done.returncode != 0:
            log = self._log_tail()
            raise RuntimeError(f"{' '.join(argv[:2])} exited {done.returncode}: {done.stderr.strip()[-2000:]}{log}")

    def _log_tail(self) -> str:
        """The end of the server log, for an error message."""
        if self.directory is None or not (self.directory / "server.log").is_file():
            return ""
        return "\nserver log:\n" + (self.directory / "server.log").read_text(errors="replace")[-2000:]

    def __enter__(self) -> PostgresServer:
        self.directory = Path(tempfile.mkdtemp(prefix="sqlspapi-pg-"))
        try:
            if self._as_root:
                user = pwd.getpwnam(SERVER_USER)
                os.chown(self.directory, user.pw_uid, user.pw_gid)
            data = self.directory / "data"
            password_file = self.directory / "password"
            password_file.write_text(self.password + "\n", encoding="ascii")
            if self._as_root:
                os.chown(password_file, user.pw_uid, user.pw_gid)
            self._run("initdb", "-D", str(data), "-U", "postgres", "--pwfile", str(password_file),
                      "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
            password_file.unlink()
            # Loopback only: the server listens on 127.0.0.1 and its socket lives in the private directory.
            self.port = free_port()
            options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(data), "-l", str(self.directory / "server.log"),
                      "-o", options)
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.directory is None:
            return
        try:
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.directory / "data"))
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL server for one test module (stopped after it), or skip with the reason."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server.url
