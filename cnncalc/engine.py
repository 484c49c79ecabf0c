"""Spec → Report: shape propagation, counts and receptive fields. Pure: no I/O, no printing."""

from __future__ import annotations

from math import prod
from operator import add, attrgetter, mul, sub
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from .kinds import REGISTRY, Computed, LayerContext, LayerFailure, LayerKind, Window
from .memory import inference_peak, kept_bytes, kept_groups, saved_tensors
from .problems import ERROR, WARNING, Location, Problem, SpecError
from .report import GroupResult, LayerResult, ReceptiveField, Report, Share, Totals
from .spec import INPUT_NAME, LayerSpec, Spec

if TYPE_CHECKING:  # fractions only where a transposed conv or an upsample makes them: a lighter start-up
    from fractions import Fraction


MAX_TENSOR_VALUES = 10**36  # the most values any tensor may hold: sizes grow layer by layer, and without a
# bound 10^6 upsampling layers would make numbers of millions of digits


def _exact(value: Fraction) -> int | Fraction:
    return int(value) if value.denominator == 1 else value


class Step(NamedTuple):
    """What the receptive-field recurrence needs of a layer's windows, worked out once per computation:
    per dim F_eff − 1 (`grows`), P_before (`pads`) and S (`strides`); `whole` when no window upsamples."""

    windows: tuple[Window, ...]
    grows: tuple[int, ...]
    pads: tuple[int, ...]
    strides: tuple[int, ...]
    whole: bool
    bound: bool

    @classmethod
    def of(cls, windows: tuple[Window, ...]) -> Step:
        return cls(windows, tuple(w.kernel - 1 for w in windows), tuple(w.pad_before for w in windows),
                   tuple(w.stride for w in windows), all(w.upsample == 1 for w in windows),
                   any(w.bound for w in windows))


def receptive_field_step(field: ReceptiveField, windows: tuple[Window, ...] | Step | None) -> ReceptiveField:
    """One layer of the recurrence, per dim: size += (F_eff − 1)·jump; start −= P_before·jump; jump ·= S.

    Once a window upsamples (a transposed conv: zeros inserted between the inputs, then a stride-1 conv;
    a nearest or bilinear upsample), units read regions of different sizes: the field is then followed
    exactly through its periodic profiles (fields.py). `windows` may be given as their Step, worked out
    once for many layers.
    """
    if windows is None:
        return field
    step = windows if type(windows) is Step else Step.of(windows)
    if field.profile is not None or not step.whole:
        from . import fields

        stepped = fields.field_step(field, step.windows)
        if stepped is not None:
            return stepped
    jump = field.jump
    bound = field.bound or step.bound
    if step.whole and all(type(j) is int for j in jump):  # whole numbers stay whole: no Fraction (10 times slower)
        return ReceptiveField(tuple(map(add, field.size, map(mul, step.grows, jump))), tuple(map(mul, jump, step.strides)),
                              tuple(map(sub, field.start, map(mul, step.pads, jump))), bound, field.note)
    from fractions import Fraction

    size, jumps, start = [], [], []
    for r, j, s, w in zip(field.size, jump, field.start, step.windows):
        j = Fraction(j) / w.upsample
        size.append(_exact(r + (w.kernel - 1) * j))
        start.append(_exact(s - w.pad_before * j))
        jumps.append(_exact(j * w.stride))
    return ReceptiveField(tuple(size), tuple(jumps), tuple(start), bound, field.note)


def merge_fields(fields: list[ReceptiveField]) -> ReceptiveField:
    """The receptive field of a merge: per dim, the union of the first unit's regions over all paths
    (the largest path's region when they are centred alike). Paths that step differently (jump) or
    whose regions are not centred alike are said so in `note` rather than guessed away."""
    if len(fields) == 1:
        return fields[0]
    ends = [tuple(map(add, f.start, f.size)) for f in fields]
    start = tuple(map(min, *[f.start for f in fields]))  # per dim, over the paths
    size = tuple(map(sub, map(max, *ends), start))
    jump = tuple(map(max, *[f.jump for f in fields]))
    notes = [f.note for f in fields if f.note]
    doubled_centres = {tuple(map(add, f.start, end)) for f, end in zip(fields, ends)}  # start + end: whole, no Fraction
    if len({f.jump for f in fields}) > 1 or len(doubled_centres) > 1:
        notes += _disagreements(fields)
    note = "; ".join(sorted(set(notes)))
    if any(f.profile is not None for f in fields):  # after upsampling: the union of the regions, exactly
        from . import fields as exact

        return exact.merge_fields(fields, note)
    return ReceptiveField(size, jump, start, any(f.bound for f in fields), note)


