"""Templates → layers: unroll repeats, branches and block instances, name every layer, resolve `from:`.

The parser turns YAML into templates (what was written); this module turns templates into the flat,
ordered tuple of LayerSpec the engine walks, each with its resolved input names and its group path.

Naming: layers without a name are named by kind and a counter (`conv1`, `pool2`). A block instance,
a named `branches` group and each iteration of a named `repeat` open a scope: names inside are prefixed
with the scope (`layer3.2.conv1`) and counters restart. `from:` looks a name up in the innermost scope
first, then outwards; inside a block instance, `input` is the block's input. A group's name stands for
its output.
"""

from __future__ import annotations

import itertools
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from .kinds import LayerKind
from .problems import WARNING, Location, Problem, SpecError, unique
from .spec import DEFAULT_DTYPE, INPUT_NAME, LayerSpec, Span, Spec

if TYPE_CHECKING:
    from .budget import Budget

MAX_LAYERS = 1_000_000
MAX_NAME_LENGTH = 1_000  # a layer's full name, group prefixes included
MAX_NAME_CHARACTERS = 64 * MAX_LAYERS  # all full names together: nested groups repeat their prefixes in every name
HINT_COMPARISONS = 200_000  # names compared for "did you mean" hints to unresolved `from:` names, in all


class _Item:
    """What every template has: where it stands, the name the spec gives it (None: an automatic one) and
    the inputs it names with `from:` (None: the layer above)."""

    __slots__ = ("location", "name", "name_location", "sources")

    def __init__(self, location: Location, name: str | None = None, name_location: Location | None = None,
                 sources: tuple[tuple[str, Location], ...] | None = None):
        self.location = location
        self.name = name
        self.name_location = name_location
        self.sources = sources


class LayerTemplate(_Item):
    """One layer as read, before names and inputs are resolved: its kind, its validated parameters
    and where each came from."""

    __slots__ = ("kind", "params", "param_locations")

    def __init__(self, location: Location, kind: LayerKind, name: str | None = None,
                 name_location: Location | None = None, sources: tuple[tuple[str, Location], ...] | None = None, *,
                 params: dict[str, Any] | None = None, param_locations: dict[str, Location] | None = None):
        super().__init__(location, name, name_location, sources)
        self.kind = kind
        self.params: dict[str, Any] = {} if params is None else params
        self.param_locations: dict[str, Location] = {} if param_locations is None else param_locations

    def size(self, memo: dict[int, int]) -> int:
        return max(1, len(self.sources or ()))  # once per input: a merge's inputs are work too


class RepeatTemplate(_Item):
    """`repeat: N` with its layers, or a group (`layers:` without `repeat:`, `plain`)."""

    __slots__ = ("count", "children", "plain")

    def __init__(self, location: Location, count: int, children: list[Template], name: str | None = None,
                 name_location: Location | None = None, plain: bool = False):
        super().__init__(location, name, name_location)
        self.count = count
        self.children = children
        self.plain = plain  # a group: one level, no iterations

    def size(self, memo: dict[int, int]) -> int:
        return min(_size(self.children, memo) * self.count, MAX_LAYERS + 1)


class BranchesTemplate(_Item):
    """`branches:` (lists of layers side by side) and the `merge` kind that joins their outputs."""

    __slots__ = ("branches", "merge")

    def __init__(self, location: Location, branches: list[list[Template]], merge: LayerKind, name: str | None = None,
                 name_location: Location | None = None, sources: tuple[tuple[str, Location], ...] | None = None):
        super().__init__(location, name, name_location, sources)
        self.branches = branches
        self.merge = merge

    def size(self, memo: dict[int, int]) -> int:
        return min(sum(_size(b, memo) for b in self.branches) + len(self.branches), MAX_LAYERS + 1)


