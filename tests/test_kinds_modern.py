"""The kinds of networks after 2016 against PyTorch's own modules on random small configurations (1-D, 2-D and
3-D where the kind allows): output shapes and parameter counts equal to torch's, errors where torch raises;
attention's MACs against multiplications counted by naive loops; token kinds and image kinds misused."""

from __future__ import annotations

import random
from itertools import product
from math import prod

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError

from .conftest import torch_or_skip

CASES = 12  # random configurations per kind and number of dims


def run(text: str):
    return analyze(parse_text(text, "t.yaml"))


def one_layer(input_shape, layer: str):
    (result,) = run(f"input: {list(input_shape)}\nlayers:\n  - {layer}\n").layers
    return result


def outcome(input_shape, layer: str):
    """(output shape, params) or the error message."""
    try:
        result = one_layer(input_shape, layer)
    except SpecError as error:
        return "error: " + "; ".join(p.message for p in error.problems)
    return tuple(result.output_shape), result.param_count


def torch_outcome(torch, module, input_shape, *more):
    """(output shape without the batch, params) or the error message torch raises."""
    try:
        module = module() if callable(module) and not isinstance(module, torch.nn.Module) else module
        y = module(torch.zeros(2, *input_shape), *(torch.zeros(2, *m) for m in more))
    except (RuntimeError, ValueError, AssertionError) as error:
        return f"error: {error}"
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()) if isinstance(module, torch.nn.Module) else 0


def same(ours, theirs):
    if isinstance(ours, str) or isinstance(theirs, str):
        assert isinstance(ours, str) and isinstance(theirs, str), (ours, theirs)
    else:
        assert ours == theirs


def shape(rng: random.Random, dims: int, channels: int | None = None, low: int = 1, high: int = 9):
    return (channels or rng.randint(1, 8),) + tuple(rng.randint(low, high) for _ in range(dims))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kind", ["relu6", "hardswish", "hardsigmoid", "silu", "mish", "prelu", "prelu: one"])
def test_activations_keep_the_shape_and_prelu_learns_its_slopes(kind, dims):
    torch = torch_or_skip()
    nn = torch.nn
    rng = random.Random(f"{kind}{dims}")
    for _ in range(CASES):
        x = shape(rng, dims)
        module = {"relu6": nn.ReLU6(), "hardswish": nn.Hardswish(), "hardsigmoid": nn.Hardsigmoid(),
                  "silu": nn.SiLU(), "mish": nn.Mish(), "prelu": nn.PReLU(x[0]), "prelu: one": nn.PReLU()}[kind]
        same(outcome(x, kind), torch_outcome(torch, module, x))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kind", ["adaptiveavgpool", "adaptivemaxpool"])
def test_adaptive_pools_give_torchs_sizes(kind, dims):
    """Any output size, larger than the input too (torch's windows then repeat inputs)."""
    torch = torch_or_skip()
    nn = torch.nn
    rng = random.Random(f"{kind}{dims}")
    pools = {"adaptiveavgpool": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d),
             "adaptivemaxpool": (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)}[kind]
    for _ in range(CASES):
        x = shape(rng, dims, high=20)
        size = tuple(rng.randint(1, 12) for _ in range(dims))
        same(outcome(x, f"{kind}: {list(size)}"), torch_outcome(torch, pools[dims - 1](size), x))


def test_adaptive_windows_are_pytorchs():
    """AlexNet's 13 → 6: windows [floor(13i/6), ceil(13(i + 1)/6)), each 3 wide, overlapping: the average of
    each window, computed by hand, is torch's output."""
    torch = torch_or_skip()
    from cnncalc.kinds.adaptive import adaptive_windows

    windows = adaptive_windows(13, 6)
    assert windows == [(0, 3), (2, 5), (4, 7), (6, 9), (8, 11), (10, 13)]
    x = torch.arange(13.0).reshape(1, 1, 13)
    expected = [sum(range(a, b)) / (b - a) for a, b in windows]
    assert torch.nn.AdaptiveAvgPool1d(6)(x).flatten().tolist() == pytest.approx(expected)
    layer = one_layer((256, 13, 13), "adaptiveavgpool: 6")
    assert layer.output_shape == (256, 6, 6)
    assert layer.receptive_field.bound and "windows of 3" in layer.notes[0]
    exact = one_layer((512, 14, 14), "adaptiveavgpool: 7")  # 2×2 windows, stride 2: exact
    assert exact.receptive_field.size == (2, 2) and not exact.receptive_field.bound


