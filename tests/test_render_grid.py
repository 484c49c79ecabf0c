"""The table is drawn without rich, in rich's look: rich itself, set up as cnncalc used it, is the oracle."""

from __future__ import annotations

import io

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.render.grid import Grid, cell_width
from cnncalc.render.numbers import activation_arithmetic, param_arithmetic, receptive_field_text, shape_text, short
from cnncalc.render.summary import note_lines, title, total_lines, warning_lines
from cnncalc.render.table import activation_arithmetic_input, render_table

from .conftest import SPECS

WIDE = """name: 网络 ünïcode
input: [3, 32, 32]
layers:
  - {name: 卷积_1, conv: {filters: 8, kernel: 3, padding: same, stride: 2}}
  - batchnorm
  - {name: café, relu}
  - maxpool: {kernel: 3, stride: 2, ceil_mode: true}
  - conv: {filters: 16, kernel: [3, 1], padding: [1, 0], groups: 8}
  - globalavgpool
  - flatten
  - fc: 10
  - dropout: 0.25
  - softmax
"""
ONE_D = "input: [2, 100]\nlayers:\n  - conv: {filters: 4, kernel: 5, dilation: 2}\n  - leakyrelu\n  - avgpool: 2\n"
VECTOR = "name: mlp\ninput: [784]\ndtype: float16\nlayers:\n  - fc: 300\n  - sigmoid\n  - fc: 10\n"
FLOORED = "name: floored\ninput: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n  - relu\n"


def rich_table(report, si: bool = False) -> str:
    """What cnncalc printed with rich (Console and Table, as set up before the grid), to a file: the oracle."""
    from rich.console import Console
    from rich.table import Table

    out = io.StringIO()
    console = Console(file=out, width=200, no_color=False, force_terminal=None, highlight=False)
    table = Table(title=title(report), title_justify="left", show_lines=False, pad_edge=False)
    for header in ("#", "name", "layer", "output", "activations", "params", "MACs", "RF /jump"):
        table.add_column(header, justify="left" if header in ("name", "layer") else "right", no_wrap=True)
    table.add_row("0", "input", "input", shape_text(report.input_shape), activation_arithmetic_input(report), "0", "0",
                  "1" if len(report.input_shape) > 1 else "-")
    for layer in report.layers:
        activations = activation_arithmetic(layer)
        if not layer.new_tensor:
            activations = f"[dim]({activations})[/dim]"
        table.add_row(str(layer.index), layer.name, layer.description, shape_text(layer.output_shape), activations,
                      param_arithmetic(layer), short(layer.macs) if layer.macs else "0",
                      receptive_field_text(layer.receptive_field))
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
    return out.getvalue()


REPORTS = {
    "vgg16": lambda: analyze(parse_file(SPECS / "vgg16.yaml")),
    "wide characters and same padding": lambda: analyze(parse_text(WIDE, "wide.yaml")),
    "1-D": lambda: analyze(parse_text(ONE_D, "oned.yaml")),
    "vector": lambda: analyze(parse_text(VECTOR, "mlp.yaml"), batch=8),
    "floored with a warning": lambda: analyze(parse_text(FLOORED, "floored.yaml"), floor=True),
}


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("si", [False, True])
def test_the_table_is_what_rich_drew(name, si):
    report = REPORTS[name]()
    out = io.StringIO()
    render_table(report, out=out, si=si)
    assert out.getvalue() == rich_table(report, si=si)


def test_styles_only_on_a_terminal_or_when_asked():
    report = REPORTS["floored with a warning"]()
    plain, forced, no_colour = io.StringIO(), io.StringIO(), io.StringIO()
    render_table(report, out=plain)
    render_table(report, out=forced, color=True)
    assert "\x1b[" not in plain.getvalue()
    assert "\x1b[2m(2·2·1 = 4)\x1b[0m" in forced.getvalue()  # relu1 is in place: its activations are dim
    assert "\x1b[1m" in forced.getvalue()  # bold header
    assert "\x1b[33mfloored.yaml:4:5: warning:" in forced.getvalue()  # a yellow warning
    render_table(report, out=no_colour, color=False)
    assert "\x1b[" not in no_colour.getvalue()  # not a terminal: nothing to switch off


def test_cell_width_counts_terminal_columns():
    assert cell_width("conv1") == 5
    assert cell_width("224×224×64") == 10  # × is one column
    assert cell_width("卷积_1") == 6  # two wide characters
    assert cell_width("cafe\u0301") == 4  # e + a combining acute accent


def test_nothing_is_cut_however_wide_the_table():
    grid = Grid("t")
    grid.add_column("name")
    grid.add_row("x" * 300)
    assert any("x" * 300 in line for line in grid.lines())
