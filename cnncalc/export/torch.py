"""Spec → the Python source of an equivalent PyTorch `nn.Module`. Pure: returns text, never imports torch.

The module has one attribute per layer, named like the layer, and a forward that follows each layer's
`inputs`. Each kind's translation is one entry in TRANSLATIONS: a function from the layer (its resolved
parameters and its input and output shapes) to the attribute's constructor and the forward call, so a
new kind, branching ones included, is one function and one entry. A kind with no module of its own in
torch.nn (a merge such as add or concat) brings a small helper class in `helpers`, so that every layer
stays an attribute that forward hooks can see:

    Translation("Concat(dim=1)", "{module}({inputs})",
                helpers=("class Concat(nn.Module):\n    def __init__(self, dim: int) -> None: ...",))
"""

import keyword
import re
from typing import Any, Callable, Mapping, NamedTuple

from ..engine import analyze
from ..kinds import REGISTRY
from ..kinds.base import is_tokens, per_dim
from .torch_helpers import (ATTENTION_HELPER, CHUNK_HELPER, CLASS_TOKEN_HELPER, LAYER_NORM_HELPER, MUL_HELPER, PATCHIFY_HELPER,
                            POSITION_HELPER, SCALE_HELPER, SELECT_TOKEN_HELPER, TOKEN_LINEAR_HELPER)
from ..kinds.conv import resolve_padding
from ..problems import Problem, SpecError
from ..render.safe import visible
from ..spec import INPUT_NAME, LayerSpec, Spec

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


class TorchLayer(NamedTuple):
    """What a translation sees: one layer with its resolved parameters and shapes (channels first, no batch)."""

    spec: LayerSpec
    params: Mapping[str, Any]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    exclusive_input: bool  # the first input is used by this layer alone and may be overwritten (in place)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_shapes[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.input_shape[1:]

    @property
    def ndim(self) -> int:
        """Spatial dims of the input: 1, 2 or 3 (0 for a vector)."""
        return len(self.input_shape) - 1

    def sizes(self, name: str) -> tuple[int, ...]:
        return per_dim(self.params[name], self.ndim, name)


class Translation(NamedTuple):
    """One layer in PyTorch: the attribute's constructor and the forward expression.

    `call` is formatted with `module` (the attribute, `self.conv1`), `inputs` (every input variable,
    comma-separated) and the inputs by position (`{0}`, `{1}`, ...).
    """

    module: str
    call: str = "{module}({0})"
    helpers: tuple[str, ...] = ()  # class definitions the module needs, emitted once before the network


class TorchExport(NamedTuple):
    """The generated source, its class name, each layer's attribute name, and the engine's warnings."""

    source: str
    class_name: str
    attributes: Mapping[str, str]
    warnings: tuple[Problem, ...] = ()


def _arg(values: tuple[int, ...]) -> str:
    """One int when every dim agrees, else a tuple: 3 or (3, 1)."""
    if len(set(values)) == 1:
        return str(values[0])
    return "(" + ", ".join(str(v) for v in values) + ")"


def _call(constructor: str, *args: str, **options: Any) -> str:
    """`nn.X(arg, ..., key=value, ...)`, leaving out options given as None."""
    parts = list(args) + [f"{key}={value}" for key, value in options.items() if value is not None]
    return f"{constructor}({', '.join(parts)})"


def _unless(value: str, default: str) -> str | None:
    return None if value == default else value


def _float(value: float) -> str:
    """A number parameter as a float literal: 2 → '2.0', 0.0001 → '0.0001'."""
    return repr(float(value))


