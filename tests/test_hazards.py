"""Hostile and broken input: every case ends in an answer or a located error, quickly, with no traceback.

Each test is named after the hazard it covers; docs/hostile-input.md lists them in its table. Expected
values are worked out by hand in the comments, never copied from cnncalc's output. The last tests run
every command the CLI has (tests/cli_harness.py) over the whole hostile corpus, so that commands added
later are held to the same rules.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc import cli, compose, loader, parser, values
from cnncalc.engine import analyze
from cnncalc.expand import MAX_LAYERS, Expander
from cnncalc.kinds.base import _suggest
from cnncalc.parser import parse_bytes, parse_text
from cnncalc.problems import SpecError
from cnncalc.render.numbers import byte_size, short

from .cli_harness import assert_no_crash, commands, invocations, run, takes_a_spec
from .conftest import ROOT, SPECS, doc

VALID = ("name: tiny\ninput: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3, padding: 1}\n  - relu\n"
         "  - maxpool: 2\n  - flatten\n  - fc: 10\n")


def problems(text: str | bytes, **options) -> list[tuple[int, int, str]]:
    """(line, column, message) of every error, from parsing and computing."""
    with pytest.raises(SpecError) as caught:
        spec = parse_bytes(text, "t.yaml") if isinstance(text, bytes) else parse_text(text, "t.yaml")
        analyze(spec, **options)
    return [(p.location.line, p.location.column, p.message) for p in caught.value.errors]


def only_problem(text: str | bytes) -> tuple[int, int, str]:
    (problem,) = problems(text)
    return problem


def layers_of(text: str) -> dict:
    return {layer.name: layer for layer in analyze(parse_text(text, "t.yaml")).layers}


# -- internal errors ------------------------------------------------------------------------------

@pytest.fixture
def bug(monkeypatch, tmp_path) -> str:
    """A valid spec's path, with the engine replaced by one that raises: a bug, as the CLI sees it."""
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("cnncalc.engine.analyze", broken)
    spec = tmp_path / "s.yaml"
    spec.write_text(VALID)
    return str(spec)


def test_internal_error_is_one_line_with_exit_3_and_no_traceback(bug):
    result = run(["shapes", bug])
    assert result.exit_code == cli.EXIT_INTERNAL == 3
    assert "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert "internal error (RuntimeError: boom)" in line and "please report it" in line and "--debug" in line


def test_internal_error_traceback_only_with_debug(bug):
    result = run(["--debug", "shapes", bug])
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.output and "RuntimeError: boom" in result.output


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_closed_output_pipe_exits_141_quietly(fmt):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before cnncalc writes, as after `| head -1`
    try:
        done = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", str(SPECS / "vgg16.yaml"), "--format", fmt],
                              stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, timeout=120,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    finally:
        os.close(write_end)
    assert done.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert done.stderr == b""


# -- YAML: aliases, tags, keys, scalars ----------------------------------------------------------

def test_billion_laughs_aliases_of_groups_refused_before_expansion(monkeypatch):
    # 25 levels, each a group of two aliases of the level below: 2^26 layers in 25 lines
    text = "input: [3, 8, 8]\nlayers:\n  - &l0 {layers: [relu, relu]}\n"
    text += "".join(f"  - &l{i} {{layers: [*l{i - 1}, *l{i - 1}]}}\n" for i in range(1, 25))
    monkeypatch.setattr(Expander, "layer", lambda *a, **k: pytest.fail("expanded a layer of a refused spec"))
    (line, column, message) = only_problem(text)
    assert f"expands to more than {MAX_LAYERS:,} layers" in message


def test_billion_laughs_in_block_definitions_refused():
    # block c_i uses c_(i-1) twice: 2^25 relus; the same arguments each time, so each block is read once
    text = "input: [3, 8, 8]\nblocks:\n  c0: {layers: [relu, relu]}\n"
    text += "".join(f"  c{i}: {{layers: [c{i - 1}, c{i - 1}]}}\n" for i in range(1, 25))
    text += "layers: [c24]\n"
    assert f"expands to more than {MAX_LAYERS:,} layers" in only_problem(text)[2]


def test_billion_laughs_with_new_block_arguments_stops_reading(monkeypatch):
    # arguments x → 2x and 2x + 1 differ at every use, so every use reads its block again: 2^25 reads
    monkeypatch.setattr(values, "MAX_BLOCK_READS", 20_000)
    text = "input: [3, 8, 8]\nblocks:\n  c0: {params: {x: 0}, layers: [{conv: {filters: 1, kernel: 1}}]}\n"
    text += "".join(f"  c{i}: {{params: {{x: 0}}, layers: [c{i - 1}: {{x: $x * 2}}, c{i - 1}: {{x: $x * 2 + 1}}]}}\n"
                    for i in range(1, 25))
    text += "layers: [c24]\n"
    messages = [message for _, _, message in problems(text)]
    assert any("the block uses read more than 20,000 YAML nodes" in m for m in messages)


