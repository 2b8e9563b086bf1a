"""The connection-string grammar: ODBC-style ``Key=Value;...`` text split into ``(key, value)`` pairs.

Pairs split on ``;``; whitespace around keys and values is trimmed; empty segments are ignored; a value written
``{...}`` may hold ``;``, ``=`` and spaces, and ``}}`` inside braces is one ``}`` (``docs/connection-string.md``).
This module knows the syntax only: which key a pair names, whether it was given twice, and what of the text an
error may show are decided by its readers (:mod:`sqlspapi.settings.connstr`, :mod:`sqlspapi.settings.redact`). Its
own errors never quote the text, which may be a piece of a secret: they name a known key, or a position.
:func:`format_connection_string` writes text back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlspapi.errors import ConnectionStringError
from sqlspapi.settings.keys import _to_text, lookup_key


def _braced(text: str, start: int) -> tuple[str, int] | None:
    """The value of the braced value opening at ``text[start] == "{"`` and the index after its closing brace
    (``}}`` inside is one ``}``); ``None`` when the brace is never closed."""
    buf: list[str] = []
    m, n = start + 1, len(text)
    while m < n:
        if text[m] == "}":
            if text.startswith("}}", m):
                buf.append("}")
                m += 2
                continue
            return "".join(buf), m + 1
        buf.append(text[m])
        m += 1
    return None


def _key_label(key: str, position: int) -> str:
    """A key as grammar errors name it: its canonical name when known, else its position (the text may be a
    piece of a secret)."""
    spec = lookup_key(key)
    return spec.name if spec else f"the key at character {position}"


def _segments(text: str) -> Iterator[tuple[str | None, str, int, bool]]:
    """Split ``text`` into ``(key, value, position, braced)``; ``position``: 1-based character of the key.

    A segment without ``=`` is yielded as ``(None, first_word, position, False)``: the caller decides how
    much of it may be shown (only a recognised key name, never the text itself, which may be a secret).
    """
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in "=;":
            j += 1
        raw_key = text[i:j]
        if j >= n or text[j] == ";":
            if raw_key.strip():
                start = i + (len(raw_key) - len(raw_key.lstrip())) + 1
                first = re.split(r"[\s:]+", raw_key.strip(), maxsplit=1)[0]
                yield None, first, start, False
            i = j + 1
            continue
        key = raw_key.strip()
        key_pos = i + (len(raw_key) - len(raw_key.lstrip())) + 1
        if not key:
            raise ConnectionStringError(
                f"Connection string: empty key before '=' at character {j + 1}; write Key=Value.", key=None)
        k = j + 1
        while k < n and text[k] in " \t\r\n\f\v":
            k += 1
        braced = k < n and text[k] == "{"
        if braced:
            read = _braced(text, k)
            if read is None:
                raise ConnectionStringError(
                    f"Connection string: the value of {_key_label(key, key_pos)} opens a brace at character "
                    f"{k + 1} that is never closed; end it with '}}' (write '}}}}' for a literal '}}' "
                    f"inside braces).",
                    key=_spec_name(key))
            value, m = read
            while m < n and text[m] in " \t\r\n\f\v":
                m += 1
            if m < n and text[m] != ";":
                raise ConnectionStringError(
                    f"Connection string: unexpected text at character {m + 1} after the closing brace of "
                    f"{_key_label(key, key_pos)}'s value; put ';' after '}}' (write '}}}}' for a literal '}}' "
                    f"inside braces).",
                    key=_spec_name(key))
            i = m + 1
        else:
            m = text.find(";", k)
            if m < 0:
                m = n
            value = text[k:m].strip()
            i = m + 1
        yield key, value, key_pos, braced


def _spec_name(key: str) -> str | None:
    spec = lookup_key(key)
    return spec.name if spec else None


def _needs_braces(value: str) -> bool:
    return value != value.strip() or any(c in value for c in ";{}=")


def format_connection_string(mapping: Mapping[str, Any]) -> str:
    """Build connection-string text from key → value (the inverse of :func:`~sqlspapi.settings.connstr.parse` for
    the same keys; re-exported there).

    Values may be text or Python values (bool → ``true``/``false``, lists joined with ``,`` — ``|`` for
    RetryStatusCodeList —, :class:`~sqlspapi.settings.values.Secret` revealed); ``None`` skips the key. Values
    containing ``;``, ``=``, braces or leading/trailing spaces are written ``{...}`` with ``}`` doubled.
    """
    parts: list[str] = []
    for key, value in mapping.items():
        if value is None:
            continue
        if not isinstance(key, str) or not key.strip() or any(c in key for c in ";={}"):
            raise ValueError(f"invalid connection-string key {key!r}")
        text = _to_text(lookup_key(key), value)
        if _needs_braces(text):
            text = "{" + text.replace("}", "}}") + "}"
        parts.append(f"{key.strip()}={text}")
    return ";".join(parts)
