"""Fuzz cnncalc in-process: generated specs, mutations of them, large valid specs (10-500 KB) with one
mutation each, and random bytes; each parsed, computed and rendered in every format through a real byte
stream with strict UTF-8, and one in ten also through every command of the CLI that reads a spec (as
tests/cli_harness.py finds them, so commands added later are fuzzed too). Every input must end in an
answer or in located errors, within 2 s and 500 MB; anything else is a finding.

    python benchmarks/fuzz.py [--cases 100000] [--seed 1]

Prints how many inputs were tried, how many gave an answer, how many gave located errors, how many
crashed or went over budget (the first finding's input and traceback are printed; the exit code is then
1), the slowest case, and the coverage: how many cases reached the engine, each renderer and each command.
"""

from __future__ import annotations

import argparse
import importlib
import io
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from cnncalc.engine import analyze  # noqa: E402
from cnncalc.kinds import REGISTRY  # noqa: E402
from cnncalc.kinds.base import BOOL, CHOICE, COUNT, NUMBER, PADDING, POOL_PADDING, POSITIVE_NUMBER, PROBABILITY, SIZE  # noqa: E402
from cnncalc.parser import parse_bytes  # noqa: E402
from cnncalc.problems import SpecError  # noqa: E402
from cnncalc.render.csv_ import render_csv  # noqa: E402
from cnncalc.render.json_ import render_json  # noqa: E402
from cnncalc.render.markdown import render_markdown  # noqa: E402
from cnncalc.render import CHECK_FORMATS  # noqa: E402
from cnncalc.render.problems import render_problem_lines  # noqa: E402
from cnncalc.render.console import TableOptions  # noqa: E402
from cnncalc.render.table import render_table  # noqa: E402
from tests.cli_harness import SAFE_EXIT_CODES, commands, invocations, takes_a_spec  # noqa: E402
from tests.cli_harness import run as run_cli  # noqa: E402

CHECK_RENDERERS = [importlib.import_module(f"cnncalc.render.{module}") for module in CHECK_FORMATS.values()]
CLI_SHARE = 0.1  # of the cases also run through every spec-reading command
TIME_BUDGET = 2.0  # seconds per case; a case over it is a finding
MEMORY_BUDGET = 500 * 2**20  # bytes of address space a case may add; a case over it is a finding
COVERAGE: dict[str, int] = {}  # what the cases reached: "engine", "render json", "cli shapes", ...


class OverBudget(Exception):
    """A case ran longer than TIME_BUDGET."""


ORIGIN = [""]  # where the current case came from: generated, mutated, large, random bytes


def _reached(what: str) -> None:
    COVERAGE[what] = COVERAGE.get(what, 0) + 1
    if what in ("parsed", "engine"):
        COVERAGE[f"{what}, {ORIGIN[0]} inputs"] = COVERAGE.get(f"{what}, {ORIGIN[0]} inputs", 0) + 1


