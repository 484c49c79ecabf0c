"""The network's picture, laid out: one row per layer (and one per group's header), branches in lanes side by
side and joined at their merge, edges routed along lanes, and columns of bars (params, activation memory, MACs)
on a shared scale at the right.

Every size comes from a monospace metric (MONO_EM of the font size per character, two for a wide character),
never from a browser's measurement: the picture is the same in every viewer, and it is checked without one.
The layout is plain data; render/svg.py draws it, render/html.py draws it row by row with groups that open.
"""

from __future__ import annotations

import bisect
import unicodedata
from typing import NamedTuple, Sequence

from ..report import LayerResult, Report
from ..spec import Span
from .numbers import byte_size, receptive_field_text, shape_text, short

MAX_PICTURE_LAYERS = 5_000  # more layers than this are refused by --format html/svg (the table has no limit)
MAX_LABEL = 64  # characters of a name drawn in a box; the whole name is in the box's title
MONO_EM = 0.62  # a monospace character's advance, in font sizes (DejaVu Sans Mono: 0.602; kept conservative)
FONT = 12.0  # a box's first line
SMALL = 10.0  # a box's second line, the columns' numbers
LINE = 1.25  # a text's height, in font sizes
ROW = 46.0  # a row's height
BOX_TOP = 6.0  # a box's top within its row
BOX_HEIGHT = 34.0
PAD = 6.0  # text inside a box, from its left edge
EXTRA_LANE = 14.0  # the width of a lane that carries edges only
BAR = 110.0  # a bar's longest length
TOP = 52.0  # the title and the columns' headings, above row 0
LEFT = 8.0
COLUMN_KEYS = ("params", "memory", "macs")
COLUMN_TITLES = {"params": "params", "memory": "activation memory", "macs": "MACs", "rf": "RF /jump"}


class PictureTooLarge(ValueError):
    """The spec has more layers than a picture draws (MAX_PICTURE_LAYERS)."""


def clean(text: str) -> str:
    """`text` without control characters (XML cannot hold most of them, even escaped): each becomes U+FFFD."""
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" else c for c in text)


def char_cells(text: str) -> int:
    """Monospace cells: two for a wide (East Asian wide or full-width) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_width(text: str, size: float) -> float:
    """The width `text` is given at font size `size`: the monospace metric, never a measurement."""
    return char_cells(text) * size * MONO_EM


def clip(text: str, limit: int = MAX_LABEL) -> str:
    """`text` cut to `limit` characters with '…' (the whole text goes in a title)."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Sums(NamedTuple):
    """A row's values for the bars: params, activation bytes (new tensors only), MACs."""

    params: int
    memory: int
    macs: int


class Node(NamedTuple):
    """A span of the spec placed in the picture."""

    span: Span
    header: int  # the row of its header; -1 for unnamed branches, which have none
    last_row: int  # the row of its last layer
    lo: int  # its first lane
    hi: int  # its last lane
    pad: float  # its frame's distance from the boxes inside
    parent: int  # the enclosing node with a header, -1 for none
    sums: Sums
    layer_count: int
    output_shape: tuple[int, ...]
    label: str  # its header's first line
    last_layer: LayerResult

    @property
    def detail(self) -> str:
        return f"{self.layer_count} layer{'s' if self.layer_count != 1 else ''} → {shape_text(self.output_shape)}"


class Row(NamedTuple):
    kind: str  # "input", "layer" or "header"
    lane: int
    layer: LayerResult | None  # for a layer row
    node: int  # for a header row: its node; else -1
    owner: int  # the innermost node with a header whose rows (after the header) hold this row; -1 for none
    sums: Sums


class Edge(NamedTuple):
    """An output going into a layer: from the source's row to the target's, down lane `lane`."""

    source: int
    target: int
    lane: int


class Text(NamedTuple):
    """A text and the box it is given: left, top (within its row, or the picture for row -1), width, height."""

    x: float
    y: float
    width: float
    height: float
    text: str
    size: float
    role: str  # "name", "detail", "number", "heading", "title"
    row: int
    only: str = ""  # "open" or "closed": drawn only while its group is open or closed (HTML); "" always

    @property
    def baseline(self) -> float:
        return self.y + self.size * 1.0


class Column(NamedTuple):
    key: str  # params, memory, macs, rf
    x: float
    bar: float  # the bar's longest length (0: text only)
    width: float
    scale: int  # the largest value (the bar's full length)


