"""Terminal manners: widths (no number ever split), pipes (no wrapping, no cropping), NO_COLOR and --no-color,
--ascii, standard input and shell completion."""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.render.ascii import to_ascii
from cnncalc.render.numbers import (
    activation_arithmetic,
    param_arithmetic,
    receptive_field_text,
    shape_text,
    short,
)
from cnncalc.render.console import TableOptions
from cnncalc.render.table import render_table

from .conftest import SPECS, TEST_SPECS

ANSI = re.compile(r"\x1b\[[0-9;]*m")
YELLOW = "\x1b[33m"  # how rich starts the warning lines' colour
SHIPPED = sorted(SPECS.glob("*.yaml"))


class Terminal(io.StringIO):
    """A stand-in for a terminal: rich takes its width from COLUMNS."""

    def isatty(self) -> bool:
        return True


def table_text(report, out, **options) -> str:
    render_table(report, TableOptions(**options), out=out)
    return ANSI.sub("", out.getvalue())


def number_terms(layer) -> list[str]:
    """Every number a row shows whatever the width: its output shape and, when its arithmetic collapses to
    the result, the activations ('3.21M')."""
    return [shape_text(layer.output_shape), short(layer.activation_count)]


# -- widths -------------------------------------------------------------------------------------------------
def fitted_table_lines(path, width: int, monkeypatch) -> tuple[object, list[str]]:
    monkeypatch.setenv("COLUMNS", str(width))
    report = analyze(parse_file(path))
    lines = table_text(report, Terminal(), color=False).splitlines()
    return report, lines[: lines.index(next(line for line in lines if line.startswith(("left out", "(activations)"))))]


def assert_no_number_split(report, lines: list[str]) -> None:
    for layer in report.layers:
        for term in number_terms(layer):
            assert any(re.search(rf"(?<![\w.,·×]){re.escape(term)}(?![\w.,·×])", line) for line in lines), \
                f"{layer.name}: {term!r} is split or missing"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_100_column_terminal_never_splits_a_number(path, monkeypatch):
    report, lines = fitted_table_lines(path, 100, monkeypatch)
    assert max(len(line) for line in lines) <= 100
    assert_no_number_split(report, lines)


@pytest.mark.parametrize("width", [60, 80])
def test_vgg16_fits_narrow_terminals_without_splitting_a_number(width, monkeypatch):
    report, lines = fitted_table_lines(SPECS / "vgg16.yaml", width, monkeypatch)
    assert max(len(line) for line in lines) <= width
    assert_no_number_split(report, lines)


def test_vgg16_is_wider_than_100_columns_so_the_fitting_is_exercised():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    assert max(len(line) for line in table_text(report, io.StringIO()).splitlines()) > 100


def test_a_40_column_terminal_keeps_the_names_and_whole_numbers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    text = table_text(report, Terminal(), color=False)
    assert max(len(line) for line in text.splitlines()) <= 40
    assert all(layer.name in text for layer in report.layers)
    assert "15,470,264,320" in text  # the totals wrap between words, never inside a number


# -- pipes --------------------------------------------------------------------------------------------------
def test_piped_rows_are_one_line_each_and_nothing_is_cropped():
    name = "a" * 300
    report = analyze(parse_text(f"input: [3, 8, 8]\nlayers:\n  - conv: {{filters: 4, kernel: 3}}\n    name: {name}\n",
                                "t.yaml"))
    lines = table_text(report, io.StringIO()).splitlines()
    (row,) = [line for line in lines if line.split()[:2] == ["1", name]]  # the row (the summary names it too)
    assert row.split()[1:] == [name, "conv", "3×3/1,", "p0,", "4", "6×6×4", "6·6·4", "=", "144", "(3·3·3)·4",
                               "+", "4", "=", "112", "3,888", "3", "/1"]


def test_piped_vgg16_rows_hold_their_whole_arithmetic():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    lines = table_text(report, io.StringIO()).splitlines()
    for layer in report.layers:
        (row,) = [line for line in lines if line.split()[:2] == [str(layer.index), layer.name]]
        assert param_arithmetic(layer) in row and activation_arithmetic(layer) in row


