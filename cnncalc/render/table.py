"""The table: one row per layer, then the totals. Drawn by .grid in rich's look, without rich's cost."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from ..report import Report
from .grid import Grid, styled
from .numbers import activation_arithmetic, product_text, param_arithmetic, receptive_field_text, shape_text, short
from .summary import note_lines, title, total_lines, warning_lines


def _styles(out: TextIO, color: bool | None) -> tuple[bool, bool]:
    """(bold, dim and italic; colours), as rich decided them: styles on a terminal or with color=True,
    colours too unless color=False (--no-color) or NO_COLOR is set."""
    terminal = out.isatty() if hasattr(out, "isatty") else False
    on = color is True or (terminal and os.environ.get("TERM") not in ("dumb", "unknown"))
    return on, on and color is not False and not os.environ.get("NO_COLOR")


def render_table(report: Report, out: TextIO | None = None, si: bool = False, color: bool | None = None) -> None:
    out = out or sys.stdout
    styles_on, colours_on = _styles(out, color)
    table = Grid(title=title(report))
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("layer")
    table.add_column("output", justify="right")
    table.add_column("activations", justify="right")
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("RF /jump", justify="right")
    table.add_row("0", "input", "input", shape_text(report.input_shape), activation_arithmetic_input(report), "0", "0",
                  "1" if len(report.input_shape) > 1 else "-")
    for layer in report.layers:
        activations = activation_arithmetic(layer)
        if not layer.new_tensor:
            activations = f"({activations})"
        table.add_row(
            str(layer.index),
            layer.name,
            layer.description,
            shape_text(layer.output_shape),
            activations,
            param_arithmetic(layer),
            short(layer.macs) if layer.macs else "0",
            receptive_field_text(layer.receptive_field),
            styles=None if layer.new_tensor else {4: "dim"},
        )
    lines = table.lines(styles_on)
    lines.append(styled("(activations) in parentheses: in place or a view, no new tensor. "
                        "K/M/G = 10³/10⁶/10⁹. RF /jump: receptive field size and effective stride in input pixels.",
                        "dim", styles_on))
    lines.extend(f"note: {line}" for line in note_lines(report))
    lines.append("")
    lines.extend(total_lines(report, si))
    lines.extend(styled(line, "yellow", colours_on) for line in warning_lines(report))
    out.write("\n".join(lines) + "\n")


def activation_arithmetic_input(report: Report) -> str:
    shape = report.input_shape
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    count = short(report.totals.input_activations)
    return f"{product_text(factors)} = {count}" if len(factors) > 1 else count
