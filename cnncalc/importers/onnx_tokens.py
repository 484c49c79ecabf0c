"""ONNX exports of vision transformers, read as cnncalc's token kinds. PyTorch writes a token sequence as
(batch, tokens, features); cnncalc's tokens are [D, L], so an activation with a `Tokens` shape stands for an
ONNX tensor of (N, L, D) here: axis 1 is the tokens, axis 2 the features.

- Conv with kernel = stride → Reshape to (N, D, L) → Transpose to (N, L, D): `patchify`.
- Concat of the class token (a learnt (1, 1, D) parameter, expanded to the batch) before the tokens:
  `classtoken`; Add of a learnt (1, L, D) parameter: `posembed`; Gather of token 0: `selecttoken`.
- Every node under one module path that holds Q·Kᵀ → Softmax → ·V (nn.MultiheadAttention's export: the
  projections, the reshapes into heads, the scaling) is one `attention` layer, its parameters counted from
  the initializers the nodes read and checked against the kind's own count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..kinds.base import is_tokens
from .onnx_proto import Node
from .onnx_values import BATCH, Act, Const, Unsupported

if TYPE_CHECKING:
    from .onnx import Translator


def patchify_at(t: "Translator", node: Node, x: Act, params: dict[str, Any]) -> bool:
    """A Conv whose output is flattened into tokens and moved channels-last: a `patchify` (its own params)."""
    flat = t.follower(node.outputs[0], "Reshape")
    turn = flat and t.follower(flat[1].outputs[0], "Transpose")
    if not turn or [int(a) % 3 for a in t.attr(turn[1], "perm") or ()] != [0, 2, 1]:
        return False
    target = list(t.values_of(flat[1].inputs[1]) or ())
    spatial = 1
    for d in x.shape[1:]:
        spatial *= d
    if len(target) != 3 or target[1] != params["filters"] or target[2] not in (-1, spatial) or \
            not (target[0] is BATCH or target[0] in (-1, 0) or isinstance(target[0], int)):
        return False
    if params.get("stride", 1) != params["kernel"] or set(params) - {"filters", "kernel", "stride", "bias"}:
        return False
    t.skip.update((flat[0], turn[0]))
    act = t.layer(node, "patchify", {"dim": params["filters"], "patch": params["kernel"], "bias": params["bias"]},
                  (x,), origin="Conv → Reshape → Transpose (patchify)")
    if act is not None:
        t.values[turn[1].outputs[0]] = act
    return True


def _parameter(t: "Translator", name: str) -> tuple[str, tuple[int, ...] | None]:
    """The initializer `name` is (or that an Expand or Identity of it makes): its name and dims, else dims None."""
    for _ in range(4):
        if name in t.model.initializers:
            return name, t.model.initializers[name].dims
        index = t.producers.get(name)
        if index is None or t.model.nodes[index].op_type not in ("Expand", "Identity", "Cast"):
            break
        name = t.model.nodes[index].inputs[0]
    return name, None


def with_parameter(t: "Translator", node: Node, kind: str) -> bool:
    """Tokens and a learnt parameter: the class token (Concat, before the tokens) or the position embedding
    (Add of (1, L, D))."""
    values = [t.values.get(name) for name in node.inputs]
    if len(values) != 2 or not any(isinstance(v, Act) and is_tokens(v.shape) for v in values):
        return False
    x = next(v for v in values if isinstance(v, Act))
    other = node.inputs[values.index(x) ^ 1]
    parameter, dims = _parameter(t, other)  # the layer is named after it: torchvision's class_token
    features, length = x.shape
    if kind == "concat" and values[1] is x and int(t.attr(node, "axis", 0)) in (1, -2) and \
            dims == (1, 1, features):
        t.layer(node, "classtoken", {}, (x,), name=parameter)
        return True
    if kind == "add" and dims in ((1, length, features), (length, features)):
        t.layer(node, "posembed", {}, (x,), name=parameter)
        return True
    return False


def _gather(t: "Translator", index: int, node: Node) -> None:
    """Token 0 of the sequence (x[:, 0]): `selecttoken`."""
    x = t.act(node.inputs[0])
    indices = t.values_of(node.inputs[1])
    if not is_tokens(x.shape) or int(t.attr(node, "axis", 0)) not in (1, -2) or list(indices or ()) != [0] or \
            (t.const(node.inputs[1]).dims or ()) != ():
        raise Unsupported("other than the class token of a token sequence")
    t.layer(node, "selecttoken", {}, (x,))


def attention_regions(t: "Translator") -> dict[int, tuple[int, ...]]:
    """Each node index in a module path that computes attention (a Softmax between two MatMuls) → the indices
    of every node under that path."""
    nodes = t.model.nodes
    by_path: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        by_path.setdefault(t.module_path(node)[0], []).append(index)
    regions: dict[int, tuple[int, ...]] = {}
    for path, members in by_path.items():
        if not path:
            continue
        for index in members:
            node = nodes[index]
            if node.op_type != "Softmax":
                continue
            before = t.producers.get(node.inputs[0])
            after = t.follower(node.outputs[0], "MatMul") or t.follower(node.outputs[0], "Dropout")
            if before is not None and nodes[before].op_type == "MatMul" and after:
                regions.update((member, tuple(members)) for member in members)
                break
    return regions


def attention(t: "Translator", index: int, node: Node, region: tuple[int, ...]) -> None:
    """The whole region as one `attention` layer: one token sequence in, one out, and the initializers it
    reads exactly the kind's parameters."""
    nodes = t.model.nodes
    inside = set(region)
    made = {name for i in region for name in nodes[i].outputs}
    entering = {name for i in region for name in nodes[i].inputs if name and name not in made}
    acts = {t.values[name] for name in entering if isinstance(t.values.get(name), Act)}
    if len(acts) != 1:
        raise Unsupported("attention whose nodes read other than one token sequence")
    (x,) = acts
    if not is_tokens(x.shape):
        raise Unsupported("attention on other than a token sequence")
    leaving = [name for name in sorted(made) if (name in t.graph_outputs or any(
        user not in inside for user in t.consumers.get(name, []))) and not isinstance(t.ahead(name), Const)]
    if len(leaving) != 1:
        raise Unsupported(f"attention whose nodes give {len(leaving)} results to the rest of the graph, not one")
    features = x.shape[0]
    weights = sum(_count(t.model.initializers[name].dims) for name in entering if name in t.model.initializers)
    heads = _heads(t, region, features)
    bias = weights == 4 * features * features + 4 * features
    if heads is None or weights not in (4 * features * features, 4 * features * features + 4 * features):
        raise Unsupported(f"attention with {weights:,} parameters and heads {heads}, not the projections of "
                          f"nn.MultiheadAttention on {features} features")
    t.skip.update(i for i in region if i > index)
    act = t.layer(node, "attention", {"heads": heads, "bias": bias}, (x,), name=t.module_path(node)[0],
                  origin="Softmax(Q·Kᵀ)·V (attention)")
    if act is not None:
        t.values[leaving[0]] = act


