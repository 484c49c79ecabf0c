"""The report as one self-contained HTML file: inline CSS, inline SVG and a small inline script; nothing fetched,
so it works offline and from file://. `shapes`: the header facts and totals, the network's picture (groups as one
box that opens on click, open in print) with bars on a shared scale, and the receptive field's growth."""

from __future__ import annotations

from ..report import Report
from .graph_layout import ROW, TOP, Layout, heading_texts, layout, text_width
from .numbers import shape_text
from .summary import note_lines, title, total_lines, warning_lines
from .svg import STYLE, Pieces, _num, attr, row_elements, text_element

PAGE_STYLE = """body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 1.5em; color: #1f2328; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
.facts { color: #57606a; margin: 0 0 .8em; } ul.totals { padding-left: 1.2em; margin: .2em 0; }
.picture { overflow-x: auto; } .picture svg { display: block; }
details > summary { display: block; list-style: none; cursor: pointer; }
details > summary::-webkit-details-marker { display: none; }
details > summary:focus-visible { outline: 2px solid #0969da; } .box:focus { outline: none; }
.box:focus rect, .box:hover rect, summary:focus-visible .box rect { stroke: #0969da; stroke-width: 2; }
details[open] > summary .closed-only { display: none; }
details:not([open]) > summary .open-only { display: none; }
.controls button { font: inherit; margin-right: .4em; }
#info { position: fixed; right: 1em; bottom: 1em; max-width: 52em; background: #fff; border: 1px solid #d0d7de;
  border-radius: 6px; box-shadow: 0 2px 8px rgba(31, 35, 40, .15); padding: .5em .8em; white-space: pre-wrap;
  font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }
#info:empty { display: none; }
.warn { color: #9a6700; } table.compare { border-collapse: collapse; } table.compare td, table.compare th
  { border: 1px solid #d0d7de; padding: .2em .5em; text-align: left; vertical-align: top; }
.panels { display: flex; gap: 1.5em; align-items: flex-start; overflow-x: auto; }
@media print { .controls, #info { display: none; } }"""

SCRIPT = """(function () {
  var info = document.getElementById('info');
  function show(event) {
    var target = event.target;
    var holder = target.closest ? target.closest('.box, summary') : null;
    var title = holder ? holder.querySelector('title') : null;
    if (title && info) { info.textContent = title.textContent; }
  }
  function hide(event) {
    var holder = event.target.closest ? event.target.closest('.box, summary') : null;
    if (holder && !(event.relatedTarget && holder.contains(event.relatedTarget)) && info) { info.textContent = ''; }
  }
  document.addEventListener('mouseover', show);
  document.addEventListener('focusin', show);
  document.addEventListener('mouseout', hide);
  document.addEventListener('focusout', hide);
  function all(open) {
    document.querySelectorAll('details').forEach(function (d) { d.open = open; });
  }
  var openAll = document.getElementById('open-all'), closeAll = document.getElementById('close-all');
  if (openAll) { openAll.addEventListener('click', function () { all(true); }); }
  if (closeAll) { closeAll.addEventListener('click', function () { all(false); }); }
  var opened = [];
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details:not([open])').forEach(function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();"""


def page(heading: str, body: list[str]) -> str:
    """A whole HTML document: `heading` as its title, `body` its elements, the style and script inline."""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{attr(heading)}</title>", f"<style>{PAGE_STYLE}\n{STYLE}</style>", "</head>", "<body>",
        *body, '<div id="info" role="status" aria-live="polite"></div>', f"<script>{SCRIPT}</script>",
        "</body>", "</html>", ""])


def _svg_open(width: float, height: float, cls: str) -> str:
    return (f'<svg class="{cls}" width="{_num(width)}" height="{_num(height)}" '
            f'viewBox="0 0 {_num(width)} {_num(height)}">')


