"""Normalisation: `batchnorm`, `lrn`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import BOOL, COUNT, INPUT, NUMBER, POSITIVE_NUMBER, Computed, LayerContext, LayerKind, Param, Saved, prod_int
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
    saved_rule = ("its input, and the batch's mean and inverse standard deviation per channel (2C values per batch, "
                  "float32 when the activations are 16-bit)")

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

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """GPU kernels keep the statistics in their accumulation type, float32 for 16-bit inputs
        (PyTorch's decomposition of native_batch_norm casts them to the input dtype on CPU only)."""
        channels = input_shape[0]
        statistic_bytes = max(value_bytes, 4)
        return (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("mean", channels, statistic_bytes, per_sample=False),
            Saved("inverse std", channels, statistic_bytes, per_sample=False),
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
    saved_rule = ("its input, its squares zero-padded across channels ((C + size − 1)·H·W) and two C·H·W "
                  "intermediates (PyTorch builds it from pow, avg_pool3d and div)")
    backward_temporaries = 3  # div's and pow's backward: three C·H·W intermediates beside the input gradient
    forward_temporaries = 2  # two C·H·W intermediates (the average of the squares, its power) beside the output

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        require_volume("lrn", input_shape)  # as PyTorch's LocalResponseNorm, which refuses (N, C)
        return Computed(output_shape=input_shape, description=f"lrn {params['size']}")

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """x / (k + α/size·Σ x²)^β as PyTorch computes it: avg_pool3d keeps the padded squares,
        pow keeps its base and its result, div keeps the input and the denominator (pow's result)."""
        channels = input_shape[0]
        positions = prod_int(input_shape[1:])
        return (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("padded squares", (channels + params["size"] - 1) * positions, value_bytes),
            Saved("scale", channels * positions, value_bytes),
            Saved("denominator", channels * positions, value_bytes),
        )


KINDS = (BatchNorm(), LRN())
