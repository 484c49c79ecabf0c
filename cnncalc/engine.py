"""Spec → Report: shape propagation, counts and receptive fields. Pure: no I/O, no printing."""

from __future__ import annotations

from math import prod
from operator import add, attrgetter, sub
from typing import TYPE_CHECKING, Any, Mapping

from .kinds import REGISTRY, Computed, LayerContext, LayerFailure, LayerKind, Window
from .memory import inference_peak
from .problems import ERROR, WARNING, Location, Problem, SpecError
from .report import GroupResult, LayerResult, ReceptiveField, Report, Share, Totals
from .spec import INPUT_NAME, LayerSpec, Spec

if TYPE_CHECKING:  # fractions only where a transposed conv or an upsample makes them: a lighter start-up
    from fractions import Fraction


MAX_TENSOR_VALUES = 10**36  # the most values any tensor may hold: sizes grow layer by layer, and without a
# bound 10^6 upsampling layers would make numbers of millions of digits


def _exact(value: Fraction) -> int | Fraction:
    return int(value) if value.denominator == 1 else value


def receptive_field_step(field: ReceptiveField, windows: tuple[Window, ...] | None) -> ReceptiveField:
    """One layer of the recurrence, per dim: size += (F_eff − 1)·jump; start −= P_before·jump; jump ·= S.

    A window that upsamples by U first divides the jump by U (a transposed conv is zeros inserted
    between the inputs, then a stride-1 conv); the size is then an upper bound, as the window may
    cover inserted zeros.
    """
    if windows is None:
        return field
    if field.profile is not None or any(w.upsample != 1 for w in windows):
        exact = _exact_step(field, windows)
        if exact is not None:
            return exact
    size, jump, start = [], [], []
    for r, j, s, w in zip(field.size, field.jump, field.start, windows):
        if w.upsample == 1 and type(j) is int:  # whole numbers stay whole: no Fraction (10 times slower)
            size.append(r + (w.kernel - 1) * j)
            start.append(s - w.pad_before * j)
            jump.append(j * w.stride)
            continue
        from fractions import Fraction

        j = Fraction(j) / w.upsample
        size.append(_exact(r + (w.kernel - 1) * j))
        start.append(_exact(s - w.pad_before * j))
        jump.append(_exact(j * w.stride))
    bound = field.bound or any(w.bound for w in windows) or field.profile is not None
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), bound, field.note)


def _profiles(field: ReceptiveField) -> tuple[Any, ...] | None:
    """The field's exact per-dim profiles (fields.Profile), or None when it has only an approximation."""
    from . import fields

    if field.profile is not None:
        return field.profile
    if not all(type(v) is int for v in field.jump + field.size + field.start) or field.bound:
        return None
    return tuple(map(fields.from_recurrence, field.size, field.jump, field.start))


def _from_profiles(profiles: tuple[Any, ...], bound: bool, note: str) -> ReceptiveField:
    """A field from exact profiles; back to the plain recurrence once every period is one unit again."""
    from . import fields

    size, jump, start = zip(*map(fields.measures, profiles))
    keep = None if all(p.period == 1 for p in profiles) else profiles
    return ReceptiveField(size, jump, start, bound, note, keep)


def _exact_step(field: ReceptiveField, windows: tuple[Window, ...]) -> ReceptiveField | None:
    """receptive_field_step through exact profiles (see fields.py); None when they cannot be followed."""
    from . import fields

    profiles = _profiles(field)
    if profiles is None:
        return None
    stepped = []
    for p, w in zip(profiles, windows):
        mode = w.mode if w.upsample != 1 else ""
        if w.upsample != 1 and not mode:  # a spreading this module does not know: the recurrence
            return None
        p = fields.step(p, w.kernel, w.stride, w.pad_before, w.upsample, mode)
        if p is None:
            return None
        stepped.append(p)
    bound = field.bound or any(w.mode == "bilinear" for w in windows)
    return _from_profiles(tuple(stepped), bound, field.note)


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
    bound = any(f.bound for f in fields)
    if any(f.profile is not None for f in fields):
        from . import fields as exact

        profiles = [_profiles(f) for f in fields]
        if all(p is not None for p in profiles):
            merged = [exact.merge(list(dims)) for dims in zip(*profiles)]
            if all(p is not None for p in merged):
                return _from_profiles(tuple(merged), bound, note)
        bound = True  # the recurrence's union of fractional fields: approximate
    return ReceptiveField(size, jump, start, bound, note)


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