class BlockTemplate(_Item):
    """One use of a block from `blocks:`, its layers read with that use's arguments."""

    __slots__ = ("block", "children")

    def __init__(self, location: Location, block: str, children: list[Template], name: str | None = None,
                 name_location: Location | None = None, sources: tuple[tuple[str, Location], ...] | None = None):
        super().__init__(location, name, name_location, sources)
        self.block = block
        self.children = children

    def size(self, memo: dict[int, int]) -> int:
        return _size(self.children, memo)


Template = Union[LayerTemplate, RepeatTemplate, BranchesTemplate, BlockTemplate]


class SpecTemplate(NamedTuple):
    """A spec as read, before expansion: what every reader (YAML, or a model file's importer) produces."""

    name: str
    source: str
    input_shape: tuple[int, ...]  # channels first
    templates: list[Template]
    dtype: str = DEFAULT_DTYPE
    location: Location = Location("<spec>", 1, 1)
    input_location: Location = Location("<spec>", 1, 1)
    budget: Budget | None = None  # the limits `cnncalc check` holds the network to (`budget:`)


def expand(spec: SpecTemplate) -> Spec:
    """The flat, named layer graph the templates stand for; raises SpecError with every problem found
    (warnings, such as an output never used, travel with the Spec)."""
    from .suggest import run

    expander = Expander(spec.source)
    with run():  # one budget of "did you mean" hints for the spec, or the command's if one runs
        layers = expander.run(spec.templates)
    problems = unique(expander.problems)
    if any(p.severity != WARNING for p in problems):
        raise SpecError(problems)
    return Spec(name=spec.name, source=spec.source, input_shape=spec.input_shape, layers=layers, dtype=spec.dtype,
                location=spec.location, input_location=spec.input_location, warnings=tuple(problems),
                structure=expander.structure, budget=spec.budget)


def _size(items: list[Template], memo: dict[int, int]) -> int:
    """Layers after expansion, a layer with several inputs counted once per input, capped at MAX_LAYERS + 1.
    A template shared through a YAML alias or a block use is measured once (`memo`, by id): a "billion
    laughs" of nested aliases is refused in time linear in its text."""
    total = 0
    for item in items:
        if isinstance(item, LayerTemplate):  # as LayerTemplate.size: a layer costs nothing to measure again
            total += len(item.sources) if item.sources else 1  # a list of layers is as long as its text
        else:
            size = memo.get(id(item))
            if size is None:
                size = memo[id(item)] = item.size(memo)
            total += size
            if total > MAX_LAYERS:
                return MAX_LAYERS + 1
    return min(total, MAX_LAYERS + 1)


