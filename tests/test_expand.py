"""Unrolling, naming and `from:` resolution, checked on small specs whose answers are known by hand."""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import TEST_SPECS


def names_and_inputs(text: str):
    spec = parse_text(text, "t.yaml")
    return [(layer.name, layer.inputs, layer.block) for layer in spec.layers]


def errors(text: str):
    with pytest.raises(SpecError) as caught:
        analyze(parse_text(text, "t.yaml"))
    return [(p.location.line, p.location.column, p.message) for p in caught.value.errors]


def test_blocks_scope_names_and_chain_inputs():
    layers = {name: (inputs, block) for name, inputs, block in
              names_and_inputs((TEST_SPECS / "residual.yaml").read_text())}
    # the first block of the group: its layers are scoped, its merge takes both branch ends
    assert layers["stage.res1.conv1"] == (("input",), ("stage", "stage.res1"))
    assert layers["stage.res1.add1"][0] == ("stage.res1.conv2", "input")
    assert layers["stage.res2.conv1"][0] == ("stage.res1.relu2",)
    assert layers["stage.res2.add1"][0] == ("stage.res2.conv2", "stage.res1.relu2")  # `input` of the 2nd block
    # a group or block name stands for its output
    assert layers["conv1"][0] == ("stage.res1.relu2",)
    assert layers["concat1"][0] == ("stage.res2.relu2", "conv1")


def test_residual_spec_shapes_and_params():
    report = analyze(parse_file(TEST_SPECS / "residual.yaml"))
    by_name = {layer.name: layer for layer in report.layers}
    assert by_name["stage.res1.add1"].output_shape == (8, 16, 16)
    assert by_name["concat1"].output_shape == (12, 16, 16)  # 8 + 4 channels
    # two blocks of two 3×3 convs 8→8 with bias: 4·(3·3·8·8 + 8); one 1×1 conv 8→4: 8·4 + 4
    assert report.totals.params == 4 * (3 * 3 * 8 * 8 + 8) + 8 * 4 + 4
    stage = next(g for g in report.groups if g.name == "stage")
    assert stage.params == 4 * (3 * 3 * 8 * 8 + 8)
    assert (stage.first_index, stage.last_index, stage.layer_count) == (1, 10, 10)  # 5 layers a block


def test_unnamed_repeat_suffixes_explicit_names_and_continues_counters():
    layers = names_and_inputs(
        "input: [1, 8]\nlayers:\n  - repeat: 2\n    layers: [{fc: 4, name: hidden}, relu]\n  - fc: 2\n")
    assert [name for name, _, _ in layers] == ["hidden_1", "relu1", "hidden_2", "relu2", "fc1"]


def test_named_repeat_iterations_are_scopes():
    layers = names_and_inputs(
        "input: [1, 8]\nlayers:\n  - repeat: 2\n    name: mlp\n    layers: [fc: 4, relu]\n")
    assert [(name, block) for name, _, block in layers] == [
        ("mlp.1.fc1", ("mlp", "mlp.1")), ("mlp.1.relu1", ("mlp", "mlp.1")),
        ("mlp.2.fc1", ("mlp", "mlp.2")), ("mlp.2.relu1", ("mlp", "mlp.2"))]


def test_lone_block_in_named_repeat_takes_the_iteration_scope():
    layers = names_and_inputs(
        "input: [4, 8, 8]\nblocks:\n  unit:\n    layers: [conv: {filters: 4, kernel: 1}]\n"
        "layers:\n  - repeat: 2\n    name: stage\n    layers: [unit]\n")
    assert [name for name, _, _ in layers] == ["stage.1.conv1", "stage.2.conv1"]


