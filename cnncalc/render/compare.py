"""`cnncalc compare` as text: one column per stack or spec, as a rich table, Markdown or JSON.

Rows are built once (label, one cell per column) and laid out by the table and Markdown renderers alike.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Sequence, TextIO

from ..compare import (
    Count,
    ExpressionError,
    Polynomial,
    SpecComparison,
    SpecSummary,
    StackComparison,
    StackResult,
    StackSettings,
    Verdict,
)
from .json_ import receptive_field_dict, share_dict, totals_dict
from .numbers import byte_size, receptive_field_text, shape_text, short, thousands
from .safe import csv_text, json_text, markdown_text, visible

Rows = list[tuple[str, list[str]]]


# -- numbers and formulas ---------------------------------------------------------------------------------


def polynomial_text(p: Polynomial, symbol: str = "C") -> str:
    """27C², 27C² + 3C, 64C + 53,248; a coefficient of 1 is not written (C²)."""
    terms = []
    for coefficient, power in ((p.c2, f"{symbol}²"), (p.c1, symbol), (p.c0, "")):
        if coefficient == 0:
            continue
        magnitude = thousands(abs(coefficient)) if abs(coefficient) != 1 or not power else ""
        sign = "−" if coefficient < 0 else "+"
        terms.append((sign, f"{magnitude}{power}"))
    if not terms:
        return "0"
    text = ("−" if terms[0][0] == "−" else "") + terms[0][1]
    return text + "".join(f" {sign} {term}" for sign, term in terms[1:])


def count_text(count: Count) -> str:
    """'27C²' without a channel count; '27C² = 110,592' with one; a constant as its number."""
    formula = count.formula
    if count.value is None:
        return polynomial_text(formula)
    if formula.c2 == formula.c1 == 0:
        return thousands(count.value)
    return f"{polynomial_text(formula)} = {thousands(count.value)}"


def ratio_text(ratio: Fraction | None) -> str:
    """1.00×, 0.960×, 1.81×, 12.3×, 123×: three significant digits (whole numbers from 100)."""
    if ratio is None:
        return "-"
    value = float(ratio)
    return f"{value:,.0f}×" if value >= 99.95 else f"{value:#.3g}×"


def percent_text(ratio: Fraction) -> str:
    """55% (whole percent from 10% up), 8.5%, 0.042% (two significant digits below)."""
    value = float(ratio) * 100
    return f"{value:,.0f}%" if value >= 10 else f"{value:.2g}%"


def _dims(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def _field_text(size: tuple[int, ...], jump: tuple[int, ...]) -> str:
    """'7×7', or '11×11 /2' when the jump (effective stride) is not 1."""
    text = _dims(size)
    return text if set(jump) == {1} else f"{text} /{_dims(jump) if len(set(jump)) > 1 else jump[0]}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- stacks -----------------------------------------------------------------------------------------------


def layers_text(result: StackResult) -> str:
    """'3 × 3×3', '1×1@64, 3×3, 1×1@256': runs of identical layers grouped."""
    groups: list[list[Any]] = []
    for layer in result.stack.layers:
        key = (layer.kernel, layer.channels)
        if groups and groups[-1][0] == key:
            groups[-1][1] += 1
        else:
            groups.append([key, 1])
    parts = []
    for (kernel, channels), n in groups:
        text = _dims(kernel) + (f"@{channels}" if channels else "")
        parts.append(f"{n} × {text}" if n > 1 else text)
    return ", ".join(parts)


def channels_text(result: StackResult) -> str:
    """'256 → 64 → 64 → 256' (with --channels)."""
    if not result.layers or result.layers[0].in_channels is None:
        return "C"
    return " → ".join(str(c) for c in [result.layers[0].in_channels] + [layer.out_channels for layer in result.layers])


def settings_text(settings: StackSettings) -> str:
    channels = f"C = {settings.channels} channels in" if settings.channels else "C channels in (symbolic)"
    parts = [channels, f"stride {settings.stride} (first layer)", f"dilation {settings.dilation}",
             "biases" if settings.bias else "no biases"]
    if settings.input_size is not None:
        parts.append(f"input {settings.input_size}×{settings.input_size}, {settings.padding} padding")
    return "Layer stacks: " + ", ".join(parts)


def _nonlinearities(n: int) -> str:
    return f"{n} non-linearit{'y' if n == 1 else 'ies'}"


def verdict_text(v: Verdict) -> str:
    """'3x3x3 vs 7x7: same 7×7 receptive field with 55% of the params and 3 non-linearities instead of 1'."""
    mine, theirs = v.subject, v.baseline
    if v.receptive_field == "same":
        field = f"same {_dims(mine.receptive_field)} receptive field"
    else:
        field = (f"a {v.receptive_field} receptive field "
                 f"({_dims(mine.receptive_field)} instead of {_dims(theirs.receptive_field)})")
    share = "the same params" if v.params_ratio == 1 else f"{percent_text(v.params_ratio)} of the params"
    if v.asymptotic:
        share += " for large C"
    if mine.nonlinearities == theirs.nonlinearities:
        nonlinear = f"the same {_nonlinearities(mine.nonlinearities)}"
    else:
        nonlinear = f"{_nonlinearities(mine.nonlinearities)} instead of {theirs.nonlinearities}"
    return f"{mine.stack.text} vs {theirs.stack.text}: {field} with {share} and {nonlinear}"


def stack_rows(comparison: StackComparison) -> tuple[list[str], Rows]:
    """The column headings (one per stack) and the rows: label, one cell per stack."""
    stacks = comparison.stacks
    with_channels = comparison.settings.channels is not None

    def cell(result: StackResult, key: str) -> str:
        text = count_text(getattr(result, key))
        return text if result is stacks[0] else f"{text} ({ratio_text(result.ratios[key])})"

    rows: Rows = [("layers", [layers_text(r) for r in stacks])]
    if with_channels:
        rows.append(("channels", [channels_text(r) for r in stacks]))
    rows += [
        ("params", [cell(r, "params") for r in stacks]),
        ("receptive field", [_field_text(r.receptive_field, r.jump) for r in stacks]),
        ("MACs per output position", [cell(r, "macs_per_position") for r in stacks]),
        ("non-linearities", [str(r.nonlinearities) for r in stacks]),
    ]
    if comparison.settings.input_size is not None:
        rows += [
            ("output", [_dims(r.output_size or ()) + "×" + (str(r.layers[-1].out_channels) if with_channels else "C")
                        for r in stacks]),
            ("MACs", [cell(r, "macs") for r in stacks]),
            ("activations written", [cell(r, "activations") for r in stacks]),
        ]
    return [r.stack.text for r in stacks], rows


def stack_footer(comparison: StackComparison) -> list[str]:
    lines = [verdict_text(v) for v in comparison.verdicts]
    lines += [f"note: {note}" for r in comparison.stacks for note in r.notes]
    return lines


STACK_LEGEND = (
    "C: the channels into each stack; a layer without @ keeps its input's channels. A non-linearity follows every conv.",
    "Params: Kh·Kw·C_in·C_out per conv (+ C_out with --bias). MACs per output position: every layer at the output's "
    "resolution.",
    "(×): against the first column; without --channels, the ratio of the leading terms in C.",
)


def stack_dict(result: StackResult) -> dict[str, Any]:
    def optional(count: Count | None) -> tuple[int | None, str | None]:
        return (count.value, polynomial_text(count.formula)) if count else (None, None)

    macs, macs_formula = optional(result.macs)
    activations, activations_formula = optional(result.activations)
    p = result.params.formula
    return {
        "expression": result.stack.text,
        "layers": [
            {
                "kernel": list(layer.kernel),
                "channels": layer.channels,
                "in_channels": layer.in_channels,
                "out_channels": layer.out_channels,
                "params": layer.params.value,
                "params_formula": polynomial_text(layer.params.formula),
            }
            for layer in result.layers
        ],
        "depth": result.depth,
        "params": result.params.value,
        "params_formula": polynomial_text(p),
        "params_coefficients": [p.c2, p.c1, p.c0],
        "weights": result.weights.value,
        "weights_formula": polynomial_text(result.weights.formula),
        "biases": result.biases.value,
        "biases_formula": polynomial_text(result.biases.formula),
        "receptive_field": list(result.receptive_field),
        "jump": list(result.jump),
        "macs_per_position": result.macs_per_position.value,
        "macs_per_position_formula": polynomial_text(result.macs_per_position.formula),
        "nonlinearities": result.nonlinearities,
        "output": list(result.output_size) if result.output_size is not None else None,
        "macs": macs,
        "macs_formula": macs_formula,
        "activations": activations,
        "activations_formula": activations_formula,
        "notes": list(result.notes),
    }


def render_stacks_json(comparison: StackComparison) -> str:
    s = comparison.settings
    document = {
        "settings": {"channels": s.channels, "stride": s.stride, "dilation": s.dilation, "bias": s.bias,
                     "input": s.input_size, "padding": s.padding},
        "stacks": [stack_dict(r) for r in comparison.stacks],
        "verdicts": [
            {"stack": v.subject.stack.text, "against": v.baseline.stack.text,
             "params_ratio": float(v.params_ratio), "params_ratio_asymptotic": v.asymptotic,
             "receptive_field": v.receptive_field, "text": verdict_text(v)}
            for v in comparison.verdicts
        ],
    }
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


# -- specs ------------------------------------------------------------------------------------------------


def _share(summary: SpecSummary, category: str, field: str) -> float:
    for share in summary.report.shares:
        if share.category == category:
            return getattr(share, f"{field}_percent")
    return 0.0


def spec_rows(comparison: SpecComparison, si: bool = False, exact: bool = False) -> tuple[list[str], Rows]:
    specs = comparison.specs

    def ratio(summary: SpecSummary, key: str, before: str = "") -> str:
        if summary is specs[0]:
            return f" ({before})" if before else ""
        return f" ({before}; {ratio_text(summary.ratios[key])})" if before else f" ({ratio_text(summary.ratios[key])})"

    def field(summary: SpecSummary) -> str:
        layer = summary.field_layer
        if layer is None:
            return "-"
        return f"{receptive_field_text(layer.receptive_field)} ({layer.name})"

    def shares(summary: SpecSummary, what: str) -> str:
        return f"{_share(summary, 'conv', what):.1f}% / {_share(summary, 'fc', what):.1f}%"

    rows: Rows = [
        ("path", [s.path for s in specs]),
        ("input", [shape_text(s.report.input_shape) for s in specs]),
        ("params", [thousands(s.report.totals.params) + ratio(s, "params") for s in specs]),
        ("weights + biases", [f"{thousands(s.report.totals.weights)} + {thousands(s.report.totals.biases)}"
                              for s in specs]),
        ("param memory", [f"{byte_size(s.report.totals.param_bytes, si)} ({s.report.dtype})" for s in specs]),
        ("activations", [f"{thousands(s.report.totals.activations)}{ratio(s, 'activations')}" for s in specs]),
        ("activation memory", [f"{byte_size(s.report.totals.activation_bytes, si)} forward, "
                               f"{byte_size(s.report.totals.training_activation_bytes, si)} kept for backward"
                               for s in specs]),
        ("MACs", [thousands(s.report.totals.macs) + ratio(s, "macs", "" if exact else short(s.report.totals.macs))
                  for s in specs]),
        ("receptive field", [field(s) for s in specs]),
        ("depth (weight layers)", [f"{s.depth}{ratio(s, 'depth')}" for s in specs]),
        ("params in conv / fc", [shares(s, "params") for s in specs]),
        ("activations in conv / fc", [shares(s, "activations") for s in specs]),
        ("MACs in conv / fc", [shares(s, "macs") for s in specs]),
    ]
    return [visible(s.report.name) for s in specs], rows


SPEC_LEGEND = (
    "Activations: values per sample, the input plus every layer that makes a new tensor.",
    "Receptive field: size /jump of the last layer with spatial dims (global pools excluded).",
    "Depth: the most conv and fc layers on a path from input to output. (×): against the first column.",
)


def spec_dict(summary: SpecSummary) -> dict[str, Any]:
    report, layer = summary.report, summary.field_layer
    return {
        "name": report.name,
        "path": summary.path,
        "input": list(report.input_shape),
        "dtype": report.dtype,
        "totals": totals_dict(report.totals),
        "ratios": {key: None if value is None else float(value) for key, value in summary.ratios.items()},
        "receptive_field": None if layer is None else dict(layer=layer.name,
                                                           **receptive_field_dict(layer.receptive_field)),
        "depth": summary.depth,
        "shares": [
            dict(share_dict(s), params_percent=s.params_percent, activations_percent=s.activations_percent,
                 macs_percent=s.macs_percent)
            for s in report.shares
        ],
    }


def render_specs_json(comparison: SpecComparison) -> str:
    return json_text(json.dumps({"specs": [spec_dict(s) for s in comparison.specs]}, indent=2, ensure_ascii=False)) + "\n"


def _flat(prefix: str, value: Any, row: dict[str, Any]) -> None:
    """A JSON value as CSV cells: nested keys joined with '.', a list of numbers as 3x224x224, other
    lists counted (their items are in the JSON)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _flat(f"{prefix}.{key}" if prefix else key, item, row)
    elif isinstance(value, list):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            row[prefix] = "x".join(str(v) for v in value)
        else:
            row[f"{prefix}.count"] = len(value)
    else:
        row[prefix] = "" if value is None else str(value).lower() if isinstance(value, bool) else value


