"""Reading a spec, the one entry point: bytes → load → read → expand → Spec. Each stage calls none above it.

    loader.py  load: bytes → text (size limit, UTF-8) → YAML nodes (bounded composer), located
    read.py    read: nodes → SpecTemplate: what was written, as templates, every mistake a located Problem
    expand.py  expand: templates → the flat layer graph: repeats unrolled, every layer named, `from:` resolved

A model file that is not YAML is recognised by its first bytes: each entry of READERS says whether it
recognises them and turns the whole file into the same SpecTemplate, which expands as a YAML spec does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from .expand import SpecTemplate, expand
from .kinds.params import did_you_mean
from .loader import MAX_SPEC_BYTES, decode, load_text, read_bytes
from .read import MAX_NESTING, read_spec
from .spec import Spec
from .suggest import run

HEAD_BYTES = 64  # what a reader sees to recognise its format


class Reader(NamedTuple):
    """A reader of a model format other than YAML: `recognises` the first HEAD_BYTES bytes of a file, and
    `read`s the whole file's bytes (the file named `source`) into a SpecTemplate, or raises SpecError."""

    name: str
    recognises: Callable[[bytes], bool]
    read: Callable[[bytes, str], SpecTemplate]


READERS: list[Reader] = []  # tried in order; a file none recognises is read as a YAML spec


def read_template(data: bytes, source: str) -> SpecTemplate:
    """The spec a file's bytes write, before expansion: by the first reader that recognises them, else as YAML."""
    head = data[:HEAD_BYTES]
    for reader in READERS:
        if reader.recognises(head):
            return reader.read(data, source)
    return read_yaml(decode(data, source), source, Path(source).stem)


def read_yaml(text: str, source: str, default_name: str | None = None) -> SpecTemplate:
    return read_spec(load_text(text, source), source, default_name or Path(source).stem or "spec")


def parse_text(text: str, source: str = "<spec>", default_name: str | None = None) -> Spec:
    """Parse spec text; raise SpecError with every problem found."""
    with run():  # reading and expanding share one budget of "did you mean" hints
        return expand(read_yaml(text, source, default_name))


def parse_bytes(data: bytes, source: str) -> Spec:
    """Parse a spec's bytes (YAML, or a model file a reader of READERS recognises)."""
    with run():
        return expand(read_template(data, source))


def parse_file(path: str | Path) -> Spec:
    """Read and parse a spec file (never written to)."""
    return parse_bytes(read_bytes(path), str(path))


__all__ = ["HEAD_BYTES", "MAX_NESTING", "MAX_SPEC_BYTES", "READERS", "Reader", "did_you_mean", "parse_bytes",
           "parse_file", "parse_text", "read_template", "read_yaml"]
