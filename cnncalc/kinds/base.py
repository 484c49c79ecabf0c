"""What every layer kind provides, and the sliding-window arithmetic that conv and pool share."""

from functools import cached_property
from math import prod
from typing import Any, Mapping, NamedTuple

# A kind's parameters (Param) and the types they may take, each type's reader, JSON Schema and description:
# kinds/params.py. Re-exported: a kind module imports them from here.
from .params import (BOOL, CHOICE, COUNT, NUMBER, PADDING, POOL_PADDING, POSITIVE_NUMBER,  # noqa: F401
                     PROBABILITY, REQUIRED, SIZE, Param)


class Window(NamedTuple):
    """One spatial dim of a sliding window, as the receptive-field recurrence needs it."""

    kernel: int  # effective kernel size, dilation included: D·(F − 1) + 1
    stride: int
    pad_before: int
    upsample: Any = 1  # int or Fraction; the input is first spread out by this factor (transposed conv, upsample)
    bound: bool = False  # the recurrence gives an upper bound here, not the exact size
    mode: str = ""  # how the input is spread out: "zeros" (transposed conv), "nearest", "bilinear"


class Computed(NamedTuple):
    """What a kind computes for one layer, given its input shape."""

    output_shape: tuple[int, ...]
    description: str
    weight_count: int = 0
    bias_count: int = 0
    non_trainable_count: int = 0
    macs: int = 0
    fan_in: tuple[int, ...] = ()  # weight_count == prod(fan_in) * fan_out
    fan_out: int = 0
    windows: tuple[Window, ...] | None = None  # None: pointwise, receptive field unchanged
    notes: tuple[str, ...] = ()


INPUT = "input"  # Saved.what for the layer's input tensor (shared with the layer that made it)
OUTPUT = "output"  # Saved.what for the layer's output tensor (shared with the layers that read it)


EAGER = "eager"  # Saved.implementation: kept only by the plain (unfused) attention
FUSED = "fused"  # kept only by fused attention kernels (scaled_dot_product_attention's flash/efficient paths)


class Saved(NamedTuple):
    """One tensor a layer keeps for its backward pass.

    `what` is INPUT or OUTPUT for the layer's own input or output (whose memory other layers may
    keep too: counted once), or a name for a tensor of its own ("indices", "mask", ...).
    `values` is per sample when `per_sample`, else per batch (batchnorm's per-channel statistics).
    `input_index` says which input INPUT means for a merge (mul keeps both). `implementation` is ""
    for a tensor every implementation keeps, else EAGER or FUSED (attention: `--attention`).
    """

    what: str
    values: int
    bytes_per_value: int
    per_sample: bool = True
    input_index: int = 0
    implementation: str = ""


class Scratch(NamedTuple):
    """Tensors a layer's forward pass holds for a moment under no_grad, beside its input and output."""

    what: str  # "max-pool indices", "attention scores and probabilities", ...
    bytes: int  # per sample


class Tokens(tuple):
    """A token sequence [D, L]: D features for each of L tokens (a plain tuple in every other respect).

    `grid` is the patch grid the tokens came from (per spatial dim of the image, for the receptive field
    of attention, which mixes every token), and `mixed` whether a layer has already mixed them all.
    """

    grid: tuple[int, ...]
    mixed: bool

    def __new__(cls, values: tuple[int, ...], grid: tuple[int, ...] = (), mixed: bool = False) -> "Tokens":
        self = super().__new__(cls, values)
        self.grid = tuple(grid)
        self.mixed = mixed
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return Tokens, (tuple(self), self.grid, self.mixed)

    # Tokens equal only tokens of the same grid and mixing: [768, 197] tokens are not a 1-D volume of 768
    # channels and 197 positions, and layers alike are computed once per input shape (the engine's key).
    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Tokens) and tuple.__eq__(self, other) and self.grid == other.grid
                and self.mixed == other.mixed)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(("tokens", tuple(self), self.grid, self.mixed))

    def __repr__(self) -> str:
        return f"Tokens({tuple(self)!r})"

    def like(self, values: tuple[int, ...], mixed: bool | None = None) -> "Tokens":
        """Other tokens from the same grid."""
        return Tokens(values, self.grid, self.mixed if mixed is None else mixed)


