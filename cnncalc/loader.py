"""Load: a file's bytes → text → YAML nodes, located, within limits. The first of the reader's three stages
(loader.py, read.py, expand.py; parser.py calls them in order).

Bytes: at most MAX_SPEC_BYTES are read (a device such as /dev/zero never ends), then decoded as UTF-8 (a
BOM dropped). Text: composed into nodes by compose.py's bounded composer, with libyaml's C parser when
PyYAML has it. Nothing is constructed; every mistake is a located SpecError.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .compose import compose
from .problems import Location, Problem, SpecError, SpecReadError

try:  # libyaml's C parser when present: same events and marks, much faster
    from yaml import CSafeLoader as LOADER
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as LOADER  # type: ignore[assignment]

MAX_SPEC_BYTES = 8 * 1024 * 1024  # larger files are refused before they are parsed


def _not_regular(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    import stat

    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes. Only a regular file is read: a FIFO without a writer would block for ever and a
    device may never end, so anything else is refused before it is opened (and checked again once open,
    without blocking). Read at most MAX_SPEC_BYTES + 1 bytes: a larger file is a located error. Raises
    SpecReadError when the file cannot be read at all."""
    import stat

    path = Path(path)

    def refused(what: str) -> SpecReadError:
        if what == "a directory":
            return SpecReadError([Problem(Location(str(path), 1, 1), "is a directory, not a spec file")])
        return SpecReadError([Problem(Location(str(path), 1, 1), f"is {what}, not a spec file; cnncalc reads "
                                      "regular files, and standard input as '-' (cnncalc check - < FILE)")])

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise refused(_not_regular(mode))
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(descriptor, "rb", closefd=True) as stream:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):  # replaced between the look and the opening
                raise refused(_not_regular(status.st_mode))
            data = stream.read(MAX_SPEC_BYTES + 1)
            size = status.st_size
    except OSError as exc:
        raise SpecReadError([Problem(Location(str(path), 1, 1), f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([Problem(Location(str(path), 1, 1), too_large_message(size if size > MAX_SPEC_BYTES else None))])
    return data


def decode(data: bytes, source: str) -> str:
    """UTF-8 text (a BOM is dropped); anything else is a located error. Larger than MAX_SPEC_BYTES: refused."""
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([Problem(Location(source, 1, 1), too_large_message(None))])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise SpecError([Problem(Location(source, line, column),
                                 f"byte 0x{data[exc.start]:02x} is not UTF-8{hint}; save the file as UTF-8")]) from None


def too_large_message(size: int | None) -> str:
    """`size` is None when only a prefix was read (standard input, a device)."""
    limit = f"{MAX_SPEC_BYTES:,} bytes ({MAX_SPEC_BYTES // 1024 // 1024} MiB)"
    if size is None:
        return f"the spec is larger than {limit}, the most cnncalc reads"
    return f"the spec is {size:,} bytes; cnncalc reads at most {limit}"


def load_text(text: str, source: str) -> yaml.Node | None:
    """The YAML document's nodes (None when there is none)."""
    return compose(text, source, LOADER)


def load_bytes(data: bytes, source: str) -> yaml.Node | None:
    return load_text(decode(data, source), source)
