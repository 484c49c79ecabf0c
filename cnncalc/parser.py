"""YAML text → Spec. Every value keeps its line and column; every mistake becomes a located Problem.

The YAML is composed into nodes (safe: no tags are constructed) and walked by hand, so that
duplicate keys, booleans or floats where counts belong, and unknown keys are all caught
with their position instead of being converted silently.
"""

import os
import re
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import yaml

from .compose import MAX_SPEC_BYTES, compose, decode, short_tag, too_large_message
from .expand import MAX_LAYERS, BlockTemplate, BranchesTemplate, Expander, LayerTemplate, RepeatTemplate, Template
from .expr import ExpressionError, evaluate
from .kinds import REGISTRY
from .kinds.base import (
    BOOL,
    CHOICE,
    COUNT,
    NUMBER,
    PADDING,
    POOL_PADDING,
    POSITIVE_NUMBER,
    PROBABILITY,
    SIZE,
    LayerKind,
)
from .problems import WARNING, Location, Problem, SpecError, SpecReadError
from .spec import DEFAULT_DTYPE, DTYPE_BYTES, INPUT_NAME, LayerSpec, Span, Spec

try:  # libyaml's C parser when present: same events and marks, much faster
    from yaml import CSafeLoader as _FastestLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _FastestLoader  # type: ignore[assignment]


class _Loader(_FastestLoader):  # type: ignore[misc, valid-type]
    """Remembers each scalar's implicit tag: a spec repeats a few words and numbers, and the tag regexes
    ran on every one of them (a third of composing a 100,000-layer spec)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[tuple[Any, ...], str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


MAX_SPATIAL_DIMS = 3
MAX_NESTING = 32  # repeat blocks, groups and branches inside one another; far beyond any real network, within the stack
MAX_BLOCK_READS = MAX_LAYERS  # YAML nodes read for block uses (each use with new arguments reads its block)
MAX_PROBLEMS = 1_000  # errors reported per spec before reading stops
MAX_VALUE = 10**36  # the largest whole number a spec may write (and the most values a tensor may hold)
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_EXPONENT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+\Z")
_NAME_BREAKERS = re.compile("[/:$ ]")  # with the non-printable characters (all other spaces among them)

_TAG = "tag:yaml.org,2002:"
_INT, _FLOAT, _BOOL, _NULL, _STR, _MAP = (_TAG + t for t in ("int", "float", "bool", "null", "str", "map"))
_PLAIN_TAGS = frozenset(_TAG + t for t in ("int", "float", "bool", "null", "str", "seq", "map"))
_constructor = yaml.constructor.SafeConstructor()
_ROOT_KEYS = ("name", "input", "dtype", "blocks", "layers", "budget")
_REPEAT_KEYS = ("repeat", "layers", "name")
_BRANCHES_KEYS = ("branches", "merge", "name", "from")
_LAYER_KEYS = ("name", "from")
_RESERVED = ("repeat", "branches", "merge", "layers", "blocks", "input")
_MERGES = ("add", "concat")
_REQUIRED = object()
_UNSEEN = object()  # not in a memo
_NESTING_MESSAGE = (f"layer lists (repeat blocks, groups, branches, blocks) nest more than {MAX_NESTING} deep here; "
                    "cnncalc refuses deeper nesting")


class _BlockDefinition(NamedTuple):
    params: dict[str, tuple[Any, Location]]  # name → (default or _REQUIRED, where declared)
    layers: yaml.Node
    location: Location


def listed(names: Iterable[str], most: int = 20) -> str:
    """'a, b, c' for a message: at most `most` names, then how many more ('... and 2,980 more'), so
    that a block of 3,000 parameters misused 1,000 times does not print 3,000,000 names."""
    names = list(names)
    if not names:
        return "none"
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... and {len(names) - most:,} more"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'conv'?)' when a close match exists, else '' (within the spec's budget: suggest.py)."""
    from .suggest import did_you_mean as bounded

    return bounded(word, choices)


class _Abort(Exception):
    """Stop walking the current node; its problem is already recorded."""


