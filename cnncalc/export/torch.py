"""Spec → the Python source of an equivalent PyTorch `nn.Module`. Pure: returns text, never imports torch.

The module has one attribute per layer, named like the layer, and a forward that follows each layer's
`inputs`. Each kind's translation is one entry in TRANSLATIONS (export/torch_translations.py).
"""

import keyword
import re
from typing import Iterator, Mapping, NamedTuple

from ..engine import analyze
from ..kinds import REGISTRY
from ..problems import Problem, SpecError
from ..render.safe import visible
from ..spec import INPUT_NAME, Spec
from .torch_translations import TRANSLATIONS, TorchLayer, Translation  # noqa: F401 - Translation re-exported

# Names an attribute must not take: nn.Module's own methods and attributes (torch 2.x), and the names the
# generated forward uses. A clashing layer name gets a trailing underscore.
RESERVED = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile",
    "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer",
    "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia",
    "named_buffers", "named_children", "named_modules", "named_parameters", "parameters",
    "register_backward_hook", "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_", "set_extra_state",
    "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad", "self", "torch", "nn", "x",
})


class TorchExport(NamedTuple):
    """The generated source, its class name, each layer's attribute name, and the engine's warnings."""

    source: str
    class_name: str
    attributes: Mapping[str, str]
    warnings: tuple[Problem, ...] = ()


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a layer name: other characters become '_'; clashes get a trailing '_'."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not text or text[0].isdigit() or text[0] == "_":
        text = "layer_" + text.lstrip("_")
    while keyword.iskeyword(text) or text in RESERVED or text in taken:
        text += "_"
    taken.add(text)
    return text


