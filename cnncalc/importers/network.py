"""What an importer builds: cnncalc layers with names, inputs and parameters, checked as they are added.

Both readers (ONNX, Caffe prototxt) translate a model into `ImportedNetwork`: a flat list of layers of
cnncalc's own kinds, each with its explicit inputs (`from:`), in the model's order. `NetworkBuilder` computes
each layer's output shape with the kind's own rule as it is added (the readers need shapes to translate
what follows: a Reshape that flattens, a pad that is not symmetric) and marks `round: floor` exactly where
the model's framework floors a size that does not divide. `to_templates` gives the spec of templates the
YAML reader gives, so that an imported model is expanded and analysed like a spec.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..kinds import REGISTRY
from ..kinds.base import LayerContext, LayerFailure
from ..problems import Location, Problem, SpecError
from ..spec import INPUT_NAME

MAX_IMPORTED_LAYERS = 1_000_000
_BAD_NAME_CHARACTERS = re.compile(r"[/:$\s]|[^\x20-\x7e\u00a0-\uffff]")


class ImportedLayer(NamedTuple):
    """One layer of the translated model: a cnncalc kind, its written parameters, its inputs by name."""

    name: str
    kind: str
    params: dict[str, Any]
    inputs: tuple[str, ...]
    location: Location
    origin: str = ""  # the model's own words for it (ONNX op, Caffe type), for comments in the imported spec
    output_shape: tuple[int, ...] = ()


class ImportedNetwork(NamedTuple):
    """A whole translated model: what `cnncalc import` writes and what the engine is given."""

    name: str
    source: str
    input_shape: tuple[int, ...]
    layers: tuple[ImportedLayer, ...]
    header: tuple[str, ...] = ()  # comment lines: the source file, the format and its version
    notes: tuple[Problem, ...] = ()
    location: Location = Location("<model>", 1, 1)


class ImportError_(SpecError):
    """Raised by a reader; the same type as every other located problem (a SpecError)."""


def layer_name(text: str) -> str:
    """A model's name as a cnncalc layer name: '/', ':', '$' and spaces become '.', '_' ... ; never empty."""
    name = text.strip().replace("/", ".").replace(":", "_")
    name = _BAD_NAME_CHARACTERS.sub("_", name).strip(".")
    return name[:200] or "layer"


class NetworkBuilder:
    """Adds layers one at a time, computing each output shape with the kind's rule; every failure is a
    located problem that names the model's layer."""

    def __init__(self, source: str, input_shape: tuple[int, ...]):
        self.source = source
        self.input_shape = input_shape
        self.layers: list[ImportedLayer] = []
        self.shapes: dict[str, tuple[int, ...]] = {INPUT_NAME: input_shape}
        self.used_names: set[str] = {INPUT_NAME}
        self.problems: list[Problem] = []

    def unique(self, wanted: str) -> str:
        name = layer_name(wanted)
        if name.lower() in ("yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"):
            name += "_"
        candidate, count = name, 1
        while candidate in self.used_names:
            count += 1
            candidate = f"{name}_{count}"
        self.used_names.add(candidate)
        return candidate

    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes[name]

    def add(self, kind_name: str, params: dict[str, Any], inputs: tuple[str, ...], wanted_name: str,
            location: Location, origin: str = "", floors: bool = True) -> str | None:
        """Add a layer; its name (made unique), or None when it cannot be computed (a problem is recorded).
        `floors`: the framework floors sizes that do not divide (ONNX, Caffe convolutions), so `round: floor`
        is written where that happens."""
        if len(self.layers) >= MAX_IMPORTED_LAYERS:
            raise SpecError([Problem(location, f"the model has more than {MAX_IMPORTED_LAYERS:,} layers; "
                                               "cnncalc refuses models that large")])
        kind = REGISTRY[kind_name]
        name = self.unique(wanted_name)
        shapes = tuple((source, self.shapes[source]) for source in inputs)
        try:
            shape = self._compute(kind, params, shapes)
            if shape is None and floors and kind.param("round") is not None:
                params = dict(params, round="floor")
                shape = self._compute(kind, params, shapes)
            if shape is None:
                ctx = LayerContext()
                self._compute(kind, params, shapes, ctx)
                raise LayerFailure(ctx.problems[0][0] if ctx.problems else "cannot be computed")
        except LayerFailure as failure:
            self.problems.append(Problem(location, f"{origin or kind_name} '{wanted_name}': {failure.message}",
                                         layer=name))
            return None
        self.shapes[name] = shape
        self.layers.append(ImportedLayer(name, kind_name, params, inputs, location, origin, shape))
        return name

    @staticmethod
    def _compute(kind, params, shapes, ctx: LayerContext | None = None) -> tuple[int, ...] | None:
        ctx = ctx or LayerContext()
        resolved = kind.resolve(params)
        if kind.max_inputs > 1:
            if len(shapes) < 2:
                raise LayerFailure(f"{kind.name} needs two or more inputs")
            computed = kind.compute_merge(resolved, shapes, ctx)
        else:
            computed = kind.compute(resolved, shapes[0][1], ctx)
        if any(severity == "error" for _, _, severity in ctx.problems):
            return None
        return computed.output_shape

    def set_param(self, name: str, key: str, value: Any) -> None:
        """Change a parameter of a layer already added (a bias found after a MatMul); its shape is unchanged."""
        for index in range(len(self.layers) - 1, -1, -1):
            if self.layers[index].name == name:
                layer = self.layers[index]
                self.layers[index] = layer._replace(params=dict(layer.params, **{key: value}))
                return
        raise KeyError(name)


def to_templates(network: ImportedNetwork) -> list:
    """The network as the spec of templates the YAML reader makes: one named layer template each, `from:` given."""
    from ..expand import LayerTemplate

    templates = []
    for layer in network.layers:
        template = LayerTemplate(layer.location, REGISTRY[layer.kind], name=layer.name, name_location=layer.location,
                                 sources=tuple((source, layer.location) for source in layer.inputs))
        template.params.update(layer.params)
        template.param_locations.update({key: layer.location for key in layer.params})
        templates.append(template)
    return templates


def to_spec(network: ImportedNetwork):
    """The network expanded into a Spec, exactly as a YAML spec is; raises SpecError."""
    from ..expand import Expander
    from ..spec import Spec

    if not network.layers:
        raise SpecError([Problem(network.location, "the model has no layers cnncalc can read")])
    expander = Expander(network.source)
    layers = expander.run(to_templates(network))
    errors = [p for p in expander.problems if p.is_error]
    if errors:
        raise SpecError(errors)
    warnings = tuple(network.notes) + tuple(expander.problems)
    return Spec(name=network.name, source=network.source, input_shape=network.input_shape, layers=layers,
                location=network.location, input_location=network.location, warnings=warnings)
