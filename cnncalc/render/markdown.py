"""Markdown: a pipe table and the totals, for READMEs and pull requests."""

from __future__ import annotations

from ..report import Report
from .numbers import activation_arithmetic, count, param_arithmetic, receptive_field_text, shape_text, thousands
from .safe import markdown_text
from .tree import tree_rows
from .summary import note_lines, title, total_lines, warning_lines


def _cell(text: str) -> str:
    """A cell of cnncalc's own text (numbers, arithmetic); text from the spec goes through markdown_text."""
    return text.replace("|", "\\|")


def render_markdown(report: Report, si: bool = False, depth: int | None = None, exact: bool = False) -> str:
    lines = [f"### {markdown_text(title(report))}", "",
             "| # | name | layer | output | activations | params | MACs | RF /jump |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for row in tree_rows(report, depth):
        indent = "&nbsp;&nbsp;" * row.indent
        if row.group is not None:
            g = row.group
            mark = "▸" if row.collapsed else "▾"
            cells = (f"{g.first_index}–{g.last_index}" if row.collapsed else "",
                     f"{indent}{mark} **{markdown_text(row.label)}**", f"{g.layer_count} layers",
                     shape_text(g.output_shape), count(g.activations, exact), thousands(g.params),
                     count(g.macs, exact) if g.macs else "0", _cell(receptive_field_text(g.receptive_field)))
            lines.append("| " + " | ".join(cells) + " |")
            continue
        layer = row.layer
        activations = activation_arithmetic(layer, exact)
        if not layer.new_tensor:
            activations = f"({activations})"
        cells = (str(layer.index), indent + markdown_text(row.label), markdown_text(layer.description),
                 shape_text(layer.output_shape), _cell(activations),
                 _cell(param_arithmetic(layer)), count(layer.macs, exact) if layer.macs else "0",
                 _cell(receptive_field_text(layer.receptive_field)))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- note: {markdown_text(line)}" for line in note_lines(report))
    lines.extend(f"- {_cell(line)}" for line in total_lines(report, si))
    lines.extend(f"- warning: {markdown_text(line)}" for line in warning_lines(report))
    return "\n".join(lines) + "\n"
