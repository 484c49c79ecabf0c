"""Readers of the models people already have: ONNX and Caffe prototxt, chosen by content.

`detect` looks at a file's first bytes: an ONNX model is a protocol buffer whose first field is one of
ModelProto's; a Caffe prototxt is text with `layer {`, `layers {`, `input:` with a quoted name,
`input_dim:` or `input_shape {`; anything else is a YAML spec. `read_network` reads a model into an
ImportedNetwork (what `cnncalc import` writes), `read_spec` into the Spec that every command analyses.
An ONNX file is mapped, never read whole: its weights are never touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..problems import Location, Problem, SpecError, SpecReadError

if TYPE_CHECKING:  # the readers (and the wire reader, for a head that may be ONNX) are imported when needed:
    # every command asks `is_model` first
    from .network import ImportedNetwork

ONNX = "onnx"
PROTOTXT = "prototxt"
YAML = "yaml"
HEAD_BYTES = 4096
MAX_STDIN_MODEL_BYTES = 1 << 30
MAX_PROTOTXT_BYTES = 64 * 1024 * 1024
_PROTOTXT = re.compile(rb"^[ \t]*(layers?[ \t]*\{|input_shape[ \t]*\{|input_dim[ \t]*:|input[ \t]*:[ \t]*[\"'])",
                       re.MULTILINE)


# ModelProto's fields and their wire types (0: a varint, 2: length-delimited), as an ONNX file's first fields
MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


def looks_like_onnx(head: bytes) -> bool:
    """Whether the first bytes read as an ONNX ModelProto's first fields: a valid tag of one of its fields with the
    right wire type, and its value, and a second such tag. Text (YAML, prototxt) never starts so."""
    if head[:1] == b"\x08":  # ir_version, the field every ONNX writer puts first; never the start of text
        return True
    if not head or head[0] < 0x80 and MODEL_FIELDS.get(head[0] >> 3) != head[0] & 7:
        return False  # a first tag of one byte, and not one of ModelProto's (a YAML spec's '#' or 'n', say)
    from .protowire import WireError, fields

    try:
        seen = 0
        for f in fields(head, 0, len(head)):
            if MODEL_FIELDS.get(f.number) != f.wire_type:
                return False
            seen += 1
            if seen == 2:
                return True
    except WireError as error:
        return seen >= 1 and "only" in error.message  # a long field running past the head read
    return seen >= 1


def detect(head: bytes) -> str:
    """ONNX, PROTOTXT or YAML, from the first bytes of a file."""
    if looks_like_onnx(head):
        return ONNX
    if _PROTOTXT.search(head):
        return PROTOTXT
    return YAML


def _read_error(path: str, exc: OSError) -> SpecReadError:
    if isinstance(exc, IsADirectoryError):
        return SpecReadError([Problem(Location(path, 1, 1), "is a directory, not a spec file")])
    return SpecReadError([Problem(Location(path, 1, 1), f"cannot read: {exc.strerror or exc}")])


def read_head(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(HEAD_BYTES)
    except OSError as exc:
        raise _read_error(path, exc) from None


def read_network(path: str, data: bytes | None = None, input_shape: tuple[int, ...] | None = None,
                 allow_unknown: bool = False) -> ImportedNetwork:
    """The model at `path` (or in `data`, read from standard input) as an ImportedNetwork; raises SpecError."""
    head = data[:HEAD_BYTES] if data is not None else read_head(path)
    kind = detect(head)
    if kind == ONNX:
        return _read_onnx(path, data, input_shape, allow_unknown)
    if kind == PROTOTXT:
        from .caffe import read_prototxt

        text = data if data is not None else _read_text(path)
        return read_prototxt(text, path, input_shape)
    text = head.decode("utf-8", "replace")
    what = "a YAML spec, which needs no import" if text.isprintable() or "\n" in text and "\ufffd" not in text \
        else "binary data"
    raise SpecError([Problem(Location(path, 1, 1), f"this is neither an ONNX model nor a Caffe prototxt (it reads as "
                                                   f"{what}; a prototxt has 'layer {{' or 'input:' in its text)")])


def _read_text(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_PROTOTXT_BYTES + 1)
    except OSError as exc:
        raise _read_error(path, exc) from None
    if len(data) > MAX_PROTOTXT_BYTES:
        raise SpecError([Problem(Location(path, 1, 1), f"the prototxt is larger than {MAX_PROTOTXT_BYTES:,} bytes, "
                                                       "the most cnncalc reads")])
    return data


def _read_onnx(path: str, data: bytes | None, input_shape, allow_unknown: bool) -> ImportedNetwork:
    import mmap

    from .onnx import translate
    from .onnx_proto import read_model
    from .protowire import WireError

    mapped = None
    try:
        if data is None:
            try:
                with open(path, "rb") as stream:
                    size = os.fstat(stream.fileno()).st_size
                    if size == 0:
                        raise SpecError([Problem(Location(path, 1, 1), "the file is empty")])
                    mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
            except OSError as exc:
                raise _read_error(path, exc) from None
            buf = mapped
        else:
            buf, size = data, len(data)
        try:
            model = read_model(buf, size)
        except WireError as error:
            raise SpecError([Problem(Location(path, 1, error.offset + 1), f"not a readable ONNX model: {error.message}")]
                            ) from None
    finally:
        if mapped is not None:
            mapped.close()
    return translate(model, path, input_shape, allow_unknown)


def is_model(path: str, data: bytes | None = None) -> bool:
    """Whether the file (or standard input's bytes) is a model to import rather than a YAML spec."""
    head = data[:HEAD_BYTES] if data is not None else read_head(path)
    return detect(head) != YAML


def read_spec(path: str, data: bytes | None = None, input_shape: tuple[int, ...] | None = None,
              allow_unknown: bool = False):
    """The model as a Spec, as every command analyses it; raises SpecError."""
    from .network import to_spec

    return to_spec(read_network(path, data, input_shape, allow_unknown))


def model_suffix(path: str) -> bool:
    return Path(path).suffix.lower() in (".onnx", ".prototxt", ".pbtxt")


__all__ = ["ONNX", "PROTOTXT", "YAML", "detect", "is_model", "read_network", "read_spec"]