def strict_stream() -> io.TextIOWrapper:
    """A byte stream written as a terminal or a pipe is: UTF-8, strict (a lone surrogate raises)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")


def write_out(text: str) -> None:
    stream = strict_stream()
    stream.write(text)
    stream.flush()

HOSTILE_TOKENS = ["yes", "on", "3.0", "1e3", "-1", "0", "[1, 2]", "[1, 2, 3, 4]", "{a: 1}", "null", "~", "'7'",
                  "!!python/object/apply:os.system [ls]", "!!int abc", "!!binary aGk=", "*nope", "&a x", "$x", "$x // 0",
                  "$" + "+x" * 150, "010", "1:30", "0x_", "9" * 30, "9" * 5000, ".nan", ".inf", "[[[[", "{", "\t",
                  '"\\e[2J"', '"\\0"', "same", "valid", "[]", "{}", "'[/x]'", "<<: *a", "? [k]", "---", "...", "1000000000",
                  str(10**12), str(10**18), str(10**19), "- relu", "&a [relu, *a]", "|\n  text", "@", "`", "%YAML 1.1",
                  '"\\ud800"', '"\\udfff x"', '"a\\nb"', '"\\x1b]8;;x\\x07"', "'=1+2'", "'a|b'", "'<img src=x>'",
                  "|\n  ::error::x"]


def _param_value(rng: random.Random, kind_name: str, param) -> object:
    if param.type == COUNT:
        return rng.choice([1, 2, 3, 4, 8, 16, 64])
    if param.type == SIZE:
        return rng.choice([1, 2, 3, 3, 5, [3, 1], [1, 3]])
    if param.type == PADDING:
        return rng.choice([0, 1, 2, "same", "valid", [1, 0]])
    if param.type == POOL_PADDING:
        return rng.choice([0, 0, 1])
    if param.type == BOOL:
        return rng.random() < 0.5
    if param.type == PROBABILITY:
        return rng.choice([0.0, 0.25, 0.5])
    if param.type in (NUMBER, POSITIVE_NUMBER):
        return rng.choice([0.1, 1, 2.0, 1e-5])
    if param.type == CHOICE:
        return rng.choice(param.choices)
    return None


VOLUME_KINDS = ["conv", "conv", "conv", "maxpool", "avgpool", "relu", "batchnorm", "dwconv", "deconv", "upsample", "pad",
                "identity", "leakyrelu", "sigmoid", "dropout", "lrn", "tanh", "gelu"]
HEAD_KINDS = ["globalavgpool", "globalmaxpool", "flatten", "fc", "fc", "softmax", "dropout", "relu"]


def _kind_layer(rng: random.Random, kind_name: str, in_block: bool) -> dict:
    kind = REGISTRY[kind_name]
    params = {}
    for param in kind.params:
        if param.required or rng.random() < 0.3:
            params[param.name] = _param_value(rng, kind.name, param)
    if kind.name == "upsample" and "scale" not in params and "size" not in params:
        params["scale"] = 2
    if kind.name == "upsample" and "scale" in params and "size" in params:
        del params["size"]
    if kind.name == "pad" and not {"padding", "before", "after"} & set(params):
        params["padding"] = 1
    if kind.name == "pad" and "padding" in params:
        params.pop("before", None), params.pop("after", None)
    if in_block and "filters" in params and rng.random() < 0.6:
        params["filters"] = rng.choice(["$f", "$f * 2", "$f // 2 + 1"])
    return {kind.name: params or None}


def _layer(rng: random.Random, depth: int, in_block: bool, blocks: list[str]) -> object:
    """One layer list item; nested repeats, groups and branches keep the spatial size where they can."""
    roll = rng.random()
    if depth < 4 and roll < 0.08:
        item: dict = {"repeat": rng.choice([1, 2, 3]), "layers": [_layer(rng, depth + 1, in_block, blocks)
                                                                 for _ in range(rng.randint(1, 3))]}
        if rng.random() < 0.5:
            item["name"] = f"r{depth}{rng.randrange(1000)}"
        return item
    if depth < 4 and roll < 0.16:
        filters = rng.choice([4, 8])
        branch = {"conv": {"filters": filters, "kernel": 3, "padding": 1}}
        item = {"branches": [rng.choice([[], [branch], [branch, "relu"]]) for _ in range(rng.randint(2, 3))],
                "merge": rng.choice(["add", "concat"])}
        if rng.random() < 0.5:
            item["name"] = f"b{depth}{rng.randrange(1000)}"
        return item
    if blocks and roll < 0.24:
        return {rng.choice(blocks): {"f": rng.choice([1, 4, 8])}} if rng.random() < 0.7 else rng.choice(blocks)
    return _kind_layer(rng, rng.choice(VOLUME_KINDS), in_block)


def generated_spec(rng: random.Random) -> bytes:
    """A spec from the kinds' own parameter lists: often valid, often not (sizes that do not fit)."""
    ndim = rng.choice([1, 2, 2, 2, 3])
    shape = [rng.choice([1, 3, 8, 16])] + [rng.choice([7, 16, 28, 32, 64]) for _ in range(ndim)]
    spec: dict = {"name": f"fuzz{rng.randint(0, 999)}", "input": shape}
    blocks: list[str] = []
    if rng.random() < 0.3:
        spec["blocks"] = {"blk": {"params": {"f": 4}, "layers": [_layer(rng, 1, True, []) for _ in range(rng.randint(1, 3))]}}
        blocks = ["blk"]
    layers = [_layer(rng, 0, False, blocks) for _ in range(rng.randint(1, 10))]
    names = []
    for index, item in enumerate(layers):  # top-level names, for from: taps and merges further down
        if isinstance(item, dict) and rng.random() < 0.3:
            item["name"] = f"t{index}"
        if isinstance(item, dict) and "name" in item and "repeat" not in item:
            names.append(item["name"])
    if names and rng.random() < 0.4:
        layers.append({rng.choice(["add", "concat"]): None, "from": rng.choices(names + ["input"], k=rng.randint(2, 3))})
    layers += [_kind_layer(rng, rng.choice(HEAD_KINDS), False) for _ in range(rng.randint(0, 3))]
    spec["layers"] = layers
    if rng.random() < 0.2:
        spec["dtype"] = rng.choice(["float16", "int8", "float64", "bfloat16", "double"])
    return yaml.safe_dump(spec, default_flow_style=rng.choice([None, True, False]), sort_keys=False).encode()


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 4)):
        lines = data.split(b"\n")
        how = rng.randrange(10)
        index = rng.randrange(len(lines)) if lines else 0
        if how == 0 and lines:
            del lines[index]
        elif how == 1 and len(lines) > 1:
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
        elif how == 2 and lines:
            lines.insert(index, lines[index])
        elif how in (3, 4):  # a token replaced by a hostile one
            tokens = [i for i in range(len(data)) if data[i:i + 1].isalnum() and (i == 0 or not data[i - 1:i].isalnum())]
            if tokens:
                at = rng.choice(tokens)
                end = at
                while end < len(data) and data[end:end + 1].isalnum():
                    end += 1
                data = data[:at] + rng.choice(HOSTILE_TOKENS).encode() + data[end:]
            continue
        elif how == 5:
            at = rng.randint(0, len(data))
            data = data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))) + data[at:]
            continue
        elif how == 6:
            data = data[:rng.randint(0, len(data))]
            continue
        elif how == 7:
            data = rng.choice([b"\xef\xbb\xbf" + data, data.replace(b"\n", b"\r\n"), data.replace(b"  ", b"\t", 1),
                               data.replace(b"\n", b"\r")])
            continue
        elif how == 8 and lines:  # an anchor on one value and aliases elsewhere
            lines[index] = lines[index].replace(b": ", b": &a ", 1)
            for _ in range(rng.randint(1, 3)):
                other = rng.randrange(len(lines))
                lines[other] = lines[other].replace(b": ", b": *a #", 1)
        elif how == 9:
            depth = rng.choice([10, 100, 300, 2000])
            at = rng.randint(0, len(data))
            data = data[:at] + b"[" * depth + b"1" + b"]" * depth + data[at:]
            continue
        data = b"\n".join(lines)
    return data


