"""Merges of several inputs: `add` (element-wise) and `concat` (along channels)."""

from __future__ import annotations

from typing import Any, Mapping

from .base import Computed, LayerContext, LayerFailure, LayerKind


def _shape(shape: tuple[int, ...]) -> str:
    """H×W×C as the table writes it."""
    return "×".join(str(v) for v in (shape[1:] + shape[:1] if len(shape) > 1 else shape))


class Merge(LayerKind):
    category = "merge"
    max_inputs = 1_000_000
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        raise LayerFailure(f"{self.name} merges two or more inputs; give them with 'from: [a, b]'")


class Add(Merge):
    grad_flow = "same"
    name = "add"
    auto_prefix = "add"
    summary = "Element-wise sum of two or more inputs of exactly the same shape (residual connections)."
    shape_rule = "output = the common input shape; every input must have it"
    mac_rule = "0 (the additions are not multiply-accumulates)"
    saved_rule = "nothing (the gradient passes to every input unchanged)"

    def compute_merge(self, params, inputs, ctx):
        first_name, first = inputs[0]
        for name, shape in inputs[1:]:
            if shape != first:
                raise LayerFailure(
                    f"inputs must have the same shape, but '{first_name}' gives {_shape(first)} and "
                    f"'{name}' gives {_shape(shape)}; match them (e.g. a 1×1 conv with stride on the shortcut)"
                )
        return Computed(output_shape=first, description=f"add {len(inputs)}")


class Concat(Merge):
    grad_flow = "view"
    name = "concat"
    auto_prefix = "concat"
    summary = "Concatenation of two or more inputs along the channels; spatial sizes must match."
    shape_rule = "channels = sum of the inputs' channels; spatial sizes must all be equal"
    saved_rule = "nothing (the gradient is split by the inputs' channel counts)"

    def compute_merge(self, params, inputs, ctx):
        first_name, first = inputs[0]
        for name, shape in inputs[1:]:
            if shape[1:] != first[1:] or len(shape) != len(first):
                raise LayerFailure(
                    f"inputs must have the same spatial size, but '{first_name}' gives {_shape(first)} and "
                    f"'{name}' gives {_shape(shape)}"
                )
        channels = sum(shape[0] for _, shape in inputs)
        return Computed(output_shape=(channels,) + first[1:],
                        description="concat " + " + ".join(str(shape[0]) for _, shape in inputs))


KINDS = (Add(), Concat())