def conv(layer: TorchLayer) -> Translation:
    """nn.Conv{n}d; TensorFlow's uneven 'same' padding becomes an nn.ConstantPad{n}d before it."""
    n = layer.ndim
    k, s, d = layer.sizes("kernel"), layer.sizes("stride"), layer.sizes("dilation")
    pads = resolve_padding(layer.params["padding"], layer.spatial, k, s, d)
    even = all(before == after for before, after in pads)
    module = _call(
        f"nn.Conv{n}d", str(layer.input_shape[0]), str(layer.params["filters"]),
        kernel_size=_arg(k),
        stride=_unless(_arg(s), "1"),
        padding=_unless(_arg(tuple(before for before, _ in pads)), "0") if even else None,
        dilation=_unless(_arg(d), "1"),
        groups=_unless(str(layer.params["groups"]), "1"),
        bias=None if layer.params["bias"] else "False",
    )
    if not even:  # F.pad lists the last dim first: (left, right, top, bottom, front, back)
        amounts = ", ".join(f"{before}, {after}" for before, after in reversed(pads))
        order = ("left, right", "top, bottom", "front, back")[:n]
        module = (f"nn.Sequential(  # 'same' as TensorFlow pads it: the odd pixel after\n"
                  f"    nn.ConstantPad{n}d(({amounts}), 0.0),  # ({', '.join(order)})\n"
                  f"    {module},\n"
                  f")")
    return Translation(module)


def dwconv(layer: TorchLayer) -> Translation:
    """A conv with groups = C_in and filters = C_in·multiplier, as PyTorch writes depthwise convolutions."""
    channels = layer.input_shape[0]
    params = dict(layer.params, filters=channels * layer.params["multiplier"], groups=channels)
    return conv(layer._replace(params=params))


def deconv(layer: TorchLayer) -> Translation:
    """nn.ConvTranspose{n}d."""
    return Translation(_call(
        f"nn.ConvTranspose{layer.ndim}d", str(layer.input_shape[0]), str(layer.params["filters"]),
        kernel_size=_arg(layer.sizes("kernel")),
        stride=_unless(_arg(layer.sizes("stride")), "1"),
        padding=_unless(_arg(layer.sizes("padding")), "0"),
        output_padding=_unless(_arg(layer.sizes("output_padding")), "0"),
        groups=_unless(str(layer.params["groups"]), "1"),
        bias=None if layer.params["bias"] else "False",
        dilation=_unless(_arg(layer.sizes("dilation")), "1"),
    ))


def pool(layer: TorchLayer) -> Translation:
    """nn.MaxPool{n}d / nn.AvgPool{n}d with PyTorch's own ceil_mode."""
    kind = "MaxPool" if layer.spec.kind == "maxpool" else "AvgPool"
    k = layer.sizes("kernel")
    s = layer.sizes("stride") if layer.params["stride"] is not None else k
    return Translation(_call(
        f"nn.{kind}{layer.ndim}d",
        kernel_size=_arg(k),
        stride=_arg(s),
        padding=_unless(_arg(layer.sizes("padding")), "0"),
        ceil_mode="True" if layer.params["ceil_mode"] else None,
    ))


def global_pool(layer: TorchLayer) -> Translation:
    kind = "AdaptiveAvgPool" if layer.spec.kind == "globalavgpool" else "AdaptiveMaxPool"
    return Translation(f"nn.{kind}{layer.ndim}d(1)")


def fc(layer: TorchLayer) -> Translation:
    """nn.Linear over every input value; a volume is flattened in forward first; tokens are mapped one by one."""
    if is_tokens(layer.input_shape):
        return Translation(_call("TokenLinear", str(layer.input_shape[0]), str(layer.params["units"]),
                                 bias=None if layer.params["bias"] else "False"), helpers=(TOKEN_LINEAR_HELPER,))
    inputs = 1
    for size in layer.input_shape:
        inputs *= size
    module = _call("nn.Linear", str(inputs), str(layer.params["units"]),
                   bias=None if layer.params["bias"] else "False")
    if layer.ndim:
        return Translation(module, "{module}(torch.flatten({0}, 1))")
    return Translation(module)


_INTERPOLATION = {"nearest": ("nearest",) * 3, "bilinear": ("linear", "bilinear", "trilinear")}


def upsample(layer: TorchLayer) -> Translation:
    """nn.Upsample by a scale factor or to a size; 'bilinear' is linear/bilinear/trilinear by the input's dims."""
    p = layer.params
    mode = _INTERPOLATION[p["mode"]][layer.ndim - 1]
    if p["scale"] is not None:
        scale = layer.sizes("scale")
        factor = _float(scale[0]) if len(set(scale)) == 1 else "(" + ", ".join(_float(f) for f in scale) + ")"
        return Translation(_call("nn.Upsample", scale_factor=factor, mode=repr(mode)))
    return Translation(_call("nn.Upsample", size=_arg(layer.sizes("size")), mode=repr(mode)))


