"""ONNX import against PyTorch's own exports of the zoo: every layer's shape, params, MACs and receptive field.

Each shipped spec is built as a plain PyTorch module (cnncalc's exporter), exported by PyTorch's TorchScript
exporter in training mode without constant folding (BatchNorm kept, as it was trained), read back by cnncalc
and compared layer by layer with the YAML spec's own analysis. The `onnx` package is the oracle for the
reader's view of the file: its loader gives the same inputs, initializer dims and nodes. The eval-mode export
(BatchNorm folded into the convolutions) is read too: its params differ, and cnncalc says why.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cnncalc.engine import analyze
from cnncalc.export.torch import torch_export
from cnncalc.importers import read_network, read_spec
from cnncalc.importers.emit import to_yaml
from cnncalc.parser import parse_file, parse_text
from cnncalc.problems import SpecError

from .conftest import ROOT, SPECS, torch_or_skip

# The kinds an ONNX export of cnncalc's PyTorch module reads back as (a dwconv is a grouped Conv, read as conv).
READ_BACK = {"conv", "dwconv", "deconv", "fc", "maxpool", "avgpool", "globalavgpool", "globalmaxpool", "relu",
             "leakyrelu", "relu6", "sigmoid", "hardsigmoid", "hardswish", "tanh", "softmax", "gelu", "batchnorm", "lrn",
             "dropout", "flatten", "add", "concat", "pad", "upsample", "identity", "mul", "silu", "layernorm", "scale",
             "channelshuffle", "chunk", "adaptiveavgpool"}


def _kinds(path) -> set[str]:
    return {layer.kind for layer in parse_file(path).layers}


ZOO = [path for path in sorted(SPECS.glob("*.yaml")) if _kinds(path) <= READ_BACK]
_EXPORTS: dict[tuple[str, str], str] = {}  # (spec, mode) → the exported file, once per test session


def onnx_or_skip():
    """Import onnx, or skip; under CI (CNNCALC_REQUIRE_TORCH=1) a missing onnx fails instead."""
    try:
        import onnx
    except ImportError:
        if os.environ.get("CNNCALC_REQUIRE_TORCH") == "1":
            pytest.fail("CNNCALC_REQUIRE_TORCH=1 but onnx is not importable; pip install onnx")
        pytest.skip("onnx is not installed; pip install onnx to run the ONNX oracle checks")
    return onnx


def module_of(path):
    """The spec as a plain PyTorch module (random weights), and each layer's attribute name."""
    torch = torch_or_skip()
    spec = parse_file(path)
    exported = torch_export(spec)
    namespace: dict = {}
    exec(compile(exported.source, f"<export of {path.name}>", "exec"), namespace)
    with torch.device("meta"):
        model = namespace[exported.class_name]()
    model = model.to_empty(device="cpu")
    for attribute, module in list(model.named_children()):
        if isinstance(module, torch.nn.LocalResponseNorm):
            setattr(model, attribute, _onnx_lrn(torch, module))
        if isinstance(module, torch.nn.ChannelShuffle):
            setattr(model, attribute, _shuffle_as_torchvision(torch, module.groups))
    return spec, model, exported.attributes


