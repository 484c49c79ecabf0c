"""The Python API (cnncalc.load, analyze, memory, SpecError): published totals, hand arithmetic, and the same
numbers and problems as the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main

from .conftest import SPECS, TEST_SPECS

SMALL = TEST_SPECS / "small_cnn.yaml"
SMALL_PARAMS = (3 * 9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 8 * 8 * 10 + 10)  # conv1, conv2, fc: by hand


def test_vgg16_totals_are_the_published_ones():
    """Simonyan & Zisserman's VGG16: 138,357,544 parameters; 15.47 G multiply-accumulates (224×224)."""
    report = cnncalc.analyze(cnncalc.load(SPECS / "vgg16.yaml"))
    assert report.totals.params == 138_357_544
    assert report.totals.macs == 15_470_264_320
    assert report.layers[0].output_shape == (64, 224, 224)
    assert report.layers[-1].output_shape == (1000,)


def test_load_takes_a_path_a_text_or_bytes():
    text = SMALL.read_text(encoding="utf-8")
    for source in (SMALL, str(SMALL), text, SMALL.read_bytes()):
        assert cnncalc.analyze(cnncalc.load(source)).totals.params == SMALL_PARAMS, type(source)
    flow = "{input: [3, 8, 8], layers: [{fc: 2}]}"
    assert cnncalc.analyze(flow).totals.params == 3 * 8 * 8 * 2 + 2  # analyze loads what load takes


def test_errors_are_located_problems():
    """(32 − 3)/2 + 1 = 15.5: the conv at line 3, column 5 does not fit."""
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column, problem.severity) == (3, 5, "error")
    assert "(32 − 3 + 2·0)/2 + 1 = 15.5 is not an integer" in problem.message
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.load(TEST_SPECS / "no_such_spec.yaml")
    assert caught.value.problems[0].message.startswith("cannot read")


def test_floor_and_batch_reach_the_engine():
    report = cnncalc.analyze(TEST_SPECS / "bad_stride.yaml", floor=True, batch=3)
    assert report.warnings and report.totals.batch_macs == 3 * report.totals.macs


def test_memory_is_what_the_command_reports():
    result = CliRunner().invoke(main, ["memory", str(SPECS / "vgg16.yaml"), "--batch", "32", "--optimizer", "adam",
                                       "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    command = json.loads(result.stdout)
    memory = cnncalc.memory(cnncalc.load(SPECS / "vgg16.yaml"), batch=32, optimizer="adam")
    assert memory.training.total == command["training"]["total"]
    assert memory.inference.total == command["inference"]["total"]
    # Adam keeps two states per parameter; with weights and gradients, four float32 copies of 138,357,544
    assert memory.training["parameters"].bytes + memory.training["gradients"].bytes \
        + memory.training["optimizer_state"].bytes == 4 * 4 * 138_357_544


def test_memory_refuses_settings_that_cannot_train():
    spec = cnncalc.load(SMALL)
    for settings in ({"optimizer": "lbfgs"}, {"dtype": "int8"}, {"mixed": True, "dtype": "float32"}, {"batch": 0}):
        with pytest.raises(ValueError):
            cnncalc.memory(spec, **settings)


def test_the_report_reads_as_a_table():
    """One line per layer with its shape, parameters and MACs, then the totals, worked by hand."""
    text = repr(cnncalc.analyze(SMALL))
    lines = text.splitlines()
    assert lines[0] == "Report 'SmallCNN': input 3×32×32, float32, 7 layers"
    assert lines[2].split() == ["conv1", "conv", "16×32×32", "448", f"{32 * 32 * 16 * 27:,}"]
    assert lines[-2].split() == ["fc1", "fc", "10", f"{32 * 8 * 8 * 10 + 10:,}", f"{32 * 8 * 8 * 10:,}"]
    assert lines[-1].startswith(f"  total: {SMALL_PARAMS:,} params")
    assert len(lines) == 1 + 1 + 7 + 1


def test_the_api_is_imported_only_when_used():
    import subprocess
    import sys

    code = "import sys, cnncalc; assert 'cnncalc.api' not in sys.modules and 'yaml' not in sys.modules; cnncalc.load"
    subprocess.run([sys.executable, "-c", code], check=True)
