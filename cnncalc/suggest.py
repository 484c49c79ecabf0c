"""'Did you mean ...?' hints and lists of known names, with a bound on their total work and size.

difflib compares a word with every choice, in time that grows with the product of their lengths: 1,000
misspelt uses of 1,000 thirty-character block names, or 500 references among 200 names of 990
characters, would take minutes. So a run (one command: every spec it reads; or one spec read outside
a command) gets one budget of character comparisons, the sum of len(word) × (len(choice) + 1) over
every choice looked at, and a most number of hints; past either, a problem is still reported, without
its hint. The readers also stop repeating one kind of problem after SHOWN_PER_KIND of them (read.py,
expand.py) and list at most LISTED known names in a message (`listed`).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

WORK = 2_000_000  # character pairs compared for hints in a run (difflib: about 0.4 s at worst)
HINTS = 200  # hints in a run; problems past it are reported without one
MAX_WORD = 200  # a longer word gets no hint (nobody mistypes 200 characters)
LISTED = 20  # known names listed in one message ('... and 2,980 more')
SHOWN_PER_KIND = 20  # problems of one kind shown in full per spec; the rest are counted in one line


class Budget:
    """What is left of a run's budget: character pairs and hints."""

    def __init__(self, work: int | None = None, hints: int | None = None):
        self.work = WORK if work is None else work
        self.hints = HINTS if hints is None else hints
        self.compared = 0  # character pairs spent so far (what the budget bounds)


_runs: list[Budget] = []
_outside = Budget()  # hints asked for outside any run share this one budget


@contextmanager
def run() -> Iterator[Budget]:
    """One budget for everything inside (a command, or one spec read): nested runs share the outer one."""
    if _runs:
        yield _runs[-1]
        return
    _runs.append(Budget())
    try:
        yield _runs[-1]
    finally:
        _runs.pop()


def current() -> Budget:
    return _runs[-1] if _runs else _outside


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (difflib's ratio ≥ 0.6), or None: none is close, or the budget is spent."""
    budget = current()
    if budget.hints <= 0 or budget.work <= 0 or len(word) > MAX_WORD:
        return None
    options = list(choices)  # C speed; the cost below is checked before any Python loop over them
    if len(word) * len(options) > budget.work:
        return None
    cost = len(word) * (sum(map(len, options)) + len(options))
    if cost > budget.work:
        return None
    budget.work -= cost
    budget.compared += cost
    import difflib  # only a spec with a mistake needs it

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not match:
        return None
    budget.hints -= 1
    return match[0]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'conv'?)' when a close match exists (within the budget), else ''."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match is not None else ""


def listed(names: Iterable[str], most: int = LISTED) -> str:
    """'a, b, c' for a message: at most `most` names, then how many more ('..., and 2,980 more'), so that a
    block of 3,000 parameters misused 1,000 times does not print 3,000,000 names; 'none' for none."""
    names = list(names)
    if not names:
        return "none"
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... and {len(names) - most:,} more"
