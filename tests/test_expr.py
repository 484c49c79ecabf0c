"""Block-parameter expressions: integer arithmetic over the block's parameters only."""

import pytest

from cnncalc.expr import ExpressionError, evaluate


@pytest.mark.parametrize(
    "text, expected",
    [("filters", 64), ("filters * 4", 256), ("(filters + 1) // 2", 32), ("cin * t", 96), ("-stride", -2),
     ("filters % 5", 4), ("7", 7)],
)
def test_arithmetic(text, expected):
    assert evaluate(text, {"filters": 64, "stride": 2, "cin": 16, "t": 6}) == expected


@pytest.mark.parametrize(
    "text, message",
    [("growth", "'growth' is not a parameter of this block (its parameters: filters)"),
     ("filters / 2", "use // for whole-number division"),
     ("filters // 0", "divides by zero"),
     ("__import__('os')", "may only use numbers"),
     ("filters ** 2", "may only use numbers"),
     ("filters *", "is not an expression"),
     ("filters * 'a'", "not a number")],
)
def test_refusals(text, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, {"filters": 64})
    assert message in str(caught.value)


def test_every_name_may_carry_its_sigil():
    assert evaluate("cin * $t", {"cin": 24, "t": 6}) == 144
    assert evaluate("(cin + $growth) // 2", {"cin": 64, "growth": 32}) == 48
