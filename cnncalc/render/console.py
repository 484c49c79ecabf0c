"""Where the laid-out lines go (render/layout.py lays them out).

- A pipe or a file, or `--format text`: plain text, no colour, without importing rich. Width: `--width`,
  else the terminal's for `--format text` on a terminal, else no limit (every row one line, for grep,
  diff and less -S).
- A terminal (or colour forced by FORCE_COLOR or TTY_COMPATIBLE=1): rich.console draws the lines, each
  marked stretch with its rich style, so rich decides the colour system, NO_COLOR and FORCE_COLOR, the width (COLUMNS, the
  window), legacy Windows consoles and Jupyter. `--no-color` turns colour off.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple, Sequence, TextIO

from .layout import Block, iter_lines, render_blocks

# how the terminal draws each mark of render/layout.py
STYLES = {"dim": "dim", "bold": "bold", "warning": "yellow", "header": "bold", "title": "bold"}


class TableOptions(NamedTuple):
    """The options every table command takes (render/layout.py, cli.table_options)."""

    ascii: bool = False  # plain ASCII: render/ascii.py, '-' rules, '#' bars
    color: bool | None = None  # False: --no-color; None: rich decides (a terminal, NO_COLOR, FORCE_COLOR)
    exact: bool = False  # every count as its whole integer (3,211,264), not 3.21M
    wide: bool = False  # no column gives way, whatever the width
    columns: tuple[str, ...] | None = None  # the columns to show, in order (label columns always)
    width: int | None = None  # lay out for this many columns instead of the terminal's
    text: bool = False  # --format text: plain text even on a terminal


def _isatty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def _forced(color: bool | None) -> bool:
    return color is True or bool(os.environ.get("FORCE_COLOR")) or os.environ.get("TTY_COMPATIBLE") == "1"


def uses_rich(out: TextIO, options: TableOptions) -> bool:
    """Whether rich draws the output: a terminal, or colour forced onto a pipe, and not --format text."""
    return not options.text and (_isatty(out) or (options.color is not False and _forced(options.color)))


def show(blocks: Sequence[Block], options: TableOptions, out: TextIO | None = None) -> None:
    """Lay the blocks out and write them: through rich on a terminal, as plain text elsewhere."""
    out = out or sys.stdout
    if not uses_rich(out, options):
        width = options.width
        if width is None and _isatty(out):
            width = os.get_terminal_size(out.fileno()).columns if hasattr(out, "fileno") else None
        write, batch = out.write, []
        for line in iter_lines(blocks, width, options.wide, options.columns, options.ascii):
            batch.append(line.text)
            if len(batch) == 1024:  # written as it is laid out: a table of 10^6 rows is never one string
                batch.append("")
                write("\n".join(batch))
                batch = []
        if batch:
            batch.append("")
            write("\n".join(batch))
        return
    console = make_console(out, options.color)
    lines = render_blocks(blocks, options.width or console.width, options.wide, options.columns, options.ascii)
    print_lines(console, lines)


def print_lines(console, lines: list) -> None:
    """The lines printed as they are (laid out to the width already; with --wide the terminal wraps what is
    wider), each marked stretch in its style: rich renders the styles for the terminal at hand."""
    console.print(_Drawn(lines), crop=False, soft_wrap=True)


class _Drawn:
    """A rich renderable: the laid-out lines as rich segments (text and style), no wrapping, no cropping: one
    segment a styled stretch, and one for each run of unstyled text between them, line breaks included.
    (Segments are what rich.text.Text renders into; making them directly skips Text's scan of every character
    for control codes, which cnncalc's text never holds: names are escaped when read.)"""

    def __init__(self, lines: list) -> None:
        self.lines = lines

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        styles = {mark: console.get_style(style) for mark, style in STYLES.items()}
        plain: list[str] = []  # unstyled text not given out yet: one segment a run of it, line breaks included
        for line in self.lines:
            text = line.text
            at = 0
            for start, end, mark in line.spans:
                if start > at:
                    plain.append(text[at:start])
                if plain:
                    yield Segment("".join(plain))
                    plain = []
                yield Segment(text[start:end], styles[mark])
                at = end
            plain.append(text[at:] + "\n" if at < len(text) else "\n")
        if plain:
            yield Segment("".join(plain))


def make_console(out: TextIO | None = None, color: bool | None = None):
    """A rich console on `out`. color: False never; None rich's choice (a terminal unless NO_COLOR is set, or
    FORCE_COLOR); True always."""
    from rich.console import Console

    console = Console(file=out or sys.stdout, no_color=True if color is False else None,
                      force_terminal=True if color else None, highlight=False, emoji=False, markup=False)
    console.on_broken_pipe = _closed_pipe  # type: ignore[method-assign]  # rich would exit 1, an invalid spec's code
    return console


def _closed_pipe() -> None:
    """The reader went away (`| head`): the CLI decides the exit code."""
    raise BrokenPipeError