def pad(layer: TorchLayer) -> Translation:
    """nn.ConstantPad{n}d, its amounts listed last dim first: (left, right, top, bottom, front, back)."""
    p = layer.params
    if p["padding"] is not None:
        before = after = layer.sizes("padding")
    else:
        before = per_dim(p["before"] if p["before"] is not None else 0, layer.ndim, "before")
        after = per_dim(p["after"] if p["after"] is not None else 0, layer.ndim, "after")
    amounts = ", ".join(f"{b}, {a}" for b, a in reversed(list(zip(before, after))))
    return Translation(f"nn.ConstantPad{layer.ndim}d(({amounts}), {_float(p['value'])})")


ADD_HELPER = '''\
class Add(nn.Module):
    """The element-wise sum of its inputs (a residual connection)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        total = inputs[0]
        for tensor in inputs[1:]:
            total = total + tensor
        return total
'''

CONCAT_HELPER = '''\
class Concat(nn.Module):
    """Its inputs concatenated along the channels."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)
'''


def _in_place(layer: TorchLayer) -> str | None:
    return "True" if layer.exclusive_input else None


def relu(layer: TorchLayer) -> Translation:
    return Translation(_call("nn.ReLU", inplace=_in_place(layer)))


def leaky_relu(layer: TorchLayer) -> Translation:
    return Translation(_call("nn.LeakyReLU", _float(layer.params["negative_slope"]), inplace=_in_place(layer)))


def batchnorm(layer: TorchLayer) -> Translation:
    """BatchNorm1d for a vector (N, C) or (N, C, L), 2d for (N, C, H, W), 3d for (N, C, D, H, W)."""
    p = layer.params
    return Translation(_call(
        f"nn.BatchNorm{max(layer.ndim, 1)}d", str(layer.input_shape[0]),
        eps=_unless(_float(p["eps"]), "1e-05"),
        momentum=_unless(_float(p["momentum"]), "0.1"),
        affine=None if p["affine"] else "False",
    ))


def lrn(layer: TorchLayer) -> Translation:
    p = layer.params
    return Translation(_call("nn.LocalResponseNorm", str(p["size"]), alpha=_float(p["alpha"]),
                             beta=_float(p["beta"]), k=_float(p["k"])))


def _activation(module: str) -> Callable[[TorchLayer], Translation]:
    """An activation PyTorch can run in place: in place unless another layer reads its input."""
    return lambda layer: Translation(_call(module, inplace=_in_place(layer)))


def prelu(layer: TorchLayer) -> Translation:
    """nn.PReLU(C): one slope per channel (dim 1); nn.PReLU() has one slope."""
    slopes = layer.input_shape[0] if layer.params["slopes"] == "channel" else 1
    return Translation(f"nn.PReLU({slopes})" if slopes != 1 else "nn.PReLU()")


def adaptive_pool(layer: TorchLayer) -> Translation:
    kind = "AdaptiveAvgPool" if layer.spec.kind == "adaptiveavgpool" else "AdaptiveMaxPool"
    return Translation(f"nn.{kind}{layer.ndim}d({_arg(layer.sizes('size'))})")


def layernorm(layer: TorchLayer) -> Translation:
    p = layer.params
    module = _call("ChannelLayerNorm", str(layer.input_shape[0]), eps=_unless(_float(p["eps"]), "1e-05"),
                   elementwise_affine=None if p["affine"] else "False")
    if layer.ndim == 0:  # a vector: the channels are the last dim already
        return Translation(module.replace("ChannelLayerNorm", "nn.LayerNorm", 1))
    return Translation(module, helpers=(LAYER_NORM_HELPER,))


def groupnorm(layer: TorchLayer) -> Translation:
    p = layer.params
    return Translation(_call("nn.GroupNorm", str(p["groups"]), str(layer.input_shape[0]),
                             eps=_unless(_float(p["eps"]), "1e-05"), affine=None if p["affine"] else "False"))


def instancenorm(layer: TorchLayer) -> Translation:
    p = layer.params
    return Translation(_call(f"nn.InstanceNorm{layer.ndim}d", str(layer.input_shape[0]),
                             eps=_unless(_float(p["eps"]), "1e-05"), affine="True" if p["affine"] else None))