def test_billion_laughs_of_aliases_inside_a_block_definition_stops_reading(monkeypatch):
    # inside a block definition an alias is read again at each use (its $parameters may differ): 2^25 reads
    monkeypatch.setattr(values, "MAX_BLOCK_READS", 20_000)
    text = "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - &l0 {layers: [relu, relu]}\n"
    text += "".join(f"      - &l{i} {{layers: [*l{i - 1}, *l{i - 1}]}}\n" for i in range(1, 25))
    text += "layers: [b]\n"
    messages = [message for _, _, message in problems(text)]
    assert any("the block uses read more than 20,000 YAML nodes" in m for m in messages)


def test_billion_laughs_in_a_from_list_refused():
    # 5,000 names aliased into a repeat of 10^6: 5·10^9 inputs
    names = ", ".join(["input"] * 5000)
    text = (f"input: [3, 8, 8]\nlayers:\n  - add: {{from: &n [{names}]}}\n  - repeat: 1000000\n"
            "    layers:\n      - add: {from: *n}\n")
    assert f"expands to more than {MAX_LAYERS:,} layers" in only_problem(text)[2]


def test_billion_laughs_in_a_parameter_list_is_a_size_error():
    text = ("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 1, kernel: &k [1, 1, 1, 1, 1, 1]}\n"
            "  - conv: {filters: 1, kernel: *k}\n")
    errors = problems(text)
    assert [(line, column) for line, column, _ in errors] == [(3, 32)]  # the list, reported once
    assert "takes one int or one per spatial dim (1 to 3), got 6 values" in errors[0][2]


def test_billion_laughs_in_the_composer_keeps_aliases_shared():
    text = "a: &a [x, x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}]\n"
                                      for i in range(1, 60))
    root = compose.compose(text, "t.yaml")
    last = root.value[-1][1]
    assert last.value[0] is last.value[1]  # one node, not 2^59 copies


def test_alias_cycle_refused():
    assert only_problem("input: [3, 8, 8]\nlayers: &a [{layers: *a}]\n") == (
        2, 22, "the alias *a is inside the value of its own anchor &a: that is a cycle")


def test_undefined_alias_and_duplicate_anchor_are_located_errors():
    assert only_problem("input: [3, 8, 8]\nlayers: [*nope]\n") == (2, 10, "invalid YAML: found undefined alias 'nope'")
    line, column, message = only_problem("input: &a [3, 8, 8]\nlayers: &a [relu]\n")
    assert (line, column) == (2, 9) and "found duplicate anchor 'a'" in message


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:os.system", "!!binary", "!mine"])
def test_python_and_other_tags_refused(tag):
    line, column, message = only_problem(f"input: [3, 8, 8]\nlayers:\n  - {tag} [echo, hi]\n")
    assert (line, column) == (3, 5)
    assert f"the YAML tag '{tag}' is not allowed in a spec" in message


def test_python_tags_refused_even_where_the_value_is_ignored():
    text = "input: [3, 8, 8]\nblocks:\n  b: {description: !!python/object/apply:os.system [ls], layers: [relu]}\nlayers: [b]\n"
    assert "'!!python/object/apply:os.system' is not allowed" in only_problem(text)[2]


@pytest.mark.parametrize("value, shown", [("!!int abc", "'abc' is not a valid !!int"),
                                          ("!!bool maybe", "'maybe' is not a valid !!bool"),
                                          ("!!float x", "'x' is not a valid !!float"),
                                          ("!!map [1]", "'!!map' does not fit a list")])
def test_core_tags_on_values_that_do_not_fit_refused(value, shown):
    assert shown in only_problem(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {value}, kernel: 3}}\n")[2]


def test_duplicate_keys_are_errors_everywhere():
    text = ("input: [3, 8, 8]\ninput: [1, 8, 8]\nblocks:\n  b: {layers: [relu]}\n  b: {layers: [relu]}\n"
            "layers:\n  - conv: {filters: 4, kernel: 3, kernel: 5}\n")
    assert problems(text) == [
        (2, 1, "duplicate key 'input' in the spec (first at line 1); keep one"),
        (5, 3, "duplicate key 'b' in 'blocks' (first at line 4); keep one"),
        (7, 35, "duplicate key 'kernel' in conv's parameters (first at line 7); keep one"),
    ]


@pytest.mark.parametrize("word", ["yes", "on", "true", "off", "True"])
def test_booleans_where_counts_belong_are_errors(word):
    line, column, message = only_problem(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {word}, kernel: 3}}\n")
    assert (line, column) == (3, 21)
    assert f"must be a whole number, not the boolean {word}; '{word}' is a boolean in YAML" in message


@pytest.mark.parametrize("value, hint", [("3.0", "write it without a decimal point"), ("3.5", "the float 3.5"),
                                         ("1e3", "write it out in digits"), ("1.0e+3", "without a decimal point")])
def test_floats_where_counts_belong_are_errors(value, hint):
    assert hint in only_problem(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {value}, kernel: 3}}\n")[2]


@pytest.mark.parametrize("value, read_as", [("010", " (YAML 1.1 reads it as 8)"), ("1:30", " (YAML 1.1 reads it as 90)"),
                                            ("0x10", " (YAML 1.1 reads it as 16)"), ("0b_", "")])
def test_yaml11_octal_base60_and_hex_counts_are_errors(value, read_as):
    message = only_problem(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {value}, kernel: 3}}\n")[2]
    assert message == f"conv 'filters' must be written in decimal digits, not '{value}'{read_as}"


