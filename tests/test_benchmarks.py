"""benchmarks/run.py runs (a quick configuration) and generates what it claims. Timings are not asserted:
speed is measured by the benchmark, never by a timed test."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file

from .conftest import ROOT

RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture
def run_module(monkeypatch):
    """benchmarks/run.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("benchmark_run", RUN)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "benchmark_run", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("layers", [100, 1_003])
def test_generated_specs_have_the_layer_count_asked_for_and_are_valid(run_module, tmp_path, layers):
    paths = run_module.generate((layers,), tmp_path)
    assert sorted(paths) == [f"explicit {layers:,}", f"repeat {layers:,}", f"residual {layers:,}"]
    for path in paths.values():
        report = analyze(parse_file(path))
        assert len(report.layers) == layers
        assert report.layers[-1].output_shape == (1000,)


def test_quick_run_prints_the_table_and_the_targets(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(tmp_path)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "python -c 'import click, yaml'" in out and "python -c 'import click, yaml, rich.console', on a terminal" in out
    for command in ("cnncalc shapes specs/vgg16.yaml", "cnncalc check specs/vgg16.yaml"):
        assert command in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["explicit-100.yaml", "explicit-1000.yaml",
                                                          "repeat-100.yaml", "repeat-1000.yaml",
                                                          "residual-100.yaml", "residual-1000.yaml"]
    assert "engine alone, VGG16 in process" in out
    assert "(target ≤ 1.3×)" in out
    assert "explicit 100 → 1,000 layers" in out


def test_startup_only_times_the_start_up_commands_and_nothing_else(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(RUN), "--startup-only", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "cnncalc check specs/resnet152.yaml" in done.stdout and "(target ≤ 1.3×)" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no spec generated
    assert "engine alone" not in done.stdout and "layers, time above" not in done.stdout


def test_instruction_counts_grow_with_the_work(run_module):
    if run_module.count_instructions("pass", []) is None:
        pytest.skip("valgrind is not installed")
    small = run_module.count_instructions("pass", [])
    large = run_module.count_instructions("sum(range(10**6))", [])
    assert 0 < small < large


def test_residual_specs_join_every_block_by_name(run_module):
    report = analyze(parse_file_text(run_module.residual_spec(1_000)))
    adds = [layer for layer in report.layers if layer.kind == "add"]
    assert len(adds) == (1_000 - 13) // 7
    assert adds[-1].inputs == (f"r{len(adds)}_bn2", f"r{len(adds) - 1}_out")
    assert not report.warnings  # every output is read


def parse_file_text(text: str):
    from cnncalc.parser import parse_text

    return parse_text(text, "residual.yaml")


def test_instruction_growth_is_the_count_beyond_the_bare_import_over_the_smaller_one(run_module, monkeypatch, capsys):
    # a stand-in for valgrind: the bare import 100 M; a spec of n layers 100 M + n · 1,000 (+ 50,000 for residual)
    def fake_count(code, args):
        if code == run_module.BASELINE:
            return 100_000_000
        name = Path(args[1]).stem
        layers = int(name.rsplit("-", 1)[1])
        return 100_000_000 + layers * 1_000 + (50_000 if name.startswith("residual") else 0)

    monkeypatch.setattr(run_module, "count_instructions", fake_count)
    paths = {f"{form} {size:,}": Path(f"{form}-{size}.yaml") for form in run_module.FORMS for size in (100, 1_000)}
    run_module.print_instruction_growth(paths, (100, 1_000))
    out = capsys.readouterr().out
    assert "  explicit: 100 layers 0.1 M, 1,000 layers 1.0 M; growth with 10× the layers: 10.00×" in out
    assert "  residual: 100 layers 0.1 M, 1,000 layers 1.1 M; growth with 10× the layers: 7.00×" in out  # 1.05 M / 0.15 M


def test_instruction_growth_without_valgrind_says_so(run_module, monkeypatch, capsys):
    monkeypatch.setattr(run_module, "count_instructions", lambda code, args: None)
    run_module.print_instruction_growth({}, (100, 1_000))
    assert "valgrind is not installed" in capsys.readouterr().out


@pytest.fixture
def fuzz_module(monkeypatch):
    """benchmarks/fuzz.py as a module."""
    spec = importlib.util.spec_from_file_location("benchmark_fuzz", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "benchmark_fuzz", module)
    spec.loader.exec_module(module)
    return module


def test_fuzz_writes_through_strict_utf8(fuzz_module):
    fuzz_module.write_out("ünïcode ok")
    with pytest.raises(UnicodeEncodeError):
        fuzz_module.write_out("lone \ud800 surrogate")


def test_fuzz_large_inputs_are_10_to_500_kb_and_reach_the_engine(fuzz_module):
    import random

    rng = random.Random(4)
    sizes = []
    for _ in range(8):
        data = fuzz_module.large_spec(rng)
        sizes.append(len(data))
        report = analyze(parse_file_bytes(data)) if len(data) < 40_000 else None
        assert report is None or len(report.layers) > 200
    assert min(sizes) >= 10 * 1024 and max(sizes) <= 520 * 1024


def parse_file_bytes(data: bytes):
    from cnncalc.parser import parse_bytes

    return parse_bytes(data, "large.yaml")


def test_fuzz_time_budget_makes_a_slow_case_a_finding(fuzz_module, monkeypatch):
    import time

    monkeypatch.setattr(fuzz_module, "TIME_BUDGET", 0.2)
    import signal

    previous = signal.signal(signal.SIGALRM, fuzz_module._alarm)
    try:
        with pytest.raises(fuzz_module.OverBudget):
            fuzz_module.budgeted(time.sleep, 3)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_fuzz_memory_budget_makes_a_greedy_case_a_finding(fuzz_module):
    if not fuzz_module._address_space():
        pytest.skip("no /proc/self/statm: the memory budget is not measured on this system")
    with pytest.raises(MemoryError):
        fuzz_module.budgeted(bytearray, 600 * 2**20)


def test_fuzz_reports_coverage_and_reaches_every_command(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--cases", "60", "--seed", "2"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    out = done.stdout
    assert "coverage (cases that reached each stage)" in out
    from .cli_harness import commands

    taking_arguments = [words for words, command in commands()
                        if any(isinstance(p, __import__("click").Argument) for p in command.params)]
    assert len(taking_arguments) >= 8  # shapes, check, memory, fit, compare, diff, import, export torch, ...
    for words in taking_arguments:
        assert f"cli {' '.join(words)} " in out, words
    for stage in ("engine", "render json", "render csv", "render markdown", "render problems"):
        assert f"    {stage} " in out, stage
