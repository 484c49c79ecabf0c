"""`check --format github`: GitHub Actions workflow commands, so a pull request shows each problem on its line.

    ::error file=specs/net.yaml,line=5,col=7,title=cnncalc (layer conv1)::conv 'conv1': (7 − 3 + 2·0)/3 + 1 ...

Warnings become `::warning`. GitHub reads one command per line, so the message escapes %, CR and LF
(%25, %0D, %0A) and the properties also escape ':' and ',' (%3A, %2C), as GitHub's own toolkit does.
"""

from __future__ import annotations

import re

from ..problems import ERROR, NOTE, Problem
from .problems import CheckResults, Verdicts
from .safe import visible

_LINE_BREAKS = re.compile("([\r\n])")
STDIN = "<stdin>"  # no file to point at: the annotation goes on the run instead of a line


def escape_data(text: str) -> str:
    """A command's message: % first, so that the escapes it adds are not escaped again. Other control
    characters (ESC, BEL, an OSC-8 hyperlink) are made visible, as in the text format."""
    text = "".join(part if part in ("\r", "\n") else visible(part) for part in _LINE_BREAKS.split(text))
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title): the message's escapes, and ':' and ',' which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """One workflow command: `::error file=…,line=…,col=…,title=…::message`."""
    level = "error" if problem.severity == ERROR else "notice" if problem.severity == NOTE else "warning"
    where = problem.location
    properties = []
    if where.file != STDIN:
        properties += [f"file={escape_property(where.file)}", f"line={where.line}", f"col={where.column}"]
    title = f"cnncalc (layer {problem.layer})" if problem.layer else "cnncalc"
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(problem.message)}"


def render_check(results: CheckResults, verdicts: Verdicts | None = None) -> str:
    """An annotation per problem (an exceeded budget among them); the met budgets are in the summary line."""
    return "".join(f"{annotation(p)}\n" for _, problems in results for p in problems)
