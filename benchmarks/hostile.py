"""Time and memory of cnncalc on large and hostile specs, each run as a separate `cnncalc` process.

    python benchmarks/hostile.py [--only NAME]

For each case: the command, its exit code, the wall time and the process's peak memory. The figures in
docs/hostile-input.md come from this script.
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


def cases() -> dict[str, tuple[str, bytes]]:
    """name → (command, spec bytes)."""
    conv = "  - conv: {filters: 8, kernel: 3, padding: 1}\n  - relu\n"
    laughs = "input: [3, 8, 8]\nlayers:\n  - &l0 {layers: [relu, relu]}\n" + "".join(
        f"  - &l{i} {{layers: [*l{i - 1}, *l{i - 1}]}}\n" for i in range(1, 25))
    distinct = "input: [3, 8, 8]\nblocks:\n  c0: {params: {x: 0}, layers: [{conv: {filters: 1, kernel: 1}}]}\n" + "".join(
        f"  c{i}: {{params: {{x: 0}}, layers: [c{i - 1}: {{x: $x * 2}}, c{i - 1}: {{x: $x * 2 + 1}}]}}\n"
        for i in range(1, 25)) + "layers: [c24]\n"
    flat = "input: [3, 32, 32]\nlayers:\n" + conv * 50_000
    repeated = "input: [3, 32, 32]\nlayers:\n  - repeat: 50000\n    layers:\n" + conv.replace("  - ", "      - ")
    def misspelt_blocks(count: int) -> bytes:
        names = [f"block_{i:05d}_abcdefghijklmnopqr" for i in range(count)]
        return ("input: [3, 8, 8]\nblocks:\n" + "".join(f"  {n}: {{layers: [relu]}}\n" for n in names) + "layers:\n"
                + "".join(f"  - {n[:-1]}X\n" for n in names)).encode()

    params = [f"param_{i:05d}" for i in range(3000)]
    misused = ("input: [3, 8, 8]\nblocks:\n  b:\n    params: {" + ", ".join(f"{p}: 1" for p in params)
               + "}\n    layers: [relu]\nlayers:\n  - b: {" + ", ".join(f"{p}x: 1" for p in params[:1000]) + "}\n")
    long_names = [f"n{i:03d}" + "y" * 986 for i in range(200)]
    from_refs = ("input: [3, 8, 8]\nlayers:\n" + "".join(f"  - {{relu: null, name: {n}}}\n" for n in long_names)
                 + "".join(f"  - {{relu: null, from: {n[:-2]}zz}}\n" for n in long_names * 3))
    return {
        "500 misspelt uses of 500 blocks (43 KB), check": ("check", misspelt_blocks(500)),
        "1,000 misspelt uses of 1,000 blocks (86 KB), check": ("check", misspelt_blocks(1000)),
        "3,000 block parameters, 1,000 misspelt arguments, check": ("check", misused.encode()),
        "600 from: among 200 names of 990 characters, check": ("check", from_refs.encode()),
        "100,000 layers written out (2.7 MB), check": ("check", flat.encode()),
        "100,000 layers written out, shapes --format json": ("shapes --format json", flat.encode()),
        "100,000 layers written out, shapes --format csv": ("shapes --format csv", flat.encode()),
        "100,000 layers by repeat, check": ("check", repeated.encode()),
        "100,000 layers by repeat, shapes (table)": ("shapes", repeated.encode()),
        "1,000,000 relu by repeat, check": ("check", b"input: [3, 8, 8]\nlayers:\n  - repeat: 1000000\n    layers: [relu]\n"),
        "1,000,000 relu by repeat, shapes (table)": ("shapes", b"input: [3, 8, 8]\nlayers:\n  - repeat: 1000000\n    layers: [relu]\n"),
        "1,000,000 relu by repeat, export torch": ("export torch", b"input: [3, 8, 8]\nlayers:\n  - repeat: 1000000\n    layers: [relu]\n"),
        "repeat: 10^9, check": ("check", b"input: [3, 8, 8]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n"),
        "billion laughs (2^26 layers in 25 lines), check": ("check", laughs.encode()),
        "blocks with new arguments at each use (2^25), check": ("check", distinct.encode()),
        "YAML nested 100,000 deep, check": ("check", b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        "groups nested 1,000 deep, check": ("check", b"input: [3, 8, 8]\nlayers: " + b"[{layers: " * 1000 + b"[relu]"
                                            + b"}]" * 1000 + b"\n"),
        "8 MiB of relu (930,000 layers), check": ("check", b"input: [3, 8, 8]\nlayers:\n" + b"  - relu\n" * 930_000),
        "8 MiB of relu in flow style (1.6 million layers), check": ("check", b"input: [3, 8, 8]\nlayers: [" + b"relu, " * 1_390_000 + b"]\n"),
        "50 MiB file, check": ("check", b"#" * (50 * 1024 * 1024)),
    }


def run(command: str, spec: Path) -> tuple[int, float, float]:
    """Exit code, seconds and peak resident megabytes of one `cnncalc` process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cnncalc", *command.split(), str(spec)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, took, usage.ru_maxrss / 1024  # Linux reports kilobytes


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--only", help="run the cases whose name contains this text")
    options = arguments.parse_args()
    print(f"{'case':<55} {'exit':>4} {'seconds':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as directory:
        for name, (command, data) in cases().items():
            if options.only and options.only not in name:
                continue
            spec = Path(directory) / "spec.yaml"
            spec.write_bytes(data)
            code, took, peak = run(command, spec)
            print(f"{name:<55} {code:>4} {took:>8.1f} {peak:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
