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


def _errors(text: str) -> tuple:
    from cnncalc.parser import parse_text
    from cnncalc.problems import SpecError

    with pytest.raises(SpecError) as caught:
        parse_text(text, "t.yaml")
    return caught.value.errors


def _misspelt_blocks(count: int) -> str:
    """`count` blocks of 30-character names, each used once misspelt (its last letter changed)."""
    names = [f"block_{i:05d}_abcdefghijklmnopqr" for i in range(count)]
    assert len(names[0]) == 30
    return ("input: [3, 8, 8]\nblocks:\n" + "".join(f"  {n}: {{layers: [relu]}}\n" for n in names)
            + "layers:\n" + "".join(f"  - {n[:-1]}X\n" for n in names))


@pytest.mark.parametrize("count", [500, 1000])
def test_misspelt_block_uses_are_bounded_work(monkeypatch, count):
    from cnncalc import suggest

    spent = _spent(monkeypatch)
    errors = _errors(_misspelt_blocks(count))
    # 20 shown one by one, then one line for the rest: 500 − 20 = 480 (1,000 − 20 = 980)
    assert len(errors) == suggest.SHOWN_PER_KIND + 1 == 21
    assert all("unknown layer kind 'block_" in e.message for e in errors[:20])
    assert errors[-1].message.startswith(f"... and {count - 20} more unknown layer kinds like the ones above")
    assert (errors[-1].location.line, errors[-1].location.column) == (3 + count + 1 + 20, 5)  # the 21st use
    # unbounded: count uses × 30 × count names of 31 → 500: 232,500,000 pairs, 1,000: 930,000,000
    assert 0 < spent[0] <= suggest.WORK
    # the first hints fit in the budget (30 × 31 × count pairs each) and name the block meant
    assert errors[0].message.startswith("unknown layer kind 'block_00000_abcdefghijklmnopqX' "
                                        "(did you mean 'block_00000_abcdefghijklmnopqr'?)")


def test_a_block_with_3000_parameters_misused_1000_times_prints_a_bounded_message(tmp_path):
    from .cli_harness import run

    params = [f"param_{i:05d}" for i in range(3000)]
    spec = tmp_path / "p.yaml"
    spec.write_text("input: [3, 8, 8]\nblocks:\n  b:\n    params: {" + ", ".join(f"{p}: 1" for p in params)
                    + "}\n    layers: [relu]\nlayers:\n  - b: {" + ", ".join(f"{p}x: 1" for p in params[:1000]) + "}\n")
    result = run(["check", str(spec)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 21  # 20 of the 1,000 misspelt arguments, then one line for the other 980
    first = lines[0]
    assert "block 'b' has no parameter 'param_00000x' (did you mean 'param_00000'?); its parameters: " in first
    listed = first[first.index("its parameters: ") + len("its parameters: "):]
    assert listed == ", ".join(params[:20]) + ", ... and 2,980 more"  # 3,000 − 20
    assert "... and 980 more unknown block parameters like the ones above" in lines[-1]
    assert len(result.stdout) < 20_000  # unbounded: 1,000 messages × 3,000 names of 11 characters = 39 MB


def test_from_hints_count_characters_not_names(monkeypatch):
    from cnncalc import suggest

    spent = _spent(monkeypatch)
    names = [f"n{i:03d}" + "y" * 986 for i in range(200)]
    text = ("input: [3, 8, 8]\nlayers:\n" + "".join(f"  - {{relu: null, name: {n}}}\n" for n in names)
            + "".join(f"  - {{relu: null, from: {n[:-2]}zz}}\n" for n in names * 2))
    errors = _errors(text)
    assert len(errors) == 21  # 400 references: 20 shown, then one line for 380
    assert errors[-1].message.startswith("... and 380 more names in 'from:' that name no layer above")
    assert errors[-1].location.line == 3 + 200 + 20
    assert spent[0] <= suggest.WORK  # 400 × 200 names of 990 characters: 16,000,000,000 pairs unbounded


def test_the_hint_budget_is_shared_by_every_spec_a_command_reads(monkeypatch, tmp_path):
    from cnncalc import suggest

    from .cli_harness import run

    spent = _spent(monkeypatch)
    files = []
    for index in range(40):
        path = tmp_path / f"s{index}.yaml"
        path.write_text(_misspelt_blocks(20))  # 20 hints of 30 × 20 names of 31 = 372,000 pairs a file
        files.append(str(path))
    result = run(["check", *files])
    assert result.exit_code == 1
    assert "checked 40 specs: 0 valid, 40 invalid" in result.output
    assert result.output.count("did you mean 'block_") >= 20  # the first file's hints, at least
    assert 0 < spent[0] <= suggest.WORK  # 40 files × 372,000 = 14,880,000 pairs without one budget


def test_a_spec_read_outside_a_command_has_its_own_budget(monkeypatch):
    from cnncalc import suggest

    monkeypatch.setattr(suggest, "WORK", 50_000)
    _errors(_misspelt_blocks(200))  # spends the whole budget of its own read
    (error,) = _errors("input: [3, 8, 8]\nlayers: [reluu]\n")
    assert "(did you mean 'relu'?)" in error.message


# -- output of 100,000 layers in bounded memory -----------------------------------------------------

_PEAK = """import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kb(args: list[str]) -> int:
    """The peak resident memory of one `cnncalc` process writing into a pipe (its only child: exact)."""
    done = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "cnncalc", *args], capture_output=True,
                          cwd=ROOT, timeout=600, env=ENV, check=True)
    return int(done.stdout)


@pytest.mark.parametrize("command", [["shapes"], ["export", "torch"]])
def test_a_100000_layer_table_or_export_takes_little_more_memory_than_check(tmp_path, command):
    # the table held every row's cells and every laid-out line at once, then the whole text as one string
    # (1,000,000 relu: 1.7 GB where check takes 0.8 GB); the export held its __init__ and forward lines, each
    # joined, then the whole source (1.2 GB): both now write as they go
    small, large = tmp_path / "small.yaml", tmp_path / "large.yaml"
    small.write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    large.write_text("input: [3, 8, 8]\nlayers:\n  - repeat: 100000\n    layers: [relu]\n")
    base = _peak_kb(["check", str(small)])  # the interpreter and cnncalc's modules
    check = _peak_kb(["check", str(large)]) - base  # the spec, its layers and their report
    output = _peak_kb([*command, str(large)]) - base
    assert check > 20_000  # 100,000 layers take room: the measure measures something
    assert output < 1.4 * check, (command, output, check)  # before: 2.2 × (the table), 1.65 × (the export)
