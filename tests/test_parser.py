"""The parser: every mistake a located problem (line and column asserted), names, repeats, and no
input, however broken, escaping as anything but a SpecError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.engine import analyze
from cnncalc.expand import MAX_LAYERS
from cnncalc.parser import MAX_NESTING, parse_bytes, parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import SPECS, TEST_SPECS

HEAD = "input: [3, 8, 8]\nlayers:\n"


def problems(text: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem the text produces."""
    with pytest.raises(SpecError) as caught:
        parse_text(text, "t.yaml")
    return [(p.location.line, p.location.column, p.message) for p in caught.value.problems]


def only_problem(text: str) -> tuple[int, int, str]:
    (problem,) = problems(text)
    return problem


def names(text: str) -> list[str]:
    return [layer.name for layer in parse_text(text, "t.yaml").layers]


# -- kinds and parameters -----------------------------------------------------------------------------

def test_unknown_kind_suggests_the_nearest():
    line, column, message = only_problem(HEAD + "  - conv: {filters: 4, kernel: 3}\n  - rleu\n")
    assert (line, column) == (4, 5)
    assert message.startswith("unknown layer kind 'rleu' (did you mean 'relu'?); known kinds: ")
    assert ", conv, " in message and ", relu, " in message


def test_unknown_kind_key_suggests_the_nearest():
    assert only_problem(HEAD + "  - cnov: {filters: 4, kernel: 3}\n") == (
        3, 5, "unknown layer kind or key 'cnov' (did you mean 'conv'?)")


def test_unknown_parameter_suggests_the_nearest():
    found = problems(HEAD + "  - conv: {filters: 4, kernal: 3}\n")
    assert found[0][:2] == (3, 24)
    assert found[0][2].startswith("conv has no parameter 'kernal' (did you mean 'kernel'?); its parameters: filters, kernel")
    assert found[1] == (3, 5, "conv needs 'kernel' (filter size F, one int or one per spatial dim)")


def test_boolean_where_a_count_belongs():
    assert only_problem(HEAD + "  - conv: {filters: yes, kernel: 3}\n") == (
        3, 21, "conv 'filters' must be a whole number, not the boolean yes; 'yes' is a boolean in YAML")


def test_float_kernel():
    assert only_problem(HEAD + "  - conv: {filters: 4, kernel: 3.0}\n") == (
        3, 32, "conv 'kernel' must be a whole number, not the float 3.0; write it without a decimal point")


def test_fractional_kernel():
    assert only_problem(HEAD + "  - conv: {filters: 4, kernel: 2.5}\n") == (
        3, 32, "conv 'kernel' must be a whole number, not the float 2.5")


def test_quoted_number():
    assert only_problem(HEAD + '  - conv: {filters: 4, kernel: "3"}\n') == (
        3, 32, "conv 'kernel' must be a whole number, not the text '3'; remove the quotes")


def test_missing_required_parameter():
    assert only_problem(HEAD + "  - conv: {filters: 4}\n") == (
        3, 5, "conv needs 'kernel' (filter size F, one int or one per spatial dim)")


def test_bare_kind_missing_its_required_parameters():
    """'- conv' alone once reached the kind without its parameters (a KeyError, exit 3)."""
    assert problems(HEAD + "  - conv\n") == [
        (3, 5, "conv needs 'filters' and 'kernel'; write 'conv: {filters: ..., kernel: ...}'")]
    assert problems(HEAD + "  - fc\n") == [(3, 5, "fc needs 'units'; write 'fc: {units: ...}'")]


def test_duplicate_parameter():
    assert only_problem(HEAD + "  - conv: {filters: 4, kernel: 3, filters: 8}\n") == (
        3, 35, "duplicate key 'filters' in conv's parameters (first at line 3); keep one")


def test_duplicate_spec_key():
    assert only_problem("input: [3, 8, 8]\ninput: [3, 9, 9]\nlayers:\n  - relu\n") == (
        2, 1, "duplicate key 'input' in the spec (first at line 1); keep one")


