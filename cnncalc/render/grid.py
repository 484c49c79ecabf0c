"""A boxed text table in rich's default look (a heavy head box), drawn directly.

Importing rich's console and table and laying out a 32-row table with them cost as much as starting
Python with all of cnncalc's dependencies; the table only needs each column padded to its widest cell.
Nothing is wrapped or cut: a number is never replaced by an ellipsis on a narrow terminal.
"""

from __future__ import annotations

import unicodedata
from typing import Mapping

# Select Graphic Rendition codes of the few styles the tables use.
SGR = {"bold": "1", "dim": "2", "italic": "3", "yellow": "33"}


def cell_width(text: str) -> int:
    """Terminal columns `text` takes: 2 per East Asian wide or full-width character, 0 per combining mark."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def styled(text: str, style: str | None, on: bool) -> str:
    """`text` wrapped in the style's escape codes when `on` (a terminal that shows them), else as is."""
    return f"\x1b[{SGR[style]}m{text}\x1b[0m" if on and style else text


class Grid:
    """Columns with a header and a justification, rows of cells, a title above; `lines()` draws them."""

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.headers: list[str] = []
        self.right: list[bool] = []
        self.rows: list[tuple[tuple[str, ...], Mapping[int, str]]] = []

    def add_column(self, header: str, justify: str = "left") -> None:
        self.headers.append(header)
        self.right.append(justify == "right")

    def add_row(self, *cells: str, styles: Mapping[int, str] | None = None) -> None:
        """One row; `styles` maps a column index to the style of that cell (e.g. {4: "dim"})."""
        self.rows.append((cells, styles or {}))

    def lines(self, styles_on: bool = False) -> list[str]:
        """Title (left, padded to the table's width), top rule, header, rule, rows, bottom rule."""
        widths = [cell_width(h) for h in self.headers]
        for cells, _ in self.rows:
            for i, cell in enumerate(cells):
                width = cell_width(cell)
                if width > widths[i]:
                    widths[i] = width
        last = len(widths) - 1
        # One space either side of a cell, none on the table's outer edges.
        left = [0 if i == 0 else 1 for i in range(len(widths))]
        right = [0 if i == last else 1 for i in range(len(widths))]
        spans = [left[i] + w + right[i] for i, w in enumerate(widths)]

        def row(cells: tuple[str, ...], bar: str, styles: Mapping[int, str]) -> str:
            parts = []
            for i, cell in enumerate(cells):
                fill = " " * (widths[i] - cell_width(cell))
                text = fill + cell if self.right[i] else cell + fill
                parts.append(" " * left[i] + styled(text, styles.get(i), styles_on) + " " * right[i])
            return bar + bar.join(parts) + bar

        total = sum(spans) + len(spans) + 1
        out = []
        if self.title:
            out.append(styled(self.title + " " * (total - cell_width(self.title)), "italic", styles_on))
        out.append("┏" + "┳".join("━" * s for s in spans) + "┓")
        out.append(row(tuple(self.headers), "┃", dict.fromkeys(range(len(widths)), "bold")))
        out.append("┡" + "╇".join("━" * s for s in spans) + "┩")
        out.extend(row(cells, "│", styles) for cells, styles in self.rows)
        out.append("└" + "┴".join("─" * s for s in spans) + "┘")
        return out
