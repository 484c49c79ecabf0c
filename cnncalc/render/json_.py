"""JSON: the documented contract, exact integers, shapes channels-first."""

from __future__ import annotations

import json
from typing import Any, Iterator

from ..report import LayerResult, ReceptiveField, Report, Share, Totals
from .safe import json_text


def _number(value: Any) -> Any:
    """Receptive-field values are ints, or Fractions after upsampling: those become floats."""
    return value if isinstance(value, int) else float(value)


def receptive_field_dict(field: ReceptiveField) -> dict[str, Any]:
    return {"size": [_number(v) for v in field.size], "jump": [_number(v) for v in field.jump],
            "start": [_number(v) for v in field.start], "bound": field.bound, "note": field.note}


def layer_dict(layer: LayerResult) -> dict[str, Any]:
    return {
        "index": layer.index,
        "name": layer.name,
        "kind": layer.kind,
        "description": layer.description,
        "inputs": list(layer.inputs),
        "block": list(layer.block),
        "output": list(layer.output_shape),
        "weights": layer.weight_count,
        "biases": layer.bias_count,
        "params": layer.param_count,
        "trainable": layer.trainable_count,
        "non_trainable": layer.non_trainable_count,
        "activations": layer.activation_count,
        "new_tensor": layer.new_tensor,
        "macs": layer.macs,
        "receptive_field": receptive_field_dict(layer.receptive_field),
        "notes": list(layer.notes),
    }


TOTALS_KEYS = ("params", "weights", "biases", "trainable", "non_trainable", "input_activations", "activations",
               "activation_bytes", "training_activation_bytes", "batch_activation_bytes",
               "batch_training_activation_bytes", "rule_of_thumb_bytes", "batch_rule_of_thumb_bytes", "param_bytes",
               "inference_peak", "inference_peak_bytes", "inference_peak_layer", "inference_peak_scratch", "macs",
               "batch_macs")


def fields_dict(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The record's fields `names`, in that order, each under its own name."""
    return {name: getattr(record, name) for name in names}


def totals_dict(t: Totals) -> dict[str, Any]:
    """The network totals, exact integers; `shapes` and `compare` both write them from here."""
    return fields_dict(t, TOTALS_KEYS)


def share_dict(share: Share) -> dict[str, Any]:
    return {"category": share.category, "params": share.params, "activations": share.activations, "macs": share.macs}


def group_dict(g: Any) -> dict[str, Any]:
    return {"name": g.name, "level": g.level, "first": g.first_index, "last": g.last_index, "layers": g.layer_count,
            "params": g.params, "non_trainable": g.non_trainable, "activations": g.activations, "macs": g.macs,
            "output": list(g.output_shape), "receptive_field": receptive_field_dict(g.receptive_field)}


def _document(report: Report, layers: Any, groups: Any) -> dict[str, Any]:
    return {
        "name": report.name,
        "source": report.source,
        "input": list(report.input_shape),
        "dtype": report.dtype,
        "dtype_bytes": report.dtype_bytes,
        "batch": report.batch,
        "floor": report.floor,
        "layers": layers,
        "totals": totals_dict(report.totals),
        "groups": groups,
        "shares": [share_dict(s) for s in report.shares],
        "warnings": [
            {"file": w.location.file, "line": w.location.line, "column": w.location.column, "message": w.message}
            for w in report.warnings
        ],
    }


def report_dict(report: Report) -> dict[str, Any]:
    return _document(report, [layer_dict(layer) for layer in report.layers], [group_dict(g) for g in report.groups])


_LAYERS, _GROUPS = "\u0000layers\u0000", "\u0000groups\u0000"  # placeholders no spec text can hold (NUL is refused)
_BATCH = 500  # list items per chunk written


def _items(values: Any, make: Any) -> Iterator[str]:
    """A top-level list's items as json.dumps(indent=2) writes them inside the document (4 spaces deep),
    _BATCH items per json.dumps call: with an indent, json encodes in Python with closures that refer to
    each other, garbage that only the cycle collector (off during a command) would free."""
    if not values:
        yield "[]"
        return
    yield "[\n"
    for start in range(0, len(values), _BATCH):
        text = json.dumps([make(v) for v in values[start:start + _BATCH]], indent=2, ensure_ascii=False)
        body = "  " + text[2:-2].replace("\n", "\n  ")  # the items without the list's brackets, 2 spaces deeper
        yield json_text(body) + (",\n" if start + _BATCH < len(values) else "\n")
    yield "  ]"


def iter_json(report: Report) -> Iterator[str]:
    """The JSON document in pieces, layer by layer: the same bytes as json.dumps(report_dict(report),
    indent=2) and a newline, without the whole document (or every layer's dict) in memory at once."""
    skeleton = json_text(json.dumps(_document(report, _LAYERS, _GROUPS), indent=2, ensure_ascii=False))
    head, rest = skeleton.split(json.dumps(_LAYERS), 1)
    middle, tail = rest.split(json.dumps(_GROUPS), 1)
    yield head
    yield from _items(report.layers, layer_dict)
    yield middle
    yield from _items(report.groups, group_dict)
    yield tail + "\n"


def render_json(report: Report) -> str:
    return "".join(iter_json(report))
