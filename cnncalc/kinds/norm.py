"""Normalisation: `batchnorm`, `lrn`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import BOOL, COUNT, NUMBER, POSITIVE_NUMBER, Computed, LayerContext, LayerKind, Param
from .conv import require_volume


class BatchNorm(LayerKind):
    name = "batchnorm"
    category = "norm"
    auto_prefix = "bn"
    summary = "Batch normalisation per channel: a scale and a shift learnt, a running mean and variance kept."
    params = (
        Param("eps", POSITIVE_NUMBER, 1e-5, "added to the variance"),
        Param("momentum", NUMBER, 0.1, "running statistics update rate"),
        Param("affine", BOOL, True, "learn a scale (weight) and a shift (bias) per channel"),
    )
    param_rule = "weights = C (scale); biases = C (shift); non-trainable = 2C (running mean and variance)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels = input_shape[0]
        affine = params["affine"]
        return Computed(
            output_shape=input_shape,
            description="batchnorm" + ("" if affine else ", no affine"),
            weight_count=channels if affine else 0,
            bias_count=channels if affine else 0,
            non_trainable_count=2 * channels,
            fan_out=channels if affine else 0,
        )


class LRN(LayerKind):
    name = "lrn"
    category = "norm"
    auto_prefix = "lrn"
    main_param = "size"
    summary = "Local response normalisation across neighbouring channels (AlexNet)."
    params = (
        Param("size", COUNT, 5, "number of neighbouring channels"),
        Param("alpha", NUMBER, 1e-4, "scale"),
        Param("beta", NUMBER, 0.75, "exponent"),
        Param("k", NUMBER, 2.0, "additive constant (AlexNet's 2; PyTorch's default is 1)"),
    )

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        require_volume("lrn", input_shape)  # as PyTorch's LocalResponseNorm, which refuses (N, C)
        return Computed(output_shape=input_shape, description=f"lrn {params['size']}")


KINDS = (BatchNorm(), LRN())
