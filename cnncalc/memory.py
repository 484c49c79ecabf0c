"""Which tensors exist when: storage sharing, the inference peak and the tensors kept for backward.

Pure functions over any DAG of layers, followed through each layer's `inputs`. A tensor is named
after the layer that made it ("input" for the network's input); an in-place layer or a view
(`new_tensor` False) writes into, or looks at, the memory of its first input, so both names share
one *storage*, named after the tensor that owns the memory. Counts are values per sample.
"""

import sys
from typing import NamedTuple, Protocol, Sequence

from .kinds import INPUT, OUTPUT, REGISTRY
from .kinds.base import EAGER, Saved, Scratch
from .spec import INPUT_NAME


class Node(Protocol):
    """What these functions read of a layer (LayerResult has all of it)."""

    name: str
    inputs: tuple[str, ...]
    activation_count: int
    new_tensor: bool


def storage_owners(layers: Sequence[Node]) -> dict[str, str]:
    """Tensor name → the tensor that owns its memory: itself when the layer makes a new tensor,
    else (in place or a view) the owner of its first input's memory."""
    owners = {INPUT_NAME: INPUT_NAME}
    for layer in layers:
        owners[layer.name] = layer.name if layer.new_tensor or not layer.inputs else owners[layer.inputs[0]]
    return owners


class Peak(NamedTuple):
    """The most memory alive at once during one forward pass, per sample."""

    values: int  # activation values alive (storages of the network's tensors)
    layer: str  # the layer running ("input" when there are no layers)
    live: tuple[str, ...]  # the storages alive at that moment, in order of creation
    scratch: Scratch | None = None  # the running layer's transient tensors (max-pool indices, ...)
    bytes: int = 0  # values · value_bytes + the scratch's bytes


class ScratchLayer(Node, Protocol):
    kind: str
    params: object
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def inference_peak(input_values: int, layers: Sequence[ScratchLayer], value_bytes: int = 4,
                   attention: str = EAGER) -> Peak:
    """Run the layers in order: a layer's output is allocated when it runs (in-place layers and
    views allocate nothing) while its inputs are still alive, with its forward's scratch
    (`forward_scratch`: max-pool's int64 indices, attention's scores); after it, every storage that
    no later layer reads is freed. The input batch stays alive throughout (the caller holds it), and
    outputs no layer reads (the network's results) stay to the end.
    The peak is the largest sum of live bytes, taken while a layer runs.

    Each layer comes after the layers it reads (as `analyze` orders them): linear in the layers,
    one pass learning when each storage is read last, one finding the peak, one rebuilding the
    live set at the peak's moment."""
    if not layers:
        return Peak(input_values, INPUT_NAME, (INPUT_NAME,), None, input_values * value_bytes)
    owners = {INPUT_NAME: INPUT_NAME}  # as storage_owners, learnt on the way
    last_read: dict[str, int] = {}  # storage → the position of the last layer that reads it
    unread: dict[str, str] = {}  # tensor → its storage, for the tensors no layer has read so far
    for i, layer in enumerate(layers):
        inputs = layer.inputs
        for source in inputs:
            last_read[owners[source]] = i  # positions grow: the last assignment is the last read
            unread.pop(source, None)
        name = layer.name
        unread[name] = owners[name] = name if layer.new_tensor or not inputs else owners[inputs[0]]
    for owner in unread.values():  # the network's results
        last_read[owner] = len(layers)  # kept to the end
    last_read[INPUT_NAME] = len(layers)  # held by the caller

    def scratch_of(layer: ScratchLayer) -> Scratch | None:
        kind = REGISTRY.get(getattr(layer, "kind", ""))  # a bare node (name, inputs, count) has none
        if kind is None:
            return None
        return kind.forward_scratch(layer.params, layer.input_shape, layer.output_shape, value_bytes, attention)

    scratches = [scratch_of(layer) for layer in layers]  # asked once: both walks read them

    def walk(stop: int) -> tuple[int, int, dict[str, int]]:
        """Run to layer `stop` (all when -1): the peak's position and bytes, and the live storages."""
        live: dict[str, int] = {INPUT_NAME: input_values}
        current, best, best_at = input_values, -1, 0
        for i, layer in enumerate(layers):
            if layer.new_tensor:
                live[layer.name] = layer.activation_count
                current += layer.activation_count
            scratch = scratches[i]
            total = current * value_bytes + (scratch.bytes if scratch else 0)
            if total > best:
                best, best_at = total, i
            if i == stop:
                break
            for source in layer.inputs:  # a storage is freed after the last layer that reads it
                owner = owners[source]
                if last_read[owner] == i:
                    current -= live.pop(owner, 0)
        return best_at, best, live

    best_at, best, _ = walk(-1)
    _, _, live = walk(best_at)
    return Peak(sum(live.values()), layers[best_at].name, tuple(live), scratches[best_at], best)


class SavedTensor(NamedTuple):
    """One tensor a layer keeps for backward, with the storage it lives in."""

    layer: str  # "input" for the batch itself
    kind: str
    what: str  # "input", "output", or the layer's own tensor ("indices", "mask", ...)
    values: int  # per sample when per_sample, else per batch
    bytes_per_value: int
    per_sample: bool
    storage: str  # the owner of the memory: a tensor name, or "layer/what" for a layer's own tensor
    first: bool  # the first to keep this storage: its bytes are counted here, once
    counted_at: str  # the layer where this storage's bytes are counted ("input" for the batch)

    def bytes_at(self, batch: int) -> int:
        """values × bytes per value, × batch when per sample."""
        return self.values * self.bytes_per_value * (batch if self.per_sample else 1)


