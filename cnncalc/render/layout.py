"""The one table layout every command uses: columns with a role and a priority, rows with marks; `layout`
takes a width and returns the lines, each a list of (text, mark) pieces. No rich here: a pipe gets the
lines as plain text (`plain_text`), a terminal gets them through rich (render/console.py).

When the table is wider than the width, columns give way in this order, each step only while needed:

1. FORMULA columns collapse to their results (`224·224·64 = 3.21M` → `3.21M`), lowest priority first;
2. NOTE columns wrap between words, down to NOTE_FLOOR columns (or their longest word, never cut), then
   are left out, lowest priority first;
3. NUMBER columns (and the collapsed formulas) are left out, lowest priority first;
4. LABEL columns wrap (between words, a word longer than a line cut), down to 8 columns. A label column is
   never left out, and a number is never split: a table that still does not fit runs past the edge.

A line under the table says what was left out and how to see it (`--wide`, `--columns`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence, Union

LABEL = "label"  # what a row is (a layer's name): never left out; wraps only as the last resort
NUMBER = "number"  # one value (a count, a shape, a short phrase): never split; left out by priority
FORMULA = "formula"  # arithmetic with its result: collapses to the result first
NOTE = "note"  # prose: wraps between words, then is left out

GAP = 2  # spaces between columns
LABEL_FLOOR = 8  # a label column's least width
NOTE_FLOOR = 20  # a note column wraps down to this width, or to its longest word when that is wider

# marks a row or cell may carry; the terminal draws them (render/console.py), plain text ignores them
DIM, BOLD, WARNING, HEADER, TITLE = "dim", "bold", "warning", "header", "title"


class _Record:
    """A record with named fields, made without namedtuple's generated code (seven namedtuple classes cost
    this module more start-up than laying out VGG16): fields in __slots__, equality and repr by field."""

    __slots__ = ()

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.__slots__)})"


class Column(_Record):
    """key: the name `--columns` uses; role: LABEL, NUMBER, FORMULA or NOTE; priority: higher is kept longer;
    right: right-aligned (numbers), else left (labels, notes)."""

    __slots__ = ("key", "header", "role", "priority", "right")

    def __init__(self, key: str, header: str, role: str = NUMBER, priority: int = 50, right: bool = True) -> None:
        self.key, self.header, self.role, self.priority, self.right = key, header, role, priority, right


class Cell(_Record):
    """text; result: a formula's result alone, what the cell collapses to; mark: DIM, BOLD or WARNING."""

    __slots__ = ("text", "result", "mark")

    def __init__(self, text: str, result: str | None = None, mark: str | None = None) -> None:
        self.text, self.result, self.mark = text, result, mark


class Row(_Record):
    """cells: a Cell or a plain string per column; mark: DIM, BOLD or WARNING for the whole row."""

    __slots__ = ("cells", "mark")

    def __init__(self, cells: Sequence[Union[Cell, str]], mark: str | None = None) -> None:
        self.cells, self.mark = cells, mark


class Table(_Record):
    __slots__ = ("columns", "rows", "title")

    def __init__(self, columns: Sequence[Column], rows: Sequence[Row], title: str = "") -> None:
        self.columns, self.rows, self.title = columns, rows, title


class Para(_Record):
    """A line of text under or between tables, wrapped between words to the width."""

    __slots__ = ("text", "mark")

    def __init__(self, text: str, mark: str | None = None) -> None:
        self.text, self.mark = text, mark


Block = Union[Table, Para]


class Laid(_Record):
    """lines: the Lines; left_out: headers of the columns left out; collapsed: of the formulas shown as results."""

    __slots__ = ("lines", "left_out", "collapsed")

    def __init__(self, lines: list, left_out: list, collapsed: list) -> None:
        self.lines, self.left_out, self.collapsed = lines, left_out, collapsed


