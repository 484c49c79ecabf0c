"""How numbers, shapes and formulas are written, shared by every renderer."""

from __future__ import annotations

from functools import lru_cache

from ..report import LayerResult, ReceptiveField

_SHORT = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BINARY = ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_DECIMAL = ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"))


def thousands(n: int) -> str:
    """1792 → '1,792'."""
    return f"{n:,}"


def _rounded(n: int, scale: int, digits: int) -> int:
    """n / scale × 10^digits, rounded exactly (half to even) in integers: no float, so counts far beyond
    a float's range are written correctly too."""
    quotient, remainder = divmod(n * 10**digits, scale)
    if 2 * remainder > scale or (2 * remainder == scale and quotient % 2):
        quotient += 1
    return quotient


def _decimal_text(rounded: int, digits: int) -> str:
    """A value × 10^digits written with `digits` decimals."""
    if not digits:
        return str(rounded)
    unit = 10**digits
    return f"{rounded // unit}.{rounded % unit:0{digits}d}"


def _fixed(n: int, scale: int, digits: int) -> str:
    """n / scale with `digits` decimals, rounded exactly (half to even)."""
    return _decimal_text(_rounded(n, scale, digits), digits)


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(n: int) -> str:
    """Three significant digits and a power of ten, exactly rounded: 1234 × 10¹⁵ → '1.23×10¹⁸'."""
    exponent = len(str(n)) - 1
    rounded = _rounded(n, 10**exponent, 2)
    if rounded >= 1000:  # 9.996 rounds up to 10.00
        exponent += 1
        rounded = _rounded(n, 10**exponent, 2)
    return f"{_decimal_text(rounded, 2)}×10{str(exponent).translate(_SUPERSCRIPTS)}"


@lru_cache(maxsize=4096)  # a table repeats its counts (every block of a ResNet stage): write each once
def short(n: int) -> str:
    """Exact below 10,000; above, three significant digits with a decimal suffix
    (K = 10³, M = 10⁶, G = 10⁹, T = 10¹²): 3211264 → '3.21M'; 999,999 → '1.00M'; from 1000T on,
    a power of ten: 10¹⁵ → '1.00×10¹⁵'."""
    if n < 10_000:
        return f"{n:,}"
    for larger, (scale, suffix) in zip(((None, ""),) + _SHORT, _SHORT):
        if n >= scale:
            whole = n // scale
            digits = 2 if whole < 10 else 1 if whole < 100 else 0
            rounded = _rounded(n, scale, digits)
            if rounded >= 1000 * 10**digits:  # 999.6K rounds up to the next unit; 1000T and more, a power of ten
                return power_of_ten(n) if larger[0] is None else _fixed(n, larger[0], 2) + larger[1]
            return _decimal_text(rounded, digits) + suffix
    return str(n)  # pragma: no cover - n ≥ 10,000 always meets a scale


def count(n: int, exact: bool = False) -> str:
    """A count as the table writes it: `short` (3.21M), or with `exact` the whole integer (3,211,264)."""
    return f"{n:,}" if exact else short(n)


def byte_size(n: int, si: bool = False) -> str:
    """Bytes in binary units (MiB = 1024²) or, with si, decimal ones (MB = 10⁶), never ambiguous."""
    for scale, unit in _DECIMAL if si else _BINARY:
        if n >= scale:
            return f"{_fixed(n, scale, 1)} {unit}"
    return f"{n} B"


@lru_cache(maxsize=4096)
def shape_text(shape: tuple[int, ...]) -> str:
    """Channels-first (C, H, W) written as the notes do: H×W×C; a vector as its length."""
    if len(shape) == 1:
        return str(shape[0])
    return "×".join(str(v) for v in shape[1:] + shape[:1])


def product_text(factors: tuple[int, ...]) -> str:
    return "·".join(str(v) for v in factors)


def activation_arithmetic(layer: LayerResult, exact: bool = False) -> str:
    """'224·224·64 = 3.21M' (the notes' H·W·C order); with exact, '224·224·64 = 3,211,264'."""
    return _activation_text(layer.output_shape, layer.activation_count, exact)


@lru_cache(maxsize=4096)  # layers alike (every block of a ResNet stage) share their text
def _activation_text(shape: tuple[int, ...], values: int, exact: bool) -> str:
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    if len(factors) == 1:
        return count(values, exact)
    return f"{product_text(factors)} = {count(values, exact)}"


def param_arithmetic(layer: LayerResult) -> str:
    """'(3·3·3)·64 + 64 = 1,792': fan-in · fan-out weights, plus biases."""
    if layer.param_count == 0:
        return "0"
    return _param_text(layer.fan_in, layer.fan_out, layer.weight_count, layer.bias_count)


@lru_cache(maxsize=4096)
def _param_text(fan_in: tuple[int, ...], fan_out: int, weights_count: int, biases: int) -> str:
    if len(fan_in) > 1:
        weights = f"({product_text(fan_in)})·{fan_out}"
    elif fan_in:
        weights = f"{fan_in[0]}·{fan_out}"
    else:
        weights = str(weights_count)
    if biases:
        return f"{weights} + {biases} = {thousands(weights_count + biases)}"
    if weights == str(weights_count):
        return thousands(weights_count)
    return f"{weights} = {thousands(weights_count)}"


def _value(value) -> str:
    """An int as is; a Fraction (a jump after upsampling) as a short decimal: 1/2 → 0.5."""
    return str(value) if isinstance(value, int) else f"{float(value):.3g}"


def _per_dim(values: tuple) -> str:
    """One value when every dim agrees."""
    return _value(values[0]) if len(set(values)) == 1 else "×".join(_value(v) for v in values)


@lru_cache(maxsize=4096)
def receptive_field_text(field: ReceptiveField) -> str:
    """'212 /32': size and jump, one number when every dim agrees; '≤' marks an upper bound
    (after a transposed conv or bilinear upsampling), rounded up to whole pixels."""
    if not field.size:
        return "-"
    if field.bound:
        sizes = tuple(-(-v.numerator // v.denominator) if not isinstance(v, int) else v for v in field.size)
        return f"≤{_per_dim(sizes)} /{_per_dim(field.jump)}"
    return f"{_per_dim(field.size)} /{_per_dim(field.jump)}"
