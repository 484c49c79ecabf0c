"""Fully connected layers and flattening: `fc`, `flatten`."""

from __future__ import annotations

from typing import Any, Mapping

from .base import BOOL, COUNT, Computed, LayerContext, LayerKind, Param, Window, is_tokens, prod_int, spatial_text


def _whole_volume(input_shape: tuple[int, ...]) -> tuple[Window, ...]:
    """A window over every spatial position: the output sees the whole input."""
    return tuple(Window(n, n, 0) for n in input_shape[1:])


def _volume_text(input_shape: tuple[int, ...]) -> str:
    """H×W×C, the notes' order."""
    return spatial_text(input_shape[1:] + input_shape[:1])


class FullyConnected(LayerKind):
    name = "fc"
    category = "fc"
    main_param = "units"
    summary = ("Fully connected (dense, linear). On a volume it connects to every value, as if flattened first; on "
               "tokens [D, L] it maps each token alike (a transformer's MLP).")
    params = (
        Param("units", COUNT, description="output units"),
        Param("bias", BOOL, True, "one bias per unit"),
    )
    shape_rule = "out = units (a volume C×H×W is flattened to C·H·W inputs first); tokens [D, L] → [units, L]"
    param_rule = "weights = inputs·units; biases = units (tokens: inputs = D)"
    mac_rule = "inputs·units (tokens: L·D·units)"
    saved_rule = "its input (a volume as a flattened view of it)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        units = params["units"]
        if is_tokens(input_shape):  # per token: a 1×1 convolution over the sequence
            features, length = input_shape
            return Computed(
                output_shape=input_shape.like((units, length)),
                description=f"fc {units} per token" + ("" if params["bias"] else ", no bias"),
                weight_count=features * units,
                bias_count=units if params["bias"] else 0,
                macs=length * features * units,
                fan_in=(features,),
                fan_out=units,
            )
        inputs = prod_int(input_shape)
        fan_in = input_shape[1:] + input_shape[:1] if len(input_shape) > 1 else input_shape
        notes = ()
        if len(input_shape) > 1:
            notes = (f"flattened {_volume_text(input_shape)} = {inputs:,} inputs",)
        return Computed(
            output_shape=(units,),
            description=f"fc {units}" + ("" if params["bias"] else ", no bias"),
            weight_count=inputs * units,
            bias_count=units if params["bias"] else 0,
            macs=inputs * units,
            fan_in=fan_in,
            fan_out=units,
            windows=_whole_volume(input_shape) if len(input_shape) > 1 else None,
            notes=notes,
        )


class Flatten(LayerKind):
    grad_flow = "view"
    name = "flatten"
    category = "reshape"
    in_place = True
    view = True
    summary = "Reshape a volume to a vector (a view: no new tensor)."
    shape_rule = "out = C·H·W"
    saved_rule = "nothing (a view)"
    keeps_input = False

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        return Computed(
            output_shape=(prod_int(input_shape),),
            description="flatten",
            windows=_whole_volume(input_shape) if len(input_shape) > 1 else None,
        )


KINDS = (FullyConnected(), Flatten())
