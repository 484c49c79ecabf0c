"""Training and inference memory, and the largest batch that fits a budget. Pure: no I/O, no printing.

Training memory is the peak of one step's timeline (cnncalc/timeline.py): at every moment of it the
bytes are affine in the batch (fixed + batch · per_sample: parameters, gradients, optimizer state,
buffers and batchnorm's batch statistics are fixed; activations and their gradients grow with it),
and the peak is the largest of them. Inference memory is one affine figure.
"""

import re
from fractions import Fraction
from typing import Mapping, NamedTuple

from .memory import Peak, SavedTensor, inference_peak, kept_groups, saved_tensors
from .report import LayerResult, Report
from .timeline import CATEGORIES, LABELS, STEP_LAYER, Facts, Timeline, timeline
from .training import (HALF_DTYPES, INFERENCE_DTYPES, MASTER_DTYPE, OPTIMIZERS, STEP_COPIES,  # noqa: F401
                       TRAINING_DTYPES)



class Settings(NamedTuple):
    """How the network is trained: the dtype, mixed precision and the optimizer.

    Without `mixed` every tensor is `dtype`. With it (Micikevicius et al., 2018; the ZeRO paper's
    16 bytes per parameter with Adam): a 16-bit working copy of the weights, 16-bit gradients and
    activations, a float32 master copy of the weights, float32 optimizer state and buffers.
    """

    dtype: str = "float32"
    mixed: bool = False
    optimizer: str = "sgd"
    attention: str = "eager"  # eager keeps the attention probabilities for backward; fused kernels do not

    @property
    def value_bytes(self) -> int:
        """Activations, the working weights and their gradients."""
        return INFERENCE_DTYPES[self.dtype]

    @property
    def trains(self) -> bool:
        """False for a dtype that only runs inference (int8): cnncalc does not model its training."""
        return self.dtype in TRAINING_DTYPES

    def facts(self) -> Facts:
        return Facts(self.value_bytes, self.master_bytes, self.state_bytes, len(OPTIMIZERS[self.optimizer]),
                     STEP_COPIES[self.optimizer], self.attention)

    @property
    def master_bytes(self) -> int:
        return TRAINING_DTYPES[MASTER_DTYPE] if self.mixed else 0

    @property
    def state_bytes(self) -> int:
        """Optimizer state and buffers (running statistics): float32 under mixed precision."""
        return TRAINING_DTYPES[MASTER_DTYPE] if self.mixed else self.value_bytes

    @property
    def state_dtype(self) -> str:
        return MASTER_DTYPE if self.mixed else self.dtype


class Term(NamedTuple):
    """values × copies × bytes_per_value, per sample (× batch) or once."""

    what: str  # a label when the component's name does not say it all, else ""
    values: int
    copies: int
    bytes_per_value: int
    per_sample: bool = False

    @property
    def bytes(self) -> int:
        """Per sample when per_sample, else in all."""
        return self.values * self.copies * self.bytes_per_value


class Component(NamedTuple):
    """One line of the breakdown: its terms, and its bytes at the report's batch."""

    key: str
    label: str
    terms: tuple[Term, ...]
    fixed_bytes: int
    per_sample_bytes: int
    bytes: int
    note: str = ""


def component(key: str, label: str, terms: tuple[Term, ...], batch: int, note: str = "") -> Component:
    fixed = sum(t.bytes for t in terms if not t.per_sample)
    per_sample = sum(t.bytes for t in terms if t.per_sample)
    return Component(key, label, terms, fixed, per_sample, fixed + batch * per_sample, note)


class Breakdown(NamedTuple):
    """A list of components and their sum: total = fixed + batch · per_sample."""

    components: tuple[Component, ...]
    fixed_bytes: int
    per_sample_bytes: int
    total: int

    def at(self, batch: int) -> int:
        return self.fixed_bytes + batch * self.per_sample_bytes

    def __getitem__(self, key: str) -> Component:
        for c in self.components:
            if c.key == key:
                return c
        raise KeyError(key)


def breakdown(components: tuple[Component, ...]) -> Breakdown:
    return Breakdown(components, sum(c.fixed_bytes for c in components),
                     sum(c.per_sample_bytes for c in components), sum(c.bytes for c in components))


