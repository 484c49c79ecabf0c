"""Every shipped spec against its published totals, and against the same totals worked out by hand.

Published: parameter counts and GFLOPS of torchvision's model table (VGG, ResNet-18), the widely quoted totals
of LeNet-5 (61,706) and AlexNet without the GPU split (62,378,344), and receptive fields from
Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019).
The hand formulas below are per layer: conv params (F·F·C_in)·C_out + C_out and MACs
H_out·W_out·C_out·C_in·F·F; fc params in·out + out and MACs in·out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file

from .conftest import ROOT, SPECS, doc
from .test_zoo import ZOO_CHECKED


def conv(size_out: int, kernel: int, c_in: int, c_out: int) -> tuple[int, int]:
    """(params, MACs) of a square conv with a square output."""
    return kernel * kernel * c_in * c_out + c_out, size_out * size_out * c_out * c_in * kernel * kernel


def fc(inputs: int, units: int) -> tuple[int, int]:
    return inputs * units + units, inputs * units


def total(*layers: tuple[int, int]) -> tuple[int, int]:
    return sum(p for p, _ in layers), sum(m for _, m in layers)


def conv_no_bias(size_out: int, kernel: int, c_in: int, c_out: int) -> tuple[int, int]:
    params, macs = conv(size_out, kernel, c_in, c_out)
    return params - c_out, macs


def batchnorm(channels: int) -> tuple[int, int]:
    """A scale and a shift per channel; no MACs (its running mean and variance are counted apart)."""
    return 2 * channels, 0


def resnet18() -> tuple[int, int]:
    """torchvision's resnet18: 7×7/2 conv and a 3×3/2 pool to 56, then four stages of two basic blocks (two 3×3
    convs without bias, each with a batchnorm); stages 2-4 halve the size in their first conv and project the
    shortcut with a 1×1/2 conv and a batchnorm; then a 1000-way fc on the 512 pooled values."""
    layers = [conv_no_bias(112, 7, 3, 64), batchnorm(64)]
    size, channels = 56, 64
    for stage, width in enumerate((64, 128, 256, 512)):
        if stage:
            size //= 2
            layers += [conv_no_bias(size, 1, channels, width), batchnorm(width)]
        for block in range(2):
            layers += [conv_no_bias(size, 3, channels if block == 0 else width, width), batchnorm(width),
                       conv_no_bias(size, 3, width, width), batchnorm(width)]
        channels = width
    return total(*layers, fc(512, 1000))


def vgg(config: list) -> tuple[int, int]:
    """torchvision's VGG configurations: 3×3 convs with padding 1, 'M' a 2×2/2 max pool, then the classifier."""
    layers, size, channels = [], 224, 3
    for item in config:
        if item == "M":
            size //= 2
        else:
            layers.append(conv(size, 3, channels, item))
            channels = item
    return total(*layers, fc(7 * 7 * 512, 4096), fc(4096, 4096), fc(4096, 1000))


LENET5 = total(conv(28, 5, 1, 6), conv(10, 5, 6, 16), fc(5 * 5 * 16, 120), fc(120, 84), fc(84, 10))
ALEXNET = total(conv(55, 11, 3, 96), conv(27, 5, 96, 256), conv(13, 3, 256, 384), conv(13, 3, 384, 384),
                conv(13, 3, 384, 256), fc(6 * 6 * 256, 4096), fc(4096, 4096), fc(4096, 1000))
# 225 → conv 7×7/2 → 110 → pool → 55 → conv 5×5/2 → 26 → pool → 13 → three 3×3 p1 convs → pool → 6
ZFNET = total(conv(110, 7, 3, 96), conv(26, 5, 96, 256), conv(13, 3, 256, 512), conv(13, 3, 512, 1024),
              conv(13, 3, 1024, 512), fc(6 * 6 * 512, 4096), fc(4096, 4096), fc(4096, 1000))
