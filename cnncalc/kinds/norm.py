"""Normalisation: `batchnorm`, `lrn`, `layernorm`, `groupnorm`, `instancenorm`; and `scale` (a learnt per-channel factor)."""

from __future__ import annotations

from typing import Any, Mapping

from .base import (BOOL, COUNT, INPUT, NUMBER, POSITIVE_NUMBER, Computed, LayerContext, LayerFailure, LayerKind, Param, Saved,
                   is_tokens, prod_int, shape_words)
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
        if is_tokens(input_shape):
            raise LayerFailure(f"lrn expects an image volume C×H×W, but its input is {shape_words(input_shape)}")
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


def _statistic_bytes(value_bytes: int) -> int:
    """Normalisation statistics are kept in the accumulation type: float32 for 16-bit activations."""
    return max(value_bytes, 4)


class LayerNorm(LayerKind):
    name = "layernorm"
    category = "norm"
    auto_prefix = "ln"
    summary = ("Layer normalisation over the channels at each position: a token's features (transformers) or the "
               "C values of each pixel of C×H×W (ConvNeXt's LayerNorm2d).")
    params = (
        Param("eps", POSITIVE_NUMBER, 1e-5, "added to the variance (ViT and ConvNeXt use 1e-6)"),
        Param("affine", BOOL, True, "learn a scale (weight) and a shift (bias) per channel"),
    )
    param_rule = "weights = C (scale); biases = C (shift)"
    saved_rule = ("its input, and the mean and inverse standard deviation of each position (H·W or L values each, "
                  "float32 when the activations are 16-bit)")

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels = input_shape[0]
        affine = params["affine"]
        return Computed(
            output_shape=input_shape,
            description="layernorm" + ("" if affine else ", no affine"),
            weight_count=channels if affine else 0,
            bias_count=channels if affine else 0,
            fan_out=channels if affine else 0,
        )

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        positions = prod_int(input_shape[1:])
        return (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("mean", positions, _statistic_bytes(value_bytes)),
            Saved("inverse std", positions, _statistic_bytes(value_bytes)),
        )


class GroupNorm(LayerKind):
    name = "groupnorm"
    category = "norm"
    auto_prefix = "gn"
    main_param = "groups"
    summary = "Group normalisation: the channels split into groups, each normalised over its channels and positions."
    params = (
        Param("groups", COUNT, description="number of channel groups; must divide the channels"),
        Param("eps", POSITIVE_NUMBER, 1e-5, "added to the variance"),
        Param("affine", BOOL, True, "learn a scale (weight) and a shift (bias) per channel"),
    )
    param_rule = "weights = C (scale); biases = C (shift)"
    saved_rule = "its input, and the mean and inverse standard deviation of each group (groups values each)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels, groups = input_shape[0], params["groups"]
        if channels % groups:
            divisors = [g for g in range(1, channels + 1) if channels % g == 0]
            nearest = min(divisors, key=lambda g: (abs(g - groups), g))
            raise LayerFailure(f"groups {groups} must divide the channels ({channels}); try groups {nearest}", "groups")
        affine = params["affine"]
        return Computed(
            output_shape=input_shape,
            description=f"groupnorm {groups}" + ("" if affine else ", no affine"),
            weight_count=channels if affine else 0,
            bias_count=channels if affine else 0,
            fan_out=channels if affine else 0,
        )

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        groups = params["groups"]
        return (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("mean", groups, value_bytes),
            Saved("inverse std", groups, value_bytes),
        )


class InstanceNorm(LayerKind):
    name = "instancenorm"
    category = "norm"
    auto_prefix = "in"
    summary = "Instance normalisation: each channel of each sample normalised over its positions (style transfer)."
    params = (
        Param("eps", POSITIVE_NUMBER, 1e-5, "added to the variance"),
        Param("affine", BOOL, False, "learn a scale (weight) and a shift (bias) per channel (PyTorch's default: no)"),
    )
    param_rule = "weights = C (scale) and biases = C (shift) when affine, else 0"
    saved_rule = ("its input, the mean and inverse standard deviation of each channel (C values each, float32 when "
                  "the activations are 16-bit) and, when affine, the scale repeated per sample (C values)")

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        if len(input_shape) < 2 or is_tokens(input_shape):
            raise LayerFailure("instancenorm normalises each channel over its positions: it needs an image volume "
                               f"C×H×W (or C×L, C×D×H×W), but its input is {shape_words(input_shape)}")
        if prod_int(input_shape[1:]) == 1:
            raise LayerFailure("instancenorm over a single position normalises every value to 0 (PyTorch refuses "
                               "it in training); use it on a volume of more than one position")
        channels = input_shape[0]
        affine = params["affine"]
        return Computed(
            output_shape=input_shape,
            description="instancenorm" + (", affine" if affine else ""),
            weight_count=channels if affine else 0,
            bias_count=channels if affine else 0,
            fan_out=channels if affine else 0,
        )

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """PyTorch runs it as batch norm over a (1, N·C, ...) view: the batch statistics are per sample and
        channel, and an affine scale is repeated N times."""
        channels = input_shape[0]
        kept = (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("mean", channels, _statistic_bytes(value_bytes)),
            Saved("inverse std", channels, _statistic_bytes(value_bytes)),
        )
        if params["affine"]:
            kept += (Saved("repeated scale", channels, value_bytes),)
        return kept


class Scale(LayerKind):
    name = "scale"
    category = "norm"
    auto_prefix = "scale"
    summary = "A learnt factor per channel (ConvNeXt's layer scale, CaiT's LayerScale): x·γ_c."
    param_rule = "weights = C"
    mac_rule = "0 (a product per value, not counted, as batchnorm's scale is not)"
    saved_rule = "its input (for the factors' gradient)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels = input_shape[0]
        return Computed(output_shape=input_shape, description="scale", weight_count=channels, fan_out=channels)


KINDS = (BatchNorm(), LRN(), LayerNorm(), GroupNorm(), InstanceNorm(), Scale())
