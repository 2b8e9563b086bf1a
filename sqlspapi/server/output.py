"""The write side of one bridge connection: a buffer filled in the client's worker thread, written by the loop.

Rows leave as they are produced: every 64 KiB the buffer is handed to the event loop, and the worker waits until
the loop has written it (or the transport buffer is below its high-water mark). Waiting, rather than encoding on
while the loop waits for the GIL, lets the loop write at once; the kernel's socket buffer overlaps our encoding
with the client's reading. ReadyForQuery, Flush and the SSL reply flush explicitly.
"""

from __future__ import annotations

import asyncio
import threading

CHUNK = 1 << 16          # bytes buffered before a chunk goes to the loop
HIGH_WATER = 1 << 18     # transport buffer size above which the loop drains before the worker may go on


class ClientGone(Exception):
    """The client disconnected while rows were being sent."""


class Output:
    """Write buffer owned by one connection; ``write``/``flush`` are called from the worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, writer: asyncio.StreamWriter) -> None:
        self.loop = loop
        self.writer = writer
        self.buf = bytearray()
        self.closed = False
        self._slots = threading.Semaphore(0)
        self._pending = 0
        self._draining = False

    def write(self, data: bytes) -> None:
        """Buffer ``data``; hand the buffer to the loop once it is larger than a chunk."""
        self.buf += data
        if len(self.buf) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand everything buffered to the loop and wait until it is written (or queued under the high water mark).

        Waiting here (instead of encoding on while the loop waits for the GIL) lets the loop write at once: the
        kernel's socket buffer, not a Python queue, overlaps our encoding with the client's reading.
        """
        if not self.buf:
            return
        if self.closed:
            raise ClientGone
        data = bytes(self.buf)
        self.buf.clear()
        self.loop.call_soon_threadsafe(self._deliver, data)
        while not self._slots.acquire(timeout=0.5):
            if self.closed:
                raise ClientGone
        if self.closed:
            raise ClientGone

    # -- loop side
    def _deliver(self, data: bytes) -> None:
        transport = self.writer.transport
        if self.closed or transport.is_closing():
            self.closed = True
            self._slots.release()
            return
        self.writer.write(data)
        if transport.get_write_buffer_size() <= HIGH_WATER and not self._draining:
            self._slots.release()
            return
        self._pending += 1
        if not self._draining:
            self._draining = True
            self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            self.closed = True
        finally:
            self._draining = False
            for _ in range(self._pending):
                self._slots.release()
            self._pending = 0
