"""Each layer kind's rules against values computed by hand, most of them from the lecture notes.

Shapes: (N + 2P − D·(F − 1) − 1)/S + 1; params: (F·F·C_in/groups)·filters + filters; MACs as in
test_macs_reference.py. Every expected number here is worked out in the comment beside it.
"""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.kinds import REGISTRY
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError


def run(text: str, **options):
    return analyze(parse_text(text, "t.yaml"), **options)


def one_layer(input_shape: str, layer: str, **options):
    """The single layer of a spec with this input."""
    (result,) = run(f"input: {input_shape}\nlayers:\n  - {layer}\n", **options).layers
    return result


def error(text: str):
    """The one error a spec produces."""
    with pytest.raises(SpecError) as caught:
        run(text)
    (problem,) = caught.value.problems
    return problem


# -- conv ---------------------------------------------------------------------------------------------

def test_lecture_conv_keeps_size_with_padding_2():
    """32×32×3, ten 5×5 filters, stride 1, pad 2: (32 − 5 + 2·2)/1 + 1 = 32; (5·5·3)·10 + 10 = 760."""
    layer = one_layer("[3, 32, 32]", "conv: {filters: 10, kernel: 5, stride: 1, padding: 2}")
    assert layer.output_shape == (10, 32, 32)
    assert (layer.weight_count, layer.bias_count, layer.param_count) == (750, 10, 760)


def test_alexnet_conv1():
    """227×227×3, 96 11×11 filters, stride 4: (227 − 11)/4 + 1 = 55; (11·11·3)·96 + 96 = 34,944."""
    layer = one_layer("[3, 227, 227]", "conv: {filters: 96, kernel: 11, stride: 4}")
    assert layer.output_shape == (96, 55, 55)
    assert (layer.weight_count, layer.param_count) == (34_848, 34_944)
    assert layer.macs == 96 * 55 * 55 * 3 * 11 * 11  # 105,415,200


def test_stride_that_does_not_fit_is_a_located_error():
    """7×7 input, 3×3 filter, stride 3: (7 − 3)/3 + 1 = 2.33; padding 1 gives (7 − 3 + 2)/3 + 1 = 3."""
    problem = error("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n")
    assert (problem.location.line, problem.location.column) == (3, 5)
    assert problem.message.startswith("conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer")
    assert "padding 1 gives 3" in problem.message
    assert "stride 2 gives 3" in problem.message  # (7 − 3)/2 + 1 = 3


def test_non_fitting_width_names_the_dim():
    """7×8 with 3×3/2: height (7 − 3)/2 + 1 = 3 fits, width (8 − 3)/2 + 1 = 3.5 does not."""
    problem = error("input: [1, 7, 8]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 2}\n")
    assert "width: (8 − 3 + 2·0)/2 + 1 = 3.5 is not an integer" in problem.message
    assert "height" not in problem.message


def test_floor_drops_pixels_with_a_warning():
    """(34 − 3)/2 + 1 = 16.5 floors to 16, as PyTorch does; the last pixel is never covered."""
    report = run("input: [3, 34, 34]\nlayers:\n  - conv: {filters: 4, kernel: 3, stride: 2}\n", floor=True)
    assert report.layers[0].output_shape == (4, 16, 16)
    (warning,) = report.warnings
    assert warning.severity == "warning"
    assert "(34 − 3 + 2·0)/2 + 1 = 16.5 floored to 16" in warning.message


def test_three_3x3_convs_see_7x7():
    """Each 3×3 stride-1 conv adds 2: 3, 5, 7."""
    report = run("input: [8, 32, 32]\nlayers:\n" + "  - conv: {filters: 8, kernel: 3, padding: 1}\n" * 3)
    assert [layer.receptive_field.size for layer in report.layers] == [(3, 3), (5, 5), (7, 7)]
    assert report.layers[-1].receptive_field.jump == (1, 1)
    assert report.layers[-1].receptive_field.start == (-3, -3)  # each padding of 1 reaches one pixel further out


@pytest.mark.parametrize(("size", "expected", "pads"), [
    (224, 112, "0/1"),  # out = ceil(224/2) = 112; padding (112 − 1)·2 + 3 − 224 = 1: none before, 1 after
    (225, 113, "1/1"),  # out = ceil(225/2) = 113; padding 112·2 + 3 − 225 = 2: 1 before, 1 after
])
def test_same_padding_stride_2_even_and_odd(size, expected, pads):
    layer = one_layer(f"[3, {size}, {size}]", "conv: {filters: 8, kernel: 3, stride: 2, padding: same}")
    assert layer.output_shape == (8, expected, expected)
    assert layer.notes == (f"same padding: {pads}, {pads} (before/after)",)
    before = int(pads.split("/")[0])
    assert layer.receptive_field.start == (-before, -before)