class _Stop(Exception):
    """Stop reading the spec altogether (too many errors, too much to read); `problem` says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._reported: set[tuple[Location, str]] = set()
        self._error_count = 0
        self._templates: dict[int, tuple[Template | None, int]] = {}  # node id → (template, nesting height)
        self._nesting = 0  # layer lists open around the node being read
        self._deepest = 0  # the most layer lists open at once while the current item was read
        self._instances: dict[tuple, tuple[list[Template], int]] = {}  # (block, arguments) → (layers, height)
        self._block_reads = 0
        self._layers_read = 0
        self.blocks: dict[str, _BlockDefinition] = {}
        self.block_stack: list[str] = []
        self.env: dict[str, Any] | None = None  # the current block's parameters while its layers are read
        # (kind, parameter, tag, text) → the value a valid single-value parameter reads as: a large spec writes
        # the same few values thousands of times. Only values read without a problem are remembered, so every
        # mistake is still found, located and reported by the full reading.
        self._param_values: dict[tuple[str, str, str, str], Any] = {}
        # (kind, the mapping's keys, tags and texts) → its parameter values, for a layer's parameter mapping of
        # single values that was read without a problem: `conv: {filters: 64, kernel: 3}` repeats too.
        self._param_mappings: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    # -- helpers -----------------------------------------------------------------------------
    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.source, mark.line + 1, mark.column + 1)

    def error(self, node_or_location: yaml.Node | Location, message: str, layer: str = "") -> None:
        location = node_or_location if isinstance(node_or_location, Location) else self.loc(node_or_location)
        if (location, message) in self._reported:  # a block definition's mistake, met again at each use
            return
        self._reported.add((location, message))
        self.problems.append(Problem(location, message, layer=layer))
        self._error_count += 1
        if self._error_count >= MAX_PROBLEMS:
            raise _Stop(Problem(location, f"{MAX_PROBLEMS:,} errors so far; cnncalc stops reading here (fix these first)"))

    def count_layer(self, node: yaml.Node) -> None:
        """Each layer read is a distinct layer of the expanded spec (an alias or a repeated block use reuses
        what was read): more than MAX_LAYERS of them cannot be a valid spec, so stop before holding them all."""
        self._layers_read += 1
        if self._layers_read > MAX_LAYERS:
            raise _Stop(Problem(self.loc(node), f"the spec expands to more than {MAX_LAYERS:,} layers; "
                                                "cnncalc refuses specs that large"))

    def read(self, node: yaml.Node, count: int) -> None:
        """Count the YAML nodes read again for block uses. Outside blocks every node is read once (the
        text bounds the work); each use of a block with new arguments reads the block again, so a few
        lines of blocks using blocks could otherwise mean billions of steps."""
        if self.env is None:
            return
        self._block_reads += count
        if self._block_reads > MAX_BLOCK_READS:
            raise _Stop(Problem(self.loc(node), f"the block uses read more than {MAX_BLOCK_READS:,} YAML nodes (each use "
                                                "with new arguments reads its block again); cnncalc stops here"))

    def fail(self, node: yaml.Node, message: str) -> None:
        self.error(node, message)
        raise _Abort

    def entries(self, node: yaml.MappingNode, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The mapping's (key, key node, value node) triples; non-string and duplicate keys are errors."""
        seen: dict[str, yaml.Node] = {}
        result = []
        self.read(node, len(node.value))
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
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
        if node.tag not in _PLAIN_TAGS:
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
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            value = self.int_value(node, what)
            if value < minimum:
                bound = "positive" if minimum == 1 else "zero or more"
                self.fail(node, f"{what} must be {bound}, got {value}")
            return value
        hint = ""
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            hint = f"; '{node.value}' is a boolean in YAML"
        elif isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT:
            hint = f"; write it without a decimal point" if _is_whole(node) else ""
        elif isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value.strip().lstrip("-").isdigit():
            hint = "; remove the quotes"
        elif isinstance(node, yaml.ScalarNode) and node.tag == _STR and _EXPONENT.match(node.value):
            hint = "; YAML reads a number with an exponent but no decimal point as text: write it out in digits"
        self.fail(node, f"{what} must be a whole number, not {describe_node(node)}{hint}")
        raise AssertionError  # unreachable

    def number(self, node: yaml.Node, what: str) -> float:
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            return self.int_value(node, what)
        if isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT:
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
        return self.integer(node, what, minimum)

    def param_value(self, kind: LayerKind, name: str, node: yaml.Node) -> Any:
        """The value of parameter `name` of `kind` written as `node`; a value written before is looked up."""
        if not isinstance(node, yaml.ScalarNode) or node.value.startswith("$"):  # a `$expression` varies per block use
            return self.read_param_value(kind, name, node)
        key = (kind.name, name, node.tag, node.value)
        value = self._param_values.get(key, _UNSEEN)
        if value is _UNSEEN:
            value = self._param_values[key] = self.read_param_value(kind, name, node)
        return value

    def read_param_value(self, kind: LayerKind, name: str, node: yaml.Node) -> Any:
        param = kind.param(name)
        assert param is not None
        what = f"{kind.name} '{name}'"
        node = self.subst(node)
        if param.type == COUNT:
            return self.integer(node, what, 1)
        if param.type == SIZE:
            return self.sizes(node, what, 1)
        if param.type == POOL_PADDING:
            return self.sizes(node, what, 0)
        if param.type == PADDING:
            if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
                if node.value in ("same", "valid"):
                    return node.value
                self.fail(node, f"{what} must be an int, one int per spatial dim, 'same' or 'valid', not '{node.value}'"
                          + did_you_mean(node.value, ("same", "valid")))
            return self.sizes(node, what, 0)
        if param.type == BOOL:
            self.check_tag(node)
            if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
                return _constructor.construct_yaml_bool(node)
            self.fail(node, f"{what} must be true or false, not {describe_node(node)}")
        if param.type in (NUMBER, POSITIVE_NUMBER, PROBABILITY):
            value = self.number(node, what)
            if param.type == POSITIVE_NUMBER and value <= 0:
                self.fail(node, f"{what} must be greater than 0, got {node.value}")
            if param.type == PROBABILITY and not 0 <= value < 1:
                self.fail(node, f"{what} is a probability: at least 0 and less than 1, got {node.value}")
            return value
        if param.type == CHOICE:
            if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value in param.choices:
                return node.value
            text = node.value if isinstance(node, yaml.ScalarNode) else ""
            self.fail(node, f"{what} must be one of {', '.join(param.choices)}, not {describe_node(node)}"
                      + did_you_mean(str(text), param.choices))
        raise AssertionError(f"unknown parameter type {param.type}")  # pragma: no cover

    # -- block parameters --------------------------------------------------------------------
    def subst(self, node: yaml.Node) -> yaml.Node:
        """A `$expression` inside a block definition, replaced by its value as a node at the same place."""
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value.startswith("$")):
            return node
        if self.env is None:
            self.fail(node, f"'{node.value}' refers to a block parameter, but this is not inside a block definition")
        try:
            value = evaluate(node.value[1:], self.env)
        except ExpressionError as exc:
            self.fail(node, str(exc))
        if isinstance(value, bool):
            tag, text = _BOOL, "true" if value else "false"
        elif isinstance(value, int):
            tag, text = _INT, str(value)
        elif isinstance(value, float):
            tag, text = _FLOAT, repr(value)
        else:
            tag, text = _STR, str(value)
        return yaml.ScalarNode(tag, text, node.start_mark, node.end_mark)

    def scalar_value(self, node: yaml.Node, what: str) -> Any:
        """A block argument or default: an int, number, boolean or text."""
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT:
                return self.int_value(node, what)
            if node.tag == _FLOAT:
                return self.number(node, what)
            if node.tag == _BOOL:
                return _constructor.construct_yaml_bool(node)
            if node.tag == _STR:
                return node.value
        self.fail(node, f"{what} must be a number, a boolean or a text, not {describe_node(node)}")

    # -- layers ------------------------------------------------------------------------------
    def layer_list(self, node: yaml.Node, what: str, allow_empty: bool = False) -> list[Template]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list of layers (each line starting with '- '), not {describe_node(node)}")
        if not node.value and not allow_empty:
            self.fail(node, f"{what} is empty; add at least one layer")
        if self._nesting > MAX_NESTING:
            self.fail(node, _NESTING_MESSAGE)
        self.read(node, len(node.value))
        self._nesting += 1
        self._deepest = max(self._deepest, self._nesting)
        try:
            templates = []
            for item in node.value:
                template = self.layer_item(item)
                if template is not None:
                    templates.append(template)
            return templates
        finally:
            self._nesting -= 1

    def layer_item(self, node: yaml.Node) -> Template | None:
        """One item of a layer list. Outside block definitions an alias reuses its node: it is read once,
        however often it is used (inside one, the same node means different things per use); reused
        deeper than it was read, the lists it holds still count towards MAX_NESTING."""
        cached = self._templates.get(id(node)) if self.env is None else None
        if cached is not None:
            template, height = cached
            return template if self.reuse(node, height) else None
        outer, self._deepest = self._deepest, self._nesting
        try:
            template = self._layer_item(node)
        except _Abort:
            template = None
        finally:
            height = self._deepest - self._nesting  # the lists this item holds, one inside another
            if outer > self._deepest:
                self._deepest = outer
        if self.env is None:
            self._templates[id(node)] = (template, height)
        return template

    def reuse(self, node: yaml.Node, height: int) -> bool:
        """Whether what was read once (an alias, a block use) fits here, `height` lists deep; an error if not."""
        if self._nesting + height > MAX_NESTING + 1:
            self.error(node, _NESTING_MESSAGE)
            return False
        self._deepest = max(self._deepest, self._nesting + height)
        return True

    def _layer_item(self, node: yaml.Node) -> Template:
        self.read(node, 1)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode):
            location = self.loc(node)
            if node.tag != _STR:
                self.fail(node, f"a layer must be a kind name or a mapping such as 'conv: {{filters: 64, kernel: 3}}', "
                                f"not {describe_node(node)}")
            if node.value in self.blocks:
                return self.block_instance(node, node, None, location)
            kind = self.kind(node, node.value)
            required = kind.required_params
            if required:
                example = ", ".join(f"{p.name}: ..." for p in required)
                self.fail(node, f"{kind.name} needs {' and '.join(repr(p.name) for p in required)}; "
                                f"write '{kind.name}: {{{example}}}'")
            self.count_layer(node)
            return LayerTemplate(location, kind)
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "a layer must be a kind name or a mapping such as 'conv: {filters: 64, kernel: 3}', not a list")
        if len(node.value) == 1:  # the usual `kind: {parameters}`, read as the general way below reads it
            key_node, value_node = node.value[0]
            # a kind's name is never a block's, 'repeat', 'layers', 'branches', 'name' or 'from'
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR and key_node.value in REGISTRY:
                self.read(node, 1)
                kind = REGISTRY[key_node.value]
                template = LayerTemplate(self.loc(key_node), kind)
                self.count_layer(node)
                self.layer_params(kind, key_node, value_node, template)
                return template
        entries = self.entries(node, "a layer")
        keys = [k for k, _, _ in entries]
        if "repeat" in keys or ("layers" in keys and not any(k in REGISTRY or k in self.blocks for k in keys)):
            return self.repeat_block(node, entries)
        if "branches" in keys:
            return self.branches_block(node, entries)
        kind_entries = []
        name = name_location = sources = None
        for entry in entries:
            key, key_node, value_node = entry
            if key in REGISTRY or key in self.blocks:
                kind_entries.append(entry)
            elif key == "name":
                name, name_location = self.layer_name(value_node), self.loc(value_node)
            elif key == "from":
                sources = self.sources(value_node)
            else:
                self.error(key_node, f"unknown layer kind or key '{key}'"
                           + did_you_mean(key, list(REGISTRY) + list(self.blocks) + list(_LAYER_KEYS)))
        if len(kind_entries) > 1:
            names = " and ".join(f"'{k}'" for k, _, _ in kind_entries)
            self.fail(kind_entries[1][1], f"one layer has two kinds, {names}; give each its own '- ' list item")
        if not kind_entries:
            if all(k in _LAYER_KEYS for k in keys):
                self.fail(node, "this layer has no kind; add one such as 'conv: {filters: 64, kernel: 3}'")
            raise _Abort
        key, key_node, value_node = kind_entries[0]
        if key in self.blocks:
            template = self.block_instance(key_node, value_node, node, self.loc(key_node))
            template.name, template.name_location, template.sources = name, name_location, sources
            return template
        kind = REGISTRY[key]
        template = LayerTemplate(self.loc(key_node), kind, name=name, name_location=name_location, sources=sources)
        self.count_layer(node)
        self.layer_params(kind, key_node, value_node, template)
        return template

    def kind(self, node: yaml.Node, name: str) -> LayerKind:
        if name in REGISTRY:
            return REGISTRY[name]
        self.fail(node, f"unknown layer kind '{name}'{did_you_mean(name, list(REGISTRY) + list(self.blocks))}; "
                        f"known kinds: {', '.join(sorted(REGISTRY))}")
        raise AssertionError

    def layer_name(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (_STR, _INT) or not node.value:
            self.fail(node, f"a layer name must be a non-empty text, not {describe_node(node)}")
        name = node.value
        if name == INPUT_NAME:
            self.fail(node, f"'{INPUT_NAME}' names the spec's input; choose another layer name")
        self.check_name(node, name, "a layer name")
        return name

    def check_name(self, node: yaml.Node, name: str, what: str) -> None:
        """Names become group paths and table rows: no '/', ':', '$', spaces or control characters."""
        if name.isprintable() and not _NAME_BREAKERS.search(name):  # the usual name, checked at C speed
            return
        bad = [c for c in name if c in "/:$" or c.isspace() or not c.isprintable()]
        if bad:
            self.fail(node, f"{what} cannot contain {bad[0]!r}; use letters, digits, '_', '-' or '.'")

    def sources(self, node: yaml.Node) -> tuple[tuple[str, Location], ...]:
        """`from: a` or `from: [a, b]`: the names of the layers (or groups) whose outputs are the inputs."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        self.read(node, len(items))
        if not items:
            self.fail(node, "'from' needs at least one layer name")
        result = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or item.tag not in (_STR, _INT) or not item.value:
                self.fail(item, f"'from' takes layer names, not {describe_node(item)}")
            result.append((item.value, self.loc(item)))
        return tuple(result)

    def layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, template: LayerTemplate) -> None:
        """Fill in `template`'s parameters from `node`, what the layer's kind key holds."""
        signature = _param_signature(kind, node)
        if signature is not None:
            values = self._param_mappings.get(signature)
            if values is not None:  # read before, somewhere else, without a problem: only the locations are new
                self.read(node, len(node.value))
                template.params.update(values)
                for name, (_, value_node) in zip(values, node.value):
                    template.param_locations[name] = self.loc(value_node)
                return
        node = self.subst(node)
        self.check_tag(node)
        self.read_layer_params(kind, key_node, node, template)
        if signature is not None and len(template.params) == len(node.value):  # every entry a parameter, read fine
            self._param_mappings[signature] = dict(template.params)

    def read_layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, template: LayerTemplate) -> None:
        written: set[str] = set()
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            pass
        elif isinstance(node, yaml.MappingNode):
            for name, name_node, value_node in self.entries(node, f"{kind.name}'s parameters"):
                if name in _LAYER_KEYS:  # `conv: {filters: 8, kernel: 1, name: a, from: b}` reads naturally too
                    self.layer_key_in_params(name, name_node, value_node, template)
                    continue
                if kind.param(name) is None:
                    known = ", ".join(p.name for p in kind.params) or "none"
                    self.error(name_node, f"{kind.name} has no parameter '{name}'"
                               f"{did_you_mean(name, [p.name for p in kind.params])}; its parameters: {known}")
                    continue
                written.add(name)
                try:
                    template.params[name] = self.param_value(kind, name, value_node)
                    template.param_locations[name] = self.loc(value_node)
                except _Abort:
                    pass
        elif kind.main_param is not None:
            written.add(kind.main_param)
            template.params[kind.main_param] = self.param_value(kind, kind.main_param, node)
            template.param_locations[kind.main_param] = self.loc(node)
        elif not kind.params:
            self.fail(node, f"{kind.name} takes no parameters; write just '- {kind.name}'")
        else:
            example = ", ".join(f"{p.name}: ..." for p in kind.params[:2])
            self.fail(node, f"{kind.name} takes its parameters as a mapping, e.g. '{kind.name}: {{{example}}}'")
        missing = [p for p in kind.required_params if p.name not in written]
        for param in missing:
            self.error(key_node, f"{kind.name} needs '{param.name}' ({param.description})")
        if missing or len(written) != len(template.params):
            raise _Abort

    def layer_key_in_params(self, key: str, key_node: yaml.Node, node: yaml.Node, template: LayerTemplate) -> None:
        if key == "name":
            if template.name is not None:
                self.fail(key_node, "the layer is named twice; keep one 'name'")
            template.name, template.name_location = self.layer_name(node), self.loc(node)
        else:
            if template.sources is not None:
                self.fail(key_node, "the layer has two 'from'; keep one")
            template.sources = self.sources(node)

    def repeat_block(self, node: yaml.MappingNode, entries: list[tuple[str, yaml.Node, yaml.Node]]) -> RepeatTemplate:
        count, layers_node, name, name_location = 1, None, None, None
        plain = all(key != "repeat" for key, _, _ in entries)
        what = "a group" if plain else "a repeat block"
        for key, key_node, value_node in entries:
            if key == "repeat":
                count = self.integer(value_node, "'repeat'", 1)
            elif key == "layers":
                layers_node = value_node
            elif key == "name":
                name, name_location = self.layer_name(value_node), self.loc(value_node)
            else:
                self.error(key_node, f"{what} takes {'' if plain else chr(39) + 'repeat' + chr(39) + ', '}'layers' "
                                     f"and 'name', not '{key}'" + did_you_mean(key, _REPEAT_KEYS))
        if layers_node is None:
            self.fail(node, "a repeat block needs 'layers:', the list of layers to repeat")
        children = self.layer_list(layers_node, f"'layers' of {what}")
        return RepeatTemplate(self.loc(node), count, children, name, name_location, plain)

    def branches_block(self, node: yaml.MappingNode, entries: list[tuple[str, yaml.Node, yaml.Node]]) -> BranchesTemplate:
        branches_node = merge = name = name_location = sources = None
        for key, key_node, value_node in entries:
            if key == "branches":
                branches_node = value_node
            elif key == "merge":
                value_node = self.subst(value_node)
                if isinstance(value_node, yaml.ScalarNode) and value_node.value in _MERGES:
                    merge = REGISTRY[value_node.value]
                else:
                    text = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
                    self.error(value_node, f"'merge' must be add or concat, not {describe_node(value_node)}"
                               + did_you_mean(str(text), _MERGES))
            elif key == "name":
                name, name_location = self.layer_name(value_node), self.loc(value_node)
            elif key == "from":
                sources = self.sources(value_node)
                if len(sources) != 1:
                    self.error(value_node, "branches take one input: every branch starts from it")
            else:
                self.error(key_node, f"a branches block takes 'branches', 'merge', 'name' and 'from', not '{key}'"
                           + did_you_mean(key, _BRANCHES_KEYS))
        if merge is None:
            self.fail(node, "a branches block needs 'merge: add' or 'merge: concat'")
        if not isinstance(branches_node, yaml.SequenceNode) or len(branches_node.value) < 2:
            self.fail(branches_node or node, "'branches' must be a list of two or more branches, each a list of layers "
                                             "([] for a shortcut that passes the input through)")
        branches = []
        for branch in branches_node.value:
            if isinstance(branch, yaml.SequenceNode):
                branches.append(self.layer_list(branch, "a branch", allow_empty=True))
            else:
                item = self.layer_item(branch)
                branches.append([item] if item is not None else [])
        self.count_layer(node)
        return BranchesTemplate(self.loc(node), branches, merge, name, name_location, sources)

    def block_instance(self, key_node: yaml.Node, value_node: yaml.Node, node: yaml.Node | None,
                       location: Location) -> BlockTemplate:
        block = key_node.value
        definition = self.blocks[block]
        if block in self.block_stack:
            self.fail(key_node, f"block '{block}' uses itself (through {' → '.join(self.block_stack + [block])}); "
                                "blocks cannot be recursive")
        env = {name: default for name, (default, _) in definition.params.items() if default is not _REQUIRED}
        given: set[str] = set()
        value_node = self.subst(value_node) if value_node is not key_node else value_node
        if isinstance(value_node, yaml.MappingNode):
            for name, name_node, arg_node in self.entries(value_node, f"the arguments of block '{block}'"):
                if name not in definition.params:
                    known = listed(definition.params)
                    self.error(name_node, f"block '{block}' has no parameter '{name}'"
                               f"{did_you_mean(name, definition.params)}; its parameters: {known}")
                    continue
                try:
                    env[name] = self.scalar_value(arg_node, f"'{name}' of block '{block}'")
                    given.add(name)
                except _Abort:
                    given.add(name)
        elif value_node is not key_node and not (isinstance(value_node, yaml.ScalarNode) and value_node.tag == _NULL):
            self.fail(value_node, f"a block takes its arguments as a mapping, e.g. '{block}: {{"
                                  + ", ".join(f"{p}: ..." for p in list(definition.params)[:2]) + "}'")
        missing = [name for name, (default, _) in definition.params.items() if default is _REQUIRED and name not in given]
        if missing:
            self.fail(key_node, f"block '{block}' needs " + ", ".join(f"'{m}'" for m in missing))
        if len(env) != len(definition.params):
            raise _Abort
        arguments = (block, tuple((name, type(value).__name__, value) for name, value in sorted(env.items())))
        if arguments in self._instances:  # the same block with the same arguments reads the same: read it once
            children, height = self._instances[arguments]
            if not self.reuse(key_node, height):
                raise _Abort
            return BlockTemplate(location, block, children)
        saved, outer = self.env, self._deepest
        self.env, self._deepest = env, self._nesting
        self.block_stack.append(block)
        try:
            children = self.layer_list(definition.layers, f"the layers of block '{block}'")
        finally:
            self.env = saved
            self.block_stack.pop()
            height = self._deepest - self._nesting
            self._deepest = max(outer, self._deepest)
        self._instances[arguments] = (children, height)
        return BlockTemplate(location, block, children)

    def block_definitions(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "'blocks' must be a mapping of block names to {params: ..., layers: [...]}")
        for name, name_node, body in self.entries(node, "'blocks'"):
            if name in REGISTRY or name in _LAYER_KEYS or name in _RESERVED:
                self.error(name_node, f"'{name}' is a layer kind or a reserved word; give the block another name")
                continue
            try:
                self.check_name(name_node, name, "a block name")
            except _Abort:
                continue
            if not isinstance(body, yaml.MappingNode):
                self.error(body, f"block '{name}' must be a mapping with 'layers:' (and optional 'params:')")
                continue
            params: dict[str, tuple[Any, Location]] = {}
            layers = None
            for key, key_node, value in self.entries(body, f"block '{name}'"):
                if key == "layers":
                    layers = value
                elif key == "params":
                    if not isinstance(value, yaml.MappingNode):
                        self.error(value, "'params' must be a mapping of parameter names to defaults (null: required)")
                        continue
                    for pname, pnode, default in self.entries(value, f"the params of block '{name}'"):
                        if not pname.isidentifier():
                            self.error(pnode, f"a block parameter name must be an identifier, not '{pname}'")
                            continue
                        if isinstance(default, yaml.ScalarNode) and default.tag == _NULL:
                            params[pname] = (_REQUIRED, self.loc(pnode))
                        else:
                            try:
                                params[pname] = (self.scalar_value(default, f"the default of '{pname}'"), self.loc(pnode))
                            except _Abort:
                                pass
                elif key == "description":
                    pass
                else:
                    self.error(key_node, f"a block definition takes 'params', 'layers' and 'description', not '{key}'"
                               + did_you_mean(key, ("params", "layers", "description")))
            if layers is None:
                self.error(body, f"block '{name}' needs 'layers:'")
                continue
            self.blocks[name] = _BlockDefinition(params, layers, self.loc(name_node))

    # -- the whole spec ----------------------------------------------------------------------
    def spec(self, root: yaml.Node | None, default_name: str) -> Spec:
        if root is None:
            self.problems.append(Problem(Location(self.source, 1, 1),
                                         "the spec is empty; it needs 'input:' and 'layers:'"))
            raise SpecError(self.problems)
        if not isinstance(root, yaml.MappingNode):
            self.fail(root, f"a spec is a mapping with 'input:' and 'layers:', not {describe_node(root)}")
        fields = {key: (key_node, value_node) for key, key_node, value_node in self.entries(root, "the spec")}
        for key, (key_node, _) in fields.items():
            if key not in _ROOT_KEYS:
                self.error(key_node, f"unknown key '{key}' in the spec{did_you_mean(key, _ROOT_KEYS)}; "
                                     f"a spec has {', '.join(_ROOT_KEYS)}")
        name = default_name
        if "name" in fields:
            node = fields["name"][1]
            if isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _INT, _FLOAT) and node.value:
                name = node.value
                if not name.replace("\n", " ").replace("\t", " ").isprintable():  # a block scalar's lines are fine
                    self.error(node, "'name' must be printable text, without control characters")
            else:
                self.error(node, f"'name' must be a text, not {describe_node(node)}")
        dtype = DEFAULT_DTYPE
        if "dtype" in fields:
            node = fields["dtype"][1]
            if isinstance(node, yaml.ScalarNode) and node.value in DTYPE_BYTES:
                dtype = node.value
            else:
                value = node.value if isinstance(node, yaml.ScalarNode) else ""
                self.error(node, f"'dtype' must be one of {', '.join(DTYPE_BYTES)}, not {describe_node(node)}"
                           + did_you_mean(str(value), DTYPE_BYTES))
        input_shape: tuple[int, ...] = ()
        input_location = self.loc(root)
        if "input" not in fields:
            self.error(root, "the spec needs 'input:', e.g. 'input: [3, 224, 224]' (channels, then spatial sizes)")
        else:
            node = fields["input"][1]
            input_location = self.loc(node)
            try:
                input_shape = self.input_shape(node)
            except _Abort:
                pass
        if "blocks" in fields:
            try:
                self.block_definitions(fields["blocks"][1])
            except _Abort:
                pass
        templates: list[Template] = []
        if "layers" not in fields:
            self.error(root, "the spec needs 'layers:', a list of layers")
        else:
            try:
                templates = self.layer_list(fields["layers"][1], "'layers'")
            except _Abort:
                pass
        budget = None
        if "budget" in fields:
            from .budget_read import read_budget

            budget = read_budget(*fields["budget"], self.loc, self.error)
        layers: tuple[LayerSpec, ...] = ()
        structure: tuple[Span, ...] = ()
        if templates and not self.has_errors():
            expander = Expander(self.source)
            layers = expander.run(templates)
            structure = expander.structure
            self.problems.extend(expander.problems)
        if self.has_errors():
            raise SpecError(_unique(self.problems))
        return Spec(name=name, source=self.source, input_shape=input_shape, layers=layers, dtype=dtype,
                    location=self.loc(root), input_location=input_location,
                    warnings=tuple(_unique(self.problems)), structure=structure, budget=budget)

    def has_errors(self) -> bool:
        return any(p.severity != WARNING for p in self.problems)

    def input_shape(self, node: yaml.Node) -> tuple[int, ...]:
        if not isinstance(node, yaml.SequenceNode) or not 1 <= len(node.value) <= 1 + MAX_SPATIAL_DIMS:
            self.fail(node, "'input' must be a list: channels, then 1, 2 or 3 spatial sizes, e.g. [3, 224, 224]")
        return tuple(self.integer(item, "an 'input' size", 1) for item in node.value)


def _param_signature(kind: LayerKind, node: yaml.Node) -> tuple[str, tuple[str, ...]] | None:
    """What a layer's parameter mapping reads as depends only on this, when every key is a text and every
    value a single value other than a `$expression` (which varies per block use); else None. (A mapping
    holding 'name' or 'from' has an entry that is no parameter: it is never remembered.)"""
    if not isinstance(node, yaml.MappingNode) or node.tag != _MAP:
        return None
    texts = []
    for key_node, value_node in node.value:
        if (not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR
                or not isinstance(value_node, yaml.ScalarNode) or value_node.value.startswith("$")):
            return None
        texts += (key_node.value, value_node.tag, value_node.value)
    return kind.name, tuple(texts)


def _unique(problems: list[Problem]) -> list[Problem]:
    """Problems in a block definition are found once per use; report each once."""
    seen = set()
    result = []
    for problem in problems:
        key = (problem.location, problem.message, problem.severity)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


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
    tag = node.tag[len(_TAG):] if node.tag.startswith(_TAG) else node.tag
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


def parse_text(text: str, source: str = "<spec>", default_name: str | None = None) -> Spec:
    """Parse spec text; raise SpecError with every problem found."""
    from .suggest import reset

    reset()  # the budget of "did you mean" hints is per spec
    parser = _Parser(source)
    root = compose(text, source, _Loader)
    try:
        return parser.spec(root, default_name or Path(source).stem or "spec")
    except _Abort:
        raise SpecError(parser.problems) from None
    except _Stop as stop:
        raise SpecError(_unique(parser.problems) + [stop.problem]) from None


def parse_bytes(data: bytes, source: str) -> Spec:
    return parse_text(decode(data, source), source, Path(source).stem)


def _not_regular(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    import stat

    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def read_spec_bytes(path: str | Path) -> bytes:
    """The file's bytes. Only a regular file is read: a FIFO without a writer would block for ever and a
    device may never end, so anything else is refused before it is opened (and checked again once open,
    without blocking). Read at most MAX_SPEC_BYTES + 1 bytes: a larger file is a located error. Raises
    SpecReadError when the file cannot be read at all."""
    import stat

    path = Path(path)

    def refused(what: str) -> SpecReadError:
        if what == "a directory":
            return SpecReadError([Problem(Location(str(path), 1, 1), "is a directory, not a spec file")])
        return SpecReadError([Problem(Location(str(path), 1, 1), f"is {what}, not a spec file; cnncalc reads "
                                      "regular files, and standard input as '-' (cnncalc check - < FILE)")])

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise refused(_not_regular(mode))
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(descriptor, "rb", closefd=True) as stream:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):  # replaced between the look and the opening
                raise refused(_not_regular(status.st_mode))
            data = stream.read(MAX_SPEC_BYTES + 1)
            size = status.st_size
    except OSError as exc:
        raise SpecReadError([Problem(Location(str(path), 1, 1), f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError([Problem(Location(str(path), 1, 1), too_large_message(size if size > MAX_SPEC_BYTES else None))])
    return data


def parse_file(path: str | Path) -> Spec:
    """Read and parse a spec file (never written to)."""
    return parse_bytes(read_spec_bytes(path), str(path))