def _onnx_lrn(torch, module):
    """nn.LocalResponseNorm, exported as ONNX's LRN operator. PyTorch's TorchScript exporter writes it as a
    dozen primitive nodes (Pow, Pad, AveragePool, If, ...) instead; ONNX's LRN is what other exporters write."""

    class LRN(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.nn.functional.local_response_norm(x, module.size, module.alpha, module.beta, module.k)

        @staticmethod
        def symbolic(g, x):
            return g.op("LRN", x, size_i=module.size, alpha_f=module.alpha, beta_f=module.beta, bias_f=module.k)

    class Wrapped(torch.nn.Module):
        def forward(self, x):
            return LRN.apply(x)

    return Wrapped()


def _shuffle_as_torchvision(torch, groups: int):
    """nn.ChannelShuffle as torchvision's ShuffleNet writes it (view, transpose, view): PyTorch's TorchScript
    exporter has no ONNX operator for nn.ChannelShuffle."""

    class Shuffle(torch.nn.Module):
        def forward(self, x):
            n, c, h, w = x.shape
            x = x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
            return x.view(n, -1, h, w)

    return Shuffle()


def export(path, mode: str, folder) -> str:
    """The spec exported by torch.onnx.export (TorchScript exporter), cached for the session."""
    key = (str(path), mode)
    if key not in _EXPORTS:
        torch = torch_or_skip()
        import warnings

        spec, model, _ = module_of(path)
        target = str(folder / f"{path.stem}.{mode}.onnx")
        example = torch.zeros(1, *spec.input_shape)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            if mode == "train":
                model.train()
                torch.onnx.export(model, (example,), target, dynamo=False, training=torch.onnx.TrainingMode.TRAINING,
                                  do_constant_folding=False)
            else:
                model.eval()
                torch.onnx.export(model, (example,), target, dynamo=False)
        _EXPORTS[key] = target
    return _EXPORTS[key]


@pytest.fixture(scope="session")
def onnx_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


def imported_layer(report, attribute):
    """The imported layer that stands for the torch module `attribute`: the last one made under its name
    (a fc on a volume is a Flatten and a Gemm in ONNX)."""
    found = [layer for layer in report.layers if layer.name == attribute or layer.name.startswith(attribute + ".")]
    assert found, f"no imported layer for module '{attribute}'"
    return found[-1]


def test_the_zoo_is_covered():
    """Every shipped spec whose kinds all have an ONNX operator is cross-checked: the classic networks and the
    modern convolutional ones. ViT-B/16 is checked as torchvision writes it (nn.MultiheadAttention, tokens
    (N, L, D)) below: cnncalc's own export of it computes attention with 1×1 convolutions on (N, D, L)."""
    assert {"alexnet", "vgg16", "resnet50", "googlenet", "densenet121", "mobilenet_v1", "unet", "mobilenet_v3_large",
            "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny", "shufflenet_v2_x1_0"} <= {p.stem for p in ZOO}
    assert {p.stem for p in SPECS.glob("*.yaml")} - {p.stem for p in ZOO} == {"vit_b_16"}


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_training_export_matches_the_spec(path, onnx_folder):
    spec, _, attributes = module_of(path)
    expected = analyze(spec)
    report = analyze(read_spec(export(path, "train", onnx_folder)))
    assert report.input_shape == expected.input_shape
    for layer in expected.layers:
        mine = imported_layer(report, attributes[layer.name])
        assert mine.output_shape == layer.output_shape, layer.name
        assert (mine.weight_count, mine.bias_count) == (layer.weight_count, layer.bias_count), layer.name
        assert mine.non_trainable_count == layer.non_trainable_count, layer.name
        assert mine.macs == layer.macs, layer.name
        assert mine.receptive_field == layer.receptive_field, layer.name
    for field in ("params", "weights", "biases", "non_trainable", "macs", "activations", "inference_peak"):
        assert getattr(report.totals, field) == getattr(expected.totals, field), field


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "unet", "convnext_tiny", "shufflenet_v2_x1_0"])
def test_imported_spec_reads_back_with_the_same_totals(name, onnx_folder):
    """`cnncalc import` writes a spec that `check` accepts and whose totals are the model's."""
    model = export(SPECS / f"{name}.yaml", "train", onnx_folder)
    text = to_yaml(read_network(model))
    from_yaml = analyze(parse_text(text, "imported.yaml"))
    from_model = analyze(read_spec(model))
    assert from_yaml.totals == from_model.totals
    assert [layer.output_shape for layer in from_yaml.layers] == [layer.output_shape for layer in from_model.layers]
    assert text.count("from:") < len(from_model.layers) // 2  # only where a layer does not read the one above


def test_the_reader_sees_what_onnx_sees(onnx_folder):
    """The onnx package's loader as the oracle of the wire-format reader: inputs, initializer dims, nodes."""
    onnx = onnx_or_skip()
    from cnncalc.importers.onnx_proto import read_model

    path = export(SPECS / "resnet18.yaml", "train", onnx_folder)
    oracle = onnx.load(path)
    onnx.checker.check_model(oracle)
    with open(path, "rb") as stream:
        data = stream.read()
    model = read_model(data, len(data))
    assert [n.op_type for n in model.nodes] == [n.op_type for n in oracle.graph.node]
    assert [n.name for n in model.nodes] == [n.name for n in oracle.graph.node]
    assert [n.inputs for n in model.nodes] == [tuple(n.input) for n in oracle.graph.node]
    assert {t.name: t.dims for t in model.initializers.values()} == {t.name: tuple(t.dims) for t in oracle.graph.initializer}
    assert model.opset == next(o.version for o in oracle.opset_import if o.domain in ("", "ai.onnx"))
    for mine, theirs in zip(model.nodes, oracle.graph.node):
        for attribute in theirs.attribute:
            value = onnx.helper.get_attribute_value(attribute)
            if isinstance(value, (int, float, list)):
                assert mine.attributes[attribute.name].value == pytest.approx(value), attribute.name


