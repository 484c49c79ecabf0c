"""`cnncalc diff`: the totals side by side with deltas, then the layers that changed, as text, as Markdown for a
pull-request comment (the summary table first, the layers in a <details> block) and as JSON for tools."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from ..diff import ADDED, CHANGED, REMOVED, Diff, LayerChange, LayerSide, TotalRow
from .numbers import byte_size, shape_text, short, thousands
from .problems import printable


def _value(value: Any, is_bytes: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):.3g}"
    return byte_size(int(value)) if is_bytes else thousands(int(value))


def _delta(row: TotalRow) -> str:
    """'+1,442,968 (+5.6%)', '−2.0 MiB (−1.9%)', '0', or '-' when a side has no figure."""
    delta = row.delta
    if delta is None:
        return "-"
    if not delta:
        return "0"
    sign = "+" if delta > 0 else "−"
    text = sign + _value(abs(delta), row.is_bytes)
    ratio = row.ratio
    if ratio is not None:
        tenths = round(abs(ratio) * 1000)
        text += f" ({sign}{tenths // 10}.{tenths % 10}%)"
    return text


def _shape(side: LayerSide | None) -> str:
    return shape_text(side.output_shape) if side else ""


def _pair(old: str, new: str) -> str:
    """'a → b', or one value when both sides agree (or only one side exists)."""
    if not old or not new or old == new:
        return new or old
    return f"{old} → {new}"


def change_cells(change: LayerChange) -> tuple[str, str, str, str, str, str]:
    """name, change, kind, output, params, MACs."""
    old, new = change.old, change.new
    kind = _pair(old.description if old else "", new.description if new else "")
    params = _pair(thousands(old.params) if old else "", thousands(new.params) if new else "")
    macs = _pair(short(old.macs) if old else "", short(new.macs) if new else "")
    return change.name, change.change, kind, _pair(_shape(old), _shape(new)), params, macs


def _counts(diff: Diff) -> str:
    """'3 layers changed (1 added, 1 removed, 1 changed), 48 alike'."""
    kinds = [sum(1 for c in diff.layers if c.change == kind) for kind in (ADDED, REMOVED, CHANGED)]
    text = f"{len(diff.layers)} layer{'s' if len(diff.layers) != 1 else ''} differ"
    if diff.layers:
        text += f" ({kinds[0]} added, {kinds[1]} removed, {kinds[2]} changed)"
    return text + f", {diff.unchanged} alike"


# -- text --------------------------------------------------------------------------------------------------

def text_blocks(diff: Diff) -> list:
    """The two sources, the totals with their deltas, the count of layers that differ, and those layers: as
    blocks of the one table layout (render/layout.py), every text from a spec made printable."""
    from .layout import LABEL, NOTE, NUMBER, Column, Para, Row, Table

    totals = Table((Column("total", "", LABEL, 100, right=False), Column("old", "old", NUMBER, 80),
                    Column("new", "new", NUMBER, 90), Column("change", "change", NUMBER, 95)),  # the change is kept longest
                   [Row((row.label, _value(row.old, row.is_bytes), _value(row.new, row.is_bytes), _delta(row)))
                    for row in diff.totals])
    blocks = [Para(printable(f"{diff.old_source} → {diff.new_source}")), Para(""), totals, Para(""),
              Para(_counts(diff))]
    if diff.layers:
        columns = (Column("layer", "layer", LABEL, 100, right=False), Column("change", "change", NUMBER, 90, right=False),
                   Column("kind", "kind", NOTE, 50, right=False), Column("output", "output", NUMBER, 80, right=False),
                   Column("params", "params", NUMBER, 70, right=False), Column("macs", "MACs", NUMBER, 60, right=False))
        blocks += [Para(""), Table(columns, [Row([printable(cell) for cell in change_cells(c)]) for c in diff.layers])]
    return blocks


DIFF_KEYS = ["total", "old", "new", "change", "layer", "kind", "output", "params", "macs"]


def render_text(diff: Diff) -> str:
    """The text form without a width limit (what a pipe gets)."""
    from .layout import plain_text, render_blocks

    return plain_text(render_blocks(text_blocks(diff)))


# -- Markdown ----------------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = {"\\": "\\\\", "|": "\\|", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]",
                     "<": "&lt;", ">": "&gt;", "&": "&amp;", "#": "\\#", "~": "\\~", "!": "\\!"}


def markdown_text(text: str) -> str:
    """Text from a spec (names, paths) as literal GitHub-flavoured Markdown in a table cell: Markdown's punctuation
    backslash-escaped, HTML's characters as entities, line breaks as spaces, control characters escaped."""
    text = printable(text.replace("\r", " ").replace("\n", " "))
    return "".join(_MARKDOWN_SPECIAL.get(c, c) for c in text)


def render_markdown(diff: Diff) -> str:
    same = diff.old_source == diff.new_source
    title = markdown_text(diff.new_source if same else f"{diff.old_source} → {diff.new_source}")
    lines = [f"### cnncalc diff: {title}", "", "| | old | new | change |", "|---|---:|---:|---:|"]
    lines += [f"| {markdown_text(row.label)} | {_value(row.old, row.is_bytes)} | {_value(row.new, row.is_bytes)} | "
              f"{_delta(row)} |" for row in diff.totals]
    lines += ["", markdown_text(_counts(diff)) + "."]
    if diff.layers:
        lines += ["", f"<details><summary>{len(diff.layers)} layer{'s' if len(diff.layers) != 1 else ''} "
                      "added, removed or changed</summary>", "",
                  "| layer | change | kind | output | params | MACs |", "|---|---|---|---|---:|---:|"]
        lines += ["| " + " | ".join(markdown_text(cell) for cell in change_cells(c)) + " |" for c in diff.layers]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# -- JSON --------------------------------------------------------------------------------------------------

def _json_number(value: Any) -> Any:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _side_dict(side: LayerSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"kind": side.kind, "description": side.description, "output": list(side.output_shape),
            "params": side.params, "macs": side.macs}


def diff_dict(diff: Diff) -> dict[str, Any]:
    return {
        "old": {"source": diff.old_source, "name": diff.old_name},
        "new": {"source": diff.new_source, "name": diff.new_name},
        "memory": diff.memory._asdict(),
        "totals": [{"key": row.key, "label": row.label, "old": _json_number(row.old), "new": _json_number(row.new),
                    "delta": _json_number(row.delta), "ratio": float(row.ratio) if row.ratio is not None else None,
                    "unit": "bytes" if row.is_bytes else "pixels" if row.key == "rf" else "count"}
                   for row in diff.totals],
        "layers": [{"name": c.name, "change": c.change, "old": _side_dict(c.old), "new": _side_dict(c.new)}
                   for c in diff.layers],
        "unchanged_layers": diff.unchanged,
        "changed": diff.changed,
    }


def render_json(diff: Diff) -> str:
    return json.dumps(diff_dict(diff), indent=2) + "\n"