VGG11 = vgg([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"])
VGG16 = vgg([64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"])
RESNET18 = resnet18()
RESNET18_RUNNING_STATISTICS = 2 * (64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512)  # mean and variance per batchnorm channel
VGG19 = vgg([64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"])

# file: (params published, hand (params, MACs), torchvision's published GFLOPS or None)
SHIPPED = {
    "resnet18.yaml": (11_689_512, RESNET18, 1.81),
    "lenet5.yaml": (61_706, LENET5, None),
    "alexnet.yaml": (62_378_344, ALEXNET, None),
    "zfnet.yaml": (None, ZFNET, None),
    "vgg11.yaml": (132_863_336, VGG11, 7.61),
    "vgg16.yaml": (138_357_544, VGG16, 15.47),
    "vgg19.yaml": (143_667_240, VGG19, 19.63),
}


def test_every_shipped_spec_is_checked_here():
    """Here, or (the branching networks) in test_zoo.py."""
    assert sorted(p.name for p in SPECS.glob("*.yaml")) == sorted(set(SHIPPED) | ZOO_CHECKED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_spec_totals(name):
    published, (hand_params, hand_macs), gflops = SHIPPED[name]
    totals = analyze(parse_file(SPECS / name)).totals
    assert totals.params == hand_params
    assert totals.weights + totals.biases == totals.params == totals.trainable
    assert totals.non_trainable == (RESNET18_RUNNING_STATISTICS if name == "resnet18.yaml" else 0)
    assert totals.macs == hand_macs
    if published is not None:
        assert totals.params == published
    if gflops is not None:  # torchvision's table counts MACs and rounds to two decimals
        assert round(totals.macs / 1e9, 2) == gflops


def test_vgg16_macs_as_torchvision_publishes_them():
    assert VGG16[1] == analyze(parse_file(SPECS / "vgg16.yaml")).totals.macs == 15_470_264_320


def test_hand_totals_spelled_out():
    """The figures docs/specs.md and the spec headers quote."""
    assert LENET5 == (61_706, 416_520)
    assert ALEXNET == (62_378_344, 1_135_256_096)
    assert ZFNET == (107_627_624, 2_476_704_896)
    assert VGG11 == (132_863_336, 7_609_090_048)
    assert VGG19 == (143_667_240, 19_632_062_464)
    assert RESNET18 == (11_689_512, 1_814_073_344)
    assert RESNET18_RUNNING_STATISTICS == 9_600


@pytest.mark.parametrize(("name", "layer", "size", "jump"), [
    # conv1 11/4: 11, j 4; pool 3/2: 19, j 8; conv2 5: 51; pool: 67, j 16; conv3-5: 99, 131, 163; pool5: 195
    ("alexnet.yaml", "pool3", 195, 32),
    # two 3×3 per block before pool1: 5, 6 (j 2); 10, 14, 16 (j 4); 24, 32, 40, 44 (j 8); 60, 76, 92, 100 (j 16);
    # 132, 164, 196, 212 (j 32)
    ("vgg16.yaml", "pool5", 212, 32),
])
def test_published_receptive_fields(name, layer, size, jump):
    report = analyze(parse_file(SPECS / name))
    (result,) = [r for r in report.layers if r.name == layer]
    assert result.receptive_field.size == (size, size)
    assert result.receptive_field.jump == (jump, jump)


def test_spec_headers_and_docs_quote_these_totals():
    """The totals in each spec's header comment and in the table of docs/specs.md are the ones proven above."""
    readme = doc("specs.md")
    for name, (_, (params, macs), _) in SHIPPED.items():
        header = Path(SPECS / name).read_text(encoding="utf-8").split("\nname:")[0]
        assert f"{params:,} parameters" in header, name
        assert f"{macs:,} multiply-accumulates" in header, name
        row = re.search(rf"^\| `specs/{re.escape(name)}` \|.*$", readme, re.MULTILINE)
        assert row is not None, name
        cells = [cell.strip() for cell in row.group(0).strip("|").split("|")]
        assert cells[2:4] == [f"{params:,}", f"{macs:,}"], name
