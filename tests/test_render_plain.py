"""A table going to a pipe or a file is drawn without rich: rich itself, given the same table, is the oracle."""

from __future__ import annotations

import io

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError
from cnncalc.render import plain
from cnncalc.render.plain import cell_width, plain_output, wrap
from cnncalc.render.table import render_table

from .conftest import SPECS, TEST_SPECS

WIDE = """name: 网络 ünïcode [bold]not markup[/bold] \\[x]
input: [3, 32, 32]
layers:
  - {name: 卷积_1, conv: {filters: 8, kernel: 3, padding: same, stride: 2}}
  - batchnorm
  - {name: café, relu}
  - {name: "a[dim]b", maxpool: {kernel: 3, stride: 2, ceil_mode: true}}
  - conv: {filters: 16, kernel: [3, 1], padding: [1, 0], groups: 8}
  - globalavgpool
  - flatten
  - fc: 10
  - softmax
"""
LONG_TITLE = ("name: a network whose name is much longer than its table is wide, so that the title has to wrap "
              "onto several lines, as rich wraps it, Supercalifragilisticexpialidociousnessesquelyunbreakable\n"
              "input: [4]\nlayers:\n  - fc: 2\n")
FLOORED = "name: floored\ninput: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n  - relu\n"

def _valid(path) -> bool:
    try:
        analyze(parse_file(path), floor=True)
    except SpecError:
        return False  # an invalid fixture has no table to draw
    return True


SPEC_FILES = [path for path in sorted(SPECS.glob("*.yaml")) + sorted(TEST_SPECS.glob("*.yaml")) if _valid(path)]
TEXTS = {"wide characters and markup-like names": WIDE, "a title longer than the table": LONG_TITLE,
         "floored": FLOORED}


def both(report, monkeypatch, **options) -> tuple[str, str]:
    """The table drawn directly, and drawn by rich (the oracle), both to a file."""
    direct, by_rich = io.StringIO(), io.StringIO()
    render_table(report, out=direct, **options)
    with monkeypatch.context() as patch:
        patch.setattr(plain, "plain_output", lambda out, color: False)
        render_table(report, out=by_rich, **options)
    return direct.getvalue(), by_rich.getvalue()


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("options", [{}, {"depth": 1}, {"ascii": True, "si": True}], ids=["plain", "depth 1", "ascii"])
def test_shipped_and_test_specs_read_as_rich_draws_them(path, options, monkeypatch):
    report = analyze(parse_file(path), floor=True)
    direct, by_rich = both(report, monkeypatch, **options)
    assert direct == by_rich


@pytest.mark.parametrize("name", TEXTS)
@pytest.mark.parametrize("ascii", [False, True])
def test_awkward_texts_read_as_rich_draws_them(name, ascii, monkeypatch):
    report = analyze(parse_text(TEXTS[name], "t.yaml"), floor=True, batch=4)
    direct, by_rich = both(report, monkeypatch, ascii=ascii)
    assert direct == by_rich


def test_only_pipes_and_files_without_colour_are_drawn_directly(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    assert plain_output(io.StringIO(), None) and plain_output(io.StringIO(), False)
    assert not plain_output(io.StringIO(), True)  # colour asked for: rich
    assert not plain_output(Terminal(), None)  # a terminal: rich fits the table to it
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plain_output(io.StringIO(), None)


def test_cell_width_and_wrap():
    assert cell_width("224×224×64") == 10
    assert cell_width("卷积_1") == 6
    assert cell_width("cafe\u0301") == 4
    assert wrap("one two three", 7) == ["one two ", "three"]  # "two" fits the 3 columns left exactly
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_a_word_cut_at_the_end_of_a_line_carries_its_space_to_the_next(monkeypatch):
    """rich cuts a word longer than the table into pieces the table's width; the space after a word that fills
    its last piece exactly starts the next line."""
    small = "input: [4]\nlayers:\n  - fc: 2\n"
    width = len(both(analyze(parse_text(f"name: x\n{small}", "t.yaml")), monkeypatch)[0].splitlines()[2])
    name = "n" * (2 * width - 1)  # with its colon, the title's first word fills two lines exactly
    direct, by_rich = both(analyze(parse_text(f"name: {name}\n{small}", "t.yaml")), monkeypatch)
    assert direct == by_rich
    assert direct.splitlines()[2].startswith(" input 4, float32")
    assert wrap("abcdefgh xy", 4) == ["abcd", "efgh", " xy"]