def test_same_padding_even_kernel_puts_the_odd_pixel_after():
    """4-tap kernel, stride 1 on 7: out 7, padding 6 + 4 − 7 = 3: 1 before, 2 after."""
    layer = one_layer("[1, 7]", "conv: {filters: 1, kernel: 4, padding: same}")
    assert layer.output_shape == (1, 7)
    assert layer.notes == ("same padding: 1/2 (before/after)",)


def test_valid_padding_is_zero():
    layer = one_layer("[1, 9, 9]", "conv: {filters: 1, kernel: 3, padding: valid}")
    assert layer.output_shape == (1, 7, 7)


def test_dilation():
    """3×3 dilated by 2 spans 5: (32 − 2·(3 − 1) − 1)/1 + 1 = 28; the receptive field is 5."""
    layer = one_layer("[4, 32, 32]", "conv: {filters: 8, kernel: 3, dilation: 2}")
    assert layer.output_shape == (8, 28, 28)
    assert layer.receptive_field.size == (5, 5)
    assert layer.param_count == (3 * 3 * 4) * 8 + 8  # dilation adds no weights
    assert layer.macs == 8 * 28 * 28 * 4 * 3 * 3


def test_dilation_that_does_not_fit_shows_the_dilated_formula():
    """(10 − 2·(3 − 1) − 1)/2 + 1 = 3.5."""
    problem = error("input: [1, 10, 10]\nlayers:\n  - conv: {filters: 1, kernel: 3, dilation: 2, stride: 2}\n")
    assert "(10 + 2·0 − 2·(3 − 1) − 1)/2 + 1 = 3.5 is not an integer" in problem.message


def test_grouped_conv():
    """64 → 128 channels in 2 groups: each filter sees 32 channels: (3·3·32)·128 + 128 = 36,992."""
    layer = one_layer("[64, 8, 8]", "conv: {filters: 128, kernel: 3, padding: 1, groups: 2}")
    assert layer.fan_in == (3, 3, 32)
    assert (layer.weight_count, layer.bias_count) == (36_864, 128)
    assert layer.macs == 128 * 8 * 8 * 32 * 3 * 3  # 2,359,296
    assert layer.description == "conv 3×3/1, p1, 128, g2"


def test_depthwise_conv():
    """32 channels, 32 groups: one 3×3 filter per channel: 3·3·32 + 32 = 320 (MobileNet's depthwise layer)."""
    layer = one_layer("[32, 112, 112]", "conv: {filters: 32, kernel: 3, padding: 1, groups: 32}")
    assert layer.param_count == 320
    assert layer.macs == 3 * 3 * 32 * 112 * 112  # D_K·D_K·M·D_F·D_F, the MobileNet paper's depthwise cost
    assert layer.description == "conv 3×3/1, p1, 32, depthwise"


def test_groups_must_divide_the_channels():
    problem = error("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3, groups: 2}\n")
    assert (problem.location.line, problem.location.column) == (3, 43)  # at the groups value
    assert "groups 2 must divide both the input channels (3) and the filters (4)" in problem.message


def test_conv_1d():
    """A 100-sample signal with 4 channels, 8 filters of 4 taps, stride 2: (100 − 4)/2 + 1 = 49; 4·4·8 + 8 = 136."""
    layer = one_layer("[4, 100]", "conv: {filters: 8, kernel: 4, stride: 2}")
    assert layer.output_shape == (8, 49)
    assert layer.param_count == 136
    assert layer.macs == 8 * 49 * 4 * 4


def test_conv_3d_c3d_conv1a():
    """C3D's conv1a (Tran et al., 2015): 16 frames of 112×112×3, 64 3×3×3 filters, pad 1: (3·3·3·3)·64 + 64 = 5,248."""
    layer = one_layer("[3, 16, 112, 112]", "conv: {filters: 64, kernel: 3, padding: 1}")
    assert layer.output_shape == (64, 16, 112, 112)
    assert layer.param_count == 5_248
    assert layer.macs == 64 * 16 * 112 * 112 * 3 * 27
    assert layer.receptive_field.size == (3, 3, 3)


