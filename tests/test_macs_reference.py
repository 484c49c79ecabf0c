"""MACs against an independent count: a naive convolution, transposed convolution and fc in plain Python
loops that count their own multiplications, on small inputs.

The convention (torchvision's): one multiply-accumulate per weight tap applied, padding taps included
(the input is padded with zeros first, as every framework does), biases, pooling, activations and
normalisation not counted. The reference computes real outputs too, and they are checked against
torch's conv and linear when torch is importable, so the counts come from real convolutions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import product
from math import prod

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_text

from .conftest import torch_or_skip


@dataclass
class Tensor:
    """A dense tensor as a flat list of values in row-major order."""

    shape: tuple[int, ...]
    values: list[float]

    def index(self, coords: tuple[int, ...]) -> int:
        flat = 0
        for size, coord in zip(self.shape, coords):
            flat = flat * size + coord
        return flat

    def __getitem__(self, coords: tuple[int, ...]) -> float:
        return self.values[self.index(coords)]


def random_tensor(shape: tuple[int, ...], rng: random.Random) -> Tensor:
    """Small integers, so float results are exact and comparable with torch's."""
    return Tensor(shape, [float(rng.randint(-3, 3)) for _ in range(prod(shape))])


def zero_pad(x: Tensor, pads: tuple[tuple[int, int], ...]) -> Tensor:
    """Channels first; (before, after) zeros around each spatial dim."""
    shape = (x.shape[0],) + tuple(n + b + a for n, (b, a) in zip(x.shape[1:], pads))
    out = Tensor(shape, [0.0] * prod(shape))
    for coords in product(*map(range, x.shape)):
        shifted = (coords[0],) + tuple(c + b for c, (b, _) in zip(coords[1:], pads))
        out.values[out.index(shifted)] = x[coords]
    return out


def conv_reference(x: Tensor, w: Tensor, bias: list[float] | None, stride, pads, dilation, groups):
    """Direct convolution, any number of spatial dims; returns (output, multiplications performed)."""
    x = zero_pad(x, pads)
    c_out, c_per_group, *kernel = w.shape
    spatial = x.shape[1:]
    out_sizes = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(spatial, kernel, stride, dilation)]
    out = Tensor((c_out, *out_sizes), [])
    multiplications = 0
    for o in range(c_out):
        group = o // (c_out // groups)
        for position in product(*map(range, out_sizes)):
            total = bias[o] if bias else 0.0
            for c in range(c_per_group):
                for tap in product(*map(range, kernel)):
                    where = tuple(p * s + t * d for p, s, t, d in zip(position, stride, tap, dilation))
                    total += w[(o, c, *tap)] * x[(group * c_per_group + c, *where)]
                    multiplications += 1
            out.values.append(total)
    return out, multiplications


def fc_reference(x: Tensor, w: Tensor, bias: list[float] | None):
    """y_j = b_j + Σ_i w_ji·x_i over every input value (a volume is read flat)."""
    units, inputs = w.shape
    out, multiplications = [], 0
    for j in range(units):
        total = bias[j] if bias else 0.0
        for i in range(inputs):
            total += w[(j, i)] * x.values[i]
            multiplications += 1
        out.append(total)
    return Tensor((units,), out), multiplications


@dataclass(frozen=True)
class ConvCase:
    name: str
    input: tuple[int, ...]
    layer: str  # the cnncalc spec line
    filters: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]  # worked out by hand, TensorFlow's 'same' included
    dilation: tuple[int, ...]
    groups: int = 1
    bias: bool = True


