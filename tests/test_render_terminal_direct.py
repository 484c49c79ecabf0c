"""A table that fits the terminal is drawn without rich: rich itself, given the same table, width and colour
settings, is the oracle, byte for byte (escape sequences, padding, wrapping under the table)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.render import terminal_direct
from cnncalc.render.console import make_console
from cnncalc.render.table import render_table

from .conftest import ROOT, SPECS, TEST_SPECS
from .test_render_plain import FLOORED, LONG_TITLE, SPEC_FILES, WIDE

SHIPPED = sorted(SPECS.glob("*.yaml"))
WIDE_ENOUGH = 200  # every shipped table's natural width is below this (ResNet-152's: 143)
OPTIONS = {"plain": {}, "depth 1": {"depth": 1}, "ascii si": {"ascii": True, "si": True}, "no-color": {"color": False},
           "depth 2 ascii no-color": {"depth": 2, "ascii": True, "color": False}}
ENVIRONMENTS = {  # rich's colour systems and the variables that change what it writes
    "standard": {"TERM": "xterm"},
    "256": {"TERM": "xterm-256color"},
    "truecolor": {"TERM": "xterm-256color", "COLORTERM": "truecolor"},
    "NO_COLOR": {"TERM": "xterm-256color", "NO_COLOR": "1"},
    "dumb terminal": {"TERM": "dumb"},
    "dumb terminal, LINES set": {"TERM": "dumb", "LINES": "40"},
    "TTY_COMPATIBLE=0": {"TERM": "xterm", "TTY_COMPATIBLE": "0"},
    "FORCE_COLOR empty": {"TERM": "xterm", "FORCE_COLOR": ""},
}
NOTES_AND_WARNINGS = TEST_SPECS / "bad_stride.yaml"  # floored: a note and a yellow warning


class Terminal(io.StringIO):
    """A stand-in for a terminal: rich takes its width from COLUMNS."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal_env(monkeypatch):
    """A 256-colour terminal WIDE_ENOUGH columns wide, none of the variables that change colour set."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLORTERM", "LINES", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(WIDE_ENOUGH))
    return monkeypatch


def both(report, monkeypatch, out_type=Terminal, rich_if_drawn=False, **options) -> tuple[str, str, bool]:
    """The table drawn by render_table as it is, and by rich (the oracle); and whether it was drawn directly.
    rich_if_drawn: rich is asked only when the table was drawn directly (else render_table's is rich's)."""
    drawn = []
    draw = terminal_direct.draw

    def spy(*args):
        text = draw(*args)
        drawn.append(text is not None)
        return text

    direct, by_rich = out_type(), out_type()
    with monkeypatch.context() as patch:
        patch.setattr(terminal_direct, "draw", spy)
        render_table(report, out=direct, **options)
    if rich_if_drawn and drawn != [True]:
        return direct.getvalue(), direct.getvalue(), False
    with monkeypatch.context() as patch:
        patch.setattr(terminal_direct, "terminal_settings", lambda out, color: None)
        render_table(report, out=by_rich, **options)
    return direct.getvalue(), by_rich.getvalue(), drawn == [True]


def rich_table_fits(by_rich: str, width: int) -> bool:
    """Whether the table rich wrote (above the footnote) is within `width` columns: rich fitted it, rather
    than let its lines overflow."""
    table = re.sub(r"\x1b\[[0-9;]*m", "", by_rich).split("(activations) in parentheses")[0]
    return max(len(line) for line in table.splitlines()) <= width


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_every_spec_reads_as_rich_writes_it_on_a_terminal(path, options, terminal_env):
    report = analyze(parse_file(path), floor=True)
    direct, by_rich, drawn = both(report, terminal_env, **options)
    assert direct == by_rich
    assert drawn  # every table fits 200 columns


@pytest.mark.parametrize("environment", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
@pytest.mark.parametrize("path", [SPECS / "vgg16.yaml", SPECS / "resnet18.yaml", NOTES_AND_WARNINGS],
                         ids=lambda p: p.name)
def test_colour_systems_and_colour_variables(path, environment, terminal_env):
    for name, value in environment.items():
        terminal_env.setenv(name, value)
    report = analyze(parse_file(path), floor=True)
    for options in ({"depth": 1}, {"color": False}):
        direct, by_rich, drawn = both(report, terminal_env, **options)
        assert direct == by_rich
        # a dumb terminal is 80 columns wide for rich: there only what rich fits is drawn directly
        assert drawn == (environment != ENVIRONMENTS["dumb terminal"] or rich_table_fits(by_rich, 80))


def test_escape_sequences_as_rich_writes_them(terminal_env):
    """What the comparisons above cover, spelt out once: italic title, bold header, dim cells, bold groups."""
    direct, _, _ = both(analyze(parse_file(SPECS / "resnet18.yaml")), terminal_env, depth=1)
    lines = direct.splitlines()
    assert lines[0].startswith("\x1b[3mResNet-18: input 224×224×3") and lines[0].endswith(" \x1b[0m")
    assert lines[1].startswith("\x1b[1m    #\x1b[0m\x1b[1m \x1b[0m \x1b[1mname    \x1b[0m\x1b[1m \x1b[0m ")
    assert "  \x1b[2m(112·112·64 = 803K)\x1b[0m  " in direct
    group = ("\x1b[1m 5–18\x1b[0m\x1b[1m \x1b[0m \x1b[1m▸ layer1\x1b[0m\x1b[1m \x1b[0m "
             "\x1b[1;2m14 layers\x1b[0m\x1b[1m   ")  # bold padding and cells, the spaces between unstyled
    assert group in direct


@pytest.mark.parametrize("forced", [{"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}, {}],
                         ids=["FORCE_COLOR", "TTY_COMPATIBLE", "--color"])
def test_colour_forced_onto_a_pipe(forced, terminal_env):
    for name, value in forced.items():
        terminal_env.setenv(name, value)
    report = analyze(parse_file(NOTES_AND_WARNINGS), floor=True)
    direct, by_rich, drawn = both(report, terminal_env, out_type=io.StringIO, **({} if forced else {"color": True}))
    assert direct == by_rich and drawn
    assert "\x1b[33m" in direct


@pytest.mark.parametrize("path, width", [(SPECS / "lenet5.yaml", 103), (SPECS / "lenet5.yaml", 110),
                                         (SPECS / "lenet5.yaml", 125), (NOTES_AND_WARNINGS, 84),
                                         (NOTES_AND_WARNINGS, 91)], ids=lambda x: getattr(x, "name", x))
@pytest.mark.parametrize("options", [{"batch": 8}, {"batch": 8, "ascii": True}, {"color": False}],
                         ids=["unicode", "ascii", "no-color"])
def test_lines_under_the_table_wrap_as_rich_wraps_them(path, width, options, terminal_env):
    # the tables are 103 (LeNet-5) and 84 columns wide; the totals, notes and warnings lines are longer
    terminal_env.setenv("COLUMNS", str(width))
    options = dict(options)
    report = analyze(parse_file(path), floor=True, batch=options.pop("batch", 1))
    direct, by_rich, drawn = both(report, terminal_env, **options)
    assert direct == by_rich and drawn
    lines = direct.splitlines()
    assert max(len(line) for line in lines if "\x1b" not in line) == width  # some line wraps at the edge


def test_a_title_longer_than_the_table_wraps_as_rich_wraps_it(terminal_env):
    report = analyze(parse_text(LONG_TITLE, "t.yaml"), floor=True)
    direct, by_rich, drawn = both(report, terminal_env)
    assert direct == by_rich and drawn


def test_a_word_cut_at_the_end_of_a_line_carries_its_space_to_the_next(terminal_env):
    """rich cuts a word longer than the table into pieces the table's width; the space after a word that fills
    its last piece exactly starts the next line."""
    small = "input: [4]\nlayers:\n  - fc: 2\n"
    report = analyze(parse_text(f"name: x\n{small}", "t.yaml"))
    width = next(len(line) for line in both(report, terminal_env)[0].splitlines() if line.startswith("─"))
    name = "n" * (2 * width - 1)  # with its colon, the title's first word fills two lines exactly
    report = analyze(parse_text(f"name: {name}\n{small}", "t.yaml"))
    direct, by_rich, drawn = both(report, terminal_env)
    assert direct == by_rich and drawn
    title = direct.splitlines()[:3]
    assert title[:2] == [f"\x1b[3m{'n' * width}\x1b[0m", f"\x1b[3m{'n' * (width - 1)}:\x1b[0m"]
    assert title[2].startswith("\x1b[3m input 4, float32")


MARKUP = """name: "[bold]not markup[/bold] \\\\[x] :smile: tail\\\\"
input: [3, 16, 16]
layers:
  - {name: "a[dim]b", conv: {filters: 4, kernel: 3}}
  - {name: "[bold]x", relu}
  - maxpool: 2
  - flatten
  - fc: 10