def is_tokens(shape: tuple[int, ...]) -> bool:
    return isinstance(shape, Tokens)


def tokens_text(shape: tuple[int, ...]) -> str:
    return f"[{shape[0]}, {shape[1]}] (features, tokens)"


def refuse_tokens(kind: str, shape: tuple[int, ...], expected: str = "an image volume C×H×W") -> None:
    """Image kinds on a token sequence: a failure that names what was expected."""
    if is_tokens(shape):
        raise LayerFailure(f"{kind} expects {expected}, but its input is a token sequence {tokens_text(shape)}; "
                           "token layers (patchify, classtoken, posembed, attention, selecttoken, per-token fc and "
                           "1×1 conv, norms, activations) work on tokens, image layers before patchify")


def require_volume(kind: str, input_shape: tuple[int, ...]) -> None:
    if len(input_shape) < 2:
        raise LayerFailure(
            f"{kind} needs a volume (channels and 1 to 3 spatial sizes) but its input is a vector "
            f"of {input_shape[0]:,}; move it before the flatten/fc layers"
        )


def image_spatial(kind: str, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial sizes of an image volume C×(D×)H×W; a failure for a token sequence or a vector."""
    refuse_tokens(kind, input_shape)
    require_volume(kind, input_shape)
    return input_shape[1:]


def shape_words(shape: tuple[int, ...]) -> str:
    """How a message names a shape: a token sequence, a vector or a volume (H×W×C)."""
    if is_tokens(shape):
        return "a token sequence " + tokens_text(shape)
    if len(shape) == 1:
        return f"a vector of {shape[0]:,}"
    return "a volume " + "×".join(str(v) for v in shape[1:] + shape[:1])


class LayerFailure(Exception):
    """The layer cannot be computed; `param` names the parameter at fault, if one is."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param


class LayerContext:
    """Per-layer settings and the sink for problems that do not stop the computation."""

    __slots__ = ("floor", "problems", "notes")

    def __init__(self, floor: bool = False):
        self.floor = floor
        self.problems: list[tuple[str, str | None, str]] = []  # (message, param, severity)
        self.notes: list[str] = []

    def error(self, message: str, param: str | None = None) -> None:
        self.problems.append((message, param, "error"))

    def warn(self, message: str, param: str | None = None) -> None:
        self.problems.append((message, param, "warning"))


class LayerKind:
    """A layer kind: its parameters and its rules. Subclasses override `compute`."""

    name: str = ""
    category: str = "other"  # conv, pool, fc, activation, norm, reshape, regularization, merge, embedding, attention
    auto_prefix: str = ""  # automatic names are auto_prefix1, auto_prefix2, ...; "": the kind's name
    params: tuple[Param, ...] = ()
    main_param: str | None = None
    in_place: bool = False  # output shares the input's memory (no new tensor)
    view: bool = False  # a view of its input (flatten, chunk): shares its memory however many layers read the input
    max_inputs: int = 1  # merges (add, concat) take several
    summary: str = ""
    shape_rule: str = "output = input"
    param_rule: str = "0"
    mac_rule: str = "0"
    saved_rule: str = ""  # one line for the docs: what `saved_for_backward` keeps; every kind states its own
    keeps_input: bool = True  # the default `saved_for_backward`: the input, or nothing (shapes suffice)
    # What its backward gives its inputs: "new" gradient tensors, the "same" tensor as its output's
    # gradient (add), or a "view" of it (concat's slices, flatten's reshape); see cnncalc/timeline.py
    grad_flow: str = "new"
    # Tensors of its input's size that its backward holds at once besides the input's gradient
    # (a kind PyTorch builds from several ops, as lrn, frees their intermediates one by one)
    backward_temporaries: int = 0
    # The same for its forward pass under no_grad (inference), beside its input and output (see forward_scratch)
    forward_temporaries: int = 0
    dims: tuple[int, ...] = (1, 2, 3)  # the spatial dims of the inputs it takes (a 2-D-only kind says (2,))
    example: Mapping[str, Any] | None = None  # parameters of a typical use, when a value per required type is not one

    def __init__(self, **declared: Any):
        """Kinds that differ from their class in words only (an activation's name, prefix and summary) are
        instances of it: `InPlaceCopy(name="silu", summary="x·σ(x), in place.")`."""
        for attribute, value in declared.items():
            if not hasattr(type(self), attribute):
                raise TypeError(f"a layer kind has no attribute {attribute!r}")
            setattr(self, attribute, value)
        if not self.auto_prefix:
            self.auto_prefix = self.name

    @cached_property
    def _params_by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """The optional parameters and their default values."""
        return {p.name: p.default for p in self.params if not p.required}

    @cached_property
    def required_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.required)

    def param(self, name: str) -> Param | None:
        return self._params_by_name.get(name)

    def resolve(self, written: Mapping[str, Any]) -> dict[str, Any]:
        """The written parameters with the kind's defaults filled in."""
        values = dict(self.defaults)
        values.update(written)
        return values

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        raise NotImplementedError

    def compute_merge(self, params: Mapping[str, Any], inputs: tuple[tuple[str, tuple[int, ...]], ...],
                      ctx: LayerContext) -> Computed:
        """For kinds with max_inputs > 1: `inputs` pairs each input's name with its shape."""
        raise NotImplementedError

    def saved_for_backward_merge(self, params: Mapping[str, Any], input_shapes: tuple[tuple[int, ...], ...],
                                 output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """For kinds with max_inputs > 1, which may keep any input (Saved.input_index); default: as
        `saved_for_backward` with the first input."""
        return self.saved_for_backward(params, input_shapes[0], output_shape, value_bytes)

    def forward_scratch(self, params: Mapping[str, Any], input_shape: tuple[int, ...], output_shape: tuple[int, ...],
                        value_bytes: int, attention: str = EAGER) -> Scratch | None:
        """What its forward pass allocates besides its output, alive while it runs (inference's peak):
        by default `forward_temporaries` tensors of its output's size."""
        if not self.forward_temporaries:
            return None
        return Scratch("intermediates", self.forward_temporaries * prod_int(output_shape) * value_bytes)

    def saved_for_backward(
        self, params: Mapping[str, Any], input_shape: tuple[int, ...], output_shape: tuple[int, ...], value_bytes: int
    ) -> tuple[Saved, ...]:
        """The tensors PyTorch's autograd keeps for this layer's backward pass (parameters excluded:
        they are counted once, as parameters). Default: the input, as conv, fc and most ops keep,
        or nothing when `keeps_input` is False (views, padding, merges: their backward needs shapes only)."""
        return (Saved(INPUT, prod_int(input_shape), value_bytes),) if self.keeps_input else ()


DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def per_dim(value: Any, ndim: int, param: str) -> tuple[int, ...]:
    """Expand an int to one value per spatial dim, or check a list has one per dim."""
    if isinstance(value, tuple):
        if len(value) != ndim:
            raise LayerFailure(
                f"'{param}' has {len(value)} values but the input has {ndim} spatial "
                f"dim{'s' if ndim != 1 else ''}; give " + ("one int" if ndim == 1 else f"one int or {ndim} ints"),
                param,
            )
        return value
    return (value,) * ndim


def spatial_text(values: tuple[int, ...]) -> str:
    """3×3 for a square kernel, 7×1 otherwise; a single value for 1-D."""
    return "×".join(str(v) for v in values)


def compact(values: tuple[int, ...]) -> str:
    """One number when every dim agrees, else the per-dim list."""
    return str(values[0]) if len(set(values)) == 1 else spatial_text(values)


def _decimal(span: int, s: int) -> str:
    """span/S + 1, exact, two decimals (half up), trailing zeros dropped: 7/3 + 1 → '3.33', 33/2 → '16.5', 3 → '3'.

    A non-integer never reads as one: more decimals are shown until a non-zero one does (1001/1000 → '1.001').
    """
    numerator, denominator = span + s, s  # span/S + 1 as one fraction, kept in ints: exact, and no import
    sign = "-" if (numerator < 0) != (denominator < 0) and numerator else ""
    numerator, denominator = abs(numerator), abs(denominator)
    digits = 2
    while True:
        scaled = (2 * numerator * 10**digits + denominator) // (2 * denominator)  # × 10^digits, rounded half up
        whole, fraction = divmod(scaled, 10**digits)
        if fraction or numerator % denominator == 0 or digits >= 40:
            break
        digits += 1
    text = f"{whole}.{fraction:0{digits}d}".rstrip("0").rstrip(".")
    return sign + text


def window_arithmetic(n: int, k: int, s: int, pad_before: int, pad_after: int, d: int) -> str:
    """The formula as the notes write it: (N − F + 2P)/S + 1, dilation and uneven padding when present."""
    pad = f"2·{pad_before}" if pad_before == pad_after else f"{pad_before} + {pad_after}"
    if d == 1:
        return f"({n} − {k} + {pad})/{s} + 1"
    return f"({n} + {pad} − {d}·({k} − 1) − 1)/{s} + 1"


_STRIDE_SEARCH = 1_000  # how far from the written stride to look for a divisor (each error costs up to twice
# this in divisions, and a spec may hold many errors); stride 1 always divides


def _nearest_padding(n: int, eff: int, s: int, p: int) -> int | None:
    """The padding c ≠ p nearest to p (the smaller on ties) with n + 2c − eff ≥ 0 and divisible by s.

    Solved as a congruence, 2c ≡ eff − n (mod s), so any size and stride take constant time.
    """
    residue = (eff - n) % s
    if s % 2:
        base, period = residue * ((s + 1) // 2) % s, s  # (s + 1)/2 is the inverse of 2 modulo an odd s
    elif residue % 2:
        return None  # n + 2c − eff keeps the parity of n − eff: an even stride can never divide it
    else:
        base, period = residue // 2, s // 2
    lowest = max(0, -(-(eff - n) // 2))
    below = base + (p - base) // period * period  # the largest candidate ≤ p
    first = base + -(-(lowest - base) // period) * period  # the smallest candidate ≥ lowest
    candidates = [c for c in (below - period, below, below + period, first) if c >= lowest and c != p]
    return min(candidates, key=lambda c: (abs(c - p), c)) if candidates else None


def _nearest_stride(span: int, s: int) -> int | None:
    """The divisor of span nearest to s (the smaller on ties), other than s: exact for s ≤ _STRIDE_SEARCH + 1
    (1 is then within reach) and for s > span (the span itself); otherwise the nearest within reach, or 1."""
    if s > span:
        return span  # every divisor is at most the span, and the span divides itself
    for delta in range(1, _STRIDE_SEARCH + 1):
        for candidate in (s - delta, s + delta):
            if 1 <= candidate <= span and span % candidate == 0:
                return candidate
    return 1 if s != 1 else None


def _suggest(n: int, k: int, s: int, p: int, d: int) -> str:
    """Nearest symmetric padding and nearest stride that make the division exact."""
    eff = d * (k - 1) + 1
    hints = []
    padding = _nearest_padding(n, eff, s, p)
    if padding is not None:
        hints.append(f"padding {padding} gives {(n + 2 * padding - eff) // s + 1}")
    span = n + 2 * p - eff
    if span > 0:
        stride = _nearest_stride(span, s)
        if stride is not None:
            hints.append(f"stride {stride} gives {span // stride + 1}")
    return "; ".join(hints)


def window_span(n: int, k: int, pad_before: int, pad_after: int, d: int) -> int:
    """N + P_before + P_after − D·(F − 1) − 1: the room the window slides over. The output size is
    span/S + 1, exact when S divides the span; a negative span means the window does not fit."""
    return n + pad_before + pad_after - (d * (k - 1) + 1)


def transposed_size(n: int, k: int, s: int, p: int, d: int, output_padding: int) -> int:
    """Transposed convolution (PyTorch's ConvTranspose): (N − 1)·S − 2P + D·(F − 1) + output_padding + 1."""
    return (n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def slide(
    *,
    dim: str,
    n: int,
    k: int,
    s: int,
    pad_before: int,
    pad_after: int,
    d: int,
    ctx: LayerContext,
    ceil_mode: bool = False,
    exact_required: bool = True,
    rounding: str = "exact",
    same_padding: bool = False,
) -> int:
    """Output size of one spatial dim: (N + P_before + P_after − D·(F − 1) − 1)/S + 1.

    Non-integer results are errors unless `ceil_mode` (PyTorch's rule: round up, but the last
    window must start inside the input or the left padding), `exact_required` is False
    (TensorFlow's 'same'), the layer asks to floor (`round: floor`, noted in the table), or the context
    floors (--floor: the dropped pixels are a warning).
    """
    where = f"{dim}: " if dim else ""
    eff = d * (k - 1) + 1
    span = window_span(n, k, pad_before, pad_after, d)
    if span < 0 and ceil_mode:  # PyTorch: a window larger than the padded input still gives one output
        out = (span + s - 1) // s + 1  # when it starts inside the input or the left padding
        if (out - 1) * s >= n + pad_before:
            out -= 1
        if out >= 1:
            return out
    if span < 0:
        padded = n + pad_before + pad_after
        kernel = f"kernel {k}" if d == 1 else f"dilated kernel {eff} ({d}·({k} − 1) + 1)"
        raise LayerFailure(
            f"{where}{kernel} is larger than the padded input {padded} ({n} + {pad_before + pad_after}): "
            f"{window_arithmetic(n, k, s, pad_before, pad_after, d)} = {_decimal(span, s)}; "
            "use a smaller kernel or more padding",
            "kernel",
        )
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + pad_before:
            out -= 1
        return out
    out = span // s + 1
    remainder = span % s
    if remainder and exact_required:
        formula, value = window_arithmetic(n, k, s, pad_before, pad_after, d), _decimal(span, s)
        if rounding == "floor":
            ctx.notes.append(f"{where}{formula} = {value}, floored to {out} as the layer asks (round: floor)")
        elif ctx.floor:
            ctx.warn(
                f"{where}{formula} = {value} floored to {out}: the last {remainder} "
                f"input pixel{'s' if remainder != 1 else ''} (padding included) never "
                f"reach{'es' if remainder == 1 else ''} an output",
                None,
            )
        else:
            hint = _suggest(n, k, s, pad_before, d) if pad_before == pad_after else ""
            if hint.startswith("padding"):  # a padding makes it exact: the likeliest fix first
                ctx.error(f"{where}{formula} = {value} is not an integer; {hint} (or write 'round: floor' on the "
                          "layer, or pass --floor, to floor it as frameworks do)", None)
            else:
                ctx.error(f"{where}{formula} = {value} is not an integer; "
                          + _no_padding_fits(n, span, s, out, same_padding) + (f"; {hint}" if hint else ""), None)
    return out


def _no_padding_fits(n: int, span: int, s: int, out: int, same_padding: bool) -> str:
    """What someone most likely means when no padding divides exactly (a 3×3/2 conv with padding 1 on 32):
    PyTorch's floor, an input that divides, or TensorFlow's 'same' (out = ⌈N/S⌉)."""
    up = n + s - span % s
    ways = [f"PyTorch floors it to {out}: write 'round: floor' on the layer (or pass --floor) to do the same",
            f"an input of {up} gives {(span + s - span % s) // s + 1}"]
    if same_padding:
        ways.append(f"'padding: same' gives {-(-n // s)}")
    return "; ".join(ways)


def slide_all(
    spatial: tuple[int, ...],
    k: tuple[int, ...],
    s: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    d: tuple[int, ...],
    ctx: LayerContext,
    ceil_mode: bool = False,
    exact_required: bool = True,
    rounding: str = "exact",
    same_padding: bool = False,
) -> tuple[int, ...]:
    """`slide` over every spatial dim; dims with identical arithmetic are computed (and reported) once."""
    dims = [(spatial[i], k[i], s[i], pads[i], d[i]) for i in range(len(spatial))]
    names = DIM_NAMES[len(dims)] if len(set(dims)) > 1 else ("",) * len(dims)
    out = []
    for i, (n, ki, si, (before, after), di) in enumerate(dims):
        if i and not names[i]:
            out.append(out[0])
            continue
        out.append(slide(dim=names[i], n=n, k=ki, s=si, pad_before=before, pad_after=after, d=di, ctx=ctx,
                         ceil_mode=ceil_mode, exact_required=exact_required, rounding=rounding,
                         same_padding=same_padding))
    return tuple(out)


ROUND = Param("round", CHOICE, "exact", "exact: a size that does not divide is an error; floor: floor it as "
              "frameworks do (noted in the table)", choices=("exact", "floor"))


def prod_int(values: tuple[int, ...] | list[int]) -> int:
    return prod(values) if values else 1
