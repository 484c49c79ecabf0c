"""'Did you mean ...?' hints, with a bound on their total work per spec.

difflib compares a word with every choice, in time that grows with the product of their lengths: 1,000
misspelt uses of 1,000 thirty-character block names, or 500 references among 200 names of 990
characters, would take minutes. So each spec read gets a budget of character comparisons (the sum of
len(word) × len(choice) over every choice looked at) and a most number of hints; past either, a
problem is still reported, without its hint.
"""

from __future__ import annotations

from typing import Iterable

WORK = 1_000_000  # character pairs compared for hints, per spec (difflib: under a second)
HINTS = 200  # hints per spec; problems past it are reported without one
MAX_WORD = 200  # a longer word gets no hint (nobody mistypes 200 characters)

_left = [WORK, HINTS]


def reset() -> None:
    """A new spec: a new budget (called when a spec starts being read)."""
    _left[0], _left[1] = WORK, HINTS


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (difflib's ratio ≥ 0.6), or None: none is close, or the budget is spent."""
    if _left[1] <= 0 or len(word) > MAX_WORD:
        return None
    options = list(choices)  # C speed; the cost below is checked before any Python loop over them
    if len(word) * len(options) > _left[0]:
        return None
    cost = len(word) * (sum(map(len, options)) + len(options))
    if cost > _left[0]:
        return None
    _left[0] -= cost
    import difflib  # only a spec with a mistake needs it

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not match:
        return None
    _left[1] -= 1
    return match[0]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'conv'?)' when a close match exists (within the budget), else ''."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match is not None else ""
