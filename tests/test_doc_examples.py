"""Every example of the README and the user docs runs: documentation that cannot rot.

The fenced blocks of :data:`DOCS` are executed as a reader would use them:

- ```` ```sql ```` blocks, statement by statement, on the emulator (SQL through the engine, dot-commands through the
  shell); each SELECT / EXPLAIN must return rows. An HTML comment just before the fence adjusts a block:
  ``<!-- connection: Key=Value;... -->`` adds connection-string keys, ``<!-- error: start of the message -->``
  says the block's last statement fails with that message, ``<!-- accounts: a, b(Key=Value;...) -->`` runs the block
  on a connection to several accounts (``CredentialsFile=`` a credentials file holding these named accounts on the
  emulator, each with its own refresh token and the fields in parentheses; ``Accounts=all``);
- ```` ```python ```` blocks in a fresh interpreter (they use ``sqlspapi.connect(demo=True)`` and the like);
- ```` ```sh ```` / ```` ```console ```` blocks command by command: ``sqlspapi ...`` runs through the installed
  console script and must exit 0 (a ``console`` block's shown output must appear); installs, the test suite itself,
  servers and commands that need a real account are skipped, each with its reason.

``<!-- not run: reason -->`` before any block skips it with that reason. ``<!-- file: name.ext -->`` before a plain
text block says it shows a file of that name (a credentials file: tests/test_connect_docs.py reads each one).
Skips are pytest skips, listed with their reasons by ``pytest -rs``. ``docs/tables/*.md`` and
``docs/adding-an-api.md`` are covered by test_docs_tables.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import apsw
import pytest

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.emulator.sellers import SELLER_ID
from sqlspapi.engine import open_database
from sqlspapi.interfaces.shell import SPAPIShell
from sqlspapi.settings.connstr import format_connection_string

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/getting-started.md", "docs/orders-tables.md", "docs/connection-string.md",
        "docs/bi-tools.md", "docs/server-interface.md", "docs/definition-language.md", "docs/report-tables.md",
        "docs/questions.md", "docs/not-tables.md", "docs/authorize.md", "docs/connect-your-account.md",
        "docs/rotate-secret.md", "docs/sync.md",
        "docs/spark.md"]
SQLSPAPI = Path(sys.executable).parent / "sqlspapi"
FENCE = re.compile(r"((?:<!--(?:(?!-->).)*-->\s*)*)^```([\w-]*)\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!--\s*(connection|error|not run|accounts|file):\s*((?:(?!-->).)*?)\s*-->", re.S)
ACCOUNT = re.compile(r"([\w.-]+)(?:\(([^)]*)\))?")  # one account of an accounts marker: name or name(Key=Value;...)
RUNNABLE = {"sql", "python", "sh", "console"}
NOT_CODE = {"", "text", "toml"}  # connection strings, messages, definition excerpts: read, not run
ROW_STATEMENTS = ("select", "with", "explain", "values")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")  # e.g. readline's prompt markers
QUIET_COMMANDS = {".mode", ".header", ".headers", ".output", ".timer", ".parameter", ".bail", ".echo"}


@dataclass(frozen=True)
class Example:
    """One fenced block of a document, with the markers written just before it."""

    doc: str
    line: int
    lang: str
    body: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``doc:line`` of the opening fence."""
        return f"{self.doc}:{self.line}"

    @property
    def keys(self) -> dict[str, str]:
        """The connection keys of a ``<!-- connection: ... -->`` marker."""
        return key_values(self.markers.get("connection", ""))

    @property
    def accounts(self) -> dict[str, dict[str, str]]:
        """The named accounts of an ``<!-- accounts: a, b(Key=Value;...) -->`` marker, each with its extra fields
        (empty: the block runs on the one-account connection)."""
        return {name: key_values(fields) for name, fields in ACCOUNT.findall(self.markers.get("accounts", ""))}


def key_values(text: str) -> dict[str, str]:
    """``Key=Value;Key=Value`` as a dict."""
    return dict(pair.strip().split("=", 1) for pair in text.split(";") if pair.strip())


def examples() -> list[Example]:
    """Every fenced block of :data:`DOCS`, in order."""
    found = []
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            markers = {kind: value for kind, value in MARKER.findall(match[1])}
            line = text.count("\n", 0, match.start(2)) + 1
            found.append(Example(doc, line, match[2], match[3], markers))
    return found


EXAMPLES = examples()


def of_lang(*langs: str) -> list[Example]:
    """The examples written in one of ``langs``."""
    return [example for example in EXAMPLES if example.lang in langs]


def skip_if_marked(example: Example) -> None:
    """Skip, with its reason, a block marked ``<!-- not run: reason -->``."""
    if "not run" in example.markers:
        pytest.skip(f"{example.name}: {example.markers['not run']}")


# ------------------------------------------------------------------------------------------------ SQL


