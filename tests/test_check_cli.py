"""`cnncalc check`: formats, --strict, standard input, exit codes 0/1/2/3, and no rich import on the text path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import cnncalc.engine
from cnncalc.cli import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

from .conftest import ROOT, SPECS, TEST_SPECS

BAD = str(TEST_SPECS / "bad_stride.yaml")
GOOD = str(SPECS / "vgg16.yaml")


def run(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def test_exit_codes_are_the_documented_ones():
    assert (EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL) == (0, 1, 2, 3)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in range(4):
        assert f"\n| {code} | " in readme


def test_valid_spec_exits_0_with_no_output():
    result = run("check", GOOD)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "checked 1 spec: 1 valid, 0 invalid (0 errors)\n"


def test_invalid_spec_exits_1_with_file_line_col_error():
    result = run("check", GOOD, BAD)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{BAD}:4:5: error: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer; padding 1 gives 3; "
        "stride 2 gives 3 (or write 'round: floor' on the layer, or pass --floor, to floor it as frameworks do)"
    ]
    assert result.stderr == "checked 2 specs: 1 valid, 1 invalid (1 error)\n"


def test_bare_kind_that_needs_parameters_is_exit_1_not_an_internal_error():
    result = run("check", "-", input="input: [3, 8, 8]\nlayers:\n  - conv\n")
    assert result.exit_code == 1
    assert result.stdout == ("<stdin>:3:5: error: conv needs 'filters' and 'kernel'; "
                             "write 'conv: {filters: ..., kernel: ...}'\n")


def test_floor_gives_a_warning_and_exit_0_strict_makes_it_exit_1():
    floored = run("check", "--floor", BAD)
    assert floored.exit_code == 0
    assert floored.stdout.startswith(f"{BAD}:4:5: warning: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 floored to 2")
    assert "1 warning" in floored.stderr
    strict = run("check", "--floor", "--strict", BAD)
    assert strict.exit_code == 1
    assert strict.stdout.startswith(f"{BAD}:4:5: error: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 floored to 2")


def test_strict_without_warnings_changes_nothing():
    assert run("check", "--strict", GOOD).exit_code == 0
    assert run("check", "--strict", BAD).exit_code == 1


def test_dash_reads_the_spec_from_standard_input():
    text = (TEST_SPECS / "bad_stride.yaml").read_text(encoding="utf-8")
    result = run("check", "-", input=text)
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:4:5: error: conv 'conv1'")
    good = run("check", "-", input=(SPECS / "vgg16.yaml").read_text(encoding="utf-8"))
    assert good.exit_code == 0


def test_json_format():
    result = run("check", "--format", "json", GOOD, BAD)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert [(f["file"], f["valid"]) for f in data["files"]] == [(GOOD, True), (BAD, False)]
    (problem,) = data["files"][1]["problems"]
    assert (problem["line"], problem["column"], problem["severity"], problem["layer"]) == (4, 5, "error", "conv1")
    assert result.stderr == ""  # JSON on stdout and nothing else


@pytest.mark.parametrize("args", [
    ["check", "missing.yaml"],  # no such file
    ["check"],  # no spec
    ["check", "--format", "xml", GOOD],  # unknown format
    ["check", "--bogus", GOOD],  # unknown option
    ["frobnicate"],  # unknown command
])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_internal_error_exits_3_with_one_line(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(cnncalc.engine, "analyze", broken)
    result = run("check", GOOD)
    assert result.exit_code == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("cnncalc: internal error (ZeroDivisionError: simulated bug); this is a bug in cnncalc")
    assert "Traceback" not in result.stderr
    debug = run("--debug", "check", GOOD)
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr


_NO_RICH = textwrap.dedent("""
    import sys
    from cnncalc.cli import main
    try:
        main(sys.argv[1:], prog_name="cnncalc")
    except SystemExit as exit:
        code = exit.code
    loaded = sorted(m for m in sys.modules if m == "rich" or m.startswith("rich."))
    print("exit", code, "rich", loaded, file=sys.stderr)
""")


@pytest.mark.parametrize("args", [
    ["check", GOOD, BAD],
    ["check", "--format", "github", GOOD, BAD],
    ["check", "--format", "json", GOOD, BAD],
    ["check", "--floor", BAD],
])
def test_check_never_imports_rich(args):
    last = _modules_after(args)
    assert last.startswith("exit ") and last.endswith("rich []"), last
    assert not last.startswith("exit 3 ")


def test_the_probe_sees_rich_when_a_table_loads_it():
    # tables are drawn without rich when piped; colour forced onto the pipe, rich draws them
    assert "'rich'" in _modules_after(["memory", GOOD], FORCE_COLOR="1")


def _modules_after(args: list[str], **environment: str) -> str:
    """Run the CLI in a fresh interpreter; its last stderr line: 'exit CODE rich [modules]'."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **environment)
    done = subprocess.run([sys.executable, "-c", _NO_RICH, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    return done.stderr.strip().splitlines()[-1]