def test_counts_beyond_10_36_are_errors_not_crashes():
    digits = "9" * 5000  # beyond Python's 4,300-digit int-to-text limit
    message = only_problem(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {digits}, kernel: 3}}\n")[2]
    assert message == "conv 'filters' is larger than cnncalc's limit of 10^36"
    assert "limit of 10^36" in only_problem(f"input: [3, 8, 8]\nlayers:\n  - leakyrelu: {digits}\n")[2]


def test_tabs_are_a_located_error_with_a_hint():
    line, column, message = only_problem("input: [3, 8, 8]\nlayers:\n\t- relu\n")
    assert (line, column) == (3, 1)
    assert message.startswith("invalid YAML:") and message.endswith("; YAML indents with spaces, not tabs")


def test_bom_is_accepted():
    assert analyze(parse_bytes(b"\xef\xbb\xbf" + VALID.encode(), "t.yaml")).totals.params == \
        analyze(parse_text(VALID, "t.yaml")).totals.params


def test_utf16_is_a_located_error_with_a_hint():
    (line, column, message) = only_problem(VALID.encode("utf-16"))
    assert (line, column) == (1, 1)
    assert message == "byte 0xff is not UTF-8 (it looks like UTF-16); save the file as UTF-8"


def test_crlf_line_ends_give_the_same_answer_and_locations():
    crlf = VALID.replace("\n", "\r\n").encode()
    assert analyze(parse_bytes(crlf, "t.yaml")).totals == analyze(parse_text(VALID, "t.yaml")).totals
    broken = "input: [3, 8, 8]\r\nlayers:\r\n  - conv: {filters: 4, kernel: 3, stride: 2}\r\n".encode()
    assert only_problem(broken)[:2] == (3, 5)


def test_non_utf8_bytes_are_located():
    assert only_problem(b"input: [3, 8, 8]\nlayers: [relu, r\xe9lu]\n") == (
        2, 17, "byte 0xe9 is not UTF-8; save the file as UTF-8")


def test_nul_and_control_characters_are_located():
    line, column, message = only_problem(b"input: [3, 8, 8]\nlayers: [relu]\x00\n")
    assert (line, column) == (2, 15) and message.startswith("invalid YAML: character U+0000 is not allowed")


