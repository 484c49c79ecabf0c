"""Caffe prototxt import: hand-written files in both styles, checked against Caffe's own arithmetic and PyTorch.

Oracles: Caffe's published LeNet (431,080 parameters), Caffe's pooling formula written out here as
pooling_layer.cpp computes it, and the same networks built in PyTorch (shapes, parameters, buffers).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnncalc.engine import analyze
from cnncalc.importers import read_network, read_spec
from cnncalc.importers.emit import to_yaml
from cnncalc.parser import parse_text
from cnncalc.problems import SpecError

from .conftest import ROOT, torch_or_skip

MODELS = Path(__file__).resolve().parent / "models"


def report_of(name: str):
    return analyze(read_spec(str(MODELS / name)))


def test_lenet_in_both_styles_is_caffes_lenet():
    new, old = report_of("lenet.prototxt"), report_of("lenet_v1.prototxt")
    assert new.totals.params == 431_080  # Caffe's MNIST LeNet, as its model zoo and tutorials give it
    # MACs by hand: conv1 24·24·20·(5·5·1), conv2 8·8·50·(5·5·20), ip1 800·500, ip2 500·10
    assert new.totals.macs == 24 * 24 * 20 * 25 + 8 * 8 * 50 * 500 + 800 * 500 + 500 * 10
    assert [layer.output_shape for layer in new.layers] == [layer.output_shape for layer in old.layers]
    assert new.totals == old.totals
    assert [layer.name for layer in new.layers] == ["conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "prob"]


def caffe_pool(n: int, k: int, s: int, p: int) -> int:
    """Caffe's PoolingLayer::Reshape (round_mode CEIL), as written in pooling_layer.cpp."""
    out = int(math.ceil((n + 2 * p - k) / s)) + 1
    if p and (out - 1) * s >= n + p:
        out -= 1
    return out


def test_pooling_rounds_up_as_caffe_does():
    layers = {layer.name: layer for layer in report_of("ceil_pool.prototxt").layers}
    conv = (224 + 2 * 3 - 7) // 2 + 1  # Caffe's convolution floors
    pool1 = caffe_pool(conv, 3, 2, 0)
    pool2 = caffe_pool(pool1, 3, 2, 1)
    pool3 = caffe_pool(pool2, 3, 2, 1)
    assert (conv, pool1, pool2, pool3) == (112, 56, 29, 15)  # where floor would give 55 and 28
    assert layers["conv1"].output_shape == (16, conv, conv)
    assert layers["pool1"].output_shape == (16, pool1, pool1)
    assert layers["pool2"].output_shape == (16, pool2, pool2)
    assert layers["pool3"].output_shape == (16, pool3, pool3)
    assert layers["pool4"].output_shape == (16, 1, 1)


def test_pooling_where_caffe_and_pytorch_disagree_is_refused(tmp_path):
    """Without padding Caffe keeps a last window that starts past the input (kernel 1, stride 3 on 5: 3 windows
    by its formula, 2 by PyTorch's): cnncalc cannot write that layer, and says so on its line."""
    path = tmp_path / "odd.prototxt"
    path.write_text('input: "data"\ninput_shape { dim: 1 dim: 1 dim: 5 dim: 5 }\n'
                    'layer {\n  name: "p"\n  type: "Pooling"\n  bottom: "data"\n  top: "p"\n'
                    '  pooling_param { pool: MAX kernel_size: 1 stride: 3 }\n}\n')
    assert caffe_pool(5, 1, 3, 0) == 3  # ceil(4/3) + 1: the third window starts at 6, past the input
    with pytest.raises(SpecError) as caught:
        read_spec(str(path))
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (3, 1)
    assert "Caffe's rounding gives 3×3" in problem.message


def test_inception_concat_against_pytorch():
    torch = torch_or_skip()
    nn = torch.nn
    branches = [nn.Conv2d(192, 64, 1), nn.Sequential(nn.Conv2d(192, 96, 1), nn.Conv2d(96, 128, 3, padding=1)),
                nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2)),
                nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(192, 32, 1))]
    x = torch.zeros(1, 192, 28, 28)
    out = torch.cat([b(x) for b in branches], 1)
    report = report_of("inception.prototxt")
    assert report.layers[-1].output_shape == tuple(out.shape[1:])
    assert report.totals.params == sum(p.numel() for b in branches for p in b.parameters())
    assert report.layers[-1].name == "inception_3a.output"  # Caffe's name, '/' read as '.'


def test_residual_block_against_pytorch():
    """BatchNorm + Scale is one batchnorm (Scale holds γ and β); in-place ReLU; Eltwise SUM of the two paths."""
    torch = torch_or_skip()
    nn = torch.nn
    shortcut = nn.Sequential(nn.Conv2d(64, 128, 1, 2, bias=False), nn.BatchNorm2d(128))
    main = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                         nn.Conv2d(128, 128, 3, 1, 1, bias=False), nn.BatchNorm2d(128))
    x = torch.zeros(1, 64, 56, 56)
    out = torch.relu(shortcut(x) + main(x))
    report = report_of("residual.prototxt")
    modules = list(shortcut) + list(main)
    assert report.layers[-1].output_shape == tuple(out.shape[1:])
    assert report.totals.params == sum(p.numel() for m in modules for p in m.parameters())
    assert report.totals.non_trainable == sum(b.numel() for m in modules for name, b in m.named_buffers()
                                              if "running" in name)
    assert [layer.kind for layer in report.layers].count("batchnorm") == 3
    assert report.layers[-2].inputs == ("bn2a_branch1", "bn2a_branch2b")


@pytest.mark.parametrize("name", ["lenet.prototxt", "lenet_v1.prototxt", "ceil_pool.prototxt", "inception.prototxt",
                                  "residual.prototxt"])
def test_imported_yaml_reads_back_with_the_same_totals(name):
    network = read_network(str(MODELS / name))
    from_yaml = analyze(parse_text(to_yaml(network), "imported.yaml"))
    assert from_yaml.totals == report_of(name).totals


def test_parse_errors_name_line_and_column(tmp_path):
    path = tmp_path / "bad.prototxt"
    path.write_text('name: "x"\ninput: "data"\ninput_dim: 1\nlayer {\n  name: "c"\n  type: "Convolution"\n'
                    '  convolution_param { num_output: 8 kernel_size: 3 \n}\n')
    with pytest.raises(SpecError) as caught:
        read_spec(str(path))
    assert (caught.value.problems[0].location.line, caught.value.problems[0].location.column) == (4, 1)
    path.write_text('name: "x"\nlayer {\n  name: "c" type: = \n}\n')
    with pytest.raises(SpecError) as caught:
        read_spec(str(path))
    problem = caught.value.problems[0]
    assert (problem.location.line, problem.location.column) == (3, 19)  # the "=" after "  name: \"c\" type: "


def test_unknown_layer_type_is_named_and_exits_1(tmp_path):
    path = tmp_path / "unknown.prototxt"
    path.write_text('input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n'
                    'layer { name: "a" type: "Power" bottom: "data" top: "a" }\n'
                    'layer { name: "b" type: "Power" bottom: "a" top: "b" }\n')
    result = subprocess.run([sys.executable, "-m", "cnncalc", "check", str(path)], capture_output=True, text=True,
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 1
    assert f"{path}:6:1: error: unknown layer type Power: 2 layers, the first 'a'" in result.stdout
    assert "Traceback" not in result.stderr
