"""ONNX model → ImportedNetwork: each node translated to a cnncalc kind, constants evaluated, nothing guessed.

`translate` is the entry point. Nodes are read in the graph's order (ONNX requires it to be topological). A node whose inputs are all
constants is evaluated when it is part of a shape computation (Shape, Gather, Unsqueeze, Concat, ...);
every other node becomes a layer of cnncalc's own kinds, by the handler of its operator (onnx_layers.py for
operators with weights or windows, onnx_elementwise.py for the others; OPERATORS lists them), or is an unknown
operator: those are listed by type with their count and first node, never counted as zero.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..kinds import REGISTRY
from ..problems import NOTE, WARNING, Location, Problem, SpecError
from ..spec import INPUT_NAME
from .network import ImportedNetwork, NetworkBuilder
from .onnx_proto import DTYPE_NAMES, Model, Node, Tensor
from . import onnx_elementwise, onnx_layers, onnx_layout, onnx_tokens
from .onnx_values import EVALUATION_ERRORS, Act, Blocked, Const, Unread, Unsupported, evaluate

_STANDARD_DOMAINS = ("", "ai.onnx")
_CONSTANT_OPS = frozenset({"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast",
                           "Identity", "Add", "Sub", "Mul", "Div", "ConstantOfShape", "Reshape", "Expand"})
_SHAPE_OPS = frozenset({"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "ConstantOfShape", "Slice",
                        "Concat"})
FOLDED_NAME = re.compile(r"onnx::(Conv|Gemm|MatMul)_\d+|.*(bn|batchnorm|batch_norm|fused).*", re.IGNORECASE)


class Translator:
    def __init__(self, model: Model, source: str, input_shape: tuple[int, ...] | None, allow_unknown: bool = False):
        self.model = model
        self.allow_unknown = allow_unknown
        self.source = source
        self.opset = model.opset or 1
        self.values: dict[str, Any] = {name: Const(t.dims, t.values, name) for name, t in model.initializers.items()}
        self.consumers: dict[str, list[int]] = {}
        self.producers: dict[str, int] = {}
        self.not_ahead: set[str] = set()  # names `ahead` could not evaluate
        for index, node in enumerate(model.nodes):
            for name in node.inputs:
                if name:
                    self.consumers.setdefault(name, []).append(index)
            for name in node.outputs:
                self.producers.setdefault(name, index)
        self.unknown: dict[str, list[Node]] = {}
        self.skip: set[int] = set()
        self.notes: list[Problem] = []
        self.graph_outputs = {info.name: info for info in model.outputs}
        self.paths: dict[str, int] = {}  # module path → nodes that may become layers under it
        for node in model.nodes:
            path = self.module_path(node)[0]
            self.paths[path] = self.paths.get(path, 0) + (node.op_type not in _SHAPE_OPS)
        self.builder = NetworkBuilder(source, self._input(input_shape))
        self.regions = onnx_tokens.attention_regions(self)  # node → the nodes of its attention module

    # -- where and what --------------------------------------------------------------------------
    def location(self, node: Node | None = None, offset: int = 0) -> Location:
        return Location(self.source, 1, (node.offset if node is not None else offset) + 1)

    def module_path(self, node: Node) -> tuple[str, str]:
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
        path, op = self.module_path(node)
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
            raise Blocked
        raise Unsupported("its data input is a constant" if value is not None else f"its input '{name}' is missing")

    def const(self, name: str) -> Const:
        value = self.values.get(name) if name in self.values else self.ahead(name)
        if isinstance(value, Const):
            return value
        raise Unsupported(f"'{name}' must be a constant (an initializer), not a computed tensor")

    def weight_dims(self, name: str, rank: int | None = None) -> tuple[int, ...]:
        value = self.const(name)
        if value.dims is None or (rank is not None and len(value.dims) != rank):
            raise Unsupported(f"its weight '{name}' has dims {value.dims}, not {rank} of them")
        return value.dims

    def ahead(self, name: str, depth: int = 0) -> Any:
        """The constant `name` that a pattern needs before the walk reaches it (the shape a Reshape further on
        reads): its chain of constant nodes evaluated now, at most 32 deep; None when it is not one."""
        if name in self.values:
            return self.values[name]
        index = self.producers.get(name)
        if index is None or depth > 32 or name in self.not_ahead:
            return None
        self.not_ahead.add(name)  # each name tried once: a hostile graph's cycles and shared chains cost nothing
        node = self.model.nodes[index]
        if node.domain not in _STANDARD_DOMAINS or node.op_type not in _CONSTANT_OPS:
            return None
        inputs = [self.ahead(i, depth + 1) if i else None for i in node.inputs]
        if not all(isinstance(v, Const) or (node.op_type == "Shape" and isinstance(v, Act)) for v in inputs
                   if v is not None) or any(v is None for i, v in zip(node.inputs, inputs) if i):
            return None
        try:
            outputs = evaluate(node, inputs, self.opset)
        except EVALUATION_ERRORS:
            return None
        self.values.update(zip(node.outputs, outputs))
        self.not_ahead.discard(name)
        return self.values.get(name)

    def values_of(self, name: str) -> tuple[Any, ...] | None:
        if not name:
            return None
        value = self.const(name)
        if value.values is None:
            raise Unsupported(f"the values of '{name}' are not known before running the model")
        return value.values

    def follower(self, name: str, op_type: str) -> tuple[int, Node] | None:
        """The node (its index, itself) that alone reads the value `name`, when it is an `op_type`."""
        users = self.consumers.get(name, [])
        if len(users) != 1 or name in self.graph_outputs:
            return None
        node = self.model.nodes[users[0]]
        return (users[0], node) if node.op_type == op_type else None

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
        missing = [name for name, value in zip(node.inputs, inputs) if name and value is None]
        if missing:  # a hostile or broken graph: not in order, or reading a name nothing makes
            self.unknown.setdefault(self.label(node, "reads a value no node before it makes"), []).append(node)
            self.unread(node)
            return
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
            except EVALUATION_ERRORS:
                if all(isinstance(v, Const) for v in inputs if v is not None):
                    for name in node.outputs:
                        self.values[name] = Const(None, None, name)
                    return
        if node.domain in _STANDARD_DOMAINS and any(isinstance(v, Const) for v in inputs) and \
                all(isinstance(v, Const) for v in inputs if v is not None):
            for name in node.outputs:  # computed from parameters alone (a weight transposed): never a layer
                self.values[name] = Const(_constant_dims(node, inputs), None, name)
            return
        handler = _HANDLERS.get(node.op_type) if node.domain in _STANDARD_DOMAINS else None
        try:
            if index in self.regions and any(isinstance(v, Act) for v in inputs):
                onnx_tokens.attention(self, index, node, self.regions[index])
                return
            if handler is None:
                raise Unsupported("")
            handler(self, index, node)
        except Blocked:
            self.unread(node)
        except Unsupported as unsupported:
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
            raise Unsupported(f"cnncalc has no '{kind}' kind yet")
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


_HANDLERS: dict[str, Callable[["Translator", int, Node], None]] = {
    **onnx_layers.HANDLERS, **onnx_elementwise.HANDLERS, **onnx_layout.HANDLERS, **onnx_tokens.HANDLERS}

# For the documentation (docs/import.md's table, kept true by a test): each ONNX operator the reader translates
# or evaluates, and what it becomes.
OPERATORS: tuple[tuple[str, str], ...] = (onnx_layers.OPERATORS + onnx_elementwise.OPERATORS + onnx_layout.OPERATORS
                                           + onnx_tokens.OPERATORS) + (
    ("Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, ConstantOfShape, Reshape and arithmetic on "
     "constants", "evaluated: the shape computations exporters write around Flatten and Reshape, never layers"),
)


def _constant_dims(node: Node, inputs: list[Any]) -> tuple[int, ...] | None:
    """The dims of a node's output computed from constants, where they follow from its input's: a Transpose
    permutes them, an element-wise operator keeps them; None (unknown) otherwise."""
    dims = inputs[0].dims if inputs and isinstance(inputs[0], Const) else None
    if dims is None:
        return None
    if node.op_type == "Transpose":
        perm = node.attributes.get("perm")
        order = [int(a) % len(dims) for a in perm.value] if perm is not None and perm.value else \
            list(range(len(dims)))[::-1]
        return tuple(dims[a] for a in order) if sorted(order) == list(range(len(dims))) else None
    return dims if node.op_type in ("Identity", "Cast", "Neg", "Sqrt", "Relu", "Sigmoid", "Tanh", "Exp") else None


def translate(model: Model, source: str, input_shape: tuple[int, ...] | None = None,
              allow_unknown: bool = False) -> ImportedNetwork:
    return Translator(model, source, input_shape, allow_unknown).run()


__all__ = ["DTYPE_NAMES", "OPERATORS", "Tensor", "translate"]
