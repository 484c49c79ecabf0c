"""`check --format sarif`: valid against the official SARIF 2.1.0 JSON Schema (tests/data), one result per
problem with its rule id, level, message and location relative to the working directory."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import SPECS, TEST_SPECS

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def sarif(*args: str, **kwargs):
    result = CliRunner().invoke(main, ["check", "--format", "sarif", *args], **kwargs)
    log = json.loads(result.stdout)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(log)]
    assert not errors, errors
    return result, log


def test_the_shipped_schema_is_sarif_2_1_0():
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [{"tool": {}}]})  # the schema does refuse


def test_a_valid_spec_is_a_run_without_results():
    result, log = sarif(str(SPECS / "vgg16.yaml"))
    assert result.exit_code == 0
    (run,) = log["runs"]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "cnncalc"
    assert run["results"] == [] and result.stderr == ""


def test_each_problem_is_a_result_with_rule_level_message_and_relative_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "net with space.yaml").write_text(
        "input: [3, 32, 32]\nbudget: {params: 1k}\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n"
        "  - foo: 3\n", encoding="utf-8")
    (tmp_path / "specs" / "keys.yaml").write_text("input: [3, 8, 8]\nlayer: [relu]\n", encoding="utf-8")
    (tmp_path / "specs" / "big.yaml").write_text(
        "input: [3, 32, 32]\nbudget: {params: 1k}\nlayers:\n  - conv: {filters: 64, kernel: 3}\n", encoding="utf-8")
    (tmp_path / "specs" / "floored.yaml").write_text(
        "input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n",
        encoding="utf-8")
    result, log = sarif("specs/net with space.yaml", "specs/keys.yaml", str(tmp_path / "specs" / "big.yaml"),
                        "--floor", "specs/floored.yaml")
    assert result.exit_code == 1
    (run,) = log["runs"]
    found = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"],
              r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in run["results"]]
    assert found == [
        ("unknown-kind", "error", "specs/net%20with%20space.yaml", 5, 5),
        ("unknown-key", "error", "specs/keys.yaml", 2, 1),
        ("missing-key", "error", "specs/keys.yaml", 1, 1),
        ("budget-params", "error", "specs/big.yaml", 2, 10),
        ("floored-size", "warning", "specs/floored.yaml", 3, 5),
    ]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "SRCROOT"
               for r in run["results"])
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["unknown-kind", "unknown-key", "missing-key", "budget-params", "floored-size"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert "params 1,792 > 1,000" in run["results"][3]["message"]["text"]  # (3·3·3)·64 + 64 = 1,792


def test_non_integer_size_and_files_outside_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = TEST_SPECS / "bad_stride.yaml"
    result, log = sarif(str(bad))
    (found,) = log["runs"][0]["results"]
    assert found["ruleId"] == "non-integer-size" and found["properties"] == {"layer": "conv1"}
    location = found["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": bad.resolve().as_uri()}
    assert location["region"] == {"startLine": 4, "startColumn": 5}


def test_standard_input_has_no_file_to_point_at_and_hostile_text_stays_valid():
    text = 'input: [3, 8, 8]\nlayers:\n  - "\\ud800\\x1b[31m"\n'
    result, log = sarif("-", input=text)
    assert result.exit_code == 1
    (found,) = log["runs"][0]["results"]
    assert "locations" not in found and found["level"] == "error"


@pytest.mark.parametrize("spec", ["resnet50.yaml", "googlenet.yaml"])
def test_warnings_are_warnings(spec):
    result, log = sarif(str(SPECS / spec), "--floor")
    assert all(r["level"] == "warning" for r in log["runs"][0]["results"])


def test_notes_are_notes(tmp_path, monkeypatch):
    """An imported model's note (its symbolic batch dimension dropped) is SARIF's level "note", not a warning;
    the log stays valid against the schema."""
    from .test_import_hostile import small_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.onnx").write_bytes(small_model())
    result, log = sarif("tiny.onnx")
    assert result.exit_code == 0
    (found,) = log["runs"][0]["results"]
    assert found["level"] == "note" and "symbolic" in found["message"]["text"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tiny.onnx"
