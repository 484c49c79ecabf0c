"""How close cnncalc's memory is to PyTorch's measured peak: one row per network, optimizer and batch.

PyTorch's peak is measured as tests/test_memory_peak.py measures it (MemTracker under
FakeTensorMode on the module `cnncalc export torch` writes: a warm-up step, then a measured step;
no GPU and no memory needed). Prints a Markdown table of cnncalc / PyTorch, the one published in
docs/memory.md. Needs torch.

    python benchmarks/memory_accuracy.py                     # every shipped spec, batch 1 and 16
    python benchmarks/memory_accuracy.py --batch 1 4 16 64 --optimizer sgd momentum adam --spec resnet18
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnncalc.engine import analyze  # noqa: E402
from cnncalc.parser import parse_file  # noqa: E402
from cnncalc.sizing import Settings, memory_report  # noqa: E402
from tests.torch_memory import measured_peak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", nargs="*", help="spec names under specs/ (default: all)")
    parser.add_argument("--batch", nargs="*", type=int, default=[1, 16])
    parser.add_argument("--optimizer", nargs="*", default=["sgd", "adam", "inference"])
    args = parser.parse_args()
    paths = sorted((ROOT / "specs").glob("*.yaml"))
    if args.spec:
        paths = [ROOT / "specs" / f"{name}.yaml" for name in args.spec]
    print("| network | optimizer | batch | cnncalc (bytes) | PyTorch (bytes) | cnncalc / PyTorch | peak (cnncalc) |")
    print("|---|---|---:|---:|---:|---:|---|")
    worst = 0.0
    start = time.perf_counter()
    for path in paths:
        report = analyze(parse_file(path))
        for optimizer in args.optimizer:
            for batch in args.batch:
                inference = optimizer == "inference"
                m = memory_report(report, Settings("float32", optimizer="sgd" if inference else optimizer), batch)
                ours = m.inference.total if inference else m.training.total
                theirs = measured_peak(path, batch, None if inference else optimizer)
                where = f"while {m.peak.layer} runs" if inference else (
                    f"{m.timeline.peak_moment.phase} of {m.timeline.peak_moment.layer}")
                worst = max(worst, abs(ours / theirs - 1))
                print(f"| {report.name} | {optimizer} | {batch} | {ours:,} | {theirs:,} | {ours / theirs:.4f} "
                      f"| {where} |", flush=True)
    print(f"\nlargest difference: {100 * worst:.2f}%; measured in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
