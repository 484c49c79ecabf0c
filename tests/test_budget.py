"""Budgets: `check --max-*` and the spec's `budget:` key, against published totals and naive arithmetic;
the memory limit reads the figure `cnncalc memory` prints; every format carries the verdicts."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from cnncalc.budget import parse_count
from cnncalc.cli import main
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError
from cnncalc.sizing import parse_size

from .conftest import SPECS

RESNET50 = str(SPECS / "resnet50.yaml")
VGG16 = str(SPECS / "vgg16.yaml")
RESNET50_PARAMS = 25_557_032  # torchvision's resnet50, published
VGG16_PARAMS = 138_357_544  # torchvision's vgg16, published
VGG16_POOL5_RF = 212  # VGG16's receptive field at pool5 (Araujo et al., Distill 2019)
LAYER4_CONV2 = 3 * 3 * 512 * 512  # ResNet-50's largest convs: 3×3, 512 → 512, no bias

# A small net whose activation memory is easy by hand: the input 3·32·32, conv 8·32·32, maxpool 8·16·16,
# flatten (a view: no new tensor), fc 10; float32.
SMALL = """\
input: [3, 32, 32]
budget:
  params: 1M
  activations: 100KiB
layers:
  - conv: {filters: 8, kernel: 3, padding: 1}
  - maxpool: 2
  - flatten
  - fc: 10