def test_shapes_follow_onnx_shape_inference(onnx_folder):
    """Every activation's shape, as onnx's own shape inference gives it, is the imported layer's."""
    onnx = onnx_or_skip()
    path = export(SPECS / "googlenet.yaml", "train", onnx_folder)
    inferred = onnx.shape_inference.infer_shapes(onnx.load(path))
    shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim[1:])
              for v in inferred.graph.value_info}
    report = analyze(read_spec(path))
    by_name = {layer.name: layer for layer in report.layers}
    network = read_network(path)
    checked = 0
    for node in inferred.graph.node:
        if node.op_type in ("Conv", "MaxPool", "AveragePool", "Concat", "Gemm", "Relu", "BatchNormalization"):
            matches = [layer for layer in network.layers if layer.location.column == _offset_of(path, node) + 1]
            if matches and node.output[0] in shapes:
                assert by_name[matches[-1].name].output_shape == shapes[node.output[0]], node.name
                checked += 1
    assert checked > 50


def _offset_of(path, node) -> int:
    """Where a node's bytes start in the file (the location cnncalc gives a layer)."""
    from cnncalc.importers.onnx_proto import read_model

    if path not in _OFFSETS:
        with open(path, "rb") as stream:
            data = stream.read()
        _OFFSETS[path] = {n.name: n.offset for n in read_model(data, len(data)).nodes}
    return _OFFSETS[path][node.name]


_OFFSETS: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "mobilenet_v3_small"])
def test_eval_export_folds_batchnorm_and_says_so(name, onnx_folder):
    path = export(SPECS / f"{name}.yaml", "eval", onnx_folder)
    expected = analyze(parse_file(SPECS / f"{name}.yaml"))
    report = analyze(read_spec(path))
    assert report.totals.macs == expected.totals.macs
    batchnorms = [layer for layer in expected.layers if layer.kind == "batchnorm"]
    # every BatchNorm follows a conv without bias: folding scales the conv's weights by γ/σ and makes β − γμ/σ its
    # bias, so one value per channel (γ) and the running statistics disappear
    assert report.totals.params == expected.totals.params - sum(layer.weight_count for layer in batchnorms)
    assert report.totals.non_trainable == 0
    notes = [w.message for w in report.warnings if w.severity == "note"]
    assert any("folded" in note and "TrainingMode.TRAINING" in note for note in notes)
    training = analyze(read_spec(export(SPECS / f"{name}.yaml", "train", onnx_folder)))
    assert not any("folded" in w.message for w in training.warnings)


