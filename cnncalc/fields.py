"""Exact receptive fields through upsampling and transposed convolutions.

The classic recurrence (size += (F − 1)·jump; jump ·= S) is exact while the jump is a whole number: every
unit of a layer then sees a region of the same size, moved by the jump. Once a layer upsamples, the jump
becomes a fraction and units differ: after a nearest ×2 upsample, a 2-wide conv unit starting on an even
position reads one input pixel, one starting on an odd position reads two. The recurrence's 1.5 is their
average, below the truth (2) for half the units.

So, per spatial dim, a field that went through upsampling is kept as a periodic profile: for the units
y = 0 … T − 1 of one period, the first and last input pixel of the region y depends on (lo, hi); unit
y + T reads the region of unit y moved by J pixels. A layer maps the profile exactly:

    slide (conv, pool, pad) F_eff, S, P:  lo'(y) = lo(y·S − P),            hi'(y) = hi(y·S − P + F_eff − 1)
    nearest upsample by a/b:              lo'(y) = lo(⌊y·b/a⌋),             hi'(y) = hi(⌊y·b/a⌋)
    transposed conv F_eff, S, P_before:   lo'(y) = lo(⌈(y − P_b)/S⌉),       hi'(y) = hi(⌊(y − P_b + F_eff − 1)/S⌋)
    bilinear by a/b (align_corners off):  x0 = ⌊(y + ½)·b/a − ½⌋;  lo' = lo(x0), hi' = hi(x0 + 1)  (an upper bound)

The size is the largest region of the period, the jump J/T, the start lo(0). Regions include the padding
and the holes of a dilated kernel, as the recurrence's do; units at the borders (clamped indices) are not
modelled.

When a profile cannot be followed (a period longer than MAX_PERIOD, a transposed conv whose kernel is
shorter than its stride, more than MAX_WORK units stepped along one path), the field becomes an
envelope, marked as an upper bound: every unit y reads within [start + y·jump, start + y·jump + size − 1]. The recurrence keeps an envelope an envelope through
slides and transposed convs; a nearest upsample by a/b adds (a − 1)/a·jump to it (⌊y·b/a⌋ lies within
(a − 1)/a of y·b/a), a bilinear one 1 + (2a − 1)/(2a) input steps. So a bound is never below the truth.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import Any, NamedTuple

from .kinds import Window
from .report import ReceptiveField

MAX_PERIOD = 4096  # units per period kept exactly; beyond, an envelope (marked as an upper bound)
MAX_WORK = 1_000_000  # units stepped along one path of layers (a profile's `work`); beyond, an envelope: a deep
# stack of convs after twelve stride-2 transposed convs would otherwise step 4,096 units per layer, for minutes


class Profile(NamedTuple):
    """One spatial dim of a receptive field, exactly: regions of the units of one period."""

    period: int  # T
    shift: int  # J: input pixels the regions move per period
    lo: tuple[int, ...]  # first input pixel of unit y's region, y in [0, T)
    hi: tuple[int, ...]  # last input pixel
    work: int = 0  # units stepped to make it, along its longest path of layers (bounded by MAX_WORK)


class Envelope(NamedTuple):
    """One spatial dim of a receptive field as an upper bound: unit y reads within
    [start + y·jump, start + y·jump + size − 1]."""

    size: Fraction
    jump: Fraction
    start: Fraction


def from_recurrence(size: int, jump: int, start: int) -> Profile:
    """A whole-number field: every unit's region is `size` wide, `jump` apart, the first at `start`."""
    return Profile(1, jump, (start,), (start + size - 1,))


def _lo(p: Profile, y: int) -> int:
    q, r = divmod(y, p.period)
    return p.lo[r] + q * p.shift


def _hi(p: Profile, y: int) -> int:
    q, r = divmod(y, p.period)
    return p.hi[r] + q * p.shift


