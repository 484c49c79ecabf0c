"""Rearrangements without parameters or MACs: `channelshuffle`, `chunk`, `pixelshuffle`, `pixelunshuffle`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import (COUNT, NUMBER, Computed, LayerContext, LayerFailure, LayerKind, Param, Window, image_spatial, is_tokens,
                   refuse_tokens, shape_words)


def _divisors_near(n: int, wanted: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - wanted), d))


class ChannelShuffle(LayerKind):
    name = "channelshuffle"
    category = "reshape"
    auto_prefix = "shuffle"
    main_param = "groups"
    summary = "Interleaves the channels of its groups (ShuffleNet): C = g·k channels read as g×k, written as k×g."
    params = (Param("groups", COUNT, description="channel groups; must divide the channels"),)
    shape_rule = "output = input; groups must divide C"
    saved_rule = "nothing (the backward shuffles back)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        image_spatial(self.name, input_shape)
        channels, groups = input_shape[0], params["groups"]
        if channels % groups:
            raise LayerFailure(f"groups {groups} must divide the channels ({channels}); try groups "
                               f"{_divisors_near(channels, groups)}", "groups")
        return Computed(output_shape=input_shape, description=f"channelshuffle {groups}")


class Chunk(LayerKind):
    name = "chunk"
    category = "reshape"
    in_place = True
    view = True
    main_param = "index"
    summary = ("One of `chunks` equal parts of the channels, a view (PyTorch's x.chunk(chunks, dim=1)[index]; "
               "ShuffleNetV2 splits its channels in two).")
    params = (
        Param("chunks", COUNT, 2, "equal parts of the channels; must divide them"),
        Param("index", NUMBER, 0, "which part, from 0"),
    )
    shape_rule = "channels = C/chunks, the part index·C/chunks to (index + 1)·C/chunks − 1; spatial sizes unchanged"
    saved_rule = "nothing (a view)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        channels, chunks, index = input_shape[0], params["chunks"], params["index"]
        if channels % chunks:
            raise LayerFailure(f"chunks {chunks} must divide the channels ({channels}); try chunks "
                               f"{_divisors_near(channels, chunks)}", "chunks")
        if index != int(index) or not 0 <= index < chunks:
            raise LayerFailure(f"index {index} must be a whole number from 0 to {chunks - 1}", "index")
        part = channels // chunks
        out = (part,) + tuple(input_shape[1:])
        return Computed(output_shape=input_shape.like(out) if is_tokens(input_shape) else out,
                        description=f"chunk {int(index) + 1}/{chunks}: channels {int(index) * part}-"
                                    f"{(int(index) + 1) * part - 1}")


class PixelRearrange(LayerKind):
    """Moves values between the channels and a 2-D image's pixels by a factor r, as PyTorch's (2-D only)."""

    category = "reshape"
    main_param = "factor"
    dims = (2,)
    example = {"factor": 2}
    saved_rule = "nothing (a rearrangement)"
    keeps_input = False

    def rearrange(self, r: int, channels: int, h: int, w: int) -> Computed:
        raise NotImplementedError

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        refuse_tokens(self.name, input_shape, "a 2-D image volume C×H×W")
        if len(input_shape) != 3:
            raise LayerFailure(f"{self.name} works on 2-D volumes C×H×W only (as PyTorch's), but its input is "
                               f"{shape_words(input_shape)}")
        return self.rearrange(params["factor"], *input_shape)


class PixelShuffle(PixelRearrange):
    name = "pixelshuffle"
    summary = "Sub-pixel upsampling (ESPCN): C·r² channels of H×W become C channels of rH×rW. 2-D only."
    params = (Param("factor", COUNT, description="upscale factor r"),)
    shape_rule = "C·r²×H×W → C×rH×rW; r² must divide the channels"

    def rearrange(self, r: int, channels: int, h: int, w: int) -> Computed:
        if channels % (r * r):
            raise LayerFailure(f"factor {r} needs channels divisible by {r}² = {r * r}, but the input has {channels}",
                               "factor")
        from fractions import Fraction

        return Computed(output_shape=(channels // (r * r), h * r, w * r), description=f"pixelshuffle ×{r}",
                        windows=(Window(1, 1, 0, upsample=Fraction(r), mode="nearest"),) * 2)


class PixelUnshuffle(PixelRearrange):
    name = "pixelunshuffle"
    summary = "The inverse of pixelshuffle (space to depth): C×H×W becomes C·r² channels of H/r×W/r. 2-D only."
    params = (Param("factor", COUNT, description="downscale factor r"),)
    shape_rule = "C×H×W → C·r²×H/r×W/r; r must divide H and W"

    def rearrange(self, r: int, channels: int, h: int, w: int) -> Computed:
        if h % r or w % r:
            raise LayerFailure(f"factor {r} must divide the height {h} and the width {w}: {h}/{r} and {w}/{r}",
                               "factor")
        return Computed(output_shape=(channels * r * r, h // r, w // r), description=f"pixelunshuffle ÷{r}",
                        windows=(Window(r, r, 0),) * 2)


KINDS = (ChannelShuffle(), Chunk(), PixelShuffle(), PixelUnshuffle())