def strip_comment(line: str) -> str:
    """``line`` without a trailing ``-- comment`` (outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif line.startswith("--", index):
            return line[:index].rstrip()
    return line.rstrip()


def statements(body: str) -> list[str]:
    """The dot-commands (one line each) and SQL statements (up to a complete ``;``) of a SQL block."""
    found: list[str] = []
    pending = ""
    for line in body.splitlines():
        if not pending.strip() and line.lstrip().startswith("."):
            found.append(strip_comment(line.strip()))
            continue
        pending += line + "\n"
        if apsw.complete(pending):
            found.append(pending.strip())
            pending = ""
    if strip_comment(pending).strip() and any(strip_comment(line) for line in pending.splitlines()):
        found.append(pending.strip())
    return found


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory):
    """A Database per set of connection keys (and of accounts) on one fast emulator (opened on first use, closed at
    the end). With ``accounts`` (name → extra fields) it connects to those named accounts of a credentials file."""
    emu = start(time_scale=5000)
    opened: dict[str, object] = {}

    def get(accounts: dict[str, dict[str, str]] | None = None, **keys: str):
        key = repr((sorted((accounts or {}).items()), sorted(keys.items())))
        if key not in opened:
            if accounts:
                path = accounts_file(emu, tmp_path_factory.mktemp("accounts"), accounts)
                text = format_connection_string({"CredentialsFile": str(path), "Accounts": "all",
                                                 "SellerId": SELLER_ID, **keys})
            else:
                text = emu.connection_string(**{"SellerId": SELLER_ID, **keys})
            opened[key] = open_database(text, poll_scale=1 / emu.time_scale)  # as the demo
        return opened[key]

    yield get
    for db in opened.values():
        db.close()
    emu.stop()


def accounts_file(emu, folder: Path, accounts: dict[str, dict[str, str]]) -> Path:
    """A 0600 JSON credentials file of the named ``accounts`` on ``emu``: the first with the demo refresh token, each
    other with a refresh token of its own (a second seller account to the emulator), plus its extra fields."""
    document = {}
    for index, (name, extra) in enumerate(accounts.items()):
        token = DEMO_REFRESH_TOKEN if index == 0 else f"Atzr|FAKE-{name}"
        if index:
            emu.add_account(token)
        document[name] = {"ClientId": DEMO_CLIENT_ID, "ClientSecret": DEMO_CLIENT_SECRET, "RefreshToken": token,
                          "TokenUrl": emu.token_url, "Endpoint": emu.url, **extra}
    path = folder / "credentials.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o600)
    return path


def run_dot_command(db, command: str) -> None:
    """Run a shell dot-command on ``db``; it must succeed and (unless it only sets something) print."""
    out, err = io.StringIO(), io.StringIO()
    shell = SPAPIShell(db, stdout=out, stderr=err)
    shell.process_command(command)
    assert not err.getvalue(), f"{command}: {err.getvalue()}"
    if command.split()[0] not in QUIET_COMMANDS:
        assert out.getvalue().strip(), f"{command} printed nothing"


def run_statement(db, sql: str) -> None:
    """Run a SQL statement on ``db``; a query must return rows."""
    rows = list(db.connection.execute(sql))
    code = "\n".join(strip_comment(line) for line in sql.splitlines())
    if code.lstrip("( \n").lower().startswith(ROW_STATEMENTS):
        assert rows, f"returned no rows on the demo:\n{sql}"


@pytest.mark.parametrize("example", of_lang("sql"), ids=lambda e: e.name)
def test_sql_example(example: Example, database) -> None:
    skip_if_marked(example)
    db = database(example.accounts, **example.keys)
    parts = statements(example.body)
    assert parts, f"{example.name}: an empty SQL block"
    expected_error = example.markers.get("error")
    for index, part in enumerate(parts):
        fails = expected_error is not None and index == len(parts) - 1
        if part.startswith("."):
            assert not fails, f"{example.name}: an error marker on a dot-command"
            run_dot_command(db, part)
        elif fails:
            with pytest.raises(Exception) as raised:
                run_statement(db, part)
            message = re.sub(r"^\w+Error: ", "", str(raised.value))
            assert message.startswith(expected_error), f"{example.name}: {message!r}"
        else:
            try:
                run_statement(db, part)
            except Exception as exc:
                pytest.fail(f"{example.name}: {type(exc).__name__}: {exc}\n{part}")


# --------------------------------------------------------------------------------------------- Python


def demo_env(syncing: bool) -> dict[str, str] | None:
    """The environment of an example's process: a sync's first run waits on the demo's report usage plan (100 times
    Amazon's speed, about a minute for a year); the test runs the same example on a demo 2,000 times faster."""
    return {**os.environ, "SQLSPAPI_DEMO_TIME_SCALE": "2000"} if syncing else None


@pytest.mark.parametrize("example", of_lang("python"), ids=lambda e: e.name)
def test_python_example(example: Example, tmp_path: Path) -> None:
    skip_if_marked(example)
    done = subprocess.run([sys.executable, "-c", example.body], cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, env=demo_env("sqlspapi.sync" in example.body))
    assert done.returncode == 0, f"{example.name} failed:\n{done.stderr[-3000:]}"


