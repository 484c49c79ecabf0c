"""Block-parameter expressions: `$filters`, `$filters * 4`, `$stride`. Integer arithmetic only, no names
but the block's parameters, nothing executed."""

from __future__ import annotations

import ast
import operator
from typing import Any, Mapping

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_LIMIT = 10**18


class ExpressionError(ValueError):
    """An expression that cannot be evaluated; the message says why."""


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate `text` (without its leading '$') over `env`: + − × // % on ints, parentheses, names.
    Names may carry a '$' of their own: `$cin * $t` reads as `cin * t`."""
    try:
        tree = ast.parse(text.replace("$", "").strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"'${text}' is not an expression; write e.g. '$filters' or '$filters * 4'") from None
    return _eval(tree.body, env, text)


def _eval(node: ast.AST, env: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            known = ", ".join(sorted(env)) or "none"
            raise ExpressionError(f"'{node.id}' is not a parameter of this block (its parameters: {known})")
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(_eval(node.operand, env, text), text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _number(_eval(node.left, env, text), text)
        right = _number(_eval(node.right, env, text), text)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExpressionError(f"'${text}' divides by zero")
        value = _BINARY[type(node.op)](left, right)
        if abs(value) > _LIMIT:
            raise ExpressionError(f"'${text}' is larger than {_LIMIT:.0e}")
        return value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        raise ExpressionError(f"'${text}': use // for whole-number division")
    raise ExpressionError(f"'${text}' may only use numbers, block parameters, + − * // % and parentheses")


def _number(value: Any, text: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"'${text}' does arithmetic on {value!r}, which is not a number")
    return value