# -- colour -------------------------------------------------------------------------------------------------
def floored_report():
    return analyze(parse_file(TEST_SPECS / "bad_stride.yaml"), floor=True)  # a warning line, in yellow


def test_a_terminal_gets_colour_and_no_color_removes_it(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Terminal()
    render_table(floored_report(), out=out)
    assert YELLOW in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = Terminal()
    render_table(floored_report(), out=out)
    assert YELLOW not in out.getvalue()


@pytest.mark.parametrize("args", [
    ["--no-color", "shapes", "--floor", str(TEST_SPECS / "bad_stride.yaml")],
    ["shapes", "--floor", "--no-color", str(TEST_SPECS / "bad_stride.yaml")],
])
def test_no_color_option_before_or_after_the_command(args, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = CliRunner().invoke(main, [a for a in args if a != "--no-color"], env={"FORCE_COLOR": "1"})
    assert coloured.exit_code == 0 and YELLOW in coloured.stdout
    plain = CliRunner().invoke(main, args, env={"FORCE_COLOR": "1"})
    assert plain.exit_code == 0
    assert YELLOW not in plain.stdout and "floored to 2" in plain.stdout


def test_no_colour_when_piped(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    result = CliRunner().invoke(main, ["shapes", "--floor", str(TEST_SPECS / "bad_stride.yaml")])
    assert result.exit_code == 0 and "\x1b[" not in result.stdout


# -- ASCII --------------------------------------------------------------------------------------------------
def test_to_ascii_spells_out_cnncalcs_symbols():
    assert to_ascii("conv 3×3/1 (224·224·64 = 3.21M)") == "conv 3x3/1 (224*224*64 = 3.21M)"
    assert to_ascii("(7 − 3 + 2·0)/3 + 1; K/M/G = 10³/10⁶/10⁹; 1024²") == "(7 - 3 + 2*0)/3 + 1; K/M/G = 10^3/10^6/10^9; 1024^2"
    assert to_ascii("x·Φ(x) for x ≥ 0 … ├─ a") == "x*Phi(x) for x >= 0 ... |- a"
    assert to_ascii("Réseau 网") == "Reseau ?"
    assert to_ascii("plain") == "plain"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
@pytest.mark.parametrize("where", ["before", "after"])
def test_ascii_table_is_pure_ascii(path, where):
    args = ["--ascii", "shapes", str(path)] if where == "before" else ["shapes", str(path), "--ascii"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert result.stdout.isascii()
    assert "?" not in result.stdout  # every symbol cnncalc writes has its ASCII spelling
    assert "\n---" in result.stdout and " x " not in result.stdout  # the rule under the header; x only in shapes


def test_ascii_compare_table():
    result = CliRunner().invoke(main, ["compare", "3x3x3", "vs", "7x7", "--ascii"])
    assert result.exit_code == 0 and result.stdout.isascii() and "?" not in result.stdout
    assert "27C^2" in result.stdout and "49C^2 (1.81x)" in result.stdout  # the lecture's 27C² against 49C²


def test_ascii_problem_lines():
    result = CliRunner().invoke(main, ["--ascii", "check", str(TEST_SPECS / "bad_stride.yaml")])
    assert result.exit_code == 1
    assert "(7 - 3 + 2*0)/3 + 1 = 2.33 is not an integer" in result.stdout and result.stdout.isascii()


# -- standard input, completion -----------------------------------------------------------------------------
def test_dash_reads_the_spec_from_standard_input():
    text = (SPECS / "vgg16.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["shapes", "--format", "json", "-"], input=text)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["source"] == "<stdin>" and data["totals"]["params"] == 138_357_544  # torchvision's VGG16


def test_bash_completion_script():
    result = CliRunner().invoke(main, [], prog_name="cnncalc", env={"_CNNCALC_COMPLETE": "bash_source"})
    assert result.exit_code == 0
    assert "_cnncalc_completion" in result.stdout and "complete " in result.stdout


def test_completion_of_commands():
    result = CliRunner().invoke(main, [], prog_name="cnncalc",
                                env={"_CNNCALC_COMPLETE": "bash_complete", "COMP_WORDS": "cnncalc sh",
                                     "COMP_CWORD": "1"})
    assert result.stdout.split() == ["plain,shapes"]
