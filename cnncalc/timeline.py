"""One training step as a timeline of live memory: forward, backward in reverse, the optimizer's step.

Pure: the layers (any DAG, each after the layers it reads) and the training facts in, moments out.
Every tensor is a storage with a byte size affine in the batch (fixed + batch · per_sample) and a
count of holders; it is freed when the last holder lets go. The rules, each measured in PyTorch:

- forward: a layer's output (unless it is a view, or an in-place op on an input no one else reads)
  and its own saved tensors (indices, masks, batch statistics) are allocated while its inputs are
  alive; a storage lives while a later layer will read it or a layer that ran keeps it for backward.
  The input batch stays alive all step (the caller holds it).
- backward, layers in reverse order: a layer whose output reaches the loss allocates its parameter
  gradients and, for each input that needs a gradient, a new gradient tensor (`grad_flow` "new"), or
  passes its output's gradient on (an add: "same"; a concat or flatten: "view", a slice of it).
  After it runs its saved tensors and its output's gradient are let go. A tensor read by several
  layers gets its gradients summed in place into the first that arrived.
- step: parameters, their gradients, the optimizer state and the optimizer's temporaries (the
  multi-tensor step's intermediate copies), then zero_grad(set_to_none) frees the gradients. Under
  mixed precision the step runs on the float32 master weights: each half-precision gradient is
  converted to a float32 master gradient (and freed), then the step, then the master weights are
  copied back into the working weights.

The peak is the largest total over the moments; at a given batch the same walk also sums each
storage rounded up to the GPU caching allocator's 512-byte blocks.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from .kinds import INPUT, OUTPUT, REGISTRY
from .memory import layer_saved
from .report import LayerResult
from .spec import INPUT_NAME

STEP_LAYER = "optimizer"  # Moment.layer of the optimizer's step
BLOCK = 512  # PyTorch's CUDA caching allocator rounds every block up to a multiple of 512 bytes

CATEGORIES = ("parameters", "master_weights", "buffers", "optimizer_state", "gradients", "master_gradients", "input",
              "activations", "activation_gradients", "temporaries")
LABELS = {
    "parameters": "parameters", "master_weights": "master weights", "buffers": "buffers",
    "optimizer_state": "optimizer state", "gradients": "parameter gradients",
    "master_gradients": "master gradients", "input": "input batch",
    "activations": "activations", "activation_gradients": "activation gradients", "temporaries": "temporaries",
}
_INDEX = {name: i for i, name in enumerate(CATEGORIES)}


class Facts(NamedTuple):
    """The training settings the walk needs, in bytes per value."""

    value_bytes: int  # activations, working weights and gradients
    master_bytes: int  # float32 master weights under mixed precision, else 0
    state_bytes: int  # optimizer state and buffers
    state_copies: int  # optimizer state: copies of the parameters
    step_copies: int  # the optimizer step's temporaries: copies of the parameters
    attention: str = "eager"  # which attention implementation's saved tensors count (eager or fused)


class Moment(NamedTuple):
    """The memory alive at one point of the step: bytes per category, fixed and per sample."""

    phase: str  # forward, backward or step
    layer: str  # the layer running ("optimizer" during the step)
    fixed: tuple[int, ...]  # per CATEGORIES
    per_sample: tuple[int, ...]

    def at(self, batch: int) -> int:
        return sum(self.fixed) + batch * sum(self.per_sample)

    def parts(self, batch: int) -> dict[str, int]:
        return {name: f + batch * p for name, f, p in zip(CATEGORIES, self.fixed, self.per_sample)}


class Timeline(NamedTuple):
    """The moments of one step, and at `batch` the peak and the peak with 512-byte blocks."""

    moments: tuple[Moment, ...]
    batch: int
    peak: int  # index of the moment with the most bytes at `batch` (the first of equals)
    peak_bytes: int
    rounded: tuple[int, ...]  # per moment: the bytes at `batch` with every storage rounded up to BLOCK
    rounded_peak: int  # index
    rounded_peak_bytes: int
    everything_kept: int  # bytes at `batch` of every tensor kept for backward at once (the old sum)

    @property
    def peak_moment(self) -> Moment:
        return self.moments[self.peak]

    def peak_at(self, batch: int) -> int:
        """The largest total over the moments at another batch."""
        return max(m.at(batch) for m in self.moments)


def _round(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


class _Walk:
    """The live storages and their running sums, per category, fixed and per sample."""

    def __init__(self, batch: int):
        self.batch = batch
        self.fixed = [0] * len(CATEGORIES)
        self.per_sample = [0] * len(CATEGORIES)
        self.rounded = 0
        self.live: dict[object, list[int]] = {}  # storage → [category, fixed, per sample, holders]
        self.moments: list[Moment] = []
        self.rounded_totals: list[int] = []

    def alloc(self, key: object, category: str, fixed: int, per_sample: int, holders: int = 1) -> None:
        if fixed == 0 and per_sample == 0:
            return
        index = _INDEX[category]
        self.live[key] = [index, fixed, per_sample, holders]
        self.fixed[index] += fixed
        self.per_sample[index] += per_sample
        self.rounded += _round(fixed + self.batch * per_sample)

    def hold(self, key: object, count: int = 1) -> None:
        entry = self.live.get(key)
        if entry is not None:
            entry[3] += count

    def release(self, key: object, count: int = 1) -> None:
        entry = self.live.get(key)
        if entry is None:
            return
        entry[3] -= count
        if entry[3] <= 0:
            del self.live[key]
            index, fixed, per_sample, _ = entry
            self.fixed[index] -= fixed
            self.per_sample[index] -= per_sample
            self.rounded -= _round(fixed + self.batch * per_sample)

    def holders(self, key: object) -> int:
        entry = self.live.get(key)
        return entry[3] if entry is not None else 0

    def mark(self, phase: str, layer: str) -> None:
        self.moments.append(Moment(phase, layer, tuple(self.fixed), tuple(self.per_sample)))
        self.rounded_totals.append(self.rounded)


def aliases(layers: Sequence[LayerResult]) -> dict[str, str]:
    """Tensor name → the storage it lives in. A view (flatten, chunk, selecttoken) or a layer that passes
    its input on (identity) always shares its input's memory; an in-place layer (relu, dropout) only when
    no other layer reads its input, as PyTorch code (and cnncalc's export) writes `inplace=True` only then."""
    readers: dict[str, int] = {}
    for layer in layers:
        for source in dict.fromkeys(layer.inputs):
            readers[source] = readers.get(source, 0) + 1
    owners = {INPUT_NAME: INPUT_NAME}
    for layer in layers:
        shares = not layer.new_tensor and layer.inputs and (
            REGISTRY[layer.kind].view or REGISTRY[layer.kind].grad_flow != "new"
            or readers.get(layer.inputs[0], 0) == 1)
        owners[layer.name] = owners[layer.inputs[0]] if shares else layer.name
    return owners


def timeline(input_values: int, layers: Sequence[LayerResult], facts: Facts, batch: int = 1) -> Timeline:
    """Walk one training step (see the module's docstring) and find its peak at `batch`."""
    size = facts.value_bytes
    walk = _Walk(batch)
    owners = aliases(layers)
    kinds = [REGISTRY[layer.kind] for layer in layers]
    # persistent: parameters (a weight and a bias tensor per layer), buffers, optimizer state
    for i, layer in enumerate(layers):
        for part, count in (("w", layer.weight_count), ("b", layer.bias_count)):
            if count:
                walk.alloc((i, part), "parameters", count * size, 0)
                if facts.master_bytes:
                    walk.alloc((i, part, "master"), "master_weights", count * facts.master_bytes, 0)
                for copy in range(facts.state_copies):
                    walk.alloc((i, part, "state", copy), "optimizer_state", count * facts.state_bytes, 0)
        if layer.non_trainable_count:
            walk.alloc((i, "buffers"), "buffers", layer.non_trainable_count * facts.state_bytes, 0)
    # which layers have a backward: their output depends on a parameter
    needs_grad = {INPUT_NAME: False}
    for layer in layers:
        needs_grad[layer.name] = bool(layer.weight_count or layer.bias_count) or any(
            needs_grad[s] for s in layer.inputs)
    # forward readers per storage
    reads: dict[str, int] = {}
    for layer in layers:
        for source in layer.inputs:
            reads[owners[source]] = reads.get(owners[source], 0) + 1
    walk.alloc(INPUT_NAME, "input", 0, input_values * size, holders=1 + reads.get(INPUT_NAME, 0))  # the caller's
    values = {INPUT_NAME: input_values}
    saved_by: list[list[object]] = []
    everything_kept = input_values * size * batch
    kept_once: set[object] = {INPUT_NAME}
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (layer, kind) in enumerate(zip(layers, kinds)):
        name = layer.name
        values[name] = layer.activation_count
        shapes[name] = layer.output_shape
        storage = owners[name]
        if storage == name:
            walk.alloc(name, "activations", 0, layer.activation_count * size, holders=reads.get(name, 0))
        mine: list[object] = []
        if needs_grad[name]:
            for saved in layer_saved(layer, shapes, size):
                if saved.implementation and saved.implementation != facts.attention:
                    continue  # kept by the other attention implementation
                if saved.what == INPUT:
                    key: object = owners[layer.inputs[saved.input_index]] if layer.inputs else INPUT_NAME
                    walk.hold(key)
                elif saved.what == OUTPUT:
                    key = storage
                    walk.hold(key)
                else:
                    key = (name, saved.what)
                    bytes_ = saved.values * saved.bytes_per_value
                    walk.alloc(key, "activations", 0 if saved.per_sample else bytes_,
                               bytes_ if saved.per_sample else 0)
                if key not in kept_once:
                    kept_once.add(key)
                    everything_kept += saved.values * saved.bytes_per_value * (batch if saved.per_sample else 1)
                mine.append(key)
        saved_by.append(mine)
        walk.mark("forward", name)
        for source in layer.inputs:
            walk.release(owners[source])
        if storage == name and reads.get(name, 0) == 0:  # read by no layer: the network's result
            walk.hold(name)  # held by the loss until the forward ends
    for layer in layers:
        if owners[layer.name] == layer.name and reads.get(layer.name, 0) == 0:
            walk.release(layer.name)
    # backward
    grads: dict[str, object] = {}
    sliced: set[str] = set()
    read_names = {source for layer in layers for source in layer.inputs}
    for layer in layers:
        if needs_grad[layer.name] and layer.name not in read_names:
            grads[layer.name] = ("grad", layer.name)  # the loss's gradient: an expanded scalar, no memory
    for i in range(len(layers) - 1, -1, -1):
        layer, kind = layers[i], kinds[i]
        name = layer.name
        if not needs_grad[name] or name not in grads:
            for key in saved_by[i]:
                walk.release(key)
            continue
        incoming = grads.pop(name)
        for part, count in (("w", layer.weight_count), ("b", layer.bias_count)):
            if count:
                walk.alloc((i, part, "grad"), "gradients", count * size, 0)
        outgoing: list[tuple[str, object]] = []
        for source in dict.fromkeys(layer.inputs):
            if not needs_grad[source]:
                continue
            if kind.grad_flow == "new":
                key = ("grad", name, source)
                walk.alloc(key, "activation_gradients", 0, values[source] * size)
            else:  # the same tensor, or a view of it: the output's gradient stays alive for it
                key = incoming
                walk.hold(key)
            outgoing.append((source, key))
        if kind.backward_temporaries:
            walk.alloc(("temporaries", name), "temporaries", 0,
                       kind.backward_temporaries * layer.activation_count * size)
        walk.mark("backward", name)
        walk.release(("temporaries", name))
        for key in saved_by[i]:
            walk.release(key)
        walk.release(incoming)
        for source, key in outgoing:
            earlier = grads.get(source)
            if earlier is None:
                grads[source] = key
                if kind.grad_flow == "view":
                    sliced.add(source)  # a slice of a larger tensor: summing into it makes a new tensor
            elif earlier == key:
                walk.release(key)
            elif walk.holders(earlier) == 1 and source not in sliced:
                walk.release(key)  # summed in place into the gradient that arrived first
            else:
                summed = ("sum", name, source)
                walk.alloc(summed, "activation_gradients", 0, values[source] * size)
                walk.mark("backward", name)  # the sum, while both gradients are alive
                walk.release(earlier)
                walk.release(key)
                grads[source] = summed
                sliced.discard(source)
    for key in grads.values():
        walk.release(key)
    # the optimizer's step
    params = sum(layer.weight_count + layer.bias_count for layer in layers)
    if facts.master_bytes:  # mixed precision: each gradient becomes the master's, in float32, one by one
        for i, layer in enumerate(layers):
            for part, count in (("w", layer.weight_count), ("b", layer.bias_count)):
                if count:
                    walk.alloc((i, part, "master grad"), "master_gradients", count * facts.master_bytes, 0)
                    walk.mark("step", layer.name)
                    walk.release((i, part, "grad"))
    if facts.step_copies and params:
        walk.alloc("step", "temporaries", params * facts.step_copies * facts.state_bytes, 0)
    walk.mark("step", STEP_LAYER)
    moments = tuple(walk.moments)
    totals = [m.at(batch) for m in moments]
    peak = max(range(len(totals)), key=totals.__getitem__)
    rounded = tuple(walk.rounded_totals)
    rounded_peak = max(range(len(rounded)), key=rounded.__getitem__)
    return Timeline(moments, batch, peak, totals[peak], rounded, rounded_peak, rounded[rounded_peak],
                    everything_kept)
