"""The protocol-buffer wire format, walked without a schema and without copying payloads.

A message is a sequence of fields, each a tag (field number · 8 + wire type, a varint) and a value: a varint
(type 0), 8 bytes (1), a length-delimited run of bytes (2: strings, bytes, sub-messages, packed lists) or 4
bytes (5). `fields` yields them one at a time from a buffer (bytes or a read-only mmap) between two offsets;
a length-delimited value is only a pair of offsets, so a 500 MB weight payload is stepped over, never read.

Model files are hostile input. Every length is checked against the end of its enclosing message, a varint
stops after 10 bytes, groups (types 3 and 4, unused by ONNX and Caffe) and unknown wire types are errors,
and the reader decides which sub-messages to enter (never recursively through the buffer). Each mistake is
a WireError with the byte offset where it is.
"""

from __future__ import annotations

import struct
from typing import Iterator, NamedTuple

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
MAX_VARINT_BYTES = 10
MAX_FIELD_NUMBER = (1 << 29) - 1
_FLOAT = struct.Struct("<f")
_DOUBLE = struct.Struct("<d")


class WireError(Exception):
    """The bytes are not a well-formed message; `offset` is where the reading failed."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


class Field(NamedTuple):
    """One field: its number and wire type, its value (an int for varints and fixed fields; for LEN, the
    payload's start offset, with `end` its end) and where its tag starts."""

    number: int
    wire_type: int
    value: int
    end: int
    offset: int


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the offset after it."""
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            if pos - start >= MAX_VARINT_BYTES:
                break
            raise WireError(f"the data ends inside a number (varint) that starts at byte {start:,}; "
                            "the file is truncated", start)
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if pos - start >= MAX_VARINT_BYTES:
            break
    raise WireError(f"a number (varint) at byte {start:,} runs on for more than {MAX_VARINT_BYTES} bytes; "
                    "the file is corrupt or not a protocol buffer", start)


def fields(buf, start: int, end: int) -> Iterator[Field]:
    """The fields of the message in buf[start:end], in order."""
    pos = start
    while pos < end:
        offset = pos
        tag, pos = read_varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0 or number > MAX_FIELD_NUMBER:
            raise WireError(f"field number {number} at byte {offset:,} is not valid; the file is corrupt or "
                            "not a protocol buffer", offset)
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos, end)
            yield Field(number, wire_type, value, pos, offset)
        elif wire_type == LEN:
            length, pos = read_varint(buf, pos, end)
            if length > end - pos:
                raise WireError(f"field {number} at byte {offset:,} says it holds {length:,} bytes, but only "
                                f"{end - pos:,} are left in its message; the file is truncated or corrupt", offset)
            yield Field(number, wire_type, pos, pos + length, offset)
            pos += length
        elif wire_type in (FIXED64, FIXED32):
            size = 8 if wire_type == FIXED64 else 4
            if size > end - pos:
                raise WireError(f"field {number} at byte {offset:,} needs {size} bytes, but only {end - pos} are "
                                "left; the file is truncated", offset)
            yield Field(number, wire_type, int.from_bytes(bytes(buf[pos:pos + size]), "little"), pos + size, offset)
            pos += size
        else:
            raise WireError(f"field {number} at byte {offset:,} has wire type {wire_type}, which this format never "
                            "uses; the file is corrupt or not a protocol buffer", offset)


def signed(value: int) -> int:
    """An int64 written as a varint (two's complement in 64 bits)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def as_float(field: Field) -> float:
    """A float (fixed32) or double (fixed64) field's value."""
    if field.wire_type == FIXED32:
        return _FLOAT.unpack(field.value.to_bytes(4, "little"))[0]
    if field.wire_type == FIXED64:
        return _DOUBLE.unpack(field.value.to_bytes(8, "little"))[0]
    raise WireError(f"field {field.number} at byte {field.offset:,} should be a floating-point number", field.offset)


def text(buf, field: Field, limit: int = 4096) -> str:
    """A string field, decoded as UTF-8 (undecodable bytes replaced); longer than `limit` bytes is an error."""
    if field.wire_type != LEN:
        raise WireError(f"field {field.number} at byte {field.offset:,} should be a string", field.offset)
    if field.end - field.value > limit:
        raise WireError(f"a string at byte {field.offset:,} is {field.end - field.value:,} bytes long; cnncalc "
                        f"reads names of at most {limit:,} bytes", field.offset)
    return bytes(buf[field.value:field.end]).decode("utf-8", "replace")


def ints(buf, field: Field, limit: int = 1 << 16) -> list[int]:
    """A repeated int64 field's values in one field: packed (LEN) or a single varint. Signed."""
    if field.wire_type == VARINT:
        return [signed(field.value)]
    if field.wire_type != LEN:
        raise WireError(f"field {field.number} at byte {field.offset:,} should hold whole numbers", field.offset)
    values = []
    pos = field.value
    while pos < field.end:
        value, pos = read_varint(buf, pos, field.end)
        values.append(signed(value))
        if len(values) > limit:
            raise WireError(f"a list of numbers at byte {field.offset:,} holds more than {limit:,} values", field.offset)
    return values


def floats(buf, field: Field, limit: int = 1 << 16) -> list[float]:
    """A repeated float field's values in one field: packed (LEN) or a single fixed32."""
    if field.wire_type == FIXED32:
        return [as_float(field)]
    if field.wire_type != LEN or (field.end - field.value) % 4:
        raise WireError(f"field {field.number} at byte {field.offset:,} should hold floats", field.offset)
    count = (field.end - field.value) // 4
    if count > limit:
        raise WireError(f"a list of numbers at byte {field.offset:,} holds more than {limit:,} values", field.offset)
    return list(struct.unpack(f"<{count}f", bytes(buf[field.value:field.end])))
