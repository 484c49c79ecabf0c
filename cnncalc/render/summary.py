"""The lines under a table: totals, bytes, MACs and where they go. Shared by table and Markdown."""

from __future__ import annotations

from ..report import Report
from .safe import visible
from .numbers import byte_size, shape_text, short, thousands

_NAMES = {"conv": "conv", "fc": "fc", "pool": "pooling", "norm": "normalisation", "activation": "activation"}


def title(report: Report) -> str:
    return (f"{visible(report.name)}: input {shape_text(report.input_shape)}, {report.dtype} "
            f"({report.dtype_bytes} byte{'s' if report.dtype_bytes != 1 else ''} per value), batch {report.batch}")


KEPT_SENTENCE = ("what backward keeps, not every layer's output (a conv keeps its input, a softmax its own output "
                 "and not the fc output before it; max-pool indices and dropout masks add theirs)")


def kept_text(kept) -> str:
    """'15,237,608 values at 4 B + 1,530,368 indices at 8 B + 8,192 mask at 1 B', the batch-wide part marked."""
    parts = [f"{thousands(g.values)} {'values' if g.what == 'activations' else g.what} at {g.bytes_per_value} B"
             + ("" if g.per_sample else " per batch") for g in kept]
    return " + ".join(parts) or "nothing"


def total_lines(report: Report, si: bool = False) -> list[str]:
    t = report.totals
    lines = [
        f"Params: {thousands(t.params)} (weights {thousands(t.weights)} + biases {thousands(t.biases)}) "
        f"= {byte_size(t.param_bytes, si)} at {report.dtype}; trainable {thousands(t.trainable)}, "
        f"non-trainable {thousands(t.non_trainable)} (running statistics, not in params)",
        f"Activations: {thousands(t.activations)} values per sample (the input plus every layer that makes a new "
        f"tensor) = {byte_size(t.activation_bytes, si)} forward; the lecture's rule of thumb for training (×2): "
        f"{byte_size(t.rule_of_thumb_bytes, si)}",
        f"Kept for backward: {kept_text(t.kept)} = {byte_size(t.training_activation_bytes, si)} per sample, as "
        f"`memory` counts it: {KEPT_SENTENCE}",
    ]
    scratch = t.inference_peak_bytes - t.inference_peak * report.dtype_bytes
    lines.append(f"Inference peak: {thousands(t.inference_peak)} values"
                 + (f" + {byte_size(scratch, si)} of {t.inference_peak_scratch}" if scratch else "")
                 + f" = {byte_size(t.inference_peak_bytes, si)} per "
                 f"sample while '{t.inference_peak_layer}' runs, each tensor freed after its last use in spec order "
                 f"(training keeps more: the line above)")
    if report.batch != 1:
        lines.append(f"At batch {report.batch}: {byte_size(t.batch_activation_bytes, si)} forward, "
                     f"{byte_size(t.batch_training_activation_bytes, si)} kept for backward; "
                     f"{thousands(t.batch_macs)} MACs")
    lines.append(f"MACs: {thousands(t.macs)} ({short(t.macs)}) multiply-accumulates per sample")
    where = where_line(report)
    if where:
        lines.append(where)
    return lines


def where_line(report: Report) -> str:
    parts = []
    for field, what in (("params", "params"), ("activations", "activation memory"), ("macs", "MACs")):
        best = max(report.shares, key=lambda s: getattr(s, f"{field}_percent"), default=None)
        if best is None or getattr(best, field) == 0:
            continue
        name = _NAMES.get(best.category, best.category)
        parts.append(f"{name} layers hold {getattr(best, f'{field}_percent'):.1f}% of the {what}")
    return ("Where: " + "; ".join(parts) + ".") if parts else ""


def note_lines(report: Report) -> list[str]:
    return [f"{layer.name}: {note}" for layer in report.layers for note in layer.notes]


def warning_lines(report: Report) -> list[str]:
    return [str(w) for w in report.warnings]
