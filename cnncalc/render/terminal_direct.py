"""The table of `shapes` on a terminal, drawn directly with the escape sequences rich writes.

On a terminal rich colours the table and fits it to the width (render/terminal.py); importing rich.console
and rich.table and laying the rows out cost VGG16 2.4× the start-up of Python with click, rich and yaml,
and ResNet-152 ten times that. What rich writes for this table is simple. When the table is wider than the
terminal, its columns give way as render/terminal.py's FittedTable makes them (by role, to the widths rich
then takes as they are) and a cell too long for its column is wrapped where rich wraps it (plain.wrap), each
line justified, the row as tall as its tallest cell. Each cell is padded as on a pipe (render/plain.py), and
every run of styled text is written as one escape sequence closed by a reset, `ESC[codes m text ESC[0m`,
never merged with its neighbours:

- the title in italic, wrapped to the table's width, each line padded to that width;
- the header row in bold, the padding after each cell too; the spaces between columns unstyled;
- under a cell shorter than its row, spaces the column's width and padding wide, in one run of the row's style;
- a dim cell (plain.Dim) dim, the spaces that justify it in the row's style; a bold row (a collapsed group)
  bold throughout but for the spaces between columns, its dim cells bold and dim (`1;2`);
- under the table, wrapped to the terminal's width as rich wraps text: the footnote dim, each line in its
  own sequence; the warnings yellow (33 whatever the colour system: it is one of the 8 standard colours);
  the notes and totals unstyled.

--no-color and NO_COLOR drop the yellow only (bold, dim and italic are not colours); a dumb terminal, or
TTY_COMPATIBLE=0, gets no escape sequence at all; colour forced onto a pipe (FORCE_COLOR, TTY_COMPATIBLE=1)
gets the sequences on an unlimited width, trailing spaces trimmed as render/console.py trims them.

This draws nothing, and rich draws the table as before, when the table cannot shrink to the terminal's width
(rich then lets its lines overflow), when a header would wrap, when a text holds a character whose width rich
measures with its own Unicode tables (anything but the one-column characters cnncalc writes), or where rich's
console behaves in its own way (Windows, Jupyter, IDLE, an encoding other than UTF-8). Tests compare the two
on every spec and option, at the terminal widths of common use.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, NamedTuple, TextIO

from .console import UNLIMITED_WIDTH
from .plain import NUMBER, PlainTable, shrink, stage_floors, wrap_trimmed

# Characters rich counts as one column without its Unicode tables (rich.cells' single-cell ranges: Latin,
# Greek, Cyrillic, box drawing and shapes, Braille), and the other one-column characters cnncalc writes.
ONE_COLUMN_RANGES = ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482), (0x2500, 0x25FC), (0x2800, 0x28FF))
CNNCALC_SYMBOLS = "–—‘’“”…⁰⁴⁵⁶⁷⁸⁹⁻←→−≈≠≡≤≥ᵀ√"


def one_column(texts: list[str]) -> bool:
    """Whether every character of `texts` takes one column for rich, as it takes for len()."""
    return all(any(low <= ord(c) <= high for low, high in ONE_COLUMN_RANGES) or c in CNNCALC_SYMBOLS
               for c in set("".join(texts)))


BOLD, DIM, ITALIC, YELLOW = "1", "2", "3", "33"  # rich's SGR codes for the styles the table uses
_ROW_STYLES = {None: "", "bold": BOLD}
_LINE_STYLES = {None: "", "dim": DIM, "yellow": YELLOW}


class Terminal(NamedTuple):
    """What rich's console (render/console.py's make_console) would make of the output."""

    width: int  # the console's width: the terminal's, or unlimited when colour is forced onto a pipe
    styled: bool  # escape sequences at all (rich has a colour system: a terminal, and not a dumb one)
    colour: bool  # colours among them (not with --no-color or NO_COLOR)
    trimmed: bool  # not a terminal: render/console.py trims the spaces at the end of each line


def terminal_settings(out: TextIO, color: bool | None) -> Terminal | None:
    """rich's decisions for a console on `out` (a terminal, or colour forced onto a pipe or a file), taken as
    rich takes them; None where this module leaves the drawing to rich."""
    if sys.platform == "win32" or _jupyter() or _idle():
        return None
    environ = os.environ
    is_tty = out.isatty() if hasattr(out, "isatty") else False
    if color:  # make_console's force_terminal
        is_terminal = True
    elif environ.get("TTY_COMPATIBLE", "") in ("0", "1"):
        is_terminal = environ["TTY_COMPATIBLE"] == "1"
    elif environ.get("FORCE_COLOR") is not None:
        is_terminal = environ["FORCE_COLOR"] != ""
    else:
        is_terminal = is_tty
    if not is_tty and not is_terminal:
        return None  # a pipe or a file: render/plain.py's
    encoding = (getattr(out, "encoding", "utf-8") or "utf-8").lower() if is_tty else "utf-8"
    if not encoding.startswith("utf"):
        return None  # rich would draw the rules in ASCII
    dumb = is_terminal and environ.get("TERM", "").lower() in ("dumb", "unknown")
    width = _console_width(None if is_tty else UNLIMITED_WIDTH, environ, dumb)
    if width is None:
        return None
    no_color = color is False or environ.get("NO_COLOR", "") != ""
    return Terminal(width=width, styled=is_terminal and not dumb, colour=not no_color, trimmed=not is_tty)


def _console_width(given: int | None, environ: Mapping[str, str], dumb: bool) -> int | None:
    """The width rich's Console takes: the `given` one (make_console's, when not a terminal) or COLUMNS, but
    80 on a dumb terminal unless LINES is set too; else the size of the first standard stream that is a
    terminal, else 80. None for a COLUMNS or LINES rich cannot read."""
    columns, lines = environ.get("COLUMNS"), environ.get("LINES")
    try:
        width = given if given is not None else int(columns) if columns is not None and columns.isdigit() else None
        height = int(lines) if lines is not None and lines.isdigit() else None
    except ValueError:  # a digit int() does not read ('²'): rich fails on it; let it
        return None
    if width is not None and height is not None:
        return width
    if dumb:
        return 80
    if width is not None:
        return width
    for stream, default in ((sys.__stdin__, 0), (sys.__stdout__, 1), (sys.__stderr__, 2)):
        try:
            return os.get_terminal_size(_fileno(stream, default)).columns or 80
        except (AttributeError, ValueError, OSError):  # not a terminal
            pass
    return 80


def _fileno(stream: object, default: int) -> int:
    try:
        return stream.fileno()  # type: ignore[attr-defined]
    except Exception:
        return default


def _jupyter() -> bool:
    import builtins

    return hasattr(builtins, "get_ipython")  # rich looks closer; any IPython is left to rich


def _idle() -> bool:
    return str(getattr(sys.stdin, "__module__", "")).startswith("idlelib")


def fitted_widths(table: PlainTable, width: int) -> list[int] | None:
    """The columns' widths as rich lays the table out on a terminal `width` wide (render/terminal.py's
    FittedTable): their natural widths when the table fits; else the widths FittedTable.fit gives way to,
    which rich then takes as they are (each column's measure clamped to them, their sum within the width).
    None when even the least widths do not fit: rich then squeezes the columns its own way and the lines
    overflow. Columns two spaces apart: a space of padding after each but the last, and a divider."""
    natural = table.widths(measure=len)  # one column per character, as checked
    gaps = 2 * (len(natural) - 1)
    if sum(natural) + gaps <= width:
        return natural
    stages = stage_floors(table.roles, natural, table.terms(measure=len))
    widths = shrink(natural, stages, sum(natural) + gaps - width)
    return widths if sum(widths) + gaps <= width else None


def cell_lines(cell: str, width: int, right: bool, wraps: bool) -> list[tuple[str, str]]:
    """A cell in a column `width` wide as rich wraps and justifies it: per line, its text and the spaces
    that justify it (before the text when right-justified: rich strips the spaces after its last word;
    after it otherwise: a wrapped line keeps the spaces after its last word, up to the width)."""
    lines = wrap_trimmed(cell, width) if wraps and len(cell) > width else [cell]
    if right:
        lines = [line.rstrip() for line in lines]
    return [(line, " " * (width - len(line))) for line in lines]


def draw(table: PlainTable, below: list[tuple[str, str | None]], terminal: Terminal) -> str | None:
    """The table and the lines below it (text, style: None, 'dim' or 'yellow') as rich writes them on
    `terminal`; None when the table cannot be fitted to the terminal (rich lets its lines overflow) or a
    text is not all one-column characters."""
    every_cell = [*table.headers, *(cell for cells in table.rows for cell in cells)]
    if not one_column([table.title, *every_cell, *(text for text, _ in below)]):
        return None
    if any(style not in _ROW_STYLES for style in table.styles):
        return None
    widths = fitted_widths(table, terminal.width)
    if widths is None or any(len(header) > width for header, width in zip(table.headers, widths)):
        return None  # a header on two lines would be aligned to the bottom: left to rich
    total = sum(widths) + 2 * (len(widths) - 1)
    wraps = [role != NUMBER for role in table.roles]  # number columns are never wrapped (no_wrap)
    last = len(widths) - 1

    def styled(codes: str, text: str) -> str:
        return f"\x1b[{codes}m{text}\x1b[0m" if codes and text and terminal.styled else text

    def row(cells: tuple[str, ...], dims: tuple[bool, ...], style: str) -> list[str]:
        """A row, on as many lines as its tallest cell: each cell justified, a space of padding after it in
        the row's style, then the unstyled space between columns; under a shorter cell, spaces the column's
        width and its padding wide, in one run of the row's style (rich aligns cells to the top)."""
        columns = [cell_lines(cell, width, right, wrap)
                   for cell, width, right, wrap in zip(cells, widths, table.right, wraps)]
        height = max(len(lines) for lines in columns)
        out = []
        if not terminal.styled or not style and not any(dims):  # most rows: not one escape sequence
            for n in range(height):
                parts = []
                for lines, width, right in zip(columns, widths, table.right):
                    if n >= len(lines):
                        parts.append(" " * width)
                        continue
                    text, fill = lines[n]
                    parts.append(fill + text if right else text + fill)
                out.append("  ".join(parts))
            return out
        dim = f"{style};{DIM}" if style else DIM
        for n in range(height):
            parts = []
            for i, (lines, width, right, dimmed) in enumerate(zip(columns, widths, table.right, dims)):
                padding = "" if i == last else " "
                if n >= len(lines):
                    parts.append(styled(style, " " * width + padding))
                    continue
                text, fill = lines[n]
                if dimmed:  # the cell dim, the spaces that justify it in the row's style
                    part = styled(style, fill) + styled(dim, text) if right else styled(dim, text) + styled(style, fill)
                else:
                    part = styled(style, fill + text if right else text + fill)
                parts.append(part + styled(style, padding))
            out.append(" ".join(parts))
        return out

    title = wrap_trimmed(table.title, total) if table.title else []
    lines = [styled(ITALIC, line + " " * (total - len(line))) for line in title]
    lines.extend(row(tuple(table.headers), (False,) * len(widths), BOLD))
    lines.append(table.rule * total)
    for cells, dims, style in zip(table.rows, table.dims, table.styles):
        lines.extend(row(cells, dims, _ROW_STYLES[style]))
    for text, style in below:
        codes = _LINE_STYLES[style] if style != "yellow" or terminal.colour else ""
        lines.extend(styled(codes, line) for line in wrap_trimmed(text, terminal.width))
    if terminal.trimmed:
        lines = [line.rstrip(" ") for line in lines]
    return "".join(line + "\n" for line in lines)
