"""The table: one row per layer, then the totals. Drawn directly to a pipe or a file (render/plain.py) and to
a terminal, shrunk to fit it where need be (render/terminal_direct.py); rich draws it when it cannot fit."""

from __future__ import annotations

import sys
from typing import Any, Callable, TextIO

from ..report import Report
from .console import make_console
from .numbers import activation_arithmetic, product_text, thousands, param_arithmetic, receptive_field_text, shape_text, short
from .tree import tree_rows
from .summary import note_lines, title, total_lines, warning_lines

FOOTNOTE = ("(activations) in parentheses: in place or a view, no new tensor. "
            "K/M/G/T = 10³/10⁶/10⁹/10¹², then 1.23×10¹⁵. RF /jump: receptive field size and effective stride in input pixels.")


def render_table(report: Report, out: TextIO | None = None, si: bool = False, color: bool | None = None,
                 depth: int | None = None, ascii: bool = False) -> None:
    from .plain import Dim, PlainTable, plain_output

    out = out or sys.stdout
    piped = plain_output(out, color)
    terminal = None
    if not piped:  # a terminal, or colour forced onto a pipe
        from .terminal_direct import draw, terminal_settings

        terminal = terminal_settings(out, color)
    if piped or terminal is not None:  # the same text as rich's, drawn without importing rich
        table = PlainTable(title(report), ascii=ascii)
        fill_table(table, report, depth, escape=str, dim=Dim)
        below = lines_below(report, si)
        if piped:
            text = table.text  # to_ascii under --ascii
            out.write("".join(line + "\n" for line in table.lines())
                      + "".join(text(line).rstrip(" ") + "\n" for line, _ in below))
            return
        drawn = draw(table, [(table.text(line), style) for line, style in below], terminal)
        if drawn is not None:
            out.write(drawn)
            return
    # rich is imported here: `check`, the plain formats and tables that fit (shrunk or not) never load it
    from rich.markup import escape  # names from the spec are text, never markup ('[/b]' would be a tag)

    from .terminal import FittedTable

    def dim(text: str) -> str:
        return f"[dim]{text}[/dim]"

    console = make_console(out, color, ascii=ascii)
    rich_table = FittedTable(title=escape(title(report)), title_justify="left", show_lines=False, pad_edge=False,
                             ascii=ascii)
    fill_table(rich_table, report, depth, escape=escape, dim=dim)
    console.print(rich_table, crop=False)  # a table that cannot fit overflows the line: no number is cut off
    console.print(dim(FOOTNOTE))
    for line in note_lines(report):
        console.print(f"note: {line}", highlight=False, markup=False)
    console.print()
    for line in total_lines(report, si):
        console.print(line, markup=False)
    for line in warning_lines(report):
        console.print(line, markup=False, style="yellow")


def fill_table(table: Any, report: Report, depth: int | None, escape: Callable[[str], str],
               dim: Callable[[str], str]) -> None:
    """The columns and rows, into a FittedTable (escape: rich's; dim: markup) or a PlainTable (escape: str;
    dim: plain.Dim)."""
    from .plain import ARITHMETIC, NUMBER, TEXT

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


def lines_below(report: Report, si: bool) -> list[tuple[str, str | None]]:
    """The lines under the table with their style (None, 'dim', 'yellow'): the footnote, the notes, a blank
    line, the totals, the warnings. The rich path prints the same lines itself."""
    return [(FOOTNOTE, "dim"), *((f"note: {line}", None) for line in note_lines(report)), ("", None),
            *((line, None) for line in total_lines(report, si)), *((line, "yellow") for line in warning_lines(report))]


def activation_arithmetic_input(report: Report) -> str:
    shape = report.input_shape
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    count = short(report.totals.input_activations)
    return f"{product_text(factors)} = {count}" if len(factors) > 1 else count