class Line(_Record):
    """One laid-out line: its text and the marked stretches of it, (start, end, mark) in characters."""

    __slots__ = ("text", "spans")

    def __init__(self, text: str, spans: tuple = ()) -> None:
        self.text, self.spans = text, spans


# characters of cnncalc's own cells (×, ·, ▾, superscripts, ...) that take one column each: a text of ASCII and
# these is as wide as it is long, and no character is looked up
_NARROW = str.maketrans(dict.fromkeys("×·▾▸−≤≥…–—→⁰¹²³⁴⁵⁶⁷⁸⁹"))


@lru_cache(maxsize=8192)  # a table repeats its cells ('relu', '0', shapes): measure each once
def cell_width(text: str) -> int:
    """Terminal columns `text` takes: 2 per East Asian wide or full-width character, 0 per combining mark."""
    if text.isascii() or text.translate(_NARROW).isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(word: str, width: int) -> list[str]:
    """A word in pieces of at most `width` columns."""
    pieces, begin, used = [], 0, 0
    for i, c in enumerate(word):
        size = cell_width(c)
        if used + size > width and i > begin:
            pieces.append(word[begin:i])
            begin, used = i, 0
        used += size
    return pieces + [word[begin:]]


def wrap(text: str, width: int | None) -> list[str]:
    """Greedy word wrap to `width` columns (None: no limit); a word longer than a line is cut. Leading
    spaces (an indent) are kept on the first line. A line's width is the sum of its words' and spaces'
    (cell_width adds up character by character), so each word is measured once."""
    if width is None or cell_width(text) <= width:
        return [text]
    stripped = text.lstrip(" ")
    indent = text[:len(text) - len(stripped)]
    lines: list[str] = []
    line, used, worded = indent, len(indent), False  # worded: the line holds more than white space
    for word in stripped.split(" "):
        if not word:
            continue
        size = cell_width(word)
        joined = used + 1 + size if worded else used + size
        if joined <= width:
            line = f"{line} {word}" if worded else line + word
            used, worded = joined, worded or bool(word.strip())
            continue
        if worded:
            lines.append(line)
            line, used = "", 0
        pieces = _cut(word, width) if size > width else [word]
        lines.extend(pieces[:-1])
        line = pieces[-1]
        used, worded = cell_width(line), bool(line.strip())
    lines.append(line)
    return lines


def _text(cell: Union[Cell, str], collapsed: bool) -> str:
    if cell.__class__ is str:
        return cell  # type: ignore[return-value]
    return cell.result if collapsed and cell.result is not None else cell.text  # type: ignore[union-attr]


MAX_CELL = 80  # characters a cell shows in a table; a longer one ends in '…' (JSON and CSV keep it whole)
MAX_NOTE = 1000  # the same for prose, which wraps on a terminal


def _capped(text: str, cap: int) -> str:
    """A cell's text cut to `cap` characters with an ellipsis, so that no row widens the whole table
    beyond the cap (a concat of 20,000 inputs is described in 100,000 characters)."""
    return text if len(text) <= cap else text[:cap - 1] + "…"


def _least_note(natural: int, words_widest: int) -> int:
    return min(natural, max(words_widest, NOTE_FLOOR))


KEEP_ROWS = 4096  # a table with at most this many rows is made once and walked twice from what was kept


class Rerun:
    """Rows made again each time they are walked (a layout walks them twice: to measure, then to write), so
    that a table of 1,000,000 layers never holds all its rows, or all its lines, at once. The first walk keeps
    what it made while there are at most KEEP_ROWS rows: a smaller table is walked again from those."""

    __slots__ = ("make", "kept")

    def __init__(self, make) -> None:
        self.make = make
        self.kept: list | None = None

    def __iter__(self):
        return iter(self.kept) if self.kept is not None else self._first_walk()

    def _first_walk(self):
        kept: list | None = []
        for row in self.make():
            if kept is not None:
                kept.append(row)
                if len(kept) > KEEP_ROWS:
                    kept = None
            yield row
        if kept is not None:
            self.kept = kept


