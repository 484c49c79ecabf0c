"""Reading YAML nodes as values: the helpers the spec reader (read.py) and the parameter types
(kinds/params.py) use. Every value keeps its line and column; every mistake is a located Problem.

Nodes are walked by hand (nothing is constructed), so that booleans or floats where counts belong,
YAML 1.1's octal and base-60 numbers, duplicate keys and tags are all caught with their position
instead of being converted silently.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .expand import MAX_LAYERS
from .kinds.params import MAX_SPATIAL_DIMS
from .problems import Location, Problem
from .suggest import SHOWN_PER_KIND

MAX_BLOCK_READS = MAX_LAYERS  # YAML nodes read for block uses (each use with new arguments reads its block)
MAX_PROBLEMS = 1_000  # errors reported per spec before reading stops
MAX_VALUE = 10**36  # the largest whole number a spec may write (and the most values a tensor may hold)
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_EXPONENT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+\Z")

TAG = "tag:yaml.org,2002:"
INT, FLOAT, BOOL, NULL, STR, MAP = (TAG + t for t in ("int", "float", "bool", "null", "str", "map"))
_PLAINTAGS = frozenset(TAG + t for t in ("int", "float", "bool", "null", "str", "seq", "map"))
_constructor = yaml.constructor.SafeConstructor()


class Abort(Exception):
    """Stop walking the current node; its problem is already recorded."""


class Stop(Exception):
    """Stop reading the spec altogether (too many errors, too much to read); `problem` says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class _Argument(yaml.ScalarNode):
    """A `$expression`'s value, at the expression's place, with the block use that gave it."""

    def __init__(self, tag: str, value: str, start_mark: Any, end_mark: Any, use: str):
        super().__init__(tag, value, start_mark, end_mark)
        self.use = use


