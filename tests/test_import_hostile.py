"""Hostile model files: each is a located error, quickly, with no traceback and no memory blow-up.

The ONNX bytes are written here with a few lines of protobuf encoding (onnx.proto's field numbers), so
that every case is exact and needs no framework.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cnncalc.engine import analyze
from cnncalc.importers import read_spec
from cnncalc.problems import SpecError

from .conftest import ROOT


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(field(1, field(1, d) if isinstance(d, int) else field(2, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, 1) + field(2, shape)))


def tensor(name: str, dims: list[int]) -> bytes:
    """An initializer of float32 zeros, its payload as raw_data."""
    count = 1
    for d in dims:
        count *= d
    return b"".join(field(1, d) for d in dims) + field(2, 1) + field(8, name) + field(9, bytes(4 * count))


def node(op: str, inputs: list[str], outputs: list[str], name: str, attributes: bytes = b"") -> bytes:
    return (b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs) + field(3, name)
            + field(4, op) + attributes)


def model(graph: bytes, opset: int = 13) -> bytes:
    return field(1, 8) + field(2, "handwritten") + field(7, graph) + field(8, field(1, "") + field(2, opset))


def small_model() -> bytes:
    """conv 3→4 (3×3, pad 1) → relu → global average pool, on 3×8×8 with a symbolic batch."""
    pads = field(5, field(1, "pads") + field(8, b"".join(varint(1) for _ in range(4))) + field(20, 7))
    graph = (field(1, node("Conv", ["x", "w", "b"], ["c"], "conv", pads)) + field(1, node("Relu", ["c"], ["r"], "relu"))
             + field(1, node("GlobalAveragePool", ["r"], ["y"], "gap")) + field(2, "tiny")
             + field(5, tensor("w", [4, 3, 3, 3])) + field(5, tensor("b", [4]))
             + field(11, value_info("x", ["batch", 3, 8, 8])) + field(12, value_info("y", ["batch", 4, 1, 1])))
    return model(graph)


def read(tmp_path, data: bytes, name: str = "model.onnx"):
    path = tmp_path / name
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        return analyze(read_spec(str(path))), time.perf_counter() - start
    except SpecError as error:
        took = time.perf_counter() - start
        assert took < 1.0
        return error, took


def error_of(tmp_path, data: bytes, name: str = "model.onnx") -> SpecError:
    result, _ = read(tmp_path, data, name)
    assert isinstance(result, SpecError), "expected a located error"
    for problem in result.problems:
        assert problem.location.file.endswith(name)
    return result


def test_the_handwritten_model_reads(tmp_path):
    report, _ = read(tmp_path, small_model())
    # by hand: conv (3·3·3)·4 + 4 = 112 params, 8·8·4·27 = 6,912 MACs; output 4×1×1
    assert report.totals.params == 112
    assert report.totals.macs == 6912
    assert report.layers[-1].output_shape == (4, 1, 1)
    assert any("symbolic" in w.message for w in report.warnings)


def test_every_truncation_is_a_located_error(tmp_path):
    data = small_model()
    for end in range(1, len(data) - 1, 7):
        error = error_of(tmp_path, data[:end])
        assert error.problems[0].location.line == 1


def test_varint_that_never_ends(tmp_path):
    error = error_of(tmp_path, b"\x08" + b"\xff" * 100_000)
    assert "runs on for more than 10 bytes" in error.problems[0].message
    assert error.problems[0].location.column == 2  # the varint starts at byte 1


def test_length_past_the_end(tmp_path):
    error = error_of(tmp_path, field(1, 8) + b"\x3a\x40" + b"\x0a\x02ab")
    assert "says it holds 64 bytes, but only 4 are left" in error.problems[0].message
    assert error.problems[0].location.column == 3


def test_two_gigabyte_length(tmp_path):
    error = error_of(tmp_path, field(1, 8) + b"\x3a" + varint(2 * 1024 ** 3) + b"\x0a\x00")
    assert "2,147,483,648 bytes" in error.problems[0].message


def test_recursion_through_nested_messages_is_not_followed(tmp_path):
    """A node whose attribute holds a graph whose node holds a graph ..., 2,000 deep: subgraphs are never
    entered (an operator with a subgraph is an unknown operator), so the nesting costs nothing."""
    inner = b""
    for depth in range(2_000):
        inner = field(1, node("If", ["c"], ["d"], f"if{depth}", field(5, field(1, "then_branch") + field(6, inner))))
    graph = (field(1, node("Relu", ["x"], ["c"], "relu")) + field(1, node("If", ["c"], ["y"], "outer",
             field(5, field(1, "then_branch") + field(6, inner)))) + field(11, value_info("x", [1, 3, 8, 8])))
    error = error_of(tmp_path, model(graph))
    assert any("unknown operator If: 1 node, the first 'outer'" in p.message for p in error.problems)


def test_prototxt_with_100000_nested_braces(tmp_path):
    error = error_of(tmp_path, b'input: "data"\n' + b"layer { " * 100_000 + b"}" * 100_000, "deep.prototxt")
    assert "nested more than 64 deep" in error.problems[0].message
    assert error.problems[0].location.line == 2


def test_binary_file_named_prototxt(tmp_path):
    data = bytes(range(256)) * 64
    error = error_of(tmp_path, data, "weights.prototxt")
    assert error.problems[0].location.line >= 1


def test_caffemodel_bytes_named_prototxt(tmp_path):
    """A binary NetParameter (a .caffemodel) renamed: not text, not ONNX; a located error."""
    data = field(1, "CaffeNet") + field(100, field(1, "conv1") + field(2, "Convolution")) + b"\xff\xfe" * 50
    error_of(tmp_path, data, "model.prototxt")


def test_input_without_a_size_asks_for_input(tmp_path):
    graph = (field(1, node("Relu", ["x"], ["y"], "relu")) + field(11, value_info("x", ["batch", 3, "height", "width"])))
    error = error_of(tmp_path, model(graph))
    assert "give the size with --input" in error.problems[0].message
    path = tmp_path / "model.onnx"
    result = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", str(path), "--input", "3x32x32"],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    assert "32×32×3" in result.stdout


@pytest.mark.parametrize("command", [["shapes"], ["check"], ["memory"], ["import"]])
def test_hostile_models_through_the_cli(tmp_path, command):
    cases = {"truncated.onnx": small_model()[:-9], "endless.onnx": b"\x08" + b"\xff" * 64,
             "deep.prototxt": b'input: "data"\n' + b"layer {" * 100_000, "binary.prototxt": bytes(range(256))}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = subprocess.run([sys.executable, "-m", "cnncalc", *command, str(path)], capture_output=True,
                                text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=30)
        assert result.returncode == 1, (name, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
        assert f"{path}:" in result.stderr + result.stdout, name


def test_constant_chains_read_ahead_cost_linear_time(tmp_path):
    """A Reshape whose shape comes from later nodes (out of order) through 40 Adds each reading the one before
    twice, down to a cycle: the chain is tried once per name, not 2⁴⁰ times; the Reshape is a located error."""
    chain = [node("Add", ["s0", "s0"], ["s1"], "add1")]
    chain += [node("Add", [f"s{i}", f"s{i}"], [f"s{i + 1}"], f"add{i + 1}") for i in range(1, 40)]
    chain.append(node("Add", ["s40", "s40"], ["s0"], "cycle"))
    graph = (field(1, node("Relu", ["x"], ["r"], "relu")) + field(1, node("Reshape", ["r", "s40"], ["y"], "reshape"))
             + b"".join(field(1, n) for n in chain) + field(11, value_info("x", [1, 3, 8, 8])))
    error = error_of(tmp_path, model(graph))
    assert any("Reshape" in p.message and "'reshape'" in p.message for p in error.problems)


def test_constant_whose_value_is_not_a_tensor(tmp_path):
    """A Constant node whose 'value' attribute holds an int instead of a tensor (a mutated file): the Reshape
    that reads it is a located error, not a traceback."""
    value = field(5, field(1, "value") + field(3, 5) + field(20, 2))
    graph = (field(1, node("Constant", [], ["s"], "constant", value)) + field(1, node("Relu", ["x"], ["r"], "relu"))
             + field(1, node("Reshape", ["r", "s"], ["y"], "reshape")) + field(11, value_info("x", [1, 3, 8, 8])))
    error = error_of(tmp_path, model(graph))
    assert any("Reshape" in p.message and "'reshape'" in p.message for p in error.problems)
