"""Reading a large ONNX export against the YAML spec of the same network: time and peak memory.

    python benchmarks/import_onnx.py [--spec specs/vgg16.yaml] [--model FILE.onnx]

Without --model, the spec is built in PyTorch (cnncalc's exporter) and exported with torch.onnx.export
(training mode, no constant folding: every weight is in the file, 550 MB for VGG16) to a temporary folder.
Each reading runs as its own process: `cnncalc shapes` on the model and on the spec, `cnncalc import`, and,
when the onnx package is installed, `onnx.load` of the same file and `import onnx` alone, for comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(arguments: list[str]) -> tuple[int, float, float]:
    """Exit code, seconds and peak resident megabytes of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(arguments, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    _, status, usage = os.wait4(process.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024


def export(spec_path: Path, target: Path) -> None:
    """The spec as a PyTorch module, exported with every weight (training mode, no folding)."""
    import warnings

    import torch

    sys.path.insert(0, str(ROOT))
    from cnncalc.export.torch import torch_export
    from cnncalc.parser import parse_file

    spec = parse_file(spec_path)
    exported = torch_export(spec)
    namespace: dict = {}
    exec(compile(exported.source, str(spec_path), "exec"), namespace)
    with torch.device("meta"):
        model = namespace[exported.class_name]()
    model = model.to_empty(device="cpu").train()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *spec.input_shape),), str(target), dynamo=False,
                          training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "specs" / "vgg16.yaml"))
    parser.add_argument("--model", help="an ONNX file of the same network (default: export the spec)")
    parser.add_argument("--export-to", help=argparse.SUPPRESS)  # the export, run as a process of its own
    options = parser.parse_args()
    spec = Path(options.spec)
    if options.export_to:
        export(spec, Path(options.export_to))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        model = Path(options.model) if options.model else Path(folder) / f"{spec.stem}.onnx"
        if not options.model:
            print(f"exporting {spec.name} with torch.onnx.export ...", flush=True)
            # in a process of its own: a child's peak memory counts the parent's pages it was forked with, and
            # this process would hold PyTorch and the model
            subprocess.run([sys.executable, __file__, "--spec", str(spec), "--export-to", str(model)], check=True)
        size = model.stat().st_size / 1024 ** 2
        python = sys.executable
        cases = [
            (f"cnncalc shapes {spec.name}", [python, "-m", "cnncalc", "shapes", str(spec)]),
            (f"cnncalc shapes {model.name} ({size:,.0f} MB)", [python, "-m", "cnncalc", "shapes", str(model)]),
            (f"cnncalc import {model.name}", [python, "-m", "cnncalc", "import", str(model)]),
        ]
        try:
            import onnx  # noqa: F401
        except ImportError:
            print("(onnx is not installed: onnx.load is not measured)")
        else:
            cases += [("python -c 'import onnx'", [python, "-c", "import onnx"]),
                      (f"onnx.load({model.name})", [python, "-c", f"import onnx; onnx.load({str(model)!r})"])]
        print(f"{'reading':<48} {'exit':>4} {'seconds':>8} {'peak MB':>8}")
        for name, arguments in cases:
            code, took, peak = measure(arguments)
            print(f"{name:<48} {code:>4} {took:>8.2f} {peak:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
