"""ONNX operators that hold weights or windows: Conv, ConvTranspose, Gemm, MatMul, pooling, BatchNormalization,
LRN, Dropout, Pad, Resize. Each handler reads a node's attributes and adds one cnncalc layer (or, for padding
cnncalc's windows cannot express, a `pad` layer before it); what no kind expresses raises Unsupported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..kinds.base import is_tokens
from ..problems import NOTE, Problem
from .onnx_proto import Node
from .onnx_tokens import patchify_at
from .onnx_values import Act, Blocked, Const, Unsupported

if TYPE_CHECKING:
    from .onnx import Translator


def _spatial_attr(t: "Translator", node: Node, key: str, ndim: int, default: int) -> tuple[int, ...]:
    value = t.attr(node, key)
    if value is None:
        return (default,) * ndim
    if len(value) != ndim:
        raise Unsupported(f"'{key}' has {len(value)} values for {ndim} spatial dims")
    return tuple(int(v) for v in value)


def _compact(values: tuple[int, ...]) -> int | tuple[int, ...]:
    return values[0] if len(set(values)) == 1 else tuple(values)


def _pads(t: "Translator", node: Node, x: Act, kernel: tuple[int, ...], stride: tuple[int, ...],
          dilation: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], str | None]:
    """(pads before, pads after, 'same' when it is TensorFlow's SAME_UPPER) per spatial dim."""
    ndim = len(kernel)
    auto = t.attr(node, "auto_pad", "NOTSET")
    auto = auto if isinstance(auto, str) else "NOTSET"
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        before, after = [], []
        for n, k, s, d in zip(x.shape[1:], kernel, stride, dilation):
            out = -(-n // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
            small, large = total // 2, total - total // 2
            before.append(small if auto == "SAME_UPPER" else large)
            after.append(large if auto == "SAME_UPPER" else small)
        return tuple(before), tuple(after), "same" if auto == "SAME_UPPER" else None
    if auto == "VALID":
        return (0,) * ndim, (0,) * ndim, None
    pads = t.attr(node, "pads")
    if pads is None:
        return (0,) * ndim, (0,) * ndim, None
    if len(pads) != 2 * ndim or any(p < 0 for p in pads):
        raise Unsupported(f"'pads' {list(pads)} is not {2 * ndim} amounts of zero or more")
    return tuple(int(p) for p in pads[:ndim]), tuple(int(p) for p in pads[ndim:]), None


def _padded(t: "Translator", node: Node, x: Act, before: tuple[int, ...], after: tuple[int, ...]) -> Act:
    """Asymmetric padding is a `pad` layer of its own before the window (cnncalc pads windows symmetrically)."""
    if before == after:
        return x
    act = t.layer(node, "pad", {"before": _compact(before), "after": _compact(after)}, (x,),
                  name=t.name(node) + ".pad", origin=f"{node.op_type} pads")
    if act is None:
        raise Blocked
    return act



def _conv(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    if len(x.shape) < 2:
        raise Unsupported("its input is not a volume")
    ndim = len(x.shape) - 1
    w = t.weight_dims(node.inputs[1], ndim + 2)
    kernel = tuple(w[2:])
    stride = _spatial_attr(t, node, "strides", ndim, 1)
    dilation = _spatial_attr(t, node, "dilations", ndim, 1)
    group = int(t.attr(node, "group", 1))
    before, after, same = _pads(t, node, x, kernel, stride, dilation)
    bias = len(node.inputs) > 2 and bool(node.inputs[2])
    params: dict[str, Any] = {"filters": w[0], "kernel": _compact(kernel)}
    if any(s != 1 for s in stride):
        params["stride"] = _compact(stride)
    if same is not None:
        params["padding"] = "same"
    else:
        x = _padded(t, node, x, before, after)
        if before == after and any(before):
            params["padding"] = _compact(before)
    if any(d != 1 for d in dilation):
        params["dilation"] = _compact(dilation)
    if group != 1:
        params["groups"] = group
    if x.shape[0] != w[1] * group:
        raise Unsupported(f"its weight expects {w[1] * group} input channels, the input has {x.shape[0]}")
    params["bias"] = bias
    if patchify_at(t, node, x, params):
        return
    t.layer(node, "conv", params, (x,))


def _transposed_pads(t: "Translator", node: Node, x: Act, kernel: tuple[int, ...], stride: tuple[int, ...],
                     dilation: tuple[int, ...], output_padding: tuple[int, ...]
                     ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """ConvTranspose's (pads before, pads after, output_padding) per spatial dim, as ONNX defines them: from
    `output_shape` or auto_pad SAME (total = S·(N − 1) + output_padding + D·(F − 1) + 1 − out, split in two,
    the odd one after for SAME_UPPER and before otherwise; a negative total is more output_padding), else `pads`."""
    ndim = len(kernel)
    auto = t.attr(node, "auto_pad", "NOTSET")
    shape = t.attr(node, "output_shape")
    if shape is None and auto not in ("SAME_UPPER", "SAME_LOWER"):
        before, after, _ = _pads(t, node, x, kernel, stride, dilation) if auto != "VALID" else ((0,) * ndim,) * 3
        return before, after, output_padding
    if shape is not None:
        shape = tuple(int(v) for v in shape)[-ndim:]
        if len(shape) != ndim:
            raise Unsupported(f"'output_shape' {list(shape)} does not give {ndim} spatial sizes")
    else:
        shape = tuple(n * s for n, s in zip(x.shape[1:], stride))
    before, after, extra = [], [], []
    for n, k, s, d, op, out in zip(x.shape[1:], kernel, stride, dilation, output_padding, shape):
        total = s * (n - 1) + op + d * (k - 1) + 1 - out
        small, large = max(total, 0) // 2, max(total, 0) - max(total, 0) // 2
        before.append(small if auto == "SAME_UPPER" else large)
        after.append(large if auto == "SAME_UPPER" else small)
        extra.append(op + max(-total, 0))
    return tuple(before), tuple(after), tuple(extra)


def _conv_transpose(t: "Translator", index: int, node: Node) -> None:
    """Uneven pads are the deconv's padding and output_padding: more before than after crops `before` from each
    side and gives back the difference at the end (exact); more after than before (TensorFlow's SAME) is
    PyTorch's way of writing it, padding = after and output_padding = the difference: the same shape, params
    and MACs, the output shifted by the difference (a note says so)."""
    x = t.act(node.inputs[0])
    ndim = len(x.shape) - 1
    if ndim < 1:
        raise Unsupported("its input is not a volume")
    w = t.weight_dims(node.inputs[1], ndim + 2)
    group = int(t.attr(node, "group", 1))
    kernel = tuple(w[2:])
    stride = _spatial_attr(t, node, "strides", ndim, 1)
    dilation = _spatial_attr(t, node, "dilations", ndim, 1)
    before, after, extra = _transposed_pads(t, node, x, kernel, stride, dilation,
                                            _spatial_attr(t, node, "output_padding", ndim, 0))
    # the output is the full transposed conv (with output_padding) cropped by `before` and `after`; a deconv with
    # padding P and output_padding Q crops P before and P − Q after: P = before and Q = before − (after − extra)
    # when that is not negative (exact), else P = after − extra and Q = P − before (shifted)
    net_after = tuple(a - op for a, op in zip(after, extra))
    padding = tuple(max(b, a) for b, a in zip(before, net_after))
    output_padding = tuple(2 * p - b - a for p, b, a in zip(padding, before, net_after))
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise Unsupported(f"pads {list(before)} before and {list(after)} after with output_padding "
                              f"{list(extra)}: the output padding they need ({op}) is not less than the stride {s} "
                              f"or the dilation {d}")
    params: dict[str, Any] = {"filters": w[1] * group, "kernel": _compact(kernel)}
    if any(s != 1 for s in stride):
        params["stride"] = _compact(stride)
    if any(padding):
        params["padding"] = _compact(padding)
    if any(output_padding):
        params["output_padding"] = _compact(output_padding)
    if any(d != 1 for d in dilation):
        params["dilation"] = _compact(dilation)
    if group != 1:
        params["groups"] = group
    params["bias"] = len(node.inputs) > 2 and bool(node.inputs[2])
    act = t.layer(node, "deconv", params, (x,))
    shift = tuple(p - b for p, b in zip(padding, before))
    if act is not None and any(shift):
        t.notes.append(Problem(t.location(node), (
            f"ConvTranspose '{node.name or node.outputs[0]}': pads {list(before)} before and {list(after)} after are "
            f"read as padding {_compact(padding)} and output_padding {_compact(output_padding)}, as PyTorch writes "
            f"them: the same shape, params and MACs; the output is the model's shifted by {_compact(shift)}, which "
            "moves the receptive field's centre, not its size"), NOTE))


def _pool(kind: str) -> Callable[["Translator", int, Node], None]:
    def handler(t: "Translator", index: int, node: Node) -> None:
        x = t.act(node.inputs[0])
        ndim = len(x.shape) - 1
        if ndim < 1:
            raise Unsupported("its input is not a volume")
        kernel = _spatial_attr(t, node, "kernel_shape", ndim, 1)
        stride = _spatial_attr(t, node, "strides", ndim, 1)
        dilation = _spatial_attr(t, node, "dilations", ndim, 1)
        if any(d != 1 for d in dilation):
            raise Unsupported("dilated pooling")
        if len(node.outputs) > 1 and node.outputs[1] and t.consumers.get(node.outputs[1]):
            raise Unsupported("its indices output is used")
        before, after, same = _pads(t, node, x, kernel, stride, dilation)
        x = _padded(t, node, x, before, after)
        params: dict[str, Any] = {"kernel": _compact(kernel), "stride": _compact(stride)}
        if before == after and any(before):
            params["padding"] = _compact(before)
        if t.attr(node, "ceil_mode", 0):
            params["ceil_mode"] = True
        t.layer(node, kind, params, (x,))
    return handler


def _global(kind: str) -> Callable[["Translator", int, Node], None]:
    def handler(t: "Translator", index: int, node: Node) -> None:
        t.layer(node, kind, {}, (t.act(node.inputs[0]),))
    return handler

def _batchnorm(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    for name in node.inputs[1:5]:
        dims = t.weight_dims(name)
        if dims != (x.shape[0],):
            raise Unsupported(f"'{name}' has dims {dims}, not one value per channel ({x.shape[0]})")
    params: dict[str, Any] = {}
    eps = float(t.attr(node, "epsilon", 1e-5))
    if abs(eps - 1e-5) > 1e-12:
        params["eps"] = eps
    momentum = 1 - float(t.attr(node, "momentum", 0.9))  # ONNX keeps this much of the running value: torch's 1 − m
    if abs(momentum - 0.1) > 1e-6:
        params["momentum"] = round(momentum, 6)
    t.layer(node, "batchnorm", params, (x,))


def _lrn(t: "Translator", index: int, node: Node) -> None:
    params = {"size": int(t.attr(node, "size", 5)), "alpha": float(t.attr(node, "alpha", 1e-4)),
              "beta": float(t.attr(node, "beta", 0.75)), "k": float(t.attr(node, "bias", 1.0))}
    t.layer(node, "lrn", params, (t.act(node.inputs[0]),))


def _dropout(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    ratio = t.attr(node, "ratio", 0.5)
    if t.opset >= 12 and len(node.inputs) > 1 and node.inputs[1]:
        values = t.values_of(node.inputs[1])
        ratio = values[0] if values else 0.5
    if len(node.outputs) > 1 and node.outputs[1] and t.consumers.get(node.outputs[1]):
        raise Unsupported("its mask output is used")
    t.layer(node, "dropout", {"p": float(ratio)}, (x,))


def _gemm(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    if t.attr(node, "transA", 0):
        raise Unsupported("transA")
    w = t.weight_dims(node.inputs[1], 2)
    units = w[0] if t.attr(node, "transB", 0) else w[1]
    inputs = w[1] if t.attr(node, "transB", 0) else w[0]
    if len(x.shape) != 1 or x.shape[0] != inputs:
        raise Unsupported(f"on an input of shape {x.shape}, with a weight for {inputs} inputs")
    t.layer(node, "fc", {"units": units, "bias": len(node.inputs) > 2 and bool(node.inputs[2])}, (x,))


def _matmul(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    w = t.weight_dims(node.inputs[1], 2)
    if (len(x.shape) != 1 and not is_tokens(x.shape)) or x.shape[0] != w[0]:
        raise Unsupported("other than a vector or a token sequence times a weight matrix")
    bias = False
    consumers = t.consumers.get(node.outputs[0], [])
    after = t.model.nodes[consumers[0]] if len(consumers) == 1 else None
    if after is not None and after.op_type == "Add" and len(after.inputs) == 2:
        other = after.inputs[1] if after.inputs[0] == node.outputs[0] else after.inputs[0]
        value = t.values.get(other)
        if isinstance(value, Const) and value.dims in ((w[1],), (1, w[1])):
            bias = True
            t.skip.add(consumers[0])
    act = t.layer(node, "fc", {"units": w[1], "bias": bias}, (x,))
    if bias and act is not None and after is not None:
        t.values[after.outputs[0]] = act


def _pad(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    rank = len(x.shape) + 1
    pads = t.values_of(node.inputs[1]) if t.opset >= 11 else t.attr(node, "pads")
    mode = t.attr(node, "mode", "constant")
    if pads is None or len(pads) != 2 * rank:
        raise Unsupported("pads for some axes only")
    begin, end = [int(p) for p in pads[:rank]], [int(p) for p in pads[rank:]]
    if begin[:2] != [0, 0] or end[:2] != [0, 0] or any(p < 0 for p in begin + end):
        raise Unsupported("of the batch or channels, or by a negative amount")
    params: dict[str, Any] = {}
    if begin[2:] == end[2:]:
        params["padding"] = _compact(tuple(begin[2:]))
    else:
        params["before"], params["after"] = _compact(tuple(begin[2:])), _compact(tuple(end[2:]))
    if mode != "constant":
        raise Unsupported(f"mode {mode}")
    t.layer(node, "pad", params, (x,))


def _resize(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    mode = t.attr(node, "mode", "nearest")
    mode = {"nearest": "nearest", "linear": "bilinear", "bilinear": "bilinear"}.get(mode)
    if mode is None:
        raise Unsupported(f"mode {t.attr(node, 'mode')}")
    if node.op_type == "Upsample":
        scales = t.attr(node, "scales") if t.opset < 9 else t.values_of(node.inputs[1])
        sizes = None
    else:
        scales = t.values_of(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        sizes = t.values_of(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else None
        if t.opset == 10:
            scales = t.values_of(node.inputs[1])
    if sizes:
        if len(sizes) != len(x.shape) + 1 or sizes[1] != x.shape[0]:
            raise Unsupported("of the batch or channels")
        t.layer(node, "upsample", {"size": _compact(tuple(int(s) for s in sizes[2:])), "mode": mode}, (x,))
        return
    if not scales or len(scales) != len(x.shape) + 1 or scales[0] != 1 or scales[1] != 1:
        raise Unsupported("by scales cnncalc cannot read")
    if any(float(s) != int(s) or s < 1 for s in scales[2:]):
        raise Unsupported(f"by a scale that is not a whole number ({list(scales[2:])})")
    t.layer(node, "upsample", {"scale": _compact(tuple(int(s) for s in scales[2:])), "mode": mode}, (x,))


HANDLERS: dict[str, Callable[["Translator", int, Node], None]] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul,
    "MaxPool": _pool("maxpool"), "AveragePool": _pool("avgpool"),
    "GlobalAveragePool": _global("globalavgpool"), "GlobalMaxPool": _global("globalmaxpool"),
    "BatchNormalization": _batchnorm, "LRN": _lrn, "Dropout": _dropout, "Pad": _pad, "Resize": _resize,
    "Upsample": _resize,
}

# docs/import.md's rows: the ONNX operator (and how it is read), the cnncalc kind
OPERATORS: tuple[tuple[str, str], ...] = (
    ("Conv (`auto_pad` SAME_UPPER as `padding: same`; SAME_LOWER and uneven `pads` as a `pad` layer before it)",
     "`conv`"),
    ("ConvTranspose (uneven `pads`, `output_shape` and `auto_pad` SAME as its `padding` and `output_padding`; "
     "more padding after than before as PyTorch writes it, the output shifted, and a note says so)", "`deconv`"),
    ("Gemm; MatMul with a weight matrix, and the Add after it as its bias", "`fc`"),
    ("MaxPool, AveragePool (`ceil_mode` as ONNX defines it, which is PyTorch's rule)", "`maxpool`, `avgpool`"),
    ("GlobalAveragePool, GlobalMaxPool", "`globalavgpool`, `globalmaxpool`"),
    ("BatchNormalization (running mean and variance non-trainable)", "`batchnorm`"),
    ("LRN", "`lrn`"),
    ("Dropout", "`dropout`"),
    ("Pad (constant, spatial dims)", "`pad`"),
    ("Resize, Upsample (whole scales or sizes; nearest, linear)", "`upsample`"),
)
