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
modelled. A period longer than MAX_PERIOD falls back to the recurrence, marked as an approximation.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import Any, NamedTuple

MAX_PERIOD = 4096  # units per period kept exactly; beyond, the recurrence (marked approximate)


class Profile(NamedTuple):
    """One spatial dim of a receptive field, exactly: regions of the units of one period."""

    period: int  # T
    shift: int  # J: input pixels the regions move per period
    lo: tuple[int, ...]  # first input pixel of unit y's region, y in [0, T)
    hi: tuple[int, ...]  # last input pixel


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
            return Profile(period, shift, p.lo[:period], p.hi[:period])
    return p


def step(p: Profile, kernel: int, stride: int, pad_before: int, upsample: Any, mode: str) -> Profile | None:
    """The profile after one layer's window in one dim; None when the period would pass MAX_PERIOD or a
    unit would depend on no input at all (a transposed conv whose kernel is smaller than its stride)."""
    if mode == "zeros":  # transposed conv: zeros between the inputs, then a stride-1 window
        s = int(upsample)
        if kernel < s:
            return None
        period, shift = p.period * s, p.shift
        ys = range(period)
        lo = tuple(_lo(p, -((pad_before - y) // s)) for y in ys)  # ⌈(y − P)/S⌉
        hi = tuple(_hi(p, (y - pad_before + kernel - 1) // s) for y in ys)
    elif mode in ("nearest", "bilinear"):
        factor = Fraction(upsample)
        a, b = factor.numerator, factor.denominator
        period, shift = p.period * a, p.shift * b
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
    return _reduced(Profile(period, shift, lo, hi))


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
    return _reduced(Profile(period, shift, lo, hi))


def measures(p: Profile) -> tuple[int, int | Fraction, int]:
    """(size, jump, start): the largest region of the period, J/T, and where unit 0's region begins."""
    size = max(h - l + 1 for l, h in zip(p.lo, p.hi))
    jump = Fraction(p.shift, p.period)
    return size, (int(jump) if jump.denominator == 1 else jump), p.lo[0]
