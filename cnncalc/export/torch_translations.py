"""Each kind's translation to PyTorch: one entry in TRANSLATIONS, a function from the layer (its resolved
parameters and its input and output shapes) to the attribute's constructor and the forward call, so a
new kind, branching ones included, is one function and one entry. A kind with no module of its own in
torch.nn (a merge such as add or concat) brings a small helper class in `helpers`, so that every layer
stays an attribute that forward hooks can see:

    Translation("Concat(dim=1)", "{module}({inputs})",
                helpers=("class Concat(nn.Module):\n    def __init__(self, dim: int) -> None: ...",))
"""

from typing import Any, Callable, Mapping, NamedTuple

from ..kinds.base import is_tokens, per_dim
from ..kinds.conv import resolve_padding
from ..problems import Problem, SpecError
from ..spec import LayerSpec
from .torch_helpers import (ATTENTION_HELPER, CHUNK_HELPER, CLASS_TOKEN_HELPER, LAYER_NORM_HELPER, MUL_HELPER, PATCHIFY_HELPER,
                            POSITION_HELPER, SCALE_HELPER, SELECT_TOKEN_HELPER, TOKEN_LINEAR_HELPER)

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
