"""The shipped specs of networks after 2016 against torchvision's published figures (its model metadata:
`num_params` and `_ops`, GFLOPS that count one multiply-accumulate as one operation). torchvision itself is
not needed: the figures are facts. The exported modules' shapes, parameters and MACs layer by layer are
checked against torch in test_torch_crosscheck.py, which takes every shipped spec."""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file

from .conftest import SPECS

# spec file: (torchvision's parameters, torchvision's GMACs as published, rounded to 3 decimals)
TORCHVISION = {
    "efficientnet_b0": (5_288_548, 0.386),
    "mobilenet_v3_large": (5_483_032, 0.217),
    "mobilenet_v3_small": (2_542_856, 0.057),
    "convnext_tiny": (28_589_128, 4.456),
    "shufflenet_v2_x1_0": (2_278_604, 0.145),
    "vit_b_16": (86_567_656, 17.564),
    "squeezenet1_1": (1_235_496, 0.349),
    "mobilenet_v2": (3_504_872, 0.301),
    "alexnet_torchvision": (61_100_840, 0.714),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_parameters_and_macs_are_torchvisions(name):
    params, gmacs = TORCHVISION[name]
    report = analyze(parse_file(SPECS / f"{name}.yaml"))
    assert report.totals.params == params
    assert round(report.totals.macs / 1e9, 3) == gmacs


def test_vit_b_16_macs_to_the_unit():
    """Patches (768·196·3·16·16) + 12 blocks of 4·197·768² (projections) + 2·197²·768 (Q·Kᵀ, A·V) +
    2·197·768·3072 (the MLP), + the head 768·1000."""
    report = analyze(parse_file(SPECS / "vit_b_16.yaml"))
    by_hand = 768 * 196 * 3 * 16 * 16 + 12 * (4 * 197 * 768 * 768 + 2 * 197 * 197 * 768 + 2 * 197 * 768 * 3072) \
        + 768 * 1000
    assert report.totals.macs == by_hand == 17_563_828_224


def test_mobilenet_v2_uses_relu6():
    kinds = {layer.kind for layer in analyze(parse_file(SPECS / "mobilenet_v2.yaml")).layers}
    assert "relu6" in kinds and "relu" not in kinds


def test_vit_attention_probabilities_are_a_term_of_the_memory():
    """12·197² probabilities per block and sample, 12 blocks, float32: kept by eager attention, not by fused;
    the training peak (backward of the last block) holds them all at once, so the peak moves by exactly them."""
    from cnncalc.sizing import Settings, memory_report

    report = analyze(parse_file(SPECS / "vit_b_16.yaml"))
    eager = memory_report(report, Settings(attention="eager"), 1)
    fused = memory_report(report, Settings(attention="fused"), 1)
    (term,) = [t for t in eager.kept.terms if t.what == "attention probabilities"]
    assert term.values == 12 * 12 * 197 * 197 and term.bytes_per_value == 4
    assert not [t for t in fused.kept.terms if "attention probabilities" in t.what]
    log_sum_exp = 12 * 12 * 197 * 4  # fused kernels keep one float32 per row instead
    assert eager.kept.per_sample_bytes - fused.kept.per_sample_bytes == 12 * 12 * 197 * 197 * 4 - log_sum_exp
    assert fused.training.total < eager.training.total


def test_cli_memory_attention_option(tmp_path):
    import json

    from click.testing import CliRunner

    from cnncalc.cli import main

    eager = CliRunner().invoke(main, ["memory", str(SPECS / "vit_b_16.yaml"), "--format", "json"])
    fused = CliRunner().invoke(main, ["memory", str(SPECS / "vit_b_16.yaml"), "--format", "json",
                                      "--attention", "fused"])
    assert eager.exit_code == fused.exit_code == 0
    eager_doc, fused_doc = json.loads(eager.stdout), json.loads(fused.stdout)
    assert (eager_doc["attention"], fused_doc["attention"]) == ("eager", "fused")
    assert fused_doc["kept_for_backward"] < eager_doc["kept_for_backward"]
    assert fused_doc["total"] < eager_doc["total"]
    wrong = CliRunner().invoke(main, ["fit", str(SPECS / "vit_b_16.yaml"), "--memory", "24GiB", "--attention", "flash"])
    assert wrong.exit_code == 2


def test_transformers_page_quotes_real_memory_lines():
    """The two `cnncalc memory` lines docs/transformers.md quotes are what cnncalc prints (spaces aside)."""
    import re

    from click.testing import CliRunner

    from cnncalc.cli import main

    from .conftest import doc

    page = doc("transformers.md")
    block = page.split("```text\n$ cnncalc memory specs/vit_b_16.yaml", 1)[1].split("```", 1)[0]
    quoted = [line for line in block.splitlines() if line.startswith("activations")]
    assert len(quoted) == 2
    for line, extra in zip(quoted, ([], ["--attention", "fused"])):
        result = CliRunner().invoke(main, ["memory", str(SPECS / "vit_b_16.yaml"), "--summary", "--batch", "64",
                                           *extra], env={"COLUMNS": "250"})
        printed = " ".join(result.stdout.split())
        assert " ".join(line.split()) in printed, line
    assert re.search(r"12·197² = 465,708 for ViT-B/16, 5,588,496 over", page)


def test_modern_networks_page_element_wise_products():
    """The products of `mul` and `scale` the MAC convention leaves out: every output value of those layers."""
    from .conftest import doc

    page = doc("modern-networks.md")
    for name, kind in (("efficientnet_b0", "mul"), ("mobilenet_v3_large", "mul"), ("mobilenet_v3_small", "mul"),
                       ("convnext_tiny", "scale")):
        report = analyze(parse_file(SPECS / f"{name}.yaml"))
        products = sum(layer.activation_count for layer in report.layers if layer.kind == kind)
        share = f"{100 * products / report.totals.macs:.2f}%"
        assert f"| {products:,} | {share} |" in page, name
