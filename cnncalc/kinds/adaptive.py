"""Adaptive pooling: `adaptiveavgpool`, `adaptivemaxpool`, pooling to a given output size. No parameters, no MACs."""

from __future__ import annotations

from typing import Any, Mapping

from .base import INPUT, SIZE, Computed, LayerContext, LayerKind, Param, Saved, Window, image_spatial, per_dim, prod_int, spatial_text
from .pool import KeepsIndices


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's windows of one dim: output i pools [floor(i·N/out), ceil((i + 1)·N/out)); they may overlap."""
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def adaptive_window(n: int, out: int) -> Window:
    """The receptive-field step: exact (kernel = stride = N/out) when out divides N; otherwise the largest
    window with the largest step between windows, an upper bound."""
    if n % out == 0:
        return Window(n // out, n // out, 0)
    sizes = [end - start for start, end in adaptive_windows(n, out)]
    return Window(max(sizes), -(-n // out), 0, bound=True)


class AdaptivePool(LayerKind):
    category = "pool"
    auto_prefix = "pool"
    main_param = "size"
    params = (Param("size", SIZE, description="output size per spatial dim (AlexNet's 6: 6×6)"),)
    shape_rule = ("out = size per spatial dim, channels unchanged; output i pools input [floor(i·N/out), "
                  "ceil((i + 1)·N/out)), windows may overlap; receptive field exact when out divides N "
                  "(kernel = stride = N/out), else an upper bound (the largest window)")

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        spatial = image_spatial(self.name, input_shape)
        out = per_dim(params["size"], len(spatial), "size")
        windows = tuple(adaptive_window(n, o) for n, o in zip(spatial, out))
        notes = ()
        uneven = [(n, o) for n, o in zip(spatial, out) if n % o]
        if uneven:
            n, o = uneven[0]
            sizes = sorted({end - start for start, end in adaptive_windows(n, o)})
            notes = (f"{n} → {o}: windows of {' or '.join(map(str, sizes))} (floor(i·{n}/{o}) to "
                     f"ceil((i + 1)·{n}/{o})); receptive field an upper bound",)
        return Computed(
            output_shape=(input_shape[0],) + out,
            description=f"{self.name} to {spatial_text(out)}",
            windows=windows,
            notes=notes,
        )


class AdaptiveAvgPool(AdaptivePool):
    name = "adaptiveavgpool"
    summary = "Average pooling to a given output size, PyTorch's AdaptiveAvgPool (AlexNet's 6×6, VGG's 7×7)."
    saved_rule = "its input; nothing when the output is 1 per dim (PyTorch takes the mean)"

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        if all(size == 1 for size in output_shape[1:]):
            return ()
        return (Saved(INPUT, prod_int(input_shape), value_bytes),)


class AdaptiveMaxPool(KeepsIndices, AdaptivePool):
    name = "adaptivemaxpool"
    summary = "Max pooling to a given output size, PyTorch's AdaptiveMaxPool."


KINDS = (AdaptiveAvgPool(), AdaptiveMaxPool())
