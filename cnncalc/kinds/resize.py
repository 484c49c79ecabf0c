"""Layers that change only spatial size or nothing at all: `upsample`, `pad`, `identity`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import (CHOICE, NUMBER, POOL_PADDING, SIZE, Computed, LayerContext, LayerFailure, LayerKind, Param, Window,
                   image_spatial, per_dim, spatial_text)


class Upsample(LayerKind):
    name = "upsample"
    category = "resize"
    auto_prefix = "up"
    main_param = "scale"
    example = {"scale": 2}  # scale and size are each optional, one of them required
    summary = "Resize by an integer scale factor or to a given size; no parameters."
    params = (
        Param("scale", SIZE, None, "scale factor per spatial dim (give scale or size)"),
        Param("size", SIZE, None, "output size per spatial dim (give scale or size)"),
        Param("mode", CHOICE, "nearest", "interpolation", choices=("nearest", "bilinear")),
    )
    shape_rule = "out = N·scale, or the given size"
    saved_rule = "nothing (nearest and bilinear backward need only the sizes)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        spatial = image_spatial(self.name, input_shape)
        ndim = len(spatial)
        if (params["scale"] is None) == (params["size"] is None):
            raise LayerFailure("give exactly one of 'scale' (a factor) and 'size' (the output size)")
        from fractions import Fraction  # here: an upsample is rare, every start-up would pay for it

        if params["scale"] is not None:
            scale = per_dim(params["scale"], ndim, "scale")
            out = tuple(n * f for n, f in zip(spatial, scale))
            factors = tuple(Fraction(f) for f in scale)
            description = f"upsample ×{spatial_text(scale)}"
        else:
            out = per_dim(params["size"], ndim, "size")
            factors = tuple(Fraction(o, n) for o, n in zip(out, spatial))
            description = f"upsample to {spatial_text(out)}"
        description += f", {params['mode']}"
        if params["mode"] == "nearest":
            windows = tuple(Window(1, 1, 0, upsample=f, mode="nearest") for f in factors)
        else:  # each output blends the two nearest inputs per dim: one more input step, at most
            windows = tuple(Window(int(f.numerator // f.denominator) + 1 if f > 1 else 2, 1, 0, upsample=f, bound=True,
                                   mode="bilinear") for f in factors)
        return Computed(output_shape=(input_shape[0],) + out, description=description, windows=windows)


class Pad(LayerKind):
    name = "pad"
    category = "resize"
    main_param = "padding"
    summary = "Explicit zero (or constant) padding, the same on both sides or different before and after."
    params = (
        Param("padding", POOL_PADDING, None, "added on both sides of each spatial dim"),
        Param("before", POOL_PADDING, None, "added before each spatial dim (top, left); with 'after'"),
        Param("after", POOL_PADDING, None, "added after each spatial dim (bottom, right); with 'before'"),
        Param("value", NUMBER, 0, "the constant padded in"),
    )
    shape_rule = "out = N + before + after"
    saved_rule = "nothing (the backward crops the padding off)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        spatial = image_spatial(self.name, input_shape)
        ndim = len(spatial)
        if params["padding"] is not None:
            if params["before"] is not None or params["after"] is not None:
                raise LayerFailure("give either 'padding' or 'before'/'after', not both", "padding")
            before = after = per_dim(params["padding"], ndim, "padding")
        else:
            before = per_dim(params["before"] if params["before"] is not None else 0, ndim, "before")
            after = per_dim(params["after"] if params["after"] is not None else 0, ndim, "after")
        out = tuple(n + b + a for n, b, a in zip(spatial, before, after))
        if before == after:
            description = f"pad {spatial_text(before)}"
        else:
            description = f"pad {spatial_text(before)} before, {spatial_text(after)} after"
        return Computed(output_shape=(input_shape[0],) + out, description=description,
                        windows=tuple(Window(1, 1, b) for b in before))


class Identity(LayerKind):
    grad_flow = "same"
    name = "identity"
    category = "resize"
    in_place = True
    summary = "Passes its input through unchanged (a named tap or an explicit shortcut)."
    saved_rule = "nothing (the same tensor)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        return Computed(output_shape=input_shape, description="identity")


KINDS = (Upsample(), Pad(), Identity())
