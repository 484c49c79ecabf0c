"""`cnncalc compare` against the lecture's arithmetic, hand-worked bottlenecks and each spec's own totals."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.cli import main
from cnncalc.engine import analyze
from cnncalc.parser import parse_file
from cnncalc.compare import (
    MAX_STACK_LAYERS,
    ExpressionError,
    Polynomial,
    StackSettings,
    compare_stacks,
    fit_quadratic,
    parse_expression,
)
from cnncalc.render.compare import polynomial_text, verdict_text

from .conftest import SPECS, TEST_SPECS, torch_or_skip

VGG16 = str(SPECS / "vgg16.yaml")
SMALL = str(TEST_SPECS / "small_cnn.yaml")
BAD = str(TEST_SPECS / "bad_stride.yaml")


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def cli_json(*args: str) -> dict:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stacks(expression: str, **settings):
    channels_allowed = settings.get("channels") is not None
    return compare_stacks(parse_expression(expression, channels_allowed), StackSettings(**settings))


# -- the lecture's numbers ------------------------------------------------------------------------------


def test_three_3x3_against_one_7x7():
    # Three 3×3 convs, C → C each: 3·(3·3·C·C) = 27C² weights; one 7×7: 7·7·C·C = 49C².
    # Receptive field of the stack: 1 + 3·(3 − 1) = 7, the same as the 7×7's.
    small, large = stacks("3x3x3 vs 7x7").stacks
    assert small.params.formula == Polynomial(27, 0, 0)
    assert large.params.formula == Polynomial(49, 0, 0)
    assert small.receptive_field == large.receptive_field == (7, 7)
    assert (small.nonlinearities, large.nonlinearities) == (3, 1)
    assert (small.depth, large.depth) == (3, 1)


def test_one_5x5_against_two_3x3():
    # 5·5·C·C = 25C² against 2·(3·3·C·C) = 18C²; both see 5×5 (1 + 2·(3 − 1) = 5).
    large, small = stacks("5x5 vs 3x3x2").stacks
    assert large.params.formula == Polynomial(25, 0, 0)
    assert small.params.formula == Polynomial(18, 0, 0)
    assert large.receptive_field == small.receptive_field == (5, 5)


def test_lecture_numbers_through_the_cli():
    document = cli_json("compare", "3x3x3", "vs", "7x7")
    first, second = document["stacks"]
    assert (first["params_formula"], second["params_formula"]) == ("27C²", "49C²")
    assert first["params"] is None and second["params"] is None  # symbolic C: no number
    assert first["receptive_field"] == second["receptive_field"] == [7, 7]
    assert (first["nonlinearities"], second["nonlinearities"]) == (3, 1)
    assert document["verdicts"][0]["text"] == (
        "3x3x3 vs 7x7: same 7×7 receptive field with 55% of the params and 3 non-linearities instead of 1")
    assert document["verdicts"][0]["params_ratio"] == pytest.approx(27 / 49)


def test_verdict_line_in_the_table():
    result = cli("compare", "3x3x3", "vs", "7x7", "--no-color")
    assert result.exit_code == 0, result.output
    assert "3x3x3 vs 7x7: same 7×7 receptive field with 55% of the params and 3 non-linearities instead of 1" in result.output
    assert "27C²" in result.output and "49C²" in result.output


def test_verdict_with_different_receptive_fields():
    # 3x3x3: 27C², RF 7; 5x5x2: 2·25 = 50C², RF 1 + 2·4 = 9; 27/50 = 54%.
    comparison = stacks("3x3x3 vs 5x5x2 vs 7x7")
    against_5x5, against_7x7 = comparison.verdicts
    assert against_5x5.params_ratio == Fraction(27, 50)
    assert verdict_text(against_5x5) == ("3x3x3 vs 5x5x2: a smaller receptive field (7×7 instead of 9×9) "
                                         "with 54% of the params and 3 non-linearities instead of 2")
    assert against_7x7.params_ratio == Fraction(27, 49)


def test_symbolic_verdict_with_biases_compares_the_c_squared_terms():
    # 27C² + 3C against 49C² + C: the ratio depends on C, so the verdict gives 27/49 "for large C";
    # at C = 64 it is exact: (27·64² + 3·64)/(49·64² + 64) = 110,784/200,768.
    (symbolic,) = stacks("3x3x3 vs 7x7", bias=True).verdicts
    assert symbolic.asymptotic and symbolic.params_ratio == Fraction(27, 49)
    assert "55% of the params for large C" in verdict_text(symbolic)
    (numeric,) = stacks("3x3x3 vs 7x7", bias=True, channels=64).verdicts
    assert not numeric.asymptotic
    assert numeric.params_ratio == Fraction(27 * 64**2 + 3 * 64, 49 * 64**2 + 64) == Fraction(110_784, 200_768)


# -- bottlenecks, by hand ------------------------------------------------------------------------------


def test_resnet_bottleneck_against_a_3x3_at_256_channels():
    # ResNet's bottleneck at C = 256: 1×1 256→64: 256·64 = 16,384; 3×3 64→64: 9·64·64 = 36,864;
    # 1×1 64→256: 64·256 = 16,384; total 69,632. One 3×3 256→256: 9·256·256 = 589,824.
    bottleneck, plain = stacks("1x1@64,3x3,1x1@256 vs 3x3", channels=256).stacks
    assert [layer.params.value for layer in bottleneck.layers] == [16_384, 36_864, 16_384]
    assert [(layer.in_channels, layer.out_channels) for layer in bottleneck.layers] == [(256, 64), (64, 64), (64, 256)]
    assert bottleneck.params.value == 16_384 + 36_864 + 16_384 == 69_632
    assert plain.params.value == 9 * 256 * 256 == 589_824
    assert bottleneck.receptive_field == plain.receptive_field == (3, 3)
    # With biases: one per filter, 64 + 64 + 256 = 384 more.
    with_bias, _ = stacks("1x1@64,3x3,1x1@256 vs 3x3", channels=256, bias=True).stacks
    assert with_bias.params.value == 69_632 + 384


def test_inception_5x5_reduction_on_28x28x192():
    # GoogLeNet's 5×5 branch on 28×28×192 with 32 filters: 28·28·32·(5·5·192) = 120,422,400 MACs;
    # with a 1×1 reduction to 16 first: 28·28·16·192 + 28·28·32·(5·5·16) = 2,408,448 + 10,035,200 = 12,443,648.
    reduced, direct = stacks("1x1@16,5x5@32 vs 5x5@32", channels=192, input_size=28).stacks
    assert direct.macs.value == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    assert reduced.macs.value == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16 == 12_443_648
    assert reduced.params.value == 192 * 16 + 5 * 5 * 16 * 32 == 15_872
    assert direct.params.value == 5 * 5 * 192 * 32 == 153_600
    assert reduced.output_size == direct.output_size == (28, 28)


def test_per_layer_channels_need_a_channel_count():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("3x3 vs 1x1@64,3x3")
    assert caught.value.position == len("3x3 vs 1x1")
    assert "--channels" in caught.value.message


# -- symbolic and numeric agree -------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3, 7, 64, 256, 1000])
def test_symbolic_formula_and_engine_numbers_agree(channels):
    comparison = stacks("3x3x3 vs 7x7 vs 1x1,3x3,1x1", channels=channels, bias=True, input_size=32)
    hand = {  # weights Σ Kh·Kw·C², biases one C per layer; MACs per position = the weights
        "3x3x3": (27 * channels**2 + 3 * channels, 27 * channels**2),
        "7x7": (49 * channels**2 + channels, 49 * channels**2),
        "1x1,3x3,1x1": (11 * channels**2 + 3 * channels, 11 * channels**2),
    }
    assert [result.stack.text for result in comparison.stacks] == list(hand)
    for result in comparison.stacks:
        params, per_position = hand[result.stack.text]
        assert result.params.value == result.params.formula.at(channels) == params
        assert result.macs_per_position.value == result.macs_per_position.formula.at(channels) == per_position
        # 'same' padding on 32×32: every layer writes 32·32 positions.
        assert result.macs.value == result.macs.formula.at(channels) == per_position * 32 * 32
        assert result.activations.value == result.activations.formula.at(channels) == result.depth * 32 * 32 * channels


def test_symbolic_json_has_no_numbers_and_numeric_json_has_them():
    symbolic = cli_json("compare", "3x3x3", "--bias")["stacks"][0]
    assert symbolic["params"] is None and symbolic["macs_per_position"] is None
    assert symbolic["params_formula"] == "27C² + 3C"
    assert symbolic["params_coefficients"] == [27, 3, 0]
    numeric = cli_json("compare", "3x3x3", "--bias", "--channels", "10")["stacks"][0]
    assert numeric["params"] == 27 * 100 + 3 * 10
    assert numeric["params_formula"] == "27C² + 3C"


def test_fit_quadratic_recovers_exact_coefficients():
    assert fit_quadratic([p := 5 * c * c - 3 * c + 11 for c in (1, 2, 3, 4)]) == Polynomial(5, -3, 11)
    assert p == 5 * 16 - 12 + 11
    with pytest.raises(ArithmeticError):
        fit_quadratic([c**3 for c in (1, 2, 3, 4)])  # a cubic is caught at C = 4


def test_polynomial_text():
    assert polynomial_text(Polynomial(27, 0, 0)) == "27C²"
    assert polynomial_text(Polynomial(27, 3, 0)) == "27C² + 3C"
    assert polynomial_text(Polynomial(1, 1, 0)) == "C² + C"
    assert polynomial_text(Polynomial(0, 64, 53_248)) == "64C + 53,248"
    assert polynomial_text(Polynomial(0, 0, 0)) == "0"


# -- options -------------------------------------------------------------------------------------------


def test_stride_applies_to_the_first_layer():
    # Stride 2 on the first 3×3: RF 3, jump 2; the next two add (3 − 1)·2 each: 3 + 4 + 4 = 11.
    small, large = stacks("3x3x3 vs 7x7", stride=2, input_size=224).stacks
    assert (small.receptive_field, small.jump) == ((11, 11), (2, 2))
    assert (large.receptive_field, large.jump) == ((7, 7), (2, 2))
    assert small.output_size == large.output_size == (112, 112)  # 'same': ceil(224/2)
    assert small.macs.formula == Polynomial(27 * 112 * 112, 0, 0)


def test_dilation_applies_to_every_layer():
    # Dilation 2: a 3×3 spans 2·(3 − 1) + 1 = 5, so three give 1 + 3·4 = 13; a 7×7 spans 2·6 + 1 = 13.
    small, large = stacks("3x3x3 vs 7x7", dilation=2).stacks
    assert small.receptive_field == large.receptive_field == (13, 13)
    assert small.params.formula == Polynomial(27, 0, 0)  # dilation adds no weights


def test_valid_padding_shrinks_each_layer():
    # No padding on 224: three 3×3 give 222, 220, 218; one 7×7 gives 218.
    small, large = stacks("3x3x3 vs 7x7", channels=8, input_size=224, padding="valid").stacks
    assert small.output_size == large.output_size == (218, 218)
    assert small.macs.value == 9 * 8 * 8 * (222**2 + 220**2 + 218**2)
    assert large.macs.value == 49 * 8 * 8 * 218**2
    assert small.activations.value == 8 * (222**2 + 220**2 + 218**2)


def test_floored_sizes_are_notes():
    # (224 − 7)/2 + 1 = 109.5: floored to 109, as frameworks do, and said.
    (result,) = stacks("7x7", stride=2, input_size=224, padding="valid").stacks
    assert result.output_size == (109, 109)
    assert any("109.5" in note for note in result.notes)


def test_kernel_larger_than_the_input_is_a_usage_error():
    result = cli("compare", "7x7", "--input", "5", "--padding", "valid")
    assert result.exit_code == 2
    assert "kernel 7 is larger than the padded input 5" in result.output


def test_non_square_kernels_and_their_receptive_field():
    # A 3×1 then a 1×3: RF 3 tall and 3 wide, 3C² + 3C² = 6C² against 9C² for a 3×3.
    factored, square = stacks("3x1,1x3 vs 3x3").stacks
    assert factored.params.formula == Polynomial(6, 0, 0)
    assert factored.receptive_field == square.receptive_field == (3, 3)
    (tall,) = stacks("2*3x1").stacks
    assert tall.receptive_field == (5, 1)


def test_torch_agrees_on_stack_params_and_output_sizes():
    torch = torch_or_skip()
    nn = torch.nn
    c = 48
    bottleneck = nn.Sequential(nn.Conv2d(c, 16, 1, bias=True), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1, bias=True),
                               nn.ReLU(), nn.Conv2d(16, c, 1, bias=True), nn.ReLU())
    three = nn.Sequential(*[m for _ in range(3) for m in (nn.Conv2d(c, c, 3, bias=False), nn.ReLU())])
    (ours_bottleneck,) = stacks("1x1@16,3x3,1x1@48", channels=c, bias=True).stacks
    (ours_three,) = stacks("3x3x3", channels=c, input_size=30, padding="valid").stacks
    assert ours_bottleneck.params.value == sum(p.numel() for p in bottleneck.parameters())
    assert ours_three.params.value == sum(p.numel() for p in three.parameters())
    assert ours_three.output_size == tuple(three(torch.zeros(1, c, 30, 30)).shape[2:])


# -- the grammar -----------------------------------------------------------------------------------------


def kernels(expression: str, channels_allowed: bool = False):
    return [[(layer.kernel, layer.channels) for layer in stack.layers]
            for stack in parse_expression(expression, channels_allowed)]


def test_equivalent_spellings_of_three_3x3():
    three = [[((3, 3), None)] * 3]
    for spelling in ("3x3x3", "3*3x3", "3x3,3x3,3x3", " 3 x 3 x 3 ", "3×3×3", "3X3X3", "1*3x3,2*3x3"):
        assert kernels(spelling) == three, spelling


def test_repeats_and_channels():
    assert kernels("2*3x1") == [[((3, 1), None)] * 2]
    assert kernels("1x1x2@64", True) == [[((1, 1), 64)] * 2]  # @ applies to every repetition
    assert kernels("3x3 VS 5x5 vs 7x7") == [[((3, 3), None)], [((5, 5), None)], [((7, 7), None)]]
    assert [s.text for s in parse_expression("1x1@64, 3x3 vs 3x3", True)] == ["1x1@64, 3x3", "3x3"]


@pytest.mark.parametrize(
    ("expression", "position", "words"),
    [
        ("3x3x3 vs 7y7", 10, "unexpected character 'y'"),
        ("3x1x2", 4, "ambiguous"),  # a repeat after a non-square kernel: 2*3x1 is the way
        ("3*3x3x3", 6, "given twice"),
        ("3x3x3x3", 5, "at most three sizes"),
        ("3x3 3x3", 4, "expected ','"),
        ("3x3 vs", 6, "after 'vs', found the end"),
        ("vs 3x3", 0, "found 'vs'"),
        ("3x0", 2, "at least 1"),
        ("0x3", 0, "at least 1"),
        ("3x3x0", 4, "at least 1"),
        ("3", 1, "expected 'x'"),
        ("3x3,", 4, "after ','"),
        ("3x3/2", 3, "--stride"),
        ("3x3@", 3, "--channels"),
        ("", 0, "expected a stack"),
        ("1234567890x3", 0, "too large"),
        (f"{MAX_STACK_LAYERS + 1}*1x1", 0, f"at most {MAX_STACK_LAYERS:,} layers"),
        (f"{MAX_STACK_LAYERS}*1x1,1x1", 4 + len(str(MAX_STACK_LAYERS)) + 1, "at most"),
    ],
)
def test_parse_errors_point_at_the_character(expression, position, words):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(expression)
    assert caught.value.position == position
    assert words in caught.value.message


_PIECES = st.sampled_from(list("0123456789xX×*@, vsV/") + [" vs ", "3x3", "1x1@64"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join), st.booleans())
def test_any_text_parses_or_is_refused_with_a_position_inside_it(text, channels_allowed):
    try:
        parsed = parse_expression(text, channels_allowed)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        return
    for stack in parsed:
        assert 1 <= len(stack.layers) <= MAX_STACK_LAYERS
        assert text[stack.position:].startswith(stack.text)
        assert channels_allowed or all(layer.channels is None for layer in stack.layers)


def test_ambiguous_repeat_suggests_the_prefix_form():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("3x1x2")
    assert "2*3x1" in caught.value.message
    assert kernels(caught.value.example.split(" vs ")[0]) == [[((3, 1), None)] * 2]  # the example parses


def test_parse_error_on_the_command_line_shows_a_caret_and_exits_2():
    result = CliRunner().invoke(main, ["compare", "3x3x3", "vs", "7y7"])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert "unexpected character 'y'" in lines[0]
    assert lines[1] == "  3x3x3 vs 7y7"
    assert lines[2] == "  " + " " * 10 + "^"
    assert "cnncalc compare 3x3x3 vs 7x7" in lines[3]  # a valid example
    assert "Traceback" not in result.output


def test_channels_error_example_is_valid():
    result = cli("compare", "3x3@64")
    assert result.exit_code == 2
    example = result.output.splitlines()[-1].split("cnncalc compare ")[1]
    assert cli("compare", *example.split()).exit_code == 0


# -- specs against specs ---------------------------------------------------------------------------------


def test_spec_totals_equal_each_specs_own_shapes_totals():
    document = cli_json("compare", VGG16, SMALL)
    assert len(document["specs"]) == 2
    for entry, path in zip(document["specs"], (VGG16, SMALL)):
        own = cli_json("shapes", path)
        assert entry["totals"] == own["totals"]
        assert entry["name"] == own["name"] and entry["path"] == path


def test_small_spec_by_hand():
    # conv1 (3·3·3)·16 + 16 = 448; conv2 (3·3·16)·32 + 32 = 4,640; fc (8·8·32)·10 + 10 = 20,490.
    # MACs: 16·32·32·27 + 32·16·16·144 + 2048·10 = 442,368 + 1,179,648 + 20,480.
    # Activations: input 3,072 + conv1 16,384 + pool1 4,096 + conv2 8,192 + pool2 2,048 + fc 10 (relu in place).
    # RF of pool2, the last layer with spatial dims: 3 (conv1), 4 /2 (pool1), 4 + 2·2 = 8 (conv2), 8 + 1·2 = 10 /4;
    # start: conv1's padding 1 at jump 1, then conv2's padding 1 at jump 2: −1 − 2 = −3.
    (entry,) = cli_json("compare", SMALL)["specs"]
    assert entry["totals"]["params"] == 448 + 4_640 + 20_490 == 25_578
    assert entry["totals"]["macs"] == 442_368 + 1_179_648 + 20_480 == 1_642_496
    assert entry["totals"]["activations"] == 3_072 + 16_384 + 4_096 + 8_192 + 2_048 + 10 == 33_802
    field = entry["receptive_field"]
    assert (field["layer"], field["size"], field["jump"], field["start"]) == ("pool2", [10, 10], [4, 4], [-3, -3])
    assert entry["depth"] == 3


def test_ratios_against_the_first_spec():
    vgg, small = cli_json("compare", VGG16, "vs", SMALL)["specs"]
    assert all(value == 1.0 for value in vgg["ratios"].values() if value is not None)
    assert small["ratios"]["params"] == pytest.approx(25_578 / 138_357_544)
    assert small["ratios"]["macs"] == pytest.approx(1_642_496 / 15_470_264_320)
    assert small["ratios"]["depth"] == pytest.approx(3 / 16)
    numeric = {key for key, value in small["totals"].items() if isinstance(value, int)}
    assert set(small["ratios"]) == numeric | {"depth"}  # every number has a ratio; a layer name has none
    assert vgg["ratios"]["non_trainable"] is None  # VGG16 has no running statistics: no ratio to 0


def test_vgg16_depth_receptive_field_and_shares():
    # VGG16: 13 conv + 3 fc weight layers; pool5 sees 212 with jump 32 (Araujo, Norris & Sim, 2019).
    # fc params: (7·7·512)·4096 + 4096 + 4096·4096 + 4096 + 4096·1000 + 1000 = 123,642,856 of 138,357,544.
    entry = cli_json("compare", VGG16, VGG16)["specs"][0]
    assert entry["depth"] == 16
    assert entry["receptive_field"]["layer"] == "pool5"
    assert entry["receptive_field"]["size"] == [212, 212] and entry["receptive_field"]["jump"] == [32, 32]
    fc = next(s for s in entry["shares"] if s["category"] == "fc")
    assert fc["params"] == 25_088 * 4_096 + 4_096 + 4_096 * 4_096 + 4_096 + 4_096 * 1_000 + 1_000 == 123_642_856
    assert fc["params_percent"] == pytest.approx(100 * 123_642_856 / 138_357_544)


def test_resnet18_depth_follows_the_main_path():
    # ResNet-18: conv1, then 4 stages × 2 basic blocks × 2 convs = 16, then fc: 18 weight layers on the
    # main path; the 1×1 projection shortcuts are on shorter paths (1 conv where the block has 2), so they
    # do not add. Total conv + fc layers is 21 (with the 3 projections), which is not the depth.
    entry = cli_json("compare", str(SPECS / "resnet18.yaml"))["specs"][0]
    assert entry["depth"] == 1 + 4 * 2 * 2 + 1 == 18
    report = analyze(parse_file(SPECS / "resnet18.yaml"))
    assert sum(1 for layer in report.layers if layer.category in ("conv", "fc")) == 21


def test_spec_table_and_markdown():
    table = cli("compare", VGG16, SMALL, "--no-color")
    assert table.exit_code == 0, table.output
    assert "138,357,544" in table.output and "25,578 (0.000185×)" in table.output
    assert "212 /32 (pool5)" in table.output and "10.6% / 89.4%" in table.output
    markdown = cli("compare", VGG16, SMALL, "--format", "markdown")
    assert markdown.exit_code == 0
    assert "| params | 138,357,544 | 25,578 (0.000185×) |" in markdown.output


def test_invalid_spec_is_a_located_error_exit_1():
    result = cli("compare", VGG16, BAD)
    assert result.exit_code == 1
    assert result.output.startswith(f"{BAD}:4:5: error: conv 'conv1': (7 − 3 + 2·0)/3 + 1 = 2.33 is not an integer")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((VGG16, "3x3"), "cannot compare specs with layer stacks"),
        (("3x3", "vs", VGG16), "cannot compare specs with layer stacks"),
        ((VGG16, SMALL, "--channels", "64"), "--channels applies to layer stacks"),
        ((VGG16, "--no-bias"), "--bias/--no-bias applies to layer stacks"),
        ((VGG16, "--input", "224"), "--input applies to layer stacks"),
        (("missing.yaml", VGG16), "'missing.yaml' does not exist"),
    ],
)
def test_usage_errors_exit_2(args, words):
    result = cli("compare", *args)
    assert result.exit_code == 2
    assert words in result.output


def test_a_directory_named_like_a_spec_is_a_usage_error(tmp_path):
    folder = tmp_path / "net.yaml"
    folder.mkdir()
    result = cli("compare", str(folder), VGG16)
    assert result.exit_code == 2
    assert "is a directory, not a spec file" in result.output


def test_a_path_that_is_not_a_spec_is_read_as_an_expression():
    # A directory without .yaml is not a spec: it is parsed as an expression and refused at its first character.
    result = cli("compare", str(TEST_SPECS))
    assert result.exit_code == 2
    assert "unexpected character" in result.output


# -- JSON shape ------------------------------------------------------------------------------------------


def test_stack_json_shape():
    document = cli_json("compare", "--channels", "64", "--input", "56", "1x1@16,3x3", "vs", "3x3")
    assert set(document) == {"settings", "stacks", "verdicts"}
    assert document["settings"] == {"channels": 64, "stride": 1, "dilation": 1, "bias": False, "input": 56,
                                    "padding": "same"}
    first = document["stacks"][0]
    for key in ("expression", "layers", "params", "params_formula", "receptive_field", "macs_per_position",
                "nonlinearities", "output", "macs", "activations"):
        assert key in first
    assert first["expression"] == "1x1@16,3x3"
    # 1×1 64→16: 1,024; 3×3 16→16: 2,304.
    assert [(layer["kernel"], layer["params"]) for layer in first["layers"]] == [([1, 1], 1_024), ([3, 3], 2_304)]
    assert first["params"] == 1_024 + 2_304
    assert first["output"] == [56, 56]
    assert first["macs"] == (1_024 + 2_304) * 56 * 56
    assert document["verdicts"][0]["against"] == "3x3"


def test_spec_json_shape():
    document = cli_json("compare", SMALL, SMALL)
    assert set(document) == {"specs"}
    entry = document["specs"][0]
    assert {"name", "path", "totals", "ratios", "receptive_field", "depth", "shares"} <= set(entry)
    assert set(entry["totals"]) == set(cli_json("shapes", SMALL)["totals"])


def test_stack_markdown():
    result = cli("compare", "3x3x3", "vs", "7x7", "--format", "markdown")
    assert result.exit_code == 0
    assert "| params | 27C² | 49C² (1.81×) |" in result.output
    assert "- 3x3x3 vs 7x7: same 7×7 receptive field" in result.output