class Layout(NamedTuple):
    report: Report
    rows: tuple[Row, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    lane_count: int
    extra_lanes: int
    box_width: float
    lane_width: float
    columns: tuple[Column, ...]
    width: float
    height: float
    collapsible: bool

    def lane_x(self, lane: int) -> float:
        """The centre of a lane."""
        if lane < self.lane_count:
            return LEFT + lane * self.lane_width + self.lane_width / 2
        return LEFT + self.lane_count * self.lane_width + (lane - self.lane_count + 0.5) * EXTRA_LANE

    def box_left(self, lane: int) -> float:
        return self.lane_x(lane) - self.box_width / 2

    def row_y(self, row: int) -> float:
        return TOP + row * ROW

    def frame(self, node: Node) -> tuple[float, float]:
        """A node's frame: its left and right x."""
        return self.box_left(node.lo) - node.pad, self.box_left(node.hi) + self.box_width + node.pad


def check_size(layers: int) -> None:
    """Raise PictureTooLarge, naming the limit, for more layers than a picture draws."""
    if layers > MAX_PICTURE_LAYERS:
        raise PictureTooLarge(f"the spec has {layers:,} layers and a picture draws at most {MAX_PICTURE_LAYERS:,}; "
                              "use --format table, json, csv or dot for it")


def layer_sums(layer: LayerResult, dtype_bytes: int) -> Sums:
    return Sums(layer.param_count, layer.activation_count * dtype_bytes if layer.new_tensor else 0, layer.macs)


def _tree(report: Report) -> tuple[list[Span], list[list[int]], list[int]]:
    """The spans and, for each, the spans directly inside it (index -1 … the whole network is the last list)."""
    spans = [s for s in report.structure if 1 <= s.first <= s.last <= len(report.layers)]
    children: list[list[int]] = [[] for _ in spans] + [[]]
    parents = [-1] * len(spans)
    stack: list[int] = []
    for i, span in enumerate(spans):
        while stack and not (spans[stack[-1]].first <= span.first and span.last <= spans[stack[-1]].last):
            stack.pop()
        parents[i] = stack[-1] if stack else -1
        children[parents[i]].append(i)
        stack.append(i)
    return spans, children, parents


def layout(report: Report, collapsible: bool = False) -> Layout:
    """Lay the report out. `collapsible`: groups may be shown closed (HTML): their subtotals count in the scales."""
    count = len(report.layers)
    check_size(count)
    spans, children, parents = _tree(report)
    lanes = [0] * (count + 1)  # by layer index; 0 is the input
    height = [0] * len(spans)  # frames nested inside, for the frame's distance from its boxes
    placed = [(0, 1)] * len(spans)  # each span's first lane and lanes used

    def place_range(first: int, last: int, inside: list[int], base: int) -> int:
        width, i, k = 1, first, 0
        while i <= last:
            while k < len(inside) and spans[inside[k]].first < i:
                k += 1
            if k < len(inside) and spans[inside[k]].first == i:
                width = max(width, place(inside[k], base))
                i = spans[inside[k]].last + 1
                k += 1
            else:
                lanes[i] = base
                i += 1
        return width

    def place(n: int, base: int) -> int:
        span = spans[n]
        inner = children[n]
        if span.kind != "branches" or not span.parts:
            width = place_range(span.first, span.last, inner, base)
        else:
            lane = base
            for first, last in span.parts:
                lane += place_range(first, last, inner, lane) if last >= first else 1  # an empty branch: its edge
            lanes[span.last] = base  # the merge
            width = max(lane - base, 1)
        height[n] = max((height[c] for c in inner), default=0) + (1 if _has_header(span) else 0)
        placed[n] = (base, width)
        return width

    lane_count = place_range(1, count, children[-1], 0)

    # rows: the input, then every layer, a header before the layers of each span that has one
    starts: dict[int, list[int]] = {}
    for n, span in enumerate(spans):
        if _has_header(span):
            starts.setdefault(span.first, []).append(n)
    size = report.dtype_bytes
    sums = [layer_sums(layer, size) for layer in report.layers]
    prefix = [Sums(0, 0, 0)]
    for s in sums:
        last_sum = prefix[-1]
        prefix.append(Sums(last_sum.params + s.params, last_sum.memory + s.memory, last_sum.macs + s.macs))
    rows: list[Row] = [Row("input", 0, None, -1, -1, Sums(0, report.totals.input_activations * size, 0))]
    layer_row = [0] * (count + 1)
    header_row = [-1] * len(spans)
    owner_stack: list[int] = []  # nodes with headers whose rows are being laid out
    for layer in report.layers:
        i = layer.index
        while owner_stack and spans[owner_stack[-1]].last < i:
            owner_stack.pop()
        for n in starts.get(i, ()):
            header_row[n] = len(rows)
            rows.append(Row("header", lanes[i], None, n, owner_stack[-1] if owner_stack else -1,
                            _sub(prefix, spans[n].first, spans[n].last)))
            owner_stack.append(n)
        layer_row[i] = len(rows)
        rows.append(Row("layer", lanes[i], layer, -1, owner_stack[-1] if owner_stack else -1, sums[i - 1]))

    def header_parent(n: int) -> int:
        p = parents[n]
        while p >= 0 and not _has_header(spans[p]):
            p = parents[p]
        return p

    node_list: list[Node] = []
    for n, span in enumerate(spans):
        lo, hi = placed[n][0], placed[n][0] + placed[n][1] - 1
        node_list.append(Node(span, header_row[n], layer_row[span.last], lo, hi, 4.0 + 6.0 * max(height[n] - 1, 0),
                              header_parent(n), _sub(prefix, span.first, span.last), span.last - span.first + 1,
                              report.layers[span.last - 1].output_shape, _label(report, span),
                              report.layers[span.last - 1]))
    edges, extra = _route(report, rows, layer_row, node_list, lane_count)

    # sizes: the boxes fit their longest text; the columns fit their longest number
    texts = [_box_lines(report, row, node_list) for row in rows]
    box_width = max(max(text_width(a, FONT), text_width(b, SMALL)) for a, b in texts) + 2 * PAD
    max_pad = max((node.pad for node in node_list if node.header >= 0), default=0.0)
    lane_width = box_width + 2 * max_pad + 12
    x = LEFT + lane_count * lane_width + extra * EXTRA_LANE + 20
    columns = []
    shown = [row for row in rows if row.kind != "header" or collapsible]
    for key in COLUMN_KEYS:
        values = [getattr(row.sums, key) for row in shown]
        width = max([text_width(_number(key, v), SMALL) for v in values] + [text_width(COLUMN_TITLES[key], SMALL)])
        columns.append(Column(key, x, BAR, BAR + 6 + width, max(values, default=0)))
        x += BAR + 6 + width + 18
    rf_width = max([text_width(receptive_field_text(row.layer.receptive_field), SMALL)
                    for row in rows if row.layer is not None] + [text_width(COLUMN_TITLES["rf"], SMALL)])
    columns.append(Column("rf", x, 0.0, rf_width, 0))
    x += rf_width + LEFT
    heading = text_width(_title(report), FONT) + 2 * LEFT
    return Layout(report, tuple(rows), tuple(node_list), tuple(edges), lane_count, extra, box_width, lane_width,
                  tuple(columns), max(x, heading), TOP + len(rows) * ROW + 8, collapsible)


def _label(report: Report, span: Span) -> str:
    """A group's name; a repeat's count (an unnamed one with the kinds of one iteration); a block's kind."""
    if span.kind == "repeat":
        if span.name:
            return f"{span.name} ×{span.count}"
        each = (span.last - span.first + 1) // max(span.count, 1)
        kinds = [layer.kind for layer in report.layers[span.first - 1: span.first - 1 + min(each, 5)]]
        return f"×{span.count}: " + ", ".join(kinds) + (", …" if each > 5 else "")
    if span.kind == "block":
        return f"{span.name} ({span.label})" if span.name else span.label
    if span.kind == "branches":
        return f"{span.name} ({span.count} branches)"
    return span.name


def _has_header(span: Span) -> bool:
    return span.kind != "branches" or bool(span.name)


def _sub(prefix: list[Sums], first: int, last: int) -> Sums:
    a, b = prefix[first - 1], prefix[last]
    return Sums(b.params - a.params, b.memory - a.memory, b.macs - a.macs)


def _number(key: str, value: int) -> str:
    return byte_size(value) if key == "memory" else short(value)


def _title(report: Report) -> str:
    return clip(f"{report.name}: input {shape_text(report.input_shape)}, {report.dtype}, batch {report.batch}", 200)


def _box_lines(report: Report, row: Row, nodes: Sequence[Node]) -> tuple[str, str]:
    """A box's two lines: a name, then what it is and its output."""
    if row.kind == "input":
        return "input", shape_text(report.input_shape)
    if row.kind == "header":
        node = nodes[row.node]
        return clip(node.label), node.detail
    layer = row.layer
    assert layer is not None
    return clip(layer.name), f"{clip(layer.description, 40)} → {shape_text(layer.output_shape)}"


def box_lines(layout: Layout, row: Row) -> tuple[str, str]:
    return _box_lines(layout.report, row, layout.nodes)


def _route(report: Report, rows: list[Row], layer_row: list[int], nodes: list[Node],
           lane_count: int) -> tuple[list[Edge], int]:
    """Each input of each layer as an edge down a lane free of boxes and of other edges between its ends
    (edges from one source, or into one target, may share a lane: they run together)."""
    by_name = {layer.name: layer_row[layer.index] for layer in report.layers}
    box_rows: dict[int, list[int]] = {}
    for r, row in enumerate(rows):
        box_rows.setdefault(row.lane, []).append(r)
    occupied: dict[int, list[tuple[int, int, int, int]]] = {}
    edges: list[Edge] = []
    extra = 0

    def entering(r: int, target: int) -> bool:
        """Row r is the header of a group that holds `target`: an edge into the group passes behind it."""
        row = rows[r]
        return row.kind == "header" and r < target <= nodes[row.node].last_row

    def free(lane: int, source: int, target: int) -> bool:
        in_lane = box_rows.get(lane, [])
        k = bisect.bisect_right(in_lane, source)
        while k < len(in_lane) and in_lane[k] < target:
            if not entering(in_lane[k], target):
                return False
            k += 1
        lo, hi = 2 * source + 1, 2 * target
        for a, b, s, t in occupied.get(lane, ()):
            if a <= hi and lo <= b and s != source and t != target:
                return False
        return True

    for r, row in enumerate(rows):
        if row.layer is None:
            continue
        seen: set[int] = set()
        for name in row.layer.inputs:
            source = 0 if name == "input" else by_name.get(name)
            if source is None or source in seen:
                continue
            seen.add(source)
            s_lane = rows[source].lane
            if s_lane == row.lane and source == r - 1:
                edges.append(Edge(source, r, row.lane))
                continue
            near = sorted(range(lane_count), key=lambda v: (abs(v - row.lane), v))
            chosen = next((v for v in [row.lane, s_lane] + near if free(v, source, r)), None)
            if chosen is None:
                k = 0
                while not free(lane_count + k, source, r):
                    k += 1
                chosen = lane_count + k
                extra = max(extra, k + 1)
            occupied.setdefault(chosen, []).append((2 * source + 1, 2 * r, source, r))
            edges.append(Edge(source, r, chosen))
    return edges, extra


def row_texts(layout: Layout, r: int) -> list[Text]:
    """The texts of row r, placed within the row: the box's two lines and the columns' numbers."""
    row = layout.rows[r]
    first, second = box_lines(layout, row)
    left = layout.box_left(row.lane) + PAD
    top = BOX_TOP + 3
    only = "closed" if row.kind == "header" else ""
    texts = [Text(left, top, text_width(first, FONT), FONT * LINE, first, FONT, "name", r),
             Text(left, top + FONT * LINE + 1, text_width(second, SMALL), SMALL * LINE, second, SMALL, "detail", r)]
    if row.kind == "header" and not layout.collapsible:
        return texts
    middle = ROW / 2 - SMALL * LINE / 2
    for column in layout.columns:
        if column.key == "rf":
            last = row.layer if row.kind != "header" else layout.nodes[row.node].last_layer
            if last is None:
                continue
            value = receptive_field_text(last.receptive_field)
            texts.append(Text(column.x, middle, text_width(value, SMALL), SMALL * LINE, value, SMALL, "number", r, only))
            continue
        value = _number(column.key, getattr(row.sums, column.key))
        texts.append(Text(column.x + column.bar + 6, middle, text_width(value, SMALL), SMALL * LINE, value, SMALL,
                          "number", r, only))
    return texts


def heading_texts(layout: Layout) -> list[Text]:
    """The title and the columns' headings, above the rows (row -1)."""
    title = _title(layout.report)
    texts = [Text(LEFT, 6, text_width(title, FONT), FONT * LINE, title, FONT, "title", -1)]
    for column in layout.columns:
        name = COLUMN_TITLES[column.key]
        texts.append(Text(column.x, TOP - 20, text_width(name, SMALL), SMALL * LINE, name, SMALL, "heading", -1))
    return texts


def bar_length(column: Column, value: int) -> float:
    """The bar of `value` on the column's shared scale (at least a hair when the value is not 0)."""
    if column.scale <= 0 or value <= 0:
        return 0.0
    return max(column.bar * value / column.scale, 1.0)