class _Plan(_Record):
    """What a layout decided: the columns in order, the visible ones, their widths, which collapsed."""

    __slots__ = ("columns", "order", "visible", "widths", "collapsed", "shown")

    def __init__(self, columns, order, visible, widths, collapsed, shown) -> None:
        self.columns, self.order, self.visible = columns, order, visible
        self.widths, self.collapsed, self.shown = widths, collapsed, shown


def layout(table: Table, width: int | None = None, wide: bool = False,
           keys: Sequence[str] | None = None, rule: str = "─") -> Laid:
    """The table's lines at `width` columns (None: no limit). `keys` chooses the columns and their order
    (label columns are always shown); `wide` keeps every chosen column whole, whatever the width."""
    plan = _plan(table, width, wide, keys)
    return Laid(list(_lines(table, plan, width, rule)), _left_out(plan),
                [plan.columns[j].header for j in range(len(plan.columns)) if plan.collapsed[j] and plan.shown[j]])


def _left_out(plan: _Plan) -> list:
    return [plan.columns[j].header or plan.columns[j].key for j in range(len(plan.columns)) if not plan.shown[j]]


def _plan(table: Table, width: int | None, wide: bool, keys: Sequence[str] | None) -> _Plan:
    """The columns' widths and what gives way, from one walk over the rows that keeps no row."""
    order = list(range(len(table.columns)))
    if keys:
        wanted = [i for key in keys for i, c in enumerate(table.columns) if c.key == key]
        labels = [i for i in order if table.columns[i].role == LABEL and i not in wanted]
        order = labels + wanted
    columns = [table.columns[i] for i in order]
    caps = [MAX_NOTE if c.role in (NOTE, LABEL) else MAX_CELL for c in columns]  # names: at most 1,000 by the spec limit
    widths = [cell_width(c.header) for c in columns]
    collapsed_widths = list(widths)  # a formula column's width when it shows its results only
    formulas = [j for j, c in enumerate(columns) if c.role == FORMULA]
    notes = [j for j, c in enumerate(columns) if c.role == NOTE]
    words = {j: max([cell_width(w) for w in columns[j].header.split()], default=1) for j in notes}
    measured = list(zip(range(len(order)), order, caps))
    folding = [(j, order[j], caps[j]) for j in formulas]
    # Per cell, here and in _lines: _capped(_text(cell, folded), cap) written out, without its two calls (6.7 M
    # instructions of ResNet-152's table on a terminal, which keep it under its start-up target of 1.5×)
    for row in table.rows:
        cells = row.cells
        for j, i, cap in measured:
            cell = cells[i]
            text = cell if cell.__class__ is str else cell.text
            size = cell_width(text if len(text) <= cap else _capped(text, cap))
            if size > widths[j]:
                widths[j] = size
        for j, i, cap in folding:
            cell = cells[i]
            text = cell if cell.__class__ is str else cell.text if cell.result is None else cell.result
            size = cell_width(text if len(text) <= cap else _capped(text, cap))
            if size > collapsed_widths[j]:
                collapsed_widths[j] = size
        for j in notes:
            text = _capped(_text(cells[order[j]], False), caps[j])
            words[j] = max([words[j]] + [cell_width(w) for w in text.split()])
    shown = [True] * len(columns)
    collapsed = [False] * len(columns)

    def total() -> int:
        visible = [w for w, s in zip(widths, shown) if s]
        return sum(visible) + GAP * max(len(visible) - 1, 0)

    def by_priority(role: str) -> list[int]:
        return sorted((j for j, c in enumerate(columns) if c.role == role and shown[j]),
                      key=lambda j: (columns[j].priority, -j))

    if width is not None and not wide and total() > width:
        for j in by_priority(FORMULA):
            if total() <= width:
                break
            collapsed[j] = True
            widths[j] = collapsed_widths[j]
        note_columns = by_priority(NOTE)
        floors = {j: _least_note(widths[j], words[j]) for j in note_columns}
        while total() > width:  # the widest note above its floor gives a column at a time
            candidates = [j for j in note_columns if widths[j] > floors[j]]
            if not candidates:
                break
            widest = max(candidates, key=lambda j: widths[j])
            widths[widest] -= 1
        for group in (by_priority(NOTE), sorted(by_priority(NUMBER) + by_priority(FORMULA),
                                                key=lambda j: (columns[j].priority, -j))):
            for j in group:
                if total() <= width:
                    break
                shown[j] = False
        if total() > width:
            for j in sorted(by_priority(LABEL), key=lambda j: -widths[j]):
                excess = total() - width
                if excess <= 0:
                    break
                widths[j] = max(widths[j] - excess, min(widths[j], LABEL_FLOOR))
    visible = [j for j in range(len(columns)) if shown[j]]
    return _Plan(columns, order, visible, widths, collapsed, shown)