def _csv(records: list[dict[str, Any]]) -> str:
    import csv
    import io

    rows = []
    for record in records:
        row: dict[str, Any] = {}
        _flat("", record, row)
        rows.append({key: csv_text(value) if isinstance(value, str) else value for key, value in row.items()})
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_specs_csv(comparison: SpecComparison) -> str:
    """One row per spec, the JSON's fields as columns (exact integers; ratios against the first spec)."""
    return _csv([spec_dict(s) for s in comparison.specs])


def render_stacks_csv(comparison: StackComparison) -> str:
    """One row per stack, the JSON's fields as columns."""
    return _csv([stack_dict(r) for r in comparison.stacks])


# -- layout -----------------------------------------------------------------------------------------------


def column_keys(headers: Sequence[str]) -> list[str]:
    """The names `--columns` takes: `label` (the row names), then each spec's or stack's heading."""
    return ["label", *headers]


def render_rows_table(title: str, headers: Sequence[str], rows: Rows, footer: Sequence[str], legend: Sequence[str],
                      options=None, out: TextIO | None = None) -> None:
    """One column per spec or stack, the first kept longest; a cell that is too wide wraps between words."""
    from .console import TableOptions, show
    from .layout import DIM, LABEL, NOTE, Block, Column, Para, Row, Table

    columns = [Column("label", "", LABEL, 1000, right=False)]
    columns += [Column(header, header, NOTE, 900 - i) for i, header in enumerate(headers)]
    blocks: list[Block] = [Table(columns, [Row([label, *cells]) for label, cells in rows], title)]
    blocks += [Para(line, DIM) for line in legend]
    blocks += [Para("")] if footer else []
    blocks += [Para(line) for line in footer]
    show(blocks, options or TableOptions(), out)


def _cell(text: str) -> str:
    """A cell, heading or line of Markdown: names from the spec escaped for GitHub (safe.markdown_text)."""
    return markdown_text(text)


def render_rows_markdown(title: str, headers: Sequence[str], rows: Rows, footer: Sequence[str],
                         legend: Sequence[str]) -> str:
    lines = [f"### {_cell(title)}", "",
             "| | " + " | ".join(_cell(h) for h in headers) + " |",
             "|---|" + "---:|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in [label] + cells) + " |" for label, cells in rows]
    lines += [""] + [_cell(line) + ("  " if i < len(legend) - 1 else "") for i, line in enumerate(legend)]
    if footer:
        lines.append("")
        lines += [f"- {_cell(line)}" for line in footer]
    return "\n".join(lines) + "\n"


SPEC_TITLE = "Specs side by side"


def expression_error_text(error: ExpressionError) -> str:
    """The message, the expression with a caret under the bad character, and a valid example."""
    return (f"cnncalc compare: error: {error.message}\n"
            f"  {error.text}\n"
            f"  {' ' * error.position}^\n"
            f"  a valid comparison: cnncalc compare {error.example}\n")