def test_block_parameters_defaults_and_expressions():
    layers = parse_text(
        "input: [16, 8, 8]\nblocks:\n  expand:\n    params: {cin: null, t: 6}\n"
        "    layers: [conv: {filters: $cin * $t, kernel: 1}]\n"
        "layers:\n  - expand: {cin: 16}\n  - expand: {cin: 96, t: 1}\n", "t.yaml").layers
    assert [layer.params["filters"] for layer in layers] == [96, 96]


def test_located_errors_in_blocks_are_reported_once():
    problems = errors(
        "input: [4, 8, 8]\nblocks:\n  unit:\n    params: {f: null}\n    layers: [conv: {filters: $f, kernal: 1}]\n"
        "layers:\n  - unit: {f: 4}\n  - unit: {f: 8}\n")
    assert problems == [(5, 34, "conv has no parameter 'kernal' (did you mean 'kernel'?); its parameters: "
                                "filters, kernel, stride, padding, dilation, groups, bias, round"),
                        (5, 14, "conv needs 'kernel' (filter size F, one int or one per spatial dim)")]


def test_missing_block_argument_and_unknown_block_parameter():
    problems = errors("input: [4, 8, 8]\nblocks:\n  unit:\n    params: {f: null}\n"
                      "    layers: [conv: {filters: $f, kernel: 1}]\nlayers:\n  - unit: {g: 4}\n")
    assert (7, 12, "block 'unit' has no parameter 'g'; its parameters: f") in problems
    assert (7, 5, "block 'unit' needs 'f'") in problems


def test_expression_outside_a_block_is_located():
    assert errors("input: [4, 8, 8]\nlayers:\n  - conv: {filters: $f, kernel: 1}\n") == [
        (3, 21, "'$f' refers to a block parameter, but this is not inside a block definition")]


def test_recursive_block_is_refused():
    problems = errors("input: [4, 8, 8]\nblocks:\n  a:\n    layers: [b]\n  b:\n    layers: [a]\nlayers:\n  - a\n")
    assert any("uses itself (through a → b → a)" in message for _, _, message in problems)


def test_forward_reference_and_unknown_name():
    problems = errors("input: [4, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 1, name: a}\n"
                      "  - relu:\n    from: b\n  - conv: {filters: 4, kernel: 1, name: b}\n"
                      "  - relu:\n    from: aa\n")
    assert (5, 11, "'b' is defined later, at line 6; a layer can only take inputs from layers above it "
                   "(which also rules out cycles)") in problems
    assert (8, 11, "no layer or group named 'aa' above this point (did you mean 'a'?)") in problems


def test_unused_output_is_a_warning():
    report = analyze(parse_text("input: [4, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 1, name: a}\n"
                                "  - conv: {filters: 4, kernel: 1, name: b, from: input}\n", "t.yaml"))
    assert [(w.location.line, w.message) for w in report.warnings] == [
        (3, "the output of 'a' is never used; take it with 'from:' or remove the layer")]


def test_duplicate_names_are_refused_with_the_first_line():
    problems = errors("input: [4, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 1, name: a}\n"
                      "  - relu: null\n    name: a\n")
    assert (5, 11, "the name 'a' is already used at line 3; names must be unique") in problems


UNIT = ("input: [4, 8, 8]\nblocks:\n  b:\n    params: {f: null}\n    layers: [conv: {filters: $f, kernel: 1}, relu]\n"
        "layers:\n")


def test_a_block_alone_in_an_unnamed_repeat_is_one_instance_per_iteration():
    layers = names_and_inputs(UNIT + "  - name: stage\n    layers:\n      - repeat: 2\n        layers: [b: {f: 4}]\n")
    assert [name for name, _, _ in layers] == ["stage.b1.conv1", "stage.b1.relu1", "stage.b2.conv1", "stage.b2.relu1"]


def test_a_block_alone_in_a_group_keeps_its_own_name():
    layers = names_and_inputs(UNIT + "  - name: g\n    layers: [b: {f: 4}]\n")
    assert [name for name, _, _ in layers] == ["g.b1.conv1", "g.b1.relu1"]
