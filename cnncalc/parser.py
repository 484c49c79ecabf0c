"""YAML text → Spec. Every value keeps its line and column; every mistake becomes a located Problem.

The YAML is composed into nodes (safe: no tags are constructed) and walked by hand, so that
duplicate keys, booleans or floats where counts belong, and unknown keys are all caught
with their position instead of being converted silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .kinds import REGISTRY
from .kinds.base import (
    BOOL,
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

MAX_LAYERS = 1_000_000
MAX_SPATIAL_DIMS = 3

_TAG = "tag:yaml.org,2002:"
_INT, _FLOAT, _BOOL, _NULL, _STR = (_TAG + t for t in ("int", "float", "bool", "null", "str"))
_PLAIN_TAGS = frozenset(_TAG + t for t in ("int", "float", "bool", "null", "str", "seq", "map"))
_constructor = yaml.constructor.SafeConstructor()
_ROOT_KEYS = ("name", "input", "dtype", "layers")
_REPEAT_KEYS = ("repeat", "layers", "name")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'conv'?)' when a close match exists, else ''."""
    import difflib  # only a spec with a mistake needs it

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


class _Abort(Exception):
    """Stop walking the current node; its problem is already recorded."""


@dataclass
class _Template:
    """A layer or a repeat block as written, before repeats are expanded and names assigned."""

    location: Location
    kind: LayerKind | None = None
    params: dict[str, Any] = field(default_factory=dict)
    param_locations: dict[str, Location] = field(default_factory=dict)
    name: str | None = None
    name_location: Location | None = None
    repeat: int = 0
    children: list["_Template"] = field(default_factory=list)

    def size(self) -> int:
        if self.kind is not None:
            return 1
        total = 0
        for child in self.children:
            total += child.size()
            if total * self.repeat > MAX_LAYERS:
                return MAX_LAYERS + 1
        return total * self.repeat


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self._templates: dict[int, _Template | None] = {}

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
            self.fail(node, f"the YAML tag '{node.tag}' is not allowed in a spec; remove it")

    # -- values ------------------------------------------------------------------------------
    def integer(self, node: yaml.Node, what: str, minimum: int) -> int:
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
        raise AssertionError(f"unknown parameter type {param.type}")  # pragma: no cover

    # -- layers ------------------------------------------------------------------------------
    def layer_list(self, node: yaml.Node, what: str) -> list[_Template]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list of layers (each line starting with '- '), not {describe_node(node)}")
        if not node.value:
            self.fail(node, f"{what} is empty; add at least one layer")
        templates = []
        for item in node.value:
            template = self.layer_item(item)
            if template is not None:
                templates.append(template)
        return templates

    def layer_item(self, node: yaml.Node) -> _Template | None:
        key = id(node)
        if key not in self._templates:  # an alias reuses its node: parse it once, however often it is used
            try:
                self._templates[key] = self._layer_item(node)
            except _Abort:
                self._templates[key] = None
        return self._templates[key]

    def _layer_item(self, node: yaml.Node) -> _Template:
        self.check_tag(node)
        location = self.loc(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag != _STR:
                self.fail(node, f"a layer must be a kind name or a mapping such as 'conv: {{filters: 64, kernel: 3}}', "
                                f"not {describe_node(node)}")
            return _Template(location, kind=self.kind(node, node.value))
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "a layer must be a kind name or a mapping such as 'conv: {filters: 64, kernel: 3}', not a list")
        entries = self.entries(node, "a layer")
        keys = [k for k, _, _ in entries]
        if "repeat" in keys:
            return self.repeat_block(node, entries)
        template = _Template(location)
        kind_entries = [(k, kn, vn) for k, kn, vn in entries if k in REGISTRY]
        for key, key_node, value_node in entries:
            if key == "name":
                template.name = self.layer_name(value_node)
                template.name_location = self.loc(value_node)
            elif key not in REGISTRY:
                self.error(key_node, f"unknown layer kind or key '{key}'"
                           + did_you_mean(key, list(REGISTRY) + ["name", "repeat"]))
        if len(kind_entries) > 1:
            names = " and ".join(f"'{k}'" for k, _, _ in kind_entries)
            self.fail(kind_entries[1][1], f"one layer has two kinds, {names}; give each its own '- ' list item")
        if not kind_entries:
            if len(entries) == len(keys) and all(k == "name" for k in keys):
                self.fail(node, "this layer has a name but no kind; add one such as 'conv: {filters: 64, kernel: 3}'")
            raise _Abort
        key, key_node, value_node = kind_entries[0]
        kind = REGISTRY[key]
        template.kind = kind
        template.location = self.loc(key_node)
        self.layer_params(kind, key_node, value_node, template)
        return template

    def kind(self, node: yaml.Node, name: str) -> LayerKind:
        if name in REGISTRY:
            return REGISTRY[name]
        self.fail(node, f"unknown layer kind '{name}'{did_you_mean(name, REGISTRY)}; "
                        f"known kinds: {', '.join(sorted(REGISTRY))}")
        raise AssertionError

    def layer_name(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR or not node.value:
            self.fail(node, f"a layer name must be a non-empty text, not {describe_node(node)}")
        name = node.value
        if name == INPUT_NAME:
            self.fail(node, f"'{INPUT_NAME}' names the spec's input; choose another layer name")
        bad = [c for c in name if c in "/:" or c.isspace()]
        if bad:
            self.fail(node, f"a layer name cannot contain {bad[0]!r}; use letters, digits, '_', '-' or '.'")
        return name

    def layer_params(self, kind: LayerKind, key_node: yaml.Node, node: yaml.Node, template: _Template) -> None:
        self.check_tag(node)
        written: set[str] = set()
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            pass
        elif isinstance(node, yaml.MappingNode):
            for name, name_node, value_node in self.entries(node, f"{kind.name}'s parameters"):
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

    def repeat_block(self, node: yaml.MappingNode, entries: list[tuple[str, yaml.Node, yaml.Node]]) -> _Template:
        template = _Template(self.loc(node))
        layers_node = None
        for key, key_node, value_node in entries:
            if key == "repeat":
                template.repeat = self.integer(value_node, "'repeat'", 1)
            elif key == "layers":
                layers_node = value_node
            elif key == "name":
                template.name = self.layer_name(value_node)
                template.name_location = self.loc(value_node)
            else:
                self.error(key_node, f"a repeat block takes 'repeat', 'layers' and 'name', not '{key}'"
                           + did_you_mean(key, _REPEAT_KEYS))
        if layers_node is None:
            self.fail(node, "a repeat block needs 'layers:', the list of layers to repeat")
        template.children = self.layer_list(layers_node, "'layers' of a repeat block")
        return template

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
        templates: list[_Template] = []
        if "layers" not in fields:
            self.error(root, "the spec needs 'layers:', a list of layers")
        else:
            try:
                templates = self.layer_list(fields["layers"][1], "'layers'")
            except _Abort:
                pass
        layers = self.expand(templates)
        if any(p.severity != WARNING for p in self.problems):
            raise SpecError(self.problems)
        return Spec(name=name, source=self.source, input_shape=input_shape, layers=layers, dtype=dtype,
                    location=self.loc(root), input_location=input_location)

    def input_shape(self, node: yaml.Node) -> tuple[int, ...]:
        if not isinstance(node, yaml.SequenceNode) or not 1 <= len(node.value) <= 1 + MAX_SPATIAL_DIMS:
            self.fail(node, "'input' must be a list: channels, then 1, 2 or 3 spatial sizes, e.g. [3, 224, 224]")
        return tuple(self.integer(item, "an 'input' size", 1) for item in node.value)

    def expand(self, templates: list[_Template]) -> tuple[LayerSpec, ...]:
        """Unroll repeats, give every layer a unique name and chain each to the one before."""
        total = sum(t.size() for t in templates)
        if total > MAX_LAYERS:
            self.error(templates[0].location, f"the spec expands to more than {MAX_LAYERS:,} layers; "
                                              "cnncalc refuses specs that large")
            return ()
        flat: list[tuple[_Template, str | None, tuple[str, ...]]] = []
        counters: dict[int, int] = {}

        def walk(items: list[_Template], suffix: str, block: tuple[str, ...]) -> None:
            for item in items:
                if item.kind is not None:
                    flat.append((item, item.name + suffix if item.name else None, block))
                    continue
                counters[0] = counters.get(0, 0) + 1
                label = item.name or f"repeat{counters[0]}"
                for i in range(1, item.repeat + 1):
                    walk(item.children, f"{suffix}_{i}", block + (f"{label}[{i}]",))

        walk(templates, "", ())
        taken: dict[str, Location] = {}
        for template, name, _ in flat:
            if name is None:
                continue
            where = template.name_location or template.location
            if name in taken and taken[name] != where:
                first = taken[name]
                self.error(where, f"the layer name '{name}' is already used at line {first.line}; names must be unique")
            taken.setdefault(name, where)
        counts: dict[str, int] = {}
        layers = []
        previous = INPUT_NAME
        for template, name, block in flat:
            kind = template.kind
            assert kind is not None
            if name is None:
                while True:
                    counts[kind.auto_prefix] = counts.get(kind.auto_prefix, 0) + 1
                    name = f"{kind.auto_prefix}{counts[kind.auto_prefix]}"
                    if name not in taken:
                        break
            # The layers a repeat unrolls share its template's parameter mappings (never modified).
            layers.append(LayerSpec(kind=kind.name, name=name, params=template.params,
                                    location=template.location, param_locations=template.param_locations,
                                    inputs=(previous,), block=block))
            previous = name
        return tuple(layers)


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
        if "\t" in text and "tab" in message.lower() or "found character '\\t'" in message:
            message += "; YAML indents with spaces, not tabs"
        raise SpecError([Problem(Location(source, line, column), f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(Location(source, 1, 1), f"invalid YAML: {exc}")]) from None
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