class NodeReader:
    """Reads values from nodes and collects located problems. `env` holds the parameters of the block whose
    layers are being read (None outside blocks): a `$expression` is evaluated in it."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._reported: set[tuple[Location, str]] = set()
        self._error_count = 0
        self._of_kind: dict[str, tuple[Location, set[Location]]] = {}  # kind → (first not shown, places counted)
        self._block_reads = 0
        self.env: dict[str, Any] | None = None
        self.use: str = ""  # inside a block's use: "block 'down' as used at file:line:column"

    # -- problems ----------------------------------------------------------------------------
    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.source, mark.line + 1, mark.column + 1)

    def error(self, node_or_location: yaml.Node | Location, message: str, layer: str = "") -> None:
        location = node_or_location if isinstance(node_or_location, Location) else self.loc(node_or_location)
        if isinstance(node_or_location, _Argument):  # a value one use of a block gave: that use too
            message += "; " + node_or_location.use
        if (location, message) in self._reported:  # a block definition's mistake, met again at each use
            return
        self._reported.add((location, message))
        self.problems.append(Problem(location, message, layer=layer))
        self._error_count += 1
        if self._error_count >= MAX_PROBLEMS:
            raise Stop(Problem(location, f"{MAX_PROBLEMS:,} errors so far; cnncalc stops reading here (fix these first)"))

    def shown(self, kind: str, node: yaml.Node) -> bool:
        """Whether a problem of this kind (plural words: 'unknown layer kinds') at the node is to be reported: the
        first SHOWN_PER_KIND places of each kind are, each once (its hint is looked for once, whatever the
        number of block uses that meet it); past them a place is only counted (its message, hint and list of
        known names never built), and `summaries` says how many more there were."""
        location = self.loc(node)
        first, places = self._of_kind.setdefault(kind, (location, set()))
        if location in places:  # a block definition's mistake, met again at each use: said once
            return False
        if len(places) < SHOWN_PER_KIND:
            places.add(location)
            return True
        if len(places) == SHOWN_PER_KIND:
            self._of_kind[kind] = (location, places)
        places.add(location)
        return False

    def summaries(self) -> list[Problem]:
        """One problem per kind that had more places than were shown: '... and 480 more unknown layer kinds'."""
        return [Problem(first, f"... and {len(places) - SHOWN_PER_KIND:,} more {kind} like the ones above "
                               "(not shown one by one; fix those first)")
                for kind, (first, places) in self._of_kind.items() if len(places) > SHOWN_PER_KIND]

    def read(self, node: yaml.Node, count: int) -> None:
        """Count the YAML nodes read again for block uses. Outside blocks every node is read once (the
        text bounds the work); each use of a block with new arguments reads the block again, so a few
        lines of blocks using blocks could otherwise mean billions of steps."""
        if self.env is None:
            return
        self._block_reads += count
        if self._block_reads > MAX_BLOCK_READS:
            raise Stop(Problem(self.loc(node), f"the block uses read more than {MAX_BLOCK_READS:,} YAML nodes (each use "
                                                "with new arguments reads its block again); cnncalc stops here"))

    def fail(self, node: yaml.Node, message: str) -> None:
        self.error(node, message)
        raise Abort

    def entries(self, node: yaml.MappingNode, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The mapping's (key, key node, value node) triples; non-string and duplicate keys are errors."""
        seen: dict[str, yaml.Node] = {}
        result = []
        self.read(node, len(node.value))
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR:
                self.error(key_node, f"a key in {what} must be a plain name, not {describe_node(key_node)}")
                continue
            key = key_node.value
            if key in seen:
                first = self.loc(seen[key])
                self.error(key_node, f"duplicate key '{key}' in {what} (first at line {first.line}); keep one")
                continue
            seen[key] = key_node
            result.append((key, key_node, value_node))
        return result

    def check_tag(self, node: yaml.Node) -> None:
        if node.tag not in _PLAINTAGS:
            self.fail(node, _tag_message(node))

    # -- values ------------------------------------------------------------------------------
    def int_value(self, node: yaml.ScalarNode, what: str) -> int:
        """An int written in decimal digits, at most MAX_VALUE in size. YAML 1.1 also reads 010 as 8
        (octal), 1:30 as 90 (base 60), 0x10 and 0b10: silent conversions, refused here."""
        text = node.value.replace("_", "")
        if not _DECIMAL.match(text):
            read_as = _yaml11_int(node)
            self.fail(node, f"{what} must be written in decimal digits, not '{node.value}'"
                      + (f" (YAML 1.1 reads it as {read_as})" if read_as is not None else ""))
        if len(text.lstrip("+-")) > len(str(MAX_VALUE)) or abs(int(text)) > MAX_VALUE:
            self.fail(node, f"{what} is larger than cnncalc's limit of 10^36")
        return int(text)

    def float_value(self, node: yaml.ScalarNode, what: str) -> float:
        """A finite float written in decimal (YAML 1.1's base-60 floats such as 1:30.5 are refused)."""
        try:
            value = float(_constructor.construct_yaml_float(node)) if ":" not in node.value else None
        except (ValueError, OverflowError):
            value = None
        if value is None:
            self.fail(node, f"{what} must be a number written in decimal, not '{node.value}'")
        if value != value or value in (float("inf"), float("-inf")):
            self.fail(node, f"{what} must be a finite number, not {node.value}")
        return value

    def integer(self, node: yaml.Node, what: str, minimum: int) -> int:
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            value = self.int_value(node, what)
            if value < minimum:
                bound = "positive" if minimum == 1 else "zero or more"
                self.fail(node, f"{what} must be {bound}, got {value}")
            return value
        hint = ""
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
            hint = f"; '{node.value}' is a boolean in YAML"
        elif isinstance(node, yaml.ScalarNode) and node.tag == FLOAT:
            hint = f"; write it without a decimal point" if _is_whole(node) else ""
        elif isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value.strip().lstrip("-").isdigit():
            hint = "; remove the quotes"
        elif isinstance(node, yaml.ScalarNode) and node.tag == STR and _EXPONENT.match(node.value):
            hint = "; YAML reads a number with an exponent but no decimal point as text: write it out in digits"
        self.fail(node, f"{what} must be a whole number, not {describe_node(node)}{hint}")
        raise AssertionError  # unreachable

    def number(self, node: yaml.Node, what: str) -> float:
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == INT:
            return self.int_value(node, what)
        if isinstance(node, yaml.ScalarNode) and node.tag == FLOAT:
            return self.float_value(node, what)
        self.fail(node, f"{what} must be a number, not {describe_node(node)}")
        raise AssertionError

    def sizes(self, node: yaml.Node, what: str, minimum: int) -> int | tuple[int, ...]:
        """An int, or a list of 1 to 3 ints (one per spatial dim)."""
        node = self.subst(node)
        if isinstance(node, yaml.SequenceNode):
            self.check_tag(node)
            if not 1 <= len(node.value) <= MAX_SPATIAL_DIMS:
                self.fail(node, f"{what} takes one int or one per spatial dim (1 to 3), got {len(node.value)} values")
            return tuple(self.integer(item, what, minimum) for item in node.value)
        if isinstance(node, yaml.ScalarNode) and node.tag == STR:
            from .newcomer import size_hint  # `kernel: 5x5`

            hint = size_hint(node.value)
            if hint:
                self.fail(node, f"{what} must be a whole number, not {describe_node(node)}{hint}")
        return self.integer(node, what, minimum)

    def boolean(self, node: yaml.Node, what: str) -> bool:
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL:
            return _constructor.construct_yaml_bool(node)
        self.fail(node, f"{what} must be true or false, not {describe_node(node)}")
        raise AssertionError  # unreachable

    @staticmethod
    def word(node: yaml.Node) -> str | None:
        """The text of a plain text value, else None."""
        return node.value if isinstance(node, yaml.ScalarNode) and node.tag == STR else None

    @staticmethod
    def describe(node: yaml.Node) -> str:
        return describe_node(node)

    # -- block parameters --------------------------------------------------------------------
    def subst(self, node: yaml.Node) -> yaml.Node:
        """A `$expression` inside a block definition, replaced by its value as a node at the same place."""
        if not (isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value.startswith("$")):
            return node
        if self.env is None:
            self.fail(node, f"'{node.value}' refers to a block parameter, but this is not inside a block definition")
        from .expr import ExpressionError, evaluate  # loaded by the first spec with an expression

        try:
            value = evaluate(node.value[1:], self.env)
        except ExpressionError as exc:
            self.fail(node, str(exc))
        if isinstance(value, bool):
            tag, text = BOOL, "true" if value else "false"
        elif isinstance(value, int):
            tag, text = INT, str(value)
        elif isinstance(value, float):
            tag, text = FLOAT, repr(value)
        else:
            tag, text = STR, str(value)
        return _Argument(tag, text, node.start_mark, node.end_mark, self.use)

    def scalar_value(self, node: yaml.Node, what: str) -> Any:
        """A block argument or default: an int, number, boolean or text."""
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == INT:
                return self.int_value(node, what)
            if node.tag == FLOAT:
                return self.number(node, what)
            if node.tag == BOOL:
                return _constructor.construct_yaml_bool(node)
            if node.tag == STR:
                return node.value
        self.fail(node, f"{what} must be a number, a boolean or a text, not {describe_node(node)}")