def class_name(name: str, taken: frozenset[str] = frozenset()) -> str:
    """'LeNet-5' → 'LeNet5', 'lecture stride example' → 'LectureStrideExample'. A name that a helper class
    of the module already has (a spec named 'add' using the merge add: class Add) gets 'Net' after it."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(word[0].upper() + word[1:] for word in words)
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = "Net" + text
    while text in taken:
        text += "Net"
    return text


def _docstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _shape(shape: tuple[int, ...]) -> str:
    return "(N, " + ", ".join(str(v) for v in shape) + ")"


class _Layers:
    """What every walk over the spec's layers needs: the report, each tensor's shape, who reads it and when."""

    def __init__(self, spec: Spec, floor: bool) -> None:
        self.spec = spec
        self.report = analyze(spec, floor=floor)
        missing = [layer for layer in spec.layers if layer.kind not in TRANSLATIONS]
        if missing:
            raise SpecError([Problem(layer.location, f"{layer.kind} '{layer.name}': cnncalc cannot export the kind "
                                     f"'{layer.kind}' to PyTorch yet", layer=layer.path) for layer in missing])
        self.shapes = {INPUT_NAME: spec.input_shape, **{r.name: r.output_shape for r in self.report.layers}}
        self.producers = {layer.name: layer for layer in spec.layers}
        self.last_use: dict[str, int] = {}
        self.uses: dict[str, int] = {}
        for index, layer in enumerate(spec.layers):
            for name in layer.inputs:
                self.last_use[name] = index
                self.uses[name] = self.uses.get(name, 0) + 1

    def walk(self, named: bool = True):
        """(index, layer, its result, its translation, its attribute name: '' unless `named`) for every layer,
        made afresh at each walk (the export walks three times: helpers, __init__, forward), so that no walk
        keeps them all."""
        known: dict[str, bool] = {}
        uses, producers, shapes = self.uses, self.producers, self.shapes

        def exclusive(name: str) -> bool:
            """Nobody else reads this tensor, nor (through views and in-place layers) the one it aliases.

            Walked back iteratively and remembered: a chain of thousands of in-place layers is linear.
            """
            path = []
            while name not in known:
                if name == INPUT_NAME or uses.get(name, 0) != 1:
                    known[name] = False
                elif not REGISTRY[producers[name].kind].in_place:
                    known[name] = True
                else:
                    path.append(name)
                    name = producers[name].inputs[0]
            for alias in path:
                known[alias] = known[name]
            return known[name]

        taken: set[str] = set()
        for index, (layer, result) in enumerate(zip(self.spec.layers, self.report.layers)):
            torch_layer = TorchLayer(
                spec=layer,
                params=REGISTRY[layer.kind].resolve(layer.params),
                input_shapes=tuple(shapes[name] for name in layer.inputs),
                output_shape=result.output_shape,
                exclusive_input=exclusive(layer.inputs[0]),
            )
            yield (index, layer, result, TRANSLATIONS[layer.kind](torch_layer),
                   identifier(layer.name, taken) if named else "")


def _pieces(layers: _Layers, attributes: dict[str, str] | None = None):
    """The module's source in pieces (a line or a few at a time), and last its class name; `attributes`, when
    given, is filled with each layer's attribute name."""
    spec, report = layers.spec, layers.report
    helpers: dict[str, None] = {}  # ordered, each once
    for _, _, _, translation, _ in layers.walk(named=False):
        helpers.update(dict.fromkeys(translation.helpers))
    name = class_name(spec.name, taken=frozenset(re.findall(r"^class (\w+)", "\n".join(helpers), re.MULTILINE)))
    title = _docstring_text(f"{visible(spec.name)} as a PyTorch module, exported by cnncalc from {visible(spec.source)}.")
    output = spec.layers[-1].name
    helper_classes = "".join(f"{helper.rstrip()}\n\n\n" for helper in helpers)
    yield f'''"""{title}

Input {_shape(spec.input_shape)}, output {_shape(layers.shapes[output])}; {report.totals.params:,} parameters.
"""

import torch
from torch import nn


{helper_classes}class {name}(nn.Module):
    """One attribute per layer of the spec, each commented with its output shape."""

    def __init__(self) -> None:
        super().__init__()
'''
    for _, layer, result, translation, attribute in layers.walk():
        if attributes is not None:
            attributes[layer.name] = attribute
        yield "".join(f"        {line}\n"
                      for line in f"self.{attribute} = {translation.module}  # {_shape(result.output_shape)}".split("\n"))
    yield "\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
    taken_variables = {"x"}
    variables = {INPUT_NAME: "x"}
    last_use = layers.last_use
    for index, layer, _, translation, attribute in layers.walk():
        arguments = [variables[name] for name in layer.inputs]
        call = translation.call.format(*arguments, module=f"self.{attribute}", inputs=", ".join(arguments))
        freed = [variables[name] for name in layer.inputs if last_use[name] == index]
        if freed:  # reuse a variable no later layer reads; 'x' first, so the main path stays 'x' after a merge
            variable = "x" if "x" in freed else freed[0]
        else:  # a branch point: the input is still needed, the branch gets a variable named after its first layer
            variable = identifier(layer.name, taken_variables)
        for used in layer.inputs:  # a tensor no later layer reads needs no entry (1,000,000 layers: a small dict)
            if last_use[used] == index:
                variables.pop(used, None)
        variables[layer.name] = variable
        yield f"        {variable} = {call}\n"
        dead = [v for v in dict.fromkeys(freed) if v != variable]
        if dead:  # a merge's other inputs: dropped now, as a hand-written forward would, not at return
            yield f"        del {', '.join(dead)}\n"
    yield f"        return {variables[output]}\n"
    return name


def torch_export(spec: Spec, *, floor: bool = False) -> TorchExport:
    """Translate `spec`; raises SpecError if it is invalid (or holds a kind with no translation)."""
    layers = _Layers(spec, floor)
    attributes: dict[str, str] = {}
    pieces = _pieces(layers, attributes)
    parts = []
    while True:
        try:
            parts.append(next(pieces))
        except StopIteration as done:
            name = done.value
            break
    return TorchExport(source="".join(parts), class_name=name, attributes=attributes, warnings=layers.report.warnings)


def torch_pieces(spec: Spec, *, floor: bool = False) -> tuple[tuple[Problem, ...], Iterator[str]]:
    """The engine's warnings, and the source torch_export makes as pieces to write one after another (a spec
    of 1,000,000 layers is never one string). Raises SpecError (before any piece) if the spec is invalid."""
    layers = _Layers(spec, floor)
    return layers.report.warnings, _pieces(layers)


def torch_source(spec: Spec, *, floor: bool = False) -> str:
    """The Python source of an nn.Module equivalent to `spec` (see torch_export)."""
    return torch_export(spec, floor=floor).source
