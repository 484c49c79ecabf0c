"""The one table layout (render/layout.py): how columns give way to a width, golden files of every table
command at 60, 80, 120 columns and unlimited, and real pseudo-terminals of those widths.

Golden files are cnncalc's own output, kept so that a change of layout is seen in review; the facts they
must show are checked independently here (widths, whole numbers, the left-out line). After an intended
change: `python -m pytest tests/test_layout.py --update-golden`, then read the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.render.layout import FORMULA, LABEL, NOTE, NUMBER, Cell, Column, Para, Row, Table, cell_width, layout, wrap
from cnncalc.render.layout import KEEP_ROWS, Rerun, render_blocks

from .conftest import ROOT, SPECS

GOLDEN = ROOT / "tests" / "golden"
WIDTHS = (60, 80, 120, None)  # None: unlimited, as to a pipe
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# name → command line (run from the repository's root, paths relative to it)
CASES = {
    "shapes-lenet5": ["shapes", "specs/lenet5.yaml"],
    "shapes-vgg16": ["shapes", "specs/vgg16.yaml"],
    "shapes-resnet50-depth2": ["shapes", "specs/resnet50.yaml", "--depth", "2"],
    "shapes-googlenet-depth1-exact": ["shapes", "specs/googlenet.yaml", "--depth", "1", "--exact"],
    "compare-specs": ["compare", "specs/resnet18.yaml", "specs/resnet50.yaml", "specs/vgg16.yaml"],
    "compare-stacks": ["compare", "--channels", "256", "1x1@64,3x3,1x1@256", "vs", "3x3"],
    "memory-vgg16": ["memory", "specs/vgg16.yaml", "--batch", "64", "--optimizer", "adam"],
    "fit-vgg16": ["fit", "specs/vgg16.yaml", "--memory", "24GiB", "--dataset", "50000"],
    "solve": ["solve", "--input", "32", "--output", "28"],
    "layers": ["layers"],
    "layers-conv": ["layers", "conv"],
    "diff-vgg16-vgg19": ["diff", "specs/vgg16.yaml", "specs/vgg19.yaml"],
}


def table(*widths: int, roles=(LABEL, FORMULA, NUMBER, NOTE, NUMBER), priorities=(100, 55, 50, 30, 60)):
    columns = [Column(f"c{i}", f"h{i}", role, priority, right=role in (NUMBER, FORMULA))
               for i, (role, priority) in enumerate(zip(roles, priorities))]
    rows = [Row([Cell("x" * (w - 2) + " =", "r") if role == FORMULA else "y " * (w // 2) if role == NOTE else "z" * w
                 for w, role in zip(widths, roles)])]
    return Table(columns, rows)


def visible(laid) -> list[str]:
    return laid.lines[0].text.split()


# -- how columns give way -------------------------------------------------------------------------------------
def test_a_table_that_fits_is_left_whole():
    laid = layout(table(10, 20, 8, 30, 6), width=200)
    assert visible(laid) == ["h0", "h1", "h2", "h3", "h4"] and laid.left_out == [] and laid.collapsed == []


def test_formulas_collapse_first_then_notes_wrap_then_notes_go_then_numbers_by_priority():
    natural = 10 + 20 + 8 + 30 + 6 + 2 * 4
    assert layout(table(10, 20, 8, 30, 6), width=natural - 1).collapsed == ["h1"]  # the formula gives first
    laid = layout(table(10, 20, 8, 30, 6), width=natural - 20)
    assert laid.collapsed == ["h1"] and laid.left_out == []  # the note wraps
    assert max(cell_width(line.text) for line in laid.lines) <= natural - 20
    assert layout(table(10, 20, 8, 30, 6), width=40).left_out == ["h3"]  # the note goes
    assert layout(table(10, 20, 8, 30, 6), width=24).left_out == ["h2", "h3"]  # then the lower-priority number
    assert layout(table(10, 20, 8, 30, 6), width=12).left_out == ["h1", "h2", "h3", "h4"]


def test_a_label_column_is_never_left_out_and_wraps_only_as_the_last_resort():
    laid = layout(table(30, 20, 8, 30, 6), width=12)
    assert laid.left_out == ["h1", "h2", "h3", "h4"]
    assert [line.text for line in laid.lines[2:]] == ["z" * 12, "z" * 12, "z" * 6]  # the label, cut into lines


def test_wide_keeps_every_column_whole_and_columns_choose_them():
    assert layout(table(10, 20, 8, 30, 6), width=20, wide=True).left_out == []
    laid = layout(table(10, 20, 8, 30, 6), keys=["c4", "c2"])
    assert visible(laid) == ["h0", "h4", "h2"]  # the label first, always


def test_wrap_breaks_between_words_and_cuts_only_a_word_longer_than_the_line():
    assert wrap("a bb ccc dddd", 6) == ["a bb", "ccc", "dddd"]
    assert wrap("abcdefgh ij", 3) == ["abc", "def", "gh", "ij"]
    assert wrap("  indented text", 10) == ["  indented", "text"]
    assert wrap("网络 ab 网", 5) == ["网络", "ab 网"]  # measured in columns: a wide character takes two
    assert wrap("e\u0301e\u0301e\u0301 xy z", 5) == ["e\u0301e\u0301e\u0301", "xy z"]  # a combining mark none
    assert cell_width("网络") == 4 and cell_width("é") == 1 and cell_width("×") == 1
    assert cell_width("3×3 ·网") == 7 and cell_width("e\u0301×") == 2  # a wide character or a combining mark among them


def test_the_characters_measured_without_a_look_up_take_one_column_each():
    import unicodedata

    from cnncalc.render.layout import _NARROW

    assert len(_NARROW) >= 10  # ×, ·, ▾, the superscripts, ...
    for char in map(chr, _NARROW):
        assert not unicodedata.combining(char) and unicodedata.east_asian_width(char) not in "WF", char


def test_the_left_out_line_names_what_gave_way_and_the_options():
    lines = render_blocks([table(10, 20, 8, 30, 6)], width=40)
    said = " ".join(line.text for line in lines[3:])
    assert said.startswith("left out to fit 40 columns: the arithmetic of h1 (results shown); the column h3.")
    assert "--wide shows everything; --columns c0,c1,c2,c3,c4 chooses." in said


def test_paragraphs_wrap_to_the_width_and_blank_paragraphs_stay_blank():
    lines = render_blocks([Para("one two three four"), Para(""), Para("five")], width=9)
    assert [line.text for line in lines] == ["one two", "three", "four", "", "five"]


def test_rows_made_on_demand_are_made_once_for_a_small_table_and_never_all_held_for_a_large_one():
    def lines_and_walks(count: int) -> tuple[list[str], int]:
        made = []

        def make():
            made.append(1)
            return (Row([f"layer{i}", Cell(f"{i}·2 = {2 * i}", str(2 * i))]) for i in range(count))

        columns = [Column("name", "name", LABEL, 100, right=False), Column("twice", "twice", FORMULA, 50)]
        lines = [line.text for line in render_blocks([Table(columns, Rerun(make))])]
        return lines, len(made)

    small, walks = lines_and_walks(KEEP_ROWS)
    assert walks == 1 and len(small) == 2 + KEEP_ROWS
    assert small[-1].split() == [f"layer{KEEP_ROWS - 1}", f"{KEEP_ROWS - 1}·2", "=", str(2 * (KEEP_ROWS - 1))]
    large, walks = lines_and_walks(KEEP_ROWS + 1)
    assert walks == 2 and large[:-1] == small  # measured, then made again to be written
    assert large[-1].split() == [f"layer{KEEP_ROWS}", f"{KEEP_ROWS}·2", "=", str(2 * KEEP_ROWS)]


# -- every command, golden -------------------------------------------------------------------------------
def run(args: list[str], width: int | None) -> str:
    result = CliRunner().invoke(main, args + ([] if width is None else ["--width", str(width)]), catch_exceptions=False)
    assert result.exit_code in (0, 4), result.output
    return result.stdout


def golden_path(name: str, width: int | None):
    return GOLDEN / f"{name}-{width or 'unlimited'}.txt"


@pytest.mark.parametrize("width", WIDTHS, ids=[str(w or "unlimited") for w in WIDTHS])
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, width, request, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = run(CASES[name], width)
    path = golden_path(name, width)
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: python -m pytest tests/test_layout.py --update-golden"
    assert text == path.read_text(encoding="utf-8"), \
        f"{path.name} differs: if the change is intended, python -m pytest tests/test_layout.py --update-golden"
    if width is not None:
        assert max(cell_width(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("spec", ["lenet5", "vgg16", "resnet152", "googlenet", "densenet121", "unet"])
def test_every_number_of_a_narrowed_table_is_whole(spec, width):
    """Every cell a narrowed shapes table shows is a cell of the unlimited table, or its formula's result:
    nothing is split, and the names are all there."""
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_file
    from cnncalc.render.numbers import count, shape_text

    from cnncalc.render.tree import tree_rows

    report = analyze(parse_file(SPECS / f"{spec}.yaml"))
    lines = run(["shapes", str(SPECS / f"{spec}.yaml")], width).splitlines()
    assert max(cell_width(line) for line in lines) <= width
    rule = lines.index(next(line for line in lines if line.startswith("─")))
    header, body = lines[rule - 1].split(), lines[rule + 2:]  # the body after the input's row
    assert {"name", "output", "params"} <= set(header)  # the label, and the columns kept longest
    checked = 0
    for row, line in zip(tree_rows(report), body):  # one line a row: no label is long enough to wrap here
        if row.layer is None:
            continue
        checked += 1
        cells = line.replace("(", " ").replace(")", " ").split()
        assert row.label in cells and shape_text(row.layer.output_shape) in cells, line
        if "activations" in header:  # the result alone, or the whole formula
            assert count(row.layer.activation_count) in cells or "=" in cells, line
    assert checked >= 10  # the rows of layers, each looked at


def test_exact_writes_every_count_whole_in_the_table_and_markdown():
    out = run(["shapes", str(SPECS / "vgg16.yaml"), "--exact"], None)
    assert "224·224·64 = 3,211,264" in out and "1,849,688,064" in out  # conv2: 224·224·64·3·3·64 MACs
    assert "3.21M" not in out and "1.85G" not in out
    markdown = run(["shapes", str(SPECS / "vgg16.yaml"), "--exact", "--format", "markdown"], None)
    assert "224·224·64 = 3,211,264" in markdown and "3.21M" not in markdown


@pytest.mark.parametrize("args", [list(case) for case in CASES.values()], ids=sorted(CASES, key=list(CASES).index))
def test_ascii_works_for_every_command_bars_included(args):
    out = run(args + ["--ascii"], 80)
    assert out.isascii() and "?" not in out
    if args[0] == "memory":
        assert re.search(r" #{3,} +\d+\.\d%", out)  # the bars, in '#'


def test_unknown_columns_are_a_usage_error_that_lists_them():
    result = CliRunner().invoke(main, ["shapes", str(SPECS / "lenet5.yaml"), "--columns", "name,flops"])
    assert result.exit_code == 2
    assert "'flops': the columns are index,name,layer,output,activations,params,macs,rf" in result.output


# -- real terminals ----------------------------------------------------------------------------------------
def on_a_terminal(args: list[str], columns: int) -> str:
    """cnncalc's output on a pseudo-terminal `columns` wide (rich draws), without escape sequences."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals need a POSIX system")
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
    process = subprocess.Popen([sys.executable, "-m", "cnncalc", *args], stdin=slave, stdout=slave, stderr=slave,
                               env=env, cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    assert process.returncode in (0, 4)
    return ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals need a POSIX system")
@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("name", ["shapes-vgg16", "shapes-resnet50-depth2", "compare-specs", "memory-vgg16",
                                  "solve", "layers", "diff-vgg16-vgg19"])
def test_no_line_is_wider_than_the_terminal(name, columns, monkeypatch):
    monkeypatch.chdir(ROOT)
    lines = on_a_terminal(CASES[name], columns).splitlines()
    assert len(lines) > 5
    assert max(cell_width(line) for line in lines) <= columns
    assert lines == run(CASES[name], columns).splitlines()  # rich draws the same layout as the plain text
