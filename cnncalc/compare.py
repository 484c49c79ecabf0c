"""Design trade-offs side by side: the pure computation behind `cnncalc compare`. No I/O, no printing.

Layer stacks: an expression such as `3x3x3 vs 7x7` is parsed into stacks of 2-D convolutions; each
stack is built as a Spec and analysed by the engine. Counts that depend on the channel count C (params,
MACs, activations) are quadratics in C, because every conv weight tensor is F_h·F_w·C_in·C_out with each
of C_in and C_out either C or a fixed number; the engine is run at C = 1, 2, 3 and the coefficients are
recovered exactly (a·C² + b·C + c from three points), then checked at C = 4.

Specs: every spec's own report, side by side, with ratios against the first.

The grammar of an expression is in stacks.py, which parses it.
"""

from fractions import Fraction
from types import MappingProxyType
from typing import Mapping, NamedTuple, Sequence

from .engine import analyze
from .problems import Location, SpecError
from .report import LayerResult, Report
from .spec import INPUT_NAME, LayerSpec, Spec
from .stacks import (  # noqa: F401 - the expression's names, re-exported for cnncalc compare
    BOTTLENECK_EXAMPLE,
    EXAMPLE,
    MAX_DIGITS,
    MAX_STACK_LAYERS,
    ExpressionError,
    Stack,
    StackError,
    StackLayer,
    parse_expression,
)

EXPRESSION_SOURCE = "<expression>"
SAMPLE_CHANNELS = (1, 2, 3, 4)  # the fit uses the first three; the fourth checks it
WEIGHT_CATEGORIES = ("conv", "fc")  # what "depth in weight layers" counts, as VGG16's 16 and ResNet-50's 50 do
WHOLE_INPUT_KINDS = ("globalavgpool", "globalmaxpool")  # see everything by construction: not a telling RF


# -- stacks through the engine ----------------------------------------------------------------------------


class Polynomial(NamedTuple):
    """c2·C² + c1·C + c0, exact integer coefficients: a count as a function of the channel count C."""

    c2: int
    c1: int
    c0: int

    def at(self, channels: int) -> int:
        return (self.c2 * channels + self.c1) * channels + self.c0

    def proportional_to(self, other: "Polynomial") -> bool:
        """True when self = k·other for one constant k, so their ratio does not depend on C."""
        a, b = (self.c2, self.c1, self.c0), (other.c2, other.c1, other.c0)
        return all(a[i] * b[j] == a[j] * b[i] for i in range(3) for j in range(3))

    def leading(self) -> int:
        """The coefficient of the highest power of C present (0 for the zero polynomial)."""
        return self.c2 or self.c1 or self.c0


def fit_quadratic(values: Sequence[int]) -> Polynomial:
    """The quadratic through (1, v1), (2, v2), (3, v3): a = (v3 − 2·v2 + v1)/2, b = v2 − v1 − 3a, c = v1 − a − b;
    any further values (at C = 4, 5, ...) must agree, else ArithmeticError."""
    v1, v2, v3 = values[:3]
    second = v3 - 2 * v2 + v1
    if second % 2:
        raise ArithmeticError(f"{tuple(values)} is not an integer quadratic in C")
    a = second // 2
    b = v2 - v1 - 3 * a
    fitted = Polynomial(a, b, v1 - a - b)
    for channels, value in enumerate(values, start=1):
        if fitted.at(channels) != value:
            raise ArithmeticError(f"{tuple(values)} is not a quadratic in C")
    return fitted


class Count(NamedTuple):
    """A quantity of a stack: exactly, as a polynomial in C; and, at --channels C, the engine's own number."""

    formula: Polynomial
    value: int | None


class StackSettings(NamedTuple):
    """The command line's choices. `stride` applies to each stack's first layer (so every stack downsamples
    alike), `dilation` to every layer; padding is 'same' (output ceil(N/S)) or 'valid' (none)."""

    channels: int | None = None
    stride: int = 1
    dilation: int = 1
    bias: bool = False
    input_size: int | None = None
    padding: str = "same"


class StackLayerResult(NamedTuple):
    kernel: tuple[int, int]
    channels: int | None  # as written with @
    in_channels: int | None  # at --channels C; None without
    out_channels: int | None
    params: Count


