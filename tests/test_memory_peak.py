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
def _cases():
    for path in SHIPPED:
        for batch in (1, 16):
            for optimizer in ("sgd", "adam", None):
                yield pytest.param(path, batch, optimizer, id=f"{path.stem}-{batch}-{optimizer or 'inference'}")


def ours(path, batch, optimizer):
    report = memory_report(analyze(parse_file(path)), Settings("float32", optimizer=optimizer or "sgd"), batch)
    return report.inference.total if optimizer is None else report.training.total


CASES = list(_cases())


def test_every_shipped_spec_is_measured():
    """The cases are not empty: every shipped spec at two batches, two optimizers and inference."""
    assert len(SHIPPED) >= 20 and len(CASES) == len(SHIPPED) * 6


@pytest.mark.parametrize("path, batch, optimizer", CASES)
def test_peak_within_3_percent_of_pytorch(path, batch, optimizer):
    torch_or_skip()
    theirs = measured_peak(path, batch, optimizer)
    ratio = ours(path, batch, optimizer) / theirs
    assert abs(ratio - 1) <= TOLERANCE, f"cnncalc / PyTorch = {ratio:.4f}"


MIXED = ("vgg16", "resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0", "vit_b_16")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch", [1, 16])
@pytest.mark.parametrize("name", MIXED)
def test_mixed_precision_within_3_percent(name, batch, optimizer):
    """float16 weights, gradients and activations, float32 master weights, master gradients and state
    (tests/torch_memory.py measures that scheme): at batch 1 the peak is the step or the conversion of
    the gradients to float32, at batch 16 the backward."""
    torch_or_skip()
    path = SPECS / f"{name}.yaml"
    report = memory_report(analyze(parse_file(path)), Settings("float16", optimizer=optimizer, mixed=True), batch)
    ratio = report.training.total / measured_peak(path, batch, optimizer, mixed=True)
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


def _accuracy_rows():
    """The rows of docs/memory-accuracy.md: network, precision, optimizer, batch, both byte counts."""
    from .conftest import ROOT

    rows = []
    for line in (ROOT / "docs" / "memory-accuracy.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[3].isdigit():
            rows.append((cells[0], cells[1], cells[2], int(cells[3]), int(cells[4].replace(",", "")),
                         int(cells[5].replace(",", ""))))
    return rows


def test_accuracy_page_is_true():
    """Every row of the published table, both columns: cnncalc's figure as it computes it today and
    PyTorch's as measured again; every shipped spec has its float32 rows."""
    torch_or_skip()
    rows = _accuracy_rows()
    by_name = {analyze(parse_file(path)).name: path for path in SHIPPED}
    assert {(name, precision) for name, precision, *_ in rows} >= {(name, "float32") for name in by_name}
    for name, precision, optimizer, batch, mine, theirs in rows:
        path = by_name[name]
        inference = optimizer == "inference"
        settings = (Settings("float16", optimizer=optimizer, mixed=True) if precision == "mixed"
                    else Settings("float32", optimizer="sgd" if inference else optimizer))
        report = memory_report(analyze(parse_file(path)), settings, batch)
        assert (report.inference.total if inference else report.training.total) == mine, (name, precision, optimizer)
        assert measured_peak(path, batch, None if inference else optimizer, mixed=precision == "mixed") == theirs