@pytest.mark.parametrize("dims", [0, 1, 2, 3])
def test_norms_and_scale_count_torchs_parameters(dims):
    torch = torch_or_skip()
    nn = torch.nn
    helpers = {}
    from cnncalc.export.torch_helpers import LAYER_NORM_HELPER, SCALE_HELPER

    exec(LAYER_NORM_HELPER + SCALE_HELPER, {"torch": torch, "nn": nn}, helpers)
    rng = random.Random(f"norms{dims}")
    for _ in range(CASES):
        x = shape(rng, dims, channels=rng.randint(1, 12))
        c = x[0]
        groups = rng.randint(1, 6)
        affine = rng.random() < 0.5
        flag = "true" if affine else "false"
        same(outcome(x, f"layernorm: {{affine: {flag}}}"),
             torch_outcome(torch, helpers["ChannelLayerNorm"](c, elementwise_affine=affine), x))
        same(outcome(x, f"groupnorm: {{groups: {groups}, affine: {flag}}}"),
             torch_outcome(torch, lambda: nn.GroupNorm(groups, c, affine=affine), x))
        same(outcome(x, "scale"), torch_outcome(torch, helpers["Scale"](c, dims), x))
        if dims:
            norm = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[dims - 1](c, affine=affine)
            same(outcome(x, f"instancenorm: {{affine: {flag}}}"), torch_outcome(torch, norm, x))


def test_groupnorm_that_does_not_divide_names_a_divisor():
    problem = outcome((12, 4, 4), "groupnorm: 5")
    assert "groups 5 must divide the channels (12); try groups 4" in problem  # 4 and 6 are 1 away: the smaller


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_shuffles_follow_torch(dims):
    """channelshuffle in 1-3 D; pixelshuffle and pixelunshuffle in 2-D only (cnncalc refuses the others)."""
    torch = torch_or_skip()
    nn = torch.nn
    rng = random.Random(f"shuffle{dims}")
    for _ in range(CASES):
        x = shape(rng, dims, channels=rng.randint(1, 16), high=8)
        groups, factor = rng.randint(1, 5), rng.randint(1, 3)
        same(outcome(x, f"channelshuffle: {groups}"), torch_outcome(torch, nn.ChannelShuffle(groups), x))
        if dims == 2:
            same(outcome(x, f"pixelshuffle: {factor}"), torch_outcome(torch, nn.PixelShuffle(factor), x))
            same(outcome(x, f"pixelunshuffle: {factor}"), torch_outcome(torch, nn.PixelUnshuffle(factor), x))
        else:
            assert "works on 2-D volumes C×H×W only" in outcome(x, f"pixelshuffle: {factor}")


@pytest.mark.parametrize("dims", [0, 1, 2, 3])
def test_chunk_is_torchs_chunk(dims):
    """x.chunk(chunks, dim=1)[index] for chunks that divide the channels; a located error otherwise (torch's
    chunk would give unequal parts)."""
    torch = torch_or_skip()
    rng = random.Random(f"chunk{dims}")
    for _ in range(CASES):
        x = shape(rng, dims, channels=rng.choice([2, 4, 6, 12]))
        chunks = rng.choice([1, 2, 3, 4])
        index = rng.randrange(chunks)
        ours = outcome(x, f"chunk: {{chunks: {chunks}, index: {index}}}")
        if x[0] % chunks:
            assert f"chunks {chunks} must divide the channels ({x[0]})" in ours
            continue
        theirs = (tuple(torch.zeros(2, *x).chunk(chunks, dim=1)[index].shape[1:]), 0)
        assert ours == theirs
    assert "index 2 must be a whole number from 0 to 1" in outcome((4, 3), "chunk: {chunks: 2, index: 2}")


