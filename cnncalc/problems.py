"""Errors as values: a located problem, and the one exception that carries them."""

from typing import NamedTuple

ERROR = "error"
WARNING = "warning"


class Location(NamedTuple):
    """A place in a spec file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Problem(NamedTuple):
    """One thing wrong (or worth a warning) in a spec, with where it is."""

    location: Location
    message: str
    severity: str = ERROR
    layer: str = ""  # the layer path ("block/conv3"), empty for spec-level problems
    rule: str = ""  # a stable id of what is wrong ('budget-params'); see cnncalc/rules.py for the others

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


def unique(problems: list[Problem]) -> list[Problem]:
    """Each problem once (by place, words and severity), in order: a block definition's mistake is found at
    every use."""
    seen = set()
    result = []
    for problem in problems:
        key = (problem.location, problem.message, problem.severity)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


class SpecError(Exception):
    """Raised when a spec cannot be read or computed; carries every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)


class SpecReadError(SpecError):
    """The spec file could not be read at all: missing, a directory, no permission."""
