"""Read: YAML nodes → a spec of templates (what was written), every mistake a located Problem.

The second of the reader's three stages (loader.py: bytes → nodes; read.py: nodes → SpecTemplate;
expand.py: templates → layers). A layer's parameters are read by their type (kinds/params.py);
`blocks:` are read per use, with that use's arguments; YAML aliases are read once.
"""

from __future__ import annotations

from typing import Any

import yaml

from .expand import SpecTemplate, Template
from .kinds import REGISTRY
from .kinds.params import MAX_SPATIAL_DIMS, did_you_mean
from .problems import Location, Problem, SpecError, unique
from .read_layers import LAYER_KEYS, MAX_NESTING, RESERVED, REQUIRED, BlockDefinition, LayerReader
from .values import FLOAT, INT, NULL, STR, Abort, Stop, describe_node
from .spec import DEFAULT_DTYPE, DTYPE_BYTES
from .suggest import run

ROOT_KEYS = ("name", "input", "dtype", "blocks", "layers", "budget")

__all__ = ["MAX_NESTING", "ROOT_KEYS", "SpecReader", "read_spec"]


def read_spec(root: yaml.Node | None, source: str, default_name: str) -> SpecTemplate:
    """The spec the nodes write, as templates; raises SpecError with every problem found."""
    reader = SpecReader(source)
    with run():  # one budget of "did you mean" hints for the spec, or the command's if one runs
        try:
            return reader.spec(root, default_name)
        except Abort:
            raise SpecError(reader.problems + reader.summaries()) from None
        except Stop as stop:
            raise SpecError(unique(reader.problems) + reader.summaries() + [stop.problem]) from None


class SpecReader(LayerReader):
    """The spec's root: its name, input, dtype, block definitions and layers."""

    def spec(self, root: yaml.Node | None, default_name: str) -> SpecTemplate:
        if root is None:
            self.problems.append(Problem(Location(self.source, 1, 1),
                                         "the spec is empty; it needs 'input:' and 'layers:'"))
            raise SpecError(self.problems)
        if not isinstance(root, yaml.MappingNode):
            self.fail(root, f"a spec is a mapping with 'input:' and 'layers:', not {describe_node(root)}")
        fields = {key: (key_node, value_node) for key, key_node, value_node in self.entries(root, "the spec")}
        for key, (key_node, _) in fields.items():
            if key not in ROOT_KEYS:
                if self.shown("unknown keys in the spec", key_node):
                    self.error(key_node, f"unknown key '{key}' in the spec{did_you_mean(key, ROOT_KEYS)}; "
                                         f"a spec has {', '.join(ROOT_KEYS)}")
        name = default_name
        if "name" in fields:
            node = fields["name"][1]
            if isinstance(node, yaml.ScalarNode) and node.tag in (STR, INT, FLOAT) and node.value:
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
            except Abort:
                pass
        if "blocks" in fields:
            try:
                self.block_definitions(fields["blocks"][1])
            except Abort:
                pass
        templates: list[Template] = []
        if "layers" not in fields:
            self.error(root, "the spec needs 'layers:', a list of layers")
        else:
            try:
                templates = self.layer_list(fields["layers"][1], "'layers'")
            except Abort:
                pass
        budget = None
        if "budget" in fields:
            from .budget_read import read_budget

            budget = read_budget(*fields["budget"], self.loc, self.error)
        if self.problems:  # what reading finds is an error
            raise SpecError(unique(self.problems) + self.summaries())
        return SpecTemplate(name=name, source=self.source, input_shape=input_shape, templates=templates, dtype=dtype,
                            location=self.loc(root), input_location=input_location, budget=budget)

    def input_shape(self, node: yaml.Node) -> tuple[int, ...]:
        if not isinstance(node, yaml.SequenceNode) or not 1 <= len(node.value) <= 1 + MAX_SPATIAL_DIMS:
            self.fail(node, "'input' must be a list: channels, then 1, 2 or 3 spatial sizes, e.g. [3, 224, 224]")
        return tuple(self.integer(item, "an 'input' size", 1) for item in node.value)



    def block_definitions(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "'blocks' must be a mapping of block names to {params: ..., layers: [...]}")
        for name, name_node, body in self.entries(node, "'blocks'"):
            if name in REGISTRY or name in LAYER_KEYS or name in RESERVED:
                self.error(name_node, f"'{name}' is a layer kind or a reserved word; give the block another name")
                continue
            try:
                self.check_name(name_node, name, "a block name")
            except Abort:
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
                        if isinstance(default, yaml.ScalarNode) and default.tag == NULL:
                            params[pname] = (REQUIRED, self.loc(pnode))
                        else:
                            try:
                                params[pname] = (self.scalar_value(default, f"the default of '{pname}'"), self.loc(pnode))
                            except Abort:
                                pass
                elif key == "description":
                    pass
                else:
                    self.error(key_node, f"a block definition takes 'params', 'layers' and 'description', not '{key}'"
                               + did_you_mean(key, ("params", "layers", "description")))
            if layers is None:
                self.error(body, f"block '{name}' needs 'layers:'")
                continue
            self.blocks[name] = BlockDefinition(params, layers, self.loc(name_node))

    # -- the whole spec ----------------------------------------------------------------------
