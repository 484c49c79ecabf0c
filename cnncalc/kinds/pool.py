"""Pooling: `maxpool`, `avgpool`, `globalavgpool`, `globalmaxpool`. No parameters, no MACs."""

from __future__ import annotations

from typing import Any, Mapping

from .base import (BOOL, INPUT, POOL_PADDING, ROUND, SIZE, Computed, LayerContext, LayerFailure, LayerKind, Param, Saved,
                   Scratch, Window, compact, image_spatial, per_dim, prod_int, require_volume, slide_all, spatial_text)


class Pool(LayerKind):
    category = "pool"
    auto_prefix = "pool"
    main_param = "kernel"
    params = (
        Param("kernel", SIZE, description="window size F"),
        Param("stride", SIZE, None, "step S (default: the kernel size)"),
        Param("padding", POOL_PADDING, 0, "padding P on each side; at most half the kernel (PyTorch's rule)"),
        Param("ceil_mode", BOOL, False, "round the output size up, as PyTorch's ceil_mode"),
        ROUND,
    )
    shape_rule = (
        "out = (N + 2P − F)/S + 1 per spatial dim, channels unchanged; ceil_mode: ceil(...) + 1, "
        "minus 1 when the last window would start past the input and the left padding"
    )

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        spatial = image_spatial(self.name, input_shape)
        ndim = len(spatial)
        k = per_dim(params["kernel"], ndim, "kernel")
        s = per_dim(params["stride"] if params["stride"] is not None else params["kernel"], ndim, "stride")
        p = per_dim(params["padding"], ndim, "padding")
        for ki, pi in zip(k, p):
            if 2 * pi > ki:
                raise LayerFailure(
                    f"padding {pi} is more than half the kernel {ki}; PyTorch refuses it: use padding {ki // 2} or less",
                    "padding",
                )
        out = slide_all(spatial, k, s, tuple((pi, pi) for pi in p), (1,) * ndim, ctx, ceil_mode=params["ceil_mode"],
                        rounding=params["round"])
        description = f"{self.name} {spatial_text(k)}/{compact(s)}"
        if any(p):
            description += f", p{compact(p)}"
        if params["ceil_mode"]:
            description += ", ceil"
        return Computed(
            output_shape=(input_shape[0],) + out,
            description=description,
            windows=tuple(Window(k[i], s[i], p[i]) for i in range(ndim)),
        )


INDEX_BYTES = 8  # PyTorch's max-pool indices are int64


def input_and_indices(input_shape: tuple[int, ...], output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
    """Max pooling keeps its input and where each maximum came from (one int64 per output value)."""
    return (Saved(INPUT, prod_int(input_shape), value_bytes), Saved("indices", prod_int(output_shape), INDEX_BYTES))


class KeepsIndices(LayerKind):
    """Max pooling of any kind keeps, for its backward, its input and where each maximum came from."""

    saved_rule = "its input and the argmax indices (int64: 8 bytes per output value)"

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        return input_and_indices(input_shape, output_shape, value_bytes)

    def forward_scratch(self, params: Mapping[str, Any], input_shape: tuple[int, ...], output_shape: tuple[int, ...],
                        value_bytes: int, attention: str = "") -> Scratch | None:
        """PyTorch's CPU and CUDA kernels compute the indices even under no_grad (the caller drops them):
        one int64 per output value while it runs."""
        return Scratch("max-pool indices", prod_int(output_shape) * INDEX_BYTES)


class MaxPool(KeepsIndices, Pool):
    name = "maxpool"
    summary = "Max pooling over each channel independently."


class AvgPool(Pool):
    name = "avgpool"
    summary = "Average pooling over each channel independently."
    saved_rule = "its input"


class GlobalPool(LayerKind):
    category = "pool"
    auto_prefix = "pool"
    shape_rule = "out = 1 per spatial dim, channels unchanged"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        require_volume(self.name, input_shape)
        spatial = input_shape[1:]
        return Computed(
            output_shape=(input_shape[0],) + (1,) * len(spatial),
            description=f"{self.name} {spatial_text(spatial)}",
            windows=tuple(Window(n, n, 0) for n in spatial),
        )


class GlobalAvgPool(GlobalPool):
    name = "globalavgpool"
    summary = "Average of each whole channel (PyTorch's AdaptiveAvgPool to 1)."
    saved_rule = "nothing (the gradient is spread evenly; only the shape is needed)"
    keeps_input = False


class GlobalMaxPool(KeepsIndices, GlobalPool):
    name = "globalmaxpool"
    summary = "Maximum of each whole channel (PyTorch's AdaptiveMaxPool to 1)."


KINDS = (MaxPool(), AvgPool(), GlobalAvgPool(), GlobalMaxPool())