def _export_lstm_network(torch, path) -> None:
    """A conv, an LSTM (an operator cnncalc does not know) and an fc, exported to `path`."""
    import warnings

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(8, 16, 3)
            self.lstm = torch.nn.LSTM(16, 32)
            self.fc = torch.nn.Linear(32, 4)

        def forward(self, x):
            y = self.conv(x).permute(2, 0, 1)
            out, _ = self.lstm(y)
            return self.fc(out[-1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Net(), (torch.zeros(1, 8, 20),), str(path), dynamo=False)


def test_unknown_operator_is_named_and_counted_not_zero(tmp_path):
    """An LSTM: exit 1, the operator named with its count and first node, no traceback."""
    torch = torch_or_skip()

    path = tmp_path / "lstm.onnx"
    _export_lstm_network(torch, path)
    result = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", str(path)], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "unknown operator LSTM: 1 node, the first '/lstm/LSTM'" in result.stderr
    assert "Transpose" in result.stderr  # the permute is not a cnncalc layer either, and is said so
    assert "--allow-unknown" in result.stderr


def test_allow_unknown_takes_the_models_shapes_and_leaves_the_counts_out(tmp_path):
    """--allow-unknown: the LSTM and the ops around it become `unknown` rows with the shapes onnx's own shape
    inference gives (the oracle); conv and fc are counted, and the totals say what is left out."""
    torch = torch_or_skip()
    onnx = onnx_or_skip()

    plain, inferred = tmp_path / "lstm.onnx", tmp_path / "lstm_shapes.onnx"
    _export_lstm_network(torch, plain)
    model = onnx.shape_inference.infer_shapes(onnx.load(str(plain)))
    onnx.save(model, str(inferred))
    shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in model.graph.value_info}
    with pytest.raises(SpecError) as caught:  # without the shapes there is nothing to pass on, and it says so
        read_spec(str(plain), allow_unknown=True)
    assert "onnx.shape_inference.infer_shapes" in caught.value.problems[0].message
    report = analyze(read_spec(str(inferred), allow_unknown=True))
    network = read_network(str(inferred), allow_unknown=True)
    unknown = [layer for layer in report.layers if layer.kind == "unknown"]
    assert [layer.name for layer in unknown] == ["transpose", "lstm.lstm", "lstm.squeeze", "gather"]
    imported_unknown = [n for n in network.layers if n.kind == "unknown"]
    assert len(imported_unknown) == len(unknown)
    for layer, imported in zip(unknown, imported_unknown):
        node = next(n for n in model.graph.node if _offset_of(str(inferred), n) + 1 == imported.location.column)
        assert layer.output_shape == shapes[node.output[0]][1:], layer.name  # the batch dimension dropped
        assert (layer.param_count, layer.macs) == (0, 0)
    assert report.totals.params == (3 * 8 * 16 + 16) + (32 * 4 + 4)  # conv and fc by hand; the LSTM left out
    warnings_text = " ".join(w.message for w in report.warnings)
    assert "LSTM ×1" in warnings_text and "left out of the totals" in warnings_text
    result = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", str(inferred), "--allow-unknown"],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    assert "unknown operator, not counted" in result.stdout


# ConvTranspose as other exporters write it: uneven pads, output_shape, auto_pad SAME. (attributes, the crop
# before and after of the full transposed output per spatial dim, output_padding), by ONNX's definition:
# total = S·(N − 1) + output_padding + (F − 1) + 1 − out, the odd one before unless SAME_UPPER.
TRANSPOSED = {
    "pads_more_before": ({"pads": [2, 1, 1, 0]}, (2, 1), (1, 0), 0),
    "pads_more_after": ({"pads": [0, 0, 1, 1]}, (0, 0), (1, 1), 0),
    "output_shape": ({"output_shape": [11, 13]}, (1, 2), (0, 1), 0),  # full 12×16 → 11×13
    "output_shape_larger": ({"output_shape": [13, 17]}, (0, 0), (0, 0), 1),  # full 12×16 + output_padding 1
    "same_upper": ({"auto_pad": "SAME_UPPER"}, (1, 1), (1, 1), 0),  # out = 2N: total 2, 1 and 1
    "pads_and_output_padding": ({"pads": [1, 0, 1, 1], "output_padding": [1, 1]}, (1, 0), (1, 1), 1),
}


