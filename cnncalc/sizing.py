"""Training and inference memory, and the largest batch that fits a budget. Pure: no I/O, no printing.

Every figure is affine in the batch: bytes = fixed + batch · per_sample (parameters, gradients,
optimizer state, buffers and batchnorm's batch statistics are fixed; activations grow with it).
"""

import re
from fractions import Fraction
from typing import Mapping, NamedTuple

from .memory import Peak, SavedTensor, inference_peak, saved_tensors
from .report import LayerResult, Report
from .training import HALF_DTYPES, MASTER_DTYPE, OPTIMIZERS, TRAINING_DTYPES  # noqa: F401 - re-exported

_ACTIVATION_WHATS = ("batch", "input", "output")  # saved tensors that are activations of the network
_OWN_TERMS = ("attention probabilities",)  # saved tensors the memory table shows as a term of their own


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
        return TRAINING_DTYPES[self.dtype]

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
    name: str
    source: str
    input_shape: tuple[int, ...]
    batch: int
    settings: Settings
    params: int
    non_trainable: int
    training: Breakdown
    inference: Breakdown
    saved: tuple[SavedTensor, ...]
    peak: Peak
    layers: tuple[LayerResult, ...]


def _activation_terms(saved: tuple[SavedTensor, ...]) -> tuple[Term, ...]:
    """The counted saved tensors grouped by bytes per value and by whether they grow with the batch;
    a group of nothing but activations is unlabelled, others name what they hold."""
    groups: dict[tuple[int, bool, bool], tuple[list[str], int]] = {}
    for s in saved:
        if not s.first:
            continue
        what = "activations" if s.what in _ACTIVATION_WHATS else s.what
        apart = what in _OWN_TERMS  # a term of its own, so that the table names it
        names, values = groups.get((s.bytes_per_value, s.per_sample, apart), ([], 0))
        if what not in names:
            names.append(what)
        groups[(s.bytes_per_value, s.per_sample, apart)] = (names, values + s.values)
    # per sample first; among them the group holding the activations, then the larger bytes per value
    ordered = sorted(groups.items(), key=lambda item: (not item[0][1], "activations" not in item[1][0], item[0][2],
                                                       -item[0][0]))
    return tuple(Term("" if names == ["activations"] else ", ".join(names), values, 1, size, per_sample)
                 for (size, per_sample, _), (names, values) in ordered)


def _attention_note(report: Report, settings: Settings) -> str:
    """How attention was counted, when the network has any: eager keeps heads·L² probabilities per layer."""
    if not any(layer.kind == "attention" for layer in report.layers):
        return ""
    if settings.attention == "eager":
        return "; attention eager: its probabilities kept (--attention fused: not)"
    return "; attention fused: probabilities recomputed in backward, not kept"


def memory_report(report: Report, settings: Settings, batch: int = 1) -> MemoryReport:
    """The memory of training (one step: forward, backward, update) and of inference at `batch`."""
    params, buffers = report.totals.params, report.totals.non_trainable
    size = settings.value_bytes
    state_names = OPTIMIZERS[settings.optimizer]
    saved = saved_tensors(report.totals.input_activations, report.layers, size, settings.attention)
    peak = inference_peak(report.totals.input_activations, report.layers)
    working = f"{settings.dtype} working copy" if settings.mixed else ""
    parameters = component("parameters", "parameters", (Term(working, params, 1, size),), batch)
    buffer_terms = (Term("running mean and variance", buffers, 1, settings.state_bytes),) if buffers else ()
    buffer_line = component("buffers", "buffers", buffer_terms, batch,
                            "batchnorm's running statistics: not parameters, but in memory" if buffers else "")
    training = [parameters]
    if settings.mixed:
        training.append(component("master_weights", "master weights",
                                  (Term(f"{MASTER_DTYPE} master copy", params, 1, settings.master_bytes),), batch))
    training += [
        component("gradients", "gradients", (Term("", params, 1, size),), batch),
        component("optimizer_state", "optimizer state",
                  (Term(", ".join(state_names), params, len(state_names), settings.state_bytes),) if state_names else (),
                  batch, f"{settings.optimizer}: " + (f"{len(state_names)} cop{'y' if len(state_names) == 1 else 'ies'} "
                                                     "of the parameters" if state_names else "no state")),
        buffer_line,
        component("activations", "activations", _activation_terms(saved), batch,
                  "kept for the backward pass, each storage once" + _attention_note(report, settings)),
    ]
    inference = (
        parameters,
        buffer_line,
        component("inference_peak", "peak activations", (Term("", peak.values, 1, size, True),), batch,
                  f"while '{peak.layer}' runs; tensors freed after their last use"),
    )
    return MemoryReport(
        name=report.name,
        source=report.source,
        input_shape=report.input_shape,
        batch=batch,
        settings=settings,
        params=params,
        non_trainable=buffers,
        training=breakdown(tuple(training)),
        inference=breakdown(inference),
        saved=saved,
        peak=peak,
        layers=report.layers,
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


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def largest_batch(fixed: int, per_sample: int, usable: int) -> int:
    """The largest b ≥ 0 with fixed + b·per_sample ≤ usable (0 when not even one sample fits)."""
    if per_sample <= 0:
        raise ValueError("per-sample bytes must be positive")
    return max((usable - fixed) // per_sample, 0)


def fit(report: Report, settings: Settings, budget: int, reserve: int, *, inference: bool = False,
        dataset: int | None = None) -> FitReport:
    """The largest batch whose training (or inference) memory stays within budget − reserve, solved
    exactly from the affine total, then checked: the breakdown at that batch fits, one more does not."""
    usable = budget - reserve
    which = (lambda m: m.inference) if inference else (lambda m: m.training)
    unit = which(memory_report(report, settings, 1))
    batch = largest_batch(unit.fixed_bytes, unit.per_sample_bytes, usable)
    at_batch = which(memory_report(report, settings, batch)).total if batch else unit.fixed_bytes
    at_next = which(memory_report(report, settings, batch + 1)).total
    if (batch and at_batch > usable) or at_next <= usable:  # pragma: no cover - the affine model guarantees it
        raise AssertionError(f"batch {batch}: {at_batch} bytes, batch {batch + 1}: {at_next}, usable {usable}")
    power = 1 << (batch.bit_length() - 1) if batch else 0
    epoch = None
    if dataset is not None:
        full = unit.at(dataset)
        epoch = Epoch(dataset, _ceil_div(dataset, batch) if batch else 0,
                      _ceil_div(dataset, power) if power else 0, 1, full, full <= usable, dataset)
    return FitReport(
        name=report.name,
        settings=settings,
        mode="inference" if inference else "training",
        budget=budget,
        reserve=reserve,
        usable=usable,
        fixed_bytes=unit.fixed_bytes,
        per_sample_bytes=unit.per_sample_bytes,
        batch=batch,
        batch_power_of_two=power,
        bytes_at_batch=at_batch,
        bytes_at_power_of_two=unit.at(power),
        bytes_at_next=at_next,
        missing=max(unit.at(1) - usable, 0),
        epoch=epoch,
    )
