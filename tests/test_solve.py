"""solve: every exact answer within the bounds against a brute force written here, the lecture's
LeNet question, pins, and PyTorch's own layers on the answers."""

from __future__ import annotations

import json
from itertools import product

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.solve import CONV, DECONV, POOL, Bounds, Pins, TooWide, solve

from .conftest import torch_or_skip

SMALL_BOUNDS = Bounds(kernel=7, stride=3, padding=3, dilation=2)


def brute_conv(n, out, b, pool=False):
    """(N + 2P − D·(F − 1) − 1)/S + 1 = out exactly, tried for every value in the bounds."""
    found = set()
    for k, s, p, d in product(range(1, b.kernel + 1), range(1, b.stride + 1), range(0, b.padding + 1),
                              range(1, 2 if pool else b.dilation + 1)):
        if pool and 2 * p > k:
            continue
        top = n + 2 * p - d * (k - 1) - 1
        if top >= 0 and top % s == 0 and top // s + 1 == out:
            found.add((k, s, p, d))
    return found


def brute_deconv(n, out, b):
    """(N − 1)·S − 2P + D·(F − 1) + output_padding + 1 = out, output_padding < max(S, D) (PyTorch's rule)."""
    found = set()
    for k, s, p, d in product(range(1, b.kernel + 1), range(1, b.stride + 1), range(0, b.padding + 1),
                              range(1, b.dilation + 1)):
        for op in range(max(s, d)):
            if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 == out:
                found.add((k, s, p, d, op))
    return found


QUESTIONS = [(n, out) for n in range(1, 34, 3) for out in range(1, 34, 2)]


@pytest.mark.parametrize("layer", [CONV, POOL])
def test_conv_and_pool_find_every_exact_answer_and_no_other(layer):
    for n, out in QUESTIONS:
        solved = solve(layer, n, out, SMALL_BOUNDS)
        got = [(x.kernel, x.stride, x.padding, x.dilation) for x in solved.solutions]
        assert len(got) == len(set(got))
        assert set(got) == brute_conv(n, out, SMALL_BOUNDS, pool=layer == POOL), (layer, n, out)


def test_deconv_finds_every_exact_answer_and_no_other():
    for n, out in QUESTIONS:
        solved = solve(DECONV, n, out, SMALL_BOUNDS)
        got = [(x.kernel, x.stride, x.padding, x.dilation, x.output_padding) for x in solved.solutions]
        assert len(got) == len(set(got))
        assert set(got) == brute_deconv(n, out, SMALL_BOUNDS), (n, out)


def test_default_bounds_against_brute_force():
    b = Bounds()
    for n, out in [(32, 28), (32, 16), (224, 112), (227, 55), (7, 7), (5, 1)]:
        got = {(x.kernel, x.stride, x.padding, x.dilation) for x in solve(CONV, n, out).solutions}
        assert got == brute_conv(n, out, b)


def test_lenet_question_gives_kernel_5_first():
    pinned = solve(CONV, 32, 28, pins=Pins(stride=1, padding=0)).solutions
    assert (pinned[0].kernel, pinned[0].stride, pinned[0].padding, pinned[0].dilation) == (5, 1, 0, 1)
    free = solve(CONV, 32, 28).solutions
    assert (free[0].kernel, free[0].stride, free[0].padding, free[0].dilation) == (5, 1, 0, 1)


def test_common_choices_come_first():
    # same padding at stride 1: the odd kernels, smallest first
    first = solve(CONV, 32, 32).solutions[:3]
    assert [(x.kernel, x.padding) for x in first] == [(1, 0), (3, 1), (5, 2)]
    # AlexNet's overlapping pool 3/2 takes 55 to 27
    pool = solve(POOL, 55, 27).solutions[0]
    assert (pool.kernel, pool.stride, pool.padding) == (3, 2, 0)
    # VGG's pool 2/2 halves
    pool = solve(POOL, 224, 112).solutions[0]
    assert (pool.kernel, pool.stride, pool.padding) == (2, 2, 0)
    # a transposed conv doubling 14 to 28 without output padding or dilation
    deconv = solve(DECONV, 14, 28).solutions[0]
    assert deconv.stride == 2 and deconv.output_padding == 0 and deconv.dilation == 1