def merge_fields_broadcast(fields: list[ReceptiveField], shapes: list[tuple[int, ...]],
                           output_shape: tuple[int, ...]) -> ReceptiveField:
    """`merge_fields` for inputs that may broadcast (add, mul): an input of size 1 in a spatial dim where the
    output is larger (a squeeze-and-excitation gate) is one unit applied at every position. Its region joins
    the union, but it steps like the other paths (its own jump, the whole input, is no step between output
    units), and it is not a path whose alignment the others should share."""
    out = output_shape[1:]
    spread = [any(n == 1 < o for n, o in zip(shape[1:], out)) for shape in shapes]
    if not any(spread) or all(spread):
        return merge_fields(fields)
    stepping = [f for f, s in zip(fields, spread) if not s]
    jump = tuple(map(min, *[f.jump for f in stepping])) if len(stepping) > 1 else stepping[0].jump
    union = merge_fields([f._replace(jump=jump, note="") if s else f for f, s in zip(fields, spread)])
    aligned = merge_fields(stepping)
    notes = [aligned.note] + [f.note for f, s in zip(fields, spread) if s and f.note]
    return union._replace(jump=aligned.jump, note="; ".join(sorted({n for n in notes if n})))


def _disagreements(fields: list[ReceptiveField]) -> list[str]:
    """Per dim, how the paths into a merge disagree: on jump, or else on where their regions are centred."""
    notes = []
    for d in range(len(fields[0].size)):
        jumps = sorted({f.jump[d] for f in fields})
        doubled_centres = sorted({f.start[d] * 2 + f.size[d] - 1 for f in fields})  # 2 × centre: whole, no Fraction
        if len(jumps) > 1:
            notes.append("paths disagree on jump (" + " vs ".join(str(j) for j in jumps) + ")")
        elif len(doubled_centres) > 1:
            from fractions import Fraction  # only for the message: centres may be halves

            notes.append("paths are not centred alike (centres "
                         + " vs ".join(str(Fraction(c, 2)) for c in doubled_centres) + ")")
    return notes


def _problem(layer: LayerSpec, kind: str, message: str, param: str | None, severity: str) -> Problem:
    location = layer.param_locations.get(param, layer.location) if param else layer.location
    return Problem(location, f"{kind} '{layer.name}': {message}", severity, layer.path)


_denominator = attrgetter("denominator")


def _beyond_limit(field: ReceptiveField) -> bool:
    """A size, jump or start past 10^36, or a fraction with a denominator past it: a stride of 10^36 on a
    1-pixel input is legal layer by layer, but the jumps multiply into numbers of millions of digits."""
    values = field.size + field.jump + field.start
    return (max(values) > MAX_TENSOR_VALUES or min(values) < -MAX_TENSOR_VALUES
            or max(map(_denominator, values)) > MAX_TENSOR_VALUES)  # an int's denominator is 1


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0  # int / int: exact, however large (100.0 * part overflows a float)