KEEPING_LAYERS = ["relu", "batchnorm", "identity", "tanh", "dropout", "gelu", "sigmoid", "leakyrelu",
                  "{conv: {filters: 8, kernel: 3, padding: 1}}", "{conv: {filters: 8, kernel: 1}}",
                  "{dwconv: {kernel: 3, padding: same}}", "{maxpool: {kernel: 3, stride: 1, padding: 1}}",
                  "{avgpool: {kernel: 3, stride: 1, padding: 1}}", "{conv: {filters: 8, kernel: 3, dilation: 2, padding: 2}}",
                  "blk", "{blk: {f: 8}}", "{repeat: 2, layers: [relu, {conv: {filters: 8, kernel: 3, padding: 1}}]}",
                  "{branches: [[], [{conv: {filters: 8, kernel: 3, padding: 1}}]], merge: add}",
                  "{branches: [[relu], [{conv: {filters: 4, kernel: 1}}]], merge: concat}",
                  "{conv: {filters: 8, kernel: 1}}"]


def large_spec(rng: random.Random) -> bytes:
    """A valid spec of 10 to 500 KB, built from layers that keep the size (8 channels in, 8 out, or a
    concat that a 1x1 conv brings back to 8), so that it is read to its end and reaches the engine and
    the renderers, where random bytes stop at the first located error."""
    target = rng.choice([10, 30, 100, 500]) * 1024
    dims = rng.choice([1, 2, 2, 3])
    out = [f"name: large{rng.randrange(1000)}\ninput: [8, {', '.join(['16'] * dims)}]\n"
           "blocks:\n  blk:\n    params: {f: 8}\n    layers: [{conv: {filters: $f, kernel: 3, padding: 1}}, relu]\n"
           "layers:\n"]
    size = len(out[0])
    while size < target:
        layer = rng.choice(KEEPING_LAYERS)
        line = f"  - {layer}\n" + ("  - {conv: {filters: 8, kernel: 1}}\n" if "concat" in layer else "")
        out.append(line)
        size += len(line)
    out.append("  - globalavgpool\n  - flatten\n  - fc: 10\n")
    return "".join(out).encode()


