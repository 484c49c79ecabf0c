"""libyaml's C loader, which cnncalc uses for speed when PyYAML has it, must not move or blur any error:
every problem gets the same line, column and message as with PyYAML's pure-Python SafeLoader.
The expected positions are counted by hand, in characters from 1 (an emoji is one character)."""

from __future__ import annotations

import pytest
import yaml

from cnncalc import loader, parser
from cnncalc.problems import SpecError

WITH_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
needs_libyaml = pytest.mark.skipif(not WITH_LIBYAML, reason="PyYAML was built without libyaml: "
                                                            "only the pure-Python loader exists")

# name: (spec text, line, column, a piece of the first message)
CASES = {
    "tab indent": ("input: [3, 32, 32]\nlayers:\n\t- relu\n", 3, 1, "YAML indents with spaces, not tabs"),
    "unclosed flow list": ("input: [3, 32, 32\nlayers:\n  - relu\n", 2, 7, "expected ',' or ']'"),
    "bad indent": ("input: [3, 32, 32]\nlayers:\n  - relu\n - relu\n", 4, 2, "expected <block end>"),
    "colon in a value": ("input: [3, 32, 32]\nlayers:\n  - conv: filters: 4\n", 3, 18, "mapping values are not allowed"),
    "undefined alias": ("input: [3, 32, 32]\nlayers:\n  - *nope\n", 3, 5, "undefined alias 'nope'"),
    "duplicate anchor": ("input: &a [3, 32, 32]\nname: &a x\n", 2, 7, "duplicate anchor 'a'"),
    "unknown escape": ('name: "a\\qb"\ninput: [3, 32, 32]\n', 1, 10, "unknown escape character 'q'"),
    "emoji before a syntax error": ("name: 😀😀 x: y\n", 1, 11, "mapping values are not allowed"),
    "accents and emoji before a value error": (
        'name: "Réseau — 网络"\ninput: [3, 32, 32]\nlayers:\n'
        '  - {name: "ñ😀", conv: {filters: 4, kernel: 3, stride: 2.0}}\n',
        4, 56, "write it without a decimal point",
    ),
    "CRLF line ends": ("input: [3, 32, 32]\r\nlayers:\r\n  - conv: {filters: 0, kernel: 3}\r\n", 3, 21,
                       "must be positive"),
    "block scalar before an error": ("name: |\n  two\n  lines\ninput: [3, 32, 32]\nlayers:\n  - conv: {filters: x, kernel: 3}\n",
                                     6, 21, "must be a whole number"),
    "several problems": ("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 4, kernel: 3, strde: 2}\n  - relu: 3\n",
                         3, 35, "no parameter 'strde'"),
}


def problems(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(SpecError) as caught:
        parser.parse_text(text, "t.yaml")
    return [(p.location.line, p.location.column, p.severity, p.message) for p in caught.value.problems]


@needs_libyaml
def test_cnncalc_composes_with_libyaml_when_pyyaml_has_it():
    assert issubclass(loader.LOADER, yaml.CSafeLoader)


@pytest.mark.parametrize("name", CASES)
def test_the_first_problem_is_where_it_was_counted_by_hand(name):
    text, line, column, message = CASES[name]
    first = problems(text)[0]
    assert first[:2] == (line, column)
    assert message in first[3]


@needs_libyaml
@pytest.mark.parametrize("name", CASES)
def test_every_problem_is_the_same_with_the_pure_python_loader(name, monkeypatch):
    text = CASES[name][0]
    with_libyaml = problems(text)
    monkeypatch.setattr(loader, "LOADER", yaml.SafeLoader)
    assert problems(text) == with_libyaml


def test_several_problems_are_all_reported():
    text = CASES["several problems"][0]
    assert [(line, column) for line, column, _, _ in problems(text)] == [(3, 35), (4, 11)]
