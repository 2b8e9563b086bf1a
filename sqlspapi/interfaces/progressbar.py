"""Live progress drawn with tqdm: the shell's and ``sqlspapi query``'s status line, and a ready DB-API callback.

:class:`TqdmProgress` is a progress listener (it takes the :class:`~sqlspapi.http.progress.ProgressState` of the
running statement): it stays silent for statements that end within ``delay`` seconds, then draws one line —
the operation, calls made (a bar when the number left is knowable), pages, rows, the current wait's countdown and
the estimate of what is left — and erases it when the statement ends. tqdm (a small, well-kept library) does the
drawing, terminal width and notebook widgets (``tqdm.auto``) for us.

    >>> import sqlspapi
    >>> from sqlspapi.interfaces.progressbar import TqdmProgress
    >>> con = sqlspapi.connect(demo=True, progress=TqdmProgress())   # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Any, TextIO

from sqlspapi.http.progress import ProgressState

#: Seconds a statement runs before its progress line appears.
DELAY = 1.0
#: Least seconds between two redraws of the line.
REDRAW = 0.1


def width(stream: TextIO | None) -> int:
    """The terminal's width for ``stream``: its own size, else ``COLUMNS``, else 120."""
    try:
        columns = os.get_terminal_size((stream or sys.stderr).fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns or shutil.get_terminal_size((120, 24)).columns or 120


class TqdmProgress:
    """A progress listener drawing one tqdm line per statement (after ``delay`` seconds), erased when it ends.

    ``file`` is where to draw (default ``sys.stderr``); ``notebook`` True uses ``tqdm.auto`` (a widget in Jupyter
    when ipywidgets is installed).
    """

    def __init__(self, file: TextIO | None = None, *, delay: float = DELAY, notebook: bool = False) -> None:
        self.file = file
        self.delay = delay
        self.notebook = notebook
        self._bar: Any = None
        self._drawn = 0.0

    def __call__(self, state: ProgressState) -> None:
        """Draw ``state`` (the statement's listener)."""
        if state.finished:
            self.close()
            return
        if self._bar is None:
            if state.elapsed < self.delay:
                return
            self._bar = self._open(state)
        now = time.monotonic()
        if now - self._drawn < REDRAW:
            return
        self._drawn = now
        bar = self._bar
        bar.total = state.calls + state.calls_left if state.calls_left is not None else None
        bar.n = state.calls
        bar.set_description_str(state.operation or "sqlspapi", refresh=False)
        bar.set_postfix_str(state.details(), refresh=False)
        bar.ncols = width(self.file)
        bar.refresh()

    def _open(self, state: ProgressState) -> Any:
        if self.notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        # The sizes are given: a terminal may report 0 columns and rows (a fresh pseudo-terminal), and tqdm then
        # draws nothing.
        bar = tqdm(total=None, file=self.file, leave=False, ncols=width(self.file), nrows=24, unit="call",
                   delay=REDRAW,
                   desc=state.operation or "sqlspapi", bar_format="{desc}: {n_fmt} calls [{elapsed}]{postfix}",
                   mininterval=REDRAW)
        bar.start_t -= state.elapsed  # the elapsed time is the statement's, not the line's
        return bar

    def clear(self) -> None:
        """Erase the line for a moment (before other output is written); the next state draws it again."""
        if self._bar is not None:
            self._bar.clear()
            self._drawn = 0.0

    def close(self) -> None:
        """Erase the line for good (the statement ended)."""
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.close()
        self._drawn = 0.0


__all__ = ["DELAY", "TqdmProgress"]