def _step(windows: tuple[Window, ...] | None) -> tuple[Any, ...] | None:
    """What `_next_field` needs of a layer's windows, worked out once per computation: the windows, each
    window's (F_eff − 1, P_before, S) (None when a window upsamples) and whether any window is a bound.
    None for pointwise layers."""
    if windows is None:
        return None
    steps = None
    if all(w.upsample == 1 for w in windows):
        steps = tuple((w.kernel - 1, w.pad_before, w.stride) for w in windows)
    return windows, steps, any(w.bound for w in windows)


def _next_field(field: ReceptiveField, step: tuple[Any, ...]) -> ReceptiveField | None:
    """`receptive_field_step` on a field within the limit of `_beyond_limit`, or None when the result passes it.

    A 2-D field with whole jumps through windows that do not upsample (the common case, once per layer of a
    spec of 100,000 layers) takes a short path with the same arithmetic: its sizes and starts keep their
    denominators, so only their magnitudes can pass the limit.
    """
    windows, steps, bound = step
    if steps is not None and len(steps) == 2 and field.profile is None:
        j0, j1 = field.jump
        if type(j0) is int and type(j1) is int:
            (grow0, pad0, stride0), (grow1, pad1, stride1) = steps
            r0, r1 = field.size
            s0, s1 = field.start
            values = (r0 + grow0 * j0, r1 + grow1 * j1, j0 * stride0, j1 * stride1, s0 - pad0 * j0, s1 - pad1 * j1)
            if max(values) > MAX_TENSOR_VALUES or min(values) < -MAX_TENSOR_VALUES:
                return None
            return ReceptiveField(values[0:2], values[2:4], values[4:6], field.bound or bound, field.note)
    field = receptive_field_step(field, windows)
    return None if _beyond_limit(field) else field


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


def _outcome(kind: LayerKind, written: Mapping[str, Any], sources: tuple[tuple[str, tuple[int, ...]], ...], floor: bool,
             slot: int) -> tuple[Any, ...]:
    """`_compute`'s answer with what every layer alike needs of it worked out once: (Computed or None,
    resolved parameters, problems, the notes the table shows, the output's values, the `_step` of its
    windows, its kind's category, whether it makes a new tensor, and `slot`, where `analyze` counts the
    layers alike)."""
    computed, params, raised, notes = _compute(kind, written, sources, floor)
    if computed is None:
        return computed, params, raised, notes, 0, None, kind.category, not kind.in_place, slot
    return (computed, params, raised, computed.notes + notes, prod(computed.output_shape), _step(computed.windows),
            kind.category, not kind.in_place, slot)


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
    outcomes: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # what _outcome returned, by layer alike
    made: list[tuple[LayerKind, Computed | None]] = []  # by slot: each outcome's kind and Computed
    uses: list[int] = []  # by slot: the layers computed alike, for the totals
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
            outcome = _outcome(kind, written, sources or ((inputs[0], input_shape),), floor, len(made))
            made.append((kind, outcome[0]))
            uses.append(0)
            if key is not None and (sources is None or not (outcome[2] or outcome[3])):  # raised, notes
                outcomes[key] = outcome
        computed, params, raised, notes, output_values, step, category, new_tensor, slot = outcome
        if raised:
            problems.extend(_problem(layer, kind_name, m, p, s) for m, p, s in raised)
        if computed is None:
            continue
        if output_values > MAX_TENSOR_VALUES:
            problems.append(_problem(layer, kind_name, f"the output holds {output_values:,} values, more "
                                                       "than cnncalc's limit of 10^36", None, ERROR))
            continue
        if single:
            field = fields[inputs[0]]  # within the limit: checked when its layer was computed
            if step is not None:
                field = _next_field(field, step)
        else:
            merged = merge_fields([fields[name] for name in inputs])
            field = receptive_field_step(merged, computed.windows)
            if _beyond_limit(field):
                field = None
            if merged.note:
                notes += (f"receptive field: {merged.note}",)
        if field is None:
            problems.append(_problem(layer, kind_name, "its receptive field passes cnncalc's limit of 10^36 (strides "
                                                       "and upsampling multiply layer after layer)", None, ERROR))
            continue
        name = layer.name
        shapes[name] = computed.output_shape
        fields[name] = field
        uses[slot] += 1
        results.append(LayerResult(  # positional, in the record's order: keywords cost twice as much per layer
            len(results) + 1,  # index
            name,
            kind_name,
            category,
            computed.description,
            layer.location,
            inputs,
            layer.block,
            input_shape,
            computed.output_shape,
            computed.weight_count,
            computed.bias_count,
            computed.non_trainable_count,
            computed.macs,
            computed.fan_in,
            computed.fan_out,
            output_values,  # activation_count
            new_tensor,
            field,  # receptive_field
            notes,
            params,
        ))
    if any(p.severity == ERROR for p in problems):
        raise SpecError(problems)
    return _report(spec, results, list(zip(made, uses)), tuple(p for p in problems if p.severity == WARNING), floor,
                   batch)


