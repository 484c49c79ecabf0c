"""The rich table: one row per layer, then the totals."""

from __future__ import annotations

import sys
from typing import TextIO

from ..report import Report
from .numbers import activation_arithmetic, product_text, param_arithmetic, receptive_field_text, shape_text, short
from .summary import note_lines, title, total_lines, warning_lines


def render_table(report: Report, out: TextIO | None = None, si: bool = False, color: bool | None = None) -> None:
    from rich.console import Console  # imported here: `check` and the plain formats never load rich
    from rich.table import Table
    from rich.text import Text  # cells as Text: names from the spec are never read as markup ('[/b]')

    out = out or sys.stdout
    is_tty = out.isatty() if hasattr(out, "isatty") else False
    console = Console(file=out, width=None if is_tty else 200, no_color=color is False,
                      force_terminal=color if color else None, highlight=False)
    table = Table(title=Text(title(report)), title_justify="left", show_lines=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("output", justify="right", no_wrap=True)
    table.add_column("activations", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("RF /jump", justify="right", no_wrap=True)
    table.add_row("0", "input", "input", shape_text(report.input_shape), activation_arithmetic_input(report), "0", "0",
                  "1" if len(report.input_shape) > 1 else "-")
    for layer in report.layers:
        arithmetic = activation_arithmetic(layer)
        activations = Text(arithmetic) if layer.new_tensor else Text(f"({arithmetic})", style="dim")
        table.add_row(
            str(layer.index),
            Text(layer.name),
            Text(layer.description),
            shape_text(layer.output_shape),
            activations,
            param_arithmetic(layer),
            short(layer.macs) if layer.macs else "0",
            receptive_field_text(layer.receptive_field),
        )
    console.print(table)
    console.print("[dim](activations) in parentheses: in place or a view, no new tensor. "
                  "K/M/G = 10³/10⁶/10⁹. RF /jump: receptive field size and effective stride in input pixels.[/dim]")
    for line in note_lines(report):
        console.print(f"note: {line}", highlight=False, markup=False)
    console.print()
    for line in total_lines(report, si):
        console.print(line, markup=False)
    for line in warning_lines(report):
        console.print(line, markup=False, style="yellow")


def activation_arithmetic_input(report: Report) -> str:
    shape = report.input_shape
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    count = short(report.totals.input_activations)
    return f"{product_text(factors)} = {count}" if len(factors) > 1 else count
