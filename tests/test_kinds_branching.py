"""Kinds added for branching networks (deconv, upsample, pad, identity, add, concat), each against values
worked out by hand from the formulas in the PyTorch documentation."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError


def report(text: str):
    return analyze(parse_text(text, "t.yaml"))


def layers(text: str):
    return {layer.name: layer for layer in report(text).layers}


def error_messages(text: str):
    with pytest.raises(SpecError) as caught:
        report(text)
    return [(p.location.line, p.location.column, p.message) for p in caught.value.errors]


def test_deconv_doubles_with_kernel_2_stride_2():
    layer = layers("input: [64, 14, 14]\nlayers:\n  - deconv: {filters: 32, kernel: 2, stride: 2}\n")["deconv1"]
    assert layer.output_shape == (32, 28, 28)  # (14 − 1)·2 − 0 + 1·(2 − 1) + 0 + 1
    assert layer.weight_count == 64 * 32 * 2 * 2  # PyTorch's weight: (C_in, C_out/groups, kH, kW)
    assert layer.bias_count == 32
    assert layer.macs == 64 * 14 * 14 * 32 * 2 * 2  # every input value times the whole kernel
    field = layer.receptive_field  # each output reads exactly one input pixel: an exact 1, not a bound
    assert (field.size, field.jump, field.bound) == ((1, 1), (Fraction(1, 2), Fraction(1, 2)), False)


def test_deconv_output_padding_and_its_limit():
    layer = layers("input: [8, 14, 14]\nlayers:\n"
                   "  - deconv: {filters: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}\n")["deconv1"]
    assert layer.output_shape == (8, 28, 28)  # 13·2 − 2 + 2 + 1 + 1
    (problem,) = error_messages("input: [8, 14, 14]\nlayers:\n"
                                "  - deconv: {filters: 8, kernel: 3, stride: 2, output_padding: 2}\n")
    assert "output_padding 2 must be smaller than the stride 2 or the dilation 1" in problem[2]


def test_upsample_by_scale_and_to_size():
    result = layers("input: [3, 14, 10]\nlayers:\n  - upsample: 2\n  - upsample: {size: [56, 30], mode: bilinear}\n")
    assert result["up1"].output_shape == (3, 28, 20)
    assert result["up2"].output_shape == (3, 56, 30)
    assert result["up1"].receptive_field.jump == (Fraction(1, 2), Fraction(1, 2))
    assert not result["up1"].receptive_field.bound  # nearest: each output copies one input
    assert result["up2"].receptive_field.bound
    assert result["up1"].param_count == result["up1"].macs == 0
    (problem,) = error_messages("input: [3, 8, 8]\nlayers:\n  - upsample: {mode: nearest}\n")
    assert "give exactly one of 'scale' (a factor) and 'size' (the output size)" in problem[2]


def test_asymmetric_pad_moves_the_receptive_field_start():
    layer = layers("input: [3, 8, 10]\nlayers:\n  - pad: {before: [1, 0], after: [2, 3]}\n")["pad1"]
    assert layer.output_shape == (3, 11, 13)
    assert layer.receptive_field.start == (-1, 0)
    assert layer.receptive_field.size == (1, 1)


def test_identity_adds_no_tensor():
    result = report("input: [3, 8, 8]\nlayers:\n  - identity\n  - relu\n")
    assert result.totals.activations == 3 * 8 * 8  # the input only: identity and relu make no new tensor


def test_add_needs_equal_shapes_and_shows_both():
    (problem,) = error_messages("input: [4, 8, 8]\nlayers:\n  - conv: {filters: 8, kernel: 1}\n"
                                "  - add:\n    from: [conv1, input]\n")
    assert problem[:2] == (4, 5)
    assert "'conv1' gives 8×8×8 and 'input' gives 8×8×4" in problem[2]


def test_concat_sums_channels_and_needs_equal_spatial_sizes():
    result = layers("input: [4, 8, 8]\nlayers:\n  - conv: {filters: 6, kernel: 1}\n"
                    "  - concat:\n    from: [conv1, input]\n")
    assert result["concat1"].output_shape == (10, 8, 8)
    (problem,) = error_messages("input: [4, 8, 8]\nlayers:\n  - maxpool: 2\n  - concat:\n    from: [pool1, input]\n")
    assert "'pool1' gives 4×4×4 and 'input' gives 8×8×4" in problem[2]


def test_merge_of_a_single_input_and_multi_input_conv_are_errors():
    (problem,) = error_messages("input: [4, 8, 8]\nlayers:\n  - add\n")
    assert "add merges two or more inputs" in problem[2]
    (problem,) = error_messages("input: [4, 8, 8]\nlayers:\n  - relu\n  - conv: {filters: 4, kernel: 1}\n"
                                "    from: [relu1, input]\n")
    assert "conv takes one input, but 'from' names 2" in problem[2]


def test_two_branches_with_different_kernels_the_larger_wins():
    result = layers("input: [4, 8, 8]\nlayers:\n  - branches:\n"
                    "      - [conv: {filters: 4, kernel: 3, padding: 1}]\n"
                    "      - [conv: {filters: 4, kernel: 5, padding: 2}]\n    merge: concat\n")
    field = result["concat1"].receptive_field
    assert (field.size, field.jump, field.start, field.note) == ((5, 5), (1, 1), (-2, -2), "")


def test_paths_not_centred_alike_are_said_so():
    result = layers("input: [4, 8, 8]\nlayers:\n  - branches:\n"
                    "      - [conv: {filters: 4, kernel: 3, padding: 1}]\n"
                    "      - [pad: {before: 1, after: 0}, conv: {filters: 4, kernel: 2}]\n    merge: add\n")
    merge = result["add1"]
    assert merge.receptive_field.size == (3, 3)  # union of [−1, 2) and [−1, 1)
    assert "paths are not centred alike (centres -1/2 vs 0)" in merge.receptive_field.note
    assert any("receptive field: paths are not centred alike" in note for note in merge.notes)


def test_paths_with_different_jumps_are_said_so():
    result = layers("input: [4, 8, 8]\nlayers:\n  - branches:\n"
                    "      - [maxpool: 2, pad: 2]\n      - []\n    merge: add\n")
    assert "paths disagree on jump (1 vs 2)" in result["add1"].receptive_field.note
