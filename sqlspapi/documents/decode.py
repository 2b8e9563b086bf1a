"""Report documents as text lines: gzip by the bytes, the charset Amazon really used, never a crash on a bad byte.

A report download is a stream of byte chunks. :func:`open_document` looks at its first bytes only, then streams:

- **Compression** is decided by the gzip magic bytes (``1f 8b``), not by ``compressionAlgorithm``: a file labelled
  GZIP that is not gzip is read as plain text, an unlabelled gzip file is decompressed, and a file an HTTP library
  already decompressed (``Content-Encoding: gzip``) is not decompressed twice. Concatenated gzip members are read
  one after the other; a damaged or cut-off gzip stream ends the document (``truncated``) instead of raising.
- **Charset**: a byte-order mark wins; then the ``charset=`` of the download's ``Content-Type``, with Java's names
  mapped (``Cp1252`` → windows-1252, ``Windows-31J``/``Shift_JIS``/``x-sjis`` → cp932, ``UTF8`` → utf-8,
  ``ISO8859_1`` → latin-1; every other name goes through Python's codecs registry); without one (or with a name no
  codec knows), the marketplace's usual charset: cp932 in Japan, windows-1252 for listings reports in the EU,
  UTF-8 otherwise.
- **Bad bytes** are replaced by U+FFFD and counted (:attr:`DecodedDocument.replacements`), so the caller can say so
  once (:meth:`DecodedDocument.notice`) instead of failing the query.

Memory stays flat whatever the document size: one input chunk and one line are held at a time.
"""

from __future__ import annotations

import codecs
import itertools
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlspapi.settings.marketplaces import MARKETPLACE_BY_ID

__all__ = [
    "GZIP_MAGIC", "JAVA_CHARSETS", "DecodedDocument", "open_document", "codec_for_charset", "charset_from_content_type",
    "fallback_encoding",
]

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip member."""

CHUNK_SIZE = 1 << 16
"""Bytes per slice when the document is given as one ``bytes`` object, and the most a decompression step yields."""

JAVA_CHARSETS: Mapping[str, str] = MappingProxyType({
    "cp1252": "windows-1252",
    "windows31j": "cp932",
    "shiftjis": "cp932",
    "sjis": "cp932",
    "xsjis": "cp932",
    "mskanji": "cp932",
    "csshiftjis": "cp932",
    "utf8": "utf-8",
    "iso88591": "latin-1",
    "iso8859_1": "latin-1",
    "xwindows949": "cp949",
})
"""Java charset spellings (lower case, ``-`` and ``_`` removed) → the Python codec that decodes what Amazon sends.

Shift_JIS maps to cp932 on purpose: Amazon's Japanese files use cp932 characters (``①``, ``髙``, ``～``) that a
strict ``shift_jis`` decoder rejects.
"""

JAPAN = "A1VC38T7YXB528"

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def codec_for_charset(charset: str) -> str | None:
    """The Python codec name for a charset as a ``Content-Type`` spells it, or ``None`` when no codec knows it."""
    name = charset.strip().strip("\"'")
    key = name.lower().replace("-", "").replace("_", "")
    name = JAVA_CHARSETS.get(key, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` as written (``text/plain;charset=Cp1252`` → ``Cp1252``)."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip("\"'"):
            return value.strip().strip("\"'")
    return None


def fallback_encoding(marketplace_id: str | None, report_type: str | None = None) -> str:
    """The charset to assume when the download names none: cp932 in Japan, windows-1252 for EU listings, else UTF-8."""
    marketplace = MARKETPLACE_BY_ID.get((marketplace_id or "").strip().upper())
    if marketplace is not None and marketplace.id == JAPAN:
        return "cp932"
    if marketplace is not None and marketplace.region == "eu" and "LISTINGS" in (report_type or "").upper():
        return "cp1252"
    return "utf-8"


@dataclass(eq=False)
class DecodedDocument:
    """One report document as a single-pass stream of text lines (without their line ends).

    Iterate it (or call :meth:`lines`) once. :attr:`replacements` and :attr:`truncated` grow while it is read, so
    look at them (or at :meth:`notice`) after the last line.
    """

    encoding: str
    """The Python codec the text is decoded with (``utf-8``, ``cp1252``, ``cp932`` ...)."""
    encoding_source: str
    """Where the encoding came from: ``bom``, ``content-type`` or ``fallback``."""
    declared_charset: str | None
    """The ``charset`` the download's ``Content-Type`` named, as written, or ``None``."""
    gzip: bool
    """Whether the bytes were gzip (by their magic bytes, whatever the document metadata said)."""
    replacements: int = 0
    """Undecodable byte sequences replaced by U+FFFD so far (one per sequence a decoder rejected)."""
    truncated: bool = False
    """Whether the gzip stream was damaged or cut short, so the document ended early."""
    _chunks: Iterator[bytes] | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[str]:
        return self.lines()

    def lines(self) -> Iterator[str]:
        """The text lines, without ``\\n``/``\\r\\n``; a document can be read once."""
        chunks, self._chunks = self._chunks, None
        if chunks is None:
            raise RuntimeError("a DecodedDocument can be read only once")
        if codecs.lookup(self.encoding).name.startswith(("utf-16", "utf-32")):
            return self._wide_lines(chunks)
        return self._byte_lines(chunks)

    def notice(self) -> str | None:
        """One sentence for the user when something was off (bad bytes, a cut-off file), else ``None``."""
        parts = []
        if self.replacements:
            parts.append(f"{self.replacements} byte sequence(s) that are not valid {self.encoding} were replaced by "
                         "U+FFFD")
        if self.truncated:
            parts.append("the gzip stream was damaged or incomplete, so the document ended early")
        return "report document: " + "; ".join(parts) if parts else None

    def _decode(self, line: bytes) -> str:
        """Decode one line, replacing (and counting) each undecodable byte sequence."""
        try:
            return line.decode(self.encoding)
        except UnicodeDecodeError:
            pass
        out: list[str] = []
        rest = line
        while True:
            try:
                out.append(rest.decode(self.encoding))
                return "".join(out)
            except UnicodeDecodeError as exc:
                out.append(rest[:exc.start].decode(self.encoding))
                out.append("\ufffd")
                self.replacements += 1
                rest = rest[exc.end:]

    def _byte_lines(self, chunks: Iterator[bytes]) -> Iterator[str]:
        """Lines of an ASCII-compatible encoding: split on ``\\n`` bytes (never a trail byte in cp932), then decode."""
        pending = b""
        for chunk in chunks:
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            for part in parts:
                yield self._decode(part[:-1] if part.endswith(b"\r") else part)
        if pending:
            yield self._decode(pending[:-1] if pending.endswith(b"\r") else pending)

    def _wide_lines(self, chunks: Iterator[bytes]) -> Iterator[str]:
        """Lines of UTF-16/32 text: decode incrementally, then split (bad sequences become U+FFFD and are counted)."""
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        pending = ""
        for chunk in itertools.chain(chunks, [None]):
            text = decoder.decode(chunk or b"", final=chunk is None)
            self.replacements += text.count("\ufffd")
            parts = (pending + text).split("\n")
            pending = parts.pop()
            yield from (part.removesuffix("\r") for part in parts)
        if pending:
            yield pending.removesuffix("\r")


