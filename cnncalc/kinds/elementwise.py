"""Element-wise layers: activations and dropout. Shape unchanged, no MACs; only prelu learns parameters."""

from __future__ import annotations

from typing import Any, Mapping

from .base import CHOICE, INPUT, NUMBER, OUTPUT, PROBABILITY, Computed, LayerContext, LayerKind, Param, Saved, prod_int


class Elementwise(LayerKind):
    category = "activation"
    shape_rule = "output = input"
    saves = INPUT  # which of its tensors the backward pass needs: INPUT or OUTPUT

    def describe(self, params: Mapping[str, Any]) -> str:
        return self.name

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        return Computed(output_shape=input_shape, description=self.describe(params))

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        return (Saved(self.saves, prod_int(output_shape), value_bytes),)


class ReLU(Elementwise):
    name = "relu"
    in_place = True
    saves = OUTPUT
    summary = "max(0, x), in place."
    saved_rule = "its output (in place: the memory of its input)"


class LeakyReLU(ReLU):
    name = "leakyrelu"
    auto_prefix = "relu"
    main_param = "negative_slope"
    params = (Param("negative_slope", NUMBER, 0.01, "slope for x < 0"),)
    summary = "x for x ≥ 0, slope·x otherwise, in place."

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"leakyrelu {params['negative_slope']:g}"


class Dropout(Elementwise):
    name = "dropout"
    category = "regularization"
    in_place = True
    main_param = "p"
    params = (Param("p", PROBABILITY, 0.5, "probability of zeroing a value during training"),)
    summary = "Zeroes values with probability p while training; identity at inference; in place."
    saved_rule = ("its mask, 1 byte per value (bool, as PyTorch's fused GPU kernel keeps it; "
                  "the CPU path keeps a mask in the activation dtype); nothing when p = 0")

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"dropout {params['p']:g}"

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        if params["p"] == 0:
            return ()
        return (Saved("mask", prod_int(output_shape), 1),)


class InPlaceCopy(Elementwise):
    """An activation PyTorch runs in place (inplace=True, as torchvision builds its networks) whose
    backward needs the original input: autograd keeps a copy of the input before overwriting it."""

    in_place = True
    saved_rule = "a copy of its input (in place, autograd copies the input before overwriting it)"

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        return (Saved("input copy", prod_int(input_shape), value_bytes),)


class PReLU(Elementwise):
    name = "prelu"
    category = "activation"
    main_param = "slopes"
    params = (Param("slopes", CHOICE, "channel", "a learnt slope for x < 0 per channel, or one for every channel",
                    choices=("channel", "one")),)
    summary = "x for x ≥ 0, a learnt slope·x otherwise; a new tensor."
    param_rule = "weights = C (slopes: channel) or 1 (slopes: one)"
    saved_rule = "its input (the slopes are parameters)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        slopes = input_shape[0] if params["slopes"] == "channel" else 1
        return Computed(output_shape=input_shape, description="prelu" + (", one slope" if slopes == 1 else ""),
                        weight_count=slopes, fan_out=slopes)


KINDS = (ReLU(), LeakyReLU(),
         Elementwise(name="sigmoid", saves=OUTPUT, summary="1/(1 + e^−x); a new tensor.",
                     saved_rule="its output (σ' = σ·(1 − σ))"),
         Elementwise(name="tanh", saves=OUTPUT, summary="tanh(x); a new tensor.", saved_rule="its output (tanh' = 1 − tanh²)"),
         Elementwise(name="gelu", summary="x·Φ(x); a new tensor.", saved_rule="its input"),
         Elementwise(name="softmax", saves=OUTPUT, summary="Softmax over the channels; a new tensor.",
                     saved_rule="its output"),
         Dropout(),
         InPlaceCopy(name="relu6", auto_prefix="relu", summary="min(max(0, x), 6), in place (MobileNetV2)."),
         InPlaceCopy(name="hardswish", auto_prefix="hswish", summary="x·min(max(x + 3, 0), 6)/6, in place (MobileNetV3)."),
         InPlaceCopy(name="hardsigmoid", auto_prefix="hsigmoid",
                     summary="min(max(x + 3, 0), 6)/6, in place (MobileNetV3's squeeze-and-excitation gate)."),
         InPlaceCopy(name="silu", summary="x·σ(x), also called swish, in place (EfficientNet)."),
         InPlaceCopy(name="mish", summary="x·tanh(ln(1 + eˣ)), in place."),
         PReLU())