"""


@pytest.mark.parametrize("text", [WIDE, FLOORED, MARKUP], ids=["wide characters", "floored", "markup-like names"])
@pytest.mark.parametrize("ascii", [False, True])
def test_awkward_texts(text, ascii, terminal_env):
    report = analyze(parse_text(text, "t.yaml"), floor=True, batch=4)
    direct, by_rich, drawn = both(report, terminal_env, ascii=ascii)
    assert direct == by_rich
    assert drawn == (text.isascii() or ascii)  # 网 and 卷积 are two columns wide: rich measures them


@pytest.mark.parametrize("width", [122, 100, 82, 81, 60])
def test_a_table_wider_than_the_terminal_is_fitted_as_rich_fits_it(width, terminal_env):
    terminal_env.setenv("COLUMNS", str(width))  # VGG16's table is 123 columns wide; its least width 82
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    direct, by_rich, drawn = both(report, terminal_env)
    assert direct == by_rich
    assert drawn == (width >= 82) == rich_table_fits(by_rich, width)  # else rich lets the lines overflow
    if width >= 82:  # the table fills the terminal (render/terminal.py), its rows on several lines
        table = re.sub(r"\x1b\[[0-9;]*m", "", direct.split("\x1b[2m(activations)")[0])
        assert max(len(line) for line in table.splitlines()) == width
        assert len(table.splitlines()) > 3 + 32 + (width < 100)


FITTED_WIDTHS = [80, 90, 100, 110, 120]  # common terminals; every shipped table is 103 to 146 columns wide
FITTED_OPTIONS = {"depth 1": {"depth": 1}, "ascii": {"ascii": True}, "no-color": {"color": False}}
_REPORTS: dict = {}


@pytest.mark.parametrize("width", FITTED_WIDTHS)
@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_spec_fitted_to_a_narrower_terminal_reads_as_rich_writes_it(path, width, terminal_env):
    """Columns shrunk by role, cells wrapped onto several lines, the padding under a shorter cell: byte for
    byte rich's; drawn directly exactly where rich fits the table (at 80 columns most shipped tables cannot
    shrink enough, and rich lets their lines overflow)."""
    if path not in _REPORTS:
        _REPORTS[path] = analyze(parse_file(path), floor=True)
    terminal_env.setenv("COLUMNS", str(width))
    for options in FITTED_OPTIONS.values():
        direct, by_rich, drawn = both(_REPORTS[path], terminal_env, rich_if_drawn=True, **options)
        assert direct == by_rich
        assert drawn == rich_table_fits(by_rich, width)
        if width >= 90 and path.parent == SPECS:
            assert drawn  # every shipped table fits 90 columns


FOLDED = """name: folded
input: [3, 32, 32]
layers:
  - {name: a_layer_name_much_longer_than_eight_columns, conv: {filters: 8, kernel: 3, padding: same}}
  - {name: short, relu}
  - {name: grp, repeat: 2, layers: [{conv: {filters: 8, kernel: 3, padding: same}}, relu]}
  - flatten
  - fc: 10
