"""Benchmark helpers: the emulator in a child process, and one measurement per fresh child process.

A benchmark that measures the client's memory or CPU must not share its process with the emulator (the emulator
holds every generated order and serves pages from its own threads). :class:`EmulatorProcess` starts
``python benchmarks/emuproc.py --orders N --time-scale S`` and reads one JSON line from it (connection string,
data generation time); closing the child's stdin stops it. :func:`run_child` runs a script in a fresh interpreter
and returns the JSON object its last stdout line holds, so peaks measured there never mix.

``accounts`` (``--add-account TOKEN``, repeatable) are more sellers' refresh tokens the child accepts.
``documents`` (``--put-document TYPE=PATH``, repeatable) makes the child register each file's bytes as a DONE report
of that type for the demo account in the US marketplace (``ReportStore.put_document``; labelled GZIP when the bytes
start with the gzip magic) before it answers; :attr:`EmulatorProcess.report_ids` are their reportIds, in order.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The marketplace of the reports ``--put-document`` registers (US).
DOCUMENT_MARKETPLACE = "ATVPDKIKX0DER"


class EmulatorProcess:
    """A running emulator in a child process (context manager): ``connection_string()``, ``generate_seconds``;
    with ``documents`` (``(report type, file path)`` pairs), ``report_ids`` of the DONE reports serving them."""

    def __init__(self, *, orders: int, time_scale: float, seed: int = 7,
                 documents: Sequence[tuple[str, str | Path]] = (), accounts: Sequence[str] = ()) -> None:
        self.orders = orders
        self.accounts = list(accounts)
        self.time_scale = time_scale
        self.seed = seed
        self.documents = list(documents)
        self.report_ids: list[str] = []
        self.generate_seconds = 0.0
        self.url = ""
        self._base = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        argv = [sys.executable, str(Path(__file__).resolve()), "--orders", str(self.orders),
                "--time-scale", repr(self.time_scale), "--seed", str(self.seed)]
        for report_type, path in self.documents:
            argv += ["--put-document", f"{report_type}={path}"]
        for token in self.accounts:
            argv += ["--add-account", token]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(timeout=10)
            raise RuntimeError(f"the emulator process exited with status {self._proc.returncode}")
        info = json.loads(line)
        self._base, self.url, self.generate_seconds = info["connection_string"], info["url"], info["generate_s"]
        self.report_ids = list(info.get("report_ids", ()))
        return self

    def connection_string(self, **extra: object) -> str:
        """The emulator's connection string plus ``extra`` keys (plain values: no ``;``, ``=`` or braces)."""
        return self._base + "".join(f";{key}={value}" for key, value in extra.items())

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._proc = None


def write_credentials(folder: Path, emu: EmulatorProcess, tokens: dict[str, str]) -> Path:
    """A 0600 credentials file of named accounts (name → refresh token) on the emulator ``emu`` (the demo app)."""
    import os

    from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    base = dict(pair.split("=", 1) for pair in emu.connection_string().split(";"))
    common = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "token_url": base["TokenUrl"],
              "endpoint": base["Endpoint"]}
    path = folder / "credentials.json"
    path.write_text(json.dumps({name: {**common, "refresh_token": token} for name, token in tokens.items()}))
    os.chmod(path, 0o600)
    return path


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run ``python script *args`` in a fresh interpreter; the JSON object on its last stdout line."""
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
        raise RuntimeError(f"{Path(script).name} {' '.join(args)[:80]} exited {done.returncode}:\n  "
                           + "\n  ".join(tail))
    return json.loads(lines[-1])


def vm_status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``); 0 where /proc is absent."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def put_document(emu: Any, given: str) -> str:
    """Register ``TYPE=PATH``'s bytes as a DONE report for the demo account (GZIP label by the magic bytes)."""
    from sqlspapi.emulator.reports_store import DEMO_ACCOUNT

    report_type, _, path = given.partition("=")
    data = Path(path).read_bytes()
    compression = "GZIP" if data.startswith(b"\x1f\x8b") else None
    return emu.reports.put_document(DEMO_ACCOUNT, report_type, DOCUMENT_MARKETPLACE, data,
                                    content_type="text/plain;charset=UTF-8", compression=compression)


def main(argv: list[str] | None = None) -> int:
    """Serve an emulator until stdin closes; the first stdout line is JSON describing it."""
    parser = argparse.ArgumentParser(description="emulator child process for the benchmarks")
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--time-scale", type=float, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--put-document", action="append", default=[], metavar="TYPE=PATH",
                        help="serve the file as a DONE report of TYPE (repeatable)")
    parser.add_argument("--add-account", action="append", default=[], metavar="REFRESH_TOKEN",
                        help="accept another seller account's refresh token (repeatable)")
    args = parser.parse_args(argv)
    from sqlspapi.emulator import start

    t0 = time.perf_counter()
    emu = start(orders=args.orders, time_scale=args.time_scale, seed=args.seed)
    generate = time.perf_counter() - t0
    for token in args.add_account:
        emu.add_account(token)
    info: dict[str, Any] = {"connection_string": emu.connection_string(), "url": emu.url, "generate_s": generate}
    if args.put_document:
        info["report_ids"] = [put_document(emu, given) for given in args.put_document]
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