"""
SMALL_ACTIVATION_BYTES = 4 * (3 * 32 * 32 + 8 * 32 * 32 + 8 * 16 * 16 + 10)
SMALL_PARAMS = (3 * 3 * 3 * 8 + 8) + (8 * 16 * 16 * 10 + 10)


def run(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def where(text: str, needle: str) -> tuple[int, int]:
    """The 1-based line and column of the first `needle` in `text`."""
    before = text[:text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize("text, value", [
    ("25M", 25 * 10**6), ("5G", 5 * 10**9), ("1.5k", 1500), ("25000000", 25 * 10**6), ("25_557_032", 25_557_032),
    ("2t", 2 * 10**12), (" 7 ", 7), ("0.5M", 500_000),
])
def test_counts_take_decimal_suffixes(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["25X", "M", "25MiB", "-3", "", "1e6"])
def test_a_count_that_is_not_one_says_how_to_write_it(text):
    with pytest.raises(ValueError, match="25M"):
        parse_count(text)


def test_sizes_are_fits_sizes():
    assert parse_size("16GiB") == 16 * 2**30 and parse_size("100MB") == 100 * 10**6 and parse_size("1KiB") == 1024


def test_max_params_exceeded_says_figure_limit_excess_and_largest_layers():
    result = run("check", RESNET50, "--max-params", "20M")
    assert result.exit_code == 1
    excess = Fraction(RESNET50_PARAMS - 20_000_000, 20_000_000)
    assert round(float(excess) * 100, 1) == 27.8
    (line,) = result.stdout.splitlines()
    assert f"params {RESNET50_PARAMS:,} > 20,000,000 (+27.8%)" in line
    share = round(100 * LAYER4_CONV2 / RESNET50_PARAMS, 1)
    assert f"most from layer4." in line and f"{LAYER4_CONV2:,} ({share}%)" in line
    assert "--max-params 20M" in line
    assert line.startswith(f"{RESNET50}:") and ": error: budget exceeded: " in line


def test_max_params_met_exits_0_and_the_summary_says_so():
    result = run("check", VGG16, "--max-params", "140M")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    summary = result.stderr.splitlines()
    assert summary[0] == "checked 1 spec: 1 valid, 0 invalid (0 errors); budgets: 1 met, 0 exceeded"
    assert summary[1].startswith(f"{VGG16}: budget met: params {VGG16_PARAMS:,} ≤ 140,000,000 (98.8% of it)")
    assert round(100 * VGG16_PARAMS / 140e6, 1) == 98.8


def test_min_rf_reads_the_last_spatial_layer():
    assert run("check", VGG16, "--min-rf", str(VGG16_POOL5_RF)).exit_code == 0
    result = run("check", VGG16, "--min-rf", str(VGG16_POOL5_RF + 1))
    assert result.exit_code == 1
    assert f"receptive field of pool5 {VGG16_POOL5_RF} < {VGG16_POOL5_RF + 1}" in result.stdout


def test_activations_limit_is_exact_to_the_byte(tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL.replace("  activations: 100KiB\n", ""), encoding="utf-8")
    assert run("check", str(spec), "--max-activations", str(SMALL_ACTIVATION_BYTES)).exit_code == 0
    result = run("check", str(spec), "--max-activations", str(SMALL_ACTIVATION_BYTES - 1))
    assert result.exit_code == 1
    assert f"{SMALL_ACTIVATION_BYTES:,} bytes" in result.stdout and "most from conv1 " in result.stdout


def test_memory_limit_is_the_figure_memory_prints():
    shown = json.loads(run("memory", RESNET50, "--batch", "32", "--optimizer", "adam", "--format", "json").stdout)
    total = shown["training"]["total"]
    assert run("check", RESNET50, "--max-memory", str(total), "--batch", "32", "--optimizer", "adam").exit_code == 0
    result = run("check", RESNET50, "--max-memory", str(total - 1), "--batch", "32", "--optimizer", "adam")
    assert result.exit_code == 1
    assert f"training memory at batch 32 (adam) {total:,} bytes" in result.stdout
    inference = shown["inference"]["total"]
    assert run("check", RESNET50, "--max-memory", str(inference), "--batch", "32", "--inference").exit_code == 0
    result = run("check", RESNET50, "--max-memory", str(inference - 1), "--batch", "32", "--inference")
    assert result.exit_code == 1 and f"inference memory at batch 32 {inference:,} bytes" in result.stdout


def test_spec_budget_exceeded_is_located_at_its_key(tmp_path):
    text = SMALL.replace("params: 1M", "params: 1k")
    spec = tmp_path / "small.yaml"
    spec.write_text(text, encoding="utf-8")
    result = run("check", str(spec))
    assert result.exit_code == 1
    line, column = where(text, "params: 1k")
    assert result.stdout.startswith(f"{spec}:{line}:{column}: error: budget exceeded: params {SMALL_PARAMS:,} > 1,000 ")
    assert "budgets: 1 met, 1 exceeded" in result.stderr


def test_a_flag_overrides_the_spec_and_says_so(tmp_path):
    text = SMALL.replace("params: 1M", "params: 1k")
    spec = tmp_path / "small.yaml"
    spec.write_text(text, encoding="utf-8")
    line, column = where(text, "params: 1k")
    met = run("check", str(spec), "--max-params", "1M")
    assert met.exit_code == 0
    assert f"[--max-params, overriding the spec's 1k ({spec}:{line}:{column})]" in met.stderr
    missed = run("check", str(spec), "--max-params", "2k")
    assert missed.exit_code == 1
    assert f"(set by --max-params 2k, overriding the spec's 1k ({spec}:{line}:{column}))" in missed.stdout


def test_spec_memory_budget_with_settings_and_flags_that_adjust_it(tmp_path):
    shown = json.loads(run("memory", RESNET50, "--batch", "8", "--optimizer", "adam", "--format", "json").stdout)
    total = shown["training"]["total"]
    text = open(RESNET50, encoding="utf-8").read() + f"budget:\n  memory: {{training: {total}, batch: 8, optimizer: adam}}\n"
    spec = tmp_path / "r50.yaml"
    spec.write_text(text, encoding="utf-8")
    assert run("check", str(spec)).exit_code == 0
    result = run("check", str(spec), "--batch", "9")  # one sample more: over the limit
    assert result.exit_code == 1
    line, column = where(text, "memory: {")
    assert result.stdout.startswith(f"{spec}:{line}:{column}: error: budget exceeded: training memory at batch 9 (adam)")


def test_every_format_carries_the_budget(tmp_path):
    text = SMALL.replace("params: 1M", "params: 1k")
    spec = tmp_path / "small.yaml"
    spec.write_text(text, encoding="utf-8")
    line, column = where(text, "params: 1k")
    github = run("check", "--format", "github", str(spec))
    assert github.exit_code == 1
    assert github.stdout.startswith(f"::error file={spec},line={line},col={column},title=cnncalc::budget exceeded: ")
    data = json.loads(run("check", "--format", "json", str(spec)).stdout)
    (problem,) = data["files"][0]["problems"]
    assert problem["rule"] == "budget-params" and (problem["line"], problem["column"]) == (line, column)
    budgets = {b["budget"]: b for b in data["files"][0]["budgets"]}
    assert budgets["params"]["value"] == SMALL_PARAMS and budgets["params"]["met"] is False
    assert budgets["activations"]["value"] == SMALL_ACTIVATION_BYTES and budgets["activations"]["met"] is True
    assert budgets["activations"]["limit"] == 100 * 1024


@pytest.mark.parametrize("budget, message, needle", [
    ("{params: 25X}", "'params': '25X' is not a count", "25X"),
    ("{parameters: 25M}", "unknown key 'parameters' in the budget (did you mean 'params'?)", "parameters"),
    ("{activations: 100Mi}", "unknown unit 'Mi'", "100Mi"),
    ("{rf: 2.5}", "'rf' (the least receptive field, in input pixels) must be a positive whole number", "2.5"),
    ("{memory: {batch: 32}}", "'memory' needs 'training: SIZE' or 'inference: SIZE'", "{batch"),
    ("{memory: {training: 8GiB, optimizer: adamm}}", "'optimizer' must be one of sgd, ", "adamm"),
    ("{memory: {training: 8GiB, dtype: float32, mixed: true}}", "'mixed' keeps float32 master weights", "{training"),
    ("[25M]", "the budget must be a mapping of params, macs, activations, memory, rf", "[25M]"),
    ("{params: 0}", "'params' must be positive", "0}"),
])
def test_budget_mistakes_are_located(budget, message, needle):
    text = f"input: [3, 8, 8]\nbudget: {budget}\nlayers: [relu]\n"
    with pytest.raises(SpecError) as caught:
        parse_text(text, "b.yaml")
    (problem,) = caught.value.problems
    assert message in problem.message
    assert (problem.location.line, problem.location.column) == where(text, needle)


def test_a_dtype_that_cannot_train_is_a_budget_error_not_a_crash(tmp_path):
    spec = tmp_path / "q.yaml"
    spec.write_text("input: [3, 8, 8]\ndtype: int8\nbudget: {memory: 1GiB}\nlayers: [relu]\n", encoding="utf-8")
    result = run("check", str(spec))
    assert result.exit_code == 1
    assert "not a training dtype" in result.stdout and result.stdout.startswith(f"{spec}:3:")


def test_the_schema_knows_the_budget():
    import jsonschema
    import yaml

    from cnncalc.schema import spec_schema

    validator = jsonschema.Draft202012Validator(spec_schema())
    accepted = [SMALL, SMALL.replace("params: 1M", "memory: {inference: 2GiB, batch: 4}"),
                SMALL.replace("params: 1M", "params: 25_557_032\n  rf: 200\n  macs: 5G")]
    refused = [SMALL.replace("params: 1M", "parameters: 1M"), SMALL.replace("params: 1M", "params: 1X"),
               SMALL.replace("params: 1M", "memory: {batch: 4}"), SMALL.replace("params: 1M", "rf: 2.5")]
    for text in accepted:
        parse_text(text, "ok.yaml")
        assert validator.is_valid(yaml.safe_load(text)), text
    for text in refused:
        with pytest.raises(SpecError):
            parse_text(text, "bad.yaml")
        assert not validator.is_valid(yaml.safe_load(text)), text
    properties = spec_schema()["properties"]["budget"]["properties"]
    assert set(properties) == {"params", "macs", "activations", "memory", "rf"}
    assert all(p.get("description") for p in properties.values())


def test_the_pre_commit_hook_applies_the_specs_budget(tmp_path):
    from .test_precommit import hook, run_entry

    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL.replace("params: 1M", "params: 1k"), encoding="utf-8")
    done = run_entry(hook("cnncalc-check")["entry"], [str(spec)])
    assert done.returncode == 1
    assert f"error: budget exceeded: params {SMALL_PARAMS:,} > 1,000 " in done.stdout
    spec.write_text(SMALL, encoding="utf-8")
    assert run_entry(hook("cnncalc-check")["entry"], [str(spec)]).returncode == 0


def test_the_docs_quote_what_check_prints():
    import re
    import shlex

    from .conftest import ROOT

    page = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    command, *printed = re.search(r"```text\n\$ (cnncalc check [^\n]+)\n(.*?)```", page, re.S).group(1, 2)
    result = CliRunner().invoke(main, shlex.split(command)[1:])
    assert result.exit_code == 1
    assert (result.stdout + result.stderr).splitlines() == printed[0].splitlines()
