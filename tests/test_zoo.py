"""The shipped model zoo against published figures, and the DAG engine on small hand-checkable specs.

Sources of the oracle numbers:
- parameter totals: torchvision's model documentation (the `num_params` of each weights entry), for
  ResNet-18/34/50/101/152, DenseNet-121, MobileNetV2 and GoogLeNet (without its auxiliary heads);
  MobileNet v1 (1.0, 224): TF-Slim's mobilenet_v1.py, whose docstring tabulates the 27 convs layer by
  layer (3,185,088 weights, 567,716,352 MACs), plus 2C batchnorm parameters per conv and the
  1024·1000 + 1000 classifier: 4,231,976.
- MACs (multiply-accumulates of conv and fc layers only, cnncalc's convention): ResNet-50 4,089,184,256,
  DenseNet-121 2,834,161,664 and MobileNetV2 300,774,272 as given in the issue; the others counted with
  forward hooks on torchvision's own model definitions (out.numel()·C_in/groups·k_h·k_w per Conv2d,
  out_features·in_features per Linear), which torchvision's model cards round to 3.66 (ResNet-34),
  7.8 (ResNet-101), 11.51 (ResNet-152) and 1.5 (GoogLeNet) GFLOPS.
- receptive fields: Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
  Networks", Distill 2019, and the table of the receptive_field library that goes with it
  (VGG16 pool1..pool5, MobileNet v1 Conv2d_0..Conv2d_13_pointwise; AlexNet's pool5 is in test_specs.py).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import SPECS, TEST_SPECS, doc

PUBLISHED = [
    # spec, parameters, MACs at the spec's input size
    ("resnet18.yaml", 11_689_512, 1_814_073_344),
    ("resnet34.yaml", 21_797_672, 3_663_761_408),
    ("resnet50.yaml", 25_557_032, 4_089_184_256),
    ("resnet101.yaml", 44_549_160, 7_801_405_440),
    ("resnet152.yaml", 60_192_808, 11_513_626_624),
    ("densenet121.yaml", 7_978_856, 2_834_161_664),
    ("googlenet.yaml", 6_624_904, 1_498_376_192),
    ("mobilenet_v1.yaml", 4_231_976, 567_716_352 + 1024 * 1000),
    ("mobilenet_v2.yaml", 3_504_872, 300_774_272),
]
ZOO_CHECKED = {spec for spec, _, _ in PUBLISHED} | {"unet.yaml"}  # unet.yaml: by hand, below


def report_of(name: str):
    return analyze(parse_file(SPECS / name))


def layer(report, name: str):
    (found,) = [r for r in report.layers if r.name == name]
    return found


@pytest.mark.parametrize(("spec", "params", "macs"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_published_totals(spec, params, macs):
    report = report_of(spec)
    assert report.totals.params == params
    assert report.totals.macs == macs
    assert not report.warnings  # every layer's output is used; every rounding is asked for


def test_resnet_stages_have_torchvision_sizes():
    report = report_of("resnet50.yaml")
    ends = {r.block[0]: r.output_shape for r in report.layers if r.block}
    assert ends == {"layer1": (256, 56, 56), "layer2": (512, 28, 28), "layer3": (1024, 14, 14),
                    "layer4": (2048, 7, 7)}
    # v1.5: the stride is on the 3×3 conv of the first bottleneck of a stage, not on its first 1×1
    assert layer(report, "layer2.bottleneck_down1.conv1").output_shape == (128, 56, 56)
    assert layer(report, "layer2.bottleneck_down1.conv2").output_shape == (128, 28, 28)


def test_googlenet_5x5_branch_is_torchvision_3x3():
    """With the paper's true 5×5 kernels every inception module gains (25 − 9)·c5x5_reduce·c5x5 weights."""
    text = (SPECS / "googlenet.yaml").read_text()
    line = "- conv_bn: {filters: $c5x5, kernel: 3, padding: 1}"
    assert text.count(line) == 1
    report = analyze(parse_text(text.replace(line, "- conv_bn: {filters: $c5x5, kernel: 5, padding: 2}"), "g.yaml"))
    # (c5x5_reduce, c5x5) of inception 3a, 3b, 4a-4e, 5a, 5b (the paper's table 1)
    reduce_and_out = [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64), (32, 128), (32, 128), (48, 128)]
    assert report.totals.params == 6_624_904 + 16 * sum(r * c for r, c in reduce_and_out) == 6_624_904 + 380_928


def test_googlenet_inception_outputs():
    report = report_of("googlenet.yaml")
    # the paper's table 1: output sizes of every inception module
    expected = {"3a": (256, 28), "3b": (480, 28), "4a": (512, 14), "4b": (512, 14), "4c": (512, 14),
                "4d": (528, 14), "4e": (832, 14), "5a": (832, 7), "5b": (1024, 7)}
    for module, (channels, size) in expected.items():
        assert layer(report, f"inception{module}.concat1").output_shape == (channels, size, size)


