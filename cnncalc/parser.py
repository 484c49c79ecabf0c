"""YAML text → Spec. Every value keeps its line and column; every mistake becomes a located Problem.

The YAML is composed into nodes (safe: no tags are constructed) and walked by hand, so that
duplicate keys, booleans or floats where counts belong, and unknown keys are all caught
with their position instead of being converted silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .expand import BlockTemplate, BranchesTemplate, Expander, LayerTemplate, RepeatTemplate, Template
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
from .problems import WARNING, Location, Problem, SpecError
from .spec import DEFAULT_DTYPE, DTYPE_BYTES, INPUT_NAME, LayerSpec, Spec

try:  # libyaml's C composer when present: same nodes and marks, much faster
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

_TAG = "tag:yaml.org,2002:"
_INT, _FLOAT, _BOOL, _NULL, _STR = (_TAG + t for t in ("int", "float", "bool", "null", "str"))
_PLAIN_TAGS = frozenset(_TAG + t for t in ("int", "float", "bool", "null", "str", "seq", "map"))
_constructor = yaml.constructor.SafeConstructor()
_ROOT_KEYS = ("name", "input", "dtype", "blocks", "layers")
_REPEAT_KEYS = ("repeat", "layers", "name")
_BRANCHES_KEYS = ("branches", "merge", "name", "from")
_LAYER_KEYS = ("name", "from")
_RESERVED = ("repeat", "branches", "merge", "layers", "blocks", "input")
_MERGES = ("add", "concat")
_REQUIRED = object()


@dataclass(frozen=True)
class _BlockDefinition:
    params: dict[str, tuple[Any, Location]]  # name → (default or _REQUIRED, where declared)
    layers: yaml.Node
    location: Location


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'conv'?)' when a close match exists, else ''."""
    import difflib  # only a spec with a mistake needs it

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


