"""Convolution: `conv`."""

from __future__ import annotations

from math import gcd
from typing import Any, Mapping, NamedTuple

from .base import (
    BOOL,
    COUNT,
    PADDING,
    ROUND,
    POOL_PADDING,
    SIZE,
    Computed,
    LayerContext,
    LayerFailure,
    LayerKind,
    Param,
    Window,
    compact,
    is_tokens,
    refuse_tokens,
    require_volume,
    per_dim,
    prod_int,
    slide_all,
    spatial_text,
    transposed_size,
)


def same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's 'same': output ceil(N/S); total padding max((out − 1)·S + D·(F − 1) + 1 − N, 0), the odd pixel after."""
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding: Any, n_dims: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """Padding before and after each spatial dim, from an int, a per-dim list, 'same' or 'valid'."""
    if padding == "same":
        return tuple(same_padding(n, ki, si, di) for n, ki, si, di in zip(n_dims, k, s, d))
    if padding == "valid":
        return tuple((0, 0) for _ in n_dims)
    return tuple((p, p) for p in per_dim(padding, len(n_dims), "padding"))


class Filters(NamedTuple):
    """What a convolution and a transposed one read alike: C_in, the spatial sizes, filters and groups, and
    F, S and D per spatial dim."""

    cin: int
    spatial: tuple[int, ...]
    filters: int
    groups: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]


def read_filters(params: Mapping[str, Any], input_shape: tuple[int, ...]) -> Filters:
    """The shared parameters per spatial dim, or a failure when groups does not divide C_in and filters."""
    cin, spatial = input_shape[0], input_shape[1:]
    ndim = len(spatial)
    filters, groups = params["filters"], params["groups"]
    kernel, stride = per_dim(params["kernel"], ndim, "kernel"), per_dim(params["stride"], ndim, "stride")
    dilation = per_dim(params["dilation"], ndim, "dilation")
    if cin % groups or filters % groups:
        raise LayerFailure(
            f"groups {groups} must divide both the input channels ({cin}) and the filters ({filters}); "
            f"try groups {gcd(cin, filters)}",
            "groups",
        )
    return Filters(cin, spatial, filters, groups, kernel, stride, dilation)


def options_text(dilation: tuple[int, ...], groups: int, bias: bool, depthwise: bool = False) -> str:
    """The description's tail: dilation and groups when not 1 ('depthwise' when each group is one channel in
    and one out), and 'no bias'."""
    text = f", d{compact(dilation)}" if any(v != 1 for v in dilation) else ""
    text += (", depthwise" if depthwise else f", g{groups}") if groups != 1 else ""
    return text + ("" if bias else ", no bias")


# The parameters the convolutions share, each written once.
FILTERS = Param("filters", COUNT, description="number of filters = output channels")
STRIDE = Param("stride", SIZE, 1, "step S between windows")
DILATION = Param("dilation", SIZE, 1, "spacing D between kernel taps")
BIAS = Param("bias", BOOL, True, "one bias per filter")
KERNEL = Param("kernel", SIZE, description="filter size F, one int or one per spatial dim")
ZERO_PADDING = Param("padding", PADDING, 0, "zeros P added on each side; 'same' (TensorFlow: output ceil(N/S)) or 'valid' (0)")


class Conv(LayerKind):
    name = "conv"
    category = "conv"
    main_param = "filters"
    summary = "Convolution (1-D, 2-D or 3-D, by the input's spatial dims); grouped, depthwise and dilated."
    params = (FILTERS, KERNEL, STRIDE, ZERO_PADDING, DILATION,
              Param("groups", COUNT, 1, "channel groups; groups = input channels = filters is depthwise"), BIAS, ROUND)
    shape_rule = "out = (N + 2P − D·(F − 1) − 1)/S + 1 per spatial dim, channels = filters; 'same': out = ceil(N/S)"
    param_rule = "weights = (F_h·F_w·C_in/groups)·filters; biases = filters"
    mac_rule = "filters·H_out·W_out·(C_in/groups)·F_h·F_w"
    saved_rule = "its input (for the weight gradient; the weights themselves are parameters)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        require_volume("conv", input_shape)
        cin, spatial, filters, groups, k, s, d = read_filters(params, input_shape)
        ndim = len(spatial)
        pads = resolve_padding(params["padding"], spatial, k, s, d)
        same = params["padding"] == "same"
        tokens = is_tokens(input_shape)
        if tokens:
            from .tokens import per_token_conv_check  # tokens import conv's helpers

            per_token_conv_check(params, input_shape, k, s, d)
        out = slide_all(spatial, k, s, pads, d, ctx, exact_required=not same, rounding=params["round"],
                        same_padding=True)
        per_filter = cin // groups
        fan_in = k + (per_filter,)
        weights = prod_int(fan_in) * filters
        biases = filters if params["bias"] else 0
        macs = filters * prod_int(out) * per_filter * prod_int(k)
        description = f"conv {spatial_text(k)}/{compact(s)}, "
        if same:
            description += "same"
        else:
            description += f"p{compact(tuple(p for p, _ in pads))}"
        description += f", {filters}"
        description += options_text(d, groups, bool(biases), depthwise=groups == cin == filters)
        notes = ()
        if same:
            notes = ("same padding: " + ", ".join(f"{b}/{a}" for b, a in pads) + " (before/after)",)
        if tokens:
            return Computed(output_shape=input_shape.like((filters,) + out), description=description + ", per token",
                            weight_count=weights, bias_count=biases, macs=macs, fan_in=fan_in, fan_out=filters)
        return Computed(
            output_shape=(filters,) + out,
            description=description,
            weight_count=weights,
            bias_count=biases,
            macs=macs,
            fan_in=fan_in,
            fan_out=filters,
            windows=tuple(Window(d[i] * (k[i] - 1) + 1, s[i], pads[i][0]) for i in range(ndim)),
            notes=notes,
        )