class _NameTooLong(Exception):
    """Stop expanding: names would only grow longer; `problem` says where."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class _Scope(NamedTuple):
    prefix: str  # "layer3.2." or ""
    input_name: str  # what `input` means here
    group: tuple[str, ...]  # the group path given to layers in this scope
    counters: dict[str, int]
    parent: "_Scope | None" = None
    suffix: str = ""  # unnamed repeats: "_2" appended to explicit names in the second iteration

    def chain(self):
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


class Expander:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self.layers: list[LayerSpec] = []
        self.names: dict[str, str] = {}  # layer and group names → the layer whose output they stand for
        self.defined_at: dict[str, Location] = {}
        self.name_characters = 0
        self.pending: list[tuple[str, Location, tuple[str, ...], int]] = []  # unresolved from: (ref, where, prefixes, layer)
        self.explicit: set[str] = set()  # names the spec writes (layers and groups)
        self.reserved: frozenset[str] = frozenset()  # explicit names, known before automatic names are given
        self.rehearsing = False  # the first pass: names only, no layers
        self.renamed_at: set[Location] = set()  # layers whose automatic name skipped a written one (warned once)
        self.spans: list[Span | None] = []  # repeats, blocks, groups and branches in the order they open

    @property
    def structure(self) -> tuple[Span, ...]:
        """The spans written, outer before inner (a span without layers left out)."""
        return tuple(span for span in self.spans if span is not None)

    def open_span(self) -> int:
        """Reserve the place of a span that opens here (so that outer spans come before inner ones)."""
        if self.rehearsing:
            return -1
        self.spans.append(None)
        return len(self.spans) - 1

    def close_span(self, slot: int, first: int, kind: str, name: str, label: str = "", count: int = 1,
                   parts: tuple[tuple[int, int], ...] = (), location: Location | None = None) -> None:
        """The span reserved at `slot` covers the layers made since there were `first` of them."""
        if slot >= 0 and len(self.layers) > first:
            self.spans[slot] = Span(kind, name, label, first + 1, len(self.layers), count, parts, location)

    def run(self, templates: list[Template]) -> tuple[LayerSpec, ...]:
        if _size(templates, {}) > MAX_LAYERS:
            self.problems.append(Problem(templates[0].location, f"the spec expands to more than {MAX_LAYERS:,} layers; "
                                                                "cnncalc refuses specs that large"))
            return ()
        try:
            self.reserved = self.rehearse(templates)
            self.items(templates, _Scope("", INPUT_NAME, (), {}), INPUT_NAME)
        except _NameTooLong as stop:
            self.problems.append(stop.problem)
            return ()
        self.explain_pending()
        self.warn_unused()
        return tuple(self.layers)

    def rehearse(self, templates: list[Template]) -> frozenset[str]:
        """A first, light pass: the names the spec writes, so that automatic names can avoid them."""
        rehearsal = Expander(self.source)
        rehearsal.rehearsing = True
        rehearsal.items(templates, _Scope("", INPUT_NAME, (), {}), INPUT_NAME)
        return frozenset(rehearsal.explicit)

    # -- names -----------------------------------------------------------------------------------
    def define(self, name: str, target: str, where: Location) -> bool:
        length = len(name)
        self.name_characters += length
        if length > MAX_NAME_LENGTH or self.name_characters > MAX_NAME_CHARACTERS:
            self.too_long(name, where)
        names = self.names
        if name in names or name == INPUT_NAME:
            first = self.defined_at.get(name)
            at = f" at line {first.line}" if first else ""
            self.problems.append(Problem(where, f"the name '{name}' is already used{at}; names must be unique"))
            return False
        names[name] = target
        self.defined_at[name] = where
        return True

    def too_long(self, name: str, where: Location) -> None:
        """Stop: `name` is too long, or the names so far add up to too many characters."""
        if len(name) > MAX_NAME_LENGTH:  # nested groups repeat their prefixes in every name below them
            raise _NameTooLong(Problem(where, f"the full name '{name[:40]}...' is longer than {MAX_NAME_LENGTH:,} "
                                              "characters; use shorter names or fewer nested named groups"))
        raise _NameTooLong(Problem(where, f"the layers' full names add up to more than {MAX_NAME_CHARACTERS:,} "
                                          "characters; use shorter names or fewer nested named groups"))

    def auto_name(self, scope: _Scope, prefix: str, where: Location | None = None) -> str:
        """`prefix` and the scope's next number for it, skipping names already taken or written in the spec.
        Skipping a name the spec writes further on is said, once per layer of the spec, as a warning."""
        count = scope.counters.get(prefix, 0)
        skipped = None
        while True:
            count += 1
            name = f"{scope.prefix}{prefix}{count}"
            if name not in self.names and name not in self.reserved:
                scope.counters[prefix] = count
                if skipped and where is not None and not self.rehearsing and where not in self.renamed_at:
                    self.renamed_at.add(where)
                    self.problems.append(Problem(where, f"this {prefix} is named '{name}', not '{skipped}': a layer "
                                                        f"further on is written '{skipped}'; give one of them "
                                                        "another name", WARNING, name))
                return name
            if skipped is None and name not in self.names:
                skipped = name

    def resolve(self, ref: str, where: Location, scope: _Scope) -> str:
        for s in scope.chain():
            if ref == INPUT_NAME:
                return s.input_name
            for candidate in (s.prefix + ref + s.suffix, s.prefix + ref):
                if candidate in self.names:
                    return self.names[candidate]
        self.pending.append((ref, where, tuple(s.prefix for s in scope.chain()), len(self.layers)))
        return ref

    def sources(self, written: tuple[tuple[str, Location], ...] | None, scope: _Scope, previous: str) -> tuple[str, ...]:
        if written is None:
            return (previous,)
        return tuple(self.resolve(ref, where, scope) for ref, where in written)

    def explain_pending(self) -> None:
        """Each unresolved `from:` once: defined later, or unknown (with a hint, within the run's budget). Past
        SHOWN_PER_KIND unknown names, the rest are counted in one line."""
        from .suggest import SHOWN_PER_KIND, did_you_mean  # bounded by the characters compared, not only the names

        explained: set[tuple[str, Location]] = set()  # a `from:` inside a repeat is unresolved once per iteration
        comparisons_left = HINT_COMPARISONS
        unknown = 0
        first_not_shown: Location | None = None
        for ref, where, prefixes, _ in self.pending:
            if (ref, where) in explained:
                continue
            explained.add((ref, where))
            later = next((prefix + ref for prefix in prefixes if prefix + ref in self.names), None)
            if later is not None:
                line = self.defined_at[later].line
                self.problems.append(Problem(where, f"'{ref}' is defined later, at line {line}; a layer can only take "
                                                    "inputs from layers above it (which also rules out cycles)"))
                continue
            unknown += 1
            if unknown > SHOWN_PER_KIND:
                first_not_shown = first_not_shown or where
                continue
            hint = ""
            if 2 * len(self.names) <= comparisons_left:
                comparisons_left -= 2 * len(self.names)
                choices = [n for n in self.names if n.startswith(prefixes[0])] or list(self.names)
                local = [n[len(prefixes[0]):] for n in choices if n.startswith(prefixes[0])] + [INPUT_NAME]
                hint = did_you_mean(ref, local + list(self.names))
            self.problems.append(Problem(where, f"no layer or group named '{ref}' above this point{hint}"))
        if first_not_shown is not None:
            self.problems.append(Problem(first_not_shown, f"... and {unknown - SHOWN_PER_KIND:,} more names in 'from:' "
                                                          "that name no layer above, like the ones above (not shown "
                                                          "one by one; fix those first)"))

    def warn_unused(self) -> None:
        # the sets are made without a Python loop over the layers (there may be 1,000,000)
        used = set(itertools.chain.from_iterable(map(attrgetter("inputs"), self.layers)))
        if used.issuperset(map(attrgetter("name"), self.layers[:-1])):
            return
        for layer in self.layers[:-1]:
            if layer.name not in used:
                self.problems.append(Problem(layer.location, f"the output of '{layer.name}' is never used; "
                                                             "take it with 'from:' or remove the layer", WARNING,
                                             layer.path))

    # -- walking ---------------------------------------------------------------------------------
    def items(self, items: list[Template], scope: _Scope, previous: str, iteration: bool = False) -> str:
        """`iteration`: the items are one iteration of a named repeat (a lone block instance then is the iteration)."""
        lone = iteration and len(items) == 1
        for item in items:
            if isinstance(item, LayerTemplate):  # most items: straight to `layer`
                previous = self.layer(item, scope, previous)
            else:
                previous = self.item(item, scope, previous, lone)
        return previous

    def item(self, item: Template, scope: _Scope, previous: str, lone: bool = False) -> str:
        if isinstance(item, LayerTemplate):
            return self.layer(item, scope, previous)
        if isinstance(item, RepeatTemplate):
            return self.repeat(item, scope, previous)
        if isinstance(item, BranchesTemplate):
            return self.branches(item, scope, previous)
        return self.block(item, scope, previous, lone)

    def layer(self, item: LayerTemplate, scope: _Scope, previous: str, name: str | None = None,
              inputs: tuple[str, ...] | None = None) -> str:
        """`name` and `inputs`, when given, stand for what the template would give (a merge of branches)."""
        if name is None:
            if item.name is not None:
                name = scope.prefix + item.name + scope.suffix
                self.explicit.add(name)
            else:
                name = self.auto_name(scope, item.kind.auto_prefix, item.location)
        if self.rehearsing:
            self.names.setdefault(name, name)
            return name
        if inputs is None:
            inputs = (previous,) if item.sources is None else self.sources(item.sources, scope, previous)
        self.define(name, name, item.name_location or item.location)
        # positional, in the record's order (kind, name, params, location, param_locations, inputs, block):
        # keywords cost more, once per layer
        self.layers.append(LayerSpec(item.kind.name, name, item.params, item.location, item.param_locations, inputs,
                                     scope.group))
        return name

    def repeat(self, item: RepeatTemplate, scope: _Scope, previous: str) -> str:
        slot, first = self.open_span(), len(self.layers)
        if item.name is None:
            for i in range(1, item.count + 1):
                iteration = _Scope(scope.prefix, scope.input_name, scope.group, scope.counters, scope.parent,
                                   f"{scope.suffix}_{i}")  # the scope itself, but for the suffix
                previous = self.items(item.children, iteration, previous)
            self.close_span(slot, first, "repeat", "", count=item.count)
            return previous
        group = scope.prefix + item.name + scope.suffix
        self.explicit.add(group)
        if item.plain:
            inner_scope = _Scope(group + ".", scope.input_name, scope.group + (group,), {}, scope)
            previous = self.items(item.children, inner_scope, previous)
            self.define(group, previous, item.name_location or item.location)
            self.close_span(slot, first, "group", group)
            return previous
        for i in range(1, item.count + 1):
            inner = f"{group}.{i}"
            iteration = _Scope(inner + ".", scope.input_name, scope.group + (group, inner), {}, scope)
            previous = self.items(item.children, iteration, previous, iteration=True)
            self.define(inner, previous, item.name_location or item.location)
        self.define(group, previous, item.name_location or item.location)
        self.close_span(slot, first, "repeat", group, count=item.count)
        return previous

    def branches(self, item: BranchesTemplate, scope: _Scope, previous: str) -> str:
        (start,) = self.sources(item.sources, scope, previous)[:1] or (previous,)
        inner = scope
        group = None
        if item.name is not None:
            group = scope.prefix + item.name + scope.suffix
            self.explicit.add(group)
            inner = _Scope(group + ".", scope.input_name, scope.group + (group,), {}, scope)
        slot, first = self.open_span(), len(self.layers)
        outputs, parts = [], []
        for branch in item.branches:
            begin = len(self.layers)
            outputs.append(self.items(branch, inner, start) if branch else start)
            parts.append((begin + 1, len(self.layers)))
        merge = LayerTemplate(item.location, item.merge, sources=None)
        name = f"{group}.{item.merge.name}" if group else None
        last = self.layer(merge, inner, previous, name=name, inputs=tuple(outputs))
        if group is not None:
            self.define(group, last, item.name_location or item.location)
        self.close_span(slot, first, "branches", group or "", count=len(parts), parts=tuple(parts))
        return last

    def block(self, item: BlockTemplate, scope: _Scope, previous: str, lone: bool) -> str:
        (start,) = self.sources(item.sources, scope, previous)[:1] or (previous,)
        slot, first = self.open_span(), len(self.layers)
        if item.name is not None:
            group = scope.prefix + item.name + scope.suffix
            self.explicit.add(group)
        elif lone:
            # the only item of a named repeat's iteration: the iteration is the block instance
            inner = _Scope(scope.prefix, start, scope.group, scope.counters, scope.parent, scope.suffix)
            last = self.items(item.children, inner, start)
            self.close_span(slot, first, "block", scope.prefix.rstrip("."), item.block, location=item.location)
            return last
        else:
            group = self.auto_name(scope, item.block)
        inner = _Scope(group + ".", start, scope.group + (group,), {}, scope)
        last = self.items(item.children, inner, start)
        self.define(group, last, item.name_location or item.location)
        self.close_span(slot, first, "block", group, item.block, location=item.location)
        return last