def _lines(table: Table, plan: _Plan, width: int | None, rule: str):
    """The table's lines, one row at a time (a second walk over the rows)."""
    columns, order, visible = plan.columns, plan.order, plan.visible
    caps = [MAX_NOTE if c.role in (NOTE, LABEL) else MAX_CELL for c in columns]
    shown_widths = [plan.widths[j] for j in visible]
    rights = [columns[j].right for j in visible]
    table_width = sum(shown_widths) + GAP * max(len(visible) - 1, 0)
    if table.title:
        for line in wrap(table.title, width):
            yield Line(line, ((0, len(line), TITLE),))
    yield from _row_lines([columns[j].header for j in visible], [cell_width(columns[j].header) for j in visible],
                          shown_widths, rights, [None] * len(visible), HEADER)
    yield Line(rule * table_width, ((0, table_width, DIM),))
    starts = [sum(shown_widths[:k]) + GAP * k for k in range(len(visible))]
    # one character a column and every cell within its width: padded by characters, as str.format does
    padded = "  ".join(f"{{:{'>' if right else '<'}{w}}}" for right, w in zip(rights, shown_widths)).format
    picks = [(order[j], caps[j], plan.collapsed[j], plan.widths[j]) for j in visible]
    for row in table.rows:
        cells, row_mark = row.cells, row.mark
        values, sizes, marks = [], [], []
        simple = True  # one character a column and every cell within its width
        for i, cap, folded, shown in picks:
            cell = cells[i]
            if cell.__class__ is str:  # _capped(_text(cell, folded), cap), written out as in _plan
                text, mark = cell, row_mark
            else:
                text = cell.result if folded and cell.result is not None else cell.text
                mark = cell.mark or row_mark
            if len(text) > cap:
                text = _capped(text, cap)
            size = cell_width(text)
            if size != len(text) or size > shown:
                simple = False
            values.append(text)
            sizes.append(size)
            marks.append(mark)
        if not simple:
            yield from _row_lines(values, sizes, shown_widths, rights, marks, None)
            continue
        text = padded(*values).rstrip(" ")
        spans = []
        for k, mark in enumerate(marks):
            if mark is not None and values[k]:
                start = starts[k] + (shown_widths[k] - sizes[k] if rights[k] else 0)
                spans.append((start, start + sizes[k], mark))
        yield Line(text, tuple(spans))