def test_densenet121_block_widths():
    report = report_of("densenet121.yaml")
    for block, channels, size in [(1, 256, 56), (2, 512, 28), (3, 1024, 14), (4, 1024, 7)]:
        last = [r for r in report.layers if r.block and r.block[0] == f"denseblock{block}"][-1]
        assert last.output_shape == (channels, size, size)


MOBILENET_V1_TF_SLIM = [
    # (params, MACs) of Conv2d_0, then Conv2d_i_depthwise and Conv2d_i_pointwise for i = 1..13 (TF-Slim)
    (864, 10_838_016),
    (288, 3_612_672), (2_048, 25_690_112),
    (576, 1_806_336), (8_192, 25_690_112),
    (1_152, 3_612_672), (16_384, 51_380_224),
    (1_152, 903_168), (32_768, 25_690_112),
    (2_304, 1_806_336), (65_536, 51_380_224),
    (2_304, 451_584), (131_072, 25_690_112),
    (4_608, 903_168), (262_144, 51_380_224),
    (4_608, 903_168), (262_144, 51_380_224),
    (4_608, 903_168), (262_144, 51_380_224),
    (4_608, 903_168), (262_144, 51_380_224),
    (4_608, 903_168), (262_144, 51_380_224),
    (4_608, 225_792), (524_288, 25_690_112),
    (9_216, 451_584), (1_048_576, 51_380_224),
]


def test_mobilenet_v1_every_conv_matches_tf_slim():
    convs = [r for r in report_of("mobilenet_v1.yaml").layers if r.kind in ("conv", "dwconv")]
    assert [(r.param_count, r.macs) for r in convs] == MOBILENET_V1_TF_SLIM


def test_mobilenet_v2_has_torchvision_residuals():
    report = report_of("mobilenet_v2.yaml")
    adds = [r for r in report.layers if r.kind == "add"]
    # blocks with stride 1 and equal channels: 1 + 2 + 3 + 2 + 2 of torchvision's 17 inverted residuals
    assert len(adds) == 10
    assert layer(report, "stage7.inverted1.bn3").output_shape == (320, 7, 7)


def test_unet_by_hand():
    report = analyze(parse_file(SPECS / "unet.yaml"))

    def double_conv(cin, f):  # two 3×3 convs with biases
        return 9 * cin * f + f + 9 * f * f + f

    def deconv(cin, f):  # 2×2 transposed conv with bias
        return 4 * cin * f + f

    params = (double_conv(1, 16) + double_conv(16, 32) + double_conv(32, 64) + double_conv(64, 128)
              + deconv(128, 64) + double_conv(128, 64) + deconv(64, 32) + double_conv(64, 32)
              + deconv(32, 16) + double_conv(32, 16) + 16 * 2 + 2)
    assert params == 481_762
    assert report.totals.params == params

    def double_conv_macs(size, cin, f):
        return size * size * (f * 9 * cin + f * 9 * f)

    def deconv_macs(size_in, cin, f):  # every input value times the whole 2×2 kernel of every filter
        return size_in * size_in * cin * f * 4

    macs = (double_conv_macs(64, 1, 16) + double_conv_macs(32, 16, 32) + double_conv_macs(16, 32, 64)
            + double_conv_macs(8, 64, 128)
            + deconv_macs(8, 128, 64) + double_conv_macs(16, 128, 64)
            + deconv_macs(16, 64, 32) + double_conv_macs(32, 64, 32)
            + deconv_macs(32, 32, 16) + double_conv_macs(64, 32, 16)
            + 64 * 64 * 2 * 16)
    assert macs == 143_851_520
    assert report.totals.macs == macs
    assert layer(report, "skip3").output_shape == (128, 16, 16)
    assert layer(report, "head").output_shape == (2, 64, 64)


# -- receptive fields: the Distill 2019 table -------------------------------------------------------


def test_vgg16_receptive_fields():
    report = report_of("vgg16.yaml")
    # (size, jump, effective padding) of vgg_16/pool1..pool5
    table = [(6, 2, 2), (16, 4, 6), (44, 8, 18), (100, 16, 42), (212, 32, 90)]
    for i, (size, jump, padding) in enumerate(table, start=1):
        field = layer(report, f"pool{i}").receptive_field
        assert (field.size, field.jump, field.start) == ((size, size), (jump, jump), (-padding, -padding))


def test_mobilenet_v1_receptive_fields():
    report = report_of("mobilenet_v1.yaml")
    # (size, jump) of Conv2d_0 and Conv2d_1_pointwise..Conv2d_13_pointwise
    table = [(3, 2), (7, 2), (11, 4), (19, 4), (27, 8), (43, 8), (59, 16), (91, 16), (123, 16), (155, 16),
             (187, 16), (219, 16), (251, 32), (315, 32)]
    names = ["conv0"] + [f"conv{i}.pw" for i in range(1, 14)]
    for name, (size, jump) in zip(names, table):
        field = layer(report, name).receptive_field
        assert (field.size, field.jump) == ((size, size), (jump, jump)), name


# -- receptive fields through small DAGs, by hand -----------------------------------------------------


def fields(name: str):
    return {r.name: r.receptive_field for r in analyze(parse_file(TEST_SPECS / name)).layers}