# ---------------------------------------------------------------------------------------- command lines


@dataclass(frozen=True)
class Command:
    """One command of a sh/console block: its words and the output a console block shows after it."""

    example: Example
    words: tuple[str, ...]
    shown: tuple[str, ...]

    @property
    def name(self) -> str:
        """``doc:line:first words`` for the test id."""
        return f"{self.example.name}:{' '.join(self.words[:2])}"


def commands(example: Example) -> list[Command]:
    """The commands of a block (``&&`` chains split), each with the console output shown below it."""
    found: list[Command] = []
    lines = example.body.replace("\\\n", " ").splitlines()
    for index, line in enumerate(lines):
        if example.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
            shown = []
            for later in lines[index + 1:]:
                if later.startswith("$ "):
                    break
                shown.append(later.rstrip())
        else:
            shown = []
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            found.append(Command(example, tuple(words[:cut]), tuple(shown)))
            words = words[cut + 1:]
    return found


def skip_reason(words: tuple[str, ...]) -> str | None:
    """Why a command is not run here, or None when it runs (fails for a command this test does not know)."""
    program = Path(words[0]).name
    if program in ("pip", "pip3", "apt-get", "dnf", "brew") or words[1:3] == ("-m", "venv"):
        return "installs software; the test runs in the environment it installed"
    if words[1:3] == ("-m", "pytest"):
        return "runs the test suite this test belongs to"
    if program == "sqlspapi":
        if len(words) > 1 and words[1] == "serve":
            return "starts a long-running server; tests/test_server_*.py start the bridge"
        if len(words) > 1 and words[1] in ("query", "shell") and "--demo" not in words:
            return "needs a real seller account"
        return None
    pytest.fail(f"a command test_doc_examples.py does not know how to run or skip: {' '.join(words)}; "
                "add it here or mark the block <!-- not run: reason -->")


COMMANDS = [command for example in of_lang("sh", "console") for command in commands(example)]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_command_example(command: Command, tmp_path: Path) -> None:
    skip_if_marked(command.example)
    reason = skip_reason(command.words)
    if reason:
        pytest.skip(f"{command.example.name}: `{' '.join(command.words)}` {reason}")
    words = list(command.words[1:])
    if words[0] == "shell" and all(word.startswith("-") for word in words[1:]):
        words.append("-interactive")  # the banner and prompt, then end of input ends the session
    done = subprocess.run([str(SQLSPAPI), *words], cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, env=demo_env(words[0] == "sync"))
    assert done.returncode == 0, f"{command.name} exited {done.returncode}:\n{done.stderr[-3000:]}"
    assert "error:" not in done.stderr, done.stderr
    printed = [CONTROL.sub("", line).rstrip() for line in done.stdout.splitlines()]
    for line in command.shown:
        if line and line != "...":
            pattern = shown_pattern(line)
            assert any(pattern.fullmatch(text) for text in printed), \
                f"{command.name}: the docs show {line!r}, the command printed:\n{done.stdout}"


def shown_pattern(line: str) -> re.Pattern[str]:
    """A console output line as a pattern: ``PORT`` stands for a port number, ``3.x`` for a version."""
    return re.compile(re.escape(line).replace("PORT", r"\d+").replace(r"3\.x", r"3(\.\d+)+"))


# ------------------------------------------------------------------------------------------- coverage


def test_docs_have_runnable_examples() -> None:
    for doc in ("README.md", "docs/getting-started.md"):
        assert any(example.doc == doc and example.lang == "sql" for example in EXAMPLES), doc
    assert COMMANDS and of_lang("python")


def test_every_block_is_run_or_plain_text() -> None:
    for example in EXAMPLES:
        check_block_kind(example)


def check_block_kind(example: Example) -> None:
    """A block is runnable or plain text, and its markers are known and fit its language."""
    assert example.lang in RUNNABLE | NOT_CODE, (
        f"{example.name}: a ```{example.lang} block; this test runs sql, python, sh and console blocks "
        "(plain ``` is for text that is not code)")
    assert set(example.markers) <= {"connection", "error", "not run", "accounts", "file"}
    if {"error", "connection", "accounts"} & set(example.markers):
        assert example.lang == "sql", f"{example.name}: connection/error/accounts markers apply to ```sql blocks"
    if "file" in example.markers:
        assert example.lang in NOT_CODE, f"{example.name}: a file marker applies to a plain text block"


def test_readme_install_ships_every_package() -> None:
    # The README's first command is `pip install .` (not -e): a package left out of pyproject's list is missing there.
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    for init in (ROOT / "sqlspapi").rglob("__init__.py"):
        package = ".".join(init.parent.relative_to(ROOT).parts)
        assert package in listed, f"{package} is not in [tool.setuptools] packages: `pip install .` leaves it out"
    for package, directory in setuptools.get("package-dir", {}).items():
        assert package in listed and (ROOT / directory).is_dir(), package
