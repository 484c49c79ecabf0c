"""`check --format github`: GitHub Actions workflow commands, checked against the runner's own parsing rules."""

from __future__ import annotations

import re

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.cli import main
from cnncalc.problems import ERROR, WARNING, Location, Problem
from cnncalc.render.github import annotation, escape_data, escape_property
from cnncalc.render.safe import visible

from .conftest import SPECS, TEST_SPECS

# How the Actions runner reads a command back (actions/runner, src/Runner.Common/ActionCommand.cs):
# it replaces each escape by its character in this order, '%25' last.
_RUNNER_DATA = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
_RUNNER_PROPERTY = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))
_COMMAND = re.compile(r"^::(error|warning) (.*?)::(.*)$")


def runner_unescape(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Level, properties and message of one workflow command, as the runner splits them."""
    match = _COMMAND.match(line)
    assert match, line
    level, properties, message = match.groups()
    props = {}
    for item in properties.split(","):
        key, value = item.split("=", 1)
        props[key] = runner_unescape(value, _RUNNER_PROPERTY)
    return level, props, runner_unescape(message, _RUNNER_DATA)


def test_escapes_match_githubs_toolkit():
    # @actions/core escapeData / escapeProperty on the same inputs
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert escape_data("a:b,c") == "a:b,c"  # the message keeps ':' and ','
    assert escape_data("%0A") == "%250A"  # a literal escape survives as text


def made_visible(text: str) -> str:
    """What a message may show: CR and LF as the runner's escapes, other control characters as escapes."""
    return "".join(part if part in ("\r", "\n") else visible(part) for part in re.split("([\r\n])", text))


@given(st.text())
def test_message_and_property_round_trip_through_the_runner(text):
    assert runner_unescape(escape_data(text), _RUNNER_DATA) == made_visible(text)
    assert runner_unescape(escape_property(text), _RUNNER_PROPERTY) == made_visible(text)
    assert all(c.isprintable() for c in escape_data(text))
    assert not set("\r\n") & set(escape_data(text))
    assert not set("\r\n:,") & set(escape_property(text))


def test_error_annotation_points_at_the_line():
    problem = Problem(Location("specs/net.yaml", 5, 7), "conv 'conv1': bad, very: bad", ERROR, "conv1")
    assert annotation(problem) == ("::error file=specs/net.yaml,line=5,col=7,title=cnncalc (layer conv1)"
                                   "::conv 'conv1': bad, very: bad")


def test_warning_annotation_and_spec_level_title():
    problem = Problem(Location("n.yaml", 1, 1), "note", WARNING)
    assert annotation(problem) == "::warning file=n.yaml,line=1,col=1,title=cnncalc::note"


def test_stdin_has_no_file_property():
    level, props, _ = parse_command(annotation(Problem(Location("<stdin>", 3, 5), "x")))
    assert level == "error" and props == {"title": "cnncalc"}


def test_cli_github_format_on_an_invalid_spec():
    result = CliRunner().invoke(main, ["check", "--format", "github", str(TEST_SPECS / "bad_stride.yaml"),
                                       str(SPECS / "vgg16.yaml")])
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    level, props, message = parse_command(line)
    assert level == "error"
    assert props == {"file": str(TEST_SPECS / "bad_stride.yaml"), "line": "4", "col": "5",
                     "title": "cnncalc (layer conv1)"}
    assert message.startswith("conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer")


def test_cli_github_format_floor_is_a_warning_and_strict_an_error():
    path = str(TEST_SPECS / "bad_stride.yaml")
    floored = CliRunner().invoke(main, ["check", "--format", "github", "--floor", path])
    assert floored.exit_code == 0
    level, _, message = parse_command(floored.stdout.strip())
    assert level == "warning" and "floored to 2" in message
    strict = CliRunner().invoke(main, ["check", "--format", "github", "--floor", "--strict", path])
    assert strict.exit_code == 1
    assert parse_command(strict.stdout.strip())[0] == "error"


def test_cli_github_format_escapes_the_file_name(tmp_path):
    path = tmp_path / "a,b:c.yaml"
    path.write_text("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "github", str(path)])
    assert result.exit_code == 1
    line = result.stdout.strip()
    assert "a%2Cb%3Ac.yaml" in line
    assert parse_command(line)[1]["file"] == str(path)


def test_cli_github_format_prints_nothing_on_stdout_for_valid_specs():
    result = CliRunner().invoke(main, ["check", "--format", "github", str(SPECS / "vgg16.yaml")])
    assert result.exit_code == 0
    assert result.stdout == ""
