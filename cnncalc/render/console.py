"""The rich console every table renderer prints to: 200 columns when not a terminal, colours as asked."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # rich is imported only when a table is printed
    from rich.console import Console


def make_console(out: TextIO | None = None, color: bool | None = None) -> "Console":
    """color: False never, True always, None when `out` is a terminal (NO_COLOR respected)."""
    from rich.console import Console

    out = out or sys.stdout
    is_tty = out.isatty() if hasattr(out, "isatty") else False
    return Console(file=out, width=None if is_tty else 200, no_color=color is False,
                   force_terminal=color if color else None, highlight=False)
