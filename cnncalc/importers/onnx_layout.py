"""ONNX operators that move or split the channels, read where they make one cnncalc kind: Transpose →
LayerNormalization → Transpose (a layer norm over the channels of each pixel, PyTorch's LayerNorm2d),
LayerNormalization of a vector, Split of the channels into equal parts (`chunk`), and Reshape → Transpose →
Reshape that swaps the channel groups (`channelshuffle`). A Transpose or Reshape outside those patterns is
an unknown operator (cnncalc's volumes are channels first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..kinds.base import is_tokens
from .onnx_proto import Node
from .onnx_values import BATCH, Act, Unsupported

if TYPE_CHECKING:
    from .onnx import Translator


def _perm(t: "Translator", node: Node, rank: int) -> list[int]:
    """A Transpose's `perm`, each axis from 0 (PyTorch writes movedim's −1 as it is)."""
    return [int(axis) % rank for axis in t.attr(node, "perm") or ()]


def _layernorm_params(t: "Translator", node: Node, channels: int) -> dict[str, Any]:
    """The layernorm kind's parameters for a LayerNormalization over `channels` values (scale, optional bias)."""
    if t.weight_dims(node.inputs[1]) != (channels,):
        raise Unsupported(f"its scale is not one value per channel ({channels})")
    if len(node.inputs) < 3 or not node.inputs[2]:
        raise Unsupported("without a bias (cnncalc's layernorm learns both or neither)")
    if t.weight_dims(node.inputs[2]) != (channels,):
        raise Unsupported(f"its bias is not one value per channel ({channels})")
    eps = float(t.attr(node, "epsilon", 1e-5))
    return {"eps": float(f"{eps:.6g}")} if abs(eps - 1e-5) > 1e-12 else {}


def _layernorm(t: "Translator", index: int, node: Node) -> None:
    """LayerNormalization of a vector (N, C) or of each token of (N, L, D) over its last axis: a layernorm."""
    x = t.act(node.inputs[0])
    axes = (-1, 2) if is_tokens(x.shape) else (-1, 1)  # a token sequence is (N, L, D) in the model
    if (len(x.shape) != 1 and not is_tokens(x.shape)) or int(t.attr(node, "axis", -1)) not in axes:
        raise Unsupported("over more than the channels of each position (only after a Transpose that moves the "
                          "channels last, or of a vector)")
    if len(node.outputs) > 1 and any(t.consumers.get(name) for name in node.outputs[1:] if name):
        raise Unsupported("its mean or inverse standard deviation output is used")
    t.layer(node, "layernorm", _layernorm_params(t, node, x.shape[0]), (x,))


def _transpose(t: "Translator", index: int, node: Node) -> None:
    """Channels last → LayerNormalization over the last axis → channels first again: a layernorm."""
    x = t.act(node.inputs[0])
    rank = len(x.shape) + 1
    perm = _perm(t, node, rank)
    if rank < 3 or perm != [0, *range(2, rank), 1]:
        raise Unsupported(f"perm {perm}: only the channel moves of a layer norm over the channels are read")
    norm = t.follower(node.outputs[0], "LayerNormalization")
    back = norm and t.follower(norm[1].outputs[0], "Transpose")
    if not back or int(t.attr(norm[1], "axis", -1)) not in (-1, rank - 1) or \
            _perm(t, back[1], rank) != [0, rank - 1, *range(1, rank - 1)]:
        raise Unsupported(f"perm {perm}, not followed by a LayerNormalization over the channels and the "
                          "Transpose back")
    params = _layernorm_params(t, norm[1], x.shape[0])
    t.skip.update((norm[0], back[0]))
    act = t.layer(norm[1], "layernorm", params, (x,))
    if act is not None:
        t.values[back[1].outputs[0]] = act


