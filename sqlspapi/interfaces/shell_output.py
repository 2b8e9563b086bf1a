"""The shell's result display: a box table when the columns fit the terminal, else one ``column │ value`` line each.

:class:`FittedOutput` is APSW's shell with the ``auto`` output mode (:meth:`FittedOutput.output_auto`, the default
on a terminal) and a ``box`` mode that falls back to the vertical display instead of failing when a table is too
wide (:func:`~sqlspapi.interfaces.display.fit_columns`, :func:`~sqlspapi.interfaces.display.format_vertical`).
:class:`~sqlspapi.interfaces.shell.SPAPIShell` builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw.shell

from sqlspapi.interfaces.display import _cut, _flat, fit_columns, format_vertical


class FittedOutput(apsw.shell.Shell):
    """APSW's shell whose tables fit the terminal's width: ``auto`` output on a terminal, a ``box`` that never fails."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.output == self.output_box:  # on a terminal: the table when it fits, else the vertical display
            self.output = self.output_auto
            for saved in self._output_stack:
                saved["output"] = self.output_auto

    def _display_width(self) -> int:
        options = getattr(self, "box_options", None) or {}
        return options.get("text_width") or self._terminal_width(32)

    def output_auto(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A box table when it fits the width (long text cut with …), else one "column │ value" line per column"""
        width = self._display_width()
        options = getattr(self, "box_options", None) or {}
        null = options.get("null", "NULL")
        rows = [list(row) for row in rows]
        texts = [[null if value is None else _flat(value.hex() if isinstance(value, bytes) else str(value))
                  for value in row] for row in rows]
        fixed = [any(isinstance(row[index], int | float) for row in rows) for index in range(len(header))]
        widths = fit_columns(header, texts, fixed, width)
        if widths is None:
            self.write(self.stdout, format_vertical(header, texts, width, unicode=options.get("use_unicode", True)))
            return
        for row, line in zip(rows, texts, strict=True):
            for index, value in enumerate(row):
                if isinstance(value, str | bytes):
                    row[index] = _cut(line[index], widths[index])
        saved = getattr(self, "box_options", None)
        self.box_options = {"quote": False, "string_sanitize": 0, "null": null, "truncate": 0, "use_unicode": True,
                            **options, "text_width": width}
        try:
            super().output_box(header, rows)
        finally:
            if saved is None:
                del self.box_options
            else:
                self.box_options = saved

    output_auto.all_at_once = True  # type: ignore[attr-defined]

    def output_box(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Outputs using line drawing and auto sizing columns (a table too wide for the width shows vertically)"""
        try:
            super().output_box(header, rows)
        except ValueError:  # APSW: "Results can't be fit in text width ..."
            options = getattr(self, "box_options", None) or {}
            texts = [[options.get("null", "NULL") if value is None else _flat(str(value)) for value in row]
                     for row in rows]
            self.write(self.stdout, format_vertical(header, texts, self._display_width(),
                                                    unicode=options.get("use_unicode", True)))

    output_box.all_at_once = True  # type: ignore[attr-defined]


__all__ = ["FittedOutput"]