def test_two_branches_the_larger_kernel_wins():
    rf = fields("rf_two_branches.yaml")
    assert (rf["mixed.conv1"].size, rf["mixed.conv1"].start) == ((3, 3), (-1, -1))
    assert (rf["mixed.conv2"].size, rf["mixed.conv2"].start) == ((5, 5), (-2, -2))
    assert (rf["mixed.concat"].size, rf["mixed.concat"].start) == ((5, 5), (-2, -2))
    assert rf["mixed.concat"].note == ""  # both 3×3/p1 and 5×5/p2 are centred on the same pixel
    assert rf["conv1"].size == (7, 7)  # 5 + (3 − 1)·1


def test_residual_block_sees_what_its_longest_branch_sees():
    rf = fields("rf_residual.yaml")
    assert (rf["block.add"].size, rf["block.add"].jump, rf["block.add"].start) == ((5, 5), (1, 1), (-2, -2))
    assert rf["block.add"].note == ""  # the shortcut's single pixel is the centre of the 5×5


def test_concat_of_pools():
    rf = fields("rf_concat_pools.yaml")
    # conv 3×3/p1: 3, jump 1, start −1; maxpool 2/2: 3 + 1·1 = 4, start −1; avgpool 4/2/p1: 3 + 3·1 = 6, start −2
    assert (rf["small"].size, rf["small"].start) == ((4, 4), (-1, -1))
    assert (rf["large"].size, rf["large"].start) == ((6, 6), (-2, -2))
    merged = rf["concat1"]
    assert (merged.size, merged.jump, merged.start, merged.note) == ((6, 6), (2, 2), (-2, -2), "")


def test_misaligned_paths_are_reported_not_guessed():
    merged = fields("rf_misaligned.yaml")["concat1"]
    assert (merged.size, merged.start) == ((2, 2), (0, 0))  # the union of [0, 1) and [0, 2)
    assert "not centred alike" in merged.note


# -- DAG errors, located ------------------------------------------------------------------------------


def problems_of(name: str):
    with pytest.raises(SpecError) as caught:
        analyze(parse_file(TEST_SPECS / name))
    return caught.value.problems


def where(problem):
    return problem.location.line, problem.location.column


def test_add_with_mismatched_shapes_shows_both():
    (problem,) = problems_of("dag_add_mismatch.yaml")
    assert where(problem) == (5, 5)
    assert "'conv1' gives 16×16×8" in problem.message and "'input' gives 32×32×8" in problem.message


def test_concat_with_different_spatial_sizes():
    (problem,) = problems_of("dag_concat_mismatch.yaml")
    assert where(problem) == (6, 5)
    assert "same spatial size" in problem.message
    assert "16×16×8" in problem.message and "8×8×8" in problem.message


def test_unknown_from_gets_a_did_you_mean():
    (problem,) = problems_of("dag_unknown_from.yaml")
    assert where(problem) == (7, 19)
    assert "'stme'" in problem.message and "did you mean 'stem'?" in problem.message


def test_forward_reference_is_refused_with_its_line():
    errors = [p for p in problems_of("dag_forward_reference.yaml") if p.is_error]
    (problem,) = errors
    assert where(problem) == (5, 19)
    assert "'later' is defined later, at line 6" in problem.message


def test_unused_branch_output_is_a_warning():
    report = analyze(parse_file(TEST_SPECS / "dag_unused_branch.yaml"))
    (warning,) = report.warnings
    assert where(warning) == (5, 5)
    assert "'side' is never used" in warning.message


def test_block_missing_a_required_param():
    (problem,) = problems_of("block_missing_param.yaml")
    assert where(problem) == (9, 5)
    assert "block 'unit' needs 'filters'" in problem.message


def test_expression_errors():
    found = {where(p): p.message for p in problems_of("block_bad_expressions.yaml")}
    assert "'filter' is not a parameter of this block (its parameters: filters)" in found[(6, 25)]
    assert "use // for whole-number division" in found[(7, 25)]
    assert "is not an expression" in found[(8, 25)]
    assert "not inside a block definition" in found[(11, 21)]
    assert len(found) == 4


def test_check_prints_dag_errors_as_file_line_column():
    path = str(TEST_SPECS / "dag_unknown_from.yaml")
    result = CliRunner().invoke(main, ["check", path])
    assert result.exit_code == 1
    assert f"{path}:7:19: error: no layer or group named 'stme'" in result.output


def test_spec_headers_and_docs_quote_these_totals():
    readme = doc("specs.md")
    for spec, params, macs in PUBLISHED + [("unet.yaml", 481_762, 143_851_520)]:
        header = (SPECS / spec).read_text(encoding="utf-8").split("\nname:")[0]
        assert f"{params:,} parameters" in header, spec
        assert f"{macs:,} multiply-accumulates" in header, spec
        row = re.search(rf"^\| `specs/{re.escape(spec)}` \|.*$", readme, re.MULTILINE)
        assert row is not None, spec
        assert [cell.strip() for cell in row.group(0).strip("|").split("|")][2:4] == [f"{params:,}", f"{macs:,}"]
