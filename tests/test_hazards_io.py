"""Output that cannot be written, and files that cannot (or must not) be read: each ends in one line on
standard error and a documented exit code, for every command the CLI has (tests/cli_harness.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnncalc import cli

from .cli_harness import commands, invocations
from .conftest import ROOT, SPECS

ENV = dict(os.environ, PYTHONPATH=str(ROOT))


KNOWN_ANSWERS = {("layers",): ["conv"], ("solve",): ["--input", "32", "--output", "28"], ("compare",): ["3x3x3", "vs", "7x7"],
                 ("fit",): [str(SPECS / "vgg16.yaml"), "--memory", "24GiB"]}


def _every_command(tmp_path: Path) -> list[list[str]]:
    """A call of every command that prints an answer (exit 0, some output): the harness's plain call,
    or a known one for commands whose options need a real value."""
    calls = []
    for words, command in commands():
        args = KNOWN_ANSWERS.get(words) or invocations(command, str(SPECS / "vgg16.yaml"), tmp_path, variants=False)[0]
        done = subprocess.run([sys.executable, "-m", "cnncalc", *words, *args], capture_output=True, cwd=ROOT,
                              timeout=120, env=ENV)
        if done.returncode == 0 and done.stdout:
            calls.append([*words, *args])
    assert len(calls) >= 8, calls  # every command but check (nothing to print for a valid spec)
    return calls


def _cnncalc(args: list[str], stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT,
                          timeout=120, env=ENV)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_is_one_line_and_exit_5_for_every_command(tmp_path):
    for args in _every_command(tmp_path):
        with open("/dev/full", "w") as full:
            done = _cnncalc(args, stdout=full)
        assert done.returncode == cli.EXIT_OUTPUT == 5, (args, done.stderr)
        assert done.stderr.decode() == "cnncalc: cannot write the output: No space left on device\n", args


def test_a_closed_standard_output_is_one_line_and_exit_5_for_every_command(tmp_path):
    for args in _every_command(tmp_path):
        done = subprocess.run([sys.executable, "-m", "cnncalc", *args], stderr=subprocess.PIPE, cwd=ROOT,
                              timeout=120, env=ENV, preexec_fn=lambda: os.close(1))
        assert done.returncode == 5, (args, done.stderr)
        (line,) = done.stderr.decode().splitlines()
        assert line == "cnncalc: cannot write the output: standard output is closed", args


def test_check_with_problems_to_print_into_a_full_disk_exits_5():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = _cnncalc(["check", str(ROOT / "tests" / "specs" / "bad_stride.yaml")], stdout=full)
    assert done.returncode == 5
    assert b"cannot write the output" in done.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_a_pipe_closed_after_the_first_bytes_exits_141(tmp_path, fmt):
    # the reader takes 100 bytes and goes, as `| head -2` does: the write under way returns a short count
    # (no error), and only the state of the pipe tells that the rest was never read
    spec = tmp_path / "long.yaml"
    spec.write_text("input: [3, 32, 32]\nlayers:\n" + "  - relu\n" * 20_000)
    read_end, write_end = os.pipe()
    process = subprocess.Popen([sys.executable, "-m", "cnncalc", "shapes", str(spec), "--format", fmt],
                               stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, env=ENV)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert len(reader.read(100)) == 100
    _, err = process.communicate(timeout=120)
    assert process.returncode == cli.EXIT_BROKEN_PIPE == 141, err
    assert err == b""


# -- files that cannot or must not be read --------------------------------------------------------

@pytest.fixture
def unreadable(tmp_path, monkeypatch):
    """A spec file this user may not read (simulated: the tests may run as root, who reads anything)."""
    path = tmp_path / "noread.yaml"
    path.write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    real_open, real_access = os.open, os.access

    def no_open(file, *args, **kwargs):
        if os.fspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_open)
    monkeypatch.setattr(os, "access", lambda file, mode, **k: os.fspath(file) != str(path) and real_access(file, mode))
    return str(path)


def test_check_reports_an_unreadable_file_and_checks_the_others(unreadable):
    from .cli_harness import run

    result = run(["check", str(SPECS / "vgg16.yaml"), unreadable, str(SPECS / "alexnet.yaml")])
    assert result.exit_code == cli.EXIT_USAGE == 2
    assert f"{unreadable}:1:1: error: cannot read: Permission denied" in result.output
    assert "checked 3 specs: 2 valid, 1 invalid" in result.output


@pytest.mark.parametrize("command", [["shapes"], ["memory"], ["export", "torch"], ["compare"], ["check"]])
def test_an_unreadable_file_is_exit_2_in_every_command(unreadable, command):
    from .cli_harness import run

    args = command + ([unreadable, str(SPECS / "vgg16.yaml")] if command == ["compare"] else [unreadable])
    result = run(args)
    assert result.exit_code == 2, (args, result.output)
    assert "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
@pytest.mark.parametrize("command", ["check", "shapes", "memory", "compare"])
def test_a_fifo_without_a_writer_is_refused_unopened(tmp_path, command):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    args = [command, str(fifo)] + ([str(SPECS / "vgg16.yaml")] if command == "compare" else [])
    done = subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, cwd=ROOT, timeout=60, env=ENV)
    assert done.returncode == 2
    assert f"{fifo}:1:1: error: is a named pipe (FIFO), not a spec file" in done.stderr.decode() + done.stdout.decode()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_unread():
    from .cli_harness import run

    result = run(["check", "/dev/zero"])
    assert result.exit_code == 2 and "/dev/zero:1:1: error: is a character device, not a spec file" in result.output


# -- "did you mean" with a bound ------------------------------------------------------------------

def _spent(monkeypatch) -> list[int]:
    """Counts the character pairs difflib is asked to compare, across all hints."""
    import difflib

    spent = [0]
    real = difflib.get_close_matches

    def counting(word, possibilities, *args, **kwargs):
        spent[0] += len(word) * sum(len(p) for p in possibilities)
        return real(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    return spent


def test_from_hints_count_characters_not_names(monkeypatch):
    from cnncalc.parser import parse_text
    from cnncalc.problems import SpecError

    spent = _spent(monkeypatch)
    names = [f"n{i:03d}" + "y" * 986 for i in range(200)]
    text = ("input: [3, 8, 8]\nlayers:\n" + "".join(f"  - {{relu: null, name: {n}}}\n" for n in names)
            + "".join(f"  - {{relu: null, from: {n[:-2]}zz}}\n" for n in names * 2))
    with pytest.raises(SpecError) as caught:
        parse_text(text, "t.yaml")
    assert len(caught.value.errors) == 400
    assert spent[0] <= 1_000_000  # 400 × 200 names of 990 characters: 16,000,000,000 pairs unbounded
