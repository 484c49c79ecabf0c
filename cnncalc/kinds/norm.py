"""Normalisation: `batchnorm`, `lrn`, `layernorm`, `groupnorm`, `instancenorm`; and `scale` (a learnt per-channel factor)."""

from __future__ import annotations

from typing import Any, Mapping

from .base import (BOOL, COUNT, INPUT, NUMBER, POSITIVE_NUMBER, Computed, LayerContext, LayerFailure, LayerKind, Param, Saved,
                   is_tokens, prod_int, require_volume, shape_words)

EPS = Param("eps", POSITIVE_NUMBER, 1e-5, "added to the variance")
AFFINE = Param("affine", BOOL, True, "learn a scale (weight) and a shift (bias) per channel")


def _statistic_bytes(value_bytes: int) -> int:
    """Normalisation statistics are kept in the accumulation type: float32 for 16-bit activations."""
    return max(value_bytes, 4)


class AffineNorm(LayerKind):
    """A normalisation with, when `affine`, a learnt scale and shift per channel: weights C, biases C.

    Its backward keeps its input and a mean and an inverse standard deviation per `statistics` value."""

    category = "norm"
    param_rule = "weights = C (scale); biases = C (shift)"
    running_statistics = 0  # non-trainable values per channel (batchnorm's running mean and variance: 2)

    def check(self, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> None:
        """A failure for an input the normalisation cannot take; none by default."""

    def describe(self, params: Mapping[str, Any]) -> str:
        return self.name + ("" if params["affine"] else ", no affine")

    def statistics(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                   value_bytes: int) -> tuple[int, int, bool]:
        """How many means (and as many inverse standard deviations) it keeps, their bytes each, and whether
        per sample."""
        raise NotImplementedError

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        self.check(params, input_shape)
        channels = input_shape[0]
        affine = channels if params["affine"] else 0
        return Computed(output_shape=input_shape, description=self.describe(params), weight_count=affine,
                        bias_count=affine, non_trainable_count=self.running_statistics * channels, fan_out=affine)

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        count, size, per_sample = self.statistics(params, input_shape, value_bytes)
        return (
            Saved(INPUT, prod_int(input_shape), value_bytes),
            Saved("mean", count, size, per_sample=per_sample),
            Saved("inverse std", count, size, per_sample=per_sample),
        )


class BatchNorm(AffineNorm):
    name = "batchnorm"
    auto_prefix = "bn"
    summary = "Batch normalisation per channel: a scale and a shift learnt, a running mean and variance kept."
    params = (EPS, Param("momentum", NUMBER, 0.1, "running statistics update rate"), AFFINE)
    param_rule = "weights = C (scale); biases = C (shift); non-trainable = 2C (running mean and variance)"
    saved_rule = ("its input, and the batch's mean and inverse standard deviation per channel (2C values per batch, "
                  "float32 when the activations are 16-bit)")
    running_statistics = 2

    def statistics(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                   value_bytes: int) -> tuple[int, int, bool]:
        """GPU kernels keep the statistics in their accumulation type, float32 for 16-bit inputs
        (PyTorch's decomposition of native_batch_norm casts them to the input dtype on CPU only)."""
        return input_shape[0], _statistic_bytes(value_bytes), False


class LRN(LayerKind):
    name = "lrn"
    category = "norm"
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


class LayerNorm(AffineNorm):
    name = "layernorm"
    auto_prefix = "ln"
    summary = ("Layer normalisation over the channels at each position: a token's features (transformers) or the "
               "C values of each pixel of C×H×W (ConvNeXt's LayerNorm2d).")
    params = (EPS._replace(description="added to the variance (ViT and ConvNeXt use 1e-6)"), AFFINE)
    saved_rule = ("its input, and the mean and inverse standard deviation of each position (H·W or L values each, "
                  "float32 when the activations are 16-bit)")

    def statistics(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                   value_bytes: int) -> tuple[int, int, bool]:
        return prod_int(input_shape[1:]), _statistic_bytes(value_bytes), True


class GroupNorm(AffineNorm):
    name = "groupnorm"
    auto_prefix = "gn"
    main_param = "groups"
    summary = "Group normalisation: the channels split into groups, each normalised over its channels and positions."
    params = (Param("groups", COUNT, description="number of channel groups; must divide the channels"), EPS, AFFINE)
    saved_rule = "its input, and the mean and inverse standard deviation of each group (groups values each)"

    def check(self, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> None:
        channels, groups = input_shape[0], params["groups"]
        if channels % groups:
            divisors = [g for g in range(1, channels + 1) if channels % g == 0]
            nearest = min(divisors, key=lambda g: (abs(g - groups), g))
            raise LayerFailure(f"groups {groups} must divide the channels ({channels}); try groups {nearest}", "groups")

    def describe(self, params: Mapping[str, Any]) -> str:
        return f"groupnorm {params['groups']}" + ("" if params["affine"] else ", no affine")

    def statistics(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                   value_bytes: int) -> tuple[int, int, bool]:
        return params["groups"], value_bytes, True


class InstanceNorm(AffineNorm):
    name = "instancenorm"
    auto_prefix = "in"
    summary = "Instance normalisation: each channel of each sample normalised over its positions (style transfer)."
    params = (EPS, AFFINE._replace(default=False, description="learn a scale (weight) and a shift (bias) per channel "
                                                              "(PyTorch's default: no)"))
    param_rule = "weights = C (scale) and biases = C (shift) when affine, else 0"
    saved_rule = ("its input, the mean and inverse standard deviation of each channel (C values each, float32 when "
                  "the activations are 16-bit) and, when affine, the scale repeated per sample (C values)")

    def check(self, params: Mapping[str, Any], input_shape: tuple[int, ...]) -> None:
        if len(input_shape) < 2 or is_tokens(input_shape):
            raise LayerFailure("instancenorm normalises each channel over its positions: it needs an image volume "
                               f"C×H×W (or C×L, C×D×H×W), but its input is {shape_words(input_shape)}")
        if prod_int(input_shape[1:]) == 1:
            raise LayerFailure("instancenorm over a single position normalises every value to 0 (PyTorch refuses "
                               "it in training); use it on a volume of more than one position")

    def describe(self, params: Mapping[str, Any]) -> str:
        return "instancenorm" + (", affine" if params["affine"] else "")

    def statistics(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                   value_bytes: int) -> tuple[int, int, bool]:
        return input_shape[0], _statistic_bytes(value_bytes), True

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """PyTorch runs it as batch norm over a (1, N·C, ...) view: the batch statistics are per sample and
        channel, and an affine scale is repeated N times."""
        kept = super().saved_for_backward(params, input_shape, output_shape, value_bytes)
        if params["affine"]:
            kept += (Saved("repeated scale", input_shape[0], value_bytes),)
        return kept


class Scale(LayerKind):
    name = "scale"
    category = "norm"
    summary = "A learnt factor per channel (ConvNeXt's layer scale, CaiT's LayerScale): x·γ_c."
    param_rule = "weights = C"
    mac_rule = "0 (a product per value, not counted, as batchnorm's scale is not)"
    saved_rule = "its input (for the factors' gradient)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels = input_shape[0]
        return Computed(output_shape=input_shape, description="scale", weight_count=channels, fan_out=channels)


KINDS = (BatchNorm(), LRN(), LayerNorm(), GroupNorm(), InstanceNorm(), Scale())