class KeptGroup(NamedTuple):
    """Kept-for-backward values of one size: activations (the input, layer inputs and outputs) or a
    layer's own tensors (indices, masks, statistics), per sample or per batch."""

    what: str  # "activations", or the own tensors' names ("indices", "mask", ...)
    values: int
    bytes_per_value: int
    per_sample: bool

    @property
    def bytes(self) -> int:
        return self.values * self.bytes_per_value


_ACTIVATION_WHATS = ("batch", "input", "output")  # saved tensors that are activations of the network
_OWN_TERMS = ("attention probabilities",)  # saved tensors the memory table shows as a term of their own


def kept_groups(saved: "Sequence[SavedTensor]") -> tuple[KeptGroup, ...]:
    """The counted saved tensors grouped by bytes per value and by whether they grow with the batch
    (attention probabilities a group of their own, so that the table names them):
    per sample first, the activations' group first among them, then the larger bytes per value."""
    groups: dict[tuple[int, bool, bool], tuple[list[str], int]] = {}
    for s in saved:
        if not s.first:
            continue
        what = "activations" if s.what in _ACTIVATION_WHATS else s.what
        key = (s.bytes_per_value, s.per_sample, what in _OWN_TERMS)
        names, values = groups.get(key, ([], 0))
        if what not in names:
            names.append(what)
        groups[key] = (names, values + s.values)
    ordered = sorted(groups.items(), key=lambda item: (not item[0][1], "activations" not in item[1][0], item[0][2],
                                                       -item[0][0]))
    return tuple(KeptGroup(", ".join(names), values, size, per_sample)
                 for (size, per_sample, _), (names, values) in ordered)


def kept_bytes(groups: Sequence[KeptGroup], batch: int) -> int:
    """Bytes of everything kept for backward at `batch`: fixed + batch · per sample."""
    return sum(g.bytes * (batch if g.per_sample else 1) for g in groups)


class SavedLayer(Node, Protocol):
    """What `saved_tensors` reads of a layer besides a Node: its kind, shapes and resolved parameters."""

    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: object


def layer_saved(layer: SavedLayer, shapes: dict[str, tuple[int, ...]], value_bytes: int) -> tuple[Saved, ...]:
    """What the layer's kind keeps for its backward; a merge may keep any of its inputs (`Saved.input_index`),
    whose shapes come from `shapes` (tensor name → shape; the network's input is the layer's input shape)."""
    kind = REGISTRY[layer.kind]
    if kind.max_inputs > 1:
        input_shapes = tuple(shapes.get(name, layer.input_shape) for name in layer.inputs)
        return kind.saved_for_backward_merge(layer.params, input_shapes, layer.output_shape, value_bytes)
    return kind.saved_for_backward(layer.params, layer.input_shape, layer.output_shape, value_bytes)


def saved_tensors(input_values: int, layers: Sequence[SavedLayer], value_bytes: int,
                  attention: str = EAGER) -> tuple[SavedTensor, ...]:
    """The input batch, then every tensor each layer's kind keeps for backward (its
    `saved_for_backward`). A storage kept by several layers (a conv output that the in-place ReLU
    after it keeps, and the next conv keeps as its input) is `first` only where it is first kept.
    `attention` (eager or fused) picks the tensors an attention implementation keeps."""
    owners = storage_owners(layers)
    counted_at = {INPUT_NAME: INPUT_NAME}
    out = [SavedTensor(INPUT_NAME, INPUT_NAME, "batch", input_values, value_bytes, True, INPUT_NAME, True, INPUT_NAME)]
    shapes: dict[str, tuple[int, ...]] = {}
    storage_values = {INPUT_NAME: input_values}  # a view keeps its whole storage: a selected token, all tokens
    # Layers alike (one kind, the same resolved parameters, as the engine shares them, and the same shapes) keep
    # alike: asked once. Keyed by the parameters' identity: they are alive, held by the layers, all along.
    asked: dict[tuple[object, ...], tuple[Saved, ...]] = {}
    for layer in layers:
        kind = REGISTRY[layer.kind]
        shapes[layer.name] = layer.output_shape
        storage_values.setdefault(owners[layer.name], layer.activation_count)
        if kind.max_inputs > 1:
            kept = layer_saved(layer, shapes, value_bytes)
        else:
            question = (layer.kind, id(layer.params), layer.input_shape, layer.output_shape)
            kept = asked.get(question)
            if kept is None:
                kept = asked[question] = layer_saved(layer, shapes, value_bytes)
        for saved in kept:
            if saved.implementation and saved.implementation != attention:
                continue
            values = saved.values
            if saved.what == INPUT:
                storage = owners[layer.inputs[saved.input_index]] if layer.inputs else INPUT_NAME
                values = max(values, storage_values[storage])
            elif saved.what == OUTPUT:
                storage = owners[layer.name]
                values = max(values, storage_values[storage])
            else:
                storage = f"{layer.name}/{saved.what}"
            first = storage not in counted_at
            counted_at.setdefault(storage, layer.name)
            out.append(SavedTensor(layer.name, layer.kind, saved.what, values, saved.bytes_per_value,
                                   saved.per_sample, storage, first, counted_at[storage]))
    return tuple(out)


class _CallableModule(type(sys.modules[__name__])):  # type: ignore[misc]
    """`cnncalc.memory(spec, ...)` is the API's memory (api.py), also once this module, imported, stands for
    the package's attribute of the same name."""

    def __call__(self, *args, **kwargs):
        from .api import memory

        return memory(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
