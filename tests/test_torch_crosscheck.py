"""cnncalc against PyTorch itself: every layer's output shape, parameters, buffers and MACs.

Each spec is exported with cnncalc's PyTorch exporter, built on the meta device (no memory, instant)
and run once with a forward hook on every layer. Shapes and counts come from torch's own modules;
MACs from torch's FlopCounterMode (2 FLOPs per multiply-accumulate for conv and linear).
"""

from __future__ import annotations

import pytest

from cnncalc.engine import analyze
from cnncalc.export.torch import RESERVED, torch_export
from cnncalc.parser import parse_file

from .conftest import SPECS, TEST_SPECS, torch_or_skip
from .every_kind import every_kind_files

BATCH = 2  # more than 1: batchnorm on a vector refuses a batch of one
INVALID_WITHOUT_FLOOR = {"bad_stride.yaml", "floored.yaml"}  # fixtures of errors; floored.yaml is checked below
INVALID = {  # fixtures of the located errors of test_zoo.py: nothing to export
    "dag_add_mismatch.yaml", "dag_concat_mismatch.yaml", "dag_unknown_from.yaml", "dag_forward_reference.yaml",
    "block_missing_param.yaml", "block_bad_expressions.yaml",
}
CROSS_CHECKED = sorted(SPECS.glob("*.yaml")) + sorted(p for p in TEST_SPECS.glob("*.yaml")
                                                      if p.name not in INVALID_WITHOUT_FLOOR | INVALID)
GENERATED = every_kind_files()  # every kind of the registry, in each spatial dimensionality it takes


def build(path, floor=False):
    """The exported module (on the meta device), its spec's report and each layer's attribute name."""
    torch = torch_or_skip()
    spec = parse_file(path)
    exported = torch_export(spec, floor=floor)
    namespace: dict = {}
    exec(compile(exported.source, f"<export of {path.name}>", "exec"), namespace)
    with torch.device("meta"):
        model = namespace[exported.class_name]()
    model.eval()
    return model, analyze(spec, floor=floor), exported.attributes


def run_hooked(model, input_shape):
    """Forward a meta batch; returns each submodule's output shape (batch dim dropped) and the FLOP counter."""
    torch = torch_or_skip()
    from torch.utils.flop_counter import FlopCounterMode

    shapes = {}
    for attribute, module in model.named_children():
        module.register_forward_hook(
            lambda _module, _args, output, attribute=attribute: shapes.__setitem__(attribute, tuple(output.shape))
        )
    with torch.device("meta"), torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(BATCH, *input_shape))
    return shapes, counter


def count(tensors) -> int:
    return sum(t.numel() for t in tensors)


@pytest.mark.parametrize("path", CROSS_CHECKED + GENERATED,
                         ids=lambda p: p.name if p in CROSS_CHECKED else f"generated {p.name}")
def test_every_layer_matches_pytorch(path):
    model, report, attributes = build(path)
    shapes, counter = run_hooked(model, report.input_shape)
    flops = counter.get_flop_counts()
    class_name = type(model).__name__
    assert len(list(model.children())) == len(report.layers)  # one module per layer, no more
    for layer in report.layers:
        attribute = attributes[layer.name]
        module = getattr(model, attribute)
        assert shapes[attribute] == (BATCH,) + layer.output_shape, layer.name
        weights = count(p for name, p in module.named_parameters() if name.endswith("weight"))
        biases = count(p for name, p in module.named_parameters() if name.endswith("bias"))
        assert (weights, biases) == (layer.weight_count, layer.bias_count), layer.name
        assert count(module.parameters()) == layer.param_count == layer.trainable_count, layer.name
        buffers = count(b for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
        assert buffers == layer.non_trainable_count, layer.name
        torch_macs = sum(flops.get(f"{class_name}.{attribute}", {}).values()) // 2 // BATCH
        assert torch_macs == layer.macs, layer.name
    assert count(model.parameters()) == report.totals.params
    assert counter.get_total_flops() // 2 // BATCH == report.totals.macs


def test_floor_matches_pytorch_flooring():
    """A stride that does not fit: --floor gives the sizes PyTorch gives, and warns where pixels drop."""
    path = TEST_SPECS / "floored.yaml"
    model, report, attributes = build(path, floor=True)
    shapes, _ = run_hooked(model, report.input_shape)
    assert [shapes[attributes[layer.name]][1:] for layer in report.layers] == [(4, 16, 16)] * 2 + [(4, 5, 5)]
    assert [layer.output_shape for layer in report.layers] == [(4, 16, 16)] * 2 + [(4, 5, 5)]
    assert [w.layer for w in report.warnings] == ["conv1", "pool1"]


def test_reserved_names_cover_nn_module():
    """A layer named like an nn.Module method ('forward', 'eval') must not shadow it in the export."""
    torch = torch_or_skip()
    public = {name for name in dir(torch.nn.Module) if not name.startswith("_")}
    assert public - RESERVED == set()
