"""Model files through the commands that take two of them: `diff` with --input and --allow-unknown as
`shapes`, `check` and `compare` take them. The models are written byte by byte (tests/test_import_hostile.py)
and their figures worked out by hand."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cnncalc.cli import main

from .test_import_hostile import field, model, node, small_model, tensor, value_info, varint

# The hand-written model as a YAML spec: conv 3→4 (3×3, pad 1) → relu → global average pool on 3×8×8.
SMALL_YAML = "input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3, padding: 1}\n  - relu\n  - globalavgpool\n"


def _diff(*args: str):
    result = CliRunner().invoke(main, ["diff", "--format", "json", *args])
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def _totals(document) -> dict[str, tuple]:
    return {row["key"]: (row["old"], row["new"], row["delta"]) for row in document["totals"]}


def test_diff_a_model_against_its_yaml_spec(tmp_path):
    (tmp_path / "tiny.onnx").write_bytes(small_model())
    (tmp_path / "tiny.yaml").write_text(SMALL_YAML, encoding="utf-8")
    result, document = _diff(str(tmp_path / "tiny.onnx"), str(tmp_path / "tiny.yaml"))
    assert result.exit_code == 0, result.output
    totals = _totals(document)
    assert totals["params"] == (112, 112, 0)  # (3·3·3)·4 + 4
    assert totals["macs"] == (6912, 6912, 0)  # 8·8·4·27


def test_diff_input_applies_to_the_model_only(tmp_path):
    """--input 3x16x16 sets the model's input; the YAML spec keeps its own 3×8×8."""
    (tmp_path / "tiny.onnx").write_bytes(small_model())
    (tmp_path / "tiny.yaml").write_text(SMALL_YAML, encoding="utf-8")
    result, document = _diff(str(tmp_path / "tiny.yaml"), str(tmp_path / "tiny.onnx"), "--input", "3x16x16")
    assert result.exit_code == 0, result.output
    assert _totals(document)["macs"] == (6912, 16 * 16 * 4 * 27, 16 * 16 * 4 * 27 - 6912)
    both_yaml = CliRunner().invoke(main, ["diff", str(tmp_path / "tiny.yaml"), str(tmp_path / "tiny.yaml"),
                                          "--input", "3x16x16"])
    assert both_yaml.exit_code == 2 and "--input is for ONNX models" in both_yaml.output


def _with_unknown_operator() -> bytes:
    """conv 3→4 (3×3, pad 1) → Foo (an operator no one knows; its output's shape in value_info) → relu."""
    pads = field(5, field(1, "pads") + field(8, varint(1) * 4) + field(20, 7))
    graph = (field(1, node("Conv", ["x", "w", "b"], ["c"], "conv", pads)) + field(1, node("Foo", ["c"], ["f"], "foo"))
             + field(1, node("Relu", ["f"], ["y"], "relu")) + field(2, "unknown")
             + field(5, tensor("w", [4, 3, 3, 3])) + field(5, tensor("b", [4]))
             + field(11, value_info("x", [1, 3, 8, 8])) + field(12, value_info("y", [1, 4, 8, 8]))
             + field(13, value_info("f", [1, 4, 8, 8])))
    return model(graph)


def test_diff_allow_unknown(tmp_path):
    (tmp_path / "foo.onnx").write_bytes(_with_unknown_operator())
    (tmp_path / "tiny.yaml").write_text(SMALL_YAML, encoding="utf-8")
    refused = CliRunner().invoke(main, ["diff", str(tmp_path / "foo.onnx"), str(tmp_path / "tiny.yaml")])
    assert refused.exit_code == 1
    assert "unknown operator Foo: 1 node, the first 'foo'" in refused.output and "--allow-unknown" in refused.output
    result, document = _diff(str(tmp_path / "foo.onnx"), str(tmp_path / "tiny.yaml"), "--allow-unknown")
    assert result.exit_code == 0, result.output
    assert _totals(document)["params"] == (112, 112, 0)  # the conv counted, Foo left out
