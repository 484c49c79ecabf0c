"""The engine: the receptive-field recurrence, totals and their conventions, and how errors are collected."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.engine import MAX_TENSOR_VALUES, _beyond_limit, analyze, receptive_field_step
from cnncalc.kinds import Window
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError
from cnncalc.report import ReceptiveField

from .conftest import SPECS


def run(text: str, **options):
    return analyze(parse_text(text, "t.yaml"), **options)


def test_receptive_field_recurrence():
    """r += (F − 1)·j; start −= P·j; j ·= S, per dim (Araujo, Norris & Sim, Distill 2019)."""
    field = ReceptiveField(size=(3, 1), jump=(2, 1), start=(-1, 0))
    step = receptive_field_step(field, (Window(kernel=3, stride=2, pad_before=1), Window(kernel=1, stride=1, pad_before=0)))
    assert step == ReceptiveField(size=(3 + 2 * 2, 1), jump=(4, 1), start=(-1 - 1 * 2, 0))
    assert receptive_field_step(field, None) is field  # pointwise layers change nothing


_VALUES = st.one_of(st.integers(-40, 40), st.sampled_from([MAX_TENSOR_VALUES, -MAX_TENSOR_VALUES, 10**20]),
                    st.fractions(max_denominator=12).filter(lambda v: abs(v) < 100))
_JUMPS = st.one_of(st.integers(1, 8), st.integers(1, 8), st.sampled_from([10**18, 10**35, MAX_TENSOR_VALUES]),
                   st.fractions(min_value=Fraction(1, 12), max_value=8, max_denominator=12))
_WINDOWS = st.builds(Window, kernel=st.integers(1, 9), stride=st.one_of(st.integers(1, 4), st.just(10**20)),
                     pad_before=st.integers(-3, 4), upsample=st.sampled_from([1, 1, 1, 1, 2, 3, Fraction(3, 2)]),
                     bound=st.booleans())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([1, 2, 2, 2, 3]).flatmap(lambda ndim: st.tuples(
    st.builds(ReceptiveField, st.lists(_VALUES, min_size=ndim, max_size=ndim).map(tuple),
              st.lists(_JUMPS, min_size=ndim, max_size=ndim).map(tuple),
              st.lists(_VALUES, min_size=ndim, max_size=ndim).map(tuple), st.booleans(), st.sampled_from(["", "n"]),
              st.none()),
    st.lists(_WINDOWS, min_size=ndim, max_size=ndim).map(tuple))))
def test_the_receptive_field_step_is_the_recurrence_in_fractions(case):
    """The step, whole numbers kept whole where it can, gives what the recurrence gives worked in Fractions."""
    field, windows = case
    if _beyond_limit(field):
        return  # analyze steps only from fields within the limit
    stepped = receptive_field_step(field, windows)
    for d, w in enumerate(windows):
        jump = Fraction(field.jump[d]) / w.upsample
        assert stepped.size[d] == field.size[d] + (w.kernel - 1) * jump
        assert stepped.start[d] == field.start[d] - w.pad_before * jump
        assert stepped.jump[d] == jump * w.stride
        if w.upsample == 1 and all(type(v) is int for v in (field.size[d], field.start[d], field.jump[d])):
            assert all(type(v) is int for v in (stepped.size[d], stepped.start[d], stepped.jump[d]))  # no Fraction
    assert stepped.bound == (field.bound or any(w.bound for w in windows))


@pytest.mark.parametrize("spatial", ["1", "1, 1", "1, 1, 1"])
def test_receptive_field_limit_in_every_dimensionality(spatial):
    """A stride of 10^36 is legal once; the second makes the jump 10^72."""
    with pytest.raises(SpecError) as caught:
        run(f"input: [1, {spatial}]\nlayers:\n  - repeat: 3\n    layers: [{{maxpool: {{kernel: 1, stride: {10**36}}}}}]\n")
    assert [(p.location.line, p.message) for p in caught.value.problems] == [
        (4, "maxpool 'pool2': its receptive field passes cnncalc's limit of 10^36 (strides and upsampling multiply layer "
            "after layer)")]


def test_vgg16_activations_against_the_lecture_column():
    """The classic VGG16 memory column, summed by hand: the input, 13 conv outputs, 5 pools, 3 fc outputs.

    The notes call it 24M; it is 15,237,608. cnncalc adds the final softmax's new 1,000 values.
    """
    lecture = (224 * 224 * 3
               + 2 * 224 * 224 * 64 + 112 * 112 * 64
               + 2 * 112 * 112 * 128 + 56 * 56 * 128
               + 3 * 56 * 56 * 256 + 28 * 28 * 256
               + 3 * 28 * 28 * 512 + 14 * 14 * 512
               + 3 * 14 * 14 * 512 + 7 * 7 * 512
               + 4096 + 4096 + 1000)
    assert lecture == 15_237_608
    totals = analyze(parse_file(SPECS / "vgg16.yaml")).totals
    assert totals.input_activations == 150_528
    assert totals.activations == lecture + 1000
    assert totals.activation_bytes == 4 * (lecture + 1000)  # float32
    assert totals.rule_of_thumb_bytes == 2 * 4 * (lecture + 1000)  # the lecture's ×2, labelled as such
    # what backward keeps (the figure `memory` prints): the lecture's values without fc3's output (the
    # softmax keeps its own), as 4-byte values, plus the pools' int64 indices and the dropout masks
    pools = 112 * 112 * 64 + 56 * 56 * 128 + 28 * 28 * 256 + 14 * 14 * 512 + 7 * 7 * 512
    assert [(g.what, g.values, g.bytes_per_value) for g in totals.kept] == [
        ("activations", lecture, 4), ("indices", pools, 8), ("mask", 2 * 4096, 1)]
    assert totals.training_activation_bytes == 4 * lecture + 8 * pools + 2 * 4096


def test_in_place_layers_add_no_memory():
    """conv 8×8×4 = 256 new values; relu and dropout work in place, flatten is a view; sigmoid makes 256 more."""
    report = run("input: [1, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 1}\n  - relu\n  - dropout\n"
                 "  - sigmoid\n  - flatten\n")
    assert report.totals.activations == 64 + 256 + 256


@pytest.mark.parametrize(("dtype", "size"), [("float32", 4), ("float16", 2), ("bfloat16", 2), ("float64", 8), ("int8", 1)])
def test_bytes_follow_the_dtype_and_batch(dtype, size):
    report = run(f"input: [3, 4, 4]\ndtype: {dtype}\nlayers:\n  - conv: {{filters: 2, kernel: 3}}\n", batch=5)
    values = 3 * 4 * 4 + 2 * 2 * 2  # input 48, conv output 8
    params = (3 * 3 * 3) * 2 + 2  # 56
    t = report.totals
    assert (t.activations, t.params) == (values, params)
    assert (t.activation_bytes, t.rule_of_thumb_bytes) == (values * size, 2 * values * size)
    assert (t.batch_activation_bytes, t.batch_rule_of_thumb_bytes) == (5 * values * size, 10 * values * size)
    # the conv keeps its input (48 values): what backward keeps
    assert (t.training_activation_bytes, t.batch_training_activation_bytes) == (48 * size, 5 * 48 * size)
    assert t.param_bytes == params * size
    assert t.batch_macs == 5 * t.macs == 5 * (2 * 2 * 2 * 3 * 9)


def test_shares_of_vgg16():
    """fc layers: 102,764,544 + 16,781,312 + 4,097,000 = 123,642,856 of 138,357,544 params = 89.4%."""
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    shares = {s.category: s for s in report.shares}
    assert shares["fc"].params == 123_642_856
    assert shares["fc"].params_percent == pytest.approx(100 * 123_642_856 / 138_357_544)
    assert shares["conv"].params + shares["fc"].params == report.totals.params
    assert shares["conv"].macs + shares["fc"].macs == report.totals.macs
    assert sum(s.activations for s in report.shares) + report.totals.input_activations == report.totals.activations


def test_every_non_fitting_stride_is_reported():
    """(11 − 3)/3 + 1 = 3.67, carried on as 3; then (3 − 2)/2 + 1 = 1.5: both are reported."""
    with pytest.raises(SpecError) as caught:
        run("input: [1, 11, 11]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n  - maxpool: {kernel: 2}\n")
    assert [(p.layer, p.location.line) for p in caught.value.problems] == [("conv1", 3), ("pool1", 4)]


def test_a_layer_that_cannot_be_computed_stops_what_depends_on_it():
    """conv1's kernel does not fit at all; nothing after it has an input, so only conv1 is reported."""
    with pytest.raises(SpecError) as caught:
        run("input: [1, 3, 3]\nlayers:\n  - conv: {filters: 1, kernel: 5}\n  - conv: {filters: 1, kernel: 9}\n")
    assert [p.layer for p in caught.value.problems] == ["conv1"]


def test_floor_turns_errors_into_warnings():
    report = run("input: [1, 7, 7]\nlayers:\n  - conv: {filters: 1, kernel: 3, stride: 3}\n", floor=True)
    assert report.layers[0].output_shape == (1, 2, 2)  # floor((7 − 3)/3) + 1
    assert [w.severity for w in report.warnings] == ["warning"]
    assert report.floor is True


def test_inference_peak_through_branches_by_hand():
    report = run("input: [4, 8, 8]\nlayers:\n  - branches:\n      - [conv: {filters: 8, kernel: 1}]\n"
                 "      - [conv: {filters: 8, kernel: 3, padding: 1}]\n    merge: concat\n")
    # input 256, held by the caller throughout; conv1 runs: 256 + 512; conv2 runs: 256 + 512 + 512;
    # concat runs: 256 + 512 + 512 + 1,024 = 2,304, the peak.
    assert (report.totals.inference_peak, report.totals.inference_peak_layer) == (2304, "concat1")
    assert report.totals.activations == 256 + 512 + 512 + 1024  # training keeps every tensor
