"""The table of `shapes`: one row per layer (and per group), then the totals, as render/layout.py blocks."""

from __future__ import annotations

from typing import Iterator, TextIO

from ..report import Report
from .console import TableOptions, show
from .layout import BOLD, DIM, FORMULA, LABEL, NUMBER, WARNING, Block, Cell, Column, Para, Rerun, Row, Table
from .numbers import activation_arithmetic, count, param_arithmetic, product_text, receptive_field_text, shape_text
from .summary import note_lines, title, total_lines, warning_lines
from .tree import iter_tree_rows

FOOTNOTE = ("(activations) in parentheses: in place or a view, no new tensor. "
            "K/M/G/T = 10³/10⁶/10⁹/10¹², then 1.23×10¹⁵. RF /jump: receptive field size and effective stride "
            "in input pixels.")
FOOTNOTE_EXACT = ("(activations) in parentheses: in place or a view, no new tensor. "
                  "RF /jump: receptive field size and effective stride in input pixels.")

# key, header, role, priority (higher is kept longer), right-aligned
COLUMNS = (
    Column("index", "#", NUMBER, 20),
    Column("name", "name", LABEL, 100, right=False),
    Column("layer", "layer", NUMBER, 70, right=False),
    Column("output", "output", NUMBER, 90),
    Column("activations", "activations", FORMULA, 75),
    Column("params", "params", FORMULA, 80),
    Column("macs", "MACs", NUMBER, 60),
    Column("rf", "RF /jump", NUMBER, 30),
)


def render_table(report: Report, options: TableOptions = TableOptions(), depth: int | None = None,
                 si: bool = False, out: TextIO | None = None) -> None:
    show(table_blocks(report, options.exact, depth, si), options, out)


def table_blocks(report: Report, exact: bool = False, depth: int | None = None, si: bool = False) -> list[Block]:
    """The title, the table, the footnote, the notes, the totals and the warnings."""
    blocks: list[Block] = [Table(COLUMNS, layer_rows(report, exact, depth), title(report)),
                           Para(FOOTNOTE_EXACT if exact else FOOTNOTE, DIM)]
    blocks += [Para(f"note: {line}") for line in note_lines(report)]
    blocks.append(Para(""))
    blocks += [Para(line) for line in total_lines(report, si)]
    blocks += [Para(line, WARNING) for line in warning_lines(report)]
    return blocks


def layer_rows(report: Report, exact: bool, depth: int | None) -> Rerun:
    """Row 0 the input, then the layers, indented under their groups (▾), or groups collapsed (▸); made
    again at each walk over them, never all held at once."""
    return Rerun(lambda: _layer_rows(report, exact, depth))


def _layer_rows(report: Report, exact: bool, depth: int | None) -> Iterator[Row]:
    inputs = report.totals.input_activations
    shape = report.input_shape
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    arithmetic = f"{product_text(factors)} = {count(inputs, exact)}" if len(factors) > 1 else count(inputs, exact)
    yield Row(("0", "input", "input", shape_text(shape), Cell(arithmetic, count(inputs, exact)), Cell("0", "0"), "0",
               "1" if len(shape) > 1 else "-"))
    for row in iter_tree_rows(report, depth):
        indent = "  " * row.indent
        if row.group is not None:
            g = row.group
            mark = None if row.collapsed else DIM
            activations, params = count(g.activations, exact), count(g.params, True)
            yield Row((
                f"{g.first_index}–{g.last_index}" if row.collapsed else "",
                Cell(f"{indent}{'▸' if row.collapsed else '▾'} {row.label}", mark=BOLD if row.collapsed else None),
                Cell(f"{g.layer_count} layer{'s' if g.layer_count != 1 else ''}", mark=DIM),
                shape_text(g.output_shape),
                Cell(activations, activations, mark),
                Cell(params, count(g.params, exact), mark),
                Cell(count(g.macs, exact), mark=mark) if g.macs else "0",
                receptive_field_text(g.receptive_field),
            ), BOLD if row.collapsed else None)
            continue
        layer = row.layer
        activations = activation_arithmetic(layer, exact)
        result = count(layer.activation_count, exact)
        dim = None
        if not layer.new_tensor:
            activations, result, dim = f"({activations})", f"({result})", DIM
        yield Row((
            str(layer.index),
            indent + row.label,
            layer.description,
            shape_text(layer.output_shape),
            Cell(activations, result, dim),
            Cell(param_arithmetic(layer), count(layer.param_count, exact)),
            count(layer.macs, exact) if layer.macs else "0",
            receptive_field_text(layer.receptive_field),
        ))
