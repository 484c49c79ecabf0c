"""Spec → Report: shape propagation, counts and receptive fields. Pure: no I/O, no printing."""

from __future__ import annotations

from math import prod
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
    bound = field.bound or any(w.bound for w in windows)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), bound, field.note)


def merge_fields(fields: list[ReceptiveField]) -> ReceptiveField:
    """The receptive field of a merge: per dim, the union of the first unit's regions over all paths
    (the largest path's region when they are centred alike). Paths that step differently (jump) or
    whose regions are not centred alike are said so in `note` rather than guessed away."""
    if len(fields) == 1:
        return fields[0]
    size, jump, start, notes = [], [], [], []
    for d in range(len(fields[0].size)):
        starts = [f.start[d] for f in fields]
        ends = [f.start[d] + f.size[d] for f in fields]
        jumps = sorted({f.jump[d] for f in fields})
        doubled_centres = sorted({f.start[d] * 2 + f.size[d] - 1 for f in fields})  # 2 × centre: whole, no Fraction
        if len(jumps) > 1:
            notes.append("paths disagree on jump (" + " vs ".join(str(j) for j in jumps) + ")")
        elif len(doubled_centres) > 1:
            from fractions import Fraction  # only for the message: centres may be halves

            notes.append("paths are not centred alike (centres "
                         + " vs ".join(str(Fraction(c, 2)) for c in doubled_centres) + ")")
        start.append(min(starts))
        size.append(max(ends) - min(starts))
        jump.append(jumps[-1])
    note = "; ".join(sorted(set(notes + [f.note for f in fields if f.note])))
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), any(f.bound for f in fields), note)


def _problem(layer: LayerSpec, kind: str, message: str, param: str | None, severity: str) -> Problem:
    location = layer.param_locations.get(param, layer.location) if param else layer.location
    return Problem(location, f"{kind} '{layer.name}': {message}", severity, layer.path)


def _beyond_limit(field: ReceptiveField) -> bool:
    """A size, jump or start past 10^36, or a fraction with a denominator past it: a stride of 10^36 on a
    1-pixel input is legal layer by layer, but the jumps multiply into numbers of millions of digits."""
    return any(abs(v) > MAX_TENSOR_VALUES or v.denominator > MAX_TENSOR_VALUES  # an int's denominator is 1
               for v in field.size + field.jump + field.start)


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
    outcomes: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # what _compute returned, by layer alike
    for layer in spec.layers:
        if not all(map(shapes.__contains__, layer.inputs)):  # an earlier layer failed: nothing downstream
            continue
        kind = REGISTRY[layer.kind]
        input_shape = shapes[layer.inputs[0]]
        single = len(layer.inputs) == 1
        sources = ((layer.inputs[0], input_shape),) if single else tuple((n, shapes[n]) for n in layer.inputs)
        # Layers alike in kind, parameters (value and type: 0 is not 0.0) and inputs compute alike: once per
        # spec, however often a deep network repeats them. A single input's name plays no part in it.
        seen = input_shape if single and kind.max_inputs == 1 else sources
        key = (kind.name, seen, tuple(layer.params.items()), tuple(map(type, layer.params.values())))
        try:
            outcome = outcomes[key]
        except KeyError:
            outcome = outcomes[key] = _compute(kind, layer.params, sources, floor)
        except TypeError:  # an unhashable parameter value: computed without reuse
            outcome = _compute(kind, layer.params, sources, floor)
        computed, params, raised, notes = outcome
        if raised:
            problems.extend(_problem(layer, kind.name, m, p, s) for m, p, s in raised)
        if computed is None:
            continue
        if prod(computed.output_shape) > MAX_TENSOR_VALUES:
            problems.append(_problem(layer, kind.name, f"the output holds {prod(computed.output_shape):,} values, more "
                                                       "than cnncalc's limit of 10^36", None, ERROR))
            continue
        merged = fields[layer.inputs[0]] if single else merge_fields([fields[name] for name in layer.inputs])
        field = receptive_field_step(merged, computed.windows)
        if _beyond_limit(field):
            problems.append(_problem(layer, kind.name, "its receptive field passes cnncalc's limit of 10^36 (strides "
                                                       "and upsampling multiply layer after layer)", None, ERROR))
            continue
        shapes[layer.name] = computed.output_shape
        fields[layer.name] = field
        if not single and merged.note:
            notes += (f"receptive field: {merged.note}",)
        results.append(
            LayerResult(
                index=len(results) + 1,
                name=layer.name,
                kind=kind.name,
                category=kind.category,
                description=computed.description,
                location=layer.location,
                inputs=layer.inputs,
                block=layer.block,
                input_shape=input_shape,
                output_shape=computed.output_shape,
                weight_count=computed.weight_count,
                bias_count=computed.bias_count,
                non_trainable_count=computed.non_trainable_count,
                macs=computed.macs,
                fan_in=computed.fan_in,
                fan_out=computed.fan_out,
                activation_count=prod(computed.output_shape),
                new_tensor=not kind.in_place,
                receptive_field=fields[layer.name],
                notes=computed.notes + notes,
                params=params,
            )
        )
    if any(p.severity == ERROR for p in problems):
        raise SpecError(problems)
    return _report(spec, results, tuple(p for p in problems if p.severity == WARNING), floor, batch)


def _groups(layers: list[LayerResult]) -> tuple[GroupResult, ...]:
    """Subtotals per group path prefix, in order of first appearance."""
    members: dict[str, list[LayerResult]] = {}
    levels: dict[str, int] = {}
    for layer in layers:
        for level, name in enumerate(layer.block, start=1):
            members.setdefault(name, []).append(layer)
            levels[name] = level
    return tuple(
        GroupResult(
            name=name,
            level=levels[name],
            first_index=group[0].index,
            last_index=group[-1].index,
            layer_count=len(group),
            params=sum(r.param_count for r in group),
            non_trainable=sum(r.non_trainable_count for r in group),
            activations=sum(r.activation_count for r in group if r.new_tensor),
            macs=sum(r.macs for r in group),
            output_shape=group[-1].output_shape,
            receptive_field=group[-1].receptive_field,
        )
        for name, group in members.items()
    )


def _report(spec: Spec, layers: list[LayerResult], warnings: tuple[Problem, ...], floor: bool, batch: int) -> Report:
    weights = biases = non_trainable = macs = 0
    activations = prod(spec.input_shape)
    by_category: dict[str, list[int]] = {}  # category → [params, activations, MACs], in order of appearance
    for r in layers:  # one pass: a spec may have 100,000 layers
        new = r.activation_count if r.new_tensor else 0
        weights += r.weight_count
        biases += r.bias_count
        non_trainable += r.non_trainable_count
        activations += new
        macs += r.macs
        sums = by_category.get(r.category)
        if sums is None:
            sums = by_category[r.category] = [0, 0, 0]
        sums[0] += r.weight_count + r.bias_count
        sums[1] += new
        sums[2] += r.macs
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
    )


__all__ = ["analyze", "receptive_field_step", "Location"]
