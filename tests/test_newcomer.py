"""Words a newcomer writes, and what cnncalc answers: the fix, in the newcomer's terms."""

from __future__ import annotations

import pytest

from cnncalc.kinds import REGISTRY

from .cli_harness import run


def test_solve_notes_say_each_word_once_and_the_table_stops_at_top():
    result = run(["solve", "--pool", "--input", "32", "--output", "15"])
    assert "overlapping, overlapping" not in result.stdout
    assert "overlapping, window over 3" in result.stdout
    many = run(["solve", "--input", "100", "--output", "50", "--max-padding", "20", "--max-kernel", "30"])
    rows = [line for line in many.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 20  # the default --top
    assert "... and 13 more, rarer ones (--top 33 shows them all" in many.stdout
    assert len([line for line in run(["solve", "--input", "100", "--output", "50", "--max-padding", "20",
                                      "--max-kernel", "30", "--top", "5"]).stdout.splitlines()
                if line.strip()[:1].isdigit()]) == 5


def test_solve_does_not_ask_to_raise_a_bound_the_user_pinned():
    result = run(["solve", "--input", "8", "--output", "16", "--padding", "1"])
    assert result.exit_code == 4
    assert "raise --max-padding" not in result.output and "unpin --padding" in result.output


def test_compare_padding_without_an_input_is_an_error():
    result = run(["compare", "3x3x3", "vs", "7x7", "--padding", "valid"])
    assert result.exit_code == 2 and "--padding applies with --input N" in result.output


def test_dwconv_is_described_plainly():
    kind = REGISTRY["dwconv"]
    assert kind.shape_rule == "as conv, with groups = C_in and filters = C_in·multiplier"
    assert "/ multiplier" not in kind.summary + kind.shape_rule
