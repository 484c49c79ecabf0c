"""fit: size parsing, the largest batch against a batch-by-batch search, epochs, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cnncalc.cli import EXIT_NO_ANSWER, main
from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.sizing import Settings, fit, memory_report, parse_reserve, parse_size

from .conftest import ROOT, SPECS, doc

SMALL = "input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3, padding: 1}\n  - relu\n  - fc: 10\n"


@pytest.mark.parametrize("text, expected", [
    ("24GB", 24 * 10**9),
    ("24GiB", 24 * 2**30),
    ("24000MB", 24 * 10**9),
    ("24 GiB", 24 * 2**30),
    ("24gib", 24 * 2**30),
    ("1073741824", 2**30),
    ("512B", 512),
    ("1.5GiB", 3 * 2**29),
    ("2kB", 2000),
    ("2KiB", 2048),
    ("1TB", 10**12),
    ("0.5B", 0),  # a fraction of a byte is dropped
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text, words", [
    ("24G", "24GB (10⁹ bytes) or 24GiB (2³⁰ bytes)"),
    ("24XB", "unknown unit 'XB'"),
    ("lots", "is not a size"),
    ("-1GB", "is not a size"),
    ("", "is not a size"),
    ("1e9", "is not a size"),
])
def test_parse_size_errors_explain(text, words):
    with pytest.raises(ValueError) as caught:
        parse_size(text)
    assert words in str(caught.value)


def test_parse_reserve():
    assert parse_reserve("10%", 1000) == 100
    assert parse_reserve("12.5%", 1000) == 125
    assert parse_reserve("1KiB", 10**6) == 1024
    with pytest.raises(ValueError):
        parse_reserve("100%", 1000)
    with pytest.raises(ValueError):
        parse_reserve("x%", 1000)


def search(report, settings, usable, inference=False):
    """The largest batch found by trying 1, 2, 3, ... with the memory breakdown itself."""
    batch = 0
    while True:
        m = memory_report(report, settings, batch + 1)
        if (m.inference if inference else m.training).total > usable:
            return batch
        batch += 1


@pytest.mark.parametrize("settings", [Settings("float32", optimizer="adam"), Settings("float16", True, "sgd"),
                                      Settings("bfloat16", optimizer="rmsprop")])
@pytest.mark.parametrize("inference", [False, True])
def test_largest_batch_fits_and_one_more_does_not(settings, inference):
    report = analyze(parse_text(SMALL, "t.yaml"))
    unit = memory_report(report, settings, 1)
    fixed = (unit.inference if inference else unit.training).fixed_bytes
    for budget in (fixed + 1, fixed + 10_000, fixed + 123_456, 3 * fixed + 999_999):
        result = fit(report, settings, budget, 0, inference=inference)
        assert result.batch == search(report, settings, budget, inference)
        n = memory_report(report, settings, result.batch + 1)
        assert (n.inference if inference else n.training).total > budget
        if result.batch:
            m = memory_report(report, settings, result.batch)
            assert (m.inference if inference else m.training).total == result.bytes_at_batch <= budget
            assert result.batch_power_of_two <= result.batch < 2 * result.batch_power_of_two
            assert result.batch_power_of_two & (result.batch_power_of_two - 1) == 0


def test_vgg16_on_24_gib_with_adam():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    settings = Settings("float32", optimizer="adam")
    budget = 24 * 2**30
    result = fit(report, settings, budget, budget // 10, dataset=50_000)
    assert result.usable == budget - budget // 10
    assert memory_report(report, settings, result.batch).training.total <= result.usable
    assert memory_report(report, settings, result.batch + 1).training.total > result.usable
    assert result.batch_power_of_two == 256
    assert result.epoch.iterations == -(-50_000 // result.batch)
    assert result.epoch.iterations_power_of_two == 196  # ceil(50000 / 256)
    assert result.epoch.full_batch_iterations == 1
    assert result.epoch.stochastic_iterations == 50_000
    assert result.epoch.full_batch_fits is False


def test_too_small_says_how_much_is_missing():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    settings = Settings("float32", optimizer="sgd")
    result = fit(report, settings, 2**30, 0)
    need = memory_report(report, settings, 1).training.total
    assert result.batch == 0 and result.batch_power_of_two == 0
    assert result.missing == need - 2**30 > 0


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_fit_json():
    result = run("fit", str(SPECS / "vgg16.yaml"), "--memory", "24GiB", "--optimizer", "adam", "--format", "json",
                 "--dataset", "1000")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["budget"] == 24 * 2**30
    assert data["reserve"] == 24 * 2**30 // 10  # the default: 10%
    assert {"batch", "batch_power_of_two", "bytes_at_batch", "budget"} <= set(data)
    assert data["bytes_at_batch"] <= data["usable"] < data["bytes_at_next"]
    assert data["dataset"]["iterations"] == -(-1000 // data["batch"])


def test_cli_fit_table_and_reserve_as_a_size():
    result = run("fit", str(SPECS / "vgg16.yaml"), "--memory", "24GB", "--reserve", "1GB")
    assert result.exit_code == 0, result.output
    assert "largest batch" in result.output and "23,000,000,000" in result.output


def test_cli_fit_too_small_is_exit_4_with_the_shortfall():
    result = run("fit", str(SPECS / "vgg16.yaml"), "--memory", "1GiB")
    assert result.exit_code == EXIT_NO_ANSWER == 4
    assert "does not fit" in result.output and "more than" in result.output
    data = json.loads(run("fit", str(SPECS / "vgg16.yaml"), "--memory", "1GiB", "--format", "json").output)
    assert data["batch"] == 0 and data["fits"] is False and data["missing"] > 0


@pytest.mark.parametrize("args", [
    ["--memory", "24G"],
    ["--memory", "0GB"],
    ["--memory", "lots"],
    ["--memory", "24GiB", "--reserve", "30GiB"],
    ["--memory", "24GiB", "--reserve", "150%"],
    ["--memory", "24GiB", "--dataset", "0"],
    [],
])
def test_cli_fit_usage_errors_are_exit_2(args):
    result = run("fit", str(SPECS / "vgg16.yaml"), *args)
    assert result.exit_code == 2, result.output


def test_cli_fit_bad_size_explains():
    result = run("fit", str(SPECS / "vgg16.yaml"), "--memory", "24G")
    assert "24GiB" in result.output and "Traceback" not in result.output


def test_cli_fit_invalid_spec_is_exit_1():
    assert run("fit", str(ROOT / "tests" / "specs" / "bad_stride.yaml"), "--memory", "1GiB").exit_code == 1


def test_documented_example_is_real_output():
    result = run("fit", str(SPECS / "vgg16.yaml"), "--memory", "24GiB", "--optimizer", "adam", "--dataset", "50000")
    readme = doc("commands/fit.md")
    lines = result.output.splitlines()[:6]
    assert all(line in readme for line in lines)