class _Abort(Exception):
    """Stop walking the current node; its problem is already recorded."""


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._templates: dict[int, Template | None] = {}
        self.blocks: dict[str, _BlockDefinition] = {}
        self.block_stack: list[str] = []
        self.env: dict[str, Any] | None = None  # the current block's parameters while its layers are read
        self._nesting = 0  # layer lists open around the node being read

    # -- helpers -----------------------------------------------------------------------------
    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.source, mark.line + 1, mark.column + 1)

    def error(self, node_or_location: yaml.Node | Location, message: str, layer: str = "") -> None:
        location = node_or_location if isinstance(node_or_location, Location) else self.loc(node_or_location)
        self.problems.append(Problem(location, message, layer=layer))

    def fail(self, node: yaml.Node, message: str) -> None:
        self.error(node, message)
        raise _Abort

    def entries(self, node: yaml.MappingNode, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The mapping's (key, key node, value node) triples; non-string and duplicate keys are errors."""
        seen: dict[str, yaml.Node] = {}
        result = []
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

    def refuse_foreign_tags(self, root: yaml.Node) -> None:
        """Every explicit application tag (`!!python/object`, `!custom`) is an error, wherever it stands:
        even on a node whose value would otherwise be read as harmless text."""
        seen: set[int] = set()
        stack = [root]
        found = []
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if not node.tag.startswith(_TAG) or node.tag[len(_TAG):].startswith("python/"):
                found.append(node)
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(item for pair in node.value for item in pair)
        for node in sorted(found, key=lambda n: (n.start_mark.line, n.start_mark.column)):
            self.error(node, _tag_message(node))
        if found:
            raise SpecError(self.problems)

    # -- values ------------------------------------------------------------------------------
    def integer(self, node: yaml.Node, what: str, minimum: int) -> int:
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            value = _yaml_int(node)
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
        self.fail(node, f"{what} must be a whole number, not {describe_node(node)}{hint}")
        raise AssertionError  # unreachable

    def number(self, node: yaml.Node, what: str) -> float:
        node = self.subst(node)
        self.check_tag(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            return _yaml_int(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT:
            value = _constructor.construct_yaml_float(node)
            if value != value or value in (float("inf"), float("-inf")):
                self.fail(node, f"{what} must be a finite number, not {node.value}")
            return value
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
                return _constructor.construct_yaml_int(node)
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
            self.fail(node, f"layer lists (repeat blocks, groups, branches, blocks) nest more than {MAX_NESTING} "
                            "deep here; cnncalc refuses deeper nesting")
        self._nesting += 1
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
        if self.env is not None:  # inside a block definition the same node means different things per use
            try:
                return self._layer_item(node)
            except _Abort:
                return None
        key = id(node)
        if key not in self._templates:  # an alias reuses its node: parse it once, however often it is used
            try:
                self._templates[key] = self._layer_item(node)
            except _Abort:
                self._templates[key] = None
        return self._templates[key]

    def _layer_item(self, node: yaml.Node) -> Template:
        self.check_tag(node)
        location = self.loc(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag != _STR:
                self.fail(node, f"a layer must be a kind name or a mapping such as 'conv: {{filters: 64, kernel: 3}}', "
                                f"not {describe_node(node)}")
            if node.value in self.blocks:
                return self.block_instance(node, node, None, location)
            kind = self.kind(node, node.value)
            required = [p for p in kind.params if p.required]
            if required:
                example = ", ".join(f"{p.name}: ..." for p in required)
                self.fail(node, f"{kind.name} needs {' and '.join(repr(p.name) for p in required)}; "
                                f"write '{kind.name}: {{{example}}}'")
            return LayerTemplate(location, kind=kind)
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "a layer must be a kind name or a mapping such as 'conv: {filters: 64, kernel: 3}', not a list")
        entries = self.entries(node, "a layer")
        keys = [k for k, _, _ in entries]
        if "repeat" in keys or ("layers" in keys and not any(k in REGISTRY or k in self.blocks for k in keys)):
            return self.repeat_block(node, entries)
        if "branches" in keys:
            return self.branches_block(node, entries)
        kind_entries = [(k, kn, vn) for k, kn, vn in entries if k in REGISTRY or k in self.blocks]
        name = name_location = sources = None
        for key, key_node, value_node in entries:
            if key == "name":
                name, name_location = self.layer_name(value_node), self.loc(value_node)
            elif key == "from":
                sources = self.sources(value_node)
            elif key not in REGISTRY and key not in self.blocks:
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
        bad = [c for c in name if c in "/:$" or c.isspace()]
        if bad:
            self.fail(node, f"a layer name cannot contain {bad[0]!r}; use letters, digits, '_', '-' or '.'")
        return name

    def sources(self, node: yaml.Node) -> tuple[tuple[str, Location], ...]:
        """`from: a` or `from: [a, b]`: the names of the layers (or groups) whose outputs are the inputs."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.fail(node, "'from' needs at least one layer name")
        result = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or item.tag not in (_STR, _INT) or not item.value:
                self.fail(item, f"'from' takes layer names, not {describe_node(item)}")
            result.append((item.value, self.loc(item)))
        return tuple(result)

    def layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, template: LayerTemplate) -> None:
        node = self.subst(node)
        self.check_tag(node)
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
                    known = ", ".join(definition.params) or "none"
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
        saved = self.env
        self.env = env
        self.block_stack.append(block)
        try:
            children = self.layer_list(definition.layers, f"the layers of block '{block}'")
        finally:
            self.env = saved
            self.block_stack.pop()
        return BlockTemplate(location, block, children)

    def block_definitions(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "'blocks' must be a mapping of block names to {params: ..., layers: [...]}")
        for name, name_node, body in self.entries(node, "'blocks'"):
            if name in REGISTRY or name in _LAYER_KEYS or name in _RESERVED:
                self.error(name_node, f"'{name}' is a layer kind or a reserved word; give the block another name")
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
        self.refuse_foreign_tags(root)
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
        layers: tuple[LayerSpec, ...] = ()
        if templates and not self.has_errors():
            expander = Expander(self.source)
            layers = expander.run(templates)
            self.problems.extend(expander.problems)
        if self.has_errors():
            raise SpecError(_unique(self.problems))
        return Spec(name=name, source=self.source, input_shape=input_shape, layers=layers, dtype=dtype,
                    location=self.loc(root), input_location=input_location,
                    warnings=tuple(_unique(self.problems)))

    def has_errors(self) -> bool:
        return any(p.severity != WARNING for p in self.problems)

    def input_shape(self, node: yaml.Node) -> tuple[int, ...]:
        if not isinstance(node, yaml.SequenceNode) or not 1 <= len(node.value) <= 1 + MAX_SPATIAL_DIMS:
            self.fail(node, "'input' must be a list: channels, then 1, 2 or 3 spatial sizes, e.g. [3, 224, 224]")
        return tuple(self.integer(item, "an 'input' size", 1) for item in node.value)


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


def _yaml_int(node: yaml.ScalarNode) -> int:
    """An int-tagged scalar's value: plain decimals directly, YAML 1.1's other forms (0x1f, 0o17, 017 octal,
    1_000, 1:30 sexagesimal, a sign) by PyYAML."""
    text = node.value
    if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
        return int(text)
    return _constructor.construct_yaml_int(node)


def _is_whole(node: yaml.ScalarNode) -> bool:
    try:
        value = float(_constructor.construct_yaml_float(node))
    except (ValueError, OverflowError):
        return False
    return value == value and value not in (float("inf"), float("-inf")) and value == int(value)


def _tag_message(node: yaml.Node) -> str:
    """Written as the spec writes it: '!!python/object', not 'tag:yaml.org,2002:python/object'."""
    tag = "!!" + node.tag[len(_TAG):] if node.tag.startswith(_TAG) else node.tag
    return f"the YAML tag '{tag}' is not allowed in a spec; remove it"


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based YAML mark, or '' past the end."""
    lines = text.split("\n")
    return lines[line][column:column + 1] if line < len(lines) else ""


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


def _decode(data: bytes, source: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([Problem(Location(source, line, column),
                                 f"byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8")]) from None


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree, composed by libyaml when PyYAML has it. Text libyaml refuses is composed again
    by PyYAML's own loader, whose messages name the character, alias or anchor at fault."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
    return yaml.compose(text, Loader=yaml.SafeLoader)


def parse_text(text: str, source: str = "<spec>", default_name: str | None = None) -> Spec:
    """Parse spec text; raise SpecError with every problem found."""
    parser = _Parser(source)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        context = exc.context_mark
        if exc.context and context and mark and (context.line, context.column) != (mark.line, mark.column):
            what = re.sub(r"^while (parsing|scanning) (an? )?", "", exc.context)  # 'while parsing a flow mapping'
            message += f" (the {what} starts at line {context.line + 1}, column {context.column + 1})"
        if mark and _char_at(text, mark.line, mark.column) == "\t":  # libyaml's message does not name the tab
            message += "; YAML indents with spaces, not tabs"
        raise SpecError([Problem(Location(source, line, column), f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(Location(source, 1, 1), f"invalid YAML: {exc}")]) from None
    except RecursionError:  # PyYAML's Python composer (without libyaml) recurses once per nesting level
        raise SpecError([Problem(Location(source, 1, 1), "invalid YAML: nested too deeply")]) from None
    try:
        return parser.spec(root, default_name or Path(source).stem or "spec")
    except _Abort:
        raise SpecError(parser.problems) from None


def parse_bytes(data: bytes, source: str) -> Spec:
    return parse_text(_decode(data, source), source, Path(source).stem)


def parse_file(path: str | Path) -> Spec:
    """Read and parse a spec file (never written to)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SpecError([Problem(Location(str(path), 1, 1), "is a directory, not a spec file")]) from None
    except OSError as exc:
        raise SpecError([Problem(Location(str(path), 1, 1), f"cannot read: {exc.strerror or exc}")]) from None
    return parse_bytes(data, str(path))
