"""Which tensors exist when: storage sharing, the inference peak and the tensors kept for backward.

Pure functions over any DAG of layers, followed through each layer's `inputs`. A tensor is named
after the layer that made it ("input" for the network's input); an in-place layer or a view
(`new_tensor` False) writes into, or looks at, the memory of its first input, so both names share
one *storage*, named after the tensor that owns the memory. Counts are values per sample.
"""

import sys
from typing import NamedTuple, Protocol, Sequence

from .kinds import INPUT, OUTPUT, REGISTRY
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
    """The most values alive at once during one forward pass, per sample."""

    values: int
    layer: str  # the layer running at the peak ("input" when there are no layers)
    live: tuple[str, ...]  # the storages alive at that moment, in order of creation


def inference_peak(input_values: int, layers: Sequence[Node]) -> Peak:
    """Run the layers in order: a layer's output is allocated when it runs (in-place layers and
    views allocate nothing) while its inputs are still alive; after it, every storage that no later
    layer reads is freed. Outputs no layer reads (the network's results) stay to the end.
    The peak is the largest sum of live storages, taken while a layer runs.

    Each layer comes after the layers it reads (as `analyze` orders them): two passes over the layers,
    whatever their number, the first learning when each storage is read last."""
    if not layers:
        return Peak(input_values, INPUT_NAME, (INPUT_NAME,))
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
    input_unread = INPUT_NAME not in last_read  # then it goes after the first layer
    live: dict[str, int] = {INPUT_NAME: input_values}
    current = input_values
    best_values, best_layer, best_live = -1, INPUT_NAME, ()
    for i, layer in enumerate(layers):
        if layer.new_tensor:
            live[layer.name] = layer.activation_count
            current += layer.activation_count
        if current > best_values:
            best_values, best_layer, best_live = current, layer.name, tuple(live)
        for source in layer.inputs:  # a storage is freed after the last layer that reads it
            owner = owners[source]
            if last_read[owner] == i:
                current -= live.pop(owner, 0)
        if input_unread and i == 0:
            current -= live.pop(INPUT_NAME)
    return Peak(best_values, best_layer, best_live)


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


class SavedLayer(Protocol):
    name: str
    kind: str
    inputs: tuple[str, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    activation_count: int
    new_tensor: bool
    params: object


def saved_tensors(input_values: int, layers: Sequence[SavedLayer], value_bytes: int) -> tuple[SavedTensor, ...]:
    """The input batch, then every tensor each layer's kind keeps for backward (its
    `saved_for_backward`). A storage kept by several layers (a conv output that the in-place ReLU
    after it keeps, and the next conv keeps as its input) is `first` only where it is first kept."""
    owners = storage_owners(layers)
    counted_at = {INPUT_NAME: INPUT_NAME}
    out = [SavedTensor(INPUT_NAME, INPUT_NAME, "batch", input_values, value_bytes, True, INPUT_NAME, True, INPUT_NAME)]
    for layer in layers:
        kind = REGISTRY[layer.kind]
        for saved in kind.saved_for_backward(layer.params, layer.input_shape, layer.output_shape, value_bytes):
            if saved.what == INPUT:
                storage = owners[layer.inputs[0]] if layer.inputs else INPUT_NAME
            elif saved.what == OUTPUT:
                storage = owners[layer.name]
            else:
                storage = f"{layer.name}/{saved.what}"
            first = storage not in counted_at
            counted_at.setdefault(storage, layer.name)
            out.append(SavedTensor(layer.name, layer.kind, saved.what, saved.values, saved.bytes_per_value,
                                   saved.per_sample, storage, first, counted_at[storage]))
    return tuple(out)


class _CallableModule(type(sys.modules[__name__])):  # type: ignore[misc]
    """`cnncalc.memory(spec, ...)` is the API's memory (api.py), also once this module, imported, stands for
    the package's attribute of the same name."""

    def __call__(self, *args, **kwargs):
        from .api import memory

        return memory(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
