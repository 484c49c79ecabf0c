"""The engine against values known independently of cnncalc: lecture arithmetic and published totals."""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import SPECS


def run(text: str, **options):
    return analyze(parse_text(text, "t.yaml"), **options)


def test_lecture_conv_keeps_size_with_padding_2():
    report = run("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 10, kernel: 5, stride: 1, padding: 2}\n")
    layer = report.layers[0]
    assert layer.output_shape == (10, 32, 32)
    assert layer.param_count == 760  # (5·5·3)·10 + 10


def test_alexnet_conv1():
    report = run("input: [3, 227, 227]\nlayers:\n  - conv: {filters: 96, kernel: 11, stride: 4}\n")
    layer = report.layers[0]
    assert layer.output_shape == (96, 55, 55)
    assert layer.weight_count == 34_848
    assert layer.param_count == 34_944


def test_stride_that_does_not_fit_is_a_located_error():
    with pytest.raises(SpecError) as caught:
        run("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (3, 5)
    assert "(7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer" in problem.message
    assert "padding 1 gives 3" in problem.message


def test_three_3x3_convs_see_7x7():
    report = run("input: [8, 32, 32]\nlayers:\n" + "  - conv: {filters: 8, kernel: 3, padding: 1}\n" * 3)
    assert report.layers[-1].receptive_field.size == (7, 7)


def test_vgg16_published_totals():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    assert report.totals.params == 138_357_544
    assert report.totals.macs == 15_470_264_320


def test_inference_peak_through_branches_by_hand():
    report = run("input: [4, 8, 8]\nlayers:\n  - branches:\n      - [conv: {filters: 8, kernel: 1}]\n"
                 "      - [conv: {filters: 8, kernel: 3, padding: 1}]\n    merge: concat\n")
    # input 256; conv1 runs: 256 + 512; conv2 runs: 256 + 512 + 512 (the input is freed after it);
    # concat runs: 512 + 512 + 1,024 = 2,048, the peak.
    assert (report.totals.inference_peak, report.totals.inference_peak_layer) == (2048, "concat1")
    assert report.totals.activations == 256 + 512 + 512 + 1024  # training keeps every tensor
