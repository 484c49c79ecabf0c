"""Budgets: limits a network must stay within (params, MACs, activation memory, training memory) or above
(receptive field), and their verdict on a report. Pure: no I/O, no printing.

A limit comes from the spec's `budget:` key or from a `check` flag (`--max-params 25M`); a flag replaces
the spec's value for that limit and the verdict says so. An exceeded limit is an error located where the
limit was written (the flag's limit at the spec's `budget:` key, or at the spec's start when it has none).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple, Sequence

from .problems import ERROR, Location, Problem
from .report import LayerResult, Report

PARAMS, MACS, ACTIVATIONS, MEMORY, RF = "params", "macs", "activations", "memory", "rf"
KEYS = (PARAMS, MACS, ACTIVATIONS, MEMORY, RF)
FLAGS = {PARAMS: "--max-params", MACS: "--max-macs", ACTIVATIONS: "--max-activations", MEMORY: "--max-memory",
         RF: "--min-rf"}
TRAINING, INFERENCE = "training", "inference"
MEMORY_KEYS = (TRAINING, INFERENCE, "batch", "optimizer", "dtype", "mixed")
RULE_PREFIX = "budget-"  # rule ids: budget-params, budget-macs, ... (SARIF, JSON)
TOP = 3  # the layers (or memory components) named as contributing most

COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_COUNT = re.compile(r"\s*(\d[\d_]*(?:\.\d*)?|\.\d+)\s*([A-Za-z]?)\s*")


def parse_count(text: str) -> int:
    """'25M' → 25,000,000; '5G' → 5·10⁹; '1.5k'; '25_000_000'; a plain number. K, M, G and T (any case) are
    decimal (10³, 10⁶, 10⁹, 10¹²); a fraction of one is dropped. Raises ValueError saying what is wrong."""
    match = _COUNT.fullmatch(text)
    if not match or match[2].lower() not in COUNT_UNITS:
        raise ValueError(f"'{text}' is not a count: write a number with K, M, G or T (10³, 10⁶, 10⁹, 10¹²), "
                         "e.g. 25M, 5G or 25000000")
    return int(Fraction(match[1].replace("_", "")) * COUNT_UNITS[match[2].lower()])


class MemorySetting(NamedTuple):
    """How a memory limit is measured: training (one step, as `cnncalc memory` computes it) or inference
    (forward only), at a batch, with an optimizer, a dtype (None: the spec's) and mixed precision."""

    mode: str = TRAINING
    batch: int = 1
    optimizer: str = "sgd"
    dtype: str | None = None
    mixed: bool = False

    def describe(self) -> str:
        """'training memory at batch 32 (adam)'."""
        how = [self.optimizer] if self.mode == TRAINING else []
        if self.dtype:
            how.append(self.dtype)
        if self.mixed:
            how.append("mixed precision")
        return f"{self.mode} memory at batch {self.batch:,}" + (f" ({', '.join(how)})" if how else "")


class Limit(NamedTuple):
    """One limit: what it bounds (a KEYS entry), its value (a count, bytes, or pixels for rf), as written,
    where it was written and by whom ('the spec' or a flag), and the spec's value a flag replaced."""

    key: str
    value: int
    written: str
    location: Location
    origin: str = "the spec"
    replaced: str = ""  # 'the spec's 25M (specs/net.yaml:3:11)' when a flag replaced it
    memory: MemorySetting | None = None  # for MEMORY

    @property
    def rule(self) -> str:
        return RULE_PREFIX + self.key

    @property
    def is_minimum(self) -> bool:
        return self.key == RF


class Budget(NamedTuple):
    """The spec's `budget:` key: where it is and its limits in KEYS order."""

    location: Location
    limits: tuple[Limit, ...] = ()


class FlagLimits(NamedTuple):
    """The budget flags of `check` (None: not given); batch, optimizer and inference adjust the memory setting
    of the flag's limit or, without --max-memory, of the spec's."""

    params: int | None = None
    macs: int | None = None
    activations: int | None = None
    memory: int | None = None
    rf: int | None = None
    batch: int | None = None
    optimizer: str | None = None
    inference: bool = False
    written: tuple[tuple[str, str], ...] = ()  # (key, the flag's text) for the messages


def merge(budget: Budget | None, flags: FlagLimits, spec_location: Location) -> tuple[Limit, ...]:
    """The spec's limits with the flags applied: a flag replaces the spec's limit (keeping its location, so
    that the error points at the line the flag overrides) or adds one at the `budget:` key (else the spec's
    start)."""
    spec_limits = {limit.key: limit for limit in (budget.limits if budget else ())}
    texts = dict(flags.written)
    where = budget.location if budget else spec_location
    out = []
    for key in KEYS:
        value = getattr(flags, key)
        limit = spec_limits.get(key)
        if value is not None:
            flag = FLAGS[key]
            replaced = f"the spec's {limit.written} ({limit.location})" if limit else ""
            limit = Limit(key, value, texts.get(key, str(value)), limit.location if limit else where, flag, replaced,
                          limit.memory if limit else (MemorySetting() if key == MEMORY else None))
        if limit is None:
            continue
        if key == MEMORY and limit.memory is not None:
            setting = limit.memory
            if flags.batch is not None:
                setting = setting._replace(batch=flags.batch)
            if flags.optimizer is not None:
                setting = setting._replace(optimizer=flags.optimizer)
            if flags.inference:
                setting = setting._replace(mode=INFERENCE)
            limit = limit._replace(memory=setting)
        out.append(limit)
    return tuple(out)


class Contributor(NamedTuple):
    """A layer (or memory component) and its part of the figure."""

    name: str
    value: int
    share: Fraction  # of the figure


class Verdict(NamedTuple):
    """One limit against the report: the figure, whether it is within the limit, and what contributes most."""

    limit: Limit
    figure: int | Fraction
    met: bool
    measure: str  # 'params', 'training memory at batch 32 (adam)', 'receptive field of conv5'
    contributors: tuple[Contributor, ...] = ()
    detail: str = ""  # e.g. the memory components
    error: str = ""  # the figure could not be computed (a dtype that cannot train): the reason

    @property
    def excess(self) -> Fraction:
        """(figure − limit) / limit: positive when exceeded for a maximum, negative for a minimum."""
        return Fraction(self.figure - self.limit.value, self.limit.value) if self.limit.value else Fraction(0)

    @property
    def is_bytes(self) -> bool:
        return self.limit.key in (ACTIVATIONS, MEMORY)


def _top(items: Sequence[tuple[str, int]], total: int) -> tuple[Contributor, ...]:
    ranked = sorted((item for item in items if item[1] > 0), key=lambda item: -item[1])[:TOP]
    return tuple(Contributor(name, value, Fraction(value, total) if total else Fraction(0)) for name, value in ranked)


def receptive_layer(report: Report) -> LayerResult | None:
    """The layer whose receptive field the rf limit reads: the last one that still has spatial dims, global
    pools excluded (they see the whole input by construction), as `compare` reads it."""
    from .compare import last_spatial_layer

    return last_spatial_layer(report)


def memory_figure(report: Report, setting: MemorySetting):
    """The memory report `cnncalc memory` prints for these settings, and the breakdown the limit reads.
    Raises ValueError when the settings cannot train (a dtype that is not a training dtype)."""
    from .sizing import Settings, memory_report
    from .training import OPTIMIZERS, default_training_dtype

    dtype = setting.dtype or default_training_dtype(report.dtype, setting.mixed)
    if dtype is None:
        raise ValueError(f"the spec's dtype {report.dtype} is not a training dtype; write the dtype to measure in "
                         "the budget (memory: {..., dtype: float16})")
    if setting.optimizer not in OPTIMIZERS:  # pragma: no cover - the reader and the flags choose among them
        raise ValueError(f"unknown optimizer {setting.optimizer}")
    result = memory_report(report, Settings(dtype=dtype, mixed=setting.mixed, optimizer=setting.optimizer),
                           setting.batch)
    return result, (result.inference if setting.mode == INFERENCE else result.training)


def verdict(report: Report, limit: Limit) -> Verdict:
    """The figure the limit bounds, computed from the report (memory by `sizing.memory_report`, as the
    `memory` command), and its verdict."""
    layers = report.layers
    totals = report.totals
    if limit.key == PARAMS:
        figure = totals.params
        return Verdict(limit, figure, figure <= limit.value, "params",
                       _top([(l.name, l.param_count) for l in layers], figure))
    if limit.key == MACS:
        figure = totals.macs
        return Verdict(limit, figure, figure <= limit.value, "MACs per sample",
                       _top([(l.name, l.macs) for l in layers], figure))
    if limit.key == ACTIVATIONS:
        figure = totals.activation_bytes
        values = [(l.name, l.activation_count * report.dtype_bytes) for l in layers if l.new_tensor]
        return Verdict(limit, figure, figure <= limit.value, "activation memory per sample",
                       _top(values, figure))
    if limit.key == MEMORY:
        setting = limit.memory or MemorySetting()
        try:
            result, breakdown = memory_figure(report, setting)
        except ValueError as error:
            return Verdict(limit, 0, False, setting.describe(), error=str(error))
        figure = breakdown.total
        components = _top([(c.label, c.bytes) for c in breakdown.components], figure)
        if setting.mode == INFERENCE:
            detail = f"peak while '{result.peak.layer}' runs"
            kept: list[tuple[str, int]] = []
        else:
            detail = ""
            by_layer: dict[str, int] = {}
            for saved in result.saved:
                if saved.first:
                    by_layer[saved.counted_at] = by_layer.get(saved.counted_at, 0) + saved.bytes_at(setting.batch)
            kept = list(by_layer.items())
        return Verdict(limit, figure, figure <= limit.value, setting.describe(),
                       components + _top(kept, figure), detail)
    layer = receptive_layer(report)  # RF
    if layer is None:
        return Verdict(limit, 0, False, "receptive field",
                       error="the network has no layer with spatial dims, so no receptive field to measure")
    size = min(layer.receptive_field.size)
    bound = " (an upper bound)" if layer.receptive_field.bound else ""
    return Verdict(limit, size, size >= limit.value, f"receptive field of {layer.name}{bound}")


def verdicts(report: Report, limits: Sequence[Limit]) -> tuple[Verdict, ...]:
    return tuple(verdict(report, limit) for limit in limits)


# -- how a verdict reads ----------------------------------------------------------------------------------

def _bytes(n: int) -> str:
    """1,073,741,824 → '1.0 GiB' (binary units, one decimal), as the memory table writes them."""
    for scale, unit in ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if n >= scale:
            tenths = round(Fraction(10 * n, scale))
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{n} B"


def figure_text(value: int | Fraction, is_bytes: bool) -> str:
    """An exact figure: '25,557,032'; bytes with their binary size: '18,463,211,520 bytes (17.2 GiB)'."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):,.2f}"
    value = int(value)
    return f"{value:,} bytes ({_bytes(value)})" if is_bytes else f"{value:,}"


def percent_text(ratio: Fraction) -> str:
    """+0.278 → '+27.8%'; −0.02 → '−2.0%'."""
    tenths = round(ratio * 1000)
    sign = "+" if tenths >= 0 else "−"
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}%"


def verdict_text(v: Verdict) -> str:
    """'params 25,557,032 > 20,000,000 (+27.8%)' or, met, 'params 11,689,512 ≤ 25,000,000 (46.8% of it)'."""
    if v.error:
        return f"{v.measure}: {v.error}"
    limit = figure_text(v.limit.value, v.is_bytes)
    figure = figure_text(v.figure, v.is_bytes)
    if v.limit.is_minimum:
        relation = "≥" if v.met else "<"
        return f"{v.measure} {figure} {relation} {limit}" + ("" if v.met else f" ({percent_text(v.excess)})")
    if v.met:
        used = Fraction(v.figure, v.limit.value) if v.limit.value else Fraction(0)
        return f"{v.measure} {figure} ≤ {limit} ({percent_text(used)[1:]} of it)"
    return f"{v.measure} {figure} > {limit} ({percent_text(v.excess)})"


def _contributors_text(v: Verdict) -> str:
    if not v.contributors:
        return ""
    parts = [f"{c.name} {_bytes(c.value) if v.is_bytes else f'{c.value:,}'} ({percent_text(c.share)[1:]})"
             for c in v.contributors]
    return "; most from " + ", ".join(parts)


def verdict_message(v: Verdict) -> str:
    """The message of an exceeded limit: the verdict, what contributes most, and whose limit it is."""
    origin = ""
    if v.limit.origin != "the spec":
        origin = f" (set by {v.limit.origin} {v.limit.written}" + (f", overriding {v.limit.replaced})"
                                                                  if v.limit.replaced else ")")
    detail = f"; {v.detail}" if v.detail else ""
    what = "budget not met" if v.limit.is_minimum else "budget exceeded"
    return f"{what}: {verdict_text(v)}{_contributors_text(v)}{detail}{origin}"


def problems(results: Sequence[Verdict]) -> tuple[Problem, ...]:
    """An error per limit not met, located where the limit was written, with its rule id."""
    return tuple(Problem(v.limit.location, verdict_message(v), ERROR, rule=v.limit.rule)
                 for v in results if not v.met)


def met_text(v: Verdict) -> str:
    """A met limit for the summary: 'params 11,689,512 ≤ 25,000,000 (46.8% of it)', with '--max-params' when a
    flag set it."""
    return verdict_text(v) + ("" if v.limit.origin == "the spec" else f" [{v.limit.origin}"
                              + (f", overriding {v.limit.replaced}" if v.limit.replaced else "") + "]")
