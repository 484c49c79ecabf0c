"""The table: one row per layer, then the totals. rich on a terminal; drawn directly to a pipe or a file."""

from __future__ import annotations

import sys
from typing import TextIO

from ..report import Report
from .console import make_console
from .numbers import activation_arithmetic, product_text, thousands, param_arithmetic, receptive_field_text, shape_text, short
from .tree import tree_rows
from .summary import note_lines, title, total_lines, warning_lines


def render_table(report: Report, out: TextIO | None = None, si: bool = False, color: bool | None = None,
                 depth: int | None = None, ascii: bool = False) -> None:
    from .plain import ARITHMETIC, NUMBER, TEXT, PlainTable, plain_output

    out = out or sys.stdout
    plain = plain_output(out, color)
    if plain:  # a pipe or a file: the same text as rich's, drawn without importing rich (render/plain.py)
        escape = dim = str
        table = PlainTable(title(report), ascii=ascii)
    else:  # rich is imported here: `check`, the plain formats and piped tables never load it
        from rich.markup import escape  # names from the spec are text, never markup ('[/b]' would be a tag)

        from .terminal import FittedTable

        def dim(text: str) -> str:
            return f"[dim]{text}[/dim]"

        console = make_console(out, color, ascii=ascii)
        table = FittedTable(title=escape(title(report)), title_justify="left", show_lines=False, pad_edge=False,
                            ascii=ascii)
    table.add_column("#", justify="right", role=NUMBER)
    table.add_column("name", role=TEXT)
    table.add_column("layer", role=TEXT)
    table.add_column("output", justify="right", role=NUMBER)
    table.add_column("activations", justify="right", role=ARITHMETIC)
    table.add_column("params", justify="right", role=ARITHMETIC)
    table.add_column("MACs", justify="right", role=NUMBER)
    table.add_column("RF /jump", justify="right", role=NUMBER)
    table.add_row("0", "input", "input", shape_text(report.input_shape), activation_arithmetic_input(report), "0", "0",
                  "1" if len(report.input_shape) > 1 else "-")
    for row in tree_rows(report, depth):
        indent = "  " * row.indent
        if row.group is not None:
            g = row.group
            span = f"{g.first_index}–{g.last_index}" if row.collapsed else ""
            table.add_row(
                span,
                f"{indent}{'▸' if row.collapsed else '▾'} {escape(row.label)}",
                dim(f"{g.layer_count} layer{'s' if g.layer_count != 1 else ''}"),
                shape_text(g.output_shape),
                dim(short(g.activations)) if not row.collapsed else short(g.activations),
                dim(thousands(g.params)) if not row.collapsed else thousands(g.params),
                (dim(short(g.macs)) if not row.collapsed else short(g.macs)) if g.macs else "0",
                receptive_field_text(g.receptive_field),
                style="bold" if row.collapsed else None,
            )
            continue
        layer = row.layer
        activations = activation_arithmetic(layer)
        if not layer.new_tensor:
            activations = dim(f"({activations})")
        table.add_row(
            str(layer.index),
            indent + escape(row.label),
            escape(layer.description),
            shape_text(layer.output_shape),
            activations,
            param_arithmetic(layer),
            short(layer.macs) if layer.macs else "0",
            receptive_field_text(layer.receptive_field),
        )
    footnote = ("(activations) in parentheses: in place or a view, no new tensor. "
                "K/M/G = 10³/10⁶/10⁹. RF /jump: receptive field size and effective stride in input pixels.")
    if plain:
        lines = [footnote, *(f"note: {line}" for line in note_lines(report)), "", *total_lines(report, si),
                 *warning_lines(report)]
        text = table.text  # to_ascii under --ascii
        out.write("".join(line + "\n" for line in table.lines()) + "".join(text(line).rstrip(" ") + "\n" for line in lines))
        return
    console.print(table, crop=False)  # a table that cannot fit overflows the line: no number is cut off
    console.print(dim(footnote))
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