CONV_CASES = [
    ConvCase("plain", (3, 7, 7), "conv: {filters: 4, kernel: 3}", 4, (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ConvCase("stride 2, pad 1", (3, 7, 7), "conv: {filters: 2, kernel: 3, stride: 2, padding: 1}",
             2, (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),
    ConvCase("dilation 2", (2, 9, 9), "conv: {filters: 3, kernel: 3, dilation: 2, padding: 2}",
             3, (3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2)),
    ConvCase("groups 2", (4, 6, 6), "conv: {filters: 6, kernel: 3, groups: 2, padding: 1}",
             6, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), groups=2),
    ConvCase("depthwise", (4, 6, 6), "conv: {filters: 4, kernel: 3, groups: 4}",
             4, (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), groups=4),
    ConvCase("3×1 kernel, stride 2×1, no bias", (2, 7, 5), "conv: {filters: 3, kernel: [3, 1], stride: [2, 1], bias: false}",
             3, (3, 1), (2, 1), ((0, 0), (0, 0)), (1, 1), bias=False),
    # 'same' at stride 2 on 8: out 4, total padding (4 − 1)·2 + 3 − 8 = 1: none before, one after.
    ConvCase("same, stride 2, uneven", (2, 8, 8), "conv: {filters: 2, kernel: 3, stride: 2, padding: same}",
             2, (3, 3), (2, 2), ((0, 1), (0, 1)), (1, 1)),
    ConvCase("1-D", (2, 11), "conv: {filters: 3, kernel: 3, stride: 2}", 3, (3,), (2,), ((0, 0),), (1,)),
    ConvCase("3-D", (2, 4, 5, 5), "conv: {filters: 2, kernel: [2, 3, 3], stride: [1, 2, 2], padding: 1}",
             2, (2, 3, 3), (1, 2, 2), ((1, 1), (1, 1), (1, 1)), (1, 1, 1)),
]


def conv_case_run(case: ConvCase):
    rng = random.Random(case.name)
    x = random_tensor(case.input, rng)
    w = random_tensor((case.filters, case.input[0] // case.groups, *case.kernel), rng)
    bias = random_tensor((case.filters,), rng).values if case.bias else None
    out, multiplications = conv_reference(x, w, bias, case.stride, case.pads, case.dilation, case.groups)
    return x, w, bias, out, multiplications


def cnncalc_layer(input_shape: tuple[int, ...], layer: str):
    (result,) = analyze(parse_text(f"input: {list(input_shape)}\nlayers:\n  - {layer}\n", "t.yaml")).layers
    return result


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c.name)
def test_conv_macs_equal_the_reference_count(case):
    *_, out, multiplications = conv_case_run(case)
    layer = cnncalc_layer(case.input, case.layer)
    assert layer.output_shape == out.shape
    assert layer.macs == multiplications
    assert layer.weight_count == case.filters * (case.input[0] // case.groups) * prod(case.kernel)


@pytest.mark.parametrize(("input_shape", "units", "bias"), [((10,), 4, True), ((3, 4, 4), 5, True), ((6,), 2, False)])
def test_fc_macs_equal_the_reference_count(input_shape, units, bias):
    rng = random.Random(units)
    x = random_tensor(input_shape, rng)
    w = random_tensor((units, prod(input_shape)), rng)
    _, multiplications = fc_reference(x, w, random_tensor((units,), rng).values if bias else None)
    layer = cnncalc_layer(input_shape, f"fc: {{units: {units}, bias: {'true' if bias else 'false'}}}")
    assert layer.macs == multiplications == prod(input_shape) * units


@pytest.mark.parametrize("layer", [
    "maxpool: 2", "avgpool: {kernel: 3, stride: 1, padding: 1}", "globalavgpool", "globalmaxpool",
    "relu", "leakyrelu", "sigmoid", "tanh", "gelu", "softmax", "batchnorm", "lrn", "dropout", "flatten",
])
def test_layers_without_weights_count_no_macs(layer):
    """The convention: comparisons, additions and normalisation are not multiply-accumulates."""
    assert cnncalc_layer((4, 6, 6), layer).macs == 0


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c.name)
def test_reference_conv_is_a_real_convolution(case):
    """The reference's outputs equal torch's, so what it counts is a convolution's work."""
    torch = torch_or_skip()
    import torch.nn.functional as F

    x, w, bias, out, _ = conv_case_run(case)

    def tensor(t: Tensor):
        return torch.tensor(t.values, dtype=torch.float64).reshape(t.shape)

    flat_pads = tuple(p for before_after in reversed(case.pads) for p in before_after)
    padded = F.pad(tensor(x).unsqueeze(0), flat_pads)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(case.kernel)]
    expected = conv(padded, tensor(w), torch.tensor(bias, dtype=torch.float64) if bias else None,
                    stride=case.stride, dilation=case.dilation, groups=case.groups)[0]
    assert tuple(expected.shape) == out.shape
    assert expected.flatten().tolist() == out.values


def test_reference_fc_is_a_real_linear_layer():
    torch = torch_or_skip()
    rng = random.Random("fc")
    x, w, bias = random_tensor((3, 2, 2), rng), random_tensor((5, 12), rng), random_tensor((5,), rng).values
    out, _ = fc_reference(x, w, bias)
    expected = torch.nn.functional.linear(torch.tensor(x.values, dtype=torch.float64),
                                          torch.tensor(w.values, dtype=torch.float64).reshape(5, 12),
                                          torch.tensor(bias, dtype=torch.float64))
    assert expected.tolist() == out.values


def deconv_reference(x: Tensor, w: Tensor, stride, padding, output_padding, dilation, groups):
    """Transposed convolution by scattering: every input value times the whole kernel of each of its
    group's filters, added at position·S + tap·D − P (taps that land in the cropped padding are still
    multiplied, as the scatter does them). Returns (output, multiplications performed)."""
    c_in, c_out_per_group, *kernel = w.shape
    c_out = c_out_per_group * groups
    spatial = x.shape[1:]
    out_sizes = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for n, k, s, p, op, d in zip(spatial, kernel, stride, padding, output_padding, dilation)]
    out = Tensor((c_out, *out_sizes), [0.0] * (c_out * prod(out_sizes)))
    multiplications = 0
    for c in range(c_in):
        group = c // (c_in // groups)
        for position in product(*map(range, spatial)):
            for o_local in range(c_out_per_group):
                for tap in product(*map(range, kernel)):
                    value = w[(c, o_local, *tap)] * x[(c, *position)]
                    multiplications += 1
                    where = tuple(q * s + t * d - p for q, s, t, d, p in zip(position, stride, tap, dilation, padding))
                    if all(0 <= i < n for i, n in zip(where, out_sizes)):
                        o = group * c_out_per_group + o_local
                        out.values[out.index((o, *where))] += value
    return out, multiplications


DECONV_CASES = [
    # name, input, spec line, filters, kernel, stride, padding, output_padding, dilation, groups
    ("2×2 stride 2", (3, 4, 4), "deconv: {filters: 2, kernel: 2, stride: 2}", 2, (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1),
    ("3×3 stride 2, pad 1, output_padding 1", (2, 3, 3),
     "deconv: {filters: 3, kernel: 3, stride: 2, padding: 1, output_padding: 1}",
     3, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),
    ("groups 2, dilation 2", (4, 3, 3), "deconv: {filters: 2, kernel: 3, groups: 2, dilation: 2}",
     2, (3, 3), (1, 1), (0, 0), (0, 0), (2, 2), 2),
    ("1-D", (2, 5), "deconv: {filters: 2, kernel: 4, stride: 3, padding: 1}", 2, (4,), (3,), (1,), (0,), (1,), 1),
]


def deconv_case_run(case):
    name, input_shape, _, filters, kernel, stride, padding, output_padding, dilation, groups = case
    rng = random.Random(name)
    x = random_tensor(input_shape, rng)
    w = random_tensor((input_shape[0], filters // groups, *kernel), rng)
    out, multiplications = deconv_reference(x, w, stride, padding, output_padding, dilation, groups)
    return x, w, out, multiplications


@pytest.mark.parametrize("case", DECONV_CASES, ids=lambda c: c[0])
def test_deconv_macs_equal_the_reference_count(case):
    _, input_shape, layer_line, filters, kernel, *_, groups = case
    _, _, out, multiplications = deconv_case_run(case)
    layer = cnncalc_layer(input_shape, layer_line)
    assert layer.output_shape == out.shape
    assert layer.macs == multiplications == prod(input_shape) * (filters // groups) * prod(kernel)
    assert layer.weight_count == input_shape[0] * (filters // groups) * prod(kernel)


@pytest.mark.parametrize("case", DECONV_CASES, ids=lambda c: c[0])
def test_reference_deconv_is_a_real_transposed_convolution(case):
    torch = torch_or_skip()
    import torch.nn.functional as F

    _, _, _, _, kernel, stride, padding, output_padding, dilation, groups = case
    x, w, out, _ = deconv_case_run(case)

    def tensor(t: Tensor):
        return torch.tensor(t.values, dtype=torch.float64).reshape(t.shape)

    transposed = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[len(kernel)]
    expected = transposed(tensor(x).unsqueeze(0), tensor(w), stride=stride, padding=padding,
                          output_padding=output_padding, groups=groups, dilation=dilation)[0]
    assert tuple(expected.shape) == out.shape
    assert expected.flatten().tolist() == out.values


# -- the kinds of networks after 2016 -------------------------------------------------------------------

@pytest.mark.parametrize("layer", [
    "relu6", "hardswish", "hardsigmoid", "silu", "mish", "prelu", "adaptiveavgpool: 4", "adaptivemaxpool: [2, 3]",
    "layernorm", "groupnorm: 2", "instancenorm", "scale", "channelshuffle: 2", "chunk: 1", "pixelshuffle: 2",
    "pixelunshuffle: 2",
])
def test_element_wise_and_rearranging_kinds_count_no_macs(layer):
    """Activations, pooling, normalisation, per-channel factors and rearrangements: no weight is applied."""
    assert cnncalc_layer((4, 6, 6), layer).macs == 0


def test_patchify_macs_are_a_strided_convolution_s():
    """Patches of 3 on 6×9: kernel = stride = 3, no padding; the reference convolution counts its products."""
    rng = random.Random("patchify")
    x, w = random_tensor((2, 6, 9), rng), random_tensor((5, 2, 3, 3), rng)
    _, multiplications = conv_reference(x, w, None, (3, 3), ((0, 0), (0, 0)), (1, 1), 1)
    layer = cnncalc_layer((2, 6, 9), "patchify: {dim: 5, patch: 3}")
    assert tuple(layer.output_shape) == (5, 6)  # 2·3 patches
    assert layer.macs == multiplications == 5 * 6 * 2 * 3 * 3


def attention_reference(x: Tensor, projections: list[Tensor], heads: int):
    """Self-attention on tokens x (D×L) with weight matrices W_q, W_k, W_v (dim×D) and W_o (D×dim), no biases,
    in loops: returns (output D×L as a Tensor, multiplications performed). The softmax and the 1/√d scaling
    are computed but not counted, as cnncalc counts no activation."""
    from math import exp, sqrt

    features, length = x.shape
    w_q, w_k, w_v, w_o = projections
    dim = w_q.shape[0]
    width = dim // heads
    count = 0

    def project(w: Tensor, inputs: list[list[float]], rows: int, cols: int) -> list[list[float]]:
        nonlocal count
        out = []
        for token in range(length):
            row = []
            for r in range(rows):
                total = 0.0
                for c in range(cols):
                    total += w[(r, c)] * inputs[token][c]
                    count += 1
                row.append(total)
            out.append(row)
        return out

    tokens = [[x[(f, t)] for f in range(features)] for t in range(length)]
    q, k, v = (project(w, tokens, dim, features) for w in (w_q, w_k, w_v))
    context = [[0.0] * dim for _ in range(length)]
    for h in range(heads):
        part = range(h * width, (h + 1) * width)
        for i in range(length):
            scores = []
            for j in range(length):
                total = 0.0
                for f in part:
                    total += q[i][f] * k[j][f]
                    count += 1
                scores.append(total / sqrt(width))
            top = max(scores)
            weights = [exp(s - top) for s in scores]
            weights = [w / sum(weights) for w in weights]
            for f in part:
                total = 0.0
                for j in range(length):
                    total += weights[j] * v[j][f]
                    count += 1
                context[i][f] = total
    out = project(w_o, context, features, dim)
    return Tensor((features, length), [out[t][f] for f in range(features) for t in range(length)]), count


ATTENTION_CASES = [(4, 3, 1, 4), (6, 5, 2, 6), (8, 4, 4, 8), (6, 3, 2, 4)]  # features D, tokens L, heads, dim


@pytest.mark.parametrize(("features", "length", "heads", "dim"), ATTENTION_CASES)
def test_attention_macs_equal_the_reference_count(features, length, heads, dim):
    rng = random.Random(f"attention{features}{length}")
    x = random_tensor((features, length), rng)
    projections = [random_tensor((dim, features), rng) for _ in range(3)] + [random_tensor((features, dim), rng)]
    _, multiplications = attention_reference(x, projections, heads)
    text = (f"input: [1, {length}]\nlayers:\n  - patchify: {{dim: {features}, patch: 1}}\n"
            f"  - attention: {{heads: {heads}, dim: {dim}, bias: false}}\n")
    layer = analyze(parse_text(text, "t.yaml")).layers[-1]
    assert layer.macs == multiplications == 4 * length * features * dim + 2 * length * length * dim


@pytest.mark.parametrize(("features", "length", "heads", "dim"), ATTENTION_CASES)
def test_reference_attention_is_the_exported_attention(features, length, heads, dim):
    """The loops compute what the exported module computes (and nn.MultiheadAttention, when dim = D)."""
    torch = torch_or_skip()
    from cnncalc.export.torch_helpers import ATTENTION_HELPER

    rng = random.Random(f"attention{features}{length}")
    x = random_tensor((features, length), rng)
    projections = [random_tensor((dim, features), rng) for _ in range(3)] + [random_tensor((features, dim), rng)]
    out, _ = attention_reference(x, projections, heads)
    namespace = {"torch": torch, "nn": torch.nn}
    exec(ATTENTION_HELPER, namespace)
    module = namespace["SelfAttention"](features, heads, dim, bias=False).double()
    with torch.no_grad():
        for linear, w in zip((module.q, module.k, module.v, module.out), projections):
            linear.weight.copy_(torch.tensor(w.values, dtype=torch.float64).reshape(w.shape))
        tokens = torch.tensor(x.values, dtype=torch.float64).reshape(1, features, length)
        expected = module(tokens)[0]
        assert expected.flatten().tolist() == pytest.approx(out.values, rel=1e-9, abs=1e-9)
        if dim == features:
            mha = torch.nn.MultiheadAttention(features, heads, bias=False, batch_first=True).double()
            mha.in_proj_weight.copy_(torch.cat([module.q.weight, module.k.weight, module.v.weight]))
            mha.out_proj.weight.copy_(module.out.weight)
            t = tokens.transpose(1, 2)
            theirs = mha(t, t, t, need_weights=False)[0].transpose(1, 2)[0]
            assert theirs.flatten().tolist() == pytest.approx(out.values, rel=1e-9, abs=1e-9)


def test_per_token_fc_macs_are_an_fc_per_token():
    """fc 3 on 5 tokens of 4 features: the reference fc on each token, five times."""
    rng = random.Random("tokens")
    w = random_tensor((3, 4), rng)
    total = 0
    for _ in range(5):
        _, multiplications = fc_reference(random_tensor((4,), rng), w, None)
        total += multiplications
    layer = analyze(parse_text("input: [1, 5]\nlayers:\n  - patchify: {dim: 4, patch: 1}\n  - fc: {units: 3, bias: "
                               "false}\n", "t.yaml")).layers[-1]
    assert layer.macs == total == 5 * 4 * 3
