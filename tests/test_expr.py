"""Block-parameter expressions."""

from __future__ import annotations

import pytest

from cnncalc.expr import ExpressionError, evaluate


def test_every_name_may_carry_its_sigil():
    assert evaluate("cin * $t", {"cin": 24, "t": 6}) == 144
    assert evaluate("(cin + $growth) // 2", {"cin": 64, "growth": 32}) == 48


def test_a_dollar_that_is_not_a_name_is_still_an_error():
    with pytest.raises(ExpressionError):
        evaluate("cin * $", {"cin": 24})
