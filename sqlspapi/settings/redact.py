"""What of a connection string an error may show, and hiding the secret values of text that holds one.

No error message quotes text that contains, or may contain, another key's value: secret values are never shown;
nor is anything written after a secret (a ``;`` or ``}`` inside a secret that was not written as the grammar
requires makes the rest of the secret look like more pairs); nor a value or unknown key holding ``;``, ``=``, a
brace, a control character or a secret key's name (a brace or ``;`` went astray and it swallowed other pairs).
The parser (:mod:`sqlspapi.settings.connstr`) asks here how to word such errors.

:func:`redact_secrets` hides the secret values of connection-string text for history files and logs;
:func:`secret_keys_in` names the secret keys a text sets. Both are re-exported by :mod:`sqlspapi.settings.connstr`.
"""

from __future__ import annotations

import re

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.converters import KeySpec, ValueProblem
from sqlspapi.settings.grammar import _braced, _segments
from sqlspapi.settings.keys import KEYS, _close_keys, _norm, _unknown_key, lookup_key

__all__ = ["redact_secrets", "secret_keys_in"]


# -------------------- what an error may show


def _spelling_pattern(name: str) -> str:
    """A regex matching a key spelling as :func:`lookup_key` does (any case; ``_``, ``-``, spaces anywhere)."""
    return r"[\s_\-]*".join(re.escape(c) for c in _norm(name))


def _loose_pattern(name: str) -> str:
    """A regex matching a key spelling with any punctuation or spaces between its letters (``C{lientSecret``): a
    value holding one, mangled or not, may hold that secret key's value."""
    return r"[^A-Za-z0-9]*".join(re.escape(c) for c in _norm(name))


_SECRET_NAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (spec.name, re.compile("|".join(_loose_pattern(n) for n in (spec.name, *spec.aliases)), re.I))
    for spec in KEYS if spec.secret
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9])(?:" + "|".join(p.pattern for _, p in _SECRET_NAMES) + r")\s*=\s*", re.I)
_NEXT_PAIR = re.compile(
    r";\s*(?:" + "|".join(_spelling_pattern(n) for k in KEYS for n in (k.name, *k.aliases)) + r")\s*=", re.I)
_UNSAFE_TEXT = re.compile(r"[;={}\x00-\x1f\x7f]")
_MAX_SHOWN = 80

_NOT_SHOWN_AFTER_SECRET = "it follows a secret value and may be part of it"
_NOT_SHOWN_UNSAFE = ("it contains ';', '=', a brace, a control character or a secret key's name, so it may hold "
                     "another key's value")


def _secret_name_in(text: str) -> str | None:
    """The canonical name of a secret key whose name (any spelling) occurs in ``text``, else ``None``."""
    return next((name for name, pattern in _SECRET_NAMES if pattern.search(text)), None)


def _quotable(text: str) -> bool:
    """Whether ``text`` (not a secret, not after one) may be quoted in a message: short, and unable to hold
    another pair (no ``;``, ``=``, brace or control character) or a secret key's name."""
    return len(text) <= _MAX_SHOWN and not _UNSAFE_TEXT.search(text) and _secret_name_in(text) is None


def _value_error(spec: KeySpec, text: str, problem: ValueProblem, *, after_secret: bool) -> ConnectionStringError:
    """The error for a converter's ``problem`` with ``text``, showing the value only where that is safe."""
    if spec.secret:
        shown, quoted = "(hidden)", False
    elif after_secret:
        shown, quoted = f"(not shown: {_NOT_SHOWN_AFTER_SECRET})", False
    elif not _quotable(text):
        shown, quoted = f"(not shown: {_NOT_SHOWN_UNSAFE})", False
    else:
        shown, quoted = repr(text), True
    part = f" {problem.part!r}" if quoted and problem.part else ""
    return ConnectionStringError(f"{spec.name}={shown} {problem.message.replace('{part}', part)}", key=spec.name)



def _catalogue_spelling(spec: KeySpec, key: str) -> str:
    """The catalogue's spelling of ``key`` (one of ``spec``'s names), so messages never echo the text itself."""
    return next((name for name in (spec.name, *spec.aliases) if _norm(name) == _norm(key)), spec.name)


_BRACE_HINT = " If a secret value contains ';' or '}', write it in braces: ClientSecret={...} ('}}' for '}')."


def _unknown_key_in_text(key: str, position: int, after_secret: bool) -> ConnectionStringError:
    """The error for an unknown key of the text: quoted only when it cannot be (part of) another key's value."""
    if not after_secret and _quotable(key):
        return _unknown_key(key)
    names = _close_keys(key)
    hint = f" Did you mean {' or '.join(repr(n) for n in names)}?" if names else ""
    swallowed = _secret_name_in(key)
    if after_secret:
        why, extra = _NOT_SHOWN_AFTER_SECRET, _BRACE_HINT
    else:
        why, extra = _NOT_SHOWN_UNSAFE, (f" Is '=' missing after {swallowed}?" if swallowed else "")
    return ConnectionStringError(
        f"Connection string: the key at character {position} is not a known key (not shown: {why}).{hint}{extra}",
        key=None)


# -------------------- secrets in text


def secret_keys_in(text: str) -> list[str]:
    """Canonical names of the secret keys ``text`` (a connection string) sets, by any spelling, in order.

    Reads the text as the parser does but never fails: a grammar error stops the scan (what was read so far
    counts), and a secret key name that does not start a pair is counted too (``"ClientSecret x"``).
    """
    found: list[str] = []
    try:
        for key, _value, _pos, _braced in _segments(text):
            spec = lookup_key(key) if key is not None else None
            if spec is not None and spec.secret:
                found.append(spec.name)
    except ConnectionStringError:
        pass
    if not found and (name := _secret_name_in(text)):
        found.append(name)
    return list(dict.fromkeys(found))


def redact_secrets(text: str) -> str:
    """``text`` with the value of every secret key (any spelling, ``Key=value`` anywhere in it) replaced by ``***``.

    For text that may hold a connection string: a shell line (``.open "ClientId=...;ClientSecret=..."``), a log
    line. A braced value is replaced through its closing brace (``{***}``; to the end when never closed); an unbraced
    value runs to the next ``;Key=`` of a known key (so a secret holding ``;`` is hidden whole) or to the end, where
    a closing quote of the line is kept.
    """
    out: list[str] = []
    index = 0
    while (match := _SECRET_ASSIGNMENT.search(text, index)) is not None:
        out.append(text[index:match.end()])
        start = match.end()
        if text.startswith("{", start):
            braced = _braced(text, start)
            end = braced[1] if braced is not None else len(text)
            out.append("{***}")
        else:
            following = _NEXT_PAIR.search(text, start)
            end = following.start() if following is not None else len(text)
            out.append("***")
            tail = text[start:end].rstrip()
            if following is None and tail[-1:] in ("'", '"') and text[:match.start()].count(tail[-1]) % 2:
                out.append(tail[-1])
        index = end
    out.append(text[index:])
    return "".join(out)
