"""The table of `shapes` when it goes to a pipe or a file, drawn directly, as rich draws it there.

Piped, the table has no width limit, no colour and nothing to fit: rich would only pad columns, yet
importing rich and laying out VGG16's 32 rows with it cost as much as starting Python with click, rich
and yaml, and ResNet-152's 500 rows ten times that. This draws the same text (render/terminal.py's
borderless look, trailing spaces trimmed, --ascii) without importing rich; tests compare the two.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, TextIO

# The columns' roles (how they give way on a narrow terminal: render/terminal.py); here, without rich.
NUMBER = "number"  # one token (a count, a shape): never wraps, never shrinks
ARITHMETIC = "arithmetic"  # terms separated by spaces: wraps between terms, never below its longest term
TEXT = "text"  # words: wraps between words
TEXT_FLOOR = 8  # a TEXT column's least width: it folds words longer than that

_WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces around it, as rich splits a line to wrap it
_TRAILING_SPACE = re.compile(r"\s+$")


@lru_cache(maxsize=4096)  # a table repeats its cells ('relu', '0', shapes): measure each once
def cell_width(text: str) -> int:
    """Terminal columns `text` takes: 2 per East Asian wide or full-width character, 0 per combining mark."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to `width` columns, breaking where rich breaks (rich's divide_line): between words,
    each line keeping the spaces after its last word; a word longer than a line is cut into pieces a line
    long, the spaces after it counted in the last piece (which may then start the next line)."""
    breaks: list[int] = []  # where each line but the first starts
    used = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        size = cell_width(word.rstrip())
        if width - used >= size:
            used += cell_width(word)
        elif size > width:  # no line can hold the word: cut it
            pieces = _cut(word, width)
            for piece in pieces[:-1]:
                if start:
                    breaks.append(start)
                start += len(piece)
            if start:
                breaks.append(start)
            used = cell_width(pieces[-1])
        elif used and start:
            breaks.append(start)
            used = cell_width(word)
    bounds = [0, *breaks, len(text)]
    return [text[begin:end] for begin, end in zip(bounds, bounds[1:])]


def wrap_trimmed(text: str, width: int) -> list[str]:
    """The lines of `wrap` as rich's Text.wrap leaves them: a line's trailing spaces kept up to the width."""
    return [_trim(line, width) for line in wrap(text, width)]


def _cut(word: str, width: int) -> list[str]:
    """`word` in pieces of at most `width` columns (rich's chop_cells)."""
    if word.isascii():
        return [word[i:i + width] for i in range(0, len(word), width)]
    pieces, begin, used = [], 0, 0
    for i, c in enumerate(word):
        size = cell_width(c)
        if used + size > width:
            pieces.append(word[begin:i])
            begin, used = i, 0
        used += size
    return pieces + [word[begin:]] if used else pieces


def _trim(line: str, width: int) -> str:
    """A wrapped line's trailing spaces beyond the width dropped, counted in characters as rich counts them
    (Text.rstrip_end), then the line cut to the width in columns (Text.truncate)."""
    excess = len(line) - width
    if excess > 0:
        spaces = _TRAILING_SPACE.search(line)
        if spaces:
            line = line[:len(line) - min(len(spaces.group()), excess)]
    while cell_width(line) > width:
        line = line[:-1]
    return line


def shrink(widths: list[int], stages: list[list[int]], excess: int) -> list[int]:
    """Take `excess` cells off the columns, stage by stage: each stage gives every column a floor, and the
    widest column still above its floor loses a cell until the excess is gone. Returns the new widths (some
    excess remains when the last stage's floors are reached)."""
    widths = list(widths)
    for floors in stages:
        while excess > 0:
            candidates = [i for i, (w, f) in enumerate(zip(widths, floors)) if w > f]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    return widths


def stage_floors(roles: list[str], widest: list[int], terms: list[int]) -> list[list[int]]:
    """The columns' floors in two stages: text and arithmetic columns first down to half their width (two
    lines), then to their least: an arithmetic column's longest term, a text column's TEXT_FLOOR (it folds
    longer words). Number columns stay at their widest."""
    least = [w if r == NUMBER else t if r == ARITHMETIC else min(w, TEXT_FLOOR) for r, w, t in zip(roles, widest, terms)]
    half = [max(-(-w // 2), floor) for w, floor in zip(widest, least)]
    return [half, least]


class Dim(str):
    """A cell a terminal shows dim (rich's [dim] markup): render/terminal_direct.py draws it so; a pipe, as is."""


class PlainTable:
    """FittedTable's add_column/add_row without rich: the same calls, drawn by `lines()` for a pipe or a file
    and by render/terminal_direct.py for a terminal (which uses the cells' styles: Dim cells, bold rows)."""

    def __init__(self, title: str = "", ascii: bool = False) -> None:
        self.text = str
        if ascii:
            from .ascii import to_ascii

            self.text = to_ascii
        self.title = self.text(title)
        self.rule = "-" if ascii else "─"
        self.headers: list[str] = []
        self.right: list[bool] = []
        self.roles: list[str] = []  # how each column gives way on a narrow terminal
        self.rows: list[tuple[str, ...]] = []
        self.dims: list[tuple[bool, ...]] = []  # per row, which cells are Dim
        self.styles: list[str | None] = []  # per row, rich's style of the whole row ("bold" or None)

    def add_column(self, header: str, justify: str = "left", role: str = TEXT) -> None:
        self.headers.append(self.text(header))
        self.right.append(justify == "right")
        self.roles.append(role)

    def add_row(self, *cells: str, style: str | None = None) -> None:
        self.rows.append(tuple(self.text(cell) for cell in cells))
        self.dims.append(tuple(isinstance(cell, Dim) for cell in cells))
        self.styles.append(style)

    def widths(self, measure: Callable[[str], int] = cell_width) -> list[int]:
        """Each column's width: its widest cell, header included, in columns as `measure` counts them."""
        widths = [measure(header) for header in self.headers]
        for cells in self.rows:
            for i, cell in enumerate(cells):
                widths[i] = max(widths[i], measure(cell))
        return widths

    def terms(self, measure: Callable[[str], int] = cell_width) -> list[int]:
        """Each column's longest space-free term, header included (an arithmetic column's least width)."""
        terms = [max(map(measure, header.split()), default=0) for header in self.headers]
        for cells in self.rows:
            for i, cell in enumerate(cells):
                terms[i] = max(terms[i], max(map(measure, cell.split()), default=0))
        return terms

    def lines(self) -> list[str]:
        """Title (wrapped to the table's width), header, a rule, rows: columns two spaces apart, no edges."""
        widths = self.widths()
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