def test_per_dim_kernel():
    """A 1×7 kernel (Inception): height unchanged, width (17 − 7 + 2·3)/1 + 1 = 17; (1·7·64)·64 + 64 = 28,736."""
    layer = one_layer("[64, 17, 17]", "conv: {filters: 64, kernel: [1, 7], padding: [0, 3]}")
    assert layer.output_shape == (64, 17, 17)
    assert layer.param_count == 28_736
    assert layer.receptive_field.size == (1, 7)


def test_per_dim_list_must_match_the_input_dims():
    problem = error("input: [1, 10]\nlayers:\n  - conv: {filters: 1, kernel: [3, 3]}\n")
    assert (problem.location.line, problem.location.column) == (3, 32)
    assert problem.message.endswith("'kernel' has 2 values but the input has 1 spatial dim; give one int")


def test_no_bias():
    layer = one_layer("[3, 8, 8]", "conv: {filters: 4, kernel: 3, bias: false}")
    assert (layer.weight_count, layer.bias_count) == (108, 0)


def test_kernel_larger_than_the_input():
    problem = error("input: [1, 3, 3]\nlayers:\n  - conv: {filters: 1, kernel: 5}\n")
    assert (problem.location.line, problem.location.column) == (3, 32)  # at the kernel value
    assert "kernel 5 is larger than the padded input 3" in problem.message


def test_padding_can_make_room_for_a_large_kernel():
    """(3 − 5 + 2·1)/1 + 1 = 1."""
    layer = one_layer("[1, 3, 3]", "conv: {filters: 1, kernel: 5, padding: 1}")
    assert layer.output_shape == (1, 1, 1)


def test_dilated_kernel_larger_than_the_input():
    """3 taps dilated by 2 span 5 > 4."""
    problem = error("input: [1, 4, 4]\nlayers:\n  - conv: {filters: 1, kernel: 3, dilation: 2}\n")
    assert "dilated kernel 5 (2·(3 − 1) + 1) is larger than the padded input 4" in problem.message


def test_size_shrinking_to_nothing_is_an_error():
    """4 → 2 → 1, and a third 2×2 pool has nothing to pool."""
    with pytest.raises(SpecError) as caught:
        run("input: [1, 4, 4]\nlayers:\n  - maxpool: 2\n  - maxpool: 2\n  - maxpool: 2\n")
    (problem,) = caught.value.problems
    assert problem.layer == "pool3"
    assert "kernel 2 is larger than the padded input 1" in problem.message


def test_conv_needs_a_volume():
    problem = error("input: [3, 8, 8]\nlayers:\n  - flatten\n  - conv: {filters: 1, kernel: 1}\n")
    assert problem.location.line == 4
    assert "needs a volume" in problem.message and "vector of 192" in problem.message


# -- pooling ------------------------------------------------------------------------------------------

def test_maxpool_halves():
    """VGG's 2×2/2 pool: 224 → 112, channels kept, no params, no MACs; receptive field +1, jump ×2."""
    layer = one_layer("[64, 224, 224]", "maxpool: {kernel: 2, stride: 2}")
    assert layer.output_shape == (64, 112, 112)
    assert (layer.param_count, layer.macs) == (0, 0)
    assert (layer.receptive_field.size, layer.receptive_field.jump) == ((2, 2), (2, 2))


def test_pool_stride_defaults_to_the_kernel():
    assert one_layer("[1, 9, 9]", "avgpool: 3").output_shape == (1, 3, 3)


def test_overlapping_pool_alexnet():
    """3×3/2 on 55: (55 − 3)/2 + 1 = 27."""
    assert one_layer("[96, 55, 55]", "maxpool: {kernel: 3, stride: 2}").output_shape == (96, 27, 27)


def test_ceil_mode_rounds_up():
    """ZFNet: 3×3/2 on 110: (110 − 3)/2 + 1 = 54.5 → 55; the last window starts at 108 < 110."""
    layer = one_layer("[96, 110, 110]", "maxpool: {kernel: 3, stride: 2, ceil_mode: true}")
    assert layer.output_shape == (96, 55, 55)


def test_ceil_mode_drops_a_window_starting_past_the_input():
    """1×1/3 on 14: ceil((14 − 1)/3) + 1 = 6, but the 6th window would start at 5·3 = 15 ≥ 14: PyTorch gives 5."""
    layer = one_layer("[1, 14, 14]", "maxpool: {kernel: 1, stride: 3, ceil_mode: true}")
    assert layer.output_shape == (1, 5, 5)