def patchify(layer: TorchLayer) -> Translation:
    return Translation(_call("Patchify", str(layer.input_shape[0]), str(layer.params["dim"]),
                             _arg(layer.sizes("patch")), str(layer.ndim),
                             bias=None if layer.params["bias"] else "False"), helpers=(PATCHIFY_HELPER,))


def attention(layer: TorchLayer) -> Translation:
    features = layer.input_shape[0]
    dim = layer.params["dim"] if layer.params["dim"] is not None else features
    return Translation(_call("SelfAttention", str(features), str(layer.params["heads"]), str(dim),
                             bias=None if layer.params["bias"] else "False"), helpers=(ATTENTION_HELPER,))


def _fixed(module: str) -> Callable[[TorchLayer], Translation]:
    return lambda layer: Translation(module)


def _unknown(layer: TorchLayer) -> Translation:
    """An imported operator cnncalc does not know has no PyTorch module to stand for it."""
    raise SpecError([Problem(layer.spec.location, f"unknown '{layer.spec.name}': an operator cnncalc does not know "
                                                  "cannot be exported to PyTorch", layer=layer.spec.path)])


TRANSLATIONS: dict[str, Callable[[TorchLayer], Translation]] = {
    "conv": conv,
    "dwconv": dwconv,
    "deconv": deconv,
    "maxpool": pool,
    "avgpool": pool,
    "globalavgpool": global_pool,
    "globalmaxpool": global_pool,
    "fc": fc,
    "flatten": _fixed("nn.Flatten()"),
    "relu": relu,
    "leakyrelu": leaky_relu,
    "sigmoid": _fixed("nn.Sigmoid()"),
    "tanh": _fixed("nn.Tanh()"),
    "gelu": _fixed("nn.GELU()"),
    "softmax": _fixed("nn.Softmax(dim=1)"),
    "batchnorm": batchnorm,
    "lrn": lrn,
    "dropout": lambda layer: Translation(f"nn.Dropout(p={_float(layer.params['p'])})"),
    "upsample": upsample,
    "pad": pad,
    "identity": _fixed("nn.Identity()"),
    "unknown": _unknown,
    "add": lambda layer: Translation("Add()", "{module}({inputs})", helpers=(ADD_HELPER,)),
    "concat": lambda layer: Translation("Concat()", "{module}({inputs})", helpers=(CONCAT_HELPER,)),
    "mul": lambda layer: Translation("Mul()", "{module}({inputs})", helpers=(MUL_HELPER,)),
    "relu6": _activation("nn.ReLU6"),
    "hardswish": _activation("nn.Hardswish"),
    "hardsigmoid": _activation("nn.Hardsigmoid"),
    "silu": _activation("nn.SiLU"),
    "mish": _activation("nn.Mish"),
    "prelu": prelu,
    "adaptiveavgpool": adaptive_pool,
    "adaptivemaxpool": adaptive_pool,
    "layernorm": layernorm,
    "groupnorm": groupnorm,
    "instancenorm": instancenorm,
    "scale": lambda layer: Translation(f"Scale({layer.input_shape[0]}, {layer.ndim})", helpers=(SCALE_HELPER,)),
    "channelshuffle": lambda layer: Translation(f"nn.ChannelShuffle({layer.params['groups']})"),
    "chunk": lambda layer: Translation(f"Chunk({layer.params['chunks']}, {int(layer.params['index'])})",
                                       helpers=(CHUNK_HELPER,)),
    "pixelshuffle": lambda layer: Translation(f"nn.PixelShuffle({layer.params['factor']})"),
    "pixelunshuffle": lambda layer: Translation(f"nn.PixelUnshuffle({layer.params['factor']})"),
    "patchify": patchify,
    "classtoken": lambda layer: Translation(f"ClassToken({layer.input_shape[0]})", helpers=(CLASS_TOKEN_HELPER,)),
    "posembed": lambda layer: Translation(f"PositionEmbedding({layer.input_shape[0]}, {layer.input_shape[1]})",
                                          helpers=(POSITION_HELPER,)),
    "attention": attention,
    "selecttoken": lambda layer: Translation("SelectToken()", helpers=(SELECT_TOKEN_HELPER,)),
}


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


