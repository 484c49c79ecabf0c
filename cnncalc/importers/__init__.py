"""Readers of the models people already have: ONNX and Caffe prototxt, chosen by content.

`detect` looks at a file's first bytes: an ONNX model is a protocol buffer whose first field is one of
ModelProto's; a Caffe prototxt is text with `layer {`, `layers {`, `input:` with a quoted name,
`input_dim:` or `input_shape {`; anything else is a YAML spec. `read_network` reads a model into an
ImportedNetwork (what `cnncalc import` writes), `read_spec` into the Spec that every command analyses.
An ONNX file is mapped, never read whole: its weights are never touched.
"""

from __future__ import annotations

import mmap
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..problems import Location, Problem, SpecError, SpecReadError
from .protowire import looks_like_onnx

if TYPE_CHECKING:  # the readers are imported when a model is read: every command asks `is_model` first
    from .network import ImportedNetwork

ONNX = "onnx"
PROTOTXT = "prototxt"
YAML = "yaml"
HEAD_BYTES = 4096
MAX_STDIN_MODEL_BYTES = 1 << 30
MAX_PROTOTXT_BYTES = 64 * 1024 * 1024
_PROTOTXT = re.compile(rb"^[ \t]*(layers?[ \t]*\{|input_shape[ \t]*\{|input_dim[ \t]*:|input[ \t]*:[ \t]*[\"'])",
                       re.MULTILINE)


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
