"""Name scoping of expanded specs: what a layer is called depends on where it was written."""

from __future__ import annotations

from cnncalc.parser import parse_text

BLOCK = """input: [4, 8, 8]
blocks:
  b:
    params: {f: null}
    layers: [conv: {filters: $f, kernel: 1}, relu]
layers:
"""


def names(layers_text: str) -> list[str]:
    return [layer.name for layer in parse_text(BLOCK + layers_text, "t.yaml").layers]


def test_a_block_alone_in_an_unnamed_repeat_is_one_instance_per_iteration():
    text = "  - name: stage\n    layers:\n      - repeat: 2\n        layers: [b: {f: 4}]\n"
    assert names(text) == ["stage.b1.conv1", "stage.b1.relu1", "stage.b2.conv1", "stage.b2.relu1"]


def test_a_block_alone_in_a_named_repeat_is_the_iteration():
    text = "  - name: stage\n    repeat: 2\n    layers: [b: {f: 4}]\n"
    assert names(text) == ["stage.1.conv1", "stage.1.relu1", "stage.2.conv1", "stage.2.relu1"]


def test_a_block_alone_in_a_group_keeps_its_own_name():
    assert names("  - name: g\n    layers: [b: {f: 4}]\n") == ["g.b1.conv1", "g.b1.relu1"]