def merged(shapes, kind: str):
    layers = "".join(f"  - {{name: in{i}, conv: {{filters: {s[0]}, kernel: 1}}, from: input}}\n"
                     for i, s in enumerate(shapes))
    names = ", ".join(f"in{i}" for i in range(len(shapes)))
    inputs = [(s[0],) + tuple(s[1:]) for s in shapes]
    # the convs keep the input's size: give the input the largest size per dim, and pool the others down
    text = f"input: {list(inputs[0])}\nlayers:\n"
    for i, s in enumerate(inputs):
        text += f"  - {{name: in{i}, adaptiveavgpool: {list(s[1:])}, from: input}}\n"
    text += f"  - {kind}:\n    from: [{names}]\n"
    try:
        report = run(text)
    except SpecError as error:
        return "error: " + error.problems[0].message
    return tuple(report.layers[-1].output_shape), 0


@pytest.mark.parametrize("kind", ["add", "mul"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_add_and_mul_broadcast_as_torch_does(kind, dims):
    """Random shapes with sizes of 1 here and there: torch's broadcast shape, or an error where torch raises."""
    torch = torch_or_skip()
    rng = random.Random(f"{kind}{dims}")
    for _ in range(CASES * 2):
        channels = rng.choice([4, 4, 1])
        full = (4,) + tuple(rng.randint(2, 5) for _ in range(dims))
        others = []
        for _ in range(rng.randint(1, 2)):
            others.append(tuple(rng.choice([n, n, 1, n + 1]) if i else rng.choice([n, 1]) for i, n in enumerate(full)))
        shapes = [full] + others
        ours = merged(shapes, kind)
        operation = (lambda a, b: a + b) if kind == "add" else (lambda a, b: a * b)
        try:
            result = torch.zeros(2, *shapes[0])
            for s in shapes[1:]:
                result = operation(result, torch.zeros(2, *s))
            theirs = (tuple(result.shape[1:]), 0)
        except RuntimeError as error:
            theirs = f"error: {error}"
        same(ours, theirs)
        if isinstance(ours, str):
            assert "do not broadcast" in ours and "gives" in ours
        assert channels  # the channel count was drawn


def test_squeeze_excitation_gate_is_broadcast_over_the_volume():
    """EfficientNet-B0's first block: 112×112×32 times a 1×1×32 gate."""
    report = run("""input: [32, 112, 112]
layers:
  - {name: x, silu}
  - globalavgpool
  - conv: {filters: 8, kernel: 1}
  - silu
  - conv: {filters: 32, kernel: 1}
  - {name: gate, sigmoid}
  - mul:
    from: [x, gate]
""")
    se = report.layers
    assert se[-1].output_shape == (32, 112, 112)
    assert [layer.param_count for layer in se] == [0, 0, 32 * 8 + 8, 0, 8 * 32 + 32, 0, 0]  # 264 + 288 = 552
    assert [layer.macs for layer in se] == [0, 0, 256, 0, 256, 0, 0]
    assert se[-1].notes[0] == "broadcast to 112×112×32: 'gate' 1×1×32"


# -- tokens -------------------------------------------------------------------------------------------

def test_attention_has_nn_multiheadattention_s_parameters():
    """4·D² + 4·D: nn.MultiheadAttention's in_proj (3D×D + 3D) and out_proj (D×D + D); no biases: 4·D²."""
    torch = torch_or_skip()
    rng = random.Random("attention")
    for _ in range(CASES):
        heads = rng.randint(1, 4)
        dim = heads * rng.randint(1, 6)
        length = rng.randint(1, 9)
        bias = rng.random() < 0.5
        mha = torch.nn.MultiheadAttention(dim, heads, bias=bias)
        x = f"[3, {2 * length}]"
        text = (f"input: {x}\nlayers:\n  - patchify: {{dim: {dim}, patch: 2}}\n"
                f"  - attention: {{heads: {heads}, bias: {'true' if bias else 'false'}}}\n")
        layer = run(text).layers[-1]
        assert layer.param_count == sum(p.numel() for p in mha.parameters())
        assert tuple(layer.output_shape) == (dim, length)
        q = torch.zeros(2, length, dim)
        assert tuple(mha(q, q, q, need_weights=False)[0].shape) == (2, length, dim)


def test_heads_that_do_not_divide_are_refused_as_torch_refuses_them():
    torch = torch_or_skip()
    with pytest.raises(AssertionError):
        torch.nn.MultiheadAttention(10, 3)
    assert "heads 3 must divide dim 10" in outcome((3, 4), "patchify: {dim: 10, patch: 2}\n  - attention: 3")


def test_patchify_class_token_and_positions_as_vit():
    """ViT-B/16: 224/16 = 14, 14·14 = 196 patches; (16·16·3)·768 + 768 = 590,592; class token 768; position
    embedding 768·197 = 151,296."""
    report = run("input: [3, 224, 224]\nlayers:\n  - patchify: {dim: 768, patch: 16}\n  - classtoken\n"
                 "  - posembed\n  - selecttoken\n")
    patchify, cls, pos, select = report.layers
    assert (tuple(patchify.output_shape), patchify.param_count) == ((768, 196), 590_592)
    assert patchify.macs == 768 * 196 * 3 * 16 * 16
    assert (tuple(cls.output_shape), cls.param_count) == ((768, 197), 768)
    assert (tuple(pos.output_shape), pos.param_count) == ((768, 197), 151_296)
    assert select.output_shape == (768,) and not select.new_tensor


def test_patch_that_does_not_divide_is_an_error():
    assert "patch 16 does not divide the size 230: 230/16 = 14.38 patches" in outcome(
        (3, 230, 224), "patchify: {dim: 8, patch: 16}")


def naive_attention_multiplications(features: int, length: int, heads: int, dim: int) -> int:
    """Multiplications of self-attention counted one by one: each projection's dot products (Q, K, V from D
    features to dim, the output from dim back to D), then per head every score q_i·k_j and every weighted
    sum Σ_j a_ij·v_j."""
    count = 0
    for _ in range(3):  # Q, K, V
        for _token, _out, _in in product(range(length), range(dim), range(features)):
            count += 1
    width = dim // heads
    for _head in range(heads):
        for _i, _j, _f in product(range(length), range(length), range(width)):  # scores Q·Kᵀ
            count += 1
        for _i, _f, _j in product(range(length), range(width), range(length)):  # A·V
            count += 1
    for _token, _out, _in in product(range(length), range(features), range(dim)):  # output projection
        count += 1
    return count


@pytest.mark.parametrize(("features", "length", "heads", "dim"), [(4, 3, 1, 4), (6, 5, 2, 6), (8, 7, 4, 4),
                                                                  (5, 2, 1, 3)])
def test_attention_macs_are_the_multiplications_counted_by_loops(features, length, heads, dim):
    text = (f"input: [1, {length}]\nlayers:\n  - patchify: {{dim: {features}, patch: 1}}\n"
            f"  - attention: {{heads: {heads}, dim: {dim}}}\n")
    layer = run(text).layers[-1]
    assert layer.macs == naive_attention_multiplications(features, length, heads, dim)
    assert layer.param_count == 4 * features * dim + 3 * dim + features


def test_naive_attention_count_is_what_torch_multiplies():
    """The loops' count is the FLOP counter's for the exported attention (2 FLOPs per multiply-accumulate)."""
    torch = torch_or_skip()
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.export.torch_helpers import ATTENTION_HELPER

    namespace = {"torch": torch, "nn": torch.nn}
    exec(ATTENTION_HELPER, namespace)
    module = namespace["SelfAttention"](6, 2, 4)
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 6, 5))
    assert counter.get_total_flops() // 2 == naive_attention_multiplications(6, 5, 2, 4)