def mutate_once(rng: random.Random, data: bytes) -> bytes:
    """One mutation, anywhere: most of a large input stays valid and is read to its end."""
    how = rng.randrange(4)
    at = rng.randint(0, len(data))
    if how == 0:
        return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[at:]
    if how == 1:
        return data[:at] + rng.choice(HOSTILE_TOKENS).encode() + data[at:]
    if how == 2:  # a line repeated
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end + 1
        return data[:end] + data[start:end] + data[end:]
    return data  # unchanged: the large valid spec itself


def random_input(rng: random.Random) -> tuple[str, bytes]:
    roll = rng.random()
    if roll < 0.33:
        return "generated", generated_spec(rng)
    if roll < 0.9:
        return "mutated", mutate(rng, generated_spec(rng))
    if roll < 0.95:
        return "large", mutate_once(rng, large_spec(rng))
    return "random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))


def run_commands(data: bytes, out_dir: str) -> None:
    """Every spec-reading command on `data` as standard input; raises on an exit code that is not an answer."""
    for words, command in commands():
        if not takes_a_spec(command):
            continue
        args = ["--debug", *words, *invocations(command, "-", Path(out_dir), variants=False)[0]]
        result = budgeted(run_cli, args, data)
        _reached("cli " + " ".join(words))
        if isinstance(result.exception, (OverBudget, MemoryError)):
            raise result.exception
        if result.exit_code not in SAFE_EXIT_CODES or "Traceback" in result.output:
            raise AssertionError(f"cnncalc {' '.join(args)} exited {result.exit_code}:\n{result.output[-3000:]}")


def run_case(rng: random.Random, data: bytes, out_dir: str) -> str:
    """'valid' or 'error'; raises on a crash (anything but located problems). The commands of the CLI
    and the in-process run each have their own budget."""
    if rng.random() < CLI_SHARE:
        run_commands(data, out_dir)
    return budgeted(run_in_process, rng, data)