class DepthwiseConv(Conv):
    name = "dwconv"
    main_param = "kernel"
    summary = "Depthwise convolution: `multiplier` filters per input channel (a conv with groups = C_in, filters = C_in·multiplier)."
    params = (KERNEL, STRIDE, ZERO_PADDING, DILATION, Param("multiplier", COUNT, 1, "filters per input channel"), BIAS,
              ROUND)
    shape_rule = "as conv, with groups = C_in and filters = C_in·multiplier"
    param_rule = "weights = (F_h·F_w·1)·C_in·multiplier; biases = C_in·multiplier"
    mac_rule = "C_in·multiplier·H_out·W_out·F_h·F_w"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        require_volume("dwconv", input_shape)
        channels = input_shape[0]
        as_conv = dict(params, filters=channels * params["multiplier"], groups=channels)
        computed = Conv.compute(self, as_conv, input_shape, ctx)
        description = "dw" + computed.description.replace(", depthwise", "").replace(f", g{channels}", "")
        if params["multiplier"] != 1:
            description += f", ×{params['multiplier']}"
        return computed._replace(description=description)


class Deconv(LayerKind):
    name = "deconv"
    category = "conv"
    main_param = "filters"
    summary = "Transposed convolution (\"deconvolution\"): upsamples by its stride."
    params = (
        FILTERS,
        KERNEL,
        Param("stride", SIZE, 1, "upsampling step S"),
        Param("padding", POOL_PADDING, 0, "P removed from each side of the output"),
        Param("output_padding", POOL_PADDING, 0, "extra size added to one side of the output; less than the stride or the dilation"),
        DILATION,
        Param("groups", COUNT, 1, "channel groups"),
        BIAS,
    )
    shape_rule = "out = (N − 1)·S − 2P + D·(F − 1) + output_padding + 1 per spatial dim, channels = filters"
    param_rule = "weights = (F_h·F_w·filters/groups)·C_in; biases = filters"
    mac_rule = "C_in·H_in·W_in·(filters/groups)·F_h·F_w (every input value times the whole kernel)"
    saved_rule = "its input (for the weight gradient)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        refuse_tokens("deconv", input_shape)
        require_volume("deconv", input_shape)
        cin, spatial, filters, groups, k, s, d = read_filters(params, input_shape)
        ndim = len(spatial)
        p = per_dim(params["padding"], ndim, "padding")
        op = per_dim(params["output_padding"], ndim, "output_padding")
        for opi, si, di in zip(op, s, d):
            if opi >= max(si, di):
                raise LayerFailure(f"output_padding {opi} must be smaller than the stride {si} or the dilation {di}",
                                   "output_padding")
        out = tuple(transposed_size(n, ki, si, pi, di, opi) for n, ki, si, pi, opi, di in zip(spatial, k, s, p, op, d))
        for n, ki, si, pi, opi, di, o in zip(spatial, k, s, p, op, d, out):
            if o <= 0:
                raise LayerFailure(f"({n} − 1)·{si} − 2·{pi} + {di}·({ki} − 1) + {opi} + 1 = {o}: the output is empty; "
                                   "use less padding", "padding")
        per_group = filters // groups
        fan_in = k + (per_group,)
        description = f"deconv {spatial_text(k)}/{compact(s)}, p{compact(p)}, {filters}"
        if any(op):
            description += f", op{compact(op)}"
        description += options_text(d, groups, params["bias"])
        return Computed(
            output_shape=(filters,) + out,
            description=description,
            weight_count=prod_int(fan_in) * cin,
            bias_count=filters if params["bias"] else 0,
            macs=cin * prod_int(spatial) * per_group * prod_int(k),
            fan_in=fan_in,
            fan_out=cin,
            windows=tuple(Window(d[i] * (k[i] - 1) + 1, 1, d[i] * (k[i] - 1) - p[i], upsample=s[i],
                                bound=s[i] > 1, mode="zeros")  # exact by engine's profiles; a bound if they give up
                          for i in range(ndim)),
        )


KINDS = (Conv(), DepthwiseConv(), Deconv())