@pytest.mark.parametrize(("layer", "column", "message"), [
    ("conv: {filters: 0, kernel: 3}", 21, "conv 'filters' must be positive, got 0"),
    ("conv: {filters: 4, kernel: -3}", 32, "conv 'kernel' must be positive, got -3"),
    ("conv: {filters: 4, kernel: 3, stride: [1, 0]}", 47, "conv 'stride' must be positive, got 0"),
    ("conv: {filters: 4, kernel: 3, padding: -1}", 44, "conv 'padding' must be zero or more, got -1"),
    ("maxpool: 0", 14, "maxpool 'kernel' must be positive, got 0"),
])
def test_zero_and_negative_sizes(layer, column, message):
    assert only_problem(HEAD + f"  - {layer}\n") == (3, column, message)


def test_zero_input_size():
    assert only_problem("input: [3, 0, 8]\nlayers:\n  - relu\n") == (1, 12, "an 'input' size must be positive, got 0")


def test_input_must_be_a_list_of_up_to_three_spatial_sizes():
    message = "'input' must be a list: channels, then 1, 2 or 3 spatial sizes, e.g. [3, 224, 224]"
    assert only_problem("input: [3, 8, 8, 8, 8]\nlayers:\n  - relu\n") == (1, 8, message)
    assert only_problem("input: 3\nlayers:\n  - relu\n") == (1, 8, message)


def test_too_many_per_dim_values():
    assert only_problem(HEAD + "  - conv: {filters: 4, kernel: [1, 1, 1, 1]}\n") == (
        3, 32, "conv 'kernel' takes one int or one per spatial dim (1 to 3), got 4 values")


def test_padding_word_suggests_same():
    line, column, message = only_problem(HEAD + "  - conv: {filters: 4, kernel: 3, padding: sam}\n")
    assert (line, column) == (3, 44)
    assert message.endswith("not 'sam' (did you mean 'same'?)")


def test_probability_out_of_range():
    assert only_problem(HEAD + "  - dropout: 1.5\n") == (
        3, 14, "dropout 'p' is a probability: at least 0 and less than 1, got 1.5")


def test_parameters_for_a_kind_without_any():
    assert only_problem(HEAD + "  - relu: 3\n") == (3, 11, "relu takes no parameters; write just '- relu'")


def test_two_kinds_in_one_layer():
    assert only_problem(HEAD + "  - conv: {filters: 4, kernel: 3}\n    relu:\n") == (
        4, 5, "one layer has two kinds, 'conv' and 'relu'; give each its own '- ' list item")


def test_empty_layer_and_nameless_layer():
    no_kind = "this layer has no kind; add one such as 'conv: {filters: 64, kernel: 3}'"
    assert only_problem(HEAD + "  - {}\n") == (3, 5, no_kind)
    assert only_problem(HEAD + "  - {name: a}\n") == (3, 5, no_kind)
    assert problems(HEAD + "  - {1: relu}\n")[0] == (3, 6, "a key in a layer must be a plain name, not the int 1")


def test_every_problem_is_reported_in_one_pass():
    found = problems(HEAD + "  - conv: {filters: yes, kernel: 3.0}\n  - rleu\n  - maxpool: {kernal: 2}\n"
                     "dtype: float23\n")
    assert [(line, column) for line, column, _ in found] == [(6, 8), (3, 21), (3, 34), (4, 5), (5, 15), (5, 5)]


def test_parameters_written_alike_keep_each_layers_own_locations():
    # values and whole parameter mappings read once are looked up again; the locations are each layer's own
    spec = parse_text(HEAD + "  - conv: {filters: 4, kernel: 1}\n  - conv: {filters: 4, kernel: 1}\n"
                             "  - fc: 10\n  - conv: {kernel: 1, filters: 4}\n  - fc: 10\n", "t.yaml")
    assert [dict(layer.params) for layer in spec.layers] == [{"filters": 4, "kernel": 1}] * 2 + [{"units": 10}] + [
        {"kernel": 1, "filters": 4}, {"units": 10}]
    assert [list(layer.params) for layer in spec.layers][3] == ["kernel", "filters"]
    assert [layer.location[1:] for layer in spec.layers] == [(3, 5), (4, 5), (5, 5), (6, 5), (7, 5)]
    assert [{name: where[1:] for name, where in layer.param_locations.items()} for layer in spec.layers] == [
        {"filters": (3, 21), "kernel": (3, 32)}, {"filters": (4, 21), "kernel": (4, 32)}, {"units": (5, 9)},
        {"kernel": (6, 20), "filters": (6, 32)}, {"units": (7, 9)}]