class MemoryReport(NamedTuple):
    """What a training step and an inference pass hold, for the analysed network (`network`) at one batch."""

    network: Report
    batch: int
    settings: Settings
    params: int
    non_trainable: int
    training: Breakdown  # at the peak of the step's timeline (empty when the dtype does not train)
    inference: Breakdown
    saved: tuple[SavedTensor, ...]
    peak: Peak  # the inference peak
    timeline: Timeline | None = None  # None when the dtype does not train
    kept: Component | None = None  # every tensor kept for backward at once: a sum, not the peak

    @property
    def name(self) -> str:
        return self.network.name

    @property
    def source(self) -> str:
        return self.network.source

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.network.input_shape

    @property
    def layers(self) -> tuple[LayerResult, ...]:
        return self.network.layers


_NOTES = {
    "optimizer_state": "",
    "buffers": "batchnorm's running statistics: not parameters, but in memory",
    "input": "the batch itself, held by the caller all step",
    "activations": "outputs alive: kept for backward or still to be read",
    "activation_gradients": "gradients of the activations, in flight",
    "temporaries": "",
}


def _moment_term(what: str, fixed: int, per_sample: int, size: int) -> tuple[Term, ...]:
    """Bytes as values × bytes per value when they divide, else as bytes."""
    terms = []
    for amount, per in ((per_sample, True), (fixed, False)):
        if amount:
            terms.append(Term(what, amount // size, 1, size, per) if amount % size == 0 else
                         Term(what, amount, 1, 1, per))
    return tuple(terms)


def _peak_components(line: Timeline, settings: Settings, params: int, batch: int,
                     fixed_parts: dict[str, Component]) -> tuple[Component, ...]:
    moment = line.peak_moment
    size = settings.value_bytes
    out = []
    for index, key in enumerate(CATEGORIES):
        if key in fixed_parts:
            if key != "master_weights" or settings.mixed:
                out.append(fixed_parts[key])
            continue
        fixed, per_sample = moment.fixed[index], moment.per_sample[index]
        if key == "gradients":
            note = "all of them" if fixed == params * size else "those computed so far"
            if settings.mixed and moment.phase == "step":
                note = "none: converted to the master's" if moment.layer == STEP_LAYER else (
                    f"those not yet converted to {MASTER_DTYPE} (after {moment.layer}'s)")
            out.append(component(key, LABELS[key], _moment_term("", fixed, 0, size), batch, note))
        elif key == "master_gradients":
            if fixed:
                out.append(component(key, LABELS[key], _moment_term(f"{MASTER_DTYPE}", fixed, 0, settings.master_bytes),
                                     batch, "all of them" if fixed == params * settings.master_bytes
                                     else f"converted so far, up to {moment.layer}'s"))
        elif key == "temporaries":
            if fixed or per_sample:
                note = (f"{settings.optimizer}'s step: {STEP_COPIES[settings.optimizer]} cop"
                        f"{'y' if STEP_COPIES[settings.optimizer] == 1 else 'ies'} of the parameters"
                        if moment.phase == "step" else f"{moment.layer}'s backward")
                out.append(component(key, LABELS[key], _moment_term("", fixed, per_sample, settings.state_bytes
                                                                    if moment.phase == "step" else size), batch, note))
        else:
            out.append(component(key, LABELS[key], _moment_term("", fixed, per_sample, size), batch, _NOTES[key]))
    return tuple(out)


def _activation_terms(saved: tuple[SavedTensor, ...]) -> tuple[Term, ...]:
    """The kept groups as terms; a group of nothing but activations is unlabelled, others name what they hold."""
    return tuple(Term("" if g.what == "activations" else g.what, g.values, 1, g.bytes_per_value, g.per_sample)
                 for g in kept_groups(saved))


def _attention_note(report: Report, settings: Settings) -> str:
    """How attention was counted, when the network has any: eager keeps heads·L² probabilities per layer."""
    if not any(layer.kind == "attention" for layer in report.layers):
        return ""
    if settings.attention == "eager":
        return "; attention eager: its probabilities kept (--attention fused: not)"
    return "; attention fused: probabilities recomputed in backward, not kept"


def peak_text(line: Timeline) -> str:
    """'during the backward of layer4.basic_down1.conv1', 'during the optimizer's step'."""
    moment = line.peak_moment
    if moment.phase == "step" and moment.layer != STEP_LAYER:
        return f"while {moment.layer}'s gradients become {MASTER_DTYPE} master gradients, before the optimizer's step"
    if moment.phase == "step":
        return "during the optimizer's step"
    return f"during the {moment.phase} of {moment.layer}"


def memory_report(report: Report, settings: Settings, batch: int = 1) -> MemoryReport:
    """The memory of training (the peak of one step: forward, backward, update) and of inference at `batch`."""
    params, buffers = report.totals.params, report.totals.non_trainable
    size = settings.value_bytes
    state_names = OPTIMIZERS[settings.optimizer]
    saved = saved_tensors(report.totals.input_activations, report.layers, size, settings.attention)
    peak = inference_peak(report.totals.input_activations, report.layers, size, settings.attention)
    working = f"{settings.dtype} working copy" if settings.mixed else ""
    parameters = component("parameters", "parameters", (Term(working, params, 1, size),), batch)
    buffer_terms = (Term("running mean and variance", buffers, 1, settings.state_bytes),) if buffers else ()
    buffer_line = component("buffers", "buffers", buffer_terms, batch, _NOTES["buffers"] if buffers else "")
    inference = (
        parameters,
        buffer_line,
        component("inference_peak", "peak activations", (Term("", peak.values, 1, size, True),)
                  + ((Term(peak.scratch.what, peak.scratch.bytes, 1, 1, True),) if peak.scratch else ()), batch,
                  f"while '{peak.layer}' runs; the input batch kept, other tensors freed after their last use"),
    )
    training: tuple[Component, ...] = ()
    line = kept = None
    if settings.trains:
        fixed_parts = {
            "parameters": parameters,
            "master_weights": component("master_weights", "master weights",
                                        (Term(f"{MASTER_DTYPE} master copy", params, 1, settings.master_bytes),),
                                        batch),
            "optimizer_state": component(
                "optimizer_state", "optimizer state",
                (Term(", ".join(state_names), params, len(state_names), settings.state_bytes),) if state_names else (),
                batch, f"{settings.optimizer}: " + (f"{len(state_names)} cop{'y' if len(state_names) == 1 else 'ies'} "
                                                   "of the parameters" if state_names else "no state")),
            "buffers": buffer_line,
        }
        line = timeline(report.totals.input_activations, report.layers, settings.facts(), batch)
        training = _peak_components(line, settings, params, batch, fixed_parts)
        kept = component("kept_for_backward", "everything kept for backward", _activation_terms(saved), batch,
                         "every tensor kept for backward at once, each storage once: a sum, not the peak"
                         + _attention_note(report, settings))
    return MemoryReport(
        network=report,
        batch=batch,
        settings=settings,
        params=params,
        non_trainable=buffers,
        training=breakdown(training),
        inference=breakdown(inference),
        saved=saved,
        peak=peak,
        timeline=line,
        kept=kept,
    )


# --- sizes --------------------------------------------------------------------------------------

SIZE_UNITS: Mapping[str, int] = {
    "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*")


def _superscript(exponent: int) -> str:
    """12 → '10¹²'."""
    return "10" + str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def parse_size(text: str) -> int:
    """'24GiB' → 25769803776; '24GB' → 24·10⁹; '24000MB'; '1.5GiB'; plain bytes. Units are
    case-insensitive; a fraction of a byte is dropped. Raises ValueError saying what is wrong."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"'{text}' is not a size: write a number and a unit, e.g. 24GiB, 24GB, 24000MB or 1073741824")
    number, unit = match.groups()
    key = unit.lower()
    if key not in SIZE_UNITS and key:
        hint = ""
        if key in ("k", "m", "g", "t", "ki", "mi", "gi", "ti"):
            prefix = unit[0].upper()
            power = "KMGT".index(prefix) + 1
            hint = (f"; write {number}{'k' if prefix == 'K' else prefix}B ({_superscript(3 * power)} bytes) "
                    f"or {number}{prefix}iB (2{_superscript(10 * power)[2:]} bytes)")
        raise ValueError(f"unknown unit '{unit}' in '{text}'{hint}; units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB")
    return int(Fraction(number) * SIZE_UNITS[key or "b"])


def parse_reserve(text: str, budget: int) -> int:
    """A size, or a percentage of the budget ('10%')."""
    stripped = text.strip()
    if stripped.endswith("%"):
        try:
            percent = Fraction(stripped[:-1].strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"'{text}' is not a percentage: write e.g. 10%") from None
        if not 0 <= percent < 100:
            raise ValueError(f"reserve {text} must be at least 0% and less than 100%")
        return int(percent * budget / 100)
    return parse_size(stripped)


# --- the largest batch --------------------------------------------------------------------------

DEFAULT_RESERVE = "10%"


class Epoch(NamedTuple):
    """Iterations per epoch over a dataset of `size` samples: ceil(size / batch)."""

    size: int
    iterations: int  # at the largest batch
    iterations_power_of_two: int
    full_batch_iterations: int  # the whole dataset in one batch: 1
    full_batch_bytes: int
    full_batch_fits: bool
    stochastic_iterations: int  # batch 1: size


class FitReport(NamedTuple):
    name: str
    settings: Settings
    mode: str  # training or inference
    budget: int
    reserve: int
    usable: int  # budget − reserve
    fixed_bytes: int
    per_sample_bytes: int
    batch: int  # the largest batch with fixed + batch · per_sample ≤ usable; 0 when even 1 does not fit
    batch_power_of_two: int  # the largest power of two ≤ batch (0 when batch is 0)
    bytes_at_batch: int
    bytes_at_power_of_two: int
    bytes_at_next: int  # at batch + 1: more than usable
    missing: int  # bytes lacking for batch 1 (0 when it fits)
    epoch: Epoch | None = None
    peak: str = ""  # training: when the step's peak happens at the batch found (at batch 1 when none fits)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def largest_batch(fixed: int, per_sample: int, usable: int) -> int:
    """The largest b ≥ 0 with fixed + b·per_sample ≤ usable (0 when not even one sample fits)."""
    if per_sample <= 0:
        raise ValueError("per-sample bytes must be positive")
    return max((usable - fixed) // per_sample, 0)


def largest_batch_over(moments: "tuple[tuple[int, int], ...]", usable: int) -> int:
    """The largest b ≥ 0 with fixed + b·per_sample ≤ usable at every (fixed, per_sample) moment."""
    if any(per_sample <= 0 and fixed > usable for fixed, per_sample in moments):
        return 0
    growing = [(fixed, per_sample) for fixed, per_sample in moments if per_sample > 0]
    if not growing:
        raise ValueError("per-sample bytes must be positive")
    return min(largest_batch(fixed, per_sample, usable) for fixed, per_sample in growing)


def fit(report: Report, settings: Settings, budget: int, reserve: int, *, inference: bool = False,
        dataset: int | None = None) -> FitReport:
    """The largest batch whose training peak (or inference memory) stays within budget − reserve,
    solved exactly: every moment of the step is affine in the batch, so the batch is the smallest
    of each moment's own largest batch. Then checked: the breakdown at that batch fits, one more does not."""
    if not inference and not settings.trains:
        raise ValueError(f"{settings.dtype} is an inference dtype: cnncalc does not model training in it")
    usable = budget - reserve
    which = (lambda m: m.inference) if inference else (lambda m: m.training)
    first = memory_report(report, settings, 1)
    unit = which(first)
    if inference:
        batch = largest_batch(unit.fixed_bytes, unit.per_sample_bytes, usable)
    else:
        assert first.timeline is not None
        batch = largest_batch_over(tuple((sum(m.fixed), sum(m.per_sample)) for m in first.timeline.moments), usable)
    chosen = memory_report(report, settings, batch) if batch else first
    at_batch = which(chosen).total if batch else unit.fixed_bytes
    after = memory_report(report, settings, batch + 1)
    at_next = which(after).total
    if (batch and at_batch > usable) or at_next <= usable:  # pragma: no cover - the affine moments guarantee it
        raise AssertionError(f"batch {batch}: {at_batch} bytes, batch {batch + 1}: {at_next}, usable {usable}")
    total_at = (lambda b: unit.at(b)) if inference else first.timeline.peak_at  # type: ignore[union-attr]
    power = 1 << (batch.bit_length() - 1) if batch else 0
    epoch = None
    if dataset is not None:
        full = total_at(dataset)
        epoch = Epoch(dataset, _ceil_div(dataset, batch) if batch else 0,
                      _ceil_div(dataset, power) if power else 0, 1, full, full <= usable, dataset)
    return FitReport(
        name=report.name,
        settings=settings,
        mode="inference" if inference else "training",
        budget=budget,
        reserve=reserve,
        usable=usable,
        fixed_bytes=which(chosen).fixed_bytes,
        per_sample_bytes=which(chosen).per_sample_bytes,
        batch=batch,
        batch_power_of_two=power,
        bytes_at_batch=at_batch,
        bytes_at_power_of_two=total_at(power) if power else 0,
        bytes_at_next=at_next,
        missing=max(total_at(1) - usable, 0),
        epoch=epoch,
        peak="" if inference or chosen.timeline is None else peak_text(chosen.timeline),
    )
