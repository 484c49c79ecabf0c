"""YAML text → nodes, within limits (the load stage's composer, called by loader.py): no object is ever
constructed, no recursion, bounded nesting.

PyYAML's composers recurse once per nesting level: a file nested 1,000 levels deep exhausts Python's
recursion limit (pure-Python composer) or overflows the C stack and kills the process (libyaml's,
at about 100,000 levels), and libyaml's scanner slows down with every open flow level. This
composer builds the same nodes from the event stream with an explicit stack and stops, with a
location, at MAX_YAML_DEPTH. Aliases are shared nodes, as in PyYAML: an exponential "billion laughs"
document stays as small in memory as its text, and cnncalc's own walk reads each shared layer once.
"""

from __future__ import annotations

import re

import yaml

from .problems import Location, Problem, SpecError

try:  # libyaml's C parser when present: same events and marks, much faster
    from yaml import CSafeLoader as _FastestLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _FastestLoader  # type: ignore[assignment]

MAX_YAML_DEPTH = 1_000  # lists and mappings inside one another
_DEPTH_MESSAGE = (f"the YAML is nested {MAX_YAML_DEPTH:,} levels deep here (lists and mappings inside one another); "
                  "cnncalc stops there")
# Text libyaml refuses is read again by PyYAML's own parser for its clearer messages, when it is small and has
# few flow brackets: that parser is about 30 times slower, and slower still for every open bracket (1,000
# nested '[' alone take it a second).
PURE_PYTHON_RETRY_BYTES = 64 * 1024
PURE_PYTHON_RETRY_BRACKETS = 200

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, SEQ, MAP = (TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))
_CORE_TAGS = {yaml.ScalarNode: (STR, INT, FLOAT, BOOL, NULL), yaml.SequenceNode: (SEQ,), yaml.MappingNode: (MAP,)}
_KIND_NAMES = {yaml.ScalarNode: "a single value", yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping"}


def short_tag(tag: str) -> str:
    """'tag:yaml.org,2002:python/object' → '!!python/object', as it was written."""
    return "!!" + tag[len(TAG):] if tag.startswith(TAG) else tag


def compose(text: str, source: str, loader: type = _FastestLoader) -> yaml.Node | None:
    """The one YAML document in `text` as nodes (None when there is none), read with `loader`'s parser.
    Raises SpecError, located, for invalid YAML, nesting deeper than MAX_YAML_DEPTH, a tag other than
    YAML's core ones (`!!python/...`, `!!binary`, local `!tags`), a core tag its value does not fit
    (`!!int abc`), an alias without its anchor or inside its own anchor's value (a cycle), and a second
    document. Text libyaml refuses is read again by PyYAML's pure-Python parser (when small, see
    PURE_PYTHON_RETRY_BYTES), whose messages name the character, alias or anchor at fault."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: only reachable from text, not from bytes
        raise SpecError([Problem(_offset_location(text, exc.start, source), "the text is not valid Unicode")]) from None
    try:
        return _compose_with(loader, text, source)
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError) as exc:
        if (loader is yaml.SafeLoader or len(text) > PURE_PYTHON_RETRY_BYTES
                or text.count("[") + text.count("{") > PURE_PYTHON_RETRY_BRACKETS):
            raise _yaml_problem(exc, text, source, loader) from None
    try:
        return _compose_with(yaml.SafeLoader, text, source)
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError) as exc:
        raise _yaml_problem(exc, text, source, yaml.SafeLoader) from None


def _compose_with(loader: type, text: str, source: str) -> yaml.Node | None:
    instance = loader(text)
    try:
        return _Composer(instance, source).document()
    finally:
        instance.dispose()


def _yaml_problem(exc: yaml.YAMLError, text: str, source: str, loader: type) -> SpecError:
    """PyYAML's complaint as a located problem."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (NUL, other control characters)
        position = exc.position
        if not issubclass(loader, yaml.SafeLoader):  # libyaml counts bytes of the UTF-8 text, not characters
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        character = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return SpecError([Problem(_offset_location(text, position, source),
                                  f"invalid YAML: character U+{character:04X} is not allowed ({exc.reason})")])
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if exc.problem == "exceeded maximum nesting depth":  # newer libyaml (PyYAML 6.0.4's) stops near 1,000 levels too
        return SpecError([Problem(Location(source, line, column), _DEPTH_MESSAGE)])
    message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    context = exc.context_mark
    if exc.context and context and mark and (context.line, context.column) != (mark.line, mark.column):
        what = re.sub(r"^while (parsing|scanning) (an? )?", "", exc.context)  # 'while parsing a flow mapping'
        message += f" (the {what} starts at line {context.line + 1}, column {context.column + 1})"
    if mark and _char_at(text, mark.line, mark.column) == "\t":  # libyaml's message does not name the tab
        message += "; YAML indents with spaces, not tabs"
    return SpecError([Problem(Location(source, line, column), f"invalid YAML: {message}")])


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based YAML mark, or '' past the end."""
    lines = text.split("\n")
    return lines[line][column:column + 1] if line < len(lines) else ""


def _offset_location(text: str, offset: int, source: str) -> Location:
    before = text[:offset]
    return Location(source, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


class _Composer:
    def __init__(self, loader: yaml.BaseLoader, source: str):
        self.loader = loader
        self.source = source
        self.anchors: dict[str, yaml.Node] = {}
        self.resolved: dict[tuple, str] = {}  # (plain value, implicit) → tag
        self.tag_problems: list[Problem] = []

    def refuse(self, mark: yaml.Mark, message: str) -> None:
        raise SpecError([Problem(Location(self.source, mark.line + 1, mark.column + 1), message)])

    def document(self) -> yaml.Node | None:
        self.loader.get_event()  # stream start
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        self.loader.get_event()  # document start
        root = self.node()
        self.loader.get_event()  # document end
        if not self.loader.check_event(yaml.StreamEndEvent):
            self.refuse(self.loader.peek_event().start_mark,
                        "a second YAML document starts here; a spec is one document (remove the '---')")
        if self.tag_problems:
            raise SpecError(self.tag_problems)
        return root

    def node(self) -> yaml.Node:
        """The next node and everything inside it, with a stack instead of recursion.

        This loop runs once per YAML event, half a million of them for a 100,000-layer spec, so it keeps
        its work per event small: classes and methods are bound to local names, the innermost open
        collection's list, kind and pending key are held in locals, nodes are created with positional
        arguments, and only anchored collections are tracked for alias cycles."""
        stack: list[list] = []  # open collections, innermost last: [node, is a mapping, pending key]
        open_anchored: set[int] = set()  # ids of the anchored collections still open (an alias to one is a cycle)
        anchors = self.anchors
        resolved = self.resolved
        resolve = self.loader.resolve
        get_event = self.loader.get_event
        ScalarEvent, AliasEvent, SequenceStartEvent = yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent
        SequenceEndEvent, MappingEndEvent = yaml.SequenceEndEvent, yaml.MappingEndEvent
        MappingStartEvent = yaml.MappingStartEvent
        ScalarNode, SequenceNode, MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
        append = None  # the innermost open collection's value.append
        in_mapping = False  # whether that collection is a mapping
        key = None  # in a mapping, the key node waiting for its value
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                tag, value = event.tag, event.value
                if tag is None or tag == "!":
                    implicit = event.implicit
                    tag = resolved.get((value, implicit))
                    if tag is None:  # the resolver runs a regular expression per value: values repeat, so remember
                        tag = resolved[value, implicit] = resolve(ScalarNode, value, implicit)
                else:
                    self.check_tag(event, tag, ScalarNode)
                node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
                if event.anchor is not None:
                    self.anchor(event, node)
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                node = stack.pop()[0]  # attached to its parent when it opened
                node.end_mark = event.end_mark
                if open_anchored:
                    open_anchored.discard(id(node))
                if not stack:
                    return node
                parent = stack[-1]
                append, in_mapping, key = parent[0].value.append, parent[1], parent[2]
                continue
            elif kind is AliasEvent:
                node = anchors.get(event.anchor)
                if node is None:  # as PyYAML's composer says it
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                      event.start_mark)
                if id(node) in open_anchored:
                    self.refuse(event.start_mark, f"the alias *{event.anchor} is inside the value of its own anchor "
                                                  f"&{event.anchor}: that is a cycle")
            else:  # a list or a mapping opens
                if len(stack) >= MAX_YAML_DEPTH:
                    self.refuse(event.start_mark, _DEPTH_MESSAGE)
                cls = SequenceNode if kind is SequenceStartEvent else MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(cls, None, event.implicit)
                else:
                    self.check_tag(event, tag, cls)
                node = cls(tag, [], event.start_mark, None, event.flow_style)
                if event.anchor is not None:
                    self.anchor(event, node)
                    open_anchored.add(id(node))
            # the node joins the innermost open collection (the root, a lone value, is the document)
            if stack:
                if not in_mapping:
                    append(node)
                elif key is None:
                    key = node
                else:
                    append((key, node))
                    key = None
            elif kind is ScalarEvent or kind is AliasEvent:
                return node
            if kind is SequenceStartEvent or kind is MappingStartEvent:  # it opens: the innermost from now on
                if stack:
                    stack[-1][2] = key
                in_mapping = kind is not SequenceStartEvent
                stack.append([node, in_mapping, None])
                append, key = node.value.append, None

    def check_tag(self, event: yaml.Event, tag: str, cls: type) -> None:
        """An explicit tag: only YAML's core ones, on a value that fits them. Every misfit is reported
        (when the document is complete), wherever it stands, even where cnncalc would ignore the value."""
        mark = event.start_mark
        if tag not in _CORE_TAGS[cls]:
            known = any(tag in tags for tags in _CORE_TAGS.values())
            self.tag_problems.append(Problem(Location(self.source, mark.line + 1, mark.column + 1),
                                             f"the YAML tag '{short_tag(tag)}' "
                                             + (f"does not fit {_KIND_NAMES[cls]}" if known else "is not allowed in a spec")
                                             + "; remove it"))
        elif cls is yaml.ScalarNode and tag != STR and self.loader.resolve(cls, event.value, (True, False)) != tag:
            self.tag_problems.append(Problem(Location(self.source, mark.line + 1, mark.column + 1),
                                             f"'{event.value}' is not a valid {short_tag(tag)}; remove the tag or fix the value"))

    def anchor(self, event: yaml.Event, node: yaml.Node) -> None:
        if event.anchor in self.anchors:  # as PyYAML's composer says it
            raise yaml.composer.ComposerError(f"found duplicate anchor {event.anchor!r}; first occurrence",
                                              self.anchors[event.anchor].start_mark, "second occurrence",
                                              event.start_mark)
        self.anchors[event.anchor] = node