class StackResult(NamedTuple):
    """One stack's numbers. Per-position MACs assume a large input: every layer runs at the output's resolution.
    `output_size`, `macs` and `activations` (values the stack's layers write) are set only with an input size."""

    stack: Stack
    layers: tuple[StackLayerResult, ...]
    depth: int  # conv layers
    nonlinearities: int  # one after each conv, as in VGG
    params: Count
    weights: Count
    biases: Count
    receptive_field: tuple[int, ...]
    jump: tuple[int, ...]
    macs_per_position: Count
    output_size: tuple[int, ...] | None = None
    macs: Count | None = None
    activations: Count | None = None
    notes: tuple[str, ...] = ()
    ratios: Mapping[str, Fraction] = MappingProxyType({})  # against the first stack


class Verdict(NamedTuple):
    """`subject` (the first stack) against `baseline`. params_ratio = subject / baseline params: exact at
    --channels C; without it, the ratio of the leading (C²) terms, exact for every C unless `asymptotic`."""

    subject: StackResult
    baseline: StackResult
    params_ratio: Fraction
    asymptotic: bool
    receptive_field: str  # same, smaller, larger or different (some dims larger, some smaller)


class StackComparison(NamedTuple):
    settings: StackSettings
    stacks: tuple[StackResult, ...]
    verdicts: tuple[Verdict, ...]


def stack_spec(stack: Stack, channels: int, settings: StackSettings, spatial: int, padding: str) -> Spec:
    """The stack as a network: input C×spatial×spatial; each layer a conv then a ReLU (the non-linearity)."""
    layers: list[LayerSpec] = []
    previous, width = INPUT_NAME, channels
    for i, layer in enumerate(stack.layers, start=1):
        location = Location(EXPRESSION_SOURCE, 1, layer.position + 1)
        width = layer.channels or width
        params = {
            "filters": width,
            "kernel": layer.kernel,
            "stride": settings.stride if i == 1 else 1,
            "padding": padding,
            "dilation": settings.dilation,
            "bias": settings.bias,
        }
        layers.append(LayerSpec("conv", f"conv{i}", params, location, inputs=(previous,)))
        layers.append(LayerSpec("relu", f"relu{i}", {}, location, inputs=(f"conv{i}",)))
        previous = f"relu{i}"
    return Spec(name=stack.text, source=EXPRESSION_SOURCE, input_shape=(channels, spatial, spatial),
                layers=tuple(layers))


def _analyze_stack(stack: Stack, channels: int, settings: StackSettings, spatial: int, padding: str) -> Report:
    try:
        return analyze(stack_spec(stack, channels, settings, spatial, padding), floor=True)
    except SpecError as error:
        problem = error.errors[0] if error.errors else error.problems[0]
        raise StackError(stack.text, problem.message) from None


def _sampled(stack: Stack, settings: StackSettings, spatial: int, padding: str) -> dict[int, Report]:
    """Reports at C = 1, 2, 3, 4 and at --channels C."""
    channels = SAMPLE_CHANNELS + ((settings.channels,) if settings.channels else ())
    return {c: _analyze_stack(stack, c, settings, spatial, padding) for c in dict.fromkeys(channels)}


def _count(reports: Mapping[int, Report], settings: StackSettings, measure) -> Count:
    formula = fit_quadratic([measure(reports[c]) for c in SAMPLE_CHANNELS])
    return Count(formula, measure(reports[settings.channels]) if settings.channels else None)


def analyze_stack(stack: Stack, settings: StackSettings) -> StackResult:
    """One stack's params, receptive field, MACs and non-linearities, all from the engine."""
    # Per output position: a stride-S first layer on an S×S input with 'same' padding gives one output
    # position, and every layer then runs once at it: the cost per position of a large input.
    per_position = _sampled(stack, settings, settings.stride, "same")
    convs = [i for i, r in enumerate(per_position[1].layers) if r.category == "conv"]
    numeric = per_position.get(settings.channels) if settings.channels else None
    layers = tuple(
        StackLayerResult(
            kernel=layer.kernel,
            channels=layer.channels,
            in_channels=numeric.layers[index].input_shape[0] if numeric else None,
            out_channels=numeric.layers[index].output_shape[0] if numeric else None,
            params=_count(per_position, settings, lambda r, index=index: r.layers[index].param_count),
        )
        for layer, index in zip(stack.layers, convs)
    )
    last = per_position[1].layers[-1].receptive_field
    result = StackResult(
        stack=stack,
        layers=layers,
        depth=len(convs),
        nonlinearities=sum(1 for r in per_position[1].layers if r.category == "activation"),
        params=_count(per_position, settings, lambda r: r.totals.params),
        weights=_count(per_position, settings, lambda r: r.totals.weights),
        biases=_count(per_position, settings, lambda r: r.totals.biases),
        receptive_field=last.size,
        jump=last.jump,
        macs_per_position=_count(per_position, settings, lambda r: r.totals.macs),
    )
    if settings.input_size is None:
        return result
    full = _sampled(stack, settings, settings.input_size, settings.padding)
    sample = full[settings.channels or 1]
    return result._replace(
        output_size=sample.layers[-1].output_shape[1:],
        macs=_count(full, settings, lambda r: r.totals.macs),
        activations=_count(full, settings, lambda r: r.totals.activations - r.totals.input_activations),
        notes=tuple(f"{stack.text}: {w.message}" for w in sample.warnings),
    )