@pytest.mark.parametrize("case", sorted(TRANSPOSED))
def test_conv_transpose_pads_and_output_shape(case, tmp_path):
    """The node written with onnx's helpers; PyTorch computes the layer (the full transposed conv, cropped as
    the attributes say): cnncalc's shape is torch's and onnx's shape inference's, params and MACs torch's."""
    torch = torch_or_skip()
    onnx = onnx_or_skip()
    from onnx import TensorProto, helper, numpy_helper

    attributes, crop_before, crop_after, extra = TRANSPOSED[case]
    up = torch.nn.ConvTranspose2d(4, 6, 4, stride=2)
    x = torch.zeros(1, 4, 5, 7)
    with torch.no_grad():
        full = torch.nn.functional.conv_transpose2d(x, up.weight, up.bias, stride=2, output_padding=extra)
    expected = tuple(full[:, :, crop_before[0]:full.shape[2] - crop_after[0],
                          crop_before[1]:full.shape[3] - crop_after[1]].shape[1:])
    graph = helper.make_graph(
        [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], "up", kernel_shape=[4, 4], strides=[2, 2],
                          **attributes)], "transposed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, "h", "w"])],
        [numpy_helper.from_array(up.weight.detach().numpy(), "w"), numpy_helper.from_array(up.bias.detach().numpy(), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    assert tuple(d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim[1:]) == expected
    path = tmp_path / f"{case}.onnx"
    onnx.save(model, str(path))
    report = analyze(read_spec(str(path)))
    (layer,) = report.layers
    assert layer.output_shape == expected
    assert layer.param_count == sum(p.numel() for p in up.parameters())
    assert layer.macs == x.numel() * up.weight[0].numel()  # every input value times its filters' kernels
    shifted = any(a - extra > b for b, a in zip(crop_before, crop_after))
    assert any("shifted" in w.message for w in report.warnings) == shifted


def test_the_operator_table_in_the_docs_is_the_readers():
    """docs/import.md's ONNX table lists exactly the reader's rows, and every operator with a handler is named."""
    import re

    from cnncalc.importers.onnx import _HANDLERS, OPERATORS

    from .conftest import doc

    section = doc("import.md").split("## ONNX operators", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ONNX operator")]
    assert rows[:-1] == [f"| {op} | {kind} |" for op, kind in OPERATORS]
    assert rows[-1].startswith("| anything else")
    named = {word for op, _ in OPERATORS for word in re.findall(r"\b[A-Z][A-Za-z]+\b", op)}
    assert set(_HANDLERS) <= named, set(_HANDLERS) - named


def _torchvision_vit(torch, dim: int = 768, heads: int = 12, layers: int = 12, mlp: int = 3072, patch: int = 16,
                     size: int = 224, classes: int = 1000):
    """ViT as torchvision writes it (torchvision.models.vit_b_16's modules, without its dropouts of p = 0):
    tokens (N, L, D), nn.MultiheadAttention, LayerNorm over the features, x[:, 0] for the head."""
    nn = torch.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
            self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

        def forward(self, x):
            y = self.ln_1(x)
            y, _ = self.self_attention(y, y, y, need_weights=False)
            x = x + y
            return x + self.mlp(self.ln_2(x))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_proj = nn.Conv2d(3, dim, patch, stride=patch)
            self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embedding = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
            self.layers = nn.Sequential(*(Encoder() for _ in range(layers)))
            self.ln = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, classes)

        def forward(self, x):
            n = x.shape[0]
            x = self.conv_proj(x).reshape(n, dim, -1).permute(0, 2, 1)
            x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1) + self.pos_embedding
            return self.head(self.ln(self.layers(x))[:, 0])

    return ViT()


def test_vit_b_16_export_matches_the_spec(onnx_folder):
    """torchvision's ViT-B/16 exported by PyTorch (training mode, no folding): patchify, class token, position
    embedding, each nn.MultiheadAttention as one attention layer, per-token fc; layer by layer the YAML spec's
    kinds, shapes, params, MACs and receptive fields, and torch's own parameter count."""
    torch = torch_or_skip()
    import warnings

    model = _torchvision_vit(torch).train()
    path = onnx_folder / "vit_b_16.torchvision.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False,
                          training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
    report = analyze(read_spec(str(path)))
    expected = analyze(parse_file(SPECS / "vit_b_16.yaml"))
    assert report.totals.params == sum(p.numel() for p in model.parameters()) == 86_567_656
    assert [layer.kind for layer in report.layers] == [layer.kind for layer in expected.layers]
    for mine, theirs in zip(report.layers, expected.layers):
        assert mine.output_shape == theirs.output_shape, theirs.name
        assert (mine.weight_count, mine.bias_count, mine.macs) == (theirs.weight_count, theirs.bias_count,
                                                                  theirs.macs), theirs.name
        assert mine.receptive_field == theirs.receptive_field, theirs.name
    for field in ("params", "weights", "biases", "macs", "activations", "inference_peak"):
        assert getattr(report.totals, field) == getattr(expected.totals, field), field
    assert [layer.name for layer in report.layers[:3]] == ["conv_proj", "class_token", "pos_embedding"]
    attention = [layer for layer in report.layers if layer.kind == "attention"]
    assert [layer.name for layer in attention] == [f"layers.{i}.self_attention" for i in range(12)]
