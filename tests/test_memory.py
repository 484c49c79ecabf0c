"""Memory: components worked out by hand, PyTorch's autograd as the oracle for the saved tensors,
the inference peak on hand-built graphs, and the rules table in docs/commands/memory.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import prod

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.engine import analyze
from cnncalc.kinds import REGISTRY
from cnncalc.memory import inference_peak, saved_tensors, storage_owners
from cnncalc.parser import parse_file, parse_text
from cnncalc.render.sizing import saved_rules_markdown
from cnncalc.sizing import Settings, memory_report

from .conftest import ROOT, SPECS, doc, torch_or_skip
from .torch_modules import MODERN_ORACLE_SPECS, modern_module

SMALL = """name: small
input: [3, 8, 8]
layers:
  - conv: {filters: 4, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - maxpool: 2
  - dropout: 0.5
  - fc: 10
  - softmax
"""


def small(batch: int = 2, **settings):
    return memory_report(analyze(parse_text(SMALL, "small.yaml")), Settings(**settings), batch)


# --- components by hand ---------------------------------------------------------------------------

def test_small_net_by_hand():
    m = small(batch=2, dtype="float32", optimizer="adam")
    params = (3 * 3 * 3) * 4 + 4 + (4 + 4) + (4 * 4 * 4) * 10 + 10  # conv, batchnorm scale/shift, fc
    assert params == 770
    t = {c.key: c.bytes for c in m.training.components}
    assert t["parameters"] == 770 * 4
    assert t["optimizer_state"] == 2 * 770 * 4
    assert t["buffers"] == 2 * 4 * 4  # running mean and variance of 4 channels
    # Kept per sample: the input 3·8·8 (conv keeps it), the conv output 4·8·8 (batchnorm's input),
    # the batchnorm output 4·8·8 (the in-place ReLU's output, also the max-pool's input), the pool
    # output 4·4·4 (dropout is in place; fc keeps it), the softmax output 10, all 4 bytes; the pool's
    # int64 indices 4·4·4 × 8 B; dropout's bool mask 4·4·4 × 1 B. Per batch: batchnorm's mean and
    # inverse std, 2·4 × 4 B.
    per_sample = (192 + 256 + 256 + 64 + 10) * 4 + 64 * 8 + 64 * 1
    assert per_sample == 3688
    assert m.kept.bytes == 2 * 3688 + 2 * 4 * 4
    # Adam's step: parameters, all their gradients, two states and the step's one temporary copy,
    # the buffers and the input batch (2·192 values) held by the caller; the peak is no less
    step = m.timeline.moments[-1]
    assert step.phase == "step" and step.at(2) == 3080 + 3080 + 6160 + 3080 + 32 + 2 * 192 * 4
    assert m.training.total == m.timeline.peak_bytes == max(moment.at(2) for moment in m.timeline.moments)
    # Inference: input 192 (held by the caller throughout) → conv 256 → batchnorm 256 while the conv
    # output is alive: 192 + 512 values, the peak → relu in place → pool 64 → fc 10 → softmax 10.
    assert m.peak.values == 704 and m.peak.layer == "bn1"
    i = {c.key: c.bytes for c in m.inference.components}
    assert i["inference_peak"] == 2 * 704 * 4
    assert m.inference.total == 3080 + 32 + 2 * 704 * 4


def test_vgg16_parameters_at_float32():
    m = memory_report(analyze(parse_file(SPECS / "vgg16.yaml")), Settings("float32", optimizer="sgd"), 1)
    assert m.training["parameters"].bytes == 138_357_544 * 4
    assert m.timeline.moments[-1].parts(1)["gradients"] == 138_357_544 * 4  # at the step, all of them
    assert m.training["optimizer_state"].bytes == 0


def test_vgg16_activations_kept_for_backward_by_hand():
    m = memory_report(analyze(parse_file(SPECS / "vgg16.yaml")), Settings("float32"), 1)
    convs = 2 * 224 * 224 * 64 + 2 * 112 * 112 * 128 + 3 * 56 * 56 * 256 + 3 * 28 * 28 * 512 + 3 * 14 * 14 * 512
    pools = 112 * 112 * 64 + 56 * 56 * 128 + 28 * 28 * 256 + 14 * 14 * 512 + 7 * 7 * 512
    # the input, every conv output (kept by its ReLU), every pool output (kept by the next layer),
    # fc1 and fc2 outputs (kept by their ReLUs), the softmax output; pool indices; dropout masks
    values = 224 * 224 * 3 + convs + pools + 4096 + 4096 + 1000
    assert values == 15_237_608  # the lecture's per-layer figures, correctly summed
    assert m.kept.bytes == values * 4 + pools * 8 + 2 * 4096 * 1


def test_what_dominates_vgg16_at_batch_1_and_64():
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    one = memory_report(report, Settings("float32", optimizer="momentum"), 1).training
    many = memory_report(report, Settings("float32", optimizer="momentum"), 64).training
    assert max(one.components, key=lambda c: c.bytes).key == "parameters"
    assert max(many.components, key=lambda c: c.bytes).key == "activations"


@pytest.mark.parametrize("optimizer, copies", [("sgd", 0), ("momentum", 1), ("nesterov", 1), ("rmsprop", 1),
                                               ("adam", 2), ("adamw", 2)])
def test_optimizer_state_copies(optimizer, copies):
    assert small(optimizer=optimizer).training["optimizer_state"].bytes == copies * 770 * 4


def test_adam_doubles_momentum():
    assert small(optimizer="adam").training["optimizer_state"].bytes == \
        2 * small(optimizer="momentum").training["optimizer_state"].bytes


def test_mixed_precision_adam_is_16_bytes_per_parameter():
    """ZeRO (Rajbhandari et al., 2020): 2 (fp16 weights) + 2 (fp16 gradients) + 4 + 4 + 4 (fp32
    master weights, momentum, variance) = 16 bytes per parameter after the backward pass; for the
    step the fp16 gradients become fp32 master gradients: 2 + 4 + 4 + 4 + 4 = 18."""
    m = small(dtype="float16", mixed=True, optimizer="adam")
    keys = ("parameters", "master_weights", "gradients", "master_gradients", "optimizer_state")
    after_backward = [moment for moment in m.timeline.moments if moment.phase == "backward"][-1]
    assert after_backward.parts(2)["gradients"] == 2 * 770  # every fp16 gradient exists
    assert sum(after_backward.parts(2)[k] for k in keys) == 16 * 770
    step = m.timeline.moments[-1]
    assert step.parts(2)["gradients"] == 0
    assert sum(step.parts(2)[k] for k in keys) == 18 * 770
    # activations are 16-bit; indices stay int64, masks bool, batchnorm statistics float32
    assert m.kept.bytes == 2 * ((192 + 256 + 256 + 64 + 10) * 2 + 64 * 8 + 64) + 2 * 4 * 4
    assert m.training["buffers"].bytes == 8 * 4


def test_pure_half_precision_halves_everything_but_indices_and_masks():
    m32, m16 = small(dtype="float32", optimizer="adam"), small(dtype="bfloat16", optimizer="adam")
    for key in ("parameters", "gradients", "optimizer_state", "buffers"):
        assert 2 * m16.training[key].bytes == m32.training[key].bytes
    assert m16.kept.bytes == 2 * ((192 + 256 + 256 + 64 + 10) * 2 + 64 * 8 + 64) + 2 * 4 * 4


def test_totals_are_affine_in_the_batch():
    for batch in (1, 2, 7, 64):
        m = small(batch=batch)
        assert m.training.total == m.training.fixed_bytes + batch * m.training.per_sample_bytes
        assert m.inference.total == m.inference.fixed_bytes + batch * m.inference.per_sample_bytes


def test_dropout_with_p_0_keeps_nothing():
    report = analyze(parse_text("input: [4]\nlayers:\n  - dropout: 0\n  - fc: 2\n", "t.yaml"))
    kept = [s for s in saved_tensors(4, report.layers, 4) if s.layer == "dropout1"]
    assert kept == []


# --- the inference peak and storage sharing, on hand-built graphs -----------------------------------

@dataclass(frozen=True)
class N:
    name: str
    inputs: tuple[str, ...]
    activation_count: int
    new_tensor: bool = True


def test_peak_of_a_chain_frees_each_tensor_after_its_reader():
    layers = [N("a", ("input",), 10), N("b", ("a",), 20), N("c", ("b",), 5)]
    peak = inference_peak(8, layers)
    assert (peak.values, peak.layer, peak.live) == (38, "b", ("input", "a", "b"))  # the caller holds the input


def test_peak_keeps_a_skip_connection_alive_until_the_merge():
    # input → a → b → c, and d reads a and c (a residual merge): a stays alive through b and c
    layers = [N("a", ("input",), 10), N("b", ("a",), 10), N("c", ("b",), 10), N("d", ("a", "c"), 10)]
    peak = inference_peak(10, layers)
    assert peak.values == 40  # while c runs: input, a, b, c (then b is freed; at d: input, a, c, d = 40 too)
    assert peak.layer == "c"
    assert inference_peak(10, layers[:3]).values == 30  # without the merge a is freed after b


def test_in_place_layers_share_their_input_storage():
    layers = [N("a", ("input",), 10), N("r", ("a",), 10, new_tensor=False), N("b", ("r",), 3)]
    assert storage_owners(layers)["r"] == "a"
    peak = inference_peak(4, layers)
    assert peak.values == 17  # input + a + b while b runs; r adds nothing


def test_network_outputs_stay_alive():
    # two heads read a; the first head's output is a result and must not be freed before the second runs
    layers = [N("a", ("input",), 1), N("h1", ("a",), 100), N("h2", ("a",), 100)]
    assert inference_peak(1, layers).values == 1 + 1 + 100 + 100  # input, a, h1 and h2 at the last step


def test_peak_with_no_layers_is_the_input():
    assert inference_peak(7, []).values == 7


# --- PyTorch's autograd as the oracle -------------------------------------------------------------

ORACLE_SPECS = [
    """input: [3, 16, 16]
layers:
  - conv: {filters: 8, kernel: 3, padding: 1}
  - batchnorm
  - relu
  - maxpool: 2
  - conv: {filters: 8, kernel: 3, padding: 1}
  - sigmoid
  - avgpool: 2
  - conv: {filters: 6, kernel: 3, padding: 1}
  - tanh
  - lrn: 5
  - leakyrelu
  - conv: {filters: 6, kernel: 1}
  - gelu
  - globalmaxpool
  - flatten
  - fc: 10
  - softmax
""",
    """input: [3, 9, 9]
layers:
  - conv: {filters: 4, kernel: 3, stride: 2, dilation: 1, groups: 1, bias: false}
  - globalavgpool
  - fc: 5
""",
    """input: [2, 20]
layers:
  - conv: {filters: 4, kernel: 3}
  - batchnorm
  - relu
  - maxpool: 2
  - lrn: {size: 3}
  - fc: 6
  - tanh
""",
    """input: [4, 8, 8]
layers:
  - dwconv: {kernel: 3, padding: 1, multiplier: 2}
  - relu
  - name: squeeze
    conv: {filters: 4, kernel: 1}
  - add:
    from: [squeeze, input]
  - identity
  - deconv: {filters: 3, kernel: 4, stride: 2, padding: 1}
  - upsample: {scale: 2}
  - pad: {before: [1, 0], after: [0, 2]}
  - name: resized
    upsample: {size: [20, 17], mode: bilinear}
  - name: side
    conv: {filters: 3, kernel: 3, padding: 1}
  - concat:
    from: [side, resized]
  - sigmoid
""",
] + MODERN_ORACLE_SPECS


def torch_module(torch, layer):
    """The PyTorch module for one computed layer, spatial dims from its input shape."""
    nn = torch.nn
    p, ndim = layer.params, len(layer.input_shape) - 1
    modern = modern_module(torch, layer)
    if modern is not None:
        return modern
    if layer.kind in ("conv", "dwconv"):
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[ndim - 1]
        channels = layer.input_shape[0]
        filters, groups = (p["filters"], p["groups"]) if layer.kind == "conv" else (channels * p["multiplier"], channels)
        return conv(channels, filters, p["kernel"], stride=p["stride"], padding=p["padding"],
                    dilation=p["dilation"], groups=groups, bias=p["bias"])
    if layer.kind == "deconv":
        deconv = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[ndim - 1]
        return deconv(layer.input_shape[0], p["filters"], p["kernel"], stride=p["stride"], padding=p["padding"],
                      output_padding=p["output_padding"], groups=p["groups"], bias=p["bias"], dilation=p["dilation"])
    if layer.kind == "upsample":
        if p["scale"] is not None:
            return nn.Upsample(scale_factor=p["scale"], mode=p["mode"])
        return nn.Upsample(size=p["size"], mode=p["mode"])
    if layer.kind == "pad":
        before = p["before"] if p["padding"] is None else p["padding"]
        after = p["after"] if p["padding"] is None else p["padding"]
        before = before if isinstance(before, tuple) else (before or 0,) * ndim
        after = after if isinstance(after, tuple) else (after or 0,) * ndim
        widths = [w for b, a in zip(reversed(before), reversed(after)) for w in (b, a)]  # last dim first
        return lambda x: torch.nn.functional.pad(x, widths, value=p["value"])
    if layer.kind == "add":
        return lambda *xs: sum(xs[1:], xs[0])
    if layer.kind == "concat":
        return lambda *xs: torch.cat(xs, 1)
    if layer.kind == "batchnorm":
        return (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[max(ndim, 1) - 1](layer.input_shape[0])
    if layer.kind in ("maxpool", "avgpool"):
        pools = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d) if layer.kind == "maxpool" else \
            (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
        return pools[ndim - 1](p["kernel"], stride=p["stride"], padding=p["padding"], ceil_mode=p["ceil_mode"])
    if layer.kind == "globalavgpool":
        return (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[ndim - 1](1)
    if layer.kind == "globalmaxpool":
        return (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)[ndim - 1](1)
    if layer.kind == "fc":
        return nn.Sequential(nn.Flatten(), nn.Linear(prod(layer.input_shape), p["units"], bias=p["bias"]))
    simple = {
        "flatten": lambda: nn.Flatten(),
        "relu": lambda: nn.ReLU(inplace=True),
        "leakyrelu": lambda: nn.LeakyReLU(p["negative_slope"], inplace=True),
        "sigmoid": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "gelu": lambda: nn.GELU(),
        "softmax": lambda: nn.Softmax(dim=1),
        "lrn": lambda: nn.LocalResponseNorm(p["size"], p["alpha"], p["beta"], p["k"]),
        "identity": lambda: nn.Identity(),
    }
    return simple[layer.kind]()


# Kinds checked against PyTorch by the oracle specs above, and kinds checked another way.
CHECKED_ELSEWHERE = {"dropout": "test_dropout_mask_is_bool_in_the_fused_kernel (the CPU path keeps a float mask)",
                     "unknown": "test_import_onnx.py (an imported operator cnncalc does not know: nothing counted)"}


def measure(torch, report, batch):
    """Run the layers in PyTorch, each on the tensors its `inputs` name, under saved_tensors_hooks.
    Returns what each layer kept (labelled input/output/own, with bytes) and the bytes of every
    distinct storage kept, the input batch included."""
    torch.manual_seed(0)
    modules = [torch_module(torch, layer) for layer in report.layers]
    parameters = {t.untyped_storage().data_ptr() for m in modules if isinstance(m, torch.nn.Module)
                  for t in list(m.parameters()) + list(m.buffers())}
    kept: list[tuple[int, int]] = []

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            kept.append((storage.data_ptr(), storage.nbytes()))
        return tensor

    tensors = {"input": torch.randn(batch, *report.input_shape)}
    per_layer = []
    distinct = {tensors["input"].untyped_storage().data_ptr(): tensors["input"].untyped_storage().nbytes()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        for layer, module in zip(report.layers, modules):
            if isinstance(module, torch.nn.Module):
                module.train()
            start = len(kept)
            inputs = [tensors[name] for name in layer.inputs]
            y = module(*inputs)
            assert tuple(y.shape[1:]) == tuple(layer.output_shape), layer.name
            into = {x.untyped_storage().data_ptr() for x in inputs}
            out = y.untyped_storage().data_ptr()
            labelled = set()
            for ptr, nbytes in kept[start:]:
                label = "input" if ptr in into else "output" if ptr == out else "own"
                labelled.add((label, nbytes, ptr))
                distinct[ptr] = nbytes
            per_layer.append(sorted((label, nbytes) for label, nbytes, _ in labelled))
            tensors[layer.name] = y
    return per_layer, sum(distinct.values())


def predicted(report, batch):
    """cnncalc's rule per layer, labelled as measure() labels PyTorch's (an in-place layer's output is its input)."""
    out = []
    shapes = {layer.name: layer.output_shape for layer in report.layers}
    owners = storage_owners(report.layers)
    storage_values = {"input": prod(report.input_shape)}  # a view keeps its whole storage (a selected token)
    for layer in report.layers:
        storage_values.setdefault(owners[layer.name], layer.activation_count)
    for layer in report.layers:
        kind = REGISTRY[layer.kind]
        labelled = set()
        if kind.max_inputs > 1:
            rule = kind.saved_for_backward_merge(layer.params, tuple(shapes.get(name, report.input_shape)
                                                                     for name in layer.inputs), layer.output_shape, 4)
        else:
            rule = kind.saved_for_backward(layer.params, layer.input_shape, layer.output_shape, 4)
        for s in rule:
            if s.implementation == "fused":
                continue
            what = s.what if s.what in ("input", "output") else "own"
            values = s.values
            if s.what == "input":
                values = max(values, storage_values[owners[layer.inputs[s.input_index]]])
            if what == "output" and not layer.new_tensor:
                what = "input"
            labelled.add((what, values * s.bytes_per_value * (batch if s.per_sample else 1), s.what, s.input_index))
        out.append(sorted((what, nbytes) for what, nbytes, *_ in labelled))
    return out


@pytest.mark.parametrize("text", ORACLE_SPECS)
def test_saved_tensors_match_pytorch_autograd(text):
    torch = torch_or_skip()
    report = analyze(parse_text(text, "oracle.yaml"))
    batch = 2
    per_layer, total = measure(torch, report, batch)
    assert len(per_layer) == len(report.layers)
    for layer, theirs, ours in zip(report.layers, per_layer, predicted(report, batch)):
        assert ours == theirs, f"{layer.name} ({layer.kind})"
    m = memory_report(report, Settings("float32"), batch)
    assert m.kept.bytes == total


def test_every_kind_is_checked_against_pytorch():
    covered = {layer.kind for text in ORACLE_SPECS for layer in analyze(parse_text(text, "o.yaml")).layers}
    assert set(REGISTRY) - covered == set(CHECKED_ELSEWHERE)


def test_dropout_mask_is_bool_in_the_fused_kernel():
    """GPUs run dropout as native_dropout, whose mask is bool (1 byte per value); PyTorch's CPU path
    multiplies by a noise tensor of the input's dtype instead. cnncalc counts the GPU's mask."""
    torch = torch_or_skip()
    x = torch.randn(2, 4, 8, 8)
    _, mask = torch.native_dropout(x, 0.5, True)
    assert mask.dtype == torch.bool and mask.element_size() == 1 and mask.numel() == x.numel()
    rule = REGISTRY["dropout"].saved_for_backward({"p": 0.5}, (4, 8, 8), (4, 8, 8), 4)
    assert [(s.values * 2, s.bytes_per_value) for s in rule] == [(mask.numel(), mask.element_size())]
    # and the CPU path keeps exactly one tensor of that many values
    kept = []
    y = x.clone().requires_grad_(True) * 1
    with torch.autograd.graph.saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        torch.nn.Dropout(0.5, inplace=True)(y)
    assert [t.numel() for t in kept] == [x.numel()]


def test_vgg16_inference_peak_against_pytorch():
    """The peak of live activation bytes in PyTorch's eval-mode forward, tensors dropped after their
    last use, is cnncalc's figure (measured by tracking each tensor through weak references)."""
    torch = torch_or_skip()
    report = analyze(parse_file(SPECS / "vgg16.yaml"))
    # at VGG16's full size this is slow on a CPU: the first two convs decide the peak, so run them
    # and compare against the same prefix
    prefix = report.layers[:6]
    torch.manual_seed(0)
    modules = [torch_module(torch, layer) for layer in prefix]
    x = batch = torch.randn(1, 3, 224, 224)  # the caller holds the batch: it is never freed
    live = {id(x): x.numel()}
    peak = x.numel()
    with torch.no_grad():
        for module in modules:
            module.eval()
            y = module(x)
            if y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr():
                live[id(y)] = y.numel()
            peak = max(peak, sum(live.values()))
            if y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr() and x is not batch:
                del live[id(x)]
            x = y
    assert inference_peak(report.totals.input_activations, prefix).values == peak == 2 * 224 * 224 * 64 + 3 * 224 * 224


# --- the rules table and the CLI ------------------------------------------------------------------

def test_every_kind_states_its_rule():
    missing = [name for name, kind in REGISTRY.items() if not kind.saved_rule]
    assert missing == []


def test_documented_rules_table_is_the_registry_s():
    readme = doc("commands/memory.md")
    assert saved_rules_markdown() in readme


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_memory_json_keys_and_bytes():
    result = run("memory", str(SPECS / "vgg16.yaml"), "--batch", "2", "--optimizer", "adamw", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("parameters", "gradients", "optimizer_state", "activations", "inference_peak", "total"):
        assert isinstance(data[key], int)
    assert data["parameters"] == 138_357_544 * 4
    assert data["optimizer_state"] == 2 * 138_357_544 * 4
    assert data["total"] == sum(data[k] for k in ("parameters", "master_weights", "gradients", "optimizer_state",
                                                  "buffers", "input_batch", "activations", "activation_gradients",
                                                  "temporaries"))
    assert data["inference_peak"] == 2 * (2 * 224 * 224 * 64 + 3 * 224 * 224) * 4


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_cli_memory_formats(fmt):
    result = run("memory", str(SPECS / "vgg16.yaml"), "--batch", "64", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "activations" in result.output


def test_cli_memory_csv_total_row():
    result = run("memory", str(SPECS / "vgg16.yaml"), "--format", "csv")
    rows = [line.split(",") for line in result.output.splitlines()]
    training = {r[1]: int(r[2]) for r in rows[1:] if r[0] == "training"}
    assert training["total"] == sum(v for k, v in training.items() if k != "total")


def test_cli_memory_usage_errors():
    assert run("memory", str(SPECS / "vgg16.yaml"), "--mixed", "--dtype", "float32").exit_code == 2
    assert run("memory", str(SPECS / "vgg16.yaml"), "--optimizer", "lbfgs").exit_code == 2
    assert run("memory", str(SPECS / "vgg16.yaml"), "--batch", "0").exit_code == 2


def test_cli_memory_int8_spec_asks_for_a_training_dtype(tmp_path):
    spec = tmp_path / "q.yaml"
    spec.write_text("input: [1, 4, 4]\ndtype: int8\nlayers:\n  - conv: {filters: 1, kernel: 3}\n")
    result = run("memory", str(spec), "--format", "json")  # inference at 1 byte per value
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["trains"] is False and data["total"] is None
    assert data["inference_peak"] == 16 + 4 and data["parameters"] == 10  # input 4·4 and output 2·2 values
    result = run("fit", str(spec), "--memory", "1MB")  # training: a clear error
    assert result.exit_code == 2 and "--dtype" in result.output and "int8" in result.output
    assert run("fit", str(spec), "--memory", "1MB", "--inference").exit_code == 0
    assert run("memory", str(spec), "--dtype", "float16").exit_code == 0


def test_cli_memory_invalid_spec_is_exit_1():
    result = run("memory", str(ROOT / "tests" / "specs" / "bad_stride.yaml"))
    assert result.exit_code == 1


def test_documented_example_is_real_output():
    result = run("memory", str(SPECS / "vgg16.yaml"), "--batch", "64", "--optimizer", "adam", "--summary",
                 "--format", "markdown")
    readme = doc("commands/memory.md")
    rows = [line for line in result.output.splitlines() if line.startswith("| ")]
    assert len(rows) == 14
    assert all(row in readme for row in rows)


def test_resnet18_saved_tensors_match_pytorch_autograd():
    """A whole branching network: ResNet-18 as the shipped spec builds it, run in PyTorch layer by layer
    along the spec's own `inputs` (residual adds included)."""
    torch = torch_or_skip()
    report = analyze(parse_file(SPECS / "resnet18.yaml"))
    per_layer, total = measure(torch, report, 2)
    assert per_layer == predicted(report, 2)
    assert memory_report(report, Settings("float32"), 2).kept.bytes == total