"""


@pytest.mark.parametrize("width", range(70, 112, 3))
@pytest.mark.parametrize("options", [{}, {"depth": 1}], ids=["plain", "depth 1"])
def test_words_longer_than_a_narrowed_column_are_cut_as_rich_cuts_them(width, options, terminal_env):
    terminal_env.setenv("COLUMNS", str(width))
    report = analyze(parse_text(FOLDED, "t.yaml"), floor=True)
    direct, by_rich, drawn = both(report, terminal_env, **options)
    assert direct == by_rich
    assert drawn == rich_table_fits(by_rich, width)


def test_a_row_on_several_lines_as_rich_writes_it(terminal_env):
    """Spelt out once: under a shorter cell of a bold row, its width and padding in one bold run."""
    terminal_env.setenv("COLUMNS", "82")  # the least width of ResNet-18's table at depth 1
    direct, by_rich, drawn = both(analyze(parse_file(SPECS / "resnet18.yaml"), floor=True), terminal_env, depth=1)
    assert direct == by_rich and drawn
    lines = direct.splitlines()
    group = next(i for i, line in enumerate(lines) if "\x1b[1m▸ layer1" in line)
    assert "\x1b[1;2m14 \x1b[0m\x1b[1m     \x1b[0m\x1b[1m \x1b[0m " in lines[group]  # wrapped, its space dim
    assert lines[group + 1].startswith("\x1b[1m      \x1b[0m \x1b[1m         \x1b[0m \x1b[1;2mlayers\x1b[0m")
    input_row = "    0  input     input      224×224×3  224·224·3 ="
    first = next(i for i, line in enumerate(lines) if line.startswith(input_row))
    assert lines[first + 1] == f"{'151K':>50}{'':32}"  # a row on two lines, unstyled, as wide as the table


def test_vgg16_is_drawn_directly_from_its_natural_width(terminal_env):
    terminal_env.setenv("COLUMNS", "123")
    direct, by_rich, drawn = both(analyze(parse_file(SPECS / "vgg16.yaml")), terminal_env)
    assert direct == by_rich and drawn


# -- rich's decisions, taken as rich takes them ------------------------------------------------------------
CONSOLES = {
    "COLUMNS": {"COLUMNS": "97"},
    "COLUMNS and LINES": {"COLUMNS": "97", "LINES": "30"},
    "dumb, COLUMNS": {"TERM": "dumb", "COLUMNS": "97"},
    "dumb, COLUMNS and LINES": {"TERM": "unknown", "COLUMNS": "97", "LINES": "30"},
    "no COLUMNS": {},
    "COLUMNS 0": {"COLUMNS": "0"},
    "NO_COLOR": {"NO_COLOR": "x"},
    "NO_COLOR empty": {"NO_COLOR": ""},
    "FORCE_COLOR": {"FORCE_COLOR": "1"},
    "FORCE_COLOR empty": {"FORCE_COLOR": ""},
    "TTY_COMPATIBLE=1": {"TTY_COMPATIBLE": "1"},
    "TTY_COMPATIBLE=0": {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
    "dumb, forced": {"TERM": "dumb", "FORCE_COLOR": "1"},  # a pipe: 80 columns, not the unlimited width
}


@pytest.mark.parametrize("environment", CONSOLES.values(), ids=CONSOLES.keys())
@pytest.mark.parametrize("out_type", [Terminal, io.StringIO], ids=["terminal", "pipe"])
@pytest.mark.parametrize("color", [None, False, True])
def test_settings_are_rich_consoles(environment, out_type, color, terminal_env):
    terminal_env.delenv("COLUMNS")
    for name, value in environment.items():
        terminal_env.setenv(name, value)
    out = out_type()
    settings = terminal_direct.terminal_settings(out, color)
    console = make_console(out, color)
    if settings is None:  # a pipe or a file without colour: render/plain.py's
        assert out_type is io.StringIO and not console.is_terminal
        return
    assert settings.width == console.width
    assert settings.styled == (console.color_system is not None)
    assert settings.colour == (not console.no_color)
    assert settings.trimmed == (out_type is io.StringIO)


def test_one_column_characters_are_one_column_for_rich():
    from rich.cells import cell_len

    symbols = terminal_direct.CNNCALC_SYMBOLS
    assert cell_len(symbols) == len(symbols) and all(cell_len(f"a{c}b") == 3 for c in symbols)
    everything = "".join(chr(c) for low, high in terminal_direct.ONE_COLUMN_RANGES for c in range(low, high + 1))
    assert cell_len(everything) == len(everything) and terminal_direct.one_column([everything, symbols])
    assert not terminal_direct.one_column(["卷积"]) and not terminal_direct.one_column(["a\tb"])
    assert not terminal_direct.one_column(["e\u0301"])  # a combining accent: rich measures the cluster


# -- on a real terminal ------------------------------------------------------------------------------------
PROBE = """
import sys
from cnncalc.cli import main
try:
    main(sys.argv[1:], prog_name="cnncalc")