def _groups(layers: list[LayerResult]) -> tuple[GroupResult, ...]:
    """Subtotals per group path prefix, in order of first appearance.

    Consecutive layers of one scope share its group path: their sums are taken once per such run,
    then added to every group of the path (a spec may have 100,000 layers in nested groups)."""
    sums: dict[str, list[Any]] = {}  # name → [level, first layer, last layer, layers, params, non-trainable, activations, MACs]
    position, count = 0, len(layers)
    while position < count:
        block = layers[position].block
        end = position + 1
        while end < count and layers[end].block == block:
            end += 1
        if block:
            params = non_trainable = activations = macs = 0
            for r in layers[position:end]:
                params += r.weight_count + r.bias_count
                non_trainable += r.non_trainable_count
                if r.new_tensor:
                    activations += r.activation_count
                macs += r.macs
            first, last, run = layers[position], layers[end - 1], end - position
            for level, name in enumerate(block, start=1):
                group = sums.get(name)
                if group is None:
                    sums[name] = [level, first, last, run, params, non_trainable, activations, macs]
                else:
                    group[0], group[2] = level, last
                    group[3] += run
                    group[4] += params
                    group[5] += non_trainable
                    group[6] += activations
                    group[7] += macs
        position = end
    return tuple(
        GroupResult(
            name=name,
            level=level,
            first_index=first.index,
            last_index=last.index,
            layer_count=layer_count,
            params=params,
            non_trainable=non_trainable,
            activations=activations,
            macs=macs,
            output_shape=last.output_shape,
            receptive_field=last.receptive_field,
        )
        for name, (level, first, last, layer_count, params, non_trainable, activations, macs) in sums.items()
    )


def _report(spec: Spec, layers: list[LayerResult], alike: list[tuple[tuple[LayerKind, Computed | None], int]],
            warnings: tuple[Problem, ...], floor: bool, batch: int) -> Report:
    """The report of the computed `layers`. `alike` pairs each distinct computation (kind, Computed) with
    the number of layers that share it: the totals take each once, times that number."""
    weights = biases = non_trainable = macs = 0
    activations = prod(spec.input_shape)
    by_category: dict[str, list[int]] = {}  # category → [params, activations, MACs], in order of appearance
    for (kind, computed), count in alike:  # in order of the first layer of each
        if not count:  # pragma: no cover - a computation no layer kept is an error, raised before
            continue
        new = 0 if kind.in_place else prod(computed.output_shape) * count
        weights += computed.weight_count * count
        biases += computed.bias_count * count
        non_trainable += computed.non_trainable_count * count
        activations += new
        macs += computed.macs * count
        sums = by_category.get(kind.category)
        if sums is None:
            sums = by_category[kind.category] = [0, 0, 0]
        sums[0] += (computed.weight_count + computed.bias_count) * count
        sums[1] += new
        sums[2] += computed.macs * count
    size = spec.dtype_bytes
    peak = inference_peak(prod(spec.input_shape), layers)
    totals = Totals(
        params=weights + biases,
        weights=weights,
        biases=biases,
        trainable=weights + biases,
        non_trainable=non_trainable,
        input_activations=prod(spec.input_shape),
        activations=activations,
        activation_bytes=activations * size,
        training_activation_bytes=2 * activations * size,
        batch_activation_bytes=activations * size * batch,
        batch_training_activation_bytes=2 * activations * size * batch,
        param_bytes=(weights + biases) * size,
        inference_peak=peak.values,
        inference_peak_bytes=peak.values * size,
        inference_peak_layer=peak.layer,
        macs=macs,
        batch_macs=macs * batch,
    )
    shares = [Share(category, p, a, m, _percent(p, totals.params), _percent(a, activations), _percent(m, macs))
              for category, (p, a, m) in by_category.items()]
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
