"""Helpers shared by the tests of the ``sqlspapi`` command: run it as a real subprocess, and the shapes its errors
must have (one line, or the message alone)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "sqlspapi"
COUNT_SQL = "SELECT count(*) AS n FROM marketplaces"


def run(*args: str, env: dict[str, str] | None = None, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``sqlspapi ARGS`` (``python -m sqlspapi``, or the console script when ``script``) without the user's
    ``SQLSPAPI_CONNECTION_STRING`` and with ``env`` added."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "sqlspapi"]
    environment = {key: value for key, value in os.environ.items() if key != "SQLSPAPI_CONNECTION_STRING"}
    environment.update(env or {})
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, env=environment, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The error is its one-line message on stderr: no traceback, nothing else."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_message_only(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The error is the exception's message and nothing else (MissingFilterError adds an example SQL line)."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr
    return result.stderr.strip()