def _chunked(raw: bytes | bytearray | memoryview | Iterable[bytes]) -> Iterator[bytes]:
    """The document as non-empty byte chunks of bounded size."""
    if isinstance(raw, bytes | bytearray | memoryview):
        view = memoryview(raw)
        for start in range(0, len(view), CHUNK_SIZE):
            yield bytes(view[start:start + CHUNK_SIZE])
        return
    for chunk in raw:
        if chunk:
            yield bytes(chunk)


def _take(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """Read at least ``size`` bytes (fewer at the end); return them and an iterator over the whole stream again."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break

    def again() -> Iterator[bytes]:
        if head:
            yield head
        yield from chunks

    return head, again()


def _gunzip(chunks: Iterator[bytes], document: DecodedDocument) -> Iterator[bytes]:
    """Decompress one or more concatenated gzip members; a damaged or short stream ends it (``truncated``)."""
    decompressor = zlib.decompressobj(31)
    pending = b""  # bytes after a finished member, until two of them tell whether another member starts
    for chunk in chunks:
        data, pending = pending + chunk, b""
        while data:
            if decompressor.eof:
                if len(data) < 2:
                    pending = data
                    break
                if not data.startswith(GZIP_MAGIC):
                    return  # trailing padding after the last member: ignored, as `gzip -d` does
                decompressor = zlib.decompressobj(31)
            try:
                out = decompressor.decompress(data, CHUNK_SIZE)
            except zlib.error:
                document.truncated = True
                return
            if out:
                yield out
            data = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
    if not decompressor.eof:
        document.truncated = True


def open_document(raw: bytes | Iterable[bytes], *, content_type: str | None = None, compression: str | None = None,
                  marketplace_id: str | None = None, report_type: str | None = None) -> DecodedDocument:
    """Open a report download (bytes, or an iterable of byte chunks) as a stream of text lines.

    ``content_type`` is the download's ``Content-Type`` header; ``compression`` is getReportDocument's
    ``compressionAlgorithm`` (informational only: the magic bytes decide); ``marketplace_id`` and ``report_type``
    choose the charset when the download names none. Only the first bytes are read here; the rest is read while
    the returned :class:`DecodedDocument` is iterated.
    """
    del compression  # the bytes decide: Amazon's label is not always true
    head, chunks = _take(_chunked(raw), 2)
    declared = charset_from_content_type(content_type)
    document = DecodedDocument(encoding="utf-8", encoding_source="fallback", declared_charset=declared,
                               gzip=head.startswith(GZIP_MAGIC))
    if document.gzip:
        chunks = _gunzip(chunks, document)
    head, chunks = _take(chunks, 4)
    bom = next(((mark, name) for mark, name in _BOMS if head.startswith(mark)), None)
    if bom is not None:
        document.encoding, document.encoding_source = bom[1], "bom"
        chunks = _skip(chunks, len(bom[0]))
    elif declared and (codec := codec_for_charset(declared)) is not None:
        # UTF-16/32 without a byte-order mark is big-endian (Unicode standard, section 3.10)
        document.encoding = {"utf-16": "utf-16-be", "utf-32": "utf-32-be"}.get(codec, codec)
        document.encoding_source = "content-type"
    else:
        document.encoding = codecs.lookup(fallback_encoding(marketplace_id, report_type)).name
    document._chunks = chunks
    return document


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """The stream without its first ``count`` bytes (the first chunk holds at least that many)."""
    first = next(chunks, b"")
    if first[count:]:
        yield first[count:]
    yield from chunks