def _row_lines(values: list[str], sizes: list[int], widths: list[int], rights: list[bool], marks: list,
               row_mark: str | None) -> list[Line]:
    """One row as lines: each cell aligned in its width; a cell wider than its width (a note, a label)
    wrapped onto more lines. Measures in terminal columns (a wide character takes two)."""
    if any(size > w for size, w in zip(sizes, widths)):
        wrapped = [wrap(v, w) if size > w else [v] for v, size, w in zip(values, sizes, widths)]
        height = max(len(cell) for cell in wrapped)
        out = []
        for k in range(height):
            line = [cell[k] if k < len(cell) else "" for cell in wrapped]
            out.extend(_row_lines(line, [cell_width(v) for v in line], widths, rights, marks, row_mark))
        return out
    parts: list[str] = []
    spans = []
    at = 0
    for i, value in enumerate(values):
        if i:
            parts.append("  ")
            at += GAP
        fill = widths[i] - sizes[i]
        if rights[i] and fill:
            parts.append(" " * fill)
            at += fill
        mark = marks[i] or row_mark
        if mark is not None and value:
            spans.append((at, at + len(value), mark))
        parts.append(value)
        at += len(value)
        if not rights[i] and fill:
            parts.append(" " * fill)
            at += fill
    return [Line("".join(parts).rstrip(" "), tuple(spans))]


def left_out_line(laid: Laid, keys: Sequence[str], width: int | None) -> Para | None:
    """The line under a table that gave way: what was left out or shortened, and the options that show it."""
    said = []
    if laid.collapsed:
        said.append("the arithmetic of " + ", ".join(laid.collapsed) + " (results shown)")
    if laid.left_out:
        said.append("the column" + ("s " if len(laid.left_out) > 1 else " ") + ", ".join(laid.left_out))
    if not said:
        return None
    return Para(f"left out to fit {width} columns: {'; '.join(said)}. --wide shows everything; "
                f"--columns {','.join(keys)} chooses.", DIM)


def render_blocks(blocks: Sequence[Block], width: int | None = None, wide: bool = False,
                  keys: Sequence[str] | None = None, ascii: bool = False) -> list[Line]:
    """Every block laid out at `width`: tables (with their left-out line) and wrapped paragraphs."""
    return list(iter_lines(blocks, width, wide, keys, ascii))


def iter_lines(blocks: Sequence[Block], width: int | None = None, wide: bool = False,
               keys: Sequence[str] | None = None, ascii: bool = False):
    """render_blocks one line at a time: a table's rows are walked twice (measured, then written), never
    held all at once when they are a Rerun."""
    if ascii:
        blocks = [to_ascii_block(block) for block in blocks]
    for block in blocks:
        if isinstance(block, Para):
            yield from _para(block, width)
            continue
        plan = _plan(block, width, wide, keys)
        yield from _lines(block, plan, width, "-" if ascii else "─")
        laid = Laid([], _left_out(plan),
                    [plan.columns[j].header for j in range(len(plan.columns)) if plan.collapsed[j] and plan.shown[j]])
        note = left_out_line(laid, [c.key for c in block.columns], width)
        if note is not None:
            yield from _para(note, width)


def _para(para: Para, width: int | None) -> list[Line]:
    return [Line(line, ((0, len(line), para.mark),) if para.mark and line else ()) for line in wrap(para.text, width)]


def to_ascii_block(block: Block) -> Block:
    """The block with every text in ASCII (render/ascii.py)."""
    from .ascii import to_ascii

    if isinstance(block, Para):
        return Para(to_ascii(block.text), block.mark)

    def cell(c: Union[Cell, str]) -> Union[Cell, str]:
        if isinstance(c, str):
            return to_ascii(c)
        return Cell(to_ascii(c.text), None if c.result is None else to_ascii(c.result), c.mark)

    rows = block.rows
    return Table([Column(c.key, to_ascii(c.header), c.role, c.priority, c.right) for c in block.columns],
                 Rerun(lambda: (Row([cell(c) for c in row.cells], row.mark) for row in rows)), to_ascii(block.title))


def plain_text(lines: list[Line]) -> str:
    """The lines as text without marks."""
    return "".join(line.text + "\n" for line in lines)


def column_keys(blocks: Sequence[Block]) -> list[str]:
    """Every column key of the tables among `blocks`, in order, once."""
    keys: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            keys.extend(c.key for c in block.columns if c.key not in keys)
    return keys
