"""PyTorch modules for the kinds of networks after 2016, one per computed layer, for the autograd oracle of
test_memory.py: plain torch.nn where it has the module, the exporter's helper classes (the same source
`cnncalc export torch` writes) where it has none."""

from __future__ import annotations

from functools import reduce
from operator import mul

from cnncalc.export import torch_helpers as exporter


def helper(torch, source: str, name: str):
    namespace = {"torch": torch, "nn": torch.nn}
    exec(source, namespace)
    return namespace[name]


def modern_module(torch, layer):
    """The module for one layer of a kind added after 2016, or None for the other kinds."""
    nn = torch.nn
    p, ndim, channels = layer.params, len(layer.input_shape) - 1, layer.input_shape[0]
    activations = {"relu6": nn.ReLU6, "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid, "silu": nn.SiLU,
                   "mish": nn.Mish}
    if layer.kind in activations:
        return activations[layer.kind](inplace=True)
    if layer.kind == "prelu":
        return nn.PReLU(channels if p["slopes"] == "channel" else 1)
    if layer.kind == "mul":
        return lambda *xs: reduce(mul, xs)
    if layer.kind in ("adaptiveavgpool", "adaptivemaxpool"):
        pools = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d) if layer.kind == "adaptiveavgpool" \
            else (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
        return pools[ndim - 1](p["size"])
    if layer.kind == "layernorm":
        return helper(torch, exporter.LAYER_NORM_HELPER, "ChannelLayerNorm")(channels, eps=p["eps"],
                                                                              elementwise_affine=p["affine"])
    if layer.kind == "groupnorm":
        return nn.GroupNorm(p["groups"], channels, eps=p["eps"], affine=p["affine"])
    if layer.kind == "instancenorm":
        return (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[ndim - 1](channels, eps=p["eps"],
                                                                                 affine=p["affine"])
    if layer.kind == "scale":
        return helper(torch, exporter.SCALE_HELPER, "Scale")(channels, ndim)
    if layer.kind == "channelshuffle":
        return nn.ChannelShuffle(p["groups"])
    if layer.kind == "chunk":
        return helper(torch, exporter.CHUNK_HELPER, "Chunk")(p["chunks"], int(p["index"]))
    if layer.kind == "pixelshuffle":
        return nn.PixelShuffle(p["factor"])
    if layer.kind == "pixelunshuffle":
        return nn.PixelUnshuffle(p["factor"])
    if layer.kind == "patchify":
        return helper(torch, exporter.PATCHIFY_HELPER, "Patchify")(channels, p["dim"], p["patch"], ndim, p["bias"])
    if layer.kind == "classtoken":
        return helper(torch, exporter.CLASS_TOKEN_HELPER, "ClassToken")(channels)
    if layer.kind == "posembed":
        return helper(torch, exporter.POSITION_HELPER, "PositionEmbedding")(channels, layer.input_shape[1])
    if layer.kind == "attention":
        dim = p["dim"] or channels
        return helper(torch, exporter.ATTENTION_HELPER, "SelfAttention")(channels, p["heads"], dim, p["bias"])
    if layer.kind == "selecttoken":
        return helper(torch, exporter.SELECT_TOKEN_HELPER, "SelectToken")()
    if layer.kind == "fc" and len(layer.input_shape) == 2 and type(layer.input_shape).__name__ == "Tokens":
        return helper(torch, exporter.TOKEN_LINEAR_HELPER, "TokenLinear")(channels, p["units"], bias=p["bias"])
    if layer.kind == "conv" and type(layer.input_shape).__name__ == "Tokens":
        return nn.Conv1d(channels, p["filters"], 1, groups=p["groups"], bias=p["bias"])
    return None


MODERN_ORACLE_SPECS = [
    """input: [4, 9, 8]
layers:
  - conv: {filters: 8, kernel: 3, padding: 1}
  - relu6
  - {name: body, hardswish}
  - adaptiveavgpool: 1
  - conv: {filters: 4, kernel: 1}
  - silu
  - conv: {filters: 8, kernel: 1}
  - {name: gate, hardsigmoid}
  - mul:
    from: [body, gate]
  - mish
  - prelu
  - groupnorm: 4
  - conv: {filters: 8, kernel: 1}
  - instancenorm: {affine: true}
  - conv: {filters: 8, kernel: 1}
  - instancenorm
  - layernorm
  - scale
  - channelshuffle: 2
  - {name: whole, identity}
  - chunk: {chunks: 2, index: 1}
  - conv: {filters: 4, kernel: 1}
  - {name: half, chunk: {chunks: 2, index: 0}, from: whole}
  - concat:
    from: [half, conv4]
  - pixelshuffle: 2
  - prelu: one
  - pixelunshuffle: 2
  - adaptiveavgpool: [4, 3]
  - adaptivemaxpool: 2
  - adaptiveavgpool: 1
  - fc: 5
""",
    """input: [3, 8, 12]
layers:
  - patchify: {dim: 16, patch: 4}
  - classtoken
  - posembed
  - name: block
    branches:
      - [layernorm, attention: 4]
      - []
    merge: add
  - layernorm
  - attention: {heads: 2, dim: 8, bias: false}
  - fc: 32
  - gelu
  - conv: {filters: 16, kernel: 1}
  - selecttoken
  - fc: 3
""",
]