def test_ceil_mode_drops_a_window_starting_in_the_right_padding():
    """2×2/2, pad 1, on 5: ceil((5 + 2 − 2)/2) + 1 = 4, but the 4th window would start at 3·2 = 6 ≥ 5 + 1
    (past the input and the left padding, inside the right padding only): PyTorch gives 3."""
    layer = one_layer("[1, 5, 5]", "avgpool: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}")
    assert layer.output_shape == (1, 3, 3)


def test_ceil_mode_keeps_a_window_starting_inside_the_input():
    """3×3/2, pad 1, on 6: ceil((6 + 2 − 3)/2) + 1 = 4; the 4th window starts at 6 < 6 + 1: kept."""
    layer = one_layer("[1, 6, 6]", "maxpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}")
    assert layer.output_shape == (1, 4, 4)


def test_pool_padding_over_half_the_kernel_is_refused():
    """PyTorch: pad should be at most half of the effective kernel size."""
    problem = error("input: [1, 8, 8]\nlayers:\n  - maxpool: {kernel: 3, padding: 2}\n")
    assert (problem.location.line, problem.location.column) == (3, 35)
    assert "padding 2 is more than half the kernel 3" in problem.message


def test_pool_padding_of_half_the_kernel_is_allowed():
    """3×3/1, pad 1 keeps the size (Inception's pool branch)."""
    assert one_layer("[8, 9, 9]", "maxpool: {kernel: 3, stride: 1, padding: 1}").output_shape == (8, 9, 9)


def test_global_pools():
    for kind in ("globalavgpool", "globalmaxpool"):
        layer = one_layer("[2048, 7, 7]", kind)
        assert layer.output_shape == (2048, 1, 1)
        assert (layer.param_count, layer.macs) == (0, 0)
        assert layer.receptive_field.size == (7, 7)


# -- fc and flatten -----------------------------------------------------------------------------------

def test_fc_on_a_volume_connects_to_all_of_it():
    """VGG16 fc6: 7·7·512 = 25,088 inputs; 25,088·4,096 + 4,096 = 102,764,544."""
    layer = one_layer("[512, 7, 7]", "fc: 4096")
    assert layer.output_shape == (4096,)
    assert (layer.weight_count, layer.bias_count) == (102_760_448, 4_096)
    assert layer.macs == 102_760_448
    assert layer.notes == ("flattened 7×7×512 = 25,088 inputs",)


def test_fc_on_a_vector():
    """4,096 → 1,000: 4,096·1,000 + 1,000 = 4,097,000."""
    layer = one_layer("[4096]", "fc: 1000")
    assert (layer.param_count, layer.macs) == (4_097_000, 4_096_000)
    assert layer.receptive_field.size == ()


def test_fc_without_bias():
    layer = one_layer("[10]", "fc: {units: 3, bias: false}")
    assert (layer.weight_count, layer.bias_count) == (30, 0)


def test_flatten_is_a_view():
    layer = one_layer("[512, 7, 7]", "flatten")
    assert layer.output_shape == (25_088,)
    assert layer.new_tensor is False
    assert layer.param_count == 0


# -- element-wise, normalisation ----------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "in_place"), [
    ("relu", True), ("leakyrelu", True), ("dropout", True),
    ("sigmoid", False), ("tanh", False), ("gelu", False), ("softmax", False),
])
def test_elementwise_keep_the_shape(kind, in_place):
    layer = one_layer("[16, 5, 5]", kind)
    assert layer.output_shape == (16, 5, 5)
    assert (layer.param_count, layer.non_trainable_count, layer.macs) == (0, 0, 0)
    assert layer.new_tensor is not in_place
    assert layer.receptive_field.size == (1, 1)


def test_batchnorm_2c_trainable_2c_running_statistics():
    """64 channels: scale and shift (64 + 64 = 128 params), running mean and variance (128, non-trainable)."""
    layer = one_layer("[64, 56, 56]", "batchnorm")
    assert (layer.weight_count, layer.bias_count, layer.trainable_count) == (64, 64, 128)
    assert layer.non_trainable_count == 128
    assert layer.output_shape == (64, 56, 56)
    assert layer.macs == 0