def torch_export(spec: Spec, *, floor: bool = False) -> TorchExport:
    """Translate `spec`; raises SpecError if it is invalid (or holds a kind with no translation)."""
    report = analyze(spec, floor=floor)
    results = {r.name: r for r in report.layers}
    missing = [layer for layer in spec.layers if layer.kind not in TRANSLATIONS]
    if missing:
        raise SpecError([Problem(layer.location, f"{layer.kind} '{layer.name}': cnncalc cannot export the kind "
                                 f"'{layer.kind}' to PyTorch yet", layer=layer.path) for layer in missing])
    shapes = {INPUT_NAME: spec.input_shape, **{r.name: r.output_shape for r in report.layers}}
    producers = {layer.name: layer for layer in spec.layers}
    last_use: dict[str, int] = {}
    uses: dict[str, int] = {}
    for index, layer in enumerate(spec.layers):
        for name in layer.inputs:
            last_use[name] = index
            uses[name] = uses.get(name, 0) + 1

    known: dict[str, bool] = {}

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

    taken_attributes: set[str] = set()
    taken_variables = {"x"}
    attributes: dict[str, str] = {}
    variables = {INPUT_NAME: "x"}
    init_lines: list[str] = []
    forward_lines: list[str] = []
    helpers: dict[str, None] = {}  # ordered, each once
    for index, layer in enumerate(spec.layers):
        result = results[layer.name]
        torch_layer = TorchLayer(
            spec=layer,
            params=REGISTRY[layer.kind].resolve(layer.params),
            input_shapes=tuple(shapes[name] for name in layer.inputs),
            output_shape=result.output_shape,
            exclusive_input=exclusive(layer.inputs[0]),
        )
        translation = TRANSLATIONS[layer.kind](torch_layer)
        helpers.update(dict.fromkeys(translation.helpers))
        attribute = identifier(layer.name, taken_attributes)
        attributes[layer.name] = attribute
        init_lines.extend(f"self.{attribute} = {translation.module}  # {_shape(result.output_shape)}".split("\n"))
        arguments = [variables[name] for name in layer.inputs]
        call = translation.call.format(*arguments, module=f"self.{attribute}", inputs=", ".join(arguments))
        freed = [variables[name] for name in layer.inputs if last_use[name] == index]
        if freed:  # reuse a variable no later layer reads; 'x' first, so the main path stays 'x' after a merge
            variable = "x" if "x" in freed else freed[0]
        else:  # a branch point: the input is still needed, the branch gets a variable named after its first layer
            variable = identifier(layer.name, taken_variables)
        variables[layer.name] = variable
        forward_lines.append(f"{variable} = {call}")
        dead = [v for v in dict.fromkeys(freed) if v != variable]
        if dead:  # a merge's other inputs: dropped now, as a hand-written forward would, not at return
            forward_lines.append(f"del {', '.join(dead)}")
    name = class_name(spec.name, taken=frozenset(re.findall(r"^class (\w+)", "\n".join(helpers), re.MULTILINE)))
    title = _docstring_text(f"{visible(spec.name)} as a PyTorch module, exported by cnncalc from {visible(spec.source)}.")
    output = spec.layers[-1].name
    body = "\n".join(f"        {line}" for line in init_lines)
    forward = "\n".join(f"        {line}" for line in forward_lines)
    helper_classes = "".join(f"{helper.rstrip()}\n\n\n" for helper in helpers)
    source = f'''"""{title}

Input {_shape(spec.input_shape)}, output {_shape(shapes[output])}; {report.totals.params:,} parameters.
"""

import torch
from torch import nn


{helper_classes}class {name}(nn.Module):
    """One attribute per layer of the spec, each commented with its output shape."""

    def __init__(self) -> None:
        super().__init__()
{body}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
{forward}
        return {variables[output]}
'''
    return TorchExport(source=source, class_name=name, attributes=attributes, warnings=report.warnings)


def torch_source(spec: Spec, *, floor: bool = False) -> str:
    """The Python source of an nn.Module equivalent to `spec` (see torch_export)."""
    return torch_export(spec, floor=floor).source
