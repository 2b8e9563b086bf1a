"""Masking secrets in text an answer quotes, in every encoding an answer may echo them in.

:func:`scrub` replaces each secret of the connection (client secret, refresh token, AWS secret key: the ``Secret``
fields of ``Settings``) and any extra one given (the access token that was sent) by :data:`MASK` — raw, URL-encoded
(once or twice, ``quote`` or ``quote_plus``, any hex case), JSON-escaped (``\\/``, ``\\uXXXX``), HTML-escaped, in
base64 (standard and URL-safe, at any offset), and a piece of four or more characters where a text is cut off in the
middle of one. :func:`scrub_value` does the same through a JSON-like value. :mod:`sqlspapi.http.apierrors` applies
it to every text it quotes; this module imports nothing of :mod:`sqlspapi`.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

#: An encoded character in text an answer quotes: ``%XX`` (also ``%25XX``, percent-encoded twice), a JSON ``\uXXXX``,
#: a backslash-escaped punctuation mark (JSON's ``\/`` and ``\"``), an HTML character reference.
_ENCODED = re.compile(r"%(?:25)?([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\([^0-9A-Za-z])|&#([0-9]{1,7});"
                      r"|&#[xX]([0-9A-Fa-f]{1,6});|&(amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: Secrets shorter than this are not searched for (they would match by chance).
_MIN_SECRET = 4
#: Base64 runs shorter than this are not searched for.
_MIN_BASE64 = 8
#: The shortest piece of a secret masked where a text is cut off.
_MIN_PIECE = 4
MASK = "***"


def _decoded(match: re.Match[str]) -> str:
    """The character one :data:`_ENCODED` match stands for (a percent-encoded byte as its Latin-1 character)."""
    byte, unit, escaped, decimal, hexa, entity = match.groups()
    if byte is not None:
        return chr(int(byte, 16))
    if unit is not None:
        return chr(int(unit, 16))
    if escaped is not None:
        return escaped
    if entity is not None:
        return _ENTITIES[entity]
    code = int(decimal) if decimal is not None else int(hexa, 16)
    return chr(code) if code <= sys.maxunicode else "\ufffd"


class _DecodedView:
    """``text`` with every encoded character decoded (:data:`_ENCODED`), and the way back to ``text``'s positions.

    The view is made of segments: runs copied from ``text`` and single decoded characters, each with its start in
    the view and its span in ``text``.
    """

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self._starts: list[int] = []  # start of each segment in the view
        self._spans: list[tuple[int, int, bool]] = []  # (start in text, end in text, decoded)
        at = size = 0
        for match in _ENCODED.finditer(text):
            if match.start() > at:
                self._add(pieces, text[at:match.start()], size, at, match.start(), False)
                size += match.start() - at
            self._add(pieces, _decoded(match), size, match.start(), match.end(), True)
            size += 1
            at = match.end()
        if self._starts:
            if at < len(text):
                self._add(pieces, text[at:], size, at, len(text), False)
            self.text = "".join(pieces)
        else:
            self.text = text

    def _add(self, pieces: list[str], piece: str, start: int, text_start: int, text_end: int, decoded: bool) -> None:
        pieces.append(piece)
        self._starts.append(start)
        self._spans.append((text_start, text_end, decoded))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``text`` that view characters ``start`` to ``end`` (exclusive) come from."""
        if not self._starts:
            return start, end
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_right(self._starts, end - 1) - 1
        text_start, _, decoded = self._spans[first]
        begin = text_start if decoded else text_start + start - self._starts[first]
        text_start, text_end, decoded = self._spans[last]
        return begin, text_end if decoded else text_start + end - self._starts[last]