def test_control_characters_are_escaped_in_problem_lines(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('input: [3, 8, 8]\nlayers:\n  - "\\e[2Jgone"\n')
    result = run(["check", str(spec)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "unknown layer kind '\\x1b[2Jgone'" in result.output


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n"])
def test_empty_file_is_a_located_error(text):
    assert only_problem(text) == (1, 1, "the spec is empty; it needs 'input:' and 'layers:'")


def test_two_documents_are_an_error():
    assert only_problem(VALID + "---\ninput: [1]\n")[2].startswith("a second YAML document starts here")


def test_directory_and_missing_file_are_usage_errors(tmp_path):
    for path in (tmp_path, tmp_path / "missing.yaml"):
        result = run(["shapes", str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output
    with pytest.raises(SpecError, match="is a directory"):
        parser.parse_file(tmp_path)


def test_file_over_50_mb_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)  # sparse: 50 MiB of zero bytes
    result = run(["check", str(big)])
    assert result.exit_code == 1
    assert f"big.yaml:1:1: error: the spec is 52,428,800 bytes; cnncalc reads at most 8,388,608 bytes (8 MiB)" \
        in result.output


def test_endless_standard_input_refused_after_the_limit():
    # a device such as /dev/zero is refused unopened (tests/test_hazards_io.py); standard input may still be one
    with open(os.devnull, "rb"):
        result = run(["check", "-"], stdin=b"\0" * (loader.MAX_SPEC_BYTES + 10))
    assert result.exit_code == 1 and "larger than 8,388,608 bytes" in result.output


def test_standard_input_over_the_limit_refused():
    result = run(["shapes", "-"], stdin=b"#" * (loader.MAX_SPEC_BYTES + 1))
    assert result.exit_code == 1 and "<stdin>:1:1: error: the spec is larger than 8,388,608 bytes" in result.output


def test_100000_layer_spec_answers():
    report = analyze(parse_text("input: [3, 8, 8]\nlayers:\n  - repeat: 100000\n    layers: [relu]\n", "t.yaml"))
    assert len(report.layers) == 100_000
    assert report.layers[-1].name == "relu100000"


def test_more_layers_than_the_limit_refused_before_any_allocation(monkeypatch):
    monkeypatch.setattr(Expander, "items", lambda *a, **k: pytest.fail("expansion started"))
    text = "input: [3, 8, 8]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n"
    assert only_problem(text) == (3, 5, f"the spec expands to more than {MAX_LAYERS:,} layers; "
                                         "cnncalc refuses specs that large")


NEST = 1000


@pytest.mark.parametrize("opening, closing", [("[{layers: ", "}]"), ("[{repeat: 2, layers: ", "}]"),
                                              ("[{merge: add, branches: [[], ", "]}]")],
                         ids=["groups", "repeats", "branches"])
def test_nesting_1000_deep_layers_is_a_located_error(opening, closing):
    # the YAML nests 2 or 3 levels per layer level: stopped by one limit or the other, never a RecursionError
    for depth in (NEST, 100):
        text = "input: [3, 8, 8]\nlayers: " + opening * depth + "[relu]" + closing * depth + "\n"
        ((line, column, message),) = problems(text)
        assert line == 2
        assert "nested 1,000 levels deep" in message or f"nest more than {parser.MAX_NESTING} deep" in message


def test_nesting_1000_deep_block_uses_is_a_located_error():
    blocks = "".join(f"  b{i}:\n    layers: [b{i + 1}]\n" for i in range(NEST)) + f"  b{NEST}:\n    layers: [relu]\n"
    line, column, message = only_problem("input: [3, 8, 8]\nblocks:\n" + blocks + "layers: [b0]\n")
    assert f"nest more than {parser.MAX_NESTING} deep here" in message
    assert (line, column) == (4 + 2 * 32, 13)  # the layers of b32: the 34th list inside one another


def test_nesting_32_deep_is_accepted():
    text = "input: [3, 8, 8]\nlayers: " + "[{layers: " * 32 + "[relu]" + "}]" * 32 + "\n"
    assert len(analyze(parse_text(text, "t.yaml")).layers) == 1


def test_nesting_through_an_alias_counts_what_the_alias_brings():
    # read once 21 lists deep, then reused inside 20 more: 41 lists inside one another
    inner = "[{layers: " * 20 + "[relu]" + "}]" * 20
    text = f"input: [3, 8, 8]\nlayers:\n  - &a {{layers: {inner}}}\n  - " + "{layers: [" * 20 + "*a" + "]}" * 20 + "\n"
    assert f"nest more than {parser.MAX_NESTING} deep here" in only_problem(text)[2]


def _libyaml_stops_block_nesting() -> bool:
    """Whether the C parser compose uses refuses 1,000 block mappings inside one another itself (libyaml 0.2.6 on)."""
    import yaml

    if not hasattr(yaml, "CSafeLoader"):
        return False
    try:
        yaml.compose("".join("  " * i + "a:\n" for i in range(NEST)), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        return "nesting depth" in str(error)
    return False


@pytest.mark.parametrize("style", ["flow lists", "block lists", "mappings"])
def test_yaml_nested_1000_deep_is_a_located_error(style):
    # the mapping around them is level 1: the 1,000th list or the 1,001st mapping is one too many
    if style == "flow lists":
        text, where = "x: " + "[" * NEST + "]" * NEST + "\n", (1, 3 + 1000)
    elif style == "block lists":
        text, where = "x:\n" + "".join("  " * i + "-\n" for i in range(NEST)), (1001, 2 * 999 + 1)
    else:
        text, where = "".join("  " * i + "a:\n" for i in range(NEST)) + "  " * NEST + "b: 1\n", (1001, 2 * 1000 + 1)
        if _libyaml_stops_block_nesting():  # newer libyaml stops first, at the colon of the 1,000th mapping's key
            where = (1000, 2 * 999 + 2)
    line, column, message = only_problem(text)
    assert (line, column) == where
    assert message == ("the YAML is nested 1,000 levels deep here (lists and mappings inside one another); "
                       "cnncalc stops there")


def test_yaml_nested_100000_deep_is_a_located_error_not_a_crash():
    # libyaml's own composer overflows the C stack (a segfault) at this depth
    line, column, message = only_problem("x: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert (line, column) == (1, 1003) and "nested 1,000 levels deep" in message


def test_yaml_error_inside_deep_flow_nesting_is_not_read_again_by_pure_python(monkeypatch):
    # found by benchmarks/fuzz.py: PyYAML's own parser, asked again for its message, took 3 s on 4 KB of '['
    import yaml

    read_with = compose._compose_with

    def only_libyaml(loader, text, source):
        assert loader is not yaml.SafeLoader, "read again by the pure-Python parser"
        return read_with(loader, text, source)

    monkeypatch.setattr(compose, "_compose_with", only_libyaml)
    line, column, message = only_problem("input: {a: b: c, x: " + "[" * 1000 + "]" * 1000 + "}\n")
    assert (line, column) == (1, 13) and message.startswith("invalid YAML:")


def test_composer_builds_the_same_nodes_as_pyyaml():
    import yaml

    def same(a, b):
        marks = lambda n: (n.start_mark.line, n.start_mark.column, n.end_mark.line, n.end_mark.column)  # noqa: E731
        if type(a) is not type(b) or a.tag != b.tag or marks(a) != marks(b):
            return False
        if isinstance(a, yaml.ScalarNode):
            return a.value == b.value
        if isinstance(a, yaml.SequenceNode):
            return len(a.value) == len(b.value) and all(map(same, a.value, b.value))
        return len(a.value) == len(b.value) and all(same(k, l) and same(v, w) for (k, v), (l, w) in zip(a.value, b.value))

    texts = [path.read_text() for path in sorted(SPECS.glob("*.yaml")) + sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
    texts += ["a: &x [1, {b: 2}]\nc: *x\n", "- - - 1\n  - 2\n- {a: [x, y], ? [k]: v}\n", "1\n", "---\na: 1\n...\n",
              "a: !!str 3\nb: !!int 3\nc: 'q'\nd: |\n  x\n"]
    for text in texts:
        # libyaml's composer, as cnncalc used before (its marks for empty values differ from pure PyYAML's)
        assert same(compose.compose(text, "t"), yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def test_bare_kind_name_without_its_required_parameters_is_an_error():
    # found by benchmarks/fuzz.py: a spec truncated after '- conv' reached the engine without 'filters'
    assert problems("input: [3, 8, 8]\nlayers: [relu, conv, fc]\n") == [
        (2, 16, "conv needs 'filters' and 'kernel'; write 'conv: {filters: ..., kernel: ...}'"),
        (2, 22, "fc needs 'units'; write 'fc: {units: ...}'"),
    ]


# -- absurd values --------------------------------------------------------------------------------

def test_sizes_of_10_12_exact():
    n = 10**12
    layer = layers_of(f"input: [3, {n}, {n}]\nlayers:\n  - conv: {{filters: 2, kernel: 3, padding: 1}}\n")["conv1"]
    assert layer.output_shape == (2, n, n)  # (N − 3 + 2·1)/1 + 1 = N
    assert layer.param_count == 3 * 3 * 3 * 2 + 2
    assert layer.macs == 2 * n * n * 3 * 3 * 3  # filters · H_out · W_out · C_in · F · F
    assert layer.activation_count == 2 * n * n


def test_sizes_of_10_12_render_exactly_in_every_format(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"input: [3, {10**12}, {10**12}]\nlayers:\n  - conv: {{filters: 2, kernel: 3, padding: 1}}\n"
                    "  - globalavgpool\n  - fc: 10\n")
    for fmt in ("table", "json", "csv", "markdown"):
        result = run(["shapes", str(spec), "--format", fmt, "--batch", "1000000000"])
        assert result.exit_code == 0, result.output
    data = json.loads(run(["shapes", str(spec), "--format", "json"]).stdout)
    assert data["totals"]["macs"] == 2 * 10**24 * 27 + 2 * 10  # conv, then fc 2·10
    assert data["totals"]["activations"] == 3 * 10**24 + 2 * 10**24 + 2 + 10  # input, conv, pool, fc


def test_counts_beyond_float_range_are_written_exactly():
    assert short(10**400) == "1.00×10⁴⁰⁰"  # beyond 1000T, a power of ten (the footnote says so)
    with localcontext() as context:
        context.prec = 500
        expected = (Decimal(10**400) / Decimal(1024**4)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    assert byte_size(10**400) == f"{expected} TiB"
    assert short(999_600) == "1.00M"  # 999.6K rounds to 1000K: the next unit


def test_zero_and_negative_sizes_are_errors():
    assert only_problem("input: [3, 0, 8]\nlayers: [relu]\n") == (1, 12, "an 'input' size must be positive, got 0")
    assert only_problem("input: [3, -8, 8]\nlayers: [relu]\n") == (1, 12, "an 'input' size must be positive, got -8")
    assert only_problem("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 1, kernel: 3, padding: -1}\n") == (
        3, 44, "conv 'padding' must be zero or more, got -1")


@pytest.mark.parametrize("param", ["kernel", "stride", "filters", "dilation"])
def test_kernel_0_and_other_zero_parameters_are_errors(param):
    values = {"filters": 1, "kernel": 3, "stride": 1, "dilation": 1, param: 0}
    text = "input: [3, 8, 8]\nlayers:\n  - conv: {" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}\n"
    assert only_problem(text)[2] == f"conv '{param}' must be positive, got 0"


def test_stride_larger_than_the_input():
    ((_, _, message),) = problems("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 1, stride: 100}\n")
    # (7 − 1 + 0)/100 + 1 = 1.06; padding P with (6 + 2P) divisible by 100: 47; the stride nearest 100 dividing 6: 6
    assert "(7 − 1 + 2·0)/100 + 1 = 1.06 is not an integer; padding 47 gives 2; stride 6 gives 2" in message
    assert layers_of("input: [1, 2, 2]\nlayers:\n  - maxpool: {kernel: 2, stride: 100}\n")["pool1"].output_shape == (1, 1, 1)
    same = layers_of("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 100, padding: same}\n")
    assert same["conv1"].output_shape == (1, 1, 1)  # ceil(7/100)


def test_kernel_of_10_12_hints_by_arithmetic_not_search():
    # (10^12 − 999,999,999,999 + 0)/7 + 1 = 1/7 + 1; (1 + 2·3)/7 + 1 = 2; 1 divides 1: (1/1) + 1 = 2
    ((_, _, message),) = problems(f"input: [1, {10**12}]\nlayers:\n  - conv: {{filters: 1, kernel: {10**12 - 1}, stride: 7}}\n")
    assert f"({10**12} − {10**12 - 1} + 2·0)/7 + 1 = 1.14 is not an integer; padding 3 gives 2; stride 1 gives 2" in message


def _brute_force_hint(n: int, k: int, s: int, p: int, d: int) -> str:
    """The definition, tried value by value: the padding and the divisor nearest the given ones (ties: the smaller);
    a fitting padding recurs every S values, so none beyond p + F_eff + 2S can be nearer."""
    eff = d * (k - 1) + 1
    hints = []
    paddings = [c for c in range(p + eff + 2 * s) if c != p and n + 2 * c - eff >= 0 and (n + 2 * c - eff) % s == 0]
    if paddings:
        best = min(paddings, key=lambda c: (abs(c - p), c))
        hints.append(f"padding {best} gives {(n + 2 * best - eff) // s + 1}")
    span = n + 2 * p - eff
    strides = [c for c in range(1, span + 1) if span % c == 0 and c != s] if span > 0 else []
    if strides:
        best = min(strides, key=lambda c: (abs(c - s), c))
        hints.append(f"stride {best} gives {span // best + 1}")
    return "; ".join(hints)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 16), st.integers(0, 12), st.integers(1, 3))
def test_padding_and_stride_hints_match_an_exhaustive_search(n, k, s, p, d):
    assert _suggest(n, k, s, p, d) == _brute_force_hint(n, k, s, p, d)


def test_million_channels_exact():
    layer = layers_of("input: [1000000, 4, 4]\nlayers:\n  - conv: {filters: 1000000, kernel: 3, padding: 1}\n")["conv1"]
    assert layer.weight_count == 3 * 3 * 10**6 * 10**6
    assert layer.bias_count == 10**6
    assert layer.macs == 10**6 * 4 * 4 * 10**6 * 3 * 3
    ((_, _, message),) = problems("input: [1000000, 4, 4]\nlayers:\n  - conv: {filters: 600000, kernel: 1, groups: 7}\n")
    assert message.endswith("try groups 200000")  # gcd(10^6, 6·10^5) = 2·10^5


def test_tensor_limit_10_36_stops_runaway_growth():
    text = f"input: [3, {10**12}, {10**12}]\nlayers:\n  - upsample: {10**12}\n"
    line, column, message = only_problem(text)
    assert (line, column) == (3, 5)
    assert message == (f"upsample 'up1': the output holds {3 * 10**48:,} values, more than cnncalc's limit of 10^36")


def test_receptive_field_growth_is_bounded():
    # legal layer by layer (a 1-pixel input takes any stride), but each stride multiplies the jump:
    # 10^36 after the first pool, 10^72 after the second; 200 of them would be 7,200 digits
    text = f"input: [1, 1]\nlayers:\n  - repeat: 200\n    layers: [{{maxpool: {{kernel: 1, stride: {10**36}}}}}]\n"
    assert only_problem(text) == (4, 15, "maxpool 'pool2': its receptive field passes cnncalc's limit of 10^36 "
                                         "(strides and upsampling multiply layer after layer)")


def test_expression_hazards_are_errors():
    def block_expression(expression: str) -> str:
        return only_problem("input: [3, 8, 8]\nblocks:\n  b:\n    params: {x: 2}\n"
                            f'    layers: [conv: {{filters: "{expression}", kernel: 1}}]\nlayers: [b]\n')[2]

    assert "longer than 200 characters" in block_expression("$" + "+".join(["x"] * 3000))
    assert "divides by zero" in block_expression("$x // (x - 2)")
    assert "is not an expression" in block_expression("$x\\0")  # YAML's escape for a NUL
    assert "is larger than 1e+18" in block_expression("$x * 1000000000000 * 1000000000000")


def test_markup_in_names_is_printed_as_text(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('name: "[/x] [bold]"\ninput: [3, 8, 8]\nblocks:\n  "[red]b": {layers: [relu]}\nlayers: ["[red]b"]\n')
    result = run(["shapes", str(spec)])
    assert result.exit_code == 0, result.output
    assert "[/x] [bold]: input" in result.output and "[red]b1" in result.output


def test_long_names_are_a_located_error():
    # found by benchmarks/fuzz.py: a 2,000-character name stopped the expansion's first pass with no message
    name = "b" + "x" * 2000
    assert only_problem(f"input: [3, 8, 8]\nlayers:\n  - {{relu: null, name: {name}}}\n") == (
        3, 24, f"the full name '{name[:40]}...' is longer than 1,000 characters; use shorter names or fewer nested "
               "named groups")
    # 30 nested groups of 60-character names: every layer inside is named with all 30 prefixes
    group = "g" * 60
    text = "input: [3, 8, 8]\nlayers: " + f"[{{name: {group}, layers: " * 30 + "[relu]" + "}]" * 30 + "\n"
    assert "is longer than 1,000 characters" in only_problem(text)[2]


def test_batch_beyond_its_limit_is_a_usage_error(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(VALID)
    assert run(["shapes", str(spec), "--batch", str(10**9 + 1)]).exit_code == 2
    assert run(["shapes", str(spec), "--batch", "9" * 5000]).exit_code == 2


# -- many files, and never a write ----------------------------------------------------------------

def test_check_over_many_files_reports_every_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(VALID)
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"input: [3, 8, 8]\nlayers: [r\xe9lu]\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    files = [good, tmp_path / "missing.yaml", bad, latin, empty, good]  # a folder: tests/test_unix.py
    result = run(["check", *map(str, files)])
    assert result.exit_code == 2  # a file could not be read
    lines = result.stdout.splitlines()
    assert lines == [
        f"{tmp_path / 'missing.yaml'}:1:1: error: cannot read: No such file or directory",
        f"{bad}:3:5: error: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer; padding 1 gives 3; "
        "stride 2 gives 3 (or write 'round: floor' on the layer, or pass --floor, to floor it as frameworks do)",
        f"{latin}:2:11: error: byte 0xe9 is not UTF-8; save the file as UTF-8",
        f"{empty}:1:1: error: the spec is empty; it needs 'input:' and 'layers:'",
    ]
    assert "checked 6 specs: 2 valid, 4 invalid (4 errors)" in result.stderr
    data = json.loads(run(["check", "--format", "json", *map(str, files)]).stdout)
    assert [entry["valid"] for entry in data["files"]] == [True, False, False, False, False, True]


def test_check_without_unreadable_files_exits_1(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(VALID)
    bad.write_text("input: [3, 8, 8]\nlayers: [relux]\n")
    assert run(["check", str(good), str(bad)]).exit_code == 1
    assert run(["check", str(good), str(good)]).exit_code == 0


def _hostile_corpus() -> dict[str, bytes]:
    """Broken and hostile specs, each small and quick; the explicit tests above say what each must give."""
    valid = VALID.encode()
    laughs = "input: [3, 8, 8]\nlayers:\n  - &l0 {layers: [relu, relu]}\n" + "".join(
        f"  - &l{i} {{layers: [*l{i - 1}, *l{i - 1}]}}\n" for i in range(1, 25))
    block_laughs = "input: [3, 8, 8]\nblocks:\n  c0: {layers: [relu, relu]}\n" + "".join(
        f"  c{i}: {{layers: [c{i - 1}, c{i - 1}]}}\n" for i in range(1, 25)) + "layers: [c24]\n"
    conv = "input: [3, 8, 8]\nlayers:\n  - conv: {{filters: {}, kernel: 3}}\n"
    corpus = {
        "valid": valid, "empty": b"", "comment": b"# nothing\n", "null": b"---\n", "list root": b"- relu\n",
        "text root": b"hello\n", "two documents": valid + b"---\na: 1\n", "tabs": b"input: [3, 8, 8]\nlayers:\n\t- relu\n",
        "bom": b"\xef\xbb\xbf" + valid, "utf-16": VALID.encode("utf-16"), "crlf": valid.replace(b"\n", b"\r\n"),
        "cr": valid.replace(b"\n", b"\r"), "latin-1": b"input: [3, 8, 8]\nlayers: [r\xe9lu]\n",
        "nul": b"input: [3, 8, 8]\x00\nlayers: [relu]\n", "escape": b'input: [3, 8, 8]\nlayers: ["\\e[2J"]\n',
        "python tag": b"input: !!python/object/apply:os.system [echo]\nlayers: [relu]\n",
        "bad int tag": conv.format("!!int abc").encode(), "bad bool tag": conv.format("!!bool maybe").encode(),
        "duplicate keys": b"input: [3, 8, 8]\ninput: [3, 8, 8]\nlayers: [relu]\n",
        "yes": conv.format("yes").encode(), "3.0": conv.format("3.0").encode(), "1e3": conv.format("1e3").encode(),
        "octal": conv.format("010").encode(), "base 60": conv.format("1:30").encode(), "0b_": conv.format("0b_").encode(),
        "huge int": conv.format("9" * 5000).encode(), "zero": conv.format("0").encode(), "negative": conv.format("-4").encode(),
        "._": b"input: [3, 8, 8]\nlayers:\n  - leakyrelu: ._\n",
        "kernel 10^12": f"input: [1, {10**12}]\nlayers:\n  - conv: {{filters: 1, kernel: {10**12 - 1}, stride: 7}}\n".encode(),
        "sizes 10^12": f"input: [3, {10**12}, {10**12}]\nlayers:\n  - conv: {{filters: 2, kernel: 3}}\n  - flatten\n  - fc: 3\n".encode(),
        "million channels": b"input: [1000000, 4, 4]\nlayers:\n  - conv: {filters: 1000000, kernel: 3, groups: 7}\n",
        "growth": f"input: [3, {10**12}, {10**12}]\nlayers:\n  - upsample: {10**12}\n".encode(),
        "stride > input": b"input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 1, stride: 100}\n",
        "jump growth": b"input: [1, 1]\nlayers:\n  - repeat: 200\n    layers: [{maxpool: {kernel: 1, stride: "
                       + str(10**36).encode() + b"}}]\n",
        "alias cycle": b"input: [3, 8, 8]\nlayers: &a [{layers: *a}]\n", "undefined alias": b"input: [3]\nlayers: [*x]\n",
        "laughs": laughs.encode(), "block laughs": block_laughs.encode(),
        "repeat 10^9": b"input: [3, 8, 8]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n",
        "deep yaml": b"x: " + b"[" * NEST + b"]" * NEST + b"\n",
        "deep groups": b"input: [3, 8, 8]\nlayers: " + b"[{layers: " * 100 + b"[relu]" + b"}]" * 100 + b"\n",
        "recursive block": b"input: [3, 8, 8]\nblocks:\n  a: {layers: [b]}\n  b: {layers: [a]}\nlayers: [a]\n",
        "long expression": b"input: [3, 8, 8]\nblocks:\n  b: {params: {x: 1}, layers: [conv: {filters: $" + b"+x" * 500
                           + b", kernel: 1}]}\nlayers: [b]\n",
        "markup": b'name: "[/x]"\ninput: [3, 8, 8]\nlayers: [relu]\n',
        "merge key": b"input: [3, 8, 8]\nx: &a {relu: null}\nlayers: [{<<: *a}]\n",
        "complex key": b"input: [3, 8, 8]\n? [a]\n: 1\nlayers: [relu]\n",
        "vector into conv": b"input: [10]\nlayers:\n  - conv: {filters: 1, kernel: 1}\n",
        "merge of one": b"input: [3, 8, 8]\nlayers:\n  - add\n",
        "bare conv": b"input: [3, 8, 8]\nlayers:\n  - relu\n  - conv",
        "from later": b"input: [3, 8, 8]\nlayers:\n  - {relu: null, from: x}\n  - {relu: null, name: x}\n",
    }
    return corpus


HOSTILE = _hostile_corpus()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_command_survives_hostile_specs(name, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(HOSTILE[name])
    for words, command in commands():
        if not takes_a_spec(command):
            continue
        for args in invocations(command, str(spec), tmp_path):
            assert_no_crash(run(list(words) + args), list(words) + args)
        stdin_args = invocations(command, "-", tmp_path, variants=False)[0]
        assert_no_crash(run(list(words) + stdin_args, stdin=HOSTILE[name]), list(words) + stdin_args + ["< " + name])


HOSTILE_OPTION_VALUES = ["-1", "0", "1", "1000000000", "9" * 19, "9" * 40, "9" * 5000, "1e400", "nan", "abc", "",
                         "-", "--", "\x1b[2J", "1e400 GiB", "99999999999999999999999 TiB", "[/x]"]


def test_every_command_survives_hostile_options(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(VALID)
    for words, command in commands():
        base = invocations(command, str(spec), tmp_path, variants=False)[0]
        for param in command.params:
            if not isinstance(param, click.Option) or (param.is_flag and not param.count):
                continue
            for value in HOSTILE_OPTION_VALUES:
                args = list(words) + base + [param.opts[0], value]
                assert_no_crash(run(args), args)
        assert_no_crash(run(list(words) + ["--no-such-option"]), list(words) + ["--no-such-option"])


def test_cnncalc_never_writes_to_a_spec(tmp_path):
    specs_dir = tmp_path / "specs"
    specs_dir.mkdir()
    originals = {name: HOSTILE[name] for name in ("valid", "bom", "crlf", "tabs", "laughs", "sizes 10^12")}
    originals["vgg16"] = (SPECS / "vgg16.yaml").read_bytes()
    paths = []
    for index, data in enumerate(originals.values()):
        path = specs_dir / f"spec{index}.yaml"
        path.write_bytes(data)
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        paths.append(path)
    specs_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    try:
        for words, command in commands():
            for path in paths:
                for args in invocations(command, str(path), out_dir):
                    assert_no_crash(run(list(words) + args), list(words) + args)
        assert sorted(specs_dir.iterdir()) == sorted(paths)  # nothing written beside them either
        assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths} == before
    finally:
        specs_dir.chmod(stat.S_IRWXU)


def test_documented_hazard_table_names_existing_tests():
    import re

    from . import test_cosmetics, test_hazards_io, test_injection, test_properties, test_schema

    page = doc("hostile-input.md")
    start = page.index("| hazard | behaviour | test |")
    table = page[start:page.index("\n\n", start)]
    named = re.findall(r"`(?:tests/(test_\w+)\.py::)?(test_\w+)`", table)
    modules = {"test_hazards": sys.modules[__name__], "test_properties": test_properties,
               "test_hazards_io": test_hazards_io, "test_injection": test_injection, "test_cosmetics": test_cosmetics,
               "test_schema": test_schema}
    assert len(named) >= 40
    for module, test in named:
        assert hasattr(modules[module or "test_hazards"], test), test


# -- the harness itself ---------------------------------------------------------------------------

def test_harness_enumerates_every_command_the_cli_lists():
    found = {words: command for words, command in commands()}
    # the commands `cnncalc --help` documents, each reached with its subcommands (export torch)
    assert {words[0] for words in found} >= {"check", "compare", "export", "fit", "layers", "memory", "schema",
                                             "shapes", "solve"}
    assert ("export", "torch") in found
    assert all(isinstance(command, click.Command) for command in found.values())
    assert sum(takes_a_spec(command) for command in found.values()) >= 7


def test_harness_picks_up_a_command_added_later(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "zz-later", ("layers", "layers"))
    assert ("zz-later",) in {words for words, _ in commands()}


def test_harness_fails_when_it_reaches_fewer_commands_than_documented(monkeypatch):
    from . import cli_harness

    monkeypatch.setattr(cli_harness, "documented_commands", lambda: {"check", "shapes", "frobnicate"})
    with pytest.raises(AssertionError, match="--help lists"):
        commands()
