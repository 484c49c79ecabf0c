"""How numbers, shapes and formulas are written, shared by every renderer."""

from __future__ import annotations

from ..report import LayerResult, ReceptiveField

_SHORT = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BINARY = ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_DECIMAL = ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"))


def thousands(n: int) -> str:
    """1792 → '1,792'."""
    return f"{n:,}"


def short(n: int) -> str:
    """Exact below 10,000; above, three significant digits with a decimal suffix
    (K = 10³, M = 10⁶, G = 10⁹): 3211264 → '3.21M'."""
    if n < 10_000:
        return f"{n:,}"
    for scale, suffix in _SHORT:
        if n >= scale:
            value = n / scale
            digits = 2 if value < 10 else 1 if value < 100 else 0
            text = f"{value:.{digits}f}"
            if float(text) >= 1000 and suffix != "T":  # 999.6K rounds up to the next unit
                continue
            return text + suffix
    return str(n)


def byte_size(n: int, si: bool = False) -> str:
    """Bytes in binary units (MiB = 1024²) or, with si, decimal ones (MB = 10⁶), never ambiguous."""
    for scale, unit in _DECIMAL if si else _BINARY:
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def shape_text(shape: tuple[int, ...]) -> str:
    """Channels-first (C, H, W) written as the notes do: H×W×C; a vector as its length."""
    if len(shape) == 1:
        return str(shape[0])
    return "×".join(str(v) for v in shape[1:] + shape[:1])


def product_text(factors: tuple[int, ...]) -> str:
    return "·".join(str(v) for v in factors)


def activation_arithmetic(layer: LayerResult) -> str:
    """'224·224·64 = 3.21M' (the notes' H·W·C order)."""
    shape = layer.output_shape
    factors = shape[1:] + shape[:1] if len(shape) > 1 else shape
    if len(factors) == 1:
        return short(layer.activation_count)
    return f"{product_text(factors)} = {short(layer.activation_count)}"


def param_arithmetic(layer: LayerResult) -> str:
    """'(3·3·3)·64 + 64 = 1,792': fan-in · fan-out weights, plus biases."""
    if layer.param_count == 0:
        return "0"
    if len(layer.fan_in) > 1:
        weights = f"({product_text(layer.fan_in)})·{layer.fan_out}"
    elif layer.fan_in:
        weights = f"{layer.fan_in[0]}·{layer.fan_out}"
    else:
        weights = str(layer.weight_count)
    if layer.bias_count:
        return f"{weights} + {layer.bias_count} = {thousands(layer.param_count)}"
    if weights == str(layer.weight_count):
        return thousands(layer.weight_count)
    return f"{weights} = {thousands(layer.param_count)}"


def _value(value) -> str:
    """An int as is; a Fraction (a jump after upsampling) as a short decimal: 1/2 → 0.5."""
    return str(value) if isinstance(value, int) else f"{float(value):.3g}"


def _per_dim(values: tuple) -> str:
    """One value when every dim agrees."""
    return _value(values[0]) if len(set(values)) == 1 else "×".join(_value(v) for v in values)


def receptive_field_text(field: ReceptiveField) -> str:
    """'212 /32': size and jump, one number when every dim agrees; '≤' marks an upper bound
    (after a transposed conv or bilinear upsampling), rounded up to whole pixels."""
    if not field.size:
        return "-"
    if field.bound:
        sizes = tuple(-(-v.numerator // v.denominator) if not isinstance(v, int) else v for v in field.size)
        return f"≤{_per_dim(sizes)} /{_per_dim(field.jump)}"
    return f"{_per_dim(field.size)} /{_per_dim(field.jump)}"
