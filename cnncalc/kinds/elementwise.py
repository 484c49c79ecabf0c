"""Element-wise layers: activations and dropout. Shape unchanged, no parameters, no MACs."""

from __future__ import annotations

from typing import Any, Mapping

from .base import NUMBER, PROBABILITY, Computed, LayerContext, LayerKind, Param


class Elementwise(LayerKind):
    category = "activation"
    shape_rule = "output = input"

    def describe(self, params: Mapping[str, Any]) -> str:
        return self.name

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        return Computed(output_shape=input_shape, description=self.describe(params))


class ReLU(Elementwise):
    name = "relu"
    auto_prefix = "relu"
    in_place = True
    summary = "max(0, x), in place."


class LeakyReLU(Elementwise):
    name = "leakyrelu"
    auto_prefix = "relu"
    in_place = True
    main_param = "negative_slope"
    params = (Param("negative_slope", NUMBER, 0.01, "slope for x < 0"),)
    summary = "x for x ≥ 0, slope·x otherwise, in place."

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"leakyrelu {params['negative_slope']:g}"


class Sigmoid(Elementwise):
    name = "sigmoid"
    auto_prefix = "sigmoid"
    summary = "1/(1 + e^−x); a new tensor."


class Tanh(Elementwise):
    name = "tanh"
    auto_prefix = "tanh"
    summary = "tanh(x); a new tensor."


class GELU(Elementwise):
    name = "gelu"
    auto_prefix = "gelu"
    summary = "x·Φ(x); a new tensor."


class Softmax(Elementwise):
    name = "softmax"
    auto_prefix = "softmax"
    summary = "Softmax over the channels; a new tensor."


class Dropout(Elementwise):
    name = "dropout"
    category = "regularization"
    auto_prefix = "dropout"
    in_place = True
    main_param = "p"
    params = (Param("p", PROBABILITY, 0.5, "probability of zeroing a value during training"),)
    summary = "Zeroes values with probability p while training; identity at inference; in place."

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"dropout {params['p']:g}"


KINDS = (ReLU(), LeakyReLU(), Sigmoid(), Tanh(), GELU(), Softmax(), Dropout())
