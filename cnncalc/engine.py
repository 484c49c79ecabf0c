"""Spec → Report: shape propagation, counts and receptive fields. Pure: no I/O, no printing."""

from __future__ import annotations

from math import prod
from typing import Any, Mapping

from .kinds import REGISTRY, Computed, LayerContext, LayerFailure, LayerKind, Window
from .problems import ERROR, WARNING, Location, Problem, SpecError
from .report import LayerResult, ReceptiveField, Report, Share, Totals
from .spec import INPUT_NAME, LayerSpec, Spec


def receptive_field_step(field: ReceptiveField, windows: tuple[Window, ...] | None) -> ReceptiveField:
    """One layer of the recurrence, per dim: size += (F_eff − 1)·jump; jump ·= S; start −= P_before·jump."""
    if windows is None:
        return field
    size, jump, start = [], [], []
    for r, j, s, window in zip(field.size, field.jump, field.start, windows):
        size.append(r + (window.kernel - 1) * j)
        jump.append(j * window.stride)
        start.append(s - window.pad_before * j)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))


def _problem(layer: LayerSpec, kind: str, message: str, param: str | None, severity: str) -> Problem:
    location = layer.param_locations.get(param, layer.location) if param else layer.location
    return Problem(location, f"{kind} '{layer.name}': {message}", severity, layer.path)


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _compute(kind: LayerKind, params: Mapping[str, Any], input_shape: tuple[int, ...],
             floor: bool) -> tuple[Computed | None, tuple[tuple[str, str | None, str], ...]]:
    """One layer's computation and the (message, param, severity) problems it raised; None when it fails."""
    ctx = LayerContext(floor=floor)
    try:
        computed = kind.compute(kind.resolve(params), input_shape, ctx)
    except LayerFailure as failure:
        return None, ((failure.message, failure.param, ERROR),)
    if any(size <= 0 for size in computed.output_shape):  # pragma: no cover - slide() refuses these first
        return None, (*ctx.problems, (f"output size {computed.output_shape} is not positive", None, ERROR))
    return computed, tuple(ctx.problems)


def analyze(spec: Spec, *, floor: bool = False, batch: int = 1) -> Report:
    """Compute every layer of `spec`. Raises SpecError listing every error (and warning) found.

    With `floor`, non-integer sizes are floored as frameworks do and reported as warnings.
    """
    ndim = len(spec.input_shape) - 1
    shapes: dict[str, tuple[int, ...]] = {INPUT_NAME: spec.input_shape}
    fields = {INPUT_NAME: ReceptiveField((1,) * ndim, (1,) * ndim, (0,) * ndim)}
    problems: list[Problem] = []
    results: list[LayerResult] = []
    outcomes: dict[tuple, tuple[Computed | None, tuple[tuple[str, str | None, str], ...]]] = {}
    for layer in spec.layers:
        source = layer.inputs[0]
        if source not in shapes:  # an earlier layer failed: nothing downstream can be computed
            continue
        kind = REGISTRY[layer.kind]
        input_shape = shapes[source]
        # Layers alike in kind, parameters (value and type: 0 is not 0.0) and input shape compute alike:
        # once per spec, however many times a deep network repeats them.
        key = (kind.name, input_shape, tuple(layer.params.items()), tuple(map(type, layer.params.values())))
        try:
            computed, raised = outcomes[key]
        except KeyError:
            computed, raised = outcomes[key] = _compute(kind, layer.params, input_shape, floor)
        except TypeError:  # an unhashable parameter value: computed without reuse
            computed, raised = _compute(kind, layer.params, input_shape, floor)
        if raised:
            problems.extend(_problem(layer, kind.name, m, p, s) for m, p, s in raised)
        if computed is None:
            continue
        shapes[layer.name] = computed.output_shape
        fields[layer.name] = receptive_field_step(fields[source], computed.windows)
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
                notes=computed.notes,
            )
        )
    if any(p.severity == ERROR for p in problems):
        raise SpecError(problems)
    return _report(spec, results, tuple(p for p in problems if p.severity == WARNING), floor, batch)


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
        macs=macs,
        batch_macs=macs * batch,
    )
    shares = [Share(category, p, a, m, _percent(p, totals.params), _percent(a, activations), _percent(m, macs))
              for category, (p, a, m) in by_category.items()]
    return Report(
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
