"""cnncalc among other Unix tools and in CI: folders of specs, standard input, machine formats, streams."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from .cli_harness import run
from .conftest import ROOT, SPECS

VALID = "input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3, padding: 1}\n  - relu\n"


def test_check_of_a_folder_reads_every_yaml_below_it_sorted_hidden_skipped(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "z.yml").write_text(VALID)
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b" / "bad.yaml").write_text("input: [3, 8, 8]\nlayers: [relux]\n")
    (tmp_path / ".git" / "hidden.yaml").write_text("not: a spec\n")
    (tmp_path / "notes.txt").write_text("not read")
    result = run(["check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{tmp_path / 'b' / 'bad.yaml'}:2:")
    assert "checked 3 specs: 2 valid, 1 invalid" in result.stderr
    data = json.loads(run(["check", "--format", "json", str(tmp_path)]).stdout)
    assert [entry["file"] for entry in data["files"]] == [str(tmp_path / "a.yaml"), str(tmp_path / "b" / "bad.yaml"),
                                                         str(tmp_path / "b" / "z.yml")]


def test_check_of_the_shipped_specs_folder_passes():
    result = run(["check", str(SPECS)])
    shipped = len(list(SPECS.glob("*.yaml")))
    assert result.exit_code == 0 and f"checked {shipped} specs: {shipped} valid" in result.stderr


def test_check_of_a_folder_without_specs_exits_1(tmp_path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "a.yaml").write_text(VALID)
    result = run(["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path}: no *.yaml or *.yml file" in result.stderr


def test_compare_reads_a_spec_from_standard_input():
    result = run(["compare", "-", str(SPECS / "vgg11.yaml"), "--format", "json"],
                 stdin=(SPECS / "vgg16.yaml").read_bytes())
    assert result.exit_code == 0, result.output
    specs = json.loads(result.stdout)["specs"]
    assert [s["totals"]["params"] for s in specs] == [138_357_544, 132_863_336]  # torchvision's published counts


def test_compare_as_csv_one_row_per_spec_exact_integers():
    result = run(["compare", str(SPECS / "vgg16.yaml"), str(SPECS / "vgg11.yaml"), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["name"], int(r["totals.params"]), int(r["totals.macs"])) for r in rows] == [
        ("VGG16", 138_357_544, 15_470_264_320), ("VGG11", 132_863_336, 7_609_090_048)]
    stacks = list(csv.DictReader(io.StringIO(run(["compare", "3x3x3", "vs", "7x7", "--channels", "64",
                                                  "--format", "csv"]).stdout)))
    assert [(r["expression"], int(r["params"])) for r in stacks] == [("3x3x3", 27 * 64 * 64), ("7x7", 49 * 64 * 64)]


def test_compare_says_the_shell_expanded_a_star(tmp_path):
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "src").mkdir()
    done = subprocess.run([sys.executable, "-m", "cnncalc", "compare", "3", "README.md", "src", "3x3", "vs", "7x7"],
                          capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          timeout=60)
    assert done.returncode == 2
    assert "the shell probably expanded '*'" in done.stderr and "cnncalc compare '3 * 3x3 vs 7x7'" in done.stderr


def test_a_mistyped_command_gets_a_suggestion():
    result = run(["shape", str(SPECS / "vgg16.yaml")])
    assert result.exit_code == 2 and "Did you mean 'shapes'?" in result.output


def test_streamed_json_and_csv_are_the_documents_in_full(tmp_path):
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_file
    from cnncalc.render import json_
    from cnncalc.render.safe import json_text

    for path in [SPECS / "googlenet.yaml", SPECS / "unet.yaml", ROOT / "tests" / "specs" / "residual.yaml"]:
        report = analyze(parse_file(path))
        whole = json_text(json.dumps(json_.report_dict(report), indent=2, ensure_ascii=False)) + "\n"
        assert run(["shapes", str(path), "--format", "json"]).stdout == whole
        assert "".join(json_.iter_json(report)) == whole
    spec = tmp_path / "long.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - repeat: 1234\n    layers: [relu]\n")
    rows = list(csv.reader(io.StringIO(run(["shapes", str(spec), "--format", "csv"]).stdout)))
    assert len(rows) == 1 + 1234 and rows[-1][1] == "relu1234"
    assert len(json.loads(run(["shapes", str(spec), "--format", "json"]).stdout)["layers"]) == 1234


def test_json_and_csv_are_written_in_pieces_none_near_the_whole(tmp_path):
    # the memory of `shapes --format json/csv` stays near check's (measured by benchmarks/run.py) because no
    # piece written holds more than a batch of layers: with 5,000 layers, none is a tenth of the document
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_text
    from cnncalc.render.csv_ import iter_csv
    from cnncalc.render.json_ import iter_json

    report = analyze(parse_text("input: [3, 8, 8]\nlayers:\n  - repeat: 5000\n    layers: [relu]\n", "long.yaml"))
    for pieces in (list(iter_json(report)), list(iter_csv(report))):
        whole = sum(map(len, pieces))
        assert len(pieces) >= 10 and max(map(len, pieces)) < whole / 9
