"""ONNX operators that keep their input's layout: activations, Softmax, Clip, Flatten and Reshape, and the merges
(Add, Mul, Div, Concat), with the node patterns exporters write for one cnncalc kind (PyTorch's exact GELU as
Div → Erf → Add → Mul → Mul)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .onnx_proto import Node
from .onnx_layout import shuffle_at
from .onnx_tokens import with_parameter
from .onnx_values import BATCH, Act, Const, Unsupported

if TYPE_CHECKING:
    from .onnx import Translator

_ELEMENTWISE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSigmoid": "hardsigmoid",
                "HardSwish": "hardswish", "Gelu": "gelu", "Identity": "identity", "Mish": "mish"}


def _elementwise(t: "Translator", index: int, node: Node) -> None:
    """An activation; Sigmoid whose output multiplies its own input is SiLU (x·σ(x), as PyTorch exports it)."""
    x = t.act(node.inputs[0])
    if node.op_type == "Sigmoid":
        product = t.follower(node.outputs[0], "Mul")
        if product and sorted(product[1].inputs) == sorted((node.inputs[0], node.outputs[0])):
            t.skip.add(product[0])
            act = t.layer(node, "silu", {}, (x,), origin="Sigmoid · x (SiLU)")
            if act is not None:
                t.values[product[1].outputs[0]] = act
            return
    t.layer(node, _ELEMENTWISE[node.op_type], {}, (x,))


def _leaky(t: "Translator", index: int, node: Node) -> None:
    t.layer(node, "leakyrelu", {"negative_slope": float(t.attr(node, "alpha", 0.01))}, (t.act(node.inputs[0]),))


def _softmax(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    axis = int(t.attr(node, "axis", 1 if t.opset < 13 else -1))
    rank = len(x.shape) + 1
    if axis % rank != 1 and not (rank == 2 and axis % rank == 1):
        raise Unsupported(f"over axis {axis}, not the channels")
    t.layer(node, "softmax", {}, (x,))


def _clip(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    if t.opset >= 11:
        low = t.values_of(node.inputs[1]) if len(node.inputs) > 1 else None
        high = t.values_of(node.inputs[2]) if len(node.inputs) > 2 else None
        low, high = (low[0] if low else None), (high[0] if high else None)
    else:
        low, high = t.attr(node, "min"), t.attr(node, "max")
    if low == 0 and high == 6:
        t.layer(node, "relu6", {}, (x,))
    elif low == 0 and high is None:
        t.layer(node, "relu", {}, (x,))
    else:
        raise Unsupported(f"to [{low}, {high}]")


def _flatten(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    axis = int(t.attr(node, "axis", 1))
    if axis != 1:
        raise Unsupported(f"from axis {axis}: only the whole-sample flatten (axis 1) is a cnncalc layer")
    t.layer(node, "flatten", {}, (x,))


def _reshape(t: "Translator", index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    target = list(t.values_of(node.inputs[1]) or ())
    size = 1
    for d in x.shape:
        size *= d
    if len(target) >= 1 and target[0] == 0:
        target[0] = BATCH
    batch = target[0] if target else None
    rest = target[1:]
    rest = [x.shape[i] if d == 0 and i < len(x.shape) else d for i, d in enumerate(rest)]
    if batch is BATCH or batch == -1 or (isinstance(batch, int) and batch == _batch_size(t)):
        if shuffle_at(t, index, node, x, [batch, *rest]):
            return
        if rest in ([-1], [size]):
            t.layer(node, "flatten", {}, (x,))
            return
        if tuple(rest) == x.shape:
            t.alias(node, x)
            return
    raise Unsupported("to a shape other than a whole-sample flatten")


def _batch_size(t: "Translator") -> int | None:
    for info in t.model.inputs:
        if info.name not in t.model.initializers and info.dims:
            return info.dims[0] if isinstance(info.dims[0], int) else None
    return None


def _merge(kind: str) -> Callable[["Translator", int, Node], None]:
    def handler(t: "Translator", index: int, node: Node) -> None:
        values = [t.values.get(name) for name in node.inputs]
        if not all(isinstance(v, Act) for v in values):
            if kind in ("add", "concat") and with_parameter(t, node, kind):
                return
            if node.op_type == "Div":
                raise Unsupported("by a constant")
            raise Unsupported("with a constant" if kind != "concat" else "of constants and activations")
        if kind == "concat":
            rank = len(values[0].shape) + 1
            if int(t.attr(node, "axis", 1)) % rank != 1:
                raise Unsupported(f"along axis {t.attr(node, 'axis')}, not the channels")
        if len(values) == 1:
            t.alias(node, values[0])
            return
        t.layer(node, kind, {}, tuple(values))
    return handler


def _mul(t: "Translator", index: int, node: Node) -> None:
    """A product of activations (a squeeze-excite gate); an activation times a learnt factor per channel (C or
    C×1×1, an initializer) is a `scale` (ConvNeXt's layer scale)."""
    if _gelu_at(t, index, node):
        return
    values = [t.values.get(name) for name in node.inputs]
    acts = [v for v in values if isinstance(v, Act)]
    weights = [v for v in values if isinstance(v, Const)]
    if len(acts) == 1 and len(weights) == 1 and weights[0].name in t.model.initializers:
        x, dims = acts[0], weights[0].dims or ()
        if dims and dims[0] == 1 and len(dims) == len(x.shape) + 1:
            dims = dims[1:]
        if dims and dims[0] == x.shape[0] > 1 and all(d == 1 for d in dims[1:]) and len(dims) == len(x.shape):
            t.layer(node, "scale", {}, (x,))
            return
    _merge("mul")(t, index, node)


def _div(t: "Translator", index: int, node: Node) -> None:
    if _gelu_at(t, index, node):
        return
    raise Unsupported("by a constant" if not all(isinstance(t.values.get(n), Act) for n in node.inputs) else "")


def _gelu_at(t: "Translator", index: int, node: Node) -> bool:
    """PyTorch's exact GELU before opset 20: x/√2 → Erf → +1 → ·x → ·0.5 (the last two in either order)."""

    def scalar(name: str) -> float | None:
        value = t.ahead(name)
        return value.values[0] if isinstance(value, Const) and value.values and len(value.values) == 1 else None

    if node.op_type != "Div" or len(node.inputs) != 2 or not isinstance(t.values.get(node.inputs[0]), Act):
        return False
    x_name = node.inputs[0]
    divisor = scalar(node.inputs[1])
    if divisor is None or abs(divisor - 2 ** 0.5) > 1e-3:
        return False
    erf = t.follower(node.outputs[0], "Erf")
    plus = erf and t.follower(erf[1].outputs[0], "Add")
    if not plus or not any(scalar(n) == 1 for n in plus[1].inputs):
        return False
    first = t.follower(plus[1].outputs[0], "Mul")
    second = first and t.follower(first[1].outputs[0], "Mul")
    if not second:
        return False
    operands = set(first[1].inputs) | set(second[1].inputs)
    if x_name not in operands or not any(scalar(n) == 0.5 for n in operands):
        return False
    t.skip.update(position for position, _ in (erf, plus, first, second))
    act = t.layer(node, "gelu", {}, (t.act(x_name),), origin="Erf (GELU)")
    if act is not None:
        t.values[second[1].outputs[0]] = act
    return True


HANDLERS: dict[str, Callable[["Translator", int, Node], None]] = {
    "LeakyRelu": _leaky, "Softmax": _softmax, "Clip": _clip, "Flatten": _flatten, "Reshape": _reshape,
    "Add": _merge("add"), "Mul": _mul, "Div": _div, "Concat": _merge("concat"),
    **{op: _elementwise for op in _ELEMENTWISE},
}

# docs/import.md's rows: the ONNX operator (and how it is read), the cnncalc kind
OPERATORS: tuple[tuple[str, str], ...] = (
    ("Relu, LeakyRelu, Sigmoid, Tanh, Softmax (over the channels)",
     "`relu`, `leakyrelu`, `sigmoid`, `tanh`, `softmax`"),
    ("Clip to [0, 6]; Clip to [0, ∞)", "`relu6`; `relu`"),
    ("HardSigmoid, HardSwish, Mish", "`hardsigmoid`, `hardswish`, `mish`"),
    ("Sigmoid whose output multiplies its own input (x·σ(x), PyTorch's SiLU)", "`silu`"),
    ("Gelu, and PyTorch's exact GELU before opset 20 (Div by √2 → Erf → Add 1 → Mul by x → Mul by ½)", "`gelu`"),
    ("Flatten (axis 1); Reshape to [N, −1] or [N, C·H·W]", "`flatten`"),
    ("Add, Mul, Concat (channels) of activations", "`add`, `mul`, `concat`"),
    ("Mul of an activation by a learnt factor per channel (an initializer of C or C×1×1 values)", "`scale`"),
    ("Identity", "`identity`"),
)