except SystemExit as done:
    code = done.code
print("exit", code, "rich", sorted(name for name in sys.modules if name.split(".")[0] == "rich"), file=sys.stderr)
"""


def on_a_pseudo_terminal(*args: str, columns: int) -> tuple[str, str]:
    """Run `cnncalc ARGS` with its output on a pseudo-terminal `columns` wide: what it wrote there, and its
    report of the rich modules it imported."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        try:
            while chunk := os.read(master, 65536):
                chunks.append(chunk)
        except OSError:  # the child closed its end
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {name: value for name, value in os.environ.items()
           if name not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLORTERM")}
    env.update(TERM="xterm-256color", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, *args], stdin=subprocess.DEVNULL, stdout=slave,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, timeout=60)
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return b"".join(chunks).decode().replace("\r\n", "\n"), done.stderr.strip().splitlines()[-1]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("columns", [160, 100], ids=["wide enough", "narrower: the table is fitted"])
def test_on_a_terminal_rich_is_not_imported_and_the_output_is_richs(monkeypatch, columns):
    written, report = on_a_pseudo_terminal("shapes", str(SPECS / "vgg16.yaml"), columns=columns)
    assert report == "exit 0 rich []"
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLORTERM", "LINES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(columns))
    by_rich = Terminal()
    with monkeypatch.context() as patch:
        patch.setattr(terminal_direct, "terminal_settings", lambda out, color: None)
        render_table(analyze(parse_file(SPECS / "vgg16.yaml")), out=by_rich)
    assert written == by_rich.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_on_a_terminal_too_narrow_for_the_table_rich_draws_it():
    written, report = on_a_pseudo_terminal("shapes", str(SPECS / "vgg16.yaml"), columns=80)
    assert report.startswith("exit 0 rich [") and "'rich.table'" in report
    assert "102,764,544" in written
