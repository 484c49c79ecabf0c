"""The engine's answer: plain frozen data that every renderer reads and none recomputes."""

from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from .problems import Location, Problem
from .spec import Span


class ReceptiveField(NamedTuple):
    """Per spatial dim: the input region one output unit sees (size), the input step between
    neighbouring units (jump, the effective stride) and the input coordinate where the first
    unit's region begins (start; negative when it reaches into the padding)."""

    size: tuple[Any, ...]  # ints; a Fraction only after upsampling (see `bound`)
    jump: tuple[Any, ...]  # ints, or Fractions below 1 after upsampling
    start: tuple[Any, ...]
    bound: bool = False  # after bilinear upsampling (or a period too long to follow) the size is an upper bound
    note: str = ""  # where paths into a merge disagree on jump or alignment
    profile: tuple[Any, ...] | None = None  # per dim, after upsampling: the exact regions (fields.Profile)


class LayerResult(NamedTuple):
    """Everything computed for one layer."""

    index: int
    name: str
    kind: str
    category: str
    description: str
    location: Location
    inputs: tuple[str, ...]
    block: tuple[str, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weight_count: int
    bias_count: int
    non_trainable_count: int
    macs: int
    fan_in: tuple[int, ...]  # weight_count == prod(fan_in) · fan_out
    fan_out: int
    activation_count: int  # values in the output tensor
    new_tensor: bool  # False for in-place and view layers: they add no memory
    receptive_field: ReceptiveField
    notes: tuple[str, ...] = ()
    params: Mapping[str, Any] = MappingProxyType({})  # the kind's parameters, defaults filled in

    @property
    def param_count(self) -> int:
        """Weights + biases: what PyTorch's parameters() holds (running statistics excluded)."""
        return self.weight_count + self.bias_count

    @property
    def trainable_count(self) -> int:
        return self.param_count

    @property
    def output(self) -> tuple[int, ...]:
        """The output shape, channels first (C, H, W): `output_shape` by its short name."""
        return self.output_shape


class Totals(NamedTuple):
    """Sums over the network. Activations count the input plus every layer that makes a new tensor."""

    params: int
    weights: int
    biases: int
    trainable: int
    non_trainable: int
    input_activations: int  # values in the input tensor
    activations: int  # values per sample
    activation_bytes: int  # per sample, forward
    training_activation_bytes: int  # per sample: every tensor kept for backward at once (as `memory` counts it)
    batch_activation_bytes: int  # × batch, forward
    batch_training_activation_bytes: int  # at the batch: kept for backward (fixed + batch · per sample)
    param_bytes: int
    inference_peak: int  # values alive at once at most, per sample, when tensors are freed after their last use
    inference_peak_bytes: int
    inference_peak_layer: str  # the layer running at that moment
    inference_peak_scratch: str  # what the running layer holds for a moment besides tensors (max-pool indices)
    macs: int  # per sample
    batch_macs: int
    kept: tuple = ()  # memory.KeptGroup per size: what backward keeps (training_activation_bytes is their sum)
    rule_of_thumb_bytes: int = 0  # the lecture's rule of thumb: every layer's output, ×2 for backward
    batch_rule_of_thumb_bytes: int = 0


class Share(NamedTuple):
    """What one category of layers (conv, fc, pool, ...) holds, absolute and in percent of the total."""

    category: str
    params: int
    activations: int
    macs: int
    params_percent: float
    activations_percent: float
    macs_percent: float


class GroupResult(NamedTuple):
    """A block, group, repeat iteration or named branches: its layers' subtotals and its output."""

    name: str
    level: int  # 1 for a top-level group
    first_index: int
    last_index: int
    layer_count: int
    params: int
    non_trainable: int
    activations: int  # values of the new tensors its layers make
    macs: int
    output_shape: tuple[int, ...]
    receptive_field: ReceptiveField


class Report(NamedTuple):
    """The engine's answer for one spec: every layer, the totals, the shares by category, the groups."""

    name: str
    source: str
    input_shape: tuple[int, ...]
    dtype: str
    dtype_bytes: int
    batch: int
    floor: bool
    layers: tuple[LayerResult, ...]
    totals: Totals
    shares: tuple[Share, ...]
    groups: tuple[GroupResult, ...] = ()
    warnings: tuple[Problem, ...] = ()
    structure: tuple[Span, ...] = ()  # the spec's repeats, blocks, groups and branches (Spec.structure)

    def __repr__(self) -> str:
        """Plain text, as a notebook shows it: one line per layer (the first REPR_LAYERS) and the totals."""
        rows = [("layer", "kind", "output", "params", "MACs")]
        rows += [(r.name, r.kind, "×".join(map(str, r.output_shape)), f"{r.param_count:,}", f"{r.macs:,}")
                 for r in self.layers[:REPR_LAYERS]]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = [f"Report {self.name!r}: input {'×'.join(map(str, self.input_shape))}, {self.dtype}, "
                 f"{len(self.layers):,} layers"]
        for row in rows:  # names, kinds and shapes flush left, numbers flush right
            cells = [cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
            lines.append("  " + "  ".join(cells))
        if len(self.layers) > REPR_LAYERS:
            lines.append(f"  ... {len(self.layers) - REPR_LAYERS:,} more layers")
        t = self.totals
        lines.append(f"  total: {t.params:,} params, {t.macs:,} MACs, {t.activations:,} activations per sample")
        return "\n".join(lines)

    def _repr_html_(self) -> str | None:
        """In a notebook: the HTML report (`shapes --format html`: the totals, the picture with its bars, the
        receptive field) in a frame of its own, so that its style and script stay apart from the notebook's.
        None beyond the picture's layer limit: the notebook then shows the plain-text repr."""
        from html import escape

        from .render.graph_layout import PictureTooLarge
        from .render.html import render_html
        from .render.svg import attr

        try:
            page = render_html(self)
        except PictureTooLarge:
            return None
        return (f'<iframe class="cnncalc-report" title="{attr(self.name)}" srcdoc="{escape(page)}" '
                'style="width: 100%; height: 640px; border: 1px solid #d0d7de; border-radius: 6px;"></iframe>')


REPR_LAYERS = 40  # layers a Report's repr lists
