"""ONNX's ModelProto, read from the wire format: the graph's nodes, inputs and value shapes, and each
initializer's name, data type and dims. Weight payloads are stepped over; only a small constant (at most
MAX_CONSTANT_VALUES values: a Reshape target, Pad amounts, Resize scales) is read.

Field numbers are onnx.proto's: ModelProto (ir_version 1, producer_name 2, producer_version 3, graph 7,
opset_import 8, metadata_props 14), GraphProto (node 1, name 2, initializer 5, input 11, output 12,
value_info 13), NodeProto (input 1, output 2, name 3, op_type 4, attribute 5, domain 7), AttributeProto
(name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20), TensorProto (dims 1, data_type 2,
float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9, double_data 10, data_location 14),
ValueInfoProto (name 1, type 2), TypeProto (tensor_type 1), TypeProto.Tensor (elem_type 1, shape 2),
TensorShapeProto (dim 1), Dimension (dim_value 1, dim_param 2).
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

from .protowire import FIXED32, FIXED64, LEN, VARINT, Field, WireError, as_float, fields, floats, ints, signed, text

MAX_CONSTANT_VALUES = 64
MAX_NODES = 1_000_000
MAX_DIMS = 16
FLOAT, INT32, INT64, DOUBLE = 1, 6, 7, 11
DTYPE_NAMES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
               9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"}


class Tensor(NamedTuple):
    """An initializer or a constant: its dims and data type, and its values when it is small."""

    name: str
    dims: tuple[int, ...]
    data_type: int
    values: tuple[Any, ...] | None  # None: not read (a weight), or stored in a way cnncalc does not decode
    offset: int


class Attribute(NamedTuple):
    name: str
    value: Any  # float, int, str, Tensor, list of floats / ints / strs, or None (a graph: never read)
    offset: int


class Node(NamedTuple):
    name: str
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, Attribute]
    offset: int


class ValueInfo(NamedTuple):
    """A graph input, output or value_info entry: dims are ints, names (symbolic) or None (unknown)."""

    name: str
    dims: tuple[int | str | None, ...] | None  # None: no shape given
    elem_type: int
    offset: int


class Model(NamedTuple):
    ir_version: int
    producer: str
    producer_version: str
    opset: int
    graph_name: str
    nodes: tuple[Node, ...]
    initializers: dict[str, Tensor]
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    value_info: dict[str, ValueInfo]
    metadata: dict[str, str]


def _message(field: Field, what: str) -> tuple[int, int]:
    if field.wire_type != LEN:
        raise WireError(f"{what} at byte {field.offset:,} should be a message", field.offset)
    return field.value, field.end


def _int(field: Field) -> int:
    if field.wire_type != VARINT:
        raise WireError(f"field {field.number} at byte {field.offset:,} should be a whole number", field.offset)
    return signed(field.value)


def read_tensor(buf, start: int, end: int, offset: int) -> Tensor:
    dims: list[int] = []
    data_type = 0
    name = ""
    packed: dict[int, list] = {}
    raw: Field | None = None
    for f in fields(buf, start, end):
        if f.number == 1:
            dims.extend(ints(buf, f, MAX_DIMS))
            if len(dims) > MAX_DIMS:
                raise WireError(f"a tensor at byte {offset:,} has more than {MAX_DIMS} dims", offset)
        elif f.number == 2:
            data_type = _int(f)
        elif f.number == 8:
            name = text(buf, f)
        elif f.number == 9:
            raw = f
        elif f.number in (4, 5, 7, 10) and (f.end - f.value if f.wire_type == LEN else 1) <= 8 * MAX_CONSTANT_VALUES:
            if f.number == 4:
                packed.setdefault(4, []).extend(floats(buf, f, MAX_CONSTANT_VALUES))
            elif f.number == 10:
                packed.setdefault(10, []).extend(_doubles(buf, f))
            else:
                packed.setdefault(f.number, []).extend(ints(buf, f, MAX_CONSTANT_VALUES))
    if any(d < 0 for d in dims):
        raise WireError(f"tensor '{name}' at byte {offset:,} has a negative dim {dims}", offset)
    count = 1
    for d in dims:
        count *= d
    values = None
    if count <= MAX_CONSTANT_VALUES:
        if raw is not None:
            values = _decode_raw(bytes(buf[raw.value:raw.end]), data_type, count)
        else:
            stored = packed.get({FLOAT: 4, DOUBLE: 10, INT64: 7}.get(data_type, 5))
            if stored is not None and len(stored) == count:
                values = tuple(stored)
            elif count == 0:
                values = ()
    return Tensor(name, tuple(dims), data_type, values, offset)


def _doubles(buf, f: Field) -> list[float]:
    if f.wire_type == FIXED64:
        return [as_float(f)]
    data = bytes(buf[f.value:f.end])
    return list(struct.unpack(f"<{len(data) // 8}d", data[: len(data) // 8 * 8]))


_RAW = {FLOAT: "f", DOUBLE: "d", INT64: "q", INT32: "i", 3: "b", 2: "B", 9: "?", 5: "h", 4: "H", 12: "I", 13: "Q"}


def _decode_raw(data: bytes, data_type: int, count: int) -> tuple[Any, ...] | None:
    code = _RAW.get(data_type)
    if code is None or struct.calcsize(code) * count != len(data):
        return None
    return struct.unpack(f"<{count}{code}", data)


def read_attribute(buf, start: int, end: int, offset: int) -> Attribute:
    name = ""
    value: Any = None
    lists: dict[int, list] = {}
    for f in fields(buf, start, end):
        number = f.number
        if number == 1:
            name = text(buf, f)
        elif number == 2:
            value = as_float(f)
        elif number == 3:
            value = _int(f)
        elif number == 4:
            value = text(buf, f, 1 << 16)
        elif number == 5:
            value = read_tensor(buf, *_message(f, "a tensor attribute"), f.offset)
        elif number == 7:
            lists.setdefault(7, []).extend(floats(buf, f))
        elif number == 8:
            lists.setdefault(8, []).extend(ints(buf, f))
        elif number == 9:
            lists.setdefault(9, []).append(text(buf, f, 1 << 16))
        # graphs (6, 11), sparse tensors and types are not entered: an op that holds a graph is not a layer
    for number in (7, 8, 9):
        if number in lists:
            value = lists[number]
            if sum(len(v) for v in lists.values()) > 1 << 16:
                raise WireError(f"attribute '{name}' at byte {offset:,} is too long", offset)
    return Attribute(name, value, offset)


def read_node(buf, start: int, end: int, offset: int) -> Node:
    inputs: list[str] = []
    outputs: list[str] = []
    name = op_type = domain = ""
    attributes: dict[str, Attribute] = {}
    for f in fields(buf, start, end):
        number = f.number
        if number == 1:
            inputs.append(text(buf, f))
        elif number == 2:
            outputs.append(text(buf, f))
        elif number == 3:
            name = text(buf, f)
        elif number == 4:
            op_type = text(buf, f, 256)
        elif number == 5:
            attribute = read_attribute(buf, *_message(f, "an attribute"), f.offset)
            attributes[attribute.name] = attribute
        elif number == 7:
            domain = text(buf, f, 256)
        if len(inputs) + len(outputs) > 1 << 16:
            raise WireError(f"a node at byte {offset:,} has too many inputs or outputs", offset)
    return Node(name, op_type, domain, tuple(inputs), tuple(outputs), attributes, offset)


def read_value_info(buf, start: int, end: int, offset: int) -> ValueInfo:
    name = ""
    dims: list[int | str | None] | None = None
    elem_type = 0
    for f in fields(buf, start, end):
        if f.number == 1:
            name = text(buf, f)
        elif f.number == 2:  # TypeProto
            for t in fields(buf, *_message(f, "a type")):
                if t.number != 1:
                    continue
                for tt in fields(buf, *_message(t, "a tensor type")):
                    if tt.number == 1:
                        elem_type = _int(tt)
                    elif tt.number == 2:  # TensorShapeProto
                        dims = []
                        for d in fields(buf, *_message(tt, "a shape")):
                            if d.number != 1:
                                continue
                            dim: int | str | None = None
                            for dv in fields(buf, *_message(d, "a dimension")):
                                if dv.number == 1:
                                    dim = _int(dv)
                                elif dv.number == 2:
                                    dim = text(buf, dv, 256)
                            dims.append(dim)
                            if len(dims) > MAX_DIMS:
                                raise WireError(f"'{name}' at byte {offset:,} has more than {MAX_DIMS} dims", offset)
    return ValueInfo(name, tuple(dims) if dims is not None else None, elem_type, offset)


def read_model(buf, size: int) -> Model:
    """The model in buf[0:size]; raises WireError."""
    ir_version = opset = 0
    producer = producer_version = ""
    graph: Field | None = None
    metadata: dict[str, str] = {}
    for f in fields(buf, 0, size):
        if f.number == 1:
            ir_version = _int(f)
        elif f.number == 2:
            producer = text(buf, f)
        elif f.number == 3:
            producer_version = text(buf, f)
        elif f.number == 7:
            graph = f
        elif f.number == 8:
            domain, version = "", 0
            for g in fields(buf, *_message(f, "an opset")):
                if g.number == 1:
                    domain = text(buf, g)
                elif g.number == 2:
                    version = _int(g)
            if domain in ("", "ai.onnx"):
                opset = version
        elif f.number == 14 and len(metadata) < 1000:
            key = value = ""
            for g in fields(buf, *_message(f, "a metadata entry")):
                if g.number == 1:
                    key = text(buf, g)
                elif g.number == 2:
                    value = text(buf, g, 1 << 16)
            metadata[key] = value
    if graph is None:
        raise WireError("the file holds no graph (ONNX's ModelProto field 7): it is not an ONNX model", 0)
    nodes: list[Node] = []
    initializers: dict[str, Tensor] = {}
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    value_info: dict[str, ValueInfo] = {}
    graph_name = ""
    for f in fields(buf, *_message(graph, "the graph")):
        if f.number == 1:
            nodes.append(read_node(buf, *_message(f, "a node"), f.offset))
            if len(nodes) > MAX_NODES:
                raise WireError(f"the graph has more than {MAX_NODES:,} nodes; cnncalc refuses graphs that large",
                                f.offset)
        elif f.number == 2:
            graph_name = text(buf, f)
        elif f.number == 5:
            tensor = read_tensor(buf, *_message(f, "an initializer"), f.offset)
            initializers[tensor.name] = tensor
        elif f.number in (11, 12, 13):
            info = read_value_info(buf, *_message(f, "a value"), f.offset)
            if f.number == 11:
                inputs.append(info)
            elif f.number == 12:
                outputs.append(info)
            else:
                value_info[info.name] = info
        if len(initializers) + len(inputs) + len(value_info) > 4 * MAX_NODES:
            raise WireError("the graph holds too many values; cnncalc refuses graphs that large", f.offset)
    return Model(ir_version, producer, producer_version, opset, graph_name, tuple(nodes), initializers, tuple(inputs),
                 tuple(outputs), value_info, metadata)


__all__ = ["FIXED32", "FIXED64", "Attribute", "Model", "Node", "Tensor", "ValueInfo", "WireError", "read_model"]
