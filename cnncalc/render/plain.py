"""The table of `shapes` when it goes to a pipe or a file, drawn directly, as rich draws it there.

Piped, the table has no width limit, no colour and nothing to fit: rich would only pad columns, yet
importing rich and laying out VGG16's 32 rows with it cost as much as starting Python with click, rich
and yaml, and ResNet-152's 500 rows ten times that. This draws the same text (render/terminal.py's
borderless look, trailing spaces trimmed, --ascii) without importing rich; tests compare the two.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, TextIO

# The columns' roles (how they give way on a narrow terminal: render/terminal.py); here, without rich.
NUMBER = "number"  # one token (a count, a shape): never wraps, never shrinks
ARITHMETIC = "arithmetic"  # terms separated by spaces: wraps between terms, never below its longest term
TEXT = "text"  # words: wraps between words

_WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces around it, as rich splits a line to wrap it


def cell_width(text: str) -> int:
    """Terminal columns `text` takes: 2 per East Asian wide or full-width character, 0 per combining mark."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to `width` columns, breaking where rich breaks (a word longer than a line is cut)."""
    lines, line, used = [], "", 0
    for word in _WORD.findall(text) or [text]:
        size = cell_width(word.rstrip())
        if line and used + size > width:
            lines.append(line)
            line, used = "", 0
        while cell_width(word.rstrip()) > width:  # fold a word no line can hold
            cut = 1
            while cell_width(word[:cut + 1]) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        line += word
        used += cell_width(word)
    return lines + [line]


class PlainTable:
    """FittedTable's add_column/add_row for plain text: the same calls, drawn by `lines()`."""

    def __init__(self, title: str = "", ascii: bool = False) -> None:
        from .ascii import to_ascii

        self.text = to_ascii if ascii else str
        self.title = self.text(title)
        self.rule = "-" if ascii else "─"
        self.headers: list[str] = []
        self.right: list[bool] = []
        self.rows: list[tuple[str, ...]] = []

    def add_column(self, header: str, justify: str = "left", role: str = TEXT) -> None:
        self.headers.append(self.text(header))
        self.right.append(justify == "right")

    def add_row(self, *cells: str, **style: Any) -> None:  # a row's style is colour: none here
        self.rows.append(tuple(self.text(cell) for cell in cells))

    def lines(self) -> list[str]:
        """Title (wrapped to the table's width), header, a rule, rows: columns two spaces apart, no edges."""
        widths = [cell_width(header) for header in self.headers]
        for cells in self.rows:
            for i, cell in enumerate(cells):
                widths[i] = max(widths[i], cell_width(cell))
        total = sum(widths) + 2 * (len(widths) - 1)

        def row(cells: tuple[str, ...]) -> str:
            parts = []
            for i, cell in enumerate(cells):
                fill = " " * (widths[i] - cell_width(cell))
                parts.append(fill + cell if self.right[i] else cell + fill)
            return "  ".join(parts).rstrip(" ")

        out = [line.rstrip(" ") for line in wrap(self.title, total)] if self.title else []
        out += [row(tuple(self.headers)), self.rule * total]
        out.extend(row(cells) for cells in self.rows)
        return out


def plain_output(out: TextIO, color: bool | None) -> bool:
    """Whether the table goes to a pipe or a file without colour: then rich has nothing to fit or colour."""
    import os

    terminal = out.isatty() if hasattr(out, "isatty") else False
    forced = color is True or bool(os.environ.get("FORCE_COLOR")) or os.environ.get("TTY_COMPATIBLE") == "1"
    return not terminal and not forced