def _compute(kind: LayerKind, written: Mapping[str, Any], sources: tuple[tuple[str, tuple[int, ...]], ...], floor: bool
             ) -> tuple[Computed | None, Mapping[str, Any], tuple[tuple[str, str | None, str], ...], tuple[str, ...]]:
    """One layer's computation from its written parameters and its (input name, shape) pairs: the Computed
    (None when it fails), the resolved parameters, the (message, param, severity) problems and the notes."""
    ctx = LayerContext(floor=floor)
    params = kind.resolve(written)
    try:
        if kind.max_inputs > 1:
            if len(sources) < 2:
                raise LayerFailure(f"{kind.name} merges two or more inputs; give them with 'from: [a, b]'")
            computed = kind.compute_merge(params, sources, ctx)
        elif len(sources) > 1:
            raise LayerFailure(f"{kind.name} takes one input, but 'from' names {len(sources)}; "
                               "merge them first with add or concat")
        else:
            computed = kind.compute(params, sources[0][1], ctx)
    except LayerFailure as failure:
        return None, params, ((failure.message, failure.param, ERROR),), ()
    if any(size <= 0 for size in computed.output_shape):  # pragma: no cover - slide() refuses these first
        return None, params, (*ctx.problems, (f"output size {computed.output_shape} is not positive", None, ERROR)), ()
    return computed, params, tuple(ctx.problems), tuple(ctx.notes)


class _Outcome(NamedTuple):
    """`_compute`'s answer with what every layer alike needs of it worked out once."""

    computed: Computed | None  # None when the layer fails
    problems: tuple[tuple[str, str | None, str], ...]  # (message, param, severity)
    notes: tuple[str, ...]  # what the table shows under the layer
    output_values: int  # values in the output tensor
    step: Step | None  # its windows' step; None for pointwise layers
    slot: int  # where `analyze` counts the layers alike
    shared: Mapping[str, Any]  # the LayerResult fields every layer alike has the same (params, MACs, ...)


def _shared(computed: Computed, params: Mapping[str, Any], kind: LayerKind, output_values: int) -> dict[str, Any]:
    """The LayerResult fields that follow from the kind, its parameters and its input shape alone."""
    return dict(category=kind.category, description=computed.description, output_shape=computed.output_shape,
                weight_count=computed.weight_count, bias_count=computed.bias_count,
                non_trainable_count=computed.non_trainable_count, macs=computed.macs, fan_in=computed.fan_in,
                fan_out=computed.fan_out, activation_count=output_values, new_tensor=not kind.in_place, params=params)


def _outcome(kind: LayerKind, written: Mapping[str, Any], sources: tuple[tuple[str, tuple[int, ...]], ...], floor: bool,
             slot: int) -> _Outcome:
    computed, params, raised, notes = _compute(kind, written, sources, floor)
    if computed is None:
        return _Outcome(computed=None, problems=raised, notes=notes, output_values=0, step=None, slot=slot, shared={})
    step = None if computed.windows is None else Step.of(computed.windows)
    values = prod(computed.output_shape)
    return _Outcome(computed=computed, problems=raised, notes=computed.notes + notes, output_values=values, step=step,
                    slot=slot, shared=_shared(computed, params, kind, values))


class _Alike:
    """One distinct computation (a kind and its Computed, None when it failed) and how many layers share it."""

    __slots__ = ("kind", "computed", "count")

    def __init__(self, kind: LayerKind, computed: Computed | None):
        self.kind = kind
        self.computed = computed
        self.count = 0


_MERGING = frozenset(name for name, kind in REGISTRY.items() if kind.max_inputs > 1)  # kinds that take several inputs


