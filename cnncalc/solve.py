"""Which kernel, stride, padding and dilation take an input size to an output size. Pure.

The rules are the kinds' own (cnncalc/kinds/base.py): a conv or pool output is window_span/S + 1,
exact only when S divides the span; a transposed conv's is `transposed_size`. For each kernel,
dilation and stride the padding is the one unknown left, so it is solved for, then checked.
"""

from typing import Iterable, NamedTuple

from .kinds.base import transposed_size, window_span

CONV, POOL, DECONV = "conv", "pool", "deconv"
MAX_COMBINATIONS = 5_000_000  # kernel × dilation × stride (× output padding) choices tried


class Bounds(NamedTuple):
    """Largest values tried (inclusive); kernels and strides start at 1, padding at 0."""

    kernel: int = 11  # AlexNet's first layer
    stride: int = 4  # AlexNet's first layer
    padding: int = 5  # 'same' for an 11-wide kernel
    dilation: int = 3


class Pins(NamedTuple):
    """Values the question fixes; None leaves one free. A pin may lie outside the bounds."""

    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    output_padding: int | None = None


class Solution(NamedTuple):
    kernel: int
    stride: int
    padding: int
    dilation: int = 1
    output_padding: int = 0  # transposed convs only
    unusual: tuple[str, ...] = ()  # what makes the choice rarer; empty: a common one
    style: str = ""  # 'valid' (no padding), 'same' (keeps N/S), ...


class Solved(NamedTuple):
    layer: str  # conv, pool or deconv
    input_size: int
    output_size: int
    bounds: Bounds
    pins: Pins
    solutions: tuple[Solution, ...]  # most common first


class TooWide(ValueError):
    """The bounds would try more combinations than MAX_COMBINATIONS."""


def _values(pin: int | None, low: int, high: int) -> range:
    return range(pin, pin + 1) if pin is not None else range(low, high + 1)


def _half(value: int) -> int | None:
    return value // 2 if value >= 0 and value % 2 == 0 else None


def conv_size(n: int, k: int, s: int, p: int, d: int) -> int | None:
    """The conv rule, (N + 2P − D·(F − 1) − 1)/S + 1, when it is exact; None otherwise."""
    span = window_span(n, k, p, p, d)
    return span // s + 1 if span >= 0 and span % s == 0 else None


def _conv_rank(k: int, s: int, p: int, d: int) -> tuple[tuple[str, ...], str]:
    """What is rare about a conv: dilation, an even kernel, stride over 2, padding that is neither
    0 nor 'same'-style (D·(F − 1)/2, which keeps the size at stride 1, or (D·(F − 1) + 1 − S)/2,
    which gives N/S)."""
    same = {x for x in (_half(d * (k - 1)), _half(d * (k - 1) + 1 - s)) if x is not None}
    unusual = []
    if d != 1:
        unusual.append("dilated")
    if k % 2 == 0:
        unusual.append("even kernel")
    if s > 2:
        unusual.append("stride over 2")
    if p != 0 and p not in same:
        unusual.append("padding neither 0 nor 'same'")
    style = "valid" if p == 0 else "same" if p in same else ""
    return tuple(unusual), style


def _pool_rank(k: int, s: int, p: int) -> tuple[tuple[str, ...], str]:
    """Pools are commonest with stride = kernel (PyTorch's default, no overlap) or 3 wide with
    stride 2 (AlexNet, ResNet) or 1 ('same', Inception), small windows and padding 0 or (F − 1)/2."""
    unusual = []
    if s != k and not (k == 3 and s in (1, 2)):
        unusual.append("overlapping" if s < k else "gaps between windows")
    if k > 3:
        unusual.append("window over 3")
    if p != 0 and p != _half(k - 1):
        unusual.append("padding neither 0 nor (F − 1)/2")
    style = "non-overlapping" if s == k else "overlapping" if s < k else "gaps"
    return tuple(unusual), style


def _deconv_rank(k: int, s: int, p: int, d: int, op: int) -> tuple[tuple[str, ...], str]:
    """Transposed convs are commonest undilated, stride 1 or 2, output padding 0, and padding 0,
    (F − S)/2 (output exactly N·S: DCGAN's 4/2/1) or D·(F − 1)/2."""
    standard = {x for x in (_half(k - s), _half(d * (k - 1))) if x is not None}
    unusual = []
    if d != 1:
        unusual.append("dilated")
    if s > 2:
        unusual.append("stride over 2")
    if op:
        unusual.append("output padding")
    if p != 0 and p not in standard:
        unusual.append("padding neither 0 nor (F − S)/2")
    style = "N·S" if p == _half(k - s) and not op else ""
    return tuple(unusual), style


def _order(solutions: Iterable[Solution]) -> tuple[Solution, ...]:
    return tuple(sorted(solutions, key=lambda x: (len(x.unusual), x.dilation, x.stride, x.kernel, x.padding,
                                                   x.output_padding)))


def _length(values: range) -> int:
    """len() without its C-size limit: a bound of 10^19 is refused by the count, not a crash (OverflowError)."""
    return max(0, -(-(values.stop - values.start) // values.step))


def _check_width(*ranges: range) -> None:
    count = 1
    for r in ranges:
        count *= _length(r)
    if count > MAX_COMBINATIONS:
        raise TooWide(f"the bounds give {count:,} kernel/stride/dilation combinations to try "
                      f"(at most {MAX_COMBINATIONS:,}); lower them or pin a value")


def solve(layer: str, n: int, out: int, bounds: Bounds = Bounds(), pins: Pins = Pins()) -> Solved:
    """Every (kernel, stride, padding, dilation[, output padding]) within the bounds, pins respected,
    that takes `n` to `out` exactly, most common first."""
    kernels = _values(pins.kernel, 1, bounds.kernel)
    strides = _values(pins.stride, 1, bounds.stride)
    paddings = _values(pins.padding, 0, bounds.padding)
    dilations = range(1, 2) if layer == POOL else _values(pins.dilation, 1, bounds.dilation)
    found = []
    if layer == DECONV:
        _check_width(kernels, dilations, strides, range(max(_length(strides), _length(dilations))))
        for k in kernels:
            for d in dilations:
                for s in strides:
                    # PyTorch: output_padding must be smaller than the stride or the dilation
                    for op in _values(pins.output_padding, 0, max(s, d) - 1):
                        if op >= max(s, d):
                            continue
                        p = _half((n - 1) * s + d * (k - 1) + op + 1 - out)
                        if p is None or p not in paddings or transposed_size(n, k, s, p, d, op) != out:
                            continue
                        unusual, style = _deconv_rank(k, s, p, d, op)
                        found.append(Solution(k, s, p, d, op, unusual, style))
        return Solved(layer, n, out, bounds, pins, _order(found))
    if pins.output_padding:
        raise ValueError("an output padding is for transposed convs (--deconv)")
    _check_width(kernels, dilations, strides)
    for k in kernels:
        for d in dilations:
            for s in strides:
                # (N + 2P − D·(F − 1) − 1) = (out − 1)·S: the padding is the one unknown
                p = _half((out - 1) * s + d * (k - 1) + 1 - n)
                if p is None or p not in paddings or conv_size(n, k, s, p, d) != out:
                    continue
                if layer == POOL:
                    if 2 * p > k:  # PyTorch: pool padding at most half the kernel
                        continue
                    unusual, style = _pool_rank(k, s, p)
                else:
                    unusual, style = _conv_rank(k, s, p, d)
                found.append(Solution(k, s, p, d, 0, unusual, style))
    return Solved(layer, n, out, bounds, pins, _order(found))
