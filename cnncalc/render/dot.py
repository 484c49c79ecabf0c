"""The network as Graphviz DOT text: a node per layer with its output shape, an edge per input (every input of a
merge), a cluster per repeat, block and group. Names are quoted for DOT: in its strings a backslash and a double
quote are escaped, '&' is written &amp;, a control character is replaced; node identifiers are numbers, never names."""

from __future__ import annotations

from ..report import Report
from .graph_layout import clean
from .numbers import shape_text, short


def quote(text: str) -> str:
    """`text` as a DOT quoted string, read back by graphviz as the same text: '\\' and '"' escaped (so the
    escString sequences \\N, \\G, \\l … cannot arise), and '&' written &amp; (graphviz reads entities)."""
    return '"' + clean(text).replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(*lines: str) -> str:
    """Lines of a label: each quoted, joined by DOT's centred line break."""
    body = "\\n".join(quote(line)[1:-1] for line in lines)
    return f'"{body}"'


def render_dot(report: Report) -> str:
    lines = [f"digraph {quote(report.name)} {{",
             f"  graph [label={quote(report.name)}, labelloc=t, fontname=\"monospace\", rankdir=TB];",
             '  node [shape=box, style="rounded,filled", fillcolor="#f6f8fa", fontname="monospace", fontsize=10];',
             '  edge [color="#57606a"];',
             f"  n0 [label={_label('input', shape_text(report.input_shape))}, fillcolor=\"#ddf4ff\"];"]
    spans = [s for s in report.structure  # unnamed branches are no cluster: their merge's edges show them
             if 1 <= s.first <= s.last <= len(report.layers) and (s.kind != "branches" or s.name)]
    opening: dict[int, list[int]] = {}
    closing: dict[int, int] = {}
    for k, span in enumerate(spans):
        opening.setdefault(span.first, []).append(k)
        closing[span.last] = closing.get(span.last, 0) + 1
    depth = 1
    for layer in report.layers:
        for k in opening.get(layer.index, ()):
            span = spans[k]
            depth += 1
            title = span.name or span.kind
            if span.kind == "repeat":
                title = f"{title} ×{span.count}"
            elif span.kind == "block" and span.label:
                title = f"{title} ({span.label})"
            elif span.kind == "branches":
                title = f"{title} ({span.count} branches)"
            lines.append(f"{'  ' * (depth - 1)}subgraph cluster_{k} {{ label={quote(title)}; style=dashed; "
                         'color="#bf8700";')
        extra = f", {short(layer.macs)} MACs" if layer.macs else ""
        params = f"{short(layer.param_count)} params" if layer.param_count else ""
        lines.append(f"{'  ' * depth}n{layer.index} [label="
                     f"{_label(layer.name, layer.description, shape_text(layer.output_shape) + (', ' + params if params else '') + extra)}"
                     f", tooltip={quote(layer.name)}];")
        for _ in range(closing.get(layer.index, 0)):
            depth -= 1
            lines.append(f"{'  ' * depth}}}")
    names = {layer.name: layer.index for layer in report.layers}
    for layer in report.layers:
        for position, name in enumerate(layer.inputs):
            source = 0 if name == "input" else names.get(name)
            if source is None:
                continue
            label = f" [label={position + 1}]" if len(layer.inputs) > 1 else ""
            lines.append(f"  n{source} -> n{layer.index}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
