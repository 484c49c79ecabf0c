"""The values an ONNX graph passes between nodes, as the importer tracks them, and the constant arithmetic
of the shape chains exporters emit around Flatten and Reshape (Shape → Gather → Unsqueeze → Concat).

A value is an activation (`Act`: the cnncalc layer that makes it and its shape, channels first, no batch),
a constant (`Const`: an initializer, a Constant node or a computed shape, with its values when known; the
batch size is the symbol BATCH) or `Unread` (made by an operator cnncalc could not translate).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .onnx_proto import Node

MAX_CONST_VALUES = 4096


class _Batch:
    """The batch dimension: symbolic, whatever the model says; cnncalc computes per sample."""

    def __repr__(self) -> str:
        return "N"


BATCH = _Batch()


class Act(NamedTuple):
    layer: str  # the cnncalc layer that makes it ('input' for the network's input)
    shape: tuple[int, ...]  # channels first, no batch


class Const(NamedTuple):
    dims: tuple[int, ...] | None  # None: unknown
    values: tuple[Any, ...] | None  # flattened, row-major; None: not known
    name: str = ""


class Unread(NamedTuple):
    """An output of a node cnncalc did not translate: what reads it cannot be computed either."""

    node: str
    shape: tuple[int, ...] | None = None  # channels first, no batch, when the model says it


class Unsupported(Exception):
    """This node cannot be translated: `reason` says why (shown next to the op type)."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class Blocked(Exception):
    """An input comes from an untranslated node: this node is not translated either (and not reported)."""


class NotConstant(Exception):
    """The constant cannot be computed here (unknown values, an operation this evaluator does not do)."""


# What evaluating a hostile file's constants may raise: each means "not a constant cnncalc can compute".
EVALUATION_ERRORS = (NotConstant, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError)


def _count(dims: tuple[int, ...]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def _known(value: Const) -> tuple[Any, ...]:
    if value.values is None:
        raise NotConstant
    return value.values


def _ints(attr) -> list[int]:
    return list(attr.value) if attr is not None and isinstance(attr.value, list) else []


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise NotConstant
    return axis + rank if axis < 0 else axis


def evaluate(node: Node, inputs: list[Any], opset: int) -> list[Const]:
    """The outputs of a node all of whose inputs are constants (or, for Shape, an activation); raises
    NotConstant when they cannot be known here."""
    op = node.op_type
    attr = node.attributes.get
    if op == "Shape":
        (x,) = inputs[:1]
        if isinstance(x, Act):
            full: tuple[Any, ...] = (BATCH,) + x.shape
        elif isinstance(x, Const) and x.dims is not None:
            full = x.dims
        else:
            raise NotConstant
        start = attr("start").value if attr("start") else 0
        end = attr("end").value if attr("end") else len(full)
        part = full[slice(start, end)]
        return [Const((len(part),), tuple(part))]
    constants = [v for v in inputs if v is not None]
    if not all(isinstance(v, Const) for v in constants):
        raise NotConstant
    if op in ("Identity", "Cast"):
        return [inputs[0]]
    if op == "Constant":
        for key in ("value", "value_int", "value_ints", "value_float", "value_floats"):
            a = attr(key)
            if a is None:
                continue
            if key == "value":
                if not hasattr(a.value, "dims"):  # a hostile file: 'value' that is not a tensor
                    raise NotConstant
                return [Const(a.value.dims, a.value.values, a.value.name)]
            if key.endswith("s"):
                return [Const((len(a.value),), tuple(a.value))]
            return [Const((), (a.value,))]
        raise NotConstant
    if op == "Unsqueeze":
        data = inputs[0]
        axes = _ints(attr("axes")) if opset < 13 else list(_known(inputs[1])) if len(inputs) > 1 else []
        if data.dims is None:
            raise NotConstant
        dims = list(data.dims)
        rank = len(dims) + len(axes)
        for axis in sorted(_axis(a, rank) for a in axes):
            dims.insert(axis, 1)
        return [Const(tuple(dims), data.values)]
    if op == "Squeeze":
        data = inputs[0]
        if data.dims is None:
            raise NotConstant
        axes = _ints(attr("axes")) if opset < 13 else list(_known(inputs[1])) if len(inputs) > 1 else []
        keep = set(range(len(data.dims))) - {_axis(a, len(data.dims)) for a in axes} if axes else \
            {i for i, d in enumerate(data.dims) if d != 1}
        return [Const(tuple(d for i, d in enumerate(data.dims) if i in keep), data.values)]
    if op == "Gather":
        data, indices = inputs[0], inputs[1]
        if data.dims is None or len(data.dims) != 1 or indices.dims is None:
            raise NotConstant
        values, picks = _known(data), _known(indices)
        axis = attr("axis").value if attr("axis") else 0
        if axis != 0:
            raise NotConstant
        picked = tuple(values[_axis(int(i), len(values))] for i in picks)
        return [Const(indices.dims, picked)]
    if op == "Concat":
        parts = [v for v in inputs if v is not None]
        if any(p.dims is None or len(p.dims) != 1 for p in parts):
            raise NotConstant
        values = tuple(x for p in parts for x in _known(p))
        return [Const((len(values),), values)]
    if op == "Slice" and opset >= 10:
        data = inputs[0]
        if data.dims is None or len(data.dims) != 1:
            raise NotConstant
        starts, ends = _known(inputs[1]), _known(inputs[2])
        steps = _known(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else (1,)
        values = _known(data)[slice(int(starts[0]), int(ends[0]), int(steps[0]))]
        return [Const((len(values),), values)]
    if op in ("Add", "Sub", "Mul", "Div") and len(inputs) == 2:
        a, b = _known(inputs[0]), _known(inputs[1])
        if len(a) != len(b) and 1 not in (len(a), len(b)):
            raise NotConstant
        if any(v is BATCH for v in a + b):
            raise NotConstant
        n = max(len(a), len(b))
        a, b = (a * n if len(a) == 1 else a), (b * n if len(b) == 1 else b)
        if op == "Div" and all(isinstance(v, int) for v in a + b):
            if 0 in b:
                raise NotConstant
            result = tuple(int(x / y) for x, y in zip(a, b))
        else:
            function = {"Add": lambda x, y: x + y, "Sub": lambda x, y: x - y, "Mul": lambda x, y: x * y,
                        "Div": lambda x, y: x / y if y else float("nan")}[op]
            result = tuple(function(x, y) for x, y in zip(a, b))
        dims = inputs[0].dims if len(inputs[0].values) >= len(inputs[1].values) else inputs[1].dims
        return [Const(dims, result)]
    if op == "ConstantOfShape":
        dims = tuple(int(d) for d in _known(inputs[0]))
        if any(isinstance(d, _Batch) for d in dims) or _count(dims) > MAX_CONST_VALUES:
            raise NotConstant
        fill = attr("value").value.values[0] if attr("value") and attr("value").value.values else 0.0
        return [Const(dims, (fill,) * _count(dims))]
    if op == "Reshape":
        data, shape = inputs[0], inputs[1]
        target = [int(d) for d in _known(shape)]
        values = _known(data)
        if target.count(-1) == 1:
            rest = _count(tuple(d for d in target if d != -1)) or 1
            target[target.index(-1)] = len(values) // rest
        return [Const(tuple(target), values)]
    raise NotConstant
