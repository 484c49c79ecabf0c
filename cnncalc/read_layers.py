"""Reading layer lists: layers, repeat blocks, groups, branches and block uses → templates.

Part of the read stage (read.py reads the spec around them). Every mistake is a located Problem; a layer
list nests at most MAX_NESTING deep, and a spec reads at most MAX_LAYERS layers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from .expand import MAX_LAYERS, BlockTemplate, BranchesTemplate, LayerTemplate, RepeatTemplate, Template
from .kinds import REGISTRY
from .kinds.base import LayerKind
from .kinds.params import PARAM_TYPES, did_you_mean
from .problems import Location, Problem
from .spec import INPUT_NAME
from .suggest import listed
from .values import MAP, NULL, STR, INT, Abort, NodeReader, Stop, describe_node

MAX_NESTING = 32  # repeat blocks, groups and branches inside one another; far beyond any real network, within the stack
_NAME_BREAKERS = re.compile("[/:$ ]")  # with the non-printable characters (all other spaces among them)
REPEAT_KEYS = ("repeat", "layers", "name")
BRANCHES_KEYS = ("branches", "merge", "name", "from")
LAYER_KEYS = ("name", "from")
RESERVED = ("repeat", "branches", "merge", "layers", "blocks", "input")
MERGES = ("add", "mul", "concat")
REQUIRED = object()
_UNSEEN = object()  # not in a memo
_NESTING_MESSAGE = (f"layer lists (repeat blocks, groups, branches, blocks) nest more than {MAX_NESTING} deep here; "
                    "cnncalc refuses deeper nesting")


class BlockDefinition(NamedTuple):
    params: dict[str, tuple[Any, Location]]  # name → (default or REQUIRED, where declared)
    layers: yaml.Node
    location: Location


class _Written:
    """What a layer item writes besides its kind, gathered before its template is made."""

    __slots__ = ("params", "locations", "name", "name_location", "sources")

    def __init__(self, name: str | None = None, name_location: Location | None = None,
                 sources: tuple[tuple[str, Location], ...] | None = None):
        self.params: dict[str, Any] = {}
        self.locations: dict[str, Location] = {}
        self.name, self.name_location, self.sources = name, name_location, sources


class LayerReader(NodeReader):
    """Layer lists into templates; `blocks` holds the block definitions (read.py reads them)."""

    def __init__(self, source: str):
        super().__init__(source)
        self._templates: dict[int, tuple[Template | None, int]] = {}  # node id → (template, nesting height)
        self._nesting = 0  # layer lists open around the node being read
        self._deepest = 0  # the most layer lists open at once while the current item was read
        self._instances: dict[tuple, tuple[list[Template], int]] = {}  # (block, arguments) → (layers, height)
        self._layers_read = 0
        self.blocks: dict[str, BlockDefinition] = {}
        self.block_stack: list[str] = []
        # (kind, parameter, tag, text) → the value a valid single-value parameter reads as: a large spec writes
        # the same few values thousands of times. Only values read without a problem are remembered, so every
        # mistake is still found, located and reported by the full reading.
        self._param_values: dict[tuple[str, str, str, str], Any] = {}
        # (kind, the mapping's keys, tags and texts) → its parameter values, for a layer's parameter mapping of
        # single values that was read without a problem: `conv: {filters: 64, kernel: 3}` repeats too.
        self._param_mappings: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    def count_layer(self, node: yaml.Node) -> None:
        """Each layer read is a distinct layer of the expanded spec (an alias or a repeated block use reuses
        what was read): more than MAX_LAYERS of them cannot be a valid spec, so stop before holding them all."""
        self._layers_read += 1
        if self._layers_read > MAX_LAYERS:
            raise Stop(Problem(self.loc(node), f"the spec expands to more than {MAX_LAYERS:,} layers; "
                                                "cnncalc refuses specs that large"))

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
        """Read by the parameter's type (kinds/params.py's PARAM_TYPES), a `$expression` replaced first."""
        param = kind.param(name)
        assert param is not None
        return PARAM_TYPES[param.type].read(self, self.subst(node), f"{kind.name} '{name}'", param)

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
        except Abort:
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
            if node.tag != STR:
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
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == STR and key_node.value in REGISTRY:
                self.read(node, 1)
                return self.layer(node, REGISTRY[key_node.value], key_node, value_node, _Written())
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
            elif self.shown("unknown layer kinds or keys", key_node):
                from .newcomer import ACTIVATION_KEYS, activation_hint, kind_hint  # a mistake's words, for mistakes

                if key in ACTIVATION_KEYS:  # `- {conv: {...}, activation: relu}`
                    hint = ": " + activation_hint("layer", self.word(value_node), REGISTRY)
                else:
                    hint = kind_hint(key, REGISTRY) or did_you_mean(key, [*REGISTRY, *self.blocks, *LAYER_KEYS])
                self.error(key_node, f"unknown layer kind or key '{key}'{hint}")
        if len(kind_entries) > 1:
            names = " and ".join(f"'{k}'" for k, _, _ in kind_entries)
            self.fail(kind_entries[1][1], f"one layer has two kinds, {names}; give each its own '- ' list item")
        if not kind_entries:
            if all(k in LAYER_KEYS for k in keys):
                self.fail(node, "this layer has no kind; add one such as 'conv: {filters: 64, kernel: 3}'")
            raise Abort
        key, key_node, value_node = kind_entries[0]
        if key in self.blocks:
            return self.block_instance(key_node, value_node, node, self.loc(key_node), name, name_location, sources)
        return self.layer(node, REGISTRY[key], key_node, value_node, _Written(name, name_location, sources))

    def kind(self, node: yaml.Node, name: str) -> LayerKind:
        if name in REGISTRY:
            return REGISTRY[name]
        if self.shown("unknown layer kinds", node):
            from .newcomer import kind_hint

            hint = kind_hint(name, REGISTRY) or did_you_mean(name, list(REGISTRY) + list(self.blocks))
            self.fail(node, f"unknown layer kind '{name}'{hint}; known kinds: {', '.join(sorted(REGISTRY))}")
        raise Abort

    def layer_name(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (STR, INT) or not node.value:
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
            if not isinstance(item, yaml.ScalarNode) or item.tag not in (STR, INT) or not item.value:
                self.fail(item, f"'from' takes layer names, not {describe_node(item)}")
            result.append((item.value, self.loc(item)))
        return tuple(result)

    def layer(self, node: yaml.Node, kind: LayerKind, key_node: yaml.Node, value_node: yaml.Node,
              layer: _Written) -> LayerTemplate:
        """A layer of `kind`, its parameters read from `value_node`, what its kind key holds."""
        self.count_layer(node)
        self.layer_params(kind, key_node, value_node, layer)
        return LayerTemplate(self.loc(key_node), kind, layer.name, layer.name_location, layer.sources,
                             params=layer.params, param_locations=layer.locations)

    def layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, layer: _Written) -> None:
        """Read `layer`'s parameters from `node`, what the layer's kind key holds."""
        signature = _param_signature(kind, node)
        if signature is not None:
            values = self._param_mappings.get(signature)
            if values is not None:  # read before, somewhere else, without a problem: only the locations are new
                self.read(node, len(node.value))
                layer.params.update(values)
                for name, (_, value_node) in zip(values, node.value):
                    layer.locations[name] = self.loc(value_node)
                return
        node = self.subst(node)
        self.check_tag(node)
        self.read_layer_params(kind, key_node, node, layer)
        if signature is not None and len(layer.params) == len(node.value):  # every entry a parameter, read fine
            self._param_mappings[signature] = dict(layer.params)

    def read_layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, layer: _Written) -> None:
        written: set[str] = set()
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            pass
        elif isinstance(node, yaml.MappingNode):
            for name, name_node, value_node in self.entries(node, f"{kind.name}'s parameters"):
                if name in LAYER_KEYS:  # `conv: {filters: 8, kernel: 1, name: a, from: b}` reads naturally too
                    self.layer_key_in_params(name, name_node, value_node, layer)
                    continue
                if kind.param(name) is None:
                    if self.shown("unknown parameters", name_node):
                        from .newcomer import ACTIVATION_KEYS, activation_hint

                        hint = did_you_mean(name, [p.name for p in kind.params])
                        if name in ACTIVATION_KEYS:  # `activation: tanh`, as Keras writes it
                            hint = ": " + activation_hint(kind.name, self.word(value_node), REGISTRY)
                        self.error(name_node, f"{kind.name} has no parameter '{name}'{hint}; its parameters: "
                                   + listed(p.name for p in kind.params))
                    continue
                written.add(name)
                try:
                    layer.params[name] = self.param_value(kind, name, value_node)
                    layer.locations[name] = self.loc(value_node)
                except Abort:
                    pass
        elif kind.main_param is not None:
            written.add(kind.main_param)
            layer.params[kind.main_param] = self.param_value(kind, kind.main_param, node)
            layer.locations[kind.main_param] = self.loc(node)
        elif not kind.params:
            self.fail(node, f"{kind.name} takes no parameters; write just '- {kind.name}'")
        else:
            example = ", ".join(f"{p.name}: ..." for p in kind.params[:2])
            self.fail(node, f"{kind.name} takes its parameters as a mapping, e.g. '{kind.name}: {{{example}}}'")
        missing = [p for p in kind.required_params if p.name not in written]
        for param in missing:
            self.error(key_node, f"{kind.name} needs '{param.name}' ({param.description})")
        if missing or len(written) != len(layer.params):
            raise Abort

    def layer_key_in_params(self, key: str, key_node: yaml.Node, node: yaml.Node, layer: _Written) -> None:
        if key == "name":
            if layer.name is not None:
                self.fail(key_node, "the layer is named twice; keep one 'name'")
            layer.name, layer.name_location = self.layer_name(node), self.loc(node)
        else:
            if layer.sources is not None:
                self.fail(key_node, "the layer has two 'from'; keep one")
            layer.sources = self.sources(node)

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
                                     f"and 'name', not '{key}'" + did_you_mean(key, REPEAT_KEYS))
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
                if isinstance(value_node, yaml.ScalarNode) and value_node.value in MERGES:
                    merge = REGISTRY[value_node.value]
                else:
                    text = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
                    self.error(value_node, f"'merge' must be add, mul or concat, not {describe_node(value_node)}"
                               + did_you_mean(str(text), MERGES))
            elif key == "name":
                name, name_location = self.layer_name(value_node), self.loc(value_node)
            elif key == "from":
                sources = self.sources(value_node)
                if len(sources) != 1:
                    self.error(value_node, "branches take one input: every branch starts from it")
            else:
                self.error(key_node, f"a branches block takes 'branches', 'merge', 'name' and 'from', not '{key}'"
                           + did_you_mean(key, BRANCHES_KEYS))
        if merge is None:
            self.fail(node, "a branches block needs 'merge: add', 'merge: mul' or 'merge: concat'")
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

    def block_instance(self, key_node: yaml.Node, value_node: yaml.Node, node: yaml.Node | None, location: Location,
                       group: str | None = None, group_location: Location | None = None,
                       sources: tuple[tuple[str, Location], ...] | None = None) -> BlockTemplate:
        """One use of a block; `group`, where given, names it (else it is named after the block and a number)."""
        block = key_node.value
        definition = self.blocks[block]
        if block in self.block_stack:
            self.fail(key_node, f"block '{block}' uses itself (through {' → '.join(self.block_stack + [block])}); "
                                "blocks cannot be recursive")
        env = {name: default for name, (default, _) in definition.params.items() if default is not REQUIRED}
        given: set[str] = set()
        value_node = self.subst(value_node) if value_node is not key_node else value_node
        if isinstance(value_node, yaml.MappingNode):
            for name, name_node, arg_node in self.entries(value_node, f"the arguments of block '{block}'"):
                if name not in definition.params:
                    if self.shown("unknown block parameters", name_node):
                        self.error(name_node, f"block '{block}' has no parameter '{name}'"
                                   f"{did_you_mean(name, definition.params)}; its parameters: "
                                   + listed(definition.params))
                    continue
                try:
                    env[name] = self.scalar_value(arg_node, f"'{name}' of block '{block}'")
                    given.add(name)
                except Abort:
                    given.add(name)
        elif value_node is not key_node and not (isinstance(value_node, yaml.ScalarNode) and value_node.tag == NULL):
            self.fail(value_node, f"a block takes its arguments as a mapping, e.g. '{block}: {{"
                                  + ", ".join(f"{p}: ..." for p in list(definition.params)[:2]) + "}'")
        missing = [name for name, (default, _) in definition.params.items() if default is REQUIRED and name not in given]
        if missing:
            self.fail(key_node, f"block '{block}' needs " + ", ".join(f"'{m}'" for m in missing))
        if len(env) != len(definition.params):
            raise Abort
        arguments = (block, tuple((name, type(value).__name__, value) for name, value in sorted(env.items())))
        if arguments in self._instances:  # the same block with the same arguments reads the same: read it once
            children, height = self._instances[arguments]
            if not self.reuse(key_node, height):
                raise Abort
            return BlockTemplate(location, block, children, group, group_location, sources)
        saved, outer, use = self.env, self._deepest, self.use
        self.env, self._deepest, self.use = env, self._nesting, f"block '{block}' as used at {location}"
        self.block_stack.append(block)
        try:
            children = self.layer_list(definition.layers, f"the layers of block '{block}'")
        finally:
            self.env, self.use = saved, use
            self.block_stack.pop()
            height = self._deepest - self._nesting
            self._deepest = max(outer, self._deepest)
        self._instances[arguments] = (children, height)
        return BlockTemplate(location, block, children, group, group_location, sources)

def _param_signature(kind: LayerKind, node: yaml.Node) -> tuple[str, tuple[str, ...]] | None:
    """What a layer's parameter mapping reads as depends only on this, when every key is a text and every
    value a single value other than a `$expression` (which varies per block use); else None. (A mapping
    holding 'name' or 'from' has an entry that is no parameter: it is never remembered.)"""
    if not isinstance(node, yaml.MappingNode) or node.tag != MAP:
        return None
    texts = []
    for key_node, value_node in node.value:
        if (not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR
                or not isinstance(value_node, yaml.ScalarNode) or value_node.value.startswith("$")):
            return None
        texts += (key_node.value, value_node.tag, value_node.value)
    return kind.name, tuple(texts)