def run_in_process(rng: random.Random, data: bytes) -> str:
    try:
        spec = parse_bytes(data, "fuzz.yaml")
        _reached("parsed")
        report = analyze(spec, floor=rng.random() < 0.5, batch=rng.choice([1, 32]))
        _reached("engine")
    except SpecError as error:
        if not error.problems or any(p.location.line < 1 or p.location.column < 1 for p in error.problems):
            raise AssertionError(f"an error without a location: {error.problems!r}") from None
        write_out(render_problem_lines(error.problems))
        _reached("render problems")
        for renderer in CHECK_RENDERERS:
            write_out(renderer.render_check([("fuzz.yaml", error.problems)]))
            _reached("render check " + renderer.__name__.rsplit(".", 1)[-1])
        return "error"
    write_out(render_json(report))
    _reached("render json")
    write_out(render_csv(report))
    _reached("render csv")
    write_out(render_markdown(report, si=rng.random() < 0.5, depth=rng.choice([None, 1, 2])))
    _reached("render markdown")
    if rng.random() < 0.05:  # the table at a random width; a sample is enough
        render_table(report, TableOptions(width=rng.choice([None, 40, 80, 120]), exact=rng.random() < 0.5),
                     depth=rng.choice([None, 1]), out=strict_stream())
        _reached("render table")
    return "valid"


def _alarm(signum, frame):
    raise OverBudget(f"over {TIME_BUDGET} s")


def budgeted(function, *args):
    """function(*args) within TIME_BUDGET seconds and MEMORY_BUDGET more bytes of address space (where
    the system lets them be measured)."""
    usage = _address_space()
    if not usage:
        return function(*args)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = usage + MEMORY_BUDGET
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, TIME_BUDGET)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux), or 0 where it cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--cases", type=int, default=100_000, help="inputs to try (default 100,000)")
    arguments.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    arguments.add_argument("--save-slowest", metavar="FILE", help="write the slowest case's input to FILE")
    options = arguments.parse_args()
    rng = random.Random(options.seed)
    counts = {"valid": 0, "error": 0, "crash": 0}
    slowest = (0.0, -1, "", b"")
    first_crash = None
    start = time.perf_counter()
    out_dir = tempfile.mkdtemp(prefix="cnncalc-fuzz-")
    has_budget = _address_space() > 0
    if has_budget:
        signal.signal(signal.SIGALRM, _alarm)
    findings: dict[str, int] = {}
    for case in range(options.cases):
        origin, data = random_input(rng)
        ORIGIN[0] = origin
        _reached("input " + origin)
        began = time.perf_counter()
        try:
            counts[run_case(rng, data, out_dir)] += 1
        except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
            counts["crash"] += 1
            what = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"[:120]
            findings[what] = findings.get(what, 0) + 1
            if first_crash is None:
                first_crash = (case, origin, data, traceback.format_exc())
        took = time.perf_counter() - began
        if took > slowest[0]:
            slowest = (took, case, origin, data)
        if (case + 1) % 10_000 == 0:
            print(f"  {case + 1:,} cases, {counts['crash']} crashed", file=sys.stderr)
    total = time.perf_counter() - start
    print(f"cnncalc fuzz: {options.cases:,} inputs tried (seed {options.seed}) in {total:.1f} s")
    print(f"  answers (valid specs):       {counts['valid']:,}")
    print(f"  located errors:              {counts['error']:,}")
    print(f"  crashed or over budget:      {counts['crash']:,}"
          + ("" if has_budget else " (no time or memory budget on this system)"))
    for what, count in sorted(findings.items(), key=lambda item: -item[1]):
        print(f"    {count:>6,}  {what.encode('utf-8', 'backslashreplace').decode()}")
    took, case, origin, data = slowest
    print(f"  slowest case:                {took:.3f} s (case {case}, {origin}, {len(data):,} bytes)")
    print("  coverage (cases that reached each stage):")
    for what in sorted(COVERAGE):
        print(f"    {what:<27}  {COVERAGE[what]:,}")
    if options.save_slowest:
        Path(options.save_slowest).write_bytes(data)
    if first_crash is not None:
        case, origin, data, trace = first_crash
        trace = trace.encode("utf-8", "backslashreplace").decode()
        print(f"\nfirst finding: case {case} ({origin}); input:\n{data[:4000]!r}\n\n{trace}")
    return 1 if counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
