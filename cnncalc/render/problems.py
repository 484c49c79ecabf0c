"""`check`'s default format, and every error line: `file:line:col: severity: message`, one per problem.

The compilers' and linters' convention, which editors and terminals turn into links.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from ..problems import NOTE, Problem
from .safe import visible

if TYPE_CHECKING:
    from ..budget import Verdict

CheckResults = Sequence[tuple[str, Sequence[Problem]]]  # (file as given, its problems) per checked spec
Verdicts = Mapping[str, Sequence["Verdict"]]  # file as given → its budgets' verdicts (files with budgets only)


def printable(text: str) -> str:
    """Control characters from the spec (an escape sequence in a quoted key, say) written as escapes,
    so that a message cannot move the cursor or recolour the terminal: '\x1b' → '\\x1b' (see safe.visible)."""
    return visible(text)


def render_problem_lines(problems: Sequence[Problem]) -> str:
    return "".join(f"{printable(str(p))}\n" for p in problems)


def render_check(results: CheckResults, verdicts: Verdicts | None = None) -> str:
    """Problems only: an exceeded budget is one of them; the met ones are in the summary line."""
    return "".join(render_problem_lines(problems) for _, problems in results)


def check_summary(results: CheckResults) -> str:
    """'checked 2 specs: 1 valid, 1 invalid (1 error)'."""
    invalid = sum(1 for _, problems in results if any(p.is_error for p in problems))
    errors = sum(1 for _, problems in results for p in problems if p.is_error)
    warnings = sum(1 for _, problems in results for p in problems if not p.is_error and p.severity != NOTE)
    notes = sum(1 for _, problems in results for p in problems if p.severity == NOTE)
    line = (f"checked {len(results)} spec{'s' if len(results) != 1 else ''}: {len(results) - invalid} valid, "
            f"{invalid} invalid ({errors} error{'s' if errors != 1 else ''}")
    if warnings:
        line += f", {warnings} warning{'s' if warnings != 1 else ''}"
    if notes:
        line += f", {notes} note{'s' if notes != 1 else ''}"
    return line + ")"


def budget_summary(verdicts: Verdicts) -> str:
    """What follows check_summary when budgets were checked: '; budgets: 3 met, 1 exceeded', then a line per
    file naming its met budgets and their figures."""
    if not verdicts:
        return ""
    from ..budget import met_text

    met = sum(1 for results in verdicts.values() for v in results if v.met)
    missed = sum(1 for results in verdicts.values() for v in results if not v.met)
    text = f"; budgets: {met} met, {missed} exceeded"
    for path, results in verdicts.items():
        held = [met_text(v) for v in results if v.met]
        if held:
            text += f"\n{printable(path)}: budget met: " + "; ".join(held)
    return text
