"""The PyTorch exporter as text: valid Python, readable names, the per-kind table complete.

Whether the exported modules compute what cnncalc says is checked against torch itself in
test_torch_crosscheck.py; these tests need no torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from cnncalc.export.torch import TRANSLATIONS, class_name, torch_export, torch_source
from cnncalc.kinds import REGISTRY
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import ROOT, SPECS, TEST_SPECS
from .every_kind import every_kind_files


def export(text: str, **options):
    return torch_export(parse_text(text, "t.yaml"), **options)


def init_line(source: str, attribute: str) -> str:
    (line,) = [line.strip() for line in source.splitlines() if line.strip().startswith(f"self.{attribute} = ")]
    return line


def test_every_kind_has_a_translation():
    assert set(REGISTRY) - set(TRANSLATIONS) == set()


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")) + sorted(TEST_SPECS.glob("every_kind_*.yaml"))
                         + every_kind_files(), ids=lambda p: p.name if p.parent in (SPECS, TEST_SPECS) else f"generated {p.name}")
def test_export_is_valid_python_with_one_attribute_per_layer(path):
    spec = parse_file(path)
    exported = torch_export(spec)
    tree = ast.parse(exported.source)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes[-1] == exported.class_name  # after any helper classes (Add, Concat)
    assigned = [line.strip().split(" = ")[0] for line in exported.source.splitlines()
                if line.strip().startswith("self.") and " = " in line]
    assert assigned == [f"self.{exported.attributes[layer.name]}" for layer in spec.layers]


def test_vgg16_reads_like_torchvision():
    source = torch_source(parse_file(SPECS / "vgg16.yaml"))
    assert "class VGG16(nn.Module):" in source
    assert init_line(source, "conv1") == "self.conv1 = nn.Conv2d(3, 64, kernel_size=3, padding=1)  # (N, 64, 224, 224)"
    assert init_line(source, "pool5") == "self.pool5 = nn.MaxPool2d(kernel_size=2, stride=2)  # (N, 512, 7, 7)"
    assert init_line(source, "fc1") == "self.fc1 = nn.Linear(25088, 4096)  # (N, 4096)"
    assert init_line(source, "relu1") == "self.relu1 = nn.ReLU(inplace=True)  # (N, 64, 224, 224)"
    assert init_line(source, "dropout1") == "self.dropout1 = nn.Dropout(p=0.5)  # (N, 4096)"
    assert init_line(source, "softmax1") == "self.softmax1 = nn.Softmax(dim=1)  # (N, 1000)"
    assert "        x = self.fc1(torch.flatten(x, 1))\n" in source
    assert source.rstrip().endswith("x = self.softmax1(x)\n        return x")


def test_layer_names_become_identifiers_that_shadow_nothing():
    exported = export("input: [3, 8, 8]\nlayers:\n"
                      "  - {name: conv-1, conv: {filters: 4, kernel: 3}}\n"
                      "  - {name: conv_1, relu}\n"
                      "  - {name: forward, conv: {filters: 4, kernel: 3}}\n"
                      "  - {name: 2nd, tanh}\n"
                      "  - {name: class, flatten}\n"
                      "  - {name: x, fc: 2}\n")
    assert exported.attributes == {"conv-1": "conv_1", "conv_1": "conv_1_", "forward": "forward_",
                                   "2nd": "layer_2nd", "class": "class_", "x": "x_"}
    ast.parse(exported.source)


@pytest.mark.parametrize(("name", "expected"), [
    ("VGG16", "VGG16"), ("LeNet-5", "LeNet5"), ("lecture stride example", "LectureStrideExample"),
    ("3d net", "Net3dNet"), ("", "Net"), ("None", "NetNone"),
])
def test_class_names(name, expected):
    assert class_name(name) == expected


def test_relu_is_in_place_except_on_the_callers_input():
    source = export("input: [3, 8, 8]\nlayers:\n  - relu\n  - conv: {filters: 4, kernel: 3}\n  - relu\n").source
    assert init_line(source, "relu1") == "self.relu1 = nn.ReLU()  # (N, 3, 8, 8)"
    assert init_line(source, "relu2") == "self.relu2 = nn.ReLU(inplace=True)  # (N, 4, 6, 6)"


def test_uneven_same_padding_pads_before_the_conv():
    """TensorFlow's 'same' at stride 2 on 32: total padding 1, none before and one after (left, right, top, bottom)."""
    source = export("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: same}\n").source
    assert "nn.ConstantPad2d((0, 1, 0, 1), 0.0)" in source
    assert "nn.Conv2d(3, 8, kernel_size=3, stride=2)," in source


def test_even_same_padding_is_plain_padding():
    source = export("input: [3, 33, 33]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: same}\n").source
    assert init_line(source, "conv1") == "self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)  # (N, 8, 17, 17)"


def test_invalid_spec_is_refused_unless_floored():
    with pytest.raises(SpecError):
        torch_export(parse_file(TEST_SPECS / "floored.yaml"))
    exported = torch_export(parse_file(TEST_SPECS / "floored.yaml"), floor=True)
    assert [w.layer for w in exported.warnings] == ["conv1", "pool1"]


def test_kind_without_translation_is_a_located_error(monkeypatch):
    monkeypatch.delitem(TRANSLATIONS, "gelu")
    with pytest.raises(SpecError) as caught:
        export("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3}\n  - gelu\n")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (4, 5)
    assert "cannot export the kind 'gelu' to PyTorch yet" in problem.message


def test_exporter_does_not_import_torch():
    code = ("import sys; from cnncalc.export.torch import torch_source; from cnncalc.parser import parse_file; "
            "torch_source(parse_file('specs/alexnet.yaml')); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_helper_classes_are_emitted_once_before_the_network(monkeypatch):
    """How a merge kind without an nn module (add, concat) keeps its attribute: a helper class."""
    from cnncalc.export.torch import Translation

    helper = "class Scale(nn.Module):\n    def forward(self, x):\n        return 2 * x\n"
    monkeypatch.setitem(TRANSLATIONS, "gelu", lambda layer: Translation("Scale()", helpers=(helper,)))
    source = export("name: net\ninput: [3, 8, 8]\nlayers:\n  - gelu\n  - gelu\n").source
    assert source.count("class Scale(nn.Module):") == 1
    assert source.index("class Scale(nn.Module):") < source.index("class Net(nn.Module):")
    assert init_line(source, "gelu2") == "self.gelu2 = Scale()  # (N, 3, 8, 8)"
    ast.parse(source)


def test_a_long_chain_of_in_place_layers():
    """5,000 relus after a conv: each may work in place, and the alias walk neither recurses nor repeats."""
    exported = export("input: [3, 8, 8]\nlayers:\n  - conv: {filters: 4, kernel: 3}\n"
                      "  - repeat: 5000\n    layers: [relu]\n")
    assert exported.source.count("nn.ReLU(inplace=True)") == 5000
