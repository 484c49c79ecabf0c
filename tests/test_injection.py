"""Text from a spec cannot act on what reads cnncalc's output: a CI log (workflow commands), a terminal
(escape sequences), GitHub's Markdown and HTML, a spreadsheet (formulas), a Python module (class names).

The oracles are the readers' own rules, written here: GitHub Actions runs a `::command::` only at the
start of a line; GitHub's table parser splits a row at every '|' that a backslash does not escape (a
backslash escapes the character after it, a backslash included); OWASP's CSV injection rule lists the
characters a spreadsheet reads as the start of a formula.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from cnncalc.render.safe import csv_text, markdown_text, visible

from .cli_harness import run
from .conftest import torch_or_skip

FORGED = "net\n::error file=x.yaml,line=1::forged\n::stop-commands::token\nchecked 1 spec: 1 valid\n\x1b[2J"
NAMED = ("name: |\n  net\n  ::error file=x.yaml,line=1::forged\n  ::stop-commands::token\n  checked 1 spec: 1 valid\n"
         "input: [3, 8, 8]\nlayers:\n  - {conv: {filters: 4, kernel: 3, padding: 1}, name: '=1+2'}\n"
         "  - {relu: null, name: '@SUM(1+1)'}\n  - {relu: null, name: 'a\\|b'}\n  - {relu: null, name: '<img>'}\n"
         "  - {add: null, from: ['=1+2', '<img>'], name: '-x'}\n")


def _gfm_row_cells(line: str) -> list[str]:
    """GitHub's table row split: '|' separates cells unless escaped; a backslash escapes the next character."""
    cells, cell, index = [], "", 0
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            cell += text[index:index + 2]
            index += 2
            continue
        if char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
        index += 1
    if cell.strip():
        cells.append(cell)
    return cells


def _assert_no_forged_line(output: str, where: str) -> None:
    """No workflow command, no escape sequence; check's own summary line once at most."""
    lines = output.splitlines()
    for line in lines:
        assert not line.startswith("::"), f"{where}: {line!r}"
        assert "\x1b" not in line, f"{where}: {line!r}"
    assert sum(line.startswith("checked 1 spec") for line in lines) <= where.startswith("check"), where


@pytest.mark.parametrize("args", [["shapes", "--no-color"], ["shapes", "--format", "markdown"],
                                  ["shapes", "--format", "csv"], ["memory"], ["memory", "--format", "markdown"],
                                  ["fit", "--memory", "24GiB"], ["export", "torch"], ["check"],
                                  ["check", "--format", "github"]])
def test_a_spec_name_cannot_forge_lines_in_the_output(tmp_path, args):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    words = args[:2] if args[0] == "export" else args[:1]
    result = run([*words, str(spec), *args[len(words):]])
    assert result.exit_code == 0, result.output
    _assert_no_forged_line(result.output, " ".join(args))
    if args[0] not in ("check", "export") and "csv" not in args:
        assert "net\\n::error file=x.yaml,line=1::forged" in result.output.replace("\\\\", "\\")


def test_compare_shows_spec_names_on_one_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    for fmt in ("table", "markdown"):
        result = run(["compare", str(spec), str(spec), "--format", fmt, "--no-color"])
        assert result.exit_code == 0, result.output
        _assert_no_forged_line(result.output, f"compare --format {fmt}")


def test_json_keeps_the_name_exact_and_on_one_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    result = run(["shapes", str(spec), "--format", "json"])
    _assert_no_forged_line(result.output, "json")
    assert json.loads(result.output)["name"] == FORGED[:FORGED.index("\x1b")]


def test_the_exported_docstring_shows_the_name_on_one_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    source = run(["export", "torch", str(spec)]).output
    first = source.splitlines()[0]
    assert first.startswith('"""net\\\\n::error file=x.yaml')  # the two characters \ n, escaped in the docstring
    compile(source, "exported.py", "exec")


def test_github_format_escapes_terminal_sequences_from_the_spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('input: [3, 8, 8]\nlayers:\n  - "\\e]8;;https://evil.example\\aclick\\e]8;;\\a\\e[2J"\n')
    for fmt in ("text", "github", "json"):
        result = run(["check", "--format", fmt, str(spec)])
        assert result.exit_code == 1
        assert "\x1b" not in result.output and "\x07" not in result.output, fmt
    assert "\\x1b]8;;https://evil.example\\x07click" in run(["check", "--format", "github", str(spec)]).output