def graph_html(picture: Layout) -> list[str]:
    """The picture row by row: a group's header is the summary of a <details> holding its rows (closed)."""
    pieces = Pieces(picture)
    out = ['<div class="picture">', _svg_open(picture.width, TOP, "headings")]
    out.extend(text_element(t) for t in heading_texts(picture))
    out.append("</svg>")
    open_nodes: list[int] = []
    nodes = picture.nodes
    for r, row in enumerate(picture.rows):
        while open_nodes and nodes[open_nodes[-1]].last_row < r:
            open_nodes.pop()
            out.append("</details>")
        svg = "".join([_svg_open(picture.width, ROW, "row"), *row_elements(picture, r, pieces, True), "</svg>"])
        if row.kind == "header":
            out.append(f'<details class="group"><summary>{svg}</summary>')
            open_nodes.append(row.node)
        else:
            out.append(svg)
    out.extend("</details>" for _ in open_nodes)
    out.append("</div>")
    return out


def rf_plot(report: Report, width: float = 640, height: float = 220) -> list[str]:
    """The receptive field's size (first spatial dim, input pixels) after each layer, with the input's size."""
    points = [(layer.index, float(layer.receptive_field.size[0])) for layer in report.layers
              if layer.receptive_field.size]
    if not points or len(report.input_shape) < 2:
        return []
    left, bottom, right, top = 56.0, height - 34, width - 12, 14.0
    last = max(index for index, _ in points)
    image = float(report.input_shape[1])
    largest = max(max(size for _, size in points), image)

    def x(index: float) -> float:
        return left + (right - left) * index / max(last, 1)

    def y(size: float) -> float:
        return bottom - (bottom - top) * size / largest

    line = " ".join(f"{_num(x(i))},{_num(y(s))}" for i, s in [(0, 1.0)] + points)
    texts = [(left - 6, y(largest) + 4, f"{largest:g}", "end"), (left - 6, bottom + 4, "0", "end"),
             (left, height - 8, "0", "start"), (right, height - 8, f"layer {last}", "end"),
             ((left + right) / 2, height - 8, "layer (spec order)", "middle"),
             (right, y(image) - 4, f"input size {image:g}", "end")]
    out = [f"<h2>Receptive field</h2>", _svg_open(width, height, "rf"),
           f"<title>{attr('receptive field size after each layer (first spatial dim, input pixels)')}</title>",
           f'<path class="edge" d="M{_num(left)},{_num(top)} V{_num(bottom)} H{_num(right)}"/>',
           f'<path class="frame" d="M{_num(left)},{_num(y(image))} H{_num(right)}"/>',
           f'<polyline points="{line}" fill="none" stroke="#0969da" stroke-width="2"/>']
    out.extend(f'<text class="number" x="{_num(tx)}" y="{_num(ty)}" text-anchor="{anchor}">{attr(text)}</text>'
               for tx, ty, text, anchor in texts)
    out.append("</svg>")
    return out


def render_html(report: Report, si: bool = False) -> str:
    """`cnncalc shapes --format html`."""
    picture = layout(report, collapsible=True)
    body = [f"<h1>{attr(report.name)}</h1>", f'<p class="facts">{attr(title(report))}</p>',
            '<ul class="totals">', *(f"<li>{attr(line)}</li>" for line in total_lines(report, si)), "</ul>",
            "<h2>The network</h2>",
            '<p class="controls">Each group, repeat and block is one box: click it (or press Enter on it) to open it. '
            'Hover over a box, or focus it, for its arithmetic. '
            '<button type="button" id="open-all">open all</button>'
            '<button type="button" id="close-all">close all</button></p>',
            *graph_html(picture), *rf_plot(report)]
    notes = note_lines(report)
    warnings = warning_lines(report)
    if notes or warnings:
        body.append("<h2>Notes</h2><ul>")
        body.extend(f"<li>{attr(line)}</li>" for line in notes)
        body.extend(f'<li class="warn">{attr(line)}</li>' for line in warnings)
        body.append("</ul>")
    return page(f"{report.name}: {shape_text(report.input_shape)} (cnncalc)", body)


__all__ = ["render_html", "page", "rf_plot", "graph_html", "text_width"]