def _yaml11_int(node: yaml.ScalarNode) -> int | None:
    """What YAML 1.1 makes of an int-tagged value (for messages); None if even PyYAML cannot ('0x_')."""
    if len(node.value) > 40:
        return None
    try:
        return _constructor.construct_yaml_int(node)
    except ValueError:
        return None


def _is_whole(node: yaml.ScalarNode) -> bool:
    try:
        value = float(_constructor.construct_yaml_float(node))
    except (ValueError, OverflowError):
        return False
    return value == value and value not in (float("inf"), float("-inf")) and value == int(value)


def _tag_message(node: yaml.Node) -> str:
    """Written as the spec writes it: '!!python/object', not 'tag:yaml.org,2002:python/object'."""
    return f"the YAML tag '{short_tag(node.tag)}' is not allowed in a spec; remove it"


def describe_node(node: yaml.Node) -> str:
    """How a value reads in a message: 'the boolean yes', 'the float 3.0', 'a list'."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    tag = node.tag[len(TAG):] if node.tag.startswith(TAG) else node.tag
    value = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    if tag == "null":
        return "nothing (null)"
    if tag == "bool":
        return f"the boolean {value}"
    if tag == "float":
        return f"the float {value}"
    if tag == "int":
        return f"the int {value}"
    if tag == "str":
        return f"the text '{value}'"
    return f"a {tag} value"
