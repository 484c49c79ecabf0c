"""What a change did to a network: two reports' totals side by side with their deltas, and the layers that were
added, removed or changed, matched by name. Pure: no I/O, no printing; the renderers write it.

Totals: params, MACs per sample, activation memory per sample (every layer's output, forward), memory at a
batch (training with an optimizer, as `cnncalc memory` computes it), and the receptive field of the last
layer with spatial dims (as `compare` and the rf budget read it).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, NamedTuple

from .budget import MemorySetting, memory_figure, receptive_layer
from .report import LayerResult, Report

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


class TotalRow(NamedTuple):
    """One total, before and after; None where a side has no such figure (a dtype that cannot train)."""

    key: str  # params, macs, activations, memory, rf
    label: str
    old: Any  # int, or a Fraction for a receptive field after upsampling, or None
    new: Any
    is_bytes: bool = False

    @property
    def delta(self):
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def ratio(self) -> Fraction | None:
        """(new − old) / old; None when old is 0 or missing."""
        return None if self.delta is None or not self.old else Fraction(self.delta) / Fraction(self.old)


class LayerSide(NamedTuple):
    """What a layer is on one side: its kind, description, output shape, params and MACs."""

    kind: str
    description: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


class LayerChange(NamedTuple):
    """A layer added (old None), removed (new None) or changed (kind, output shape or params differ)."""

    name: str
    change: str
    old: LayerSide | None
    new: LayerSide | None


class Diff(NamedTuple):
    old_source: str
    new_source: str
    old_name: str
    new_name: str
    memory: MemorySetting
    totals: tuple[TotalRow, ...]
    layers: tuple[LayerChange, ...]  # in the new network's order, each removed layer after its old predecessor
    unchanged: int  # layers present in both and alike

    @property
    def changed(self) -> bool:
        return bool(self.layers) or any(row.delta for row in self.totals)


def _side(layer: LayerResult) -> LayerSide:
    return LayerSide(layer.kind, layer.description, layer.output_shape, layer.param_count, layer.macs)


def _memory(report: Report, setting: MemorySetting) -> int | None:
    try:
        return memory_figure(report, setting)[1].total
    except ValueError:  # a dtype that cannot train: no training memory
        return None


def _rf(report: Report):
    layer = receptive_layer(report)
    return min(layer.receptive_field.size) if layer is not None else None


def totals(old: Report, new: Report, setting: MemorySetting) -> tuple[TotalRow, ...]:
    return (
        TotalRow("params", "params", old.totals.params, new.totals.params),
        TotalRow("macs", "MACs per sample", old.totals.macs, new.totals.macs),
        TotalRow("activations", "activations per sample", old.totals.activation_bytes, new.totals.activation_bytes,
                 True),
        TotalRow("memory", setting.describe(), _memory(old, setting), _memory(new, setting), True),
        TotalRow("rf", "receptive field", _rf(old), _rf(new)),
    )


def layer_changes(old: Report, new: Report) -> tuple[tuple[LayerChange, ...], int]:
    """The layers added, removed or changed, matched by name, and how many are alike."""
    old_layers = {layer.name: layer for layer in old.layers}
    new_names = {layer.name for layer in new.layers}
    removed_after: dict[str, list[LayerChange]] = {}  # a new layer's name (or '' for the start) → removed ones
    previous = ""
    for layer in old.layers:
        if layer.name in new_names:
            previous = layer.name
        else:
            removed_after.setdefault(previous, []).append(LayerChange(layer.name, REMOVED, _side(layer), None))
    changes = list(removed_after.get("", ()))
    alike = 0
    for layer in new.layers:
        before = old_layers.get(layer.name)
        if before is None:
            changes.append(LayerChange(layer.name, ADDED, None, _side(layer)))
        else:
            was, now = _side(before), _side(layer)
            if (was.kind, was.output_shape, was.params) != (now.kind, now.output_shape, now.params):
                changes.append(LayerChange(layer.name, CHANGED, was, now))
            else:
                alike += 1
            changes.extend(removed_after.get(layer.name, ()))
    return tuple(changes), alike


def diff_reports(old_source: str, old: Report, new_source: str, new: Report,
                 setting: MemorySetting = MemorySetting()) -> Diff:
    """OLD → NEW: totals with deltas and the layers that changed."""
    changes, alike = layer_changes(old, new)
    return Diff(old_source, new_source, old.name, new.name, setting, totals(old, new, setting), changes, alike)
