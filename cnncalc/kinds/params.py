"""The parameter types, in one table: how each reads from a spec, its JSON Schema and its description.

A kind declares `Param("kernel", SIZE, ...)`; the reader (cnncalc/read.py), the JSON Schema (cnncalc/schema.py)
and `cnncalc layers` (cnncalc/render/layers.py) all look the type up in PARAM_TYPES. A new type is one entry here.

A type's `read` takes the spec reader (its value helpers: `integer`, `sizes`, `number`, `boolean`, `word`,
`describe`, `fail`), the value's node, the parameter's name as messages say it (`conv 'kernel'`) and the
Param; it returns the value or reports a located problem through `reader.fail`. It never sees YAML itself.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

MAX_SPATIAL_DIMS = 3  # one value per spatial dim: 1-D, 2-D or 3-D inputs

COUNT = "count"  # a positive int
SIZE = "size"  # a positive int, or one per spatial dim
PADDING = "padding"  # a non-negative int, one per spatial dim, or same/valid (conv only)
POOL_PADDING = "pool_padding"  # a non-negative int or one per spatial dim
BOOL = "bool"
PROBABILITY = "probability"  # a number in [0, 1)
NUMBER = "number"  # any int or float
POSITIVE_NUMBER = "positive_number"  # a number > 0
CHOICE = "choice"  # one of Param.choices


REQUIRED = object()


class Param(NamedTuple):
    """One parameter of a layer kind: its name, type, default and what it means."""

    name: str
    type: str  # a key of PARAM_TYPES
    default: Any = REQUIRED
    description: str = ""
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class ParamType(NamedTuple):
    """One parameter type: how it reads in `cnncalc layers`, its JSON Schema (a choice's is narrowed to the
    parameter's own words) and the function that reads a written value."""

    name: str
    text: str
    schema: dict[str, Any]
    read: Callable[[Any, Any, str, Any], Any]  # (reader, node, what, param) → value


def _sizes_schema(minimum: int) -> dict[str, Any]:
    """An int, or one int per spatial dim (a list of 1 to 3)."""
    whole = {"type": "integer", "minimum": minimum}
    return {"anyOf": [whole, {"type": "array", "items": whole, "minItems": 1, "maxItems": MAX_SPATIAL_DIMS}]}


def _read_padding(reader: Any, node: Any, what: str, param: Any) -> Any:
    word = reader.word(node)
    if word is not None:
        if word in ("same", "valid"):
            return word
        reader.fail(node, f"{what} must be an int, one int per spatial dim, 'same' or 'valid', not '{word}'"
                    + did_you_mean(word, ("same", "valid")))
    return reader.sizes(node, what, 0)


def _read_positive(reader: Any, node: Any, what: str, param: Any) -> Any:
    value = reader.number(node, what)
    if value <= 0:
        reader.fail(node, f"{what} must be greater than 0, got {node.value}")
    return value


def _read_probability(reader: Any, node: Any, what: str, param: Any) -> Any:
    value = reader.number(node, what)
    if not 0 <= value < 1:
        reader.fail(node, f"{what} is a probability: at least 0 and less than 1, got {node.value}")
    return value


def _read_choice(reader: Any, node: Any, what: str, param: Any) -> Any:
    word = reader.word(node)
    if word is not None and word in param.choices:
        return word
    text = node.value if isinstance(node.value, str) else ""
    reader.fail(node, f"{what} must be one of {', '.join(param.choices)}, not {reader.describe(node)}"
                + did_you_mean(text, param.choices))


_TYPES = (
    ParamType(COUNT, "positive int", {"type": "integer", "minimum": 1},
              lambda reader, node, what, param: reader.integer(node, what, 1)),
    ParamType(SIZE, "positive int, or one per spatial dim", _sizes_schema(1),
              lambda reader, node, what, param: reader.sizes(node, what, 1)),
    ParamType(PADDING, "int ≥ 0, one per spatial dim, same or valid",
              {"anyOf": [*_sizes_schema(0)["anyOf"], {"enum": ["same", "valid"]}]}, _read_padding),
    ParamType(POOL_PADDING, "int ≥ 0, or one per spatial dim", _sizes_schema(0),
              lambda reader, node, what, param: reader.sizes(node, what, 0)),
    ParamType(BOOL, "true or false", {"type": "boolean"},
              lambda reader, node, what, param: reader.boolean(node, what)),
    ParamType(PROBABILITY, "number in [0, 1)", {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
              _read_probability),
    ParamType(NUMBER, "number", {"type": "number"}, lambda reader, node, what, param: reader.number(node, what)),
    ParamType(POSITIVE_NUMBER, "number > 0", {"type": "number", "exclusiveMinimum": 0}, _read_positive),
    ParamType(CHOICE, "one of its words", {"type": "string"}, _read_choice),  # `cnncalc layers` lists the words
)

PARAM_TYPES: dict[str, ParamType] = {t.name: t for t in _TYPES}


def did_you_mean(word: str, choices: Any) -> str:
    """' (did you mean 'conv'?)' when a close match exists, else '' (within the run's budget: suggest.py)."""
    from ..suggest import did_you_mean as bounded

    return bounded(word, choices)
