"""Receptive fields through upsampling, pixel shuffles and transposed convs: by hand, and a whole U-Net
against PyTorch's gradient. (Random chains against PyTorch: tests/test_properties.py.)"""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_file, parse_text

from .conftest import SPECS, torch_or_skip


def last_field(text: str):
    return analyze(parse_text(text, "t.yaml")).layers[-1].receptive_field


@pytest.mark.parametrize("layers, size", [
    ("  - upsample: 2\n  - conv: {filters: 1, kernel: 2}\n", 2),  # the recurrence said 1.5
    ("  - upsample: 3\n  - conv: {filters: 1, kernel: 2}\n", 2),  # 1.67
    ("  - upsample: 3\n  - deconv: {filters: 1, kernel: 2}\n", 2),  # ≤1.67, below the truth
    ("  - deconv: {filters: 1, kernel: 2, stride: 2}\n", 1),  # each output reads one input
    ("  - upsample: 2\n  - conv: {filters: 1, kernel: 4, stride: 2}\n", 2),  # whole jumps again
    ("  - upsample: 2\n  - conv: {filters: 1, kernel: 3}\n", 2),  # units at 2y−1 … 2y+1 read y−1 … y
    ("  - upsample: 4\n  - conv: {filters: 1, kernel: 2}\n", 2),  # one unit in four straddles two inputs
])
def test_receptive_field_after_upsampling_is_the_widest_region_a_unit_reads(layers, size):
    # by hand: after nearest ×U, positions x … x + K − 1 read inputs ⌊x/U⌋ … ⌊(x + K − 1)/U⌋; the widest
    # over x is the field. A transposed conv k/s reads ⌈(x − P)/s⌉ … ⌊(x − P + k − 1)/s⌋ with P = k − 1.
    field = last_field("input: [1, 40]\nlayers:\n" + layers)
    assert (field.size[0], field.bound) == (size, False)


def test_a_pixel_shuffle_spreads_like_a_nearest_upsample():
    # pixelshuffle ×2: output (2h + i, 2w + j) comes from input pixel (h, w); a 2×2 conv on it reads
    # up to 2×2 input pixels (the recurrence said 1.5)
    field = last_field("input: [4, 10, 10]\nlayers:\n  - pixelshuffle: 2\n  - conv: {filters: 1, kernel: 2}\n")
    assert (field.size, field.bound) == ((2, 2), False)


def test_bilinear_upsampling_stays_an_upper_bound():
    field = last_field("input: [1, 40]\nlayers:\n  - upsample: {scale: 2, mode: bilinear}\n")
    assert field.bound  # edge weights may be 0: cnncalc does not claim them


def test_the_unet_head_field_is_pytorchs_gradient():
    """U-Net: each output pixel's input region, by autograd on the exported network (max pools as average
    pools, whose windows are the same; every weight positive, so no contribution cancels), against
    cnncalc's figure, exact (no '≤') through its three 2×2/2 transposed convs and skip concatenations."""
    torch = torch_or_skip()
    from cnncalc.export.torch import torch_export

    text = (SPECS / "unet.yaml").read_text(encoding="utf-8").replace("input: [1, 64, 64]", "input: [1, 192, 8]")
    text = text.replace("maxpool", "avgpool")
    spec = parse_text(text, "unet.yaml")
    field = analyze(spec).layers[-1].receptive_field
    assert field == analyze(parse_file(SPECS / "unet.yaml")).layers[-1].receptive_field  # the pools' change: none
    namespace: dict = {}
    exported = torch_export(spec)
    exec(compile(exported.source, "<unet>", "exec"), namespace)
    torch.manual_seed(0)
    model = namespace[exported.class_name]().double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.abs() + 0.01)
    x = torch.ones(1, 1, 192, 8, dtype=torch.double, requires_grad=True)
    out = model(x)
    widest = 0
    for row in range(88, 104):  # well inside: regions of ~100 rows stay clear of the borders
        (grad,) = torch.autograd.grad(out[0, :, row, 4].sum(), x, retain_graph=True)
        rows = grad[0, 0].abs().sum(dim=1).nonzero().flatten()
        assert 0 < rows.min() and rows.max() < 191
        widest = max(widest, int(rows.max() - rows.min() + 1))
    assert (field.size[0], field.bound) == (widest, False)
