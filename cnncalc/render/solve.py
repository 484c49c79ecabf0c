"""`solve` as a rich table, JSON or CSV, most common choice first."""

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


def render_solve_table(solved: Solved, out: TextIO | None = None, color: bool | None = None,
                       ascii: bool = False) -> None:
    from .console import make_console
    from .terminal import ARITHMETIC, NUMBER, TEXT, FittedTable

    console = make_console(out, color, ascii=ascii)
    if not solved.solutions:
        console.print(f"{question(solved)}: no solution", markup=False)
        return
    deconv = solved.layer == DECONV
    count = len(solved.solutions)
    console.print(f"{question(solved)}: {count} solution{'s' if count != 1 else ''}, most common first", markup=False)
    table = FittedTable(pad_edge=False, ascii=ascii)
    for header in ("#", "kernel", "stride", "padding") + (("dilation",) if solved.layer != "pool" else ()) \
            + (("output padding",) if deconv else ()):
        table.add_column(header, justify="right", role=NUMBER)
    table.add_column("arithmetic", role=ARITHMETIC)
    table.add_column("", style="dim", role=TEXT)
    for i, s in enumerate(solved.solutions, 1):
        values = [str(i), str(s.kernel), str(s.stride), str(s.padding)]
        if solved.layer != "pool":
            values.append(str(s.dilation))
        if deconv:
            values.append(str(s.output_padding))
        note = ", ".join(((s.style,) if s.style else ()) + s.unusual)
        table.add_row(*values, solution_arithmetic(solved, s), note)
    console.print(table)


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
