"""The README's quoted outputs are what cnncalc prints, so the documentation cannot drift."""

from __future__ import annotations

import re

from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import ROOT


def test_quoted_stride_error_is_real():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"`(tests/specs/bad_stride\.yaml:\d+:\d+: error: [^`]+)`", readme).group(1)
    result = CliRunner().invoke(main, ["check", "tests/specs/bad_stride.yaml"], catch_exceptions=False)
    assert result.exit_code == 1
    assert quoted in result.output


def test_branching_examples_compute():
    """The three examples of '## Branching networks', each completed into a spec, give what their comments say."""
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Branching networks"):readme.index("## Conventions behind every number")]
    concat, modules, block = re.findall(r"```yaml\n(.*?)```", section, re.S)

    def layers(text):
        return {layer.name: layer for layer in analyze(parse_text(text, "README.md")).layers}

    skip = layers("input: [64, 16, 16]\nlayers:\n  - {name: enc3, conv: {filters: 64, kernel: 1}}\n"
                  "  - {name: up3, conv: {filters: 64, kernel: 1}}\n" + concat)["skip3"]
    assert skip.output_shape == (128, 16, 16)
    found = layers("input: [192, 28, 28]\nlayers:\n" + modules)
    assert found["inception3a.concat"].output_shape == (256, 28, 28)
    assert found["add1"].inputs == ("bn2", "inception3a.concat")
    identity_bottleneck = ("  bottleneck:\n    params: {filters: null}\n    layers:\n      - branches:\n"
                           "          - [conv: {filters: $filters * 4, kernel: 1}]\n          - []\n        merge: add\n")
    found = layers("input: [256, 56, 56]\n" + block.replace("layers:\n  - name: layer2",
                                                             identity_bottleneck + "layers:\n  - name: layer2"))
    assert found["layer2.bottleneck_down1.conv2"].output_shape == (128, 28, 28)  # the stride on the 3×3
    assert found["layer2.bottleneck3.add1"].output_shape == (512, 28, 28)