def _reduced(p: Profile) -> Profile:
    """The same profile with its shortest period."""
    for period in range(1, p.period):
        if p.period % period:
            continue
        times = p.period // period
        if p.shift % times:
            continue
        shift = p.shift // times
        if all(p.lo[y] == p.lo[y % period] + (y // period) * shift and p.hi[y] == p.hi[y % period] + (y // period) * shift
               for y in range(p.period)):
            return Profile(period, shift, p.lo[:period], p.hi[:period], p.work)
    return p


def step(p: Profile, w: Window) -> Profile | None:
    """The profile after one layer's window in one dim; None when the period would pass MAX_PERIOD or a
    unit would depend on no input at all (a transposed conv whose kernel is shorter than its stride)."""
    kernel, stride, pad_before = w.kernel, w.stride, w.pad_before
    mode = w.mode if w.upsample != 1 else ""
    if mode == "zeros":  # transposed conv: zeros between the inputs, then a stride-1 window
        s = int(w.upsample)
        period, shift = p.period * s, p.shift
        if kernel < s or stride != 1 or period > MAX_PERIOD:  # a transposed conv's window slides by 1
            return None
        ys = range(period)
        lo = tuple(_lo(p, -((pad_before - y) // s)) for y in ys)  # ⌈(y − P)/S⌉
        hi = tuple(_hi(p, (y - pad_before + kernel - 1) // s) for y in ys)
    elif mode in ("nearest", "bilinear"):
        factor = Fraction(w.upsample)
        a, b = factor.numerator, factor.denominator
        period, shift = p.period * a, p.shift * b
        if period > MAX_PERIOD:  # (the window's own kernel is the recurrence's stand-in for this: not used)
            return None
        if mode == "nearest":
            xs = [y * b // a for y in range(period)]
            lo = tuple(_lo(p, x) for x in xs)
            hi = tuple(_hi(p, x) for x in xs)
        else:
            xs = [((2 * y + 1) * b - a) // (2 * a) for y in range(period)]  # ⌊(y + ½)·b/a − ½⌋
            lo = tuple(_lo(p, x) for x in xs)
            hi = tuple(_hi(p, x + 1) for x in xs)
    else:  # a sliding window
        period = p.period // gcd(p.period, stride)
        shift = p.shift * (stride * period // p.period)
        lo = tuple(_lo(p, y * stride - pad_before) for y in range(period))
        hi = tuple(_hi(p, y * stride - pad_before + kernel - 1) for y in range(period))
    if period > MAX_PERIOD:
        return None
    return _reduced(Profile(period, shift, lo, hi, p.work + period))


def merge(profiles: list[Profile]) -> Profile | None:
    """The union of the regions of several paths into a merge (the same jump on every path), or None."""
    jumps = {Fraction(p.shift, p.period) for p in profiles}
    if len(jumps) > 1:
        return None
    period = lcm(*(p.period for p in profiles))
    if period > MAX_PERIOD:
        return None
    (jump,) = jumps
    shift = int(jump * period)
    lo = tuple(min(_lo(p, y) for p in profiles) for y in range(period))
    hi = tuple(max(_hi(p, y) for p in profiles) for y in range(period))
    return _reduced(Profile(period, shift, lo, hi, max(p.work for p in profiles) + period * len(profiles)))


def _whole(value: Fraction) -> int | Fraction:
    return int(value) if value.denominator == 1 else value


def measures(p: Profile) -> tuple[int, int | Fraction, int]:
    """(size, jump, start): the largest region of the period, J/T, and where unit 0's region begins."""
    size = max(h - l + 1 for l, h in zip(p.lo, p.hi))
    return size, _whole(Fraction(p.shift, p.period)), p.lo[0]


def envelope(p: Profile) -> Envelope:
    """The narrowest envelope of a profile: offsets lo(y) − y·J/T and hi(y) − y·J/T over one period."""
    jump = Fraction(p.shift, p.period)
    start = min(lo - y * jump for y, lo in enumerate(p.lo))
    end = max(hi - y * jump for y, hi in enumerate(p.hi))
    return Envelope(end - start + 1, jump, start)


def _envelope_step(e: Envelope, w: Window) -> Envelope:
    """An envelope after one window: the recurrence, widened where a nearest or bilinear upsample makes
    units read unevenly (see the module's docstring)."""
    size, jump, start = e
    if w.upsample != 1 and w.mode in ("nearest", "bilinear"):
        factor = Fraction(w.upsample)
        a, b = factor.numerator, factor.denominator
        if w.mode == "nearest":  # ⌊y·b/a⌋ ∈ [y·b/a − (a − 1)/a, y·b/a]
            low, high = -Fraction(a - 1, a), Fraction(0)
        else:  # x0 = ⌊(y + ½)·b/a − ½⌋ ≥ … − (2a − 1)/(2a); x0 + 1 ≤ (y + ½)·b/a + ½
            low = Fraction(b, 2 * a) - Fraction(1, 2) - Fraction(2 * a - 1, 2 * a)
            high = Fraction(b, 2 * a) + Fraction(1, 2)
        return Envelope(size + (high - low) * jump, jump / factor, start + low * jump)  # the window: a stand-in
    jump = jump / w.upsample
    return Envelope(size + (w.kernel - 1) * jump, jump * w.stride, start - w.pad_before * jump)


def _profiles(field: ReceptiveField) -> tuple[Profile, ...] | None:
    """The field's exact per-dim profiles, or None when it has only an upper bound."""
    if field.profile is not None:
        return field.profile if all(p.work <= MAX_WORK for p in field.profile) else None
    if field.bound or not all(type(v) is int for v in field.jump + field.size + field.start):
        return None
    return tuple(map(from_recurrence, field.size, field.jump, field.start))


def _envelopes(field: ReceptiveField) -> tuple[Envelope, ...]:
    if field.profile is not None:
        return tuple(map(envelope, field.profile))
    return tuple(Envelope(Fraction(r), Fraction(j), Fraction(s)) for r, j, s in zip(field.size, field.jump, field.start))


def _from_profiles(profiles: tuple[Profile, ...], bound: bool, note: str) -> ReceptiveField:
    """A field from exact profiles; plain numbers again once every period is one unit."""
    size, jump, start = zip(*map(measures, profiles))
    keep = None if all(p.period == 1 for p in profiles) else profiles
    return ReceptiveField(size, jump, start, bound, note, keep)


def _from_envelopes(envelopes: tuple[Envelope, ...], note: str) -> ReceptiveField:
    return ReceptiveField(tuple(_whole(e.size) for e in envelopes), tuple(_whole(e.jump) for e in envelopes),
                          tuple(_whole(e.start) for e in envelopes), True, note)


def field_step(field: ReceptiveField, windows: tuple[Window, ...]) -> ReceptiveField | None:
    """One layer's step of a field that has upsampled or upsamples here: exact through its profiles, else
    an envelope (an upper bound). None for a spreading of unknown mode on a plain field: the recurrence."""
    unknown = any(w.upsample != 1 and w.mode not in ("zeros", "nearest", "bilinear") for w in windows)
    profiles = None if unknown else _profiles(field)
    if profiles is not None:
        stepped = [step(p, w) for p, w in zip(profiles, windows)]
        if all(p is not None for p in stepped):
            bound = field.bound or any(w.mode == "bilinear" and w.upsample != 1 for w in windows)
            return _from_profiles(tuple(stepped), bound, field.note)
    elif unknown and field.profile is None:
        return None
    return _from_envelopes(tuple(map(_envelope_step, _envelopes(field), windows)), field.note)


def merge_fields(fields: list[ReceptiveField], note: str) -> ReceptiveField:
    """The union of paths of which some went through upsampling: exact when every path has profiles of
    one jump; else the union of their envelopes at the first unit, an upper bound."""
    profiles = [_profiles(f) for f in fields]
    if all(p is not None for p in profiles):
        merged = [merge(list(dims)) for dims in zip(*profiles)]
        if all(p is not None for p in merged):
            return _from_profiles(tuple(merged), any(f.bound for f in fields), note)
    envelopes = [_envelopes(f) for f in fields]
    union = []
    for dims in zip(*envelopes):
        start = min(e.start for e in dims)
        end = max(e.start + e.size for e in dims)
        union.append(Envelope(end - start, max(e.jump for e in dims), start))
    return _from_envelopes(tuple(union), note)


__all__ = ["MAX_PERIOD", "Profile", "Envelope", "field_step", "merge_fields"]
