"""ONNX model → ImportedNetwork: each node translated to a cnncalc kind, constants evaluated, nothing guessed.

Nodes are read in the graph's order (ONNX requires it to be topological). A node whose inputs are all
constants is evaluated when it is part of a shape computation (Shape, Gather, Unsqueeze, Concat, ...);
every other node becomes a layer of cnncalc's own kinds (OPERATORS lists them) or is an unknown operator:
those are listed by type with their count and first node, never counted as zero.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..kinds import REGISTRY
from ..problems import NOTE, WARNING, Location, Problem, SpecError
from ..spec import INPUT_NAME
from .network import ImportedNetwork, NetworkBuilder
from .onnx_proto import DTYPE_NAMES, Model, Node, Tensor
from .onnx_values import BATCH, Act, Const, NotConstant, Unread, evaluate

# What the reader needs of a kind that another part of cnncalc may not have yet: the op is unknown until then.
_STANDARD_DOMAINS = ("", "ai.onnx")
_CONSTANT_OPS = frozenset({"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast",
                           "Identity", "Add", "Sub", "Mul", "Div", "ConstantOfShape", "Reshape", "Expand"})
_SHAPE_OPS = frozenset({"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "ConstantOfShape", "Slice",
                        "Concat"})
_ELEMENTWISE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSigmoid": "hardsigmoid",
                "HardSwish": "hardswish", "Gelu": "gelu", "Identity": "identity", "Elu": "elu", "Selu": "selu",
                "Mish": "mish"}
FOLDED_NAME = re.compile(r"onnx::(Conv|Gemm|MatMul)_\d+|.*(bn|batchnorm|batch_norm|fused).*", re.IGNORECASE)


class _Unsupported(Exception):
    """This node cannot be translated: `reason` says why (shown next to the op type)."""

    def __init__(self, reason: str = ""):
        super().__init__(reason)
        self.reason = reason


class Translator:
    def __init__(self, model: Model, source: str, input_shape: tuple[int, ...] | None, allow_unknown: bool = False):
        self.model = model
        self.allow_unknown = allow_unknown
        self.source = source
        self.opset = model.opset or 1
        self.values: dict[str, Any] = {name: Const(t.dims, t.values, name) for name, t in model.initializers.items()}
        self.consumers: dict[str, list[int]] = {}
        for index, node in enumerate(model.nodes):
            for name in node.inputs:
                if name:
                    self.consumers.setdefault(name, []).append(index)
        self.unknown: dict[str, list[Node]] = {}
        self.skip: set[int] = set()
        self.notes: list[Problem] = []
        self.graph_outputs = {info.name: info for info in model.outputs}
        self.paths: dict[str, int] = {}  # module path → nodes that may become layers under it
        for node in model.nodes:
            path = self._path(node)[0]
            self.paths[path] = self.paths.get(path, 0) + (node.op_type not in _SHAPE_OPS)
        self.builder = NetworkBuilder(source, self._input(input_shape))

    # -- where and what --------------------------------------------------------------------------
    def location(self, node: Node | None = None, offset: int = 0) -> Location:
        return Location(self.source, 1, (node.offset if node is not None else offset) + 1)

    def _path(self, node: Node) -> tuple[str, str]:
        """PyTorch's node names are module paths: '/layer1/layer1.0/conv1/Conv' → ('layer1.0.conv1', 'conv')."""
        raw = node.name or (node.outputs[0] if node.outputs else node.op_type)
        parts = [p for p in raw.split("/") if p]
        op = ""
        if parts and re.fullmatch(re.escape(node.op_type) + r"(_\d+)?", parts[-1]):
            op = parts.pop().lower()
        path = ""
        for part in parts:
            path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
        return path, op or node.op_type.lower()

    def name(self, node: Node) -> str:
        path, op = self._path(node)
        if not path:
            return op
        if self.paths.get(path, 0) > 1 or any(other.startswith(path + ".") for other in self.paths
                                              if len(other) > len(path)):
            return f"{path}.{op}"  # a module that holds others or makes several layers: each named after its op
        return path

    # -- the input -------------------------------------------------------------------------------
    def _input(self, override: tuple[int, ...] | None) -> tuple[int, ...]:
        model = self.model
        real = [info for info in model.inputs if info.name not in model.initializers]
        if not real:
            raise SpecError([Problem(self.location(), "the model has no input (every graph input is an initializer)")])
        data = real[0]
        for info in real[1:]:  # weights given as inputs (exported without parameters)
            dims = tuple(d if isinstance(d, int) else 0 for d in info.dims) if info.dims is not None else None
            self.values[info.name] = Const(dims, None, info.name)
        where = self.location(offset=data.offset)
        dims = data.dims
        batch_text = ""
        if dims is not None and dims:
            batch = dims[0]
            batch_text = (f"its batch dimension '{batch}' is symbolic" if isinstance(batch, str) or batch is None
                          else f"its batch size {batch} is the export's")
        if override is not None:
            if dims is not None and len(dims) - 1 != len(override):
                raise SpecError([Problem(where, f"--input gives {len(override)} sizes, but the model's input "
                                                f"'{data.name}' has {len(dims) - 1} after the batch dimension")])
            if dims is not None and isinstance(dims[1], int) and dims[1] > 0 and dims[1] != override[0]:
                raise SpecError([Problem(where, f"--input gives {override[0]} channels, but the model's input "
                                                f"'{data.name}' has {dims[1]}")])
            shape = override
        else:
            if dims is None or len(dims) < 2:
                raise SpecError([Problem(where, f"the model does not give the shape of its input '{data.name}'; "
                                                "give it with --input, e.g. --input 3x224x224")])
            unknown = [str(d) if d is not None else "?" for d in dims[1:] if not isinstance(d, int) or d <= 0]
            if unknown:
                given = "×".join(str(d) if isinstance(d, int) and d > 0 else str(d or "?") for d in dims[1:])
                raise SpecError([Problem(where, f"the model's input '{data.name}' is {given}: its size "
                                                f"{', '.join(repr(u) for u in unknown)} is not fixed; give the size "
                                                "with --input, e.g. --input 3x224x224 (channels, then spatial sizes)")])
            shape = tuple(dims[1:])  # type: ignore[arg-type]
        if len(shape) > 4:
            raise SpecError([Problem(where, f"the input '{data.name}' has {len(shape)} dims after the batch; cnncalc "
                                            "reads channels and 1 to 3 spatial dims")])
        if batch_text:
            self.notes.append(Problem(where, f"the input '{data.name}' is {'×'.join(map(str, shape))} per sample: "
                                             f"{batch_text}, and cnncalc computes per sample (--batch sets a batch)",
                                      NOTE))
        self.values[data.name] = Act(INPUT_NAME, tuple(shape))
        return tuple(shape)

    # -- values ----------------------------------------------------------------------------------
    def act(self, name: str) -> Act:
        value = self.values.get(name)
        if isinstance(value, Act):
            return value
        if isinstance(value, Unread):
            raise _Blocked
        raise _Unsupported("its data input is a constant" if value is not None else f"its input '{name}' is missing")

    def const(self, name: str) -> Const:
        value = self.values.get(name)
        if isinstance(value, Const):
            return value
        raise _Unsupported(f"'{name}' must be a constant (an initializer), not a computed tensor")

    def weight_dims(self, name: str, rank: int | None = None) -> tuple[int, ...]:
        value = self.const(name)
        if value.dims is None or (rank is not None and len(value.dims) != rank):
            raise _Unsupported(f"its weight '{name}' has dims {value.dims}, not {rank} of them")
        return value.dims

    def values_of(self, name: str) -> tuple[Any, ...] | None:
        if not name:
            return None
        value = self.const(name)
        if value.values is None:
            raise _Unsupported(f"the values of '{name}' are not known before running the model")
        return value.values

    def attr(self, node: Node, key: str, default: Any = None) -> Any:
        attribute = node.attributes.get(key)
        return default if attribute is None or attribute.value is None else attribute.value

    # -- the walk --------------------------------------------------------------------------------
    def run(self) -> ImportedNetwork:
        for index, node in enumerate(self.model.nodes):
            if index in self.skip:
                continue
            self.node(index, node)
        return self.network()

    def node(self, index: int, node: Node) -> None:
        inputs = [self.values.get(name) if name else None for name in node.inputs]
        if any(isinstance(v, Unread) for v in inputs):  # after an untranslated node: reported only if unknown itself
            if node.domain not in _STANDARD_DOMAINS or (node.op_type not in _HANDLERS and
                                                        node.op_type not in _CONSTANT_OPS):
                self.unknown.setdefault(self.label(node, ""), []).append(node)
            self.unread(node)
            return
        if node.domain in _STANDARD_DOMAINS and node.op_type in _CONSTANT_OPS and (
                node.op_type == "Shape" or all(isinstance(v, Const) for v in inputs if v is not None)):
            try:
                outputs = evaluate(node, inputs, self.opset)
                for name, value in zip(node.outputs, outputs):
                    self.values[name] = value
                return
            except (NotConstant, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError):
                if all(isinstance(v, Const) for v in inputs if v is not None):
                    for name in node.outputs:
                        self.values[name] = Const(None, None, name)
                    return
        handler = _HANDLERS.get(node.op_type) if node.domain in _STANDARD_DOMAINS else None
        try:
            if handler is None:
                raise _Unsupported("")
            handler(self, index, node)
        except _Blocked:
            self.unread(node)
        except _Unsupported as unsupported:
            self.unknown.setdefault(self.label(node, unsupported.reason), []).append(node)
            if self.allow_unknown:
                self.pass_through(node, inputs)
            else:
                self.unread(node)

    def pass_through(self, node: Node, inputs: list[Any]) -> None:
        """--allow-unknown: an `unknown` layer per output the graph reads, with the shape ONNX's value_info gives."""
        source = next((v for v in inputs if isinstance(v, Act)), None)
        source = source or Act(INPUT_NAME, self.builder.input_shape)
        outputs = [name for name in node.outputs if name and (self.consumers.get(name) or name in self.graph_outputs)]
        for position, output in enumerate(outputs):
            info = self.model.value_info.get(output) or self.graph_outputs.get(output)
            dims = info.dims if info is not None else None
            if dims is None or len(dims) < 2 or not all(isinstance(d, int) and d > 0 for d in dims[1:]):
                self.builder.problems.append(Problem(self.location(node), (
                    f"{node.op_type} '{node.name or output}': the model does not give the shape of its output "
                    f"'{output}', so --allow-unknown cannot pass it on; add the shapes with onnx's shape inference "
                    "(onnx.shape_inference.infer_shapes) and save the model again")))
                self.values[output] = Unread(node.name)
                continue
            shape = tuple(dims[1:])  # the batch dimension dropped, as for the input
            params: dict[str, Any] = {"channels": shape[0]}
            if len(shape) > 1:
                params["size"] = shape[1] if len(shape) == 2 else tuple(shape[1:])
            name = self.name(node) + (f".{position}" if position else "")
            act = self.layer(node, "unknown", params, (source,), node.outputs.index(output), name=name,
                             origin=f"{node.op_type} (unknown)")
            if act is not None:
                self.values[output] = act

    def label(self, node: Node, reason: str) -> str:
        label = node.op_type + (f" ({reason})" if reason else "")
        return label if node.domain in _STANDARD_DOMAINS else f"{node.domain}.{label}"

    def unread(self, node: Node) -> None:
        for name in node.outputs:
            self.values[name] = Unread(node.name)

    def layer(self, node: Node, kind: str, params: dict[str, Any], inputs: tuple[Act, ...], output: int = 0,
              name: str | None = None, origin: str | None = None) -> Act | None:
        """Add a layer of `kind` reading `inputs`; its output is the node's output `output`."""
        if kind not in REGISTRY:
            raise _Unsupported(f"cnncalc has no '{kind}' kind yet")
        added = self.builder.add(kind, params, tuple(a.layer for a in inputs), name or self.name(node),
                                 self.location(node), origin or node.op_type)
        if added is None:
            for out in node.outputs:
                self.values[out] = Unread(node.name)
            return None
        act = Act(added, self.builder.shape(added))
        if node.outputs:
            self.values[node.outputs[output]] = act
        return act

    def alias(self, node: Node, act: Act) -> None:
        if node.outputs:
            self.values[node.outputs[0]] = act

    def network(self) -> ImportedNetwork:
        problems = list(dict.fromkeys(self.builder.problems))
        if self.unknown and self.allow_unknown:
            counts = ", ".join(f"{label} ×{len(nodes)}" for label, nodes in self.unknown.items())
            self.notes.append(Problem(self.location(), f"operators cnncalc does not know ({counts}) are read with the "
                                      "model's shapes as 'unknown' layers: their params and MACs are left out of the "
                                      "totals", WARNING))
        elif self.unknown:
            for label, nodes in sorted(self.unknown.items(), key=lambda item: -len(item[1])):
                first = nodes[0]
                problems.append(Problem(self.location(first), f"unknown operator {label}: {len(nodes)} node"
                                        f"{'s' if len(nodes) != 1 else ''}, the first '{first.name or first.outputs[0]}'"))
            kinds = len(self.unknown)
            problems.append(Problem(self.location(), f"{kinds} operator type{'s' if kinds != 1 else ''} above "
                                    f"{'are' if kinds != 1 else 'is'} not known to cnncalc and nothing is counted as "
                                    "zero; --allow-unknown reads the rest, takes those layers' shapes from the model "
                                    "and leaves their params and MACs out of the totals"))
        if problems:
            raise SpecError(problems)
        self.folding_note()
        model = self.model
        producer = " ".join(p for p in (model.producer, model.producer_version) if p)
        header = (f"ONNX model, IR version {model.ir_version}, opset {model.opset}"
                  + (f", produced by {producer}" if producer else ""),)
        name = model.graph_name
        if name in ("", "main_graph", "torch_jit", "torch-jit-export", "tf2onnx", "model", "graph"):
            from pathlib import Path

            name = Path(self.source).stem or "model"
        return ImportedNetwork(name, self.source, self.builder.input_shape, tuple(self.builder.layers), header,
                               tuple(self.notes), self.location())

    def folding_note(self) -> None:
        """Eval-mode exports fold BatchNorm into the convolutions: say so when the names or the producer show it."""
        if any(n.op_type == "BatchNormalization" for n in self.model.nodes):
            return
        folded = [n for n in self.model.nodes if n.op_type in ("Conv", "Gemm", "ConvTranspose") and len(n.inputs) > 2
                  and n.inputs[2] and any(FOLDED_NAME.fullmatch(i) for i in n.inputs[1:3])]
        if not folded:
            return
        self.notes.append(Problem(self.location(folded[0]), (
            f"{len(folded)} convolution{'s' if len(folded) != 1 else ''} with a bias whose weights were computed at "
            "export (names such as '" + folded[0].inputs[1] + "'): BatchNorm was probably folded into them, so the "
            "params count the folded model, not the one that was trained. To keep BatchNorm, export in training "
            "mode: torch.onnx.export(..., training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)"),
            NOTE))


