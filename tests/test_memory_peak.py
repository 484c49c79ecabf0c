"""cnncalc's training peak and inference peak against PyTorch's measured peak (tests/torch_memory.py):
every shipped spec, batch 1 and 16, SGD and Adam, and inference, each within 3%; the GPU's 512-byte
rounding against MemTracker's own rounding rule; and `fit`'s promise against the measurement."""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file
from cnncalc.sizing import Settings, fit, memory_report

from .conftest import SPECS, torch_or_skip
from .torch_memory import measured_peak

TOLERANCE = 0.03
SHIPPED = sorted(SPECS.glob("*.yaml"))


def ours(path, batch, optimizer):
    report = memory_report(analyze(parse_file(path)), Settings("float32", optimizer=optimizer or "sgd"), batch)
    return report.inference.total if optimizer is None else report.training.total


@pytest.mark.parametrize("optimizer", ["sgd", "adam", None], ids=["sgd", "adam", "inference"])
@pytest.mark.parametrize("batch", [1, 16])
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_peak_within_3_percent_of_pytorch(path, batch, optimizer):
    torch_or_skip()
    theirs = measured_peak(path, batch, optimizer)
    ratio = ours(path, batch, optimizer) / theirs
    assert abs(ratio - 1) <= TOLERANCE, f"cnncalc / PyTorch = {ratio:.4f}"


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "rmsprop", "adamw"])
def test_other_optimizers_step_within_3_percent(optimizer):
    """At batch 1 the optimizer's step is VGG16's peak: its state and the multi-tensor step's copies."""
    torch_or_skip()
    path = SPECS / "vgg16.yaml"
    ratio = ours(path, 1, optimizer) / measured_peak(path, 1, optimizer)
    assert abs(ratio - 1) <= TOLERANCE, f"cnncalc / PyTorch = {ratio:.4f}"


@pytest.mark.parametrize("batch", [4, 64])
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_other_batches_within_3_percent(name, batch):
    torch_or_skip()
    path = SPECS / f"{name}.yaml"
    ratio = ours(path, batch, "adam") / measured_peak(path, batch, "adam")
    assert abs(ratio - 1) <= TOLERANCE, f"cnncalc / PyTorch = {ratio:.4f}"


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "unet"])
def test_gpu_rounding_to_512_byte_blocks(name):
    """MemTracker's CUDA rule (every storage rounded up to 512 bytes) applied to the CPU measurement:
    cnncalc's rounded peak is as close to it as its plain peak is to the plain measurement."""
    torch_or_skip()
    path = SPECS / f"{name}.yaml"
    line = memory_report(analyze(parse_file(path)), Settings("float32", optimizer="sgd"), 16).timeline
    rounded = measured_peak(path, 16, "sgd", 512)
    assert rounded > measured_peak(path, 16, "sgd")
    assert abs(line.rounded_peak_bytes / rounded - 1) <= TOLERANCE
    assert line.rounded_peak_bytes >= line.peak_bytes


@pytest.mark.parametrize("name, target", [("vgg16", 3), ("mobilenet_v2", 5)])
def test_fit_keeps_its_promise(name, target):
    """A budget between cnncalc's peaks at `target` and `target + 1`: fit answers `target`, PyTorch's
    measured peak at that batch fits the usable memory, and at one sample more it does not."""
    torch_or_skip()
    path = SPECS / f"{name}.yaml"
    report = analyze(parse_file(path))
    settings = Settings("float32", optimizer="adam")
    low = memory_report(report, settings, target).training.total
    high = memory_report(report, settings, target + 1).training.total
    usable = (low + high) // 2
    reserve = usable // 9  # a 10% reserve of the budget
    result = fit(report, settings, usable + reserve, reserve)
    assert result.usable == usable and result.batch == target
    assert measured_peak(path, result.batch, "adam") <= usable < measured_peak(path, result.batch + 1, "adam")
