"""Element-wise layers: activations and dropout. Shape unchanged, no parameters, no MACs."""

from __future__ import annotations

from typing import Any, Mapping

from .base import INPUT, NUMBER, OUTPUT, PROBABILITY, Computed, LayerContext, LayerKind, Param, Saved, prod_int


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
    auto_prefix = "relu"
    in_place = True
    saves = OUTPUT
    summary = "max(0, x), in place."
    saved_rule = "its output (in place: the memory of its input)"


class LeakyReLU(Elementwise):
    name = "leakyrelu"
    auto_prefix = "relu"
    in_place = True
    saves = OUTPUT
    main_param = "negative_slope"
    params = (Param("negative_slope", NUMBER, 0.01, "slope for x < 0"),)
    summary = "x for x ≥ 0, slope·x otherwise, in place."
    saved_rule = "its output (in place: the memory of its input)"

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"leakyrelu {params['negative_slope']:g}"


class Sigmoid(Elementwise):
    name = "sigmoid"
    auto_prefix = "sigmoid"
    saves = OUTPUT
    summary = "1/(1 + e^−x); a new tensor."
    saved_rule = "its output (σ' = σ·(1 − σ))"


class Tanh(Elementwise):
    name = "tanh"
    auto_prefix = "tanh"
    saves = OUTPUT
    summary = "tanh(x); a new tensor."
    saved_rule = "its output (tanh' = 1 − tanh²)"


class GELU(Elementwise):
    name = "gelu"
    auto_prefix = "gelu"
    summary = "x·Φ(x); a new tensor."
    saved_rule = "its input"


class Softmax(Elementwise):
    name = "softmax"
    auto_prefix = "softmax"
    saves = OUTPUT
    summary = "Softmax over the channels; a new tensor."
    saved_rule = "its output"


class Dropout(Elementwise):
    name = "dropout"
    category = "regularization"
    auto_prefix = "dropout"
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


KINDS = (ReLU(), LeakyReLU(), Sigmoid(), Tanh(), GELU(), Softmax(), Dropout())
