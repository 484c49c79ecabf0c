"""The picture as SVG: one standalone file (every group drawn open), and the rows the HTML report draws one by one.

Every text is a <text> element, every name escaped; sizes come from graph_layout's monospace metric.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..report import Report
from .graph_layout import (BOX_HEIGHT, BOX_TOP, ROW, TOP, Layout, Text, bar_length, box_lines, clean, heading_texts,
                           layout, row_texts)
from .numbers import activation_arithmetic, byte_size, param_arithmetic, receptive_field_text, shape_text, thousands

FONTS = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace"
STYLE = f"""text {{ font-family: {FONTS}; fill: #1f2328; }}
.name {{ font-size: 12px; font-weight: bold; }} .detail, .number, .heading {{ font-size: 10px; }}
.detail {{ fill: #57606a; }} .heading {{ fill: #57606a; font-weight: bold; }} .title {{ font-size: 12px; }}
.box rect {{ fill: #f6f8fa; stroke: #8c959f; }} .header rect {{ fill: #fff8c5; stroke: #bf8700; }}
.input rect {{ fill: #ddf4ff; stroke: #54aeff; }}
.edge {{ fill: none; stroke: #57606a; stroke-width: 1.2; }} .arrow {{ fill: #57606a; }}
.frame {{ fill: none; stroke: #d4a72c; stroke-dasharray: 4 3; }}
.track {{ fill: #eaeef2; }} .params {{ fill: #0969da; }} .memory {{ fill: #bf3989; }} .macs {{ fill: #1a7f37; }}"""


def attr(text: str, lines: bool = False) -> str:
    """Text for an attribute value or element content: control characters replaced (but line breaks, with
    `lines`), <, >, & and " escaped."""
    if lines:
        return "\n".join(escape(clean(line), {'"': "&quot;"}) for line in text.split("\n"))
    return escape(clean(text), {'"': "&quot;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def text_element(text: Text, y_offset: float = 0.0, extra_class: str = "") -> str:
    cls = text.role + (f" {extra_class}" if extra_class else "") + (f" {text.only}-only" if text.only else "")
    return (f'<text class="{cls}" x="{_num(text.x)}" y="{_num(text.baseline + y_offset)}" '
            f'data-width="{_num(text.width)}">{attr(text.text)}</text>')


def tooltip(layout_: Layout, r: int) -> str:
    """What hovering a row shows: the table's arithmetic for the layer, or the group's subtotals."""
    report = layout_.report
    row = layout_.rows[r]
    size = report.dtype_bytes
    if row.kind == "input":
        return f"input {shape_text(report.input_shape)}: {thousands(report.totals.input_activations)} values"
    if row.kind == "header":
        node = layout_.nodes[row.node]
        return (f"{node.label}: {node.detail}\nparams {thousands(node.sums.params)}\n"
                f"activation memory {byte_size(node.sums.memory)} (new tensors)\nMACs {thousands(node.sums.macs)}")
    layer = row.layer
    assert layer is not None
    memory = (f" = {byte_size(layer.activation_count * size)} at {report.dtype}" if layer.new_tensor
              else " (in place or a view: no new tensor)")
    lines = [f"{layer.name}: {layer.description}", f"output {shape_text(layer.output_shape)}",
             f"activations {activation_arithmetic(layer)}{memory}", f"params {param_arithmetic(layer)}",
             f"MACs {thousands(layer.macs)}", f"RF /jump {receptive_field_text(layer.receptive_field)}"]
    if len(layer.inputs) > 1:
        lines.append("inputs " + ", ".join(layer.inputs))
    lines.extend(f"note: {note}" for note in layer.notes)
    return "\n".join(clean(line) for line in lines)  # a name's own line breaks are replaced first


class Pieces:
    """The parts of the edges each row draws: (row) → [(part, edge's lane, box lane, only)], where part is
    'out' (from the row's box), 'through' or 'in' (into the row's box)."""

    def __init__(self, layout_: Layout):
        self.by_row: dict[int, list[tuple[str, int, int, str]]] = {}
        rows, nodes = layout_.rows, layout_.nodes
        for edge in layout_.edges:
            s, t, via = edge
            self.add(s, ("out", via, rows[s].lane, ""))
            entering: set[int] = set()
            n = rows[t].owner
            while n >= 0 and nodes[n].header > s:  # groups that hold the target but not the source
                entering.add(nodes[n].header)
                self.add(nodes[n].header, ("in", via, nodes[n].lo, "closed"))
                n = nodes[n].parent
            for r in range(s + 1, t):
                self.add(r, ("through", via, -1, "open" if r in entering else ""))
            self.add(t, ("in", via, rows[t].lane, ""))
            n = rows[s].owner
            while n >= 0 and nodes[n].last_row < t:  # groups that hold the source but not the target
                self.add(nodes[n].header, ("out", via, nodes[n].lo, "closed"))
                n = nodes[n].parent

    def add(self, row: int, piece: tuple[str, int, int, str]) -> None:
        self.by_row.setdefault(row, []).append(piece)


def _only(only: str) -> str:
    return f' class="{only}-only"' if only else ""


def row_elements(layout_: Layout, r: int, pieces: Pieces, interactive: bool) -> list[str]:
    """Row r's elements, in the row's coordinates (0 at its top). Not `interactive`: every group open."""
    row = layout_.rows[r]
    nodes = layout_.nodes
    out: list[str] = []
    # frames: the groups holding this row, and this row's own group (its header)
    holding = []
    n = row.node if row.kind == "header" else row.owner
    while n >= 0:
        holding.append(n)
        n = nodes[n].parent
    for n in holding:
        node = nodes[n]
        left, right = layout_.frame(node)
        own = row.kind == "header" and n == row.node
        top = 2.0 if node.header == r else 0.0
        bottom = ROW - 2 if node.last_row == r else ROW
        only = " open-only" if own and interactive else ""  # closed, a group is its header box alone
        across = f" H{_num(right)}" if top else f" M{_num(right)},{_num(top)}"  # its top edge on its header's row
        out.append(f'<path class="frame{only}" d="M{_num(left)},{_num(bottom)} V{_num(top)}{across} '
                   f'V{_num(bottom)}{f" H{_num(left)}" if bottom < ROW else ""}"/>')
        if interactive and row.kind == "header" and not own and node.last_row == nodes[row.node].last_row:
            out.append(f'<path class="frame closed-only" d="M{_num(left)},{_num(ROW - 2)} H{_num(right)}"/>')
    # edges
    mid = BOX_TOP + BOX_HEIGHT / 2
    for part, via, box_lane, only in pieces.by_row.get(r, ()):
        if only and not interactive:
            if only == "closed":
                continue
            only = ""
        xv = layout_.lane_x(via)
        cls = f' class="edge {only}-only"' if only else ' class="edge"'
        if part == "through":
            out.append(f'<path{cls} d="M{_num(xv)},0 V{_num(ROW)}"/>')
            continue
        xb = layout_.lane_x(box_lane)
        side = xb + (layout_.box_width / 2 if xv > xb else -layout_.box_width / 2)
        if part == "out":
            d = (f"M{_num(xv)},{_num(BOX_TOP + BOX_HEIGHT)} V{_num(ROW)}" if via == box_lane
                 else f"M{_num(side)},{_num(mid)} H{_num(xv)} V{_num(ROW)}")
            out.append(f'<path{cls} d="{d}"/>')
            continue
        if via == box_lane:
            out.append(f'<path{cls} d="M{_num(xv)},0 V{_num(BOX_TOP - 4)}"/>')
            arrow = f"M{_num(xv - 4)},{_num(BOX_TOP - 5)} L{_num(xv + 4)},{_num(BOX_TOP - 5)} L{_num(xv)},{_num(BOX_TOP)} Z"
        else:
            tip = side
            back = tip + (5 if xv > xb else -5)
            out.append(f'<path{cls} d="M{_num(xv)},0 V{_num(mid)} H{_num(back)}"/>')
            arrow = f"M{_num(back)},{_num(mid - 4)} L{_num(back)},{_num(mid + 4)} L{_num(tip)},{_num(mid)} Z"
        out.append(f'<path class="arrow{f" {only}-only" if only else ""}" d="{arrow}"/>')
    # the box, its texts and title
    texts = row_texts(layout_, r)
    box_class = {"input": "box input", "header": "box header", "layer": "box"}[row.kind]
    x = layout_.box_left(row.lane)
    focus = ' tabindex="0"' if interactive and row.kind != "header" else ""  # a header's <summary> takes focus
    out.append(f'<g class="{box_class}"{focus}><title>{attr(tooltip(layout_, r), lines=True)}</title>'
               f'<rect x="{_num(x)}" y="{_num(BOX_TOP)}" width="{_num(layout_.box_width)}" '
               f'height="{_num(BOX_HEIGHT)}" rx="4"/>'
               + "".join(text_element(t) for t in texts if t.role in ("name", "detail")) + "</g>")
    # the columns: bars on a shared scale, and their numbers
    if row.kind == "header" and not interactive:
        return out
    only = "closed" if row.kind == "header" else ""
    numbers = [t for t in texts if t.role == "number"]
    for column in layout_.columns:
        if column.key == "rf":
            continue
        value = getattr(row.sums, column.key)
        length = bar_length(column, value)
        y = ROW / 2 - 5
        out.append(f'<g class="cell{f" {only}-only" if only else ""}"><rect class="track" x="{_num(column.x)}" '
                   f'y="{_num(y)}" width="{_num(column.bar)}" height="10"/>'
                   + (f'<rect class="{column.key}" x="{_num(column.x)}" y="{_num(y)}" width="{_num(length)}" '
                      'height="10"/>' if length else "") + "</g>")
    out.extend(text_element(t) for t in numbers)
    return out


def render_svg(report: Report) -> str:
    """The whole picture as one standalone SVG document, every group open."""
    picture = layout(report)
    pieces = Pieces(picture)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
             f'width="{_num(picture.width)}" height="{_num(picture.height)}" '
             f'viewBox="0 0 {_num(picture.width)} {_num(picture.height)}">',
             f"<title>{attr(report.name)}</title>", f"<style>{STYLE}</style>",
             f'<rect width="{_num(picture.width)}" height="{_num(picture.height)}" fill="#ffffff"/>']
    parts.extend(text_element(t) for t in heading_texts(picture))
    for r in range(len(picture.rows)):
        parts.append(f'<g transform="translate(0,{_num(TOP + r * ROW)})">')
        parts.extend(row_elements(picture, r, pieces, interactive=False))
        parts.append("</g>")
    parts.append("</svg>\n")
    return "\n".join(parts)


__all__ = ["render_svg", "row_elements", "Pieces", "attr", "tooltip", "box_lines"]