def _base64_runs(data: bytes) -> set[str]:
    """The base64 characters that encode ``data`` whatever bytes surround it (3 alignments, standard and URL-safe
    alphabets): at most the two characters at each end that also encode a neighbouring byte are left out."""
    runs = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode("ascii")
        run = encoded[-(-8 * offset // 6):8 * (offset + len(data)) // 6]
        if len(run) >= _MIN_BASE64:
            runs.update((run, run.translate(_URLSAFE)))
    return runs


_URLSAFE = str.maketrans("+/", "-_")


def _surrogates(text: str) -> str:
    """``text`` with each character beyond the BMP as its UTF-16 surrogate pair (as JSON's ``\\uD83D\\uDE00``
    decodes in :class:`_DecodedView`)."""
    return "".join(ch if ord(ch) < 0x10000 else
                   chr(0xD800 + ((ord(ch) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(ch) - 0x10000) & 0x3FF))
                   for ch in text)


def _forms(secret: str) -> set[str]:
    """What ``secret`` may look like in a :class:`_DecodedView`: itself (also as the view decodes it, should it hold
    ``%41`` or ``\\/``), with spaces as ``+`` (form encoding), its UTF-8 bytes as Latin-1 characters (percent-encoded
    bytes), with surrogate pairs (JSON), URL-encoded (for a text cut off in the middle of a ``%XX``), and base64 of
    it raw and URL-encoded."""
    url_encoded = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms = {secret, _DecodedView(secret).text, secret.replace(" ", "+"), secret.encode("utf-8").decode("latin-1"),
             _surrogates(secret), *url_encoded}  # URL-encoded as they are: a text cut off inside a %XX
    for encoded in {secret, *url_encoded}:
        forms |= _base64_runs(encoded.encode("utf-8"))
    return forms


def _revealed(settings: Any, secrets: Iterable[Any]) -> list[str]:
    """The text of every secret of ``settings`` (each :class:`~sqlspapi.settings.keys.Secret` field) and of
    ``secrets`` (text or Secret), long enough to search for."""
    found: list[Any] = list(secrets)
    if dataclasses.is_dataclass(settings):
        found.extend(value for f in dataclasses.fields(settings)
                     if hasattr(value := getattr(settings, f.name, None), "reveal"))
    else:
        found.extend(getattr(settings, name, None) for name in ("client_secret", "refresh_token"))
    texts = []
    for value in found:
        text = value.reveal() if hasattr(value, "reveal") else value
        if isinstance(text, str) and len(text) >= _MIN_SECRET:
            texts.append(text)
    return texts


def scrub(text: str, settings: Any, secrets: Iterable[Any] = ()) -> str:
    """``text`` with every secret of ``settings`` (client secret, refresh token, AWS secret key) and ``secrets``
    (e.g. the token a request sent) replaced by ``***``, in whatever encoding ``text`` holds it: raw, URL-encoded
    (``%7C``, ``+`` for a space, also encoded twice), JSON-escaped (``\\/``, ``\\u007c``), as HTML character
    references, or base64 (at any alignment; at most two characters at each end stay), or a mix of them; and a
    piece of one (4 characters or more) where ``text`` begins or ends, for a text cut off in the middle of a secret.
    ``secrets`` may be text or :class:`~sqlspapi.settings.keys.Secret`; secrets shorter than 4 characters are not
    searched for."""
    if not text:
        return text
    forms = {form for secret in _revealed(settings, secrets) for form in _forms(secret)}
    if not forms:
        return text
    spans = _found(text, forms)
    view = _DecodedView(text)
    if view.text is not text:
        spans += [view.span(start, end) for start, end in _found(view.text, forms)]
    return _masked(text, spans) if spans else text


def _found(text: str, forms: Iterable[str]) -> list[tuple[int, int]]:
    """The spans of ``text`` that hold one of ``forms``, or, at either end of ``text``, a piece of one at least
    :data:`_MIN_PIECE` characters long: a text cut short in the middle of a secret (or starting in one)."""
    spans = []
    for form in forms:
        at = text.find(form)
        while at >= 0:
            spans.append((at, at + len(form)))
            at = text.find(form, at + 1)
        # The longest piece first; only pieces that end (start) with the text's last (first) character are tried.
        end = form.rfind(text[-1], 0, len(form) - 1) + 1
        while end >= _MIN_PIECE and not text.endswith(form[:end]):
            end = form.rfind(text[-1], 0, end - 1) + 1
        if end >= _MIN_PIECE:
            spans.append((len(text) - end, len(text)))
        start = form.find(text[0], 1)
        while 0 < start <= len(form) - _MIN_PIECE and not text.startswith(form[start:]):
            start = form.find(text[0], start + 1)
        if 0 < start <= len(form) - _MIN_PIECE:
            spans.append((0, len(form) - start))
    return spans


def _masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (they may overlap) replaced by :data:`MASK`, overlapping ones by one."""
    out, done = [], 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        if start >= done:
            out += [text[done:start], MASK]
        done = end
    out.append(text[done:])
    return "".join(out)


def scrub_value(value: Any, settings: Any, secrets: Iterable[Any] = ()) -> Any:
    """``value`` (decoded JSON: an error's ``details``) with :func:`scrub` applied to every string in it."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, settings, secrets)
    if isinstance(value, Mapping):
        return {scrub(str(k), settings, secrets): scrub_value(v, settings, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v, settings, secrets) for v in value]
    return value


# ------------------------------------------------------------------------------------------------ SP-API


__all__ = ["MASK", "scrub", "scrub_value"]
