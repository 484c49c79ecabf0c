"""`unknown`: an operator of an imported model that cnncalc does not know, kept with the model's own shape.

`cnncalc import --allow-unknown` (and the other commands with that option) write one for each such
operator, so that the layers after it are still computed. Nothing of it is counted: its params, MACs and
saved tensors are left out of every total (its output tensor, whose shape is known, is counted), and each one
is a warning that says so.
"""

from __future__ import annotations

from typing import Any, Mapping

from .base import COUNT, SIZE, Computed, LayerContext, LayerKind, Param


class Unknown(LayerKind):
    name = "unknown"
    category = "unknown"
    main_param = "channels"
    params = (
        Param("channels", COUNT, description="the output's channels (or a vector's length), as the model gives it"),
        Param("size", SIZE, None, "the output's spatial sizes, as the model gives them (none: a vector)"),
    )
    keeps_input = False
    dims = ()  # written by the importers only: not in the generated every-kind specs (PyTorch has no module for it)
    summary = "An imported model's operator that cnncalc does not know: the model's output shape, nothing counted."
    shape_rule = "output = channels, then size, as the model gives them (the input is not used)"
    param_rule = mac_rule = saved_rule = "not counted (left out of the totals)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        size = params["size"]
        spatial = () if size is None else size if isinstance(size, tuple) else (size,)
        ctx.warn("an operator cnncalc does not know: its output shape is the model's (its output is counted), and "
                 "its params, MACs and the tensors it keeps for backward are left out of the totals")
        return Computed(output_shape=(params["channels"],) + spatial, description="unknown operator, not counted")


KINDS = (Unknown(),)
