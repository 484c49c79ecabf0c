"""`compare --format html` (the networks' per-layer bars side by side, on one scale) and `memory --format html`
(the memory components as stacked bars, with their arithmetic). Self-contained pages, as render/html.py's."""

from __future__ import annotations

from ..compare import SpecComparison
from ..sizing import Breakdown, MemoryReport, peak_text
from ..timeline import CATEGORIES, LABELS, Timeline
from .graph_layout import SMALL, Column, bar_length, check_size, clip, layer_sums, text_width
from .html import page
from .numbers import byte_size, short
from .sizing import LOWER_BOUND_NOTE, arithmetic, memory_title, percent
from .svg import _num, attr

ROW = 18.0
NAME_LIMIT = 32  # characters of a layer's name beside its bars
KEYS = (("params", "params"), ("memory", "activation memory"), ("macs", "MACs"))
COLORS = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#57606a", "#d4a72c")
PHASE_FILLS = {"forward": "#f6f8fa", "backward": "#fff8f5", "step": "#f0fff4"}
TIMELINE_POINTS = 400  # at most this many moments drawn: each the largest of the moments it stands for


def _table(headers: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    out = ['<table class="compare"><tr><th></th>' + "".join(f"<th>{attr(h)}</th>" for h in headers) + "</tr>"]
    out.extend(f"<tr><th>{attr(label)}</th>" + "".join(f"<td>{attr(v)}</td>" for v in values) + "</tr>"
               for label, values in rows)
    out.append("</table>")
    return out


def render_compare_html(comparison: SpecComparison, si: bool = False) -> str:
    """The comparison's table, then each network's layers with bars for params, activation memory and MACs,
    side by side; one scale per column across all the networks, so that bars compare between them."""
    from .compare import SPEC_LEGEND, SPEC_TITLE, spec_rows

    specs = comparison.specs
    for spec in specs:
        check_size(len(spec.report.layers))  # a bar per layer: as many as a picture draws, at most
    headers, rows = spec_rows(comparison, si)
    sums = [[layer_sums(layer, s.report.dtype_bytes) for layer in s.report.layers] for s in specs]
    scales = {key: max((getattr(x, key) for per in sums for x in per), default=0) for key, _ in KEYS}
    names = [[clip(layer.name, NAME_LIMIT) for layer in s.report.layers] for s in specs]
    name_width = max((text_width(n, SMALL) for per in names for n in per), default=0) + 8
    number_width = text_width("1023.9 MiB", SMALL) + 6
    bar = 90.0
    width = name_width + len(KEYS) * (bar + 4 + number_width + 10)
    body = [f"<h1>{attr(SPEC_TITLE)}</h1>", *_table(headers, rows),
            "<ul>", *(f"<li>{attr(line)}</li>" for line in SPEC_LEGEND), "</ul>",
            "<h2>Layer by layer</h2>",
            "<p>One bar per layer, on one scale per column across the networks: a longer bar holds more.</p>",
            '<div class="panels">']
    for spec, per, per_names in zip(specs, sums, names):
        height = ROW * (len(per) + 1) + 4
        body.append(f'<div class="panel"><h3>{attr(spec.report.name)}</h3>'
                    f'<svg class="bars" width="{_num(width)}" height="{_num(height)}" '
                    f'viewBox="0 0 {_num(width)} {_num(height)}">')
        x = name_width
        for _, heading in KEYS:
            body.append(f'<text class="heading" x="{_num(x)}" y="{_num(ROW - 5)}">{attr(heading)}</text>')
            x += bar + 4 + number_width + 10
        for i, (values, name) in enumerate(zip(per, per_names), start=1):
            y = ROW * i
            body.append(f'<g class="box"><title>{attr(spec.report.layers[i - 1].name)}: '
                        f'{attr(spec.report.layers[i - 1].description)}</title>'
                        f'<text class="detail" x="0" y="{_num(y + 12)}">{attr(name)}</text></g>')
            x = name_width
            for key, _ in KEYS:
                value = getattr(values, key)
                length = bar_length(Column(key, x, bar, bar, scales[key]), value)
                body.append(f'<rect class="track" x="{_num(x)}" y="{_num(y + 4)}" width="{_num(bar)}" height="9"/>')
                if length:
                    body.append(f'<rect class="{key}" x="{_num(x)}" y="{_num(y + 4)}" width="{_num(length)}" '
                                'height="9"/>')
                text = byte_size(value, si) if key == "memory" else short(value)
                body.append(f'<text class="number" x="{_num(x + bar + 4)}" y="{_num(y + 12)}">{attr(text)}</text>')
                x += bar + 4 + number_width + 10
        body.append("</svg></div>")
    body.append("</div>")
    return page(SPEC_TITLE + ": " + ", ".join(s.report.name for s in specs), body)


def _stacked(section: Breakdown, width: float = 760.0) -> list[str]:
    """One bar, a segment per component in proportion to its bytes, and the legend with the arithmetic."""
    out = [f'<svg class="stacked" width="{_num(width)}" height="30" viewBox="0 0 {_num(width)} 30">']
    x = 0.0
    colors = _colors(section)
    for component in section.components:
        length = width * component.bytes / section.total if section.total else 0.0
        if length > 0:
            out.append(f'<rect x="{_num(x)}" y="2" width="{_num(length)}" height="26" fill="{colors[component.key]}">'
                       f"<title>{attr(component.label)}: {attr(byte_size(component.bytes))} "
                       f"({attr(percent(component.bytes, section.total))})</title></rect>")
        x += length
    out.append("</svg>")
    return out


def drawn_moments(totals: list[int], limit: int = TIMELINE_POINTS) -> list[int]:
    """Which moments the plot draws: all of them up to `limit`, else the largest (the first of equals) of each of
    `limit` equal runs, so that the drawing stays small however deep the network and the peak is always drawn."""
    if len(totals) <= limit:
        return list(range(len(totals)))
    runs = (range(i * len(totals) // limit, (i + 1) * len(totals) // limit) for i in range(limit))
    return [max(run, key=lambda i: (totals[i], -i)) for run in runs]


def _colors(section: Breakdown) -> dict[str, str]:
    """Each component's colour in the stacked bar, by its key (a timeline category)."""
    return {c.key: COLORS[k % len(COLORS)] for k, c in enumerate(section.components)}


def timeline_plot(line: Timeline, colors: dict[str, str], si: bool = False, width: float = 760.0,
                  height: float = 260.0) -> list[str]:
    """The memory alive at each moment of the step (forward, backward in reverse, the optimizer's step),
    stacked by category in the components' colours, the peak marked and labelled with its moment
    ('during the backward of conv1')."""
    totals = [m.at(line.batch) for m in line.moments]
    chosen = drawn_moments(totals)
    left, right, top, bottom = 74.0, width - 10, 34.0, height - 30
    last, largest = max(len(totals) - 1, 1), max(max(totals), 1)

    def x(index: int) -> float:
        return left + (right - left) * index / last

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / largest

    out = [f'<svg class="timeline" width="{_num(width)}" height="{_num(height)}" '
           f'viewBox="0 0 {_num(width)} {_num(height)}">',
           f"<title>{attr('memory alive at each moment of one training step, by category')}</title>"]
    phases: list[tuple[str, int, int]] = []  # (phase, first moment, last moment)
    for i, moment in enumerate(line.moments):
        if phases and phases[-1][0] == moment.phase:
            phases[-1] = (moment.phase, phases[-1][1], i)
        else:
            phases.append((moment.phase, i, i))
    for phase, first, final in phases:
        x0, x1 = x(first) if first else left, x(final) if final < last else right
        out.append(f'<rect class="phase" x="{_num(x0)}" y="{_num(top)}" width="{_num(max(x1 - x0, 1.0))}" '
                   f'height="{_num(bottom - top)}" fill="{PHASE_FILLS.get(phase, "#fff")}"/>')
        if text_width(phase, SMALL) + 4 <= x1 - x0:
            out.append(f'<text class="detail" x="{_num((x0 + x1) / 2)}" y="{_num(bottom + 14)}" text-anchor="middle" '
                       f'data-width="{_num(text_width(phase, SMALL))}">{attr(phase)}</text>')
    parts = [[m.parts(line.batch)[name] for name in CATEGORIES] for m in (line.moments[i] for i in chosen)]
    below = [0] * len(chosen)
    for k, name in enumerate(CATEGORIES):
        above = [b + p[k] for b, p in zip(below, parts)]
        if above != below:
            upper = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in zip(chosen, above))
            lower = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in reversed(list(zip(chosen, below))))
            out.append(f'<polygon class="category" points="{upper} {lower}" fill="{colors.get(name, COLORS[-1])}" '
                       f'fill-opacity="0.75"><title>{attr(LABELS[name])}</title></polygon>')
        below = above
    for value in (0, largest / 2, largest):
        label = byte_size(int(value), si)
        if value:
            out.append(f'<path class="frame" d="M{_num(left)},{_num(y(value))} H{_num(right)}"/>')
        out.append(f'<text class="number" x="{_num(left - 6)}" y="{_num(y(value) + 4)}" text-anchor="end" '
                   f'data-width="{_num(text_width(label, SMALL))}">{attr(label)}</text>')
    out.append(f'<path class="edge" d="M{_num(left)},{_num(top)} V{_num(bottom)} H{_num(right)}"/>')
    peak_x, peak_y = x(line.peak), y(line.peak_bytes)
    words = f"peak {byte_size(line.peak_bytes, si)} {peak_text(line)}"
    words = clip(words, int((right - left) / text_width("m", SMALL)))  # as many characters as fit across
    wide = text_width(words, SMALL)
    anchor_x = min(max(peak_x - wide / 2, left), right - wide)
    out.extend([f'<path class="peak" d="M{_num(peak_x)},{_num(top - 6)} V{_num(bottom)}" stroke="#cf222e" '
                'stroke-dasharray="3 2"/>',
                f'<circle class="peak" cx="{_num(peak_x)}" cy="{_num(peak_y)}" r="3.5" fill="#cf222e"/>',
                f'<text class="number peak-label" x="{_num(anchor_x)}" y="{_num(top - 10)}" '
                f'data-width="{_num(wide)}">{attr(words)}</text>', "</svg>"])
    legend = " ".join(f'<span class="key"><svg width="10" height="10"><rect width="10" height="10" '
                      f'fill="{colors.get(name, COLORS[-1])}"/></svg> {attr(LABELS[name])}</span>'
                      for k, name in enumerate(CATEGORIES) if any(p[k] for p in parts))
    return out + [f'<p class="legend">{legend}</p>']


def render_memory_html(report: MemoryReport, si: bool = False) -> str:
    """The training step's and inference's memory: a stacked bar each, then every component's arithmetic;
    the training step's timeline as a plot, its peak marked."""
    body = [f"<h1>{attr(report.name)}: memory</h1>", f'<p class="facts">{attr(memory_title(report))}</p>']
    for heading, section in (("Training (one step: forward, backward, update)", report.training),
                             ("Inference (forward only)", report.inference)):
        body.append(f"<h2>{attr(heading)}: {attr(byte_size(section.total, si))}</h2>")
        body.extend(_stacked(section))
        if section is report.training and report.timeline is not None:
            body.append("<p>The step moment by moment: the memory alive while each layer runs forward, then "
                        "backward in reverse, then during the optimizer's step, by category.</p>")
            body.extend(timeline_plot(report.timeline, _colors(section), si))
        body.append('<table class="compare"><tr><th></th><th>component</th><th>arithmetic</th><th>bytes</th>'
                    "<th>share</th><th>note</th></tr>")
        colors = _colors(section)
        for c in section.components:
            swatch = f'<svg width="12" height="12"><rect width="12" height="12" fill="{colors[c.key]}"/></svg>'
            body.append(f"<tr><td>{swatch}</td><td>{attr(c.label)}</td><td>{attr(arithmetic(c, report.batch))}</td>"
                        f"<td>{attr(byte_size(c.bytes, si))}</td><td>{attr(percent(c.bytes, section.total))}</td>"
                        f"<td>{attr(c.note)}</td></tr>")
        body.append(f"<tr><th></th><th>total</th><td>{attr(byte_size(section.fixed_bytes, si))} + {report.batch} × "
                    f"{attr(byte_size(section.per_sample_bytes, si))} per sample</td>"
                    f"<th>{attr(byte_size(section.total, si))}</th><td>100%</td><td></td></tr></table>")
    body.append(f"<p>{attr(LOWER_BOUND_NOTE)}</p>")
    return page(memory_title(report), body)
