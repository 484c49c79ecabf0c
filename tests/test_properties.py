"""Properties over random specs (hypothesis): what must hold for every valid spec, and that no broken one
crashes.

The generators below write the shape and parameter rules once more, independently of cnncalc (PyTorch's
documented formulas), so a valid spec comes with the shapes and counts it must produce. Random valid
conv/pool stacks are also built in PyTorch, when it is importable, and compared layer by layer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.engine import analyze
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError
from cnncalc.render.json_ import render_json

from .cli_harness import run
from .conftest import torch_or_skip

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Expected:
    """What one layer must give, by the rules written here."""

    kind: str
    output: tuple[int, ...]
    params: int | None = None  # None: not predicted (the kind's count is checked elsewhere)
    torch: tuple | None = None  # how to build it in PyTorch: (module name, arguments)


def window(n: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """PyTorch's output size: floor((N + 2P − D·(K − 1) − 1)/S) + 1; with ceil_mode, rounded up and then
    one less if the last window would start past the input and its left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def _conv(draw, shape):
    channels, spatial = shape[0], shape[1:]
    padding = draw(st.integers(0, 2))
    kernel = [draw(st.integers(1, min(5, n + 2 * padding))) for n in spatial]
    dilation = draw(st.sampled_from([1, 1, 2])) if all(2 * (k - 1) + 1 <= n + 2 * padding
                                                       for k, n in zip(kernel, spatial)) else 1
    stride = draw(st.integers(1, 3))
    filters = draw(st.integers(1, 8))
    groups = draw(st.sampled_from([g for g in range(1, 5) if channels % g == 0 and filters % g == 0]))
    bias = draw(st.booleans())
    out = tuple(window(n, k, stride, padding, dilation) for n, k in zip(spatial, kernel))
    params = math.prod(kernel) * (channels // groups) * filters + (filters if bias else 0)
    text = (f"conv: {{filters: {filters}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
            f"dilation: {dilation}, groups: {groups}, bias: {str(bias).lower()}, round: floor}}")
    torch_args = dict(in_channels=channels, out_channels=filters, kernel_size=tuple(kernel), stride=stride,
                      padding=padding, dilation=dilation, groups=groups, bias=bias)
    return text, Expected("conv", (filters,) + out, params, ("Conv2d", torch_args))


def _pool(draw, shape):
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    spatial = shape[1:]
    kernel = draw(st.integers(1, min(4, min(spatial))))
    padding = draw(st.integers(0, kernel // 2))
    stride = draw(st.integers(1, 3))
    ceil = draw(st.booleans())
    out = tuple(window(n, kernel, stride, padding, ceil=ceil) for n in spatial)
    text = (f"{kind}: {{kernel: {kernel}, stride: {stride}, padding: {padding}, ceil_mode: {str(ceil).lower()}, "
            "round: floor}")
    module = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
    return text, Expected(kind, (shape[0],) + out, 0, (module, dict(kernel_size=kernel, stride=stride, padding=padding,
                                                                     ceil_mode=ceil)))


def _pointwise(draw, shape):
    kind = draw(st.sampled_from(["relu", "sigmoid", "tanh", "dropout", "batchnorm", "leakyrelu"]))
    if kind == "batchnorm":
        return "batchnorm", Expected(kind, shape, 2 * shape[0], ("BatchNorm2d", dict(num_features=shape[0])))
    module = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "dropout": "Dropout", "leakyrelu": "LeakyReLU"}[kind]
    return kind, Expected(kind, shape, 0, (module, {}))


@st.composite
def sequential_specs(draw):
    """Conv/pool/pointwise stacks, then optionally flatten and fully connected layers."""
    channels, height, width = draw(st.integers(1, 6)), draw(st.integers(1, 24)), draw(st.integers(1, 24))
    shape = (channels, height, width)
    lines, expected = [], []
    for _ in range(draw(st.integers(1, 6))):
        maker = draw(st.sampled_from([_conv, _conv, _pool, _pointwise]))
        text, layer = maker(draw, shape)
        lines.append(f"  - {text}")
        expected.append(layer)
        shape = layer.output
    if draw(st.booleans()):
        if draw(st.booleans()):
            lines.append("  - flatten")
            expected.append(Expected("flatten", (math.prod(shape),), 0))
        for _ in range(draw(st.integers(1, 2))):
            units, bias = draw(st.integers(1, 12)), draw(st.booleans())
            inputs = math.prod(expected[-1].output)
            lines.append(f"  - fc: {{units: {units}, bias: {str(bias).lower()}}}")
            expected.append(Expected("fc", (units,), inputs * units + (units if bias else 0)))
    text = f"input: [{channels}, {height}, {width}]\nlayers:\n" + "\n".join(lines) + "\n"
    return text, (channels, height, width), expected


@st.composite
def branching_specs(draw):
    """A stem conv, then blocks of two or three branches merged by add or concat, with a `from:` tap."""
    channels, size = draw(st.integers(1, 6)), draw(st.integers(4, 20))
    lines = [f"  - conv: {{filters: {channels}, kernel: 3, padding: 1, name: stem}}"]
    expected = [Expected("conv", (channels, size, size), 9 * channels * channels + channels)]
    shape = (channels, size, size)
    for block in range(draw(st.integers(1, 3))):
        merge = draw(st.sampled_from(["add", "concat"]))
        branch_texts, outputs = [], []
        for _ in range(draw(st.integers(2, 3))):
            layers, current = [], shape
            for _ in range(draw(st.integers(0, 2))):
                kernel = draw(st.sampled_from([1, 3, 5]))
                filters = shape[0] if merge == "add" else draw(st.integers(1, 6))
                padding = draw(st.sampled_from([(kernel - 1) // 2, "same"]))
                layers.append(f"{{conv: {{filters: {filters}, kernel: {kernel}, padding: {padding}}}}}")
                expected.append(Expected("conv", (filters,) + current[1:], kernel * kernel * current[0] * filters + filters))
                current = (filters,) + current[1:]
                if draw(st.booleans()):
                    layers.append("relu")
                    expected.append(Expected("relu", current, 0))
            branch_texts.append("[" + ", ".join(layers) + "]")
            outputs.append(current)
        lines.append(f"  - {{name: block{block}, merge: {merge}, branches: [{', '.join(branch_texts)}]}}")
        shape = outputs[0] if merge == "add" else (sum(o[0] for o in outputs),) + shape[1:]
        expected.append(Expected(merge, shape, 0))
    lines.append("  - {conv: {filters: 2, kernel: 1}, from: stem, name: tap}")  # a second path from the stem
    expected.append(Expected("conv", (2, size, size), channels * 2 + 2))
    lines.append(f"  - {{concat: null, from: [block{block}, tap]}}")
    expected.append(Expected("concat", (shape[0] + 2, size, size), 0))
    text = f"input: [{channels}, {size}, {size}]\nlayers:\n" + "\n".join(lines) + "\n"
    return text, (channels, size, size), expected


def check_invariants(text: str, input_shape: tuple[int, ...], expected: list[Expected]) -> None:
    report = analyze(parse_text(text, "t.yaml"), floor=True)
    assert [layer.kind for layer in report.layers] == [e.kind for e in expected]
    for layer, want in zip(report.layers, expected):
        assert layer.output_shape == want.output, (layer.name, layer.description)
        if want.params is not None:
            assert layer.param_count == want.params, (layer.name, layer.description)
        assert layer.weight_count >= 0 and layer.bias_count >= 0 and layer.macs >= 0
        assert layer.activation_count == math.prod(layer.output_shape)
    totals = report.totals
    assert totals.params == sum(layer.param_count for layer in report.layers)
    assert totals.weights == sum(layer.weight_count for layer in report.layers)
    assert totals.biases == sum(layer.bias_count for layer in report.layers)
    assert totals.macs == sum(layer.macs for layer in report.layers)
    assert totals.non_trainable == sum(layer.non_trainable_count for layer in report.layers)
    assert totals.activations == math.prod(input_shape) + sum(
        layer.activation_count for layer in report.layers if layer.new_tensor)
    data = json.loads(render_json(report))
    assert [(d["output"], d["params"], d["macs"], d["activations"]) for d in data["layers"]] == [
        (list(layer.output_shape), layer.param_count, layer.macs, layer.activation_count) for layer in report.layers]
    assert (data["totals"]["params"], data["totals"]["macs"], data["totals"]["activations"]) == (
        totals.params, totals.macs, totals.activations)


@FAST
@given(sequential_specs())
def test_sequential_specs_follow_the_rules_and_add_up(case):
    check_invariants(*case)


@FAST
@given(branching_specs())
def test_branching_specs_follow_the_rules_and_add_up(case):
    check_invariants(*case)


@settings(max_examples=25, deadline=None)
@given(sequential_specs())
def test_json_from_the_cli_round_trips(case):
    text, _, _ = case
    result = run(["shapes", "--floor", "--format", "json", "-"], stdin=text.encode())
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    report = analyze(parse_text(text, "<stdin>"), floor=True)
    assert data["totals"]["params"] == report.totals.params
    assert [layer["macs"] for layer in data["layers"]] == [layer.macs for layer in report.layers]


@settings(max_examples=40, deadline=None)
@given(sequential_specs())
def test_conv_pool_stacks_match_pytorch(case):
    torch = torch_or_skip()
    text, input_shape, expected = case
    report = analyze(parse_text(text, "t.yaml"), floor=True)
    tensor = torch.zeros((1,) + input_shape)
    with torch.no_grad():
        for layer, want in zip(report.layers, expected):
            if want.torch is None:  # flatten and fc: counted above by the rules
                break
            name, arguments = want.torch
            module = getattr(torch.nn, name)(**arguments).eval()
            tensor = module(tensor)
            assert tuple(tensor.shape[1:]) == layer.output_shape, (layer.name, layer.description, name, arguments)
            assert sum(p.numel() for p in module.parameters()) == layer.param_count, (layer.name, name)


# -- mutations: nothing may crash ----------------------------------------------------------------

_REPLACEMENTS = ["yes", "3.0", "1e3", "-1", "0", "[1, 2]", "{a: 1}", "null", "'x'", "!!python/none", "*nope", "&a",
                 "$x", "010", "1:30", "9" * 30, ".nan", "[[[[", "{", "\t", "\"\\e\"", "~", "same", "[]", "{}"]


@st.composite
def mutated_specs(draw):
    text, _, _ = draw(st.one_of(sequential_specs(), branching_specs()))
    data = text.encode()
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["delete line", "delete key", "swap type", "bytes", "truncate", "duplicate line",
                                    "swap lines"]))
        lines = data.split(b"\n")
        index = draw(st.integers(0, max(len(lines) - 1, 0)))
        if how == "delete line" and lines:
            del lines[index]
        elif how == "delete key":
            words = [w for w in (b"filters", b"kernel", b"input", b"layers", b"from", b"merge", b"branches", b"units")
                     if w in data]
            if words:
                word = draw(st.sampled_from(words))
                start = data.index(word)
                end = min([i for i in (data.find(b",", start), data.find(b"}", start), data.find(b"\n", start)) if i > 0]
                          or [len(data)])
                data = data[:start] + data[end + 1:]
                continue
        elif how == "swap type":
            tokens = [i for i, c in enumerate(data) if chr(c).isdigit() or chr(c) in "tf"]
            if tokens:
                at = draw(st.sampled_from(tokens))
                end = at
                while end < len(data) and chr(data[end]).isalnum():
                    end += 1
                data = data[:at] + draw(st.sampled_from(_REPLACEMENTS)).encode() + data[end:]
                continue
        elif how == "bytes":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
            continue
        elif how == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
            continue
        elif how == "duplicate line" and lines:
            lines.insert(index, lines[index])
        elif how == "swap lines" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        data = b"\n".join(lines)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_never_crash(data):
    for args in (["check", "-"], ["shapes", "--format", "json", "-"], ["shapes", "--format", "table", "-"]):
        result = run(args, stdin=data)
        assert result.exit_code in (0, 1), (args, data, result.output[-500:])
        assert "Traceback" not in result.output and "internal error" not in result.output, (args, data, result.output)


# -- single-layer sweeps: every corner, against PyTorch ----------------------------------------------

def _torch_pool_output(torch, kind: str, n: int, k: int, s: int, p: int, ceil: bool) -> int | None:
    """PyTorch's output size for one pooling layer on an n-pixel 1-D input, or None when it refuses."""
    module = (torch.nn.MaxPool1d if kind == "maxpool" else torch.nn.AvgPool1d)(k, stride=s, padding=p, ceil_mode=ceil)
    try:
        with torch.no_grad():
            return int(module(torch.zeros(1, 1, n)).shape[-1])
    except RuntimeError:
        return None


def _cnncalc_output(text: str) -> int | None:
    try:
        return analyze(parse_text(text, "t.yaml"), floor=True).layers[-1].output_shape[-1]
    except SpecError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["maxpool", "avgpool"]), st.integers(1, 9), st.integers(1, 6), st.integers(1, 4),
       st.integers(0, 3), st.booleans())
def test_pool_sizes_match_pytorch_in_every_corner(kind, n, k, s, p, ceil):
    # kernels larger than the (padded) input included: with ceil_mode PyTorch still gives one output
    torch = torch_or_skip()
    p = min(p, k // 2)  # PyTorch's rule, which cnncalc states as an error of its own
    text = f"input: [1, {n}]\nlayers:\n  - {kind}: {{kernel: {k}, stride: {s}, padding: {p}, ceil_mode: {str(ceil).lower()}}}\n"
    assert _cnncalc_output(text) == _torch_pool_output(torch, kind, n, k, s, p, ceil), text


def test_pool_ceil_mode_with_a_kernel_larger_than_the_input_gives_one_output():
    # PyTorch: div_floor(N + 2P − K + S − 1, S) + 1, minus one if that window starts past the input and
    # the left padding. 2/2 on 1: (1 − 2 + 1)//2 + 1 = 1; 3/2 on 2: (2 − 3 + 1)//2 + 1 = 1; 5/2 on 2: 0, refused.
    for n, k, s, want in [(1, 2, 2, 1), (2, 3, 2, 1), (2, 5, 2, None), (1, 3, 1, None)]:
        text = f"input: [1, {n}, {n}]\nlayers:\n  - maxpool: {{kernel: {k}, stride: {s}, ceil_mode: true}}\n"
        assert _cnncalc_output(text) == want, (n, k, s)


# -- receptive fields through upsampling, against PyTorch's gradient ---------------------------------

def _torch_receptive_field(torch, layers: list[tuple], n: int) -> int:
    """The widest input region a unit of the last layer depends on, by PyTorch (a linear net is its matrix):
    every weight 1 and pools averaged (no cancellation; a max pool's window is the same), bilinear weights
    as PyTorch's; only the units whose region stays clear of the borders (clamped there) count."""
    modules = []
    for kind, *args in layers:
        if kind == "conv":
            k, s, p, d = args
            module = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        elif kind == "pool":
            k, s, p = args
            module = torch.nn.AvgPool1d(k, stride=s, padding=p)
        elif kind == "upsample":
            module = torch.nn.Upsample(scale_factor=args[0], mode="nearest")
        elif kind == "bilinear":
            module = torch.nn.Upsample(scale_factor=args[0], mode="linear", align_corners=False)
        else:
            k, s, p = args
            module = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, bias=False)
        if hasattr(module, "weight"):
            torch.nn.init.ones_(module.weight)
        modules.append(module)
    net = torch.nn.Sequential(*modules).double()
    with torch.no_grad():  # the net is linear: its answer to each one-hot input is a column of its matrix
        matrix = net(torch.eye(n, dtype=torch.double).unsqueeze(1))[:, 0, :]  # [input pixel, output unit]
    widest = 0
    for y in range(matrix.shape[1]):
        touched = matrix[:, y].nonzero().flatten()
        if len(touched) and touched.min() > 0 and touched.max() < n - 1:
            widest = max(widest, int(touched.max() - touched.min() + 1))
    return widest


@st.composite
def upsampling_chains(draw, bilinear: bool = False):
    """1-D chains of convs, pools, nearest (and bilinear) upsamples and transposed convs, each small."""
    layers, lines = [], []
    kinds = ["conv", "conv", "pool", "upsample", "upsample", "deconv"] + (["bilinear"] if bilinear else [])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        if kind == "conv":
            k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.sampled_from([1, 1, 2]))
            p = draw(st.integers(0, k // 2))
            layers.append(("conv", k, s, p, d))
            lines.append(f"  - conv: {{filters: 1, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, bias: false, "
                         "round: floor}")
        elif kind == "pool":
            k = draw(st.integers(1, 3))
            s, p = draw(st.integers(1, 3)), draw(st.integers(0, k // 2))
            layers.append(("pool", k, s, p))
            lines.append(f"  - avgpool: {{kernel: {k}, stride: {s}, padding: {p}, round: floor}}")
        elif kind in ("upsample", "bilinear"):
            u = draw(st.integers(2, 3))
            layers.append((kind, u))
            lines.append(f"  - upsample: {{scale: {u}, mode: {'nearest' if kind == 'upsample' else 'bilinear'}}}")
        else:
            s = draw(st.integers(1, 3))
            k = draw(st.integers(1, 4))  # a kernel shorter than the stride: some outputs read no input
            p = draw(st.integers(0, k - 1))
            layers.append(("deconv", k, s, p))
            lines.append(f"  - deconv: {{filters: 1, kernel: {k}, stride: {s}, padding: {p}, bias: false}}")
    return layers, "input: [1, 120]\nlayers:\n" + "\n".join(lines) + "\n"


def _last_field(text: str):
    try:
        return analyze(parse_text(text, "t.yaml"), floor=True).layers[-1].receptive_field
    except SpecError:
        return None  # a size that does not fit: nothing to compare


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upsampling_chains())
def test_receptive_fields_through_upsampling_match_pytorchs_gradient(case):
    # exact (no '≤') through nearest upsampling and transposed convs: the widest region any unit reads
    torch = torch_or_skip()
    layers, text = case
    field = _last_field(text)
    widest = _torch_receptive_field(torch, layers, 120)
    if field is None or widest * 3 > 120:  # regions of a third of the input: too few units clear of the borders
        return
    if field.bound:  # only a transposed conv shorter than its stride leaves the exact profiles: an upper bound
        assert any(layer[0] == "deconv" and layer[1] < layer[2] for layer in layers), text
        assert field.size[0] >= widest, text
    else:
        assert field.size[0] == widest, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upsampling_chains(bilinear=True), st.sampled_from([1, 2, 3, 4096]), st.sampled_from([0, 3, 10**6]))
def test_a_receptive_field_bound_is_never_below_pytorchs_gradient(case, period, work):
    # bilinear upsampling gives '≤'; so do periods too long to follow and paths past the work limit (forced
    # here down to a few units): every such figure must be at least the truth
    from cnncalc import fields

    torch = torch_or_skip()
    layers, text = case
    saved = fields.MAX_PERIOD, fields.MAX_WORK
    fields.MAX_PERIOD, fields.MAX_WORK = period, work
    try:
        field = _last_field(text)
    finally:
        fields.MAX_PERIOD, fields.MAX_WORK = saved
    widest = _torch_receptive_field(torch, layers, 120)
    if field is None or widest * 3 > 120:
        return
    assert field.size[0] >= widest, text
    if not field.bound:
        assert field.size[0] == widest, text
