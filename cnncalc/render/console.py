"""The rich console every table renderer prints to (terminal manners: see render/terminal.py)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # rich is imported only when a table is printed
    from rich.console import Console

UNLIMITED_WIDTH = 1_000_000  # "no limit" when not a terminal: rich needs a number


class _TrimmedLines:
    """A file that drops the spaces rich pads lines with, for piped output that diffs and greps cleanly."""

    def __init__(self, out: TextIO):
        self.out = out
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.out.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.out.write(self.pending)
            self.pending = ""
        self.out.flush()

    def isatty(self) -> bool:
        return False


def make_console(out: TextIO | None = None, color: bool | None = None, ascii: bool = False) -> "Console":
    """A console on `out` (default: standard output).

    color: False never; None rich's choice: colour on a terminal unless NO_COLOR is set, or when FORCE_COLOR
    is; True always. Width: the terminal's; when not a terminal, no limit, so that no line is wrapped or
    cropped. ascii: every string printed goes through render.ascii.to_ascii.
    """
    from rich.console import Console

    from .terminal import AsciiConsole

    out = out or sys.stdout
    is_tty = out.isatty() if hasattr(out, "isatty") else False
    return (AsciiConsole if ascii else Console)(
        file=out if is_tty else _TrimmedLines(out),
        width=None if is_tty else UNLIMITED_WIDTH,
        no_color=True if color is False else None,
        force_terminal=True if color else None,
        highlight=False,
        emoji=False,
    )
