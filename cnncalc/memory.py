"""Which tensors exist when: storage sharing, the inference peak and the tensors kept for backward.

Pure functions over any DAG of layers, followed through each layer's `inputs`. A tensor is named
after the layer that made it ("input" for the network's input); an in-place layer or a view
(`new_tensor` False) writes into, or looks at, the memory of its first input, so both names share
one *storage*, named after the tensor that owns the memory. Counts are values per sample.
"""

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
    The peak is the largest sum of live storages, taken while a layer runs."""
    owners = storage_owners(layers)
    never = len(layers)  # kept to the end
    last_use = {owner: -1 for owner in set(owners.values())}
    read = set()
    for i, layer in enumerate(layers):
        for source in layer.inputs:
            last_use[owners[source]] = max(last_use[owners[source]], i)
            read.add(source)
    for name, owner in owners.items():
        if name != INPUT_NAME and name not in read:  # a result of the network
            last_use[owner] = never
    if not layers:
        return Peak(input_values, INPUT_NAME, (INPUT_NAME,))
    sizes = {INPUT_NAME: input_values}
    sizes.update({layer.name: layer.activation_count for layer in layers if layer.new_tensor})
    frees: dict[int, list[str]] = {}
    for owner, when in last_use.items():
        frees.setdefault(max(when, 0), []).append(owner)  # an input nothing reads goes after the first layer
    live: dict[str, int] = {INPUT_NAME: input_values}
    current = input_values
    best = Peak(-1, INPUT_NAME, ())
    for i, layer in enumerate(layers):
        if layer.new_tensor:
            live[layer.name] = sizes[layer.name]
            current += sizes[layer.name]
        if current > best.values:
            best = Peak(current, layer.name, tuple(live))
        for owner in frees.get(i, ()):
            current -= live.pop(owner, 0)
    return best


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
