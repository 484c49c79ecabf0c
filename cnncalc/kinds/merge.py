"""Merges of several inputs: `add` and `mul` (element-wise, with broadcasting) and `concat` (along channels)."""

from __future__ import annotations

from typing import Any, Mapping

from .base import INPUT, Computed, LayerContext, LayerFailure, LayerKind, Saved, Tokens, is_tokens, prod_int


def _shape(shape: tuple[int, ...]) -> str:
    """H×W×C as the table writes it."""
    return "×".join(str(v) for v in (shape[1:] + shape[:1] if len(shape) > 1 else shape))


class Merge(LayerKind):
    category = "merge"
    max_inputs = 1_000_000
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        raise LayerFailure(f"{self.name} merges two or more inputs; give them with 'from: [a, b]'")


def broadcast(inputs: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple[int, ...]:
    """The common shape of inputs that broadcast as PyTorch broadcasts them (same number of dims; per dim the
    sizes are equal or one of them is 1: a C×1×1 gate against C×H×W); otherwise a failure showing both shapes."""
    first_name, first = inputs[0]
    out = list(first)
    for name, shape in inputs[1:]:
        if len(shape) != len(first) or is_tokens(shape) != is_tokens(first) or any(
                a != b and 1 not in (a, b) for a, b in zip(shape, out)):
            raise LayerFailure(
                f"inputs do not broadcast: '{first_name}' gives {_shape(first)} and '{name}' gives {_shape(shape)}; "
                "each size must be equal, or 1 in one of them (a C×1×1 gate against C×H×W), with the same number "
                "of dims; match them (e.g. a 1×1 conv with stride on the shortcut)"
            )
        out = [max(a, b) for a, b in zip(out, shape)]
    result = tuple(out)
    tokens = [shape for _, shape in inputs if is_tokens(shape)]
    if tokens:
        return Tokens(result, tokens[0].grid, any(t.mixed for t in tokens))
    return result


def _broadcast_note(inputs: tuple[tuple[str, tuple[int, ...]], ...], out: tuple[int, ...]) -> tuple[str, ...]:
    spread = [f"'{name}' {_shape(shape)}" for name, shape in inputs if tuple(shape) != tuple(out)]
    return (f"broadcast to {_shape(out)}: " + ", ".join(spread),) if spread else ()


class Broadcasting(Merge):
    """A merge value by value (add, mul): the inputs broadcast to their common shape."""

    shape_rule = "output = the inputs' common shape: per dim the sizes are equal, or 1 in all inputs but one"

    def compute_merge(self, params, inputs, ctx):
        out = broadcast(inputs)
        return Computed(output_shape=out, description=f"{self.name} {len(inputs)}", notes=_broadcast_note(inputs, out))


class Add(Broadcasting):
    grad_flow = "same"
    name = "add"
    summary = "Element-wise sum of two or more inputs (residual connections); a size 1 broadcasts (C×1×1 against C×H×W)."
    mac_rule = "0 (the additions are not multiply-accumulates)"
    saved_rule = "nothing (the gradient passes to every input unchanged, summed over broadcast dims)"


class Mul(Broadcasting):
    name = "mul"
    summary = ("Element-wise product of two or more inputs; a size 1 broadcasts: a C×1×1 gate scales each channel "
               "of C×H×W (squeeze-and-excitation).")
    mac_rule = ("0 (element-wise products of activations are not counted, as torchvision's figures do not count "
                "them: C·H·W products per gate)")
    saved_rule = "every input (each one's gradient is the product of the others)"

    def saved_for_backward_merge(self, params, input_shapes, output_shape, value_bytes):
        return tuple(Saved(INPUT, prod_int(shape), value_bytes, input_index=i) for i, shape in enumerate(input_shapes))


class Concat(Merge):
    grad_flow = "view"
    name = "concat"
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
        out = (channels,) + first[1:]
        return Computed(output_shape=first.like(out) if is_tokens(first) else out,
                        description="concat " + " + ".join(str(shape[0]) for _, shape in inputs))


KINDS = (Add(), Mul(), Concat())