class _Blocked(Exception):
    """An input comes from an untranslated node: this node is not translated either (and not reported)."""


# -- the operators ------------------------------------------------------------------------------------
def _spatial_attr(t: Translator, node: Node, key: str, ndim: int, default: int) -> tuple[int, ...]:
    value = t.attr(node, key)
    if value is None:
        return (default,) * ndim
    if len(value) != ndim:
        raise _Unsupported(f"'{key}' has {len(value)} values for {ndim} spatial dims")
    return tuple(int(v) for v in value)


def _compact(values: tuple[int, ...]) -> int | tuple[int, ...]:
    return values[0] if len(set(values)) == 1 else tuple(values)


def _pads(t: Translator, node: Node, x: Act, kernel: tuple[int, ...], stride: tuple[int, ...],
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
        raise _Unsupported(f"'pads' {list(pads)} is not {2 * ndim} amounts of zero or more")
    return tuple(int(p) for p in pads[:ndim]), tuple(int(p) for p in pads[ndim:]), None


def _padded(t: Translator, node: Node, x: Act, before: tuple[int, ...], after: tuple[int, ...]) -> Act:
    """Asymmetric padding is a `pad` layer of its own before the window (cnncalc pads windows symmetrically)."""
    if before == after:
        return x
    act = t.layer(node, "pad", {"before": _compact(before), "after": _compact(after)}, (x,),
                  name=t.name(node) + ".pad", origin=f"{node.op_type} pads")
    if act is None:
        raise _Blocked
    return act


def _conv(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    if len(x.shape) < 2:
        raise _Unsupported("its input is not a volume")
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
        raise _Unsupported(f"its weight expects {w[1] * group} input channels, the input has {x.shape[0]}")
    params["bias"] = bias
    t.layer(node, "conv", params, (x,))


def _conv_transpose(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    ndim = len(x.shape) - 1
    w = t.weight_dims(node.inputs[1], ndim + 2)
    group = int(t.attr(node, "group", 1))
    kernel = tuple(w[2:])
    stride = _spatial_attr(t, node, "strides", ndim, 1)
    dilation = _spatial_attr(t, node, "dilations", ndim, 1)
    output_padding = _spatial_attr(t, node, "output_padding", ndim, 0)
    if t.attr(node, "output_shape") is not None or t.attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise _Unsupported("output_shape or auto_pad SAME")
    pads = t.attr(node, "pads") or [0] * (2 * ndim)
    before, after = tuple(pads[:ndim]), tuple(pads[ndim:])
    if before != after:
        raise _Unsupported("asymmetric pads")
    params: dict[str, Any] = {"filters": w[1] * group, "kernel": _compact(kernel)}
    if any(s != 1 for s in stride):
        params["stride"] = _compact(stride)
    if any(before):
        params["padding"] = _compact(before)
    if any(output_padding):
        params["output_padding"] = _compact(output_padding)
    if any(d != 1 for d in dilation):
        params["dilation"] = _compact(dilation)
    if group != 1:
        params["groups"] = group
    params["bias"] = len(node.inputs) > 2 and bool(node.inputs[2])
    t.layer(node, "deconv", params, (x,))


def _pool(kind: str) -> Callable[[Translator, int, Node], None]:
    def handler(t: Translator, index: int, node: Node) -> None:
        x = t.act(node.inputs[0])
        ndim = len(x.shape) - 1
        if ndim < 1:
            raise _Unsupported("its input is not a volume")
        kernel = _spatial_attr(t, node, "kernel_shape", ndim, 1)
        stride = _spatial_attr(t, node, "strides", ndim, 1)
        dilation = _spatial_attr(t, node, "dilations", ndim, 1)
        if any(d != 1 for d in dilation):
            raise _Unsupported("dilated pooling")
        if len(node.outputs) > 1 and node.outputs[1] and t.consumers.get(node.outputs[1]):
            raise _Unsupported("its indices output is used")
        before, after, same = _pads(t, node, x, kernel, stride, dilation)
        x = _padded(t, node, x, before, after)
        params: dict[str, Any] = {"kernel": _compact(kernel), "stride": _compact(stride)}
        if before == after and any(before):
            params["padding"] = _compact(before)
        if t.attr(node, "ceil_mode", 0):
            params["ceil_mode"] = True
        t.layer(node, kind, params, (x,))
    return handler


def _global(kind: str) -> Callable[[Translator, int, Node], None]:
    def handler(t: Translator, index: int, node: Node) -> None:
        t.layer(node, kind, {}, (t.act(node.inputs[0]),))
    return handler


def _elementwise(t: Translator, index: int, node: Node) -> None:
    t.layer(node, _ELEMENTWISE[node.op_type], {}, (t.act(node.inputs[0]),))


def _leaky(t: Translator, index: int, node: Node) -> None:
    t.layer(node, "leakyrelu", {"negative_slope": float(t.attr(node, "alpha", 0.01))}, (t.act(node.inputs[0]),))


def _softmax(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    axis = int(t.attr(node, "axis", 1 if t.opset < 13 else -1))
    rank = len(x.shape) + 1
    if axis % rank != 1 and not (rank == 2 and axis % rank == 1):
        raise _Unsupported(f"over axis {axis}, not the channels")
    t.layer(node, "softmax", {}, (x,))


def _clip(t: Translator, index: int, node: Node) -> None:
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
        raise _Unsupported(f"to [{low}, {high}]")


def _batchnorm(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    for name in node.inputs[1:5]:
        dims = t.weight_dims(name)
        if dims != (x.shape[0],):
            raise _Unsupported(f"'{name}' has dims {dims}, not one value per channel ({x.shape[0]})")
    params: dict[str, Any] = {}
    eps = float(t.attr(node, "epsilon", 1e-5))
    if abs(eps - 1e-5) > 1e-12:
        params["eps"] = eps
    momentum = 1 - float(t.attr(node, "momentum", 0.9))  # ONNX keeps this much of the running value: torch's 1 − m
    if abs(momentum - 0.1) > 1e-6:
        params["momentum"] = round(momentum, 6)
    t.layer(node, "batchnorm", params, (x,))


def _lrn(t: Translator, index: int, node: Node) -> None:
    params = {"size": int(t.attr(node, "size", 5)), "alpha": float(t.attr(node, "alpha", 1e-4)),
              "beta": float(t.attr(node, "beta", 0.75)), "k": float(t.attr(node, "bias", 1.0))}
    t.layer(node, "lrn", params, (t.act(node.inputs[0]),))


def _dropout(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    ratio = t.attr(node, "ratio", 0.5)
    if t.opset >= 12 and len(node.inputs) > 1 and node.inputs[1]:
        values = t.values_of(node.inputs[1])
        ratio = values[0] if values else 0.5
    if len(node.outputs) > 1 and node.outputs[1] and t.consumers.get(node.outputs[1]):
        raise _Unsupported("its mask output is used")
    t.layer(node, "dropout", {"p": float(ratio)}, (x,))


def _flatten(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    axis = int(t.attr(node, "axis", 1))
    if axis != 1:
        raise _Unsupported(f"from axis {axis}: only the whole-sample flatten (axis 1) is a cnncalc layer")
    t.layer(node, "flatten", {}, (x,))


def _reshape(t: Translator, index: int, node: Node) -> None:
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
        if rest in ([-1], [size]):
            t.layer(node, "flatten", {}, (x,))
            return
        if tuple(rest) == x.shape:
            t.alias(node, x)
            return
    raise _Unsupported("to a shape other than a whole-sample flatten")


def _batch_size(t: Translator) -> int | None:
    for info in t.model.inputs:
        if info.name not in t.model.initializers and info.dims:
            return info.dims[0] if isinstance(info.dims[0], int) else None
    return None


def _gemm(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    if t.attr(node, "transA", 0):
        raise _Unsupported("transA")
    w = t.weight_dims(node.inputs[1], 2)
    units = w[0] if t.attr(node, "transB", 0) else w[1]
    inputs = w[1] if t.attr(node, "transB", 0) else w[0]
    if len(x.shape) != 1 or x.shape[0] != inputs:
        raise _Unsupported(f"on an input of shape {x.shape}, with a weight for {inputs} inputs")
    t.layer(node, "fc", {"units": units, "bias": len(node.inputs) > 2 and bool(node.inputs[2])}, (x,))


def _matmul(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    w = t.weight_dims(node.inputs[1], 2)
    if len(x.shape) != 1 or x.shape[0] != w[0]:
        raise _Unsupported("other than a vector times a weight matrix")
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


def _merge(kind: str) -> Callable[[Translator, int, Node], None]:
    def handler(t: Translator, index: int, node: Node) -> None:
        values = [t.values.get(name) for name in node.inputs]
        if not all(isinstance(v, Act) for v in values):
            if node.op_type == "Div":
                raise _Unsupported("by a constant")
            raise _Unsupported("with a constant" if kind != "concat" else "of constants and activations")
        if kind == "concat":
            rank = len(values[0].shape) + 1
            if int(t.attr(node, "axis", 1)) % rank != 1:
                raise _Unsupported(f"along axis {t.attr(node, 'axis')}, not the channels")
        if len(values) == 1:
            t.alias(node, values[0])
            return
        t.layer(node, kind, {}, tuple(values))
    return handler


def _mul(t: Translator, index: int, node: Node) -> None:
    if _gelu_at(t, index, node):
        return
    _merge("mul")(t, index, node)


def _div(t: Translator, index: int, node: Node) -> None:
    if _gelu_at(t, index, node):
        return
    raise _Unsupported("by a constant" if not all(isinstance(t.values.get(n), Act) for n in node.inputs) else "")


def _gelu_at(t: Translator, index: int, node: Node) -> bool:
    """PyTorch's exact GELU before opset 20: x/√2 → Erf → +1 → ·x → ·0.5 (the last two in either order)."""
    nodes = t.model.nodes

    def only_consumer(name: str) -> tuple[int, Node] | None:
        users = t.consumers.get(name, [])
        return (users[0], nodes[users[0]]) if len(users) == 1 else None

    def scalar(name: str) -> float | None:
        value = t.values.get(name)
        return value.values[0] if isinstance(value, Const) and value.values and len(value.values) == 1 else None

    if node.op_type != "Div" or len(node.inputs) != 2 or not isinstance(t.values.get(node.inputs[0]), Act):
        return False
    x_name = node.inputs[0]
    divisor = scalar(node.inputs[1])
    if divisor is None or abs(divisor - 2 ** 0.5) > 1e-3:
        return False
    chain = []
    step = only_consumer(node.outputs[0])
    if step is None or step[1].op_type != "Erf":
        return False
    chain.append(step)
    step = only_consumer(step[1].outputs[0])
    if step is None or step[1].op_type != "Add" or not any(scalar(n) == 1 for n in step[1].inputs):
        return False
    chain.append(step)
    first = only_consumer(step[1].outputs[0])
    if first is None or first[1].op_type != "Mul":
        return False
    second = only_consumer(first[1].outputs[0])
    if second is None or second[1].op_type != "Mul":
        return False
    operands = set(first[1].inputs) | set(second[1].inputs)
    halves = [n for n in operands if scalar(n) == 0.5]
    if x_name not in operands or not halves:
        return False
    chain += [first, second]
    for position, _ in chain:
        t.skip.add(position)
    act = t.layer(node, "gelu", {}, (t.act(x_name),), origin="Erf (GELU)")
    if act is not None:
        t.values[second[1].outputs[0]] = act
    return True


def _pad(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    rank = len(x.shape) + 1
    pads = t.values_of(node.inputs[1]) if t.opset >= 11 else t.attr(node, "pads")
    mode = t.attr(node, "mode", "constant")
    if pads is None or len(pads) != 2 * rank:
        raise _Unsupported("pads for some axes only")
    begin, end = [int(p) for p in pads[:rank]], [int(p) for p in pads[rank:]]
    if begin[:2] != [0, 0] or end[:2] != [0, 0] or any(p < 0 for p in begin + end):
        raise _Unsupported("of the batch or channels, or by a negative amount")
    params: dict[str, Any] = {}
    if begin[2:] == end[2:]:
        params["padding"] = _compact(tuple(begin[2:]))
    else:
        params["before"], params["after"] = _compact(tuple(begin[2:])), _compact(tuple(end[2:]))
    if mode != "constant":
        raise _Unsupported(f"mode {mode}")
    t.layer(node, "pad", params, (x,))


def _resize(t: Translator, index: int, node: Node) -> None:
    x = t.act(node.inputs[0])
    mode = t.attr(node, "mode", "nearest")
    mode = {"nearest": "nearest", "linear": "bilinear", "bilinear": "bilinear"}.get(mode)
    if mode is None:
        raise _Unsupported(f"mode {t.attr(node, 'mode')}")
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
            raise _Unsupported("of the batch or channels")
        t.layer(node, "upsample", {"size": _compact(tuple(int(s) for s in sizes[2:])), "mode": mode}, (x,))
        return
    if not scales or len(scales) != len(x.shape) + 1 or scales[0] != 1 or scales[1] != 1:
        raise _Unsupported("by scales cnncalc cannot read")
    if any(float(s) != int(s) or s < 1 for s in scales[2:]):
        raise _Unsupported(f"by a scale that is not a whole number ({list(scales[2:])})")
    t.layer(node, "upsample", {"scale": _compact(tuple(int(s) for s in scales[2:])), "mode": mode}, (x,))


_HANDLERS: dict[str, Callable[[Translator, int, Node], None]] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "Gemm": _gemm, "MatMul": _matmul,
    "MaxPool": _pool("maxpool"), "AveragePool": _pool("avgpool"),
    "GlobalAveragePool": _global("globalavgpool"), "GlobalMaxPool": _global("globalmaxpool"),
    "LeakyRelu": _leaky, "Softmax": _softmax, "Clip": _clip, "BatchNormalization": _batchnorm, "LRN": _lrn,
    "Dropout": _dropout, "Flatten": _flatten, "Reshape": _reshape, "Add": _merge("add"), "Mul": _mul, "Div": _div,
    "Concat": _merge("concat"), "Pad": _pad, "Resize": _resize, "Upsample": _resize,
    **{op: _elementwise for op in _ELEMENTWISE},
}

# For the documentation: every ONNX operator the reader translates, and the kind it becomes.
OPERATORS = {
    "Conv": "conv", "ConvTranspose": "deconv", "Gemm": "fc", "MatMul (+ Add as its bias)": "fc",
    "MaxPool": "maxpool", "AveragePool": "avgpool", "GlobalAveragePool": "globalavgpool",
    "GlobalMaxPool": "globalmaxpool", "Relu": "relu", "LeakyRelu": "leakyrelu", "Clip (0, 6)": "relu6",
    "Sigmoid": "sigmoid", "HardSigmoid": "hardsigmoid", "HardSwish": "hardswish", "Tanh": "tanh",
    "Softmax": "softmax", "Gelu, Erf (PyTorch's GELU pattern)": "gelu", "BatchNormalization": "batchnorm",
    "LRN": "lrn", "Dropout": "dropout", "Flatten": "flatten", "Reshape (whole-sample flatten)": "flatten",
    "Add": "add", "Mul": "mul", "Concat": "concat", "Pad": "pad", "Resize, Upsample": "upsample",
    "Identity": "identity",
}


def translate(model: Model, source: str, input_shape: tuple[int, ...] | None = None,
              allow_unknown: bool = False) -> ImportedNetwork:
    return Translator(model, source, input_shape, allow_unknown).run()


__all__ = ["DTYPE_NAMES", "OPERATORS", "Tensor", "translate"]