def test_mistakes_written_alike_are_each_reported():
    # a mapping with a mistake is never remembered as read fine: every copy of it is reported, wherever it is
    for layer in ("conv: {filters: 4, kernel: 1, kernal: 1}", "conv: {filters: 4, filters: 4, kernel: 1}",
                  "conv: {filters: 4, kernel: 1.5}", "conv: {filters: 4}", "conv: {filters: 4, kernel: [1, 0]}"):
        found = problems(HEAD + f"  - {layer}\n  - {layer}\n")
        assert [line for line, _, _ in found] == [3] * (len(found) // 2) + [4] * (len(found) // 2) and found
    # the second layer is named too (a mapping holding 'name' is never remembered as parameters alone)
    assert problems(HEAD + "  - conv: {filters: 4, kernel: 1, name: a}\n" * 2) == [
        (4, 41, "the name 'a' is already used at line 3; names must be unique")]
    good, bad = "conv: {filters: 4, kernel: 1}", "conv: {filters: 4, kernel: 0}"
    assert problems(HEAD + f"  - {good}\n  - {bad}\n  - {good}\n  - {bad}\n") == [
        (4, 32, "conv 'kernel' must be positive, got 0"), (6, 32, "conv 'kernel' must be positive, got 0")]


def test_block_parameters_are_read_per_use_among_remembered_values():
    spec = parse_text("input: [3, 8, 8]\nblocks:\n  unit:\n    params: {f: null}\n"
                      "    layers: [conv: {filters: $f, kernel: 1}, conv: {filters: 8, kernel: 1}]\n"
                      "layers:\n  - unit: {f: 8}\n  - unit: {f: 16}\n  - conv: {filters: 8, kernel: 1}\n", "t.yaml")
    assert [layer.params["filters"] for layer in spec.layers] == [8, 8, 16, 8, 8]
    assert problems("input: [3, 8, 8]\nblocks:\n  unit:\n    params: {f: null}\n"
                    "    layers: [conv: {filters: $f, kernel: 1}]\n"
                    "layers:\n  - unit: {f: 8}\n  - unit: {f: 0}\n") == [
        (5, 30, "conv 'filters' must be positive, got 0; block 'unit' as used at t.yaml:8:5")]  # the use that gave 0


def test_unknown_dtype_suggests_the_nearest():
    line, column, message = only_problem("input: [3, 8, 8]\ndtype: float23\nlayers:\n  - relu\n")
    assert (line, column) == (2, 8)
    assert message.endswith("not the text 'float23' (did you mean 'float32'?)")


def test_unknown_spec_key_suggests_the_nearest():
    found = problems("input: [3, 8, 8]\nlayer:\n  - relu\n")
    assert found[0] == (2, 1, "unknown key 'layer' in the spec (did you mean 'layers'?); a spec has name, input, dtype, blocks, layers, budget")


# -- whole documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_spec(text):
    assert only_problem(text) == (1, 1, "the spec is empty; it needs 'input:' and 'layers:'")


def test_empty_layer_list():
    assert only_problem("input: [3, 8, 8]\nlayers: []\n") == (2, 9, "'layers' is empty; add at least one layer")


def test_spec_that_is_not_a_mapping():
    assert only_problem("- relu\n") == (1, 1, "a spec is a mapping with 'input:' and 'layers:', not a list")


def test_invalid_yaml_points_at_the_problem_and_at_what_is_unclosed():
    """The missing '}' is noticed at the end of the input; the message says where the '{' was.
    (PyYAML's own wording in between differs between its C and Python loaders.)"""
    line, column, message = only_problem("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3\n  - relu\n")
    assert (line, column) == (5, 1)
    assert message.startswith("invalid YAML: while parsing a flow mapping ")
    assert message.endswith(" (the flow mapping starts at line 3, column 11)")


def test_tab_indentation_gets_a_hint():
    line, column, message = only_problem("input: [3, 8, 8]\nlayers:\n\t- relu\n")
    assert (line, column) == (3, 1)
    assert message.startswith("invalid YAML: ") and message.endswith("; YAML indents with spaces, not tabs")


def test_non_utf8_bytes():
    with pytest.raises(SpecError) as caught:
        parse_bytes(b"input: [3, 8, 8]\nlayers:\n  - r\xffelu\n", "t.yaml")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (3, 6)
    assert problem.message == "byte 0xff is not UTF-8; save the file as UTF-8"


def test_utf8_byte_order_mark_is_accepted():
    assert [layer.kind for layer in parse_bytes(b"\xef\xbb\xbfinput: [3, 8, 8]\nlayers:\n  - relu\n", "t.yaml").layers] == ["relu"]


@pytest.mark.parametrize(("text", "line", "column", "tag"), [
    (HEAD + "  - !!python/object:os.system {}\n", 3, 5, "!!python/object:os.system"),
    ("input: !!python/object/apply:os.system ['echo hi']\nlayers:\n  - relu\n", 1, 8, "!!python/object/apply:os.system"),
    ("name: !custom x\n" + HEAD + "  - relu\n", 1, 7, "!custom"),
])
def test_application_tags_are_refused(text, line, column, tag):
    assert only_problem(text) == (line, column, f"the YAML tag '{tag}' is not allowed in a spec; remove it")


def test_anchors_and_aliases_reuse_a_layer():
    assert names(HEAD + "  - &c {conv: {filters: 3, kernel: 1}}\n  - *c\n") == ["conv1", "conv2"]


def test_a_spec_too_large_to_expand_is_refused():
    line, column, message = only_problem(HEAD + "  - repeat: 1000\n    layers:\n      - repeat: 1001\n"
                                                "        layers: [relu]\n")
    assert (line, column) == (3, 5)
    assert message == f"the spec expands to more than {MAX_LAYERS:,} layers; cnncalc refuses specs that large"


def nested_repeats(depth: int) -> str:
    text, indent = HEAD, "  "
    for _ in range(depth):
        text += f"{indent}- repeat: 1\n{indent}  layers:\n"
        indent += "    "
    return text + f"{indent}- relu\n"


def test_repeat_nesting_is_limited():
    """32 nested levels are read; the 33rd block's list (its first item on line 3 + 2·33, after 2 + 4·33 spaces
    and '- ') is refused. 400 levels once overflowed Python's stack (exit 3)."""
    assert names(nested_repeats(MAX_NESTING)) == ["relu1"]
    assert only_problem(nested_repeats(400)) == (
        69, 135, f"layer lists (repeat blocks, groups, branches, blocks) nest more than {MAX_NESTING} deep here; "
                 "cnncalc refuses deeper nesting")


def test_missing_file():
    with pytest.raises(SpecError) as caught:
        parse_file(TEST_SPECS / "no_such_spec.yaml")
    (problem,) = caught.value.problems
    assert problem.message.startswith("cannot read: ")


# -- names and repeats --------------------------------------------------------------------------------

def test_automatic_names_count_per_kind():
    text = HEAD + ("  - conv: {filters: 4, kernel: 1}\n  - relu\n  - maxpool: 2\n  - conv: {filters: 4, kernel: 1}\n"
                   "  - avgpool: 2\n  - batchnorm\n  - flatten\n  - fc: 3\n  - leakyrelu\n  - dropout\n  - softmax\n")
    assert names(text) == ["conv1", "relu1", "pool1", "conv2", "pool2", "bn1", "flatten1", "fc1", "relu2",
                           "dropout1", "softmax1"]


def test_each_layer_reads_the_one_before():
    spec = parse_text(HEAD + "  - conv: {filters: 4, kernel: 1}\n  - relu\n  - {name: head, fc: 2}\n", "t.yaml")
    assert [layer.inputs for layer in spec.layers] == [("input",), ("conv1",), ("relu1",)]


def test_automatic_names_skip_names_given_explicitly():
    assert names(HEAD + "  - conv: {filters: 4, kernel: 1}\n  - {name: conv1, relu}\n") == ["conv2", "conv1"]


def test_repeat_unrolls_and_suffixes_given_names():
    spec = parse_text(HEAD + "  - repeat: 2\n    layers:\n      - {name: c, conv: {filters: 4, kernel: 1}}\n"
                             "      - relu\n", "t.yaml")
    assert [layer.name for layer in spec.layers] == ["c_1", "relu1", "c_2", "relu2"]
    assert [layer.location.line for layer in spec.layers] == [5, 6, 5, 6]  # every copy points at what was written


def test_nested_repeats():
    spec = parse_text(HEAD + "  - repeat: 2\n    name: stage\n    layers:\n      - repeat: 2\n        layers:\n"
                             "          - {name: c, conv: {filters: 4, kernel: 1}}\n", "t.yaml")
    assert [layer.name for layer in spec.layers] == ["stage.1.c_1", "stage.1.c_2", "stage.2.c_1", "stage.2.c_2"]
    assert [layer.block for layer in spec.layers] == [("stage", "stage.1")] * 2 + [("stage", "stage.2")] * 2


def test_repeat_problems():
    found = problems(HEAD + "  - repeat: 2\n    layer: [relu]\n")
    assert found == [(4, 5, "a repeat block takes 'repeat', 'layers' and 'name', not 'layer' (did you mean 'layers'?)"),
                     (3, 5, "a repeat block needs 'layers:', the list of layers to repeat")]
    assert only_problem(HEAD + "  - repeat: 0\n    layers: [relu]\n") == (3, 13, "'repeat' must be positive, got 0")


def test_explicit_duplicate_names():
    assert only_problem(HEAD + "  - {name: a, relu}\n  - {name: a, tanh}\n") == (
        4, 12, "the name 'a' is already used at line 3; names must be unique")


def test_a_repeat_suffix_can_collide_with_an_explicit_name():
    assert only_problem(HEAD + "  - repeat: 2\n    layers:\n      - {name: c, relu}\n  - {name: c_1, relu}\n") == (
        6, 12, "the name 'c_1' is already used at line 5; names must be unique")


@pytest.mark.parametrize(("name", "message"), [
    ("input", "'input' names the spec's input; choose another layer name"),
    ("a b", "a layer name cannot contain ' '; use letters, digits, '_', '-' or '.'"),
    ("a/b", "a layer name cannot contain '/'; use letters, digits, '_', '-' or '.'"),
])
def test_reserved_and_malformed_names(name, message):
    assert only_problem(HEAD + f"  - {{name: '{name}', relu}}\n") == (3, 12, message)


# -- nothing escapes as a traceback -------------------------------------------------------------------

SEEDS = [p.read_bytes() for p in sorted(SPECS.glob("*.yaml")) + sorted(TEST_SPECS.glob("*.yaml"))]
TOKENS = [b"-", b":", b"{", b"}", b"[", b"]", b",", b" ", b"\n", b"  ", b"0", b"-1", b"3.0", b"yes", b"~", b"'",
          b'"', b"&a ", b"*a", b"!!python/name:os.system ", b"same", b"repeat: 2", b"layers:", b"name: x", b"conv",
          b"fc", b"\t", b"\xff", b"1e400", b"99999999999999999999", b"[1, 1, 1, 1]", b"<<: *a", b"? ", b"---\n"]


@st.composite
def mutated_specs(draw) -> bytes:
    """A shipped or test spec with a few tokens inserted, deleted or replaced."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        span = draw(st.integers(0, 8))
        data[at:at + span] = draw(st.sampled_from(TOKENS + [b""]))
    return bytes(data)


def parse_and_analyze(data: bytes) -> None:
    """Either a report or a SpecError: anything else is a bug."""
    try:
        spec = parse_bytes(data, "fuzz.yaml")
        analyze(spec)
        analyze(spec, floor=True)
    except SpecError as error:
        assert error.problems
        assert all(p.location.line >= 1 and p.location.column >= 1 for p in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_never_crash(data):
    parse_and_analyze(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data):
    parse_and_analyze(data)


def test_shipped_specs_parse_without_problems():
    paths = sorted(Path(SPECS).glob("*.yaml"))
    assert len(paths) >= 20  # the shipped specs
    for path in paths:
        assert parse_file(path).layers