def _relation(subject: tuple[int, ...], baseline: tuple[int, ...]) -> str:
    if subject == baseline:
        return "same"
    if all(s <= b for s, b in zip(subject, baseline)):
        return "smaller"
    if all(s >= b for s, b in zip(subject, baseline)):
        return "larger"
    return "different"


def verdict(subject: StackResult, baseline: StackResult, settings: StackSettings) -> Verdict:
    mine, theirs = subject.params, baseline.params
    asymptotic = mine.value is None and not mine.formula.proportional_to(theirs.formula)
    return Verdict(subject, baseline, count_ratio(mine, theirs), asymptotic, _relation(subject.receptive_field, baseline.receptive_field))


def count_ratio(count: Count, first: Count) -> Fraction:
    """count / first: exact at --channels C; without it, the ratio of the leading terms in C (exact for every C
    when the two are proportional, as params and MACs are without biases)."""
    if count.value is not None and first.value is not None:
        return Fraction(count.value, first.value)
    return Fraction(count.formula.leading(), first.formula.leading())


def _with_ratios(result: StackResult, first: StackResult) -> StackResult:
    pairs = {"params": (result.params, first.params), "macs_per_position": (result.macs_per_position,
                                                                             first.macs_per_position)}
    if result.macs is not None and first.macs is not None:
        pairs["macs"] = (result.macs, first.macs)
    if result.activations is not None and first.activations is not None:
        pairs["activations"] = (result.activations, first.activations)
    return result._replace(ratios={key: count_ratio(mine, theirs) for key, (mine, theirs) in pairs.items()})


def compare_stacks(stacks: Sequence[Stack], settings: StackSettings) -> StackComparison:
    """Every stack's numbers with its ratios against the first, and the first stack's verdict against each other."""
    results = tuple(analyze_stack(stack, settings) for stack in stacks)
    results = tuple(_with_ratios(result, results[0]) for result in results)
    verdicts = tuple(verdict(results[0], other, settings) for other in results[1:])
    return StackComparison(settings, results, verdicts)


# -- specs against specs ----------------------------------------------------------------------------------


class SpecSummary(NamedTuple):
    """One spec's report with what the comparison adds: the receptive field of its last layer that still has
    spatial dims (global pools excluded: they see the whole input by construction), its depth in weight layers
    (the most conv and fc layers on any path from the input to the last layer) and its ratios to the first spec
    (every Totals field and depth; None where the first spec's value is 0)."""

    path: str
    report: Report
    field_layer: LayerResult | None
    depth: int
    ratios: Mapping[str, Fraction | None]


class SpecComparison(NamedTuple):
    specs: tuple[SpecSummary, ...]


def weight_depth(report: Report) -> int:
    """The most conv and fc layers on any path from the input to the last layer, following each layer's inputs."""
    depth = {INPUT_NAME: 0}
    for layer in report.layers:
        below = max((depth.get(name, 0) for name in layer.inputs), default=0)
        depth[layer.name] = below + (layer.category in WEIGHT_CATEGORIES)
    return depth[report.layers[-1].name] if report.layers else 0


def last_spatial_layer(report: Report) -> LayerResult | None:
    """The last layer whose output is still a volume, global pools excluded."""
    for layer in reversed(report.layers):
        if len(layer.output_shape) > 1 and layer.kind not in WHOLE_INPUT_KINDS:
            return layer
    return None


def _ratio(value: int, first: int) -> Fraction | None:
    return Fraction(value, first) if first else None


def compare_reports(reports: Sequence[tuple[str, Report]]) -> SpecComparison:
    """Specs side by side; `reports` are (path, report) pairs, the first being the reference for the ratios."""
    depths = [weight_depth(report) for _, report in reports]
    first_totals = reports[0][1].totals._asdict() if reports else {}
    summaries = []
    for (path, report), depth in zip(reports, depths):
        totals = report.totals._asdict()
        ratios = {key: _ratio(value, first_totals[key]) for key, value in totals.items() if isinstance(value, int)}
        ratios["depth"] = _ratio(depth, depths[0])
        summaries.append(SpecSummary(path, report, last_spatial_layer(report), depth, ratios))
    return SpecComparison(tuple(summaries))
