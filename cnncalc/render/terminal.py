"""The terminal side of the rich tables: the box style, ASCII mode and how columns give way.

- Colour (render/console.py): none with `--no-color` or when NO_COLOR is set (https://no-color.org); none when not a terminal.
- Width (render/console.py): a terminal's own width; when the output is piped or redirected, no limit at all, so that no line is
  wrapped or cropped and every row stays one line for grep, diff and less -S.
- A table wider than the terminal gives way: the text columns (names, kinds, rules: they wrap between words)
  and the arithmetic ones (`224·224·64 = 3.21M`: they wrap between terms, the result on the next line) shrink,
  the widest first, each to half its width, then to its least; the number columns never shrink. A number is
  never split: a table that still does not fit runs past the edge (the terminal wraps the line) rather than
  losing a digit.
- Borders: none; columns two spaces apart under a rule (the most room for numbers). ASCII (`--ascii`):
  the rule in '-' and every cell and line through render.ascii.to_ascii.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from .ascii import to_ascii
from .console import UNLIMITED_WIDTH
# the columns' roles and how they give way, shared with the tables drawn without rich (render/plain.py)
from .plain import ARITHMETIC, NUMBER, TEXT, TEXT_FLOOR, shrink, stage_floors  # noqa: F401

ASCII_SIMPLE_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


class AsciiConsole(Console):
    """A console that writes every string it prints in ASCII."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(to_ascii(o) if isinstance(o, str) else o for o in objects), **kwargs)


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else ""


def _extent(cells: Iterable[Any]) -> tuple[int, int]:
    """(the widest line, the widest space-free term) over the cells, in terminal cells."""
    widest = term = 0
    for cell in cells:
        for line in _plain(cell).splitlines() or [""]:
            widest = max(widest, Text(line).cell_len)
            term = max([term] + [Text(word).cell_len for word in line.split()])
    return widest, term


class FittedTable(Table):
    """A rich Table whose columns have a role (NUMBER, ARITHMETIC, TEXT) that says how they give way when
    the console is narrower than the table. In ASCII mode it uses box.ASCII and writes its strings in ASCII."""

    def __init__(self, *args: Any, ascii: bool = False, **kwargs: Any):
        self.ascii = ascii
        self.roles: list[str] = []
        kwargs.setdefault("box", ASCII_SIMPLE_HEAD if ascii else box.SIMPLE_HEAD)
        kwargs.setdefault("show_edge", False)
        kwargs.setdefault("collapse_padding", True)
        if ascii:
            if isinstance(kwargs.get("title"), str):
                kwargs["title"] = to_ascii(kwargs["title"])
        super().__init__(*args, **kwargs)

    def _text(self, cell: Any) -> Any:
        if self.ascii and isinstance(cell, str):
            return to_ascii(cell)
        if self.ascii and isinstance(cell, Text):
            return Text(to_ascii(cell.plain), style=cell.style, justify=cell.justify, no_wrap=cell.no_wrap)
        return cell

    def add_column(self, header: Any = "", *args: Any, role: str = TEXT, **kwargs: Any) -> None:  # type: ignore[override]
        kwargs.setdefault("no_wrap", role == NUMBER)
        kwargs.setdefault("overflow", "fold")
        super().add_column(self._text(header), *args, **kwargs)
        self.roles.append(role)

    def add_row(self, *cells: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().add_row(*(self._text(c) for c in cells), **kwargs)

    def fit(self, console: Console, max_width: int) -> None:
        """Set each column's width bounds so that the table fits `max_width` as far as the roles allow."""
        for column in self.columns:
            column.min_width = column.max_width = None
        roles = self.roles + [TEXT] * (len(self.columns) - len(self.roles))
        extents = [_extent([column.header, *column.cells]) for column in self.columns]
        widest = [w for w, _ in extents]
        stages = stage_floors(roles, widest, [t for _, t in extents])
        overhead = console.measure(self, options=console.options.update_width(UNLIMITED_WIDTH)).maximum - sum(widest)
        widths = shrink(widest, stages, overhead + sum(widest) - max_width)
        for column, width, floor, wide in zip(self.columns, widths, stages[-1], widest):
            column.min_width = floor
            if width < wide:
                column.max_width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < UNLIMITED_WIDTH:
            self.fit(console, options.max_width)
        yield from super().__rich_console__(console, options)