def test_batchnorm_without_affine_has_only_statistics():
    layer = one_layer("[64, 8, 8]", "batchnorm: {affine: false}")
    assert (layer.param_count, layer.non_trainable_count) == (0, 128)


def test_batchnorm_on_a_vector():
    layer = one_layer("[256]", "batchnorm")
    assert (layer.param_count, layer.non_trainable_count) == (512, 512)


def test_lrn_keeps_the_shape():
    layer = one_layer("[96, 55, 55]", "lrn: {size: 5, alpha: 0.0001, beta: 0.75, k: 2}")
    assert layer.output_shape == (96, 55, 55)
    assert (layer.param_count, layer.macs) == (0, 0)


def test_lrn_needs_a_volume():
    """PyTorch's LocalResponseNorm normalises across channels of a volume and refuses a vector."""
    problem = error("input: [16]\nlayers:\n  - lrn\n")
    assert "needs a volume" in problem.message


# -- the suggestions in the error ---------------------------------------------------------------------

def test_suggestions_are_the_nearest_that_fit():
    """Against brute force: the padding nearest the written one (the smaller on ties) making
    n + 2P − F_eff divisible by S, and the divisor of the span nearest the written stride."""
    from cnncalc.kinds.base import _nearest_padding, _nearest_stride

    for n in range(1, 30):
        for eff in range(1, 12):
            for s in range(1, 7):
                for p in range(0, 5):
                    fits = [c for c in range(0, 100) if n + 2 * c - eff >= 0 and (n + 2 * c - eff) % s == 0 and c != p]
                    expected = min(fits, key=lambda c: (abs(c - p), c)) if fits else None
                    assert _nearest_padding(n, eff, s, p) == expected, (n, eff, s, p)
    for span in range(1, 200):
        for s in range(1, 30):
            divisors = [c for c in range(1, span + 1) if span % c == 0 and c != s]
            expected = min(divisors, key=lambda c: (abs(c - s), c)) if divisors else None
            assert _nearest_stride(span, s) == expected, (span, s)


def test_suggestions_for_huge_sizes_are_instant():
    """A size of 10¹⁸ or a stride of 10²⁰ is arithmetic, not a search (this once overflowed)."""
    problem = error("input: [1, 1000000000000000002]\nlayers:\n  - conv: {filters: 1, kernel: 2, stride: 3}\n")
    assert "= 333333333333333334.33 is not an integer; padding 1 gives 333333333333333335" in problem.message
    problem = error("input: [1, 8]\nlayers:\n  - maxpool: {kernel: 3, stride: 100000000000000000000}\n")
    assert "is not an integer" in problem.message


def test_a_non_integer_never_reads_as_one():
    """(4 − 3)/1000 + 1 = 1.001, not '1' (two decimals would round it to a whole number)."""
    problem = error("input: [1, 4]\nlayers:\n  - maxpool: {kernel: 3, stride: 1000}\n")
    assert "(4 − 3 + 2·0)/1000 + 1 = 1.001 is not an integer" in problem.message


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_the_generated_every_kind_spec_holds_each_kind_that_takes_its_dims(ndim):
    """tests/every_kind.py writes one layer of every registered kind that declares `ndim` among its dims, each
    reading the `ndim`-D input, and the spec computes without error (PyTorch checks the numbers:
    test_torch_crosscheck.py)."""
    from .every_kind import every_kind_text

    report = run(every_kind_text(ndim))
    expected = {name for name, kind in REGISTRY.items() if ndim in kind.dims}
    assert {layer.kind for layer in report.layers} == expected
    assert len(report.layers) == len(expected) and expected
    for layer in report.layers:
        assert len(layer.input_shape) == ndim + 1, layer.name


def test_a_kind_declared_as_an_instance_names_its_layers_and_refuses_unknown_attributes():
    """An activation that differs from its class in words only is an instance of it: its layers are named from
    its auto_prefix (the kind's name unless given), and a misspelt attribute is refused, not silently kept."""
    from cnncalc.kinds.elementwise import InPlaceCopy

    report = run("input: [4, 8, 8]\nlayers:\n  - silu\n  - hardswish\n  - silu\n")
    assert [layer.name for layer in report.layers] == ["silu1", "hswish1", "silu2"]
    assert [layer.kind for layer in report.layers] == ["silu", "hardswish", "silu"]
    with pytest.raises(TypeError, match="no attribute 'sumary'"):
        InPlaceCopy(name="swish", sumary="x·σ(x)")