def test_markdown_keeps_every_row_at_eight_cells_and_no_html(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED.replace("name: |\n  net\n", "name: |\n  <img src=x onerror=alert(1)> [x](javascript:y)\n"))
    output = run(["shapes", str(spec), "--format", "markdown"]).output
    rows = [line for line in output.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 5  # the header, its rule, five layers
    assert all(len(_gfm_row_cells(row)) == 8 for row in rows), rows
    assert "<img" not in output.replace("\\<img", "")
    assert "](" not in output.replace("\\](", "")
    name_cells = [_gfm_row_cells(row)[1].strip() for row in rows[2:]]
    assert name_cells[2] == "a\\\\\\|b"  # a, escaped backslash, escaped pipe: GitHub shows a\|b


def test_markdown_text_reads_back_as_written():
    # CommonMark: a backslash before ASCII punctuation stands for that character
    for text in ["a\\|b", "<img src=x>", "*x*", "_x_", "conv1_1", "[a](b)", "`x`", "&amp;", "#1", "a\\"]:
        escaped = markdown_text(text)
        assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", escaped) == text
        assert not re.search(r"(?<!\\)(?:\\\\)*[|<>*\[\]`]", escaped.replace("\\\\", "")), escaped


@pytest.mark.parametrize("name", ["=1+2", "+1", "-1", "@SUM(1+1)", "\t=1", "\r=1"])
def test_csv_cells_a_spreadsheet_would_run_are_prefixed(name):
    cell = csv_text(name)
    assert cell.startswith("'") and not cell[1:].startswith(("\t", "\r"))


def test_csv_output_prefixes_names_that_start_a_formula(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    rows = list(csv.DictReader(io.StringIO(run(["shapes", str(spec), "--format", "csv"]).output)))
    names = [row["name"] for row in rows]
    assert names == ["'=1+2", "'@SUM(1+1)", "a\\|b", "<img>", "'-x"]
    assert all(not row["description"].startswith(("=", "+", "-", "@")) for row in rows)


def test_lone_surrogates_are_escaped_in_every_check_format(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('input: [3, 8, 8]\nlayers:\n  - "\\ud800"\n')
    outputs = {}
    for fmt in ("text", "github", "json"):
        result = run(["check", "--format", fmt, str(spec)])
        assert result.exit_code == 1, result.output
        outputs[fmt] = result.stdout
        result.stdout.encode("utf-8")  # strict: no lone surrogate left
    assert "unknown layer kind 'U+D800'" in outputs["text"] + outputs["github"]
    assert json.loads(outputs["json"])["files"][0]["problems"][0]["message"].startswith("unknown layer kind '\ud800'")
    assert "\\ud800" in outputs["json"]


def test_visible_makes_controls_and_surrogates_visible():
    assert visible("a\nb\tc\x1b[2J\x07\u202e\ud800 d") == "a\\nb\\tc\\x1b[2J\\x07\\u202e" + "U+D800 d"
    assert visible("plain name ×") == "plain name ×"


@pytest.mark.parametrize("text, file", [("name: add\n", "net.yaml"), ("name: concat\n", "net.yaml"),
                                        ("", "add.yaml"), ("name: Add Net\n", "net.yaml")])
def test_exported_class_never_shadows_a_helper(tmp_path, text, file):
    from cnncalc.export.torch import torch_export
    from cnncalc.parser import parse_text

    spec_text = text + ("input: [4, 8, 8]\nlayers:\n  - {conv: {filters: 4, kernel: 3, padding: 1}, name: a}\n"
                        "  - {add: null, from: [input, a]}\n  - {conv: {filters: 2, kernel: 1}, name: b}\n"
                        "  - {concat: null, from: [a, b]}\n")
    exported = torch_export(parse_text(spec_text, str(tmp_path / file)))
    helpers = set(re.findall(r"^class (\w+)\(", exported.source, re.MULTILINE)) - {exported.class_name}
    assert helpers == {"Add", "Concat"}
    assert exported.class_name not in helpers
    torch = torch_or_skip()
    namespace: dict = {}
    exec(compile(exported.source, file, "exec"), namespace)  # noqa: S102 - the module cnncalc wrote
    model = namespace[exported.class_name]()
    assert tuple(model(torch.zeros(2, 4, 8, 8)).shape) == (2, 6, 8, 8)


@pytest.mark.parametrize("args", [["shapes", "--format", "json"], ["shapes", "--format", "html"],
                                  ["shapes", "--format", "svg"], ["shapes", "--format", "dot"],
                                  ["memory", "--format", "json"], ["memory", "--format", "csv"],
                                  ["fit", "--memory", "24GiB", "--format", "json"], ["check", "--format", "sarif"],
                                  ["check", "--format", "junit"], ["check", "--format", "json"]])
def test_a_spec_name_cannot_forge_lines_in_the_other_formats(tmp_path, args):
    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    result = run([args[0], str(spec), *args[1:]])
    assert result.exit_code == 0, result.output
    _assert_no_forged_line(result.output, " ".join(args))


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_compare_and_diff_show_spec_names_on_one_line_in_every_format(tmp_path, fmt):
    from .conftest import SPECS

    spec = tmp_path / "s.yaml"
    spec.write_text(NAMED)
    result = run(["compare", str(spec), str(spec), "--format", fmt])
    assert result.exit_code == 0, result.output
    _assert_no_forged_line(result.output, f"compare --format {fmt}")
    result = run(["diff", str(spec), str(SPECS / "vgg16.yaml")])
    assert result.exit_code == 0, result.output
    _assert_no_forged_line(result.output, "diff")
