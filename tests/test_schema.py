"""The JSON Schema: valid draft 2020-12, built from the registry, and in agreement with the parser."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cnncalc import parser, read, read_layers
from cnncalc.cli import main
from cnncalc.kinds import REGISTRY
from cnncalc.problems import SpecError
from cnncalc.schema import render_schema, spec_schema

from .conftest import SPECS, TEST_SPECS

SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def parser_accepts(text: str) -> bool:
    try:
        parser.parse_text(text, "t.yaml")
    except SpecError:
        return False
    return True


def schema_accepts(text: str) -> bool:
    return VALIDATOR.is_valid(yaml.safe_load(text))


def spec_files() -> list[Path]:
    return sorted(SPECS.glob("*.yaml")) + sorted(TEST_SPECS.rglob("*.yaml"))


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_cli_prints_the_schema():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == render_schema()
    assert json.loads(result.stdout) == SCHEMA


def test_every_spec_the_parser_accepts_validates():
    files = spec_files()
    assert SPECS / "vgg16.yaml" in files
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        if not parser_accepts(text):  # a test spec of a structural mistake
            continue
        errors = [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(text))]
        assert not errors, f"{path.name}: {errors}"
        checked += 1
    assert checked >= 2  # vgg16 and bad_stride at least (a stride that does not fit is arithmetic, not structure)


# -- every kind and parameter is in it, with its description and default ------------------------------------
def test_every_kind_and_parameter_with_description_and_default():
    kind_layer = SCHEMA["$defs"]["kind_layer"]
    for name, kind in REGISTRY.items():
        assert kind_layer["properties"][name] == {"$ref": f"#/$defs/kind_{name}"}
        value = SCHEMA["$defs"][f"kind_{name}"]
        assert kind.summary and value["description"].startswith(kind.summary)
        assert kind.shape_rule in value["description"] and kind.mac_rule in value["description"]
        mapping = value["anyOf"][0]
        assert list(mapping["properties"]) == [p.name for p in kind.params] + ["name", "from"]
        assert mapping.get("required", []) == [p.name for p in kind.params if p.required]
        for param in kind.params:
            schema = mapping["properties"][param.name]
            assert schema["description"] == param.description and param.description
            if param.required or param.default is None:
                assert "default" not in schema
            else:
                assert schema["default"] == param.default
                assert VALIDATOR.evolve(schema={**schema, "$defs": SCHEMA["$defs"]}).is_valid(param.default)


def test_the_structure_keys_are_the_parsers():
    defs = SCHEMA["$defs"]
    assert set(SCHEMA["properties"]) == set(read.ROOT_KEYS)
    for family in ("", "_with_blocks"):
        assert set(defs[f"repeat_block{family}"]["properties"]) == set(read_layers.REPEAT_KEYS)
        assert set(defs[f"branches_block{family}"]["properties"]) == set(read_layers.BRANCHES_KEYS)
        assert defs[f"branches_block{family}"]["properties"]["merge"]["anyOf"][0]["enum"] == list(read_layers.MERGES)
    assert set(defs["kind_layer"]["properties"]) == set(REGISTRY) | set(read_layers.LAYER_KEYS)
    assert set(defs["block_layer"]["properties"]) == set(read_layers.LAYER_KEYS)
    not_block_names = set(defs["block_definitions"]["propertyNames"]["not"]["enum"])
    assert not_block_names == set(REGISTRY) | set(read_layers.LAYER_KEYS) | set(read_layers.RESERVED)


# -- mistakes: the parser and the schema both refuse them ----------------------------------------------------
HEAD = "input: [3, 32, 32]\nlayers:\n"
MISTAKES = {
    "unknown root key": "input: [3, 32, 32]\nlayer:\n  - relu\n",
    "misspelt root key beside layers": "inputs: [3, 32, 32]\ninput: [3, 32, 32]\nlayers: [relu]\n",
    "missing input": "layers:\n  - relu\n",
    "missing layers": "input: [3, 32, 32]\n",
    "empty layers": "input: [3, 32, 32]\nlayers: []\n",
    "input with five sizes": "input: [3, 8, 8, 8, 8]\nlayers: [relu]\n",
    "input of zero": "input: [3, 0, 8]\nlayers: [relu]\n",
    "unknown dtype": "input: [3, 8, 8]\ndtype: float8\nlayers: [relu]\n",
    "boolean filters": HEAD + "  - conv: {filters: yes, kernel: 3}\n",
    "float filters": HEAD + "  - conv: {filters: 6.5, kernel: 3}\n",
    "text filters": HEAD + "  - conv: {filters: '64', kernel: 3}\n",
    "zero filters": HEAD + "  - conv: {filters: 0, kernel: 3}\n",
    "unknown kind": HEAD + "  - convolution: {filters: 64, kernel: 3}\n",
    "unknown bare kind": HEAD + "  - rleu\n",
    "unknown parameter": HEAD + "  - conv: {filters: 64, kernel: 3, strides: 2}\n",
    "missing parameter": HEAD + "  - conv: {filters: 64}\n",
    "bare kind that needs parameters": HEAD + "  - conv\n",
    "main parameter alone when another is required": HEAD + "  - conv: 64\n",
    "two kinds in one layer": HEAD + "  - conv: {filters: 64, kernel: 3}\n    relu:\n",
    "a name and no kind": HEAD + "  - name: c1\n",
    "padding text": HEAD + "  - conv: {filters: 8, kernel: 3, padding: full}\n",
    "pool padding same": HEAD + "  - maxpool: {kernel: 2, padding: same}\n",
    "kernel with four sizes": HEAD + "  - conv: {filters: 8, kernel: [3, 3, 3, 3]}\n",
    "dropout of 1": HEAD + "  - dropout: 1.0\n",
    "eps of 0": HEAD + "  - batchnorm: {eps: 0}\n",
    "bias as text": HEAD + "  - fc: {units: 10, bias: 'no'}\n",
    "parameters to a kind without any": HEAD + "  - relu: 3\n",
    "name with a slash": HEAD + "  - conv: {filters: 8, kernel: 3}\n    name: a/b\n",
    "layer named input": HEAD + "  - relu:\n    name: input\n",
    "repeat without layers": HEAD + "  - repeat: 2\n",
    "repeat of zero": HEAD + "  - repeat: 0\n    layers: [relu]\n",
    "repeat with an unknown key": HEAD + "  - repeat: 2\n    layers: [relu]\n    times: 3\n",
    "a list as a layer": HEAD + "  - [relu]\n",
    "a merge that is not add or concat": HEAD + "  - branches: [[relu], []]\n    merge: sum\n",
    "one branch": HEAD + "  - branches: [[relu]]\n    merge: add\n",
    "branches without merge": HEAD + "  - branches: [[relu], []]\n",
    "branches from two inputs": HEAD + "  - relu\n  - branches: [[relu], []]\n    merge: add\n"
                                       "    from: [input, relu1]\n",
    "a group that takes from": HEAD + "  - name: g\n    layers: [relu]\n    from: input\n",
    "from as a mapping": HEAD + "  - relu:\n    from: {a: 1}\n",
    "a block named as a kind": "input: [3, 8, 8]\nblocks:\n  conv:\n    layers: [relu]\nlayers: [relu]\n",
    "a block without layers": "input: [3, 8, 8]\nblocks:\n  unit:\n    params: {f: null}\nlayers: [relu]\n",
    "a block with an unknown key": "input: [3, 8, 8]\nblocks:\n  unit:\n    layers: [relu]\n    lyers: 1\n"
                                   "layers: [unit]\n",
    "an expression in the input": "input: [$c, 8, 8]\nlayers: [relu]\n",
}

# Every way the spec format writes layers, accepted by both.
STRUCTURES = {
    "a group without repeat": HEAD + "  - name: stage\n    layers: [relu, {conv: {filters: 4, kernel: 1}}]\n",
    "nested repeats": HEAD + "  - repeat: 2\n    layers:\n      - repeat: 2\n        layers: [relu]\n",
    "branches with a one-layer branch and a shortcut": HEAD + "  - branches:\n      - conv: {filters: 3, kernel: 1}\n"
                                                             "      - []\n    merge: add\n    name: res\n",
    "concat from a list": HEAD + "  - conv: {filters: 4, kernel: 1, name: a}\n"
                                 "  - conv: {filters: 4, kernel: 1, from: input, name: b}\n"
                                 "  - concat:\n    from: [a, b]\n",
    "name and from beside the kind": HEAD + "  - relu:\n    name: r\n    from: input\n",
    "integer names": HEAD + "  - relu: {name: 1}\n  - relu: {from: 1}\n",
    "blocks with parameters and expressions": (
        "input: [16, 8, 8]\nblocks:\n  unit:\n    description: a 1x1 conv\n    params: {f: null, t: 2, b: true}\n"
        "    layers:\n      - conv: {filters: $f * $t, kernel: 1, bias: $b}\n      - repeat: $t\n        layers: [relu]\n"
        "  pair:\n    params: {f: 8}\n    layers: [unit: {f: 4}, unit: {f: $f}]\n  plain:\n    layers: [relu]\n"
        "layers:\n  - unit: {f: 8}\n  - pair\n  - plain\n  - unit: {f: 2}\n    name: last\n    from: input\n"),
}


@pytest.mark.parametrize("text", STRUCTURES.values(), ids=STRUCTURES.keys())
def test_every_structure_is_accepted_by_both(text):
    assert parser_accepts(text)
    assert schema_accepts(text)


@pytest.mark.parametrize("text", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_structural_mistake_fails_both(text):
    assert not parser_accepts(text)
    assert not schema_accepts(text)


def test_wrong_key_wrong_type_and_unknown_kind_fail_with_a_useful_path():
    errors = list(VALIDATOR.iter_errors(yaml.safe_load("input: [3, 8, 8]\nlayerz: [relu]\nlayers: [relu]\n")))
    assert any("layerz" in e.message for e in errors)
    errors = list(VALIDATOR.iter_errors(yaml.safe_load(HEAD + "  - conv: {filters: true, kernel: 3}\n")))
    assert errors and all(list(e.absolute_path)[:2] == ["layers", 0] for e in errors)


# -- agreement, value by value: for every kind, parameter and a range of values ------------------------------
VALUES = [1, 2, 0, -1, 3.5, 0.25, True, False, "same", "valid", "x", [1, 2], [2, 2, 2], [1, 2, 3, 4], [0], [], None,
          {"a": 1}]


def _required_values(kind) -> dict:
    """A valid value for each required parameter (every required parameter today is a count or a size)."""
    return {p.name: 2 for p in kind.params if p.required}


def _spec(layer) -> str:
    return yaml.safe_dump({"input": [4, 16, 16], "layers": [layer]}, sort_keys=False)


CASES = []
for _name, _kind in REGISTRY.items():
    for _value in VALUES:
        CASES.append(pytest.param({_name: _value}, id=f"{_name}: {_value!r}"))
        for _param in _kind.params:
            CASES.append(pytest.param({_name: {**_required_values(_kind), _param.name: _value}},
                                      id=f"{_name}.{_param.name}: {_value!r}"))
    CASES.append(pytest.param(_name, id=f"bare {_name}"))
    CASES.append(pytest.param({_name: {}}, id=f"{_name}: {{}}"))
    CASES.append(pytest.param({_name: None}, id=f"{_name}: null"))
    CASES.append(pytest.param({_name: {p.name: p.default if not p.required else 2 for p in _kind.params
                                       if p.default is not None}}, id=f"{_name} every default written"))


@pytest.mark.parametrize("layer", CASES)
def test_schema_and_parser_agree(layer):
    text = _spec(layer)
    assert schema_accepts(text) == parser_accepts(text), text


@pytest.mark.parametrize("name, accepted", [("conv1", True), ("layer2.basic_1-a", True), ("ünïcode", True),
                                            ("a b", False), ("a/b", False), ("a:b", False), ("$a", False),
                                            ("a\x1b[2Jb", False), ("a\x07", False), ("a\x85b", False),
                                            ("a\u202eb", False), ("a\u2066b", False)])
def test_the_schema_restricts_a_layer_names_characters_as_the_parser_does(name, accepted):
    # the parser's rule (docs/spec-format.md): printable, and no '/', ':', '$' or white space
    expected = name.isprintable() and not any(c in "/:$" or c.isspace() for c in name)
    assert expected == accepted
    spec = {"input": [3, 8, 8], "layers": [{"relu": None, "name": name}]}
    assert VALIDATOR.is_valid(spec) == accepted
    assert parser_accepts(json.dumps(spec)) == accepted  # JSON is YAML


@pytest.mark.parametrize("name, accepted", [("VGG 16", True), ("net\nover two lines", True), ("tab\there", True),
                                            ("a\x07", False), ("a\x1b[2J", False), ("a\x9b", False)])
def test_the_schema_restricts_the_spec_names_characters_as_the_parser_does(name, accepted):
    spec = {"name": name, "input": [3, 8, 8], "layers": ["relu"]}
    assert VALIDATOR.is_valid(spec) == accepted
    assert parser_accepts(json.dumps(spec)) == accepted


def test_the_spec_format_page_says_names_are_restricted():
    from .conftest import doc

    page = " ".join(doc("spec-format.md").split())
    assert "no spaces and no control characters" in page
    assert "The JSON Schema (`cnncalc schema`) restricts names' characters" in page