def _split(t: "Translator", index: int, node: Node) -> None:
    """Split of the channels into equal parts: each part the graph reads is a `chunk`."""
    x = t.act(node.inputs[0])
    rank = len(x.shape) + 1
    if int(t.attr(node, "axis", 0)) % rank != 1:
        raise Unsupported(f"along axis {t.attr(node, 'axis', 0)}, not the channels")
    parts = len(node.outputs)
    sizes = t.values_of(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else t.attr(node, "split")
    if sizes and len(set(sizes)) != 1 or x.shape[0] % parts:
        raise Unsupported(f"into unequal parts {list(sizes or ())}")
    for position, name in enumerate(node.outputs):
        if name and (t.consumers.get(name) or name in t.graph_outputs):
            params = {"chunks": parts, "index": position}
            act = t.layer(node, "chunk", params, (x,), position, name=t.name(node) + (f".{position}" if
                                                                                      parts > 1 else ""))
            if act is None:
                return


def _slice(t: "Translator", index: int, node: Node) -> None:
    """Slice of the channels into one of equal parts (PyTorch's chunk, read with the part's index): a `chunk`."""
    x = t.act(node.inputs[0])
    rank = len(x.shape) + 1
    if t.opset >= 10:
        starts, ends = t.values_of(node.inputs[1]), t.values_of(node.inputs[2])
        axes = t.values_of(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else None
        steps = t.values_of(node.inputs[4]) if len(node.inputs) > 4 and node.inputs[4] else None
    else:
        starts, ends, axes, steps = t.attr(node, "starts"), t.attr(node, "ends"), t.attr(node, "axes"), None
    axes = list(axes) if axes is not None else list(range(len(starts or ())))
    if not starts or len(axes) != 1 or int(axes[0]) % rank != 1 or (steps and list(steps) != [1]):
        raise Unsupported("other than a part of the channels")
    channels = x.shape[0]
    start, end = (min(max(int(v) + (channels if v < 0 else 0), 0), channels) for v in (starts[0], ends[0]))
    size = end - start
    if size <= 0 or channels % size or start % size:
        raise Unsupported(f"of channels {start} to {end} of {channels}, not one of equal parts")
    t.layer(node, "chunk", {"chunks": channels // size, "index": start // size}, (x,))


def shuffle_at(t: "Translator", index: int, node: Node, x: Act, target: list[Any]) -> bool:
    """Reshape to (N, g, C/g, spatial) → Transpose of the two group axes → Reshape back: a channelshuffle g."""
    rank = len(x.shape) + 1
    if len(target) != rank + 1 or len(target) < 4 or not isinstance(target[1], int) or target[1] < 2:
        return False
    groups = target[1]
    if x.shape[0] % groups or list(target[2:]) not in ([x.shape[0] // groups, *x.shape[1:]],
                                                       [-1, *x.shape[1:]]):
        return False
    swap = t.follower(node.outputs[0], "Transpose")
    if not swap or _perm(t, swap[1], rank + 1) != [0, 2, 1, *range(3, rank + 1)]:
        return False
    back = t.follower(swap[1].outputs[0], "Reshape")
    if not back:
        return False
    shape = list(t.values_of(back[1].inputs[1]) or ())
    if len(shape) != rank or (shape[0] not in (BATCH, -1, 0) and not isinstance(shape[0], int)) or \
            [x.shape[0] if d == -1 else d for d in shape[1:]] != list(x.shape):
        return False
    t.skip.update((swap[0], back[0]))
    act = t.layer(node, "channelshuffle", {"groups": groups}, (x,))
    if act is not None:
        t.values[back[1].outputs[0]] = act
    return True


HANDLERS: dict[str, Callable[["Translator", int, Node], None]] = {
    "Transpose": _transpose, "LayerNormalization": _layernorm, "Split": _split, "Slice": _slice,
}

# docs/import.md's rows: the ONNX operator (and how it is read), the cnncalc kind
OPERATORS: tuple[tuple[str, str], ...] = (
    ("LayerNormalization over the channels: of a vector, or between a Transpose that moves them last and the "
     "Transpose back (PyTorch's LayerNorm2d)", "`layernorm`"),
    ("Split of the channels into equal parts; Slice of one of them (PyTorch's chunk)", "`chunk` per part used"),
    ("Reshape to (N, g, C/g, H, W) → Transpose of the group axes → Reshape back", "`channelshuffle`"),
)