def _count(dims: tuple[int, ...] | None) -> int:
    total = 1
    for d in dims or ():
        total *= d
    return total


def _heads(t: "Translator", region: tuple[int, ...], features: int) -> int | None:
    """The heads, from the Reshape into (N, heads, L, D/heads) or (L, N·heads, D/heads) the region makes."""
    for i in region:
        node = t.model.nodes[i]
        if node.op_type != "Reshape":
            continue
        target = t.ahead(node.inputs[1])
        values = list(target.values or ()) if isinstance(target, Const) else []
        if len(values) == 4 and isinstance(values[1], int) and isinstance(values[3], int) and \
                values[1] > 0 and values[1] * values[3] == features:
            return values[1]
    return None


HANDLERS: dict[str, Callable[["Translator", int, Node], None]] = {"Gather": _gather}

# docs/import.md's rows: the ONNX operator (and how it is read), the cnncalc kind
OPERATORS: tuple[tuple[str, str], ...] = (
    ("Conv with kernel = stride → Reshape into (N, D, L) → Transpose into (N, L, D)", "`patchify`"),
    ("Concat of a learnt (1, 1, D) parameter before the tokens; Add of a learnt (1, L, D) parameter",
     "`classtoken`; `posembed`"),
    ("Gather of token 0", "`selecttoken`"),
    ("Softmax between two MatMuls (Softmax(Q·Kᵀ)·V), with every node under its module path: nn.MultiheadAttention's "
     "projections, reshapes into heads and scaling", "`attention`"),
)
