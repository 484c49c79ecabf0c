"""Reading a spec from a git revision: `git:REV:path/to/spec.yaml`, as `git show` gives it, with no shell.

The path is relative to the working directory (as the other arguments are), found with
`git ls-tree -l -z REV -- PATH` (the path after `--`, literal), and its blob read with `git show BLOB`. A REV
that starts with '-' would read as an option and is refused; the size is known before reading, so a spec
larger than cnncalc's limit is refused unread.
"""

from __future__ import annotations

import os
import subprocess
from typing import NamedTuple

from .loader import MAX_SPEC_BYTES, too_large_message
from .problems import Location, Problem, SpecReadError

PREFIX = "git:"
TIMEOUT = 60  # seconds for each git command


class GitPath(NamedTuple):
    """A file at a revision: `git:REV:PATH`."""

    rev: str
    path: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.rev}:{self.path}"


def is_git_path(argument: str) -> bool:
    """Whether the argument names a file at a revision (and no file of that name exists)."""
    return argument.startswith(PREFIX) and not os.path.exists(argument)


def _fail(argument: str, message: str) -> SpecReadError:
    return SpecReadError([Problem(Location(argument, 1, 1), message)])


def parse_git_path(argument: str) -> GitPath:
    """`git:REV:PATH` split at the first ':' after the prefix; raises SpecReadError when it is not one."""
    rev, colon, path = argument[len(PREFIX):].partition(":")
    if not rev or not colon or not path:
        raise _fail(argument, "write a file at a git revision as git:REV:PATH, e.g. git:origin/main:specs/net.yaml")
    if rev.startswith("-"):
        raise _fail(argument, f"the revision '{rev}' starts with '-', which git would read as an option; "
                              "cnncalc refuses it")
    return GitPath(rev, path)


def _git(argument: str, *args: str) -> bytes:
    """Run git with these arguments (no shell, no prompt, literal paths) and return its output."""
    env = dict(os.environ, GIT_LITERAL_PATHSPECS="1", GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(["git", *args], stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise _fail(argument, "git is not installed (or not on PATH); cnncalc needs it to read git:REV:PATH") from None
    except subprocess.TimeoutExpired:
        raise _fail(argument, f"git did not answer within {TIMEOUT} s") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _fail(argument, f"git cannot read it: {reason[0] if reason else f'exit {done.returncode}'}")
    return done.stdout


def read_git_bytes(argument: str) -> bytes:
    """The bytes of the file `git:REV:PATH` names; raises SpecReadError (located at the argument) when git cannot
    give them: not a repository, an unknown revision, no such file, a directory, or too large a file."""
    where = parse_git_path(argument)
    listing = _git(argument, "ls-tree", "-l", "-z", where.rev, "--", where.path)
    entries = [entry for entry in listing.split(b"\0") if entry]
    if not entries:
        raise _fail(argument, f"no file {where.path} at {where.rev} (paths are relative to the working directory)")
    meta, _, _ = entries[0].partition(b"\t")
    fields = meta.split()
    if len(entries) != 1 or len(fields) != 4 or fields[1] != b"blob":
        raise _fail(argument, f"{where.path} at {where.rev} is not a file")
    blob, size = fields[2].decode("ascii"), fields[3].decode("ascii")
    if not all(c in "0123456789abcdef" for c in blob) or not size.isdigit():  # pragma: no cover - git's own output
        raise _fail(argument, "unexpected output from git ls-tree")
    if int(size) > MAX_SPEC_BYTES:
        raise SpecReadError([Problem(Location(argument, 1, 1), too_large_message(int(size)))])
    return _git(argument, "show", blob)