def analyze(spec: Spec, *, floor: bool = False, batch: int = 1) -> Report:
    """Compute every layer of `spec`. Raises SpecError listing every error (and warning) found.

    With `floor`, non-integer sizes are floored as frameworks do and reported as warnings.
    """
    ndim = len(spec.input_shape) - 1
    shapes: dict[str, tuple[int, ...]] = {INPUT_NAME: spec.input_shape}
    fields = {INPUT_NAME: ReceptiveField((1,) * ndim, (1,) * ndim, (0,) * ndim)}
    problems: list[Problem] = list(spec.warnings)
    results: list[LayerResult] = []
    if prod(spec.input_shape) > MAX_TENSOR_VALUES:
        raise SpecError(problems + [Problem(spec.input_location, f"the input holds {prod(spec.input_shape):,} values, "
                                                                  f"more than cnncalc's limit of 10^36")])
    outcomes: dict[tuple[Any, ...], _Outcome] = {}  # by layer alike
    alike: list[_Alike] = []  # by slot: each distinct computation and the layers that share it
    for layer in spec.layers:
        inputs = layer.inputs
        single = len(inputs) == 1
        if single:
            input_shape = shapes.get(inputs[0])
            if input_shape is None:  # an earlier layer failed: nothing downstream
                continue
        elif all(map(shapes.__contains__, inputs)):
            input_shape = shapes[inputs[0]]
        else:
            continue
        kind_name = layer.kind
        # Layers alike in kind, parameters (value and type: 0 is not 0.0) and input shapes compute alike: once
        # per spec, however often a deep network repeats them. A single input's name plays no part in it; the
        # names of several inputs appear in messages only, so an answer with messages is not kept for others.
        if single and kind_name not in _MERGING:
            seen: tuple[Any, ...] = input_shape
            sources = None  # made only when the layer is computed
        else:
            seen = tuple(map(shapes.__getitem__, inputs))
            sources = tuple(zip(inputs, seen))
        written = layer.params
        key: tuple[Any, ...] | None = (kind_name, seen, tuple(written.items()), tuple(map(type, written.values())))
        try:
            outcome = outcomes.get(key)
        except TypeError:  # an unhashable parameter value: computed without reuse
            outcome = key = None
        if outcome is None:
            kind = REGISTRY[kind_name]
            outcome = _outcome(kind, written, sources or ((inputs[0], input_shape),), floor, len(alike))
            alike.append(_Alike(kind, outcome.computed))
            if key is not None and (sources is None or not (outcome.problems or outcome.notes)):
                outcomes[key] = outcome
        computed, notes = outcome.computed, outcome.notes
        if outcome.problems:
            problems.extend(_problem(layer, kind_name, m, p, s) for m, p, s in outcome.problems)
        if computed is None:
            continue
        if outcome.output_values > MAX_TENSOR_VALUES:
            problems.append(_problem(layer, kind_name, f"the output holds {outcome.output_values:,} values, more "
                                                       "than cnncalc's limit of 10^36", None, ERROR))
            continue
        if single:
            field = fields[inputs[0]]  # within the limit: checked when its layer was computed
        else:
            field = merge_fields_broadcast([fields[name] for name in inputs],
                                           [shapes[name] for name in inputs], computed.output_shape)
            if field.note:
                notes += (f"receptive field: {field.note}",)
        if outcome.step is not None or not single:  # a pointwise layer keeps its input's field, within the limit
            field = receptive_field_step(field, outcome.step)
            if _beyond_limit(field):
                problems.append(_problem(layer, kind_name, "its receptive field passes cnncalc's limit of 10^36 "
                                                           "(strides and upsampling multiply layer after layer)", None,
                                         ERROR))
                continue
        name = layer.name
        shapes[name] = computed.output_shape
        fields[name] = field
        alike[outcome.slot].count += 1
        results.append(LayerResult(index=len(results) + 1, name=name, kind=kind_name, location=layer.location,
                                   inputs=inputs, block=layer.block, input_shape=input_shape, receptive_field=field,
                                   notes=notes, **outcome.shared))
    if any(p.severity == ERROR for p in problems):
        from .newcomer import explained

        raise SpecError(explained(problems, spec))
    return _report(spec, results, alike, tuple(p for p in problems if p.severity != ERROR), floor, batch)


class _Sums:
    """Running totals of a group of layers, or of a category: parameters, non-trainable values, the values of
    the new tensors its layers make, MACs, and for a group its level, first and last layers and layer count."""

    __slots__ = ("level", "first", "last", "layers", "params", "non_trainable", "activations", "macs")

    def __init__(self, level: int = 0, first: LayerResult | None = None):
        self.level, self.first, self.last = level, first, first
        self.layers = self.params = self.non_trainable = self.activations = self.macs = 0

    def add(self, other: _Sums) -> None:
        self.layers += other.layers
        self.params += other.params
        self.non_trainable += other.non_trainable
        self.activations += other.activations
        self.macs += other.macs