def test_pins_are_respected_and_may_pass_the_bounds():
    solved = solve(CONV, 64, 50, pins=Pins(kernel=15))  # beyond --max-kernel 11
    assert solved.solutions and all(x.kernel == 15 for x in solved.solutions)
    assert all(x.stride == 2 for x in solve(CONV, 32, 16, pins=Pins(stride=2)).solutions)
    assert solve(CONV, 32, 28, pins=Pins(kernel=4, dilation=1)).solutions == ()


def test_too_wide_bounds_are_refused():
    with pytest.raises(TooWide):
        solve(CONV, 10, 5, Bounds(kernel=1000, stride=1000, padding=5, dilation=1000))


@pytest.mark.parametrize("layer, n, out", [(CONV, 32, 28), (CONV, 32, 16), (POOL, 55, 27), (POOL, 20, 10),
                                           (DECONV, 14, 28), (DECONV, 7, 15)])
def test_pytorch_agrees_with_every_answer(layer, n, out):
    torch = torch_or_skip()
    nn = torch.nn
    x = torch.zeros(1, 1, n)
    solutions = solve(layer, n, out).solutions
    assert solutions
    for s in solutions:
        if layer == CONV:
            module = nn.Conv1d(1, 1, s.kernel, stride=s.stride, padding=s.padding, dilation=s.dilation)
        elif layer == POOL:
            module = nn.MaxPool1d(s.kernel, stride=s.stride, padding=s.padding)
        else:
            module = nn.ConvTranspose1d(1, 1, s.kernel, stride=s.stride, padding=s.padding, dilation=s.dilation,
                                        output_padding=s.output_padding)
        assert module(x).shape[-1] == out, s


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_json_in_the_displayed_order():
    result = run("solve", "--input", "32", "--output", "28", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    listed = [(s["kernel"], s["stride"], s["padding"], s["dilation"]) for s in data["solutions"]]
    assert listed == [(x.kernel, x.stride, x.padding, x.dilation) for x in solve(CONV, 32, 28).solutions]
    assert listed[0] == (5, 1, 0, 1)
    table = run("solve", "--input", "32", "--output", "28", "--no-color").output
    rows = [line.split()[1:5] for line in table.splitlines() if line.split() and line.split()[0].isdigit()]
    assert [tuple(int(c) for c in row) for row in rows] == listed


def test_cli_lenet_question():
    result = run("solve", "--input", "32", "--output", "28", "--stride", "1", "--padding", "0", "--format", "csv")
    assert result.exit_code == 0
    assert result.output.splitlines()[1].startswith("5,1,0,1,0,")


def test_cli_deconv_and_pool_json():
    data = json.loads(run("solve", "--input", "14", "--output", "28", "--deconv", "--format", "json").output)
    assert all("output_padding" in s for s in data["solutions"])
    data = json.loads(run("solve", "--input", "224", "--output", "112", "--pool", "--format", "json").output)
    assert all(s["dilation"] == 1 and 2 * s["padding"] <= s["kernel"] for s in data["solutions"])


def test_cli_no_solution_is_exit_4():
    result = run("solve", "--input", "5", "--output", "40")
    assert result.exit_code == 4
    assert "--deconv" in result.output


@pytest.mark.parametrize("args", [
    ["--input", "32"],
    ["--input", "0", "--output", "3"],
    ["--input", "32", "--output", "16", "--pool", "--dilation", "2"],
    ["--input", "32", "--output", "16", "--output-padding", "1"],
    ["--input", "32", "--output", "16", "--max-kernel", "1000", "--max-stride", "1000", "--max-dilation", "1000"],
])
def test_cli_usage_errors_are_exit_2(args):
    result = run("solve", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_documented_example_is_real_output():
    from .conftest import doc

    result = run("solve", "--input", "32", "--output", "28", "--stride", "1", "--padding", "0")
    assert result.output in doc("commands/solve.md")
