"""Small things a reader notices: numbers beyond the suffixes, a name that an automatic one skipped."""

from __future__ import annotations

from cnncalc.engine import analyze
from cnncalc.parser import parse_text
from cnncalc.render.numbers import short
from cnncalc.render.table import FOOTNOTE


def test_counts_from_1000t_on_are_a_power_of_ten_the_footnote_explains():
    assert short(999 * 10**12) == "999T"
    assert short(10**15) == "1.00×10¹⁵"
    assert short(123_456 * 10**15) == "1.23×10²⁰"
    assert short(9_996 * 10**15) == "1.00×10¹⁹"  # 9.996 rounds up to the next power
    assert "T = " in FOOTNOTE.replace("K/M/G/T = ", "T = ") and "×10¹⁵" in FOOTNOTE


def test_an_automatic_name_that_skips_a_written_one_says_so():
    text = "input: [3, 8, 8]\nlayers:\n  - repeat: 2\n    name: r\n    layers: [relu, {relu: null, name: relu1}]\n"
    report = analyze(parse_text(text, "t.yaml"))
    names = [layer.name for layer in report.layers]
    assert names == ["r.1.relu2", "r.1.relu1", "r.2.relu2", "r.2.relu1"]
    (warning,) = report.warnings  # once for the layer of the spec, not once per repeat
    assert (warning.location.line, warning.location.column) == (5, 14)
    assert "named 'r.1.relu2', not 'r.1.relu1'" in warning.message


def test_no_warning_when_nothing_was_skipped():
    text = "input: [3, 8, 8]\nlayers:\n  - {relu: null, name: relu1}\n  - relu\n"
    assert analyze(parse_text(text, "t.yaml")).warnings == ()


def test_a_long_cell_is_cut_with_an_ellipsis_and_rows_stay_narrow(tmp_path):
    from .cli_harness import run

    inputs = 2_000
    text = ("input: [1, 4, 4]\nlayers:\n"
            + "".join(f"  - {{relu: null, name: r{i}, from: input}}\n" for i in range(inputs))
            + "  - {concat: null, from: [" + ", ".join(f"r{i}" for i in range(inputs)) + "]}\n" + "  - relu\n" * 50)
    spec = tmp_path / "wide.yaml"
    spec.write_text(text)
    table = run(["shapes", str(spec)]).stdout
    widest = max(len(line) for line in table.splitlines()[:inputs + 60])
    assert widest < 400  # each cell at most 80 characters, whatever the concat's description
    (row,) = [line for line in table.splitlines() if " concat " in f" {line} "]
    assert "…" in row
    import json

    full = json.loads(run(["shapes", str(spec), "--format", "json"]).stdout)
    assert len(full["layers"][inputs]["description"]) > 2 * inputs  # JSON keeps it whole


def test_a_trailing_backslash_shows_once_on_a_terminal(monkeypatch):
    # rich reads a backslash before '[' as an escape, and its escape() doubles a trailing backslash: names
    # reach the terminal as written, never as markup (a name is text, whatever characters it holds)
    import io
    import re

    from cnncalc.render.console import TableOptions
    from cnncalc.render.table import render_table

    from .cli_harness import run

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    text = ('name: "net\\\\"\ninput: [3, 8, 8]\nlayers:\n  - {relu: null, name: "r\\\\"}\n'
            '  - {relu: null, name: "[bold]x\\\\"}\n  - {relu: null, name: "y\\\\[b]"}\n')
    report = analyze(parse_text(text, "t.yaml"))
    assert [layer.name for layer in report.layers] == ["r\\", "[bold]x\\", "y\\[b]"]  # as YAML reads them
    monkeypatch.setenv("COLUMNS", "120")
    out = Terminal()
    render_table(report, TableOptions(color=True), out=out)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert "\x1b[" in out.getvalue()  # drawn by rich, in colour
    rows = {line.split()[1]: line for line in shown.splitlines()[4:7]}
    assert set(rows) == {"r\\", "[bold]x\\", "y\\[b]"}
    assert shown.splitlines()[0].startswith("net\\: input")
    assert "\\\\" not in shown
    monkeypatch.setenv("FORCE_COLOR", "1")
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as spec:
        spec.write(text)
    for args in (["memory", spec.name], ["compare", spec.name, spec.name]):
        result = run(args)
        assert result.exit_code == 0, result.output
        assert "\x1b[" in result.output and "\\\\" not in result.output and "net\\" in result.output, args