def test_fc_on_tokens_maps_each_token():
    """ViT's MLP: 197 tokens of 768 → 3072: 768·3072 + 3072 weights, 197·768·3072 MACs; as a 1×1 conv."""
    text = "input: [3, 224, 224]\nlayers:\n  - patchify: {dim: 768, patch: 16}\n  - classtoken\n"
    fc = run(text + "  - fc: 3072\n").layers[-1]
    conv = run(text + "  - conv: {filters: 3072, kernel: 1}\n").layers[-1]
    assert tuple(fc.output_shape) == tuple(conv.output_shape) == (3072, 197)
    assert fc.param_count == conv.param_count == 768 * 3072 + 3072
    assert fc.macs == conv.macs == 197 * 768 * 3072


def located_error(text: str):
    with pytest.raises(SpecError) as caught:
        run(text)
    (problem,) = caught.value.problems
    return problem


def test_attention_on_an_image_asks_for_tokens():
    problem = located_error("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, padding: 1}\n"
                            "  - attention: 2\n")
    assert (problem.location.line, problem.location.column) == (4, 5)
    assert problem.message == ("attention 'attn1': attention expects a token sequence [D, L] (features, tokens), but "
                               "its input is a volume 32×32×8; make tokens first with patchify")


@pytest.mark.parametrize("layer", ["maxpool: 2", "avgpool: 2", "adaptiveavgpool: 3", "upsample: 2", "pad: 1",
                                   "pixelshuffle: 2", "channelshuffle: 2", "lrn", "instancenorm",
                                   "deconv: {filters: 4, kernel: 2}"])