def _groups(layers: list[LayerResult]) -> tuple[GroupResult, ...]:
    """Subtotals per group path prefix, in order of first appearance.

    Consecutive layers of one scope share its group path: their sums are taken once per such run,
    then added to every group of the path (a spec may have 100,000 layers in nested groups)."""
    sums: dict[str, _Sums] = {}
    position, count = 0, len(layers)
    while position < count:
        block = layers[position].block
        end = position + 1
        while end < count and layers[end].block == block:
            end += 1
        if block:
            run = _Sums()
            run.layers = end - position
            for r in layers[position:end]:
                run.params += r.weight_count + r.bias_count
                run.non_trainable += r.non_trainable_count
                if r.new_tensor:
                    run.activations += r.activation_count
                run.macs += r.macs
            for level, name in enumerate(block, start=1):
                group = sums.get(name)
                if group is None:
                    group = sums[name] = _Sums(level, layers[position])
                group.level, group.last = level, layers[end - 1]
                group.add(run)
        position = end
    return tuple(
        GroupResult(
            name=name,
            level=group.level,
            first_index=group.first.index,
            last_index=group.last.index,
            layer_count=group.layers,
            params=group.params,
            non_trainable=group.non_trainable,
            activations=group.activations,
            macs=group.macs,
            output_shape=group.last.output_shape,
            receptive_field=group.last.receptive_field,
        )
        for name, group in sums.items()
    )


def _report(spec: Spec, layers: list[LayerResult], alike: list[_Alike], warnings: tuple[Problem, ...], floor: bool,
            batch: int) -> Report:
    """The report of the computed `layers`. `alike` holds each distinct computation with the number of layers
    that share it: the totals take each once, times that number."""
    weights = biases = non_trainable = macs = 0
    activations = prod(spec.input_shape)
    by_category: dict[str, _Sums] = {}  # in order of appearance
    for each in alike:  # in order of the first layer of each
        count, computed = each.count, each.computed
        if not count:  # pragma: no cover - a computation no layer kept is an error, raised before
            continue
        new = 0 if each.kind.in_place else prod(computed.output_shape) * count
        weights += computed.weight_count * count
        biases += computed.bias_count * count
        non_trainable += computed.non_trainable_count * count
        activations += new
        macs += computed.macs * count
        sums = by_category.get(each.kind.category)
        if sums is None:
            sums = by_category[each.kind.category] = _Sums()
        sums.params += (computed.weight_count + computed.bias_count) * count
        sums.activations += new
        sums.macs += computed.macs * count
    size = spec.dtype_bytes
    peak = inference_peak(prod(spec.input_shape), layers, size)
    kept = kept_groups(saved_tensors(prod(spec.input_shape), layers, size))
    totals = Totals(
        params=weights + biases,
        weights=weights,
        biases=biases,
        trainable=weights + biases,
        non_trainable=non_trainable,
        input_activations=prod(spec.input_shape),
        activations=activations,
        activation_bytes=activations * size,
        training_activation_bytes=kept_bytes(kept, 1),
        batch_activation_bytes=activations * size * batch,
        batch_training_activation_bytes=kept_bytes(kept, batch),
        param_bytes=(weights + biases) * size,
        inference_peak=peak.values,
        inference_peak_bytes=peak.bytes,
        inference_peak_layer=peak.layer,
        inference_peak_scratch=peak.scratch.what if peak.scratch else "",
        macs=macs,
        batch_macs=macs * batch,
        kept=kept,
        rule_of_thumb_bytes=2 * activations * size,
        batch_rule_of_thumb_bytes=2 * activations * size * batch,
    )
    shares = [Share(category=category, params=sums.params, activations=sums.activations, macs=sums.macs,
                    params_percent=_percent(sums.params, totals.params),
                    activations_percent=_percent(sums.activations, activations),
                    macs_percent=_percent(sums.macs, macs))
              for category, sums in by_category.items()]
    return Report(
        groups=_groups(layers),
        name=spec.name,
        source=spec.source,
        input_shape=spec.input_shape,
        dtype=spec.dtype,
        dtype_bytes=size,
        batch=batch,
        floor=floor,
        layers=tuple(layers),
        totals=totals,
        shares=tuple(shares),
        warnings=warnings,
        structure=spec.structure,
    )


__all__ = ["analyze", "receptive_field_step", "Location"]
