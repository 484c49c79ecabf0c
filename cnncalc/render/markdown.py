"""Markdown: a pipe table and the totals, for READMEs and pull requests."""

from __future__ import annotations

from ..report import Report
from .numbers import activation_arithmetic, count, param_arithmetic, receptive_field_text, shape_text, thousands
from .tree import tree_rows
from .summary import note_lines, title, total_lines, warning_lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: Report, si: bool = False, depth: int | None = None, exact: bool = False) -> str:
    lines = [f"### {_cell(title(report))}", "",
             "| # | name | layer | output | activations | params | MACs | RF /jump |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for row in tree_rows(report, depth):
        indent = "&nbsp;&nbsp;" * row.indent
        if row.group is not None:
            g = row.group
            mark = "▸" if row.collapsed else "▾"
            cells = (f"{g.first_index}–{g.last_index}" if row.collapsed else "", f"{indent}{mark} **{row.label}**",
                     f"{g.layer_count} layers", shape_text(g.output_shape), count(g.activations, exact), thousands(g.params),
                     count(g.macs, exact) if g.macs else "0", receptive_field_text(g.receptive_field))
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            continue
        layer = row.layer
        activations = activation_arithmetic(layer, exact)
        if not layer.new_tensor:
            activations = f"({activations})"
        cells = (str(layer.index), indent + row.label, layer.description, shape_text(layer.output_shape), activations,
                 param_arithmetic(layer), count(layer.macs, exact) if layer.macs else "0",
                 receptive_field_text(layer.receptive_field))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines.extend(f"- note: {_cell(line)}" for line in note_lines(report))
    lines.extend(f"- {_cell(line)}" for line in total_lines(report, si))
    lines.extend(f"- warning: {_cell(line)}" for line in warning_lines(report))
    return "\n".join(lines) + "\n"