def test_image_kinds_on_tokens_say_what_they_expected(layer):
    problem = located_error(f"input: [3, 8, 8]\nlayers:\n  - patchify: {{dim: 8, patch: 4}}\n  - {layer}\n")
    assert problem.location.line == 4
    assert "token sequence [8, 4] (features, tokens)" in problem.message
    assert "expects" in problem.message or "needs" in problem.message


def test_a_conv_on_tokens_must_be_per_token():
    problem = located_error("input: [3, 8, 8]\nlayers:\n  - patchify: {dim: 8, patch: 4}\n"
                            "  - conv: {filters: 8, kernel: 3}\n")
    assert "must be a per-token map: kernel 1, stride 1, no padding (here kernel 3, stride 1)" in problem.message


def test_attention_sees_the_whole_image_once():
    """After the first attention every token sees the 224×224 image; a second attention adds nothing."""
    text = ("input: [3, 224, 224]\nlayers:\n  - patchify: {dim: 64, patch: 16}\n  - attention: 4\n"
            "  - attention: 4\n")
    patchify, first, second = run(text).layers
    assert patchify.receptive_field.size == (16, 16)
    assert first.receptive_field.size == second.receptive_field.size == (224, 224)
    assert first.receptive_field.start == (0, 0)


def test_tokens_are_not_a_1d_volume():
    """[64, 196] tokens and a 1-D volume of 64 channels and 196 positions: layers alike are computed once
    per input shape, and the two must not share an answer."""
    text = ("input: [64, 196]\nlayers:\n  - {name: seq, conv: {filters: 64, kernel: 3, padding: 1}}\n"
            "  - maxpool: {kernel: 3, stride: 1, padding: 1}\n")
    assert run(text).layers[-1].output_shape == (64, 196)
    assert prod(run(text).layers[-1].output_shape) == 64 * 196


def test_a_gate_widens_the_receptive_field_to_the_input_without_changing_its_step():
    """Squeeze-and-excitation on 17×17 after a 3×3/2 conv: the gate (one unit, from the global average) sees
    the whole input, so each product does; neighbouring products are still 2 pixels apart (the volume's jump),
    not the gate's 17 × 2."""
    report = run("""input: [3, 33, 33]
layers:
  - {name: x, conv: {filters: 8, kernel: 3, stride: 2, padding: 1}}
  - globalavgpool
  - conv: {filters: 8, kernel: 1}
  - {name: gate, sigmoid}
  - mul:
    from: [x, gate]
  - conv: {filters: 8, kernel: 3, padding: 1}
""")
    x, gate, product, after = (report.layers[i].receptive_field for i in (0, 3, 4, 5))
    assert (x.size, x.jump, x.start) == ((3, 3), (2, 2), (-1, -1))
    assert gate.size == (35, 35) and gate.start == (-1, -1)  # 3 + 16·2: the 17 units over the padded input
    assert product.jump == (2, 2) and product.size == (35, 35) and product.start == (-1, -1)
    assert after.size == (39, 39) and after.jump == (2, 2)  # + (3 − 1)·2
    assert "disagree" not in report.layers[4].receptive_field.note
