"""The command line through click's CliRunner: shapes' outputs, the JSON contract, options and exit codes,
export torch, and check over the shipped specs and several files (check's formats and options are in
test_check_cli.py)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import jsonschema
import pytest
from click.testing import CliRunner

from cnncalc import __version__
from cnncalc.cli import main

from .conftest import ROOT, SPECS, TEST_SPECS, doc

VGG16 = str(SPECS / "vgg16.yaml")
FLOORED = str(TEST_SPECS / "floored.yaml")
BAD_STRIDE = str(TEST_SPECS / "bad_stride.yaml")
VGG16_ACTIVATIONS = 15_238_608  # tests/test_engine.py derives it from the lecture's column


def invoke(*args: str, stdin: str | None = None):
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into output by default
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), input=stdin)


def mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB"


# -- shapes -------------------------------------------------------------------------------------------

def test_table_shows_the_vgg16_breakdown():
    result = invoke("shapes", VGG16, "--no-color")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in ("conv 3×3/1, p1, 64", "224×224×64", "224·224·64 = 3.21M", "(3·3·3)·64 + 64 = 1,792",
                     "(7·7·512)·4096 + 4096 = 102,764,544", "212 /32", "Params: 138,357,544",
                     "MACs: 15,470,264,320", f"Activations: {VGG16_ACTIVATIONS:,} values per sample",
                     f"= {mib(4 * VGG16_ACTIVATIONS)} forward; the lecture's rule of thumb for training (×2): "
                     f"{mib(8 * VGG16_ACTIVATIONS)}", "Kept for backward: 15,237,608 values at 4 B + 1,530,368 indices at "
                     "8 B + 8,192 mask at 1 B = 69.8 MiB per sample",
                     "fc layers hold 89.4% of the params"):
        assert expected in out, expected


def test_readme_totals_are_what_the_table_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ cnncalc shapes specs/vgg16.yaml\n", 1)[1].split("```", 1)[0]
    out = invoke("shapes", VGG16, "--no-color").stdout
    quoted = [line for line in block.splitlines() if line.startswith(("Activations:", "MACs:", "Where:"))]
    assert len(quoted) == 3, block  # each of the three totals lines is quoted
    for line in quoted:
        assert line in out.splitlines(), line


CONTRACT = {
    "type": "object",
    "required": ["name", "input", "dtype", "batch", "layers", "totals"],
    "properties": {
        "name": {"type": "string"},
        "input": {"type": "array", "items": {"type": "integer"}},
        "dtype": {"type": "string"},
        "batch": {"type": "integer"},
        "layers": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "kind", "output", "weights", "biases", "params", "trainable", "non_trainable",
                         "activations", "macs", "receptive_field"],
            "properties": {
                "output": {"type": "array", "items": {"type": "integer"}},
                **{key: {"type": "integer"} for key in ("weights", "biases", "params", "trainable", "non_trainable",
                                                        "activations", "macs")},
                "receptive_field": {
                    "type": "object", "required": ["size", "jump", "start"],
                    "properties": {key: {"type": "array", "items": {"type": "integer"}}
                                   for key in ("size", "jump", "start")},
                },
            },
        }},
        "totals": {
            "type": "object",
            "required": ["params", "weights", "biases", "trainable", "non_trainable", "activations",
                         "activation_bytes", "macs"],
            "properties": {key: {"type": "integer"} for key in ("params", "weights", "biases", "trainable",
                                                                "non_trainable", "activations", "activation_bytes",
                                                                "macs")},
        },
    },
}


def test_json_contract():
    result = invoke("shapes", VGG16, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    jsonschema.validate(data, CONTRACT)
    assert (data["name"], data["input"], data["dtype"], data["batch"]) == ("VGG16", [3, 224, 224], "float32", 1)
    conv1 = data["layers"][0]
    assert {key: conv1[key] for key in ("name", "kind", "output", "weights", "biases", "params", "trainable",
                                        "non_trainable", "activations", "macs")} == {
        "name": "conv1", "kind": "conv", "output": [64, 224, 224], "weights": 1728, "biases": 64, "params": 1792,
        "trainable": 1792, "non_trainable": 0, "activations": 224 * 224 * 64, "macs": 224 * 224 * 64 * 27}
    field = conv1["receptive_field"]
    assert (field["size"], field["jump"], field["start"]) == ([3, 3], [1, 1], [-1, -1])
    pool5 = next(layer for layer in data["layers"] if layer["name"] == "pool5")
    assert pool5["receptive_field"]["size"] == [212, 212] and pool5["receptive_field"]["jump"] == [32, 32]
    totals = data["totals"]
    assert totals["params"] == 138_357_544 == totals["weights"] + totals["biases"]
    assert totals["macs"] == 15_470_264_320
    assert totals["activations"] == VGG16_ACTIVATIONS
    assert totals["activation_bytes"] == 4 * VGG16_ACTIVATIONS
    assert sum(layer["params"] for layer in data["layers"]) == totals["params"]


def test_json_batchnorm_counts():
    data = json.loads(invoke("shapes", str(TEST_SPECS / "every_kind_3d.yaml"), "--format", "json").stdout)
    bn = next(layer for layer in data["layers"] if layer["kind"] == "batchnorm")
    assert (bn["weights"], bn["biases"], bn["trainable"], bn["non_trainable"]) == (16, 16, 32, 32)
    assert data["totals"]["non_trainable"] == 32


def test_csv_has_one_exact_row_per_layer():
    result = invoke("shapes", VGG16, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 39  # 13 conv + 15 relu + 5 pool + 3 fc + 2 dropout + softmax
    assert rows[0]["name"] == "conv1" and rows[0]["output"] == "64x224x224" and rows[0]["params"] == "1792"
    fc1 = next(row for row in rows if row["name"] == "fc1")
    assert (fc1["weights"], fc1["macs"]) == ("102760448", "102760448")
    assert sum(int(row["params"]) for row in rows) == 138_357_544
    assert sum(int(row["macs"]) for row in rows) == 15_470_264_320


def test_markdown_is_a_pipe_table_with_totals():
    out = invoke("shapes", VGG16, "--format", "markdown").stdout
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| # | name | layer | output | activations | params | MACs | RF /jump |"
    assert len(table) == 2 + 39
    assert "| 1 | conv1 | conv 3×3/1, p1, 64 | 224×224×64 | 224·224·64 = 3.21M | (3·3·3)·64 + 64 = 1,792 |" in out
    assert "- MACs: 15,470,264,320 (15.5G) multiply-accumulates per sample" in out


@pytest.mark.parametrize(("dtype", "size"), [("float16", 2), ("float64", 8), ("int8", 1)])
def test_dtype_changes_the_bytes(dtype, size):
    data = json.loads(invoke("shapes", VGG16, "--format", "json", "--dtype", dtype).stdout)
    assert data["dtype"] == dtype
    assert data["totals"]["activation_bytes"] == size * VGG16_ACTIVATIONS
    assert data["totals"]["param_bytes"] == size * 138_357_544
    table = invoke("shapes", VGG16, "--dtype", dtype, "--no-color").stdout
    assert f"= {mib(size * VGG16_ACTIVATIONS)} forward" in table


def test_batch_multiplies_the_memory_and_macs():
    data = json.loads(invoke("shapes", VGG16, "--format", "json", "--batch", "8").stdout)
    totals = data["totals"]
    assert data["batch"] == 8
    assert totals["activation_bytes"] == 4 * VGG16_ACTIVATIONS  # per sample, unchanged
    assert totals["batch_activation_bytes"] == 8 * 4 * VGG16_ACTIVATIONS
    assert totals["batch_rule_of_thumb_bytes"] == 2 * 8 * 4 * VGG16_ACTIVATIONS
    memory = json.loads(invoke("memory", VGG16, "--format", "json", "--batch", "8").stdout)
    assert totals["batch_training_activation_bytes"] == memory["kept_for_backward"]  # one memory story
    assert totals["batch_macs"] == 8 * 15_470_264_320
    table = invoke("shapes", VGG16, "--batch", "8", "--no-color").stdout
    assert f"At batch 8: {mib(8 * 4 * VGG16_ACTIVATIONS)} forward, {mib(totals['batch_training_activation_bytes'])} " \
        "kept for backward" in table


def test_si_switches_to_decimal_units():
    binary = invoke("shapes", VGG16, "--no-color").stdout
    decimal = invoke("shapes", VGG16, "--no-color", "--si").stdout
    assert f"= {4 * VGG16_ACTIVATIONS / 1e6:.1f} MB forward" in decimal  # 61.0 MB
    assert f"= {mib(4 * VGG16_ACTIVATIONS)} forward" in binary  # 58.1 MiB
    assert "MiB" not in decimal and " MB" not in binary


def test_shapes_of_an_invalid_spec_prints_located_errors():
    result = invoke("shapes", BAD_STRIDE)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"{BAD_STRIDE}:4:5: error: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer; "
                             "padding 1 gives 3; stride 2 gives 3 (or write 'round: floor' on the layer, or pass "
                             "--floor, to floor it as frameworks do)\n")


def test_documented_error_example_is_what_check_prints(monkeypatch):
    readme = doc("conventions.md")
    quoted = re.findall(r"(tests/specs/bad_stride\.yaml:\d+:\d+: error: [^`\n]+)", readme)
    monkeypatch.chdir(ROOT)
    printed = invoke("check", "tests/specs/bad_stride.yaml").stdout.splitlines()
    assert quoted and all([line] == printed for line in quoted)


def test_floor_warns_for_every_layer_that_drops_pixels():
    assert invoke("shapes", FLOORED).exit_code == 1
    result = invoke("shapes", FLOORED, "--floor", "--no-color")
    assert result.exit_code == 0
    warnings = [line for line in result.stdout.splitlines() if ": warning: " in line]
    assert warnings == [
        f"{FLOORED}:5:5: warning: conv 'conv1': (34 − 3 + 2·0)/2 + 1 = 16.5 floored to 16: the last 1 input pixel "
        "(padding included) never reaches an output",
        f"{FLOORED}:7:5: warning: maxpool 'pool1': (16 − 3 + 2·0)/3 + 1 = 5.33 floored to 5: the last 1 input pixel "
        "(padding included) never reaches an output",
    ]
    data = json.loads(invoke("shapes", FLOORED, "--floor", "--format", "json").stdout)
    assert [w["line"] for w in data["warnings"]] == [5, 7]
    assert data["layers"][-1]["output"] == [4, 5, 5]


def test_names_are_shown_as_written_not_as_markup():
    """Rich reads '[/b]' as a closing tag; the table must print it, not crash on it (exit 3)."""
    text = 'name: "[/b]"\ninput: [3, 8, 8]\nlayers:\n  - {name: "[bold]y", relu}\n'
    result = invoke("shapes", "-", "--no-color", stdin=text)
    assert result.exit_code == 0, result.output
    assert "[/b]: input 8×8×3" in result.stdout and "[bold]y" in result.stdout
    result = invoke("shapes", "-", "--format", "markdown", stdin=text)  # Markdown escapes its brackets
    assert result.exit_code == 0, result.output
    assert "\\[/b\\]: input 8×8×3" in result.stdout and "\\[bold\\]y" in result.stdout


def test_shapes_reads_standard_input():
    text = "input: [3, 32, 32]\nlayers:\n  - conv: {filters: 10, kernel: 5, padding: 2}\n"
    data = json.loads(invoke("shapes", "-", "--format", "json", stdin=text).stdout)
    assert data["layers"][0]["output"] == [10, 32, 32] and data["layers"][0]["params"] == 760


# -- check --------------------------------------------------------------------------------------------

def test_check_passes_on_every_shipped_spec():
    shipped = sorted(str(p) for p in SPECS.glob("*.yaml"))
    result = invoke("check", *shipped)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"checked {len(shipped)} specs: {len(shipped)} valid, 0 invalid" in result.stderr


def test_check_reports_every_error_in_every_file(tmp_path):
    second = tmp_path / "two_errors.yaml"
    second.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {filters: yes, kernel: 3}\n  - rleu\n", encoding="utf-8")
    result = invoke("check", BAD_STRIDE, VGG16, str(second))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(": error: ")[0] for line in lines] == [f"{BAD_STRIDE}:4:5", f"{second}:3:21", f"{second}:4:5"]
    assert "(did you mean 'relu'?)" in lines[2]
    assert "checked 3 specs: 1 valid, 2 invalid (3 errors)" in result.stderr


@pytest.mark.parametrize("args", [  # check's own are in test_check_cli.py
    ("shapes", "no/such/spec.yaml"),
    ("shapes", VGG16, "--format", "xml"),
    ("shapes", VGG16, "--batch", "0"),
    ("shapes", VGG16, "--dtype", "float8"),
    ("shapes", VGG16, "--no-such-option"),
    ("export", "onnx", VGG16),
    ("export", "torch", "no/such/spec.yaml"),
])
def test_usage_errors_exit_2(args):
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_bug_is_one_line_and_exit_3(monkeypatch):
    import cnncalc.engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cnncalc.engine, "analyze", broken)
    result = invoke("shapes", VGG16)
    assert result.exit_code == 3
    assert result.stderr.startswith("cnncalc: internal error (RuntimeError: boom); this is a bug in cnncalc")
    assert "Traceback" not in result.stderr
    debug = invoke("--debug", "shapes", VGG16)
    assert debug.exit_code == 3 and "Traceback" in debug.stderr


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "cnncalc", "check", "specs/vgg16.yaml"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr



def test_help_lists_every_command_with_its_summary():
    from cnncalc.cli import COMMANDS

    result = invoke("--help")
    assert result.exit_code == 0
    listed = re.findall(r"^  (\w+)  +\S", result.stdout.split("Commands:")[1], flags=re.M)
    assert listed == sorted(COMMANDS) == ["check", "compare", "diff", "export", "fit", "import", "layers", "memory",
                                          "schema", "shapes",
                                          "solve"]
    for name in COMMANDS:
        assert main.get_command(None, name).name == name  # each module's command is the one the table names


def test_unknown_command_is_a_usage_error_with_a_hint():
    result = invoke("shape", VGG16)
    assert result.exit_code == 2 and "No such command 'shape'" in result.stderr


# -- export torch -------------------------------------------------------------------------------------

def test_export_torch_prints_the_module():
    result = invoke("export", "torch", str(SPECS / "alexnet.yaml"))
    assert result.exit_code == 0
    compile(result.stdout, "alexnet_export.py", "exec")
    readme = doc("commands/export.md")
    example = readme.split("$ cnncalc export torch specs/alexnet.yaml\n", 1)[1].split("```", 1)[0]
    shown = [line for line in example.splitlines() if line.strip() and line.strip() != "..."]
    assert shown and all(line in result.stdout.splitlines() for line in shown)


def test_export_torch_refuses_an_invalid_spec_unless_floored():
    result = invoke("export", "torch", FLOORED)
    assert result.exit_code == 1
    assert re.match(rf"{re.escape(FLOORED)}:5:5: error: conv 'conv1'", result.stderr)
    result = invoke("export", "torch", FLOORED, "--floor")
    assert result.exit_code == 0
    assert result.stderr.count(": warning: ") == 2
    assert "self.conv1 = nn.Conv2d(3, 4, kernel_size=3, stride=2)  # (N, 4, 16, 16)" in result.stdout
