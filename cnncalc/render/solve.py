"""`solve` as a table (render/layout.py), JSON or CSV, most common choice first."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, TextIO

from ..kinds.base import window_arithmetic
from ..solve import DECONV, Solution, Solved


def solution_arithmetic(solved: Solved, s: Solution) -> str:
    """The rule with the numbers in: '(32 − 5 + 2·0)/1 + 1 = 28'."""
    n, out = solved.input_size, solved.output_size
    if solved.layer == DECONV:
        return f"({n} − 1)·{s.stride} − 2·{s.padding} + {s.dilation}·({s.kernel} − 1) + {s.output_padding} + 1 = {out}"
    return f"{window_arithmetic(n, s.kernel, s.stride, s.padding, s.padding, s.dilation)} = {out}"


def question(solved: Solved) -> str:
    pins = [f"{name} {value}" for name, value in (("kernel", solved.pins.kernel), ("stride", solved.pins.stride),
                                                   ("padding", solved.pins.padding), ("dilation", solved.pins.dilation),
                                                   ("output padding", solved.pins.output_padding)) if value is not None]
    b = solved.bounds
    bounds = f"kernel ≤ {b.kernel}, stride ≤ {b.stride}, padding ≤ {b.padding}"
    if solved.layer != "pool":
        bounds += f", dilation ≤ {b.dilation}"
    return (f"{solved.layer} {solved.input_size} → {solved.output_size}"
            + (f" with {', '.join(pins)}" if pins else "") + f" ({bounds})")


SOLVE_KEYS = ["index", "kernel", "stride", "padding", "dilation", "output_padding", "arithmetic", "note"]


def note_text(s: Solution) -> str:
    """The style, then what makes the choice rarer, each once ('overlapping', not 'overlapping, overlapping')."""
    return ", ".join(dict.fromkeys(((s.style,) if s.style else ()) + s.unusual))


def render_solve_table(solved: Solved, options=None, out: TextIO | None = None, top: int | None = None) -> None:
    from .console import TableOptions, show
    from .layout import DIM, LABEL, NOTE, NUMBER, Cell, Column, Para, Row, Table

    options = options or TableOptions()
    if not solved.solutions:
        show([Para(f"{question(solved)}: no solution")], options, out)
        return
    deconv = solved.layer == DECONV
    count = len(solved.solutions)
    columns = [Column("index", "#", LABEL, 100), Column("kernel", "kernel", NUMBER, 90),
               Column("stride", "stride", NUMBER, 90), Column("padding", "padding", NUMBER, 90)]
    if solved.layer != "pool":
        columns.append(Column("dilation", "dilation", NUMBER, 90))
    if deconv:
        columns.append(Column("output_padding", "output padding", NUMBER, 90))
    columns += [Column("arithmetic", "arithmetic", NOTE, 50, right=False), Column("note", "", NOTE, 40, right=False)]
    rows = []
    shown = solved.solutions if top is None else solved.solutions[:top]
    for i, s in enumerate(shown, 1):
        values = [str(i), str(s.kernel), str(s.stride), str(s.padding)]
        if solved.layer != "pool":
            values.append(str(s.dilation))
        if deconv:
            values.append(str(s.output_padding))
        rows.append(Row(values + [solution_arithmetic(solved, s), Cell(note_text(s), mark=DIM)]))
    title = f"{question(solved)}: {count} solution{'s' if count != 1 else ''}, most common first"
    blocks: list = [Table(columns, rows, title)]
    if len(shown) < count:
        blocks.append(Para(f"... and {count - len(shown):,} more, rarer ones (--top {count} shows them all; "
                           "--format json or csv lists every one)"))
    show(blocks, options, out)


def solution_dict(solved: Solved, s: Solution) -> dict[str, Any]:
    data: dict[str, Any] = {"kernel": s.kernel, "stride": s.stride, "padding": s.padding, "dilation": s.dilation}
    if solved.layer == DECONV:
        data["output_padding"] = s.output_padding
    data["unusual"] = list(s.unusual)
    data["style"] = s.style
    return data


def render_solve_json(solved: Solved) -> str:
    b = solved.bounds
    data = {
        "layer": solved.layer,
        "input": solved.input_size,
        "output": solved.output_size,
        "bounds": {"kernel": b.kernel, "stride": b.stride, "padding": b.padding, "dilation": b.dilation},
        "solutions": [solution_dict(solved, s) for s in solved.solutions],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_solve_csv(solved: Solved) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("kernel", "stride", "padding", "dilation", "output_padding", "arithmetic"))
    for s in solved.solutions:
        writer.writerow((s.kernel, s.stride, s.padding, s.dilation, s.output_padding, solution_arithmetic(solved, s)))
    return buffer.getvalue()
