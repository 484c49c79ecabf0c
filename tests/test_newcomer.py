"""Words a newcomer writes, and what cnncalc answers: the fix, in the newcomer's terms."""

from __future__ import annotations

import json

import pytest

from cnncalc.kinds import REGISTRY

from .cli_harness import run


def test_solve_notes_say_each_word_once_and_the_table_stops_at_top():
    result = run(["solve", "--pool", "--input", "32", "--output", "15"])
    assert "overlapping, overlapping" not in result.stdout
    assert "overlapping, window over 3" in result.stdout
    many = run(["solve", "--input", "100", "--output", "50", "--max-padding", "20", "--max-kernel", "30"])
    rows = [line for line in many.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 20  # the default --top
    assert "... and 13 more, rarer ones (--top 33 shows them all" in many.stdout
    assert len([line for line in run(["solve", "--input", "100", "--output", "50", "--max-padding", "20",
                                      "--max-kernel", "30", "--top", "5"]).stdout.splitlines()
                if line.strip()[:1].isdigit()]) == 5


def test_solve_does_not_ask_to_raise_a_bound_the_user_pinned():
    result = run(["solve", "--input", "8", "--output", "16", "--padding", "1"])
    assert result.exit_code == 4
    assert "raise --max-padding" not in result.output and "unpin --padding" in result.output


def test_compare_padding_without_an_input_is_an_error():
    result = run(["compare", "3x3x3", "vs", "7x7", "--padding", "valid"])
    assert result.exit_code == 2 and "--padding applies with --input N" in result.output


def test_dwconv_is_described_plainly():
    kind = REGISTRY["dwconv"]
    assert kind.shape_rule == "as conv, with groups = C_in and filters = C_in·multiplier"
    assert "/ multiplier" not in kind.summary + kind.shape_rule


def check(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, run(["check", str(path)])


@pytest.mark.parametrize("word, kind, why", [
    ("dense", "fc", "cnncalc calls a fully connected layer fc"),
    ("linear", "fc", "cnncalc calls a fully connected layer fc"),
    ("Linear", "fc", "cnncalc calls a fully connected layer fc"),
    ("Conv2d", "conv", "cnncalc calls a convolution conv"),
    ("conv2d", "conv", "cnncalc calls a convolution conv"),
    ("ReLU", "relu", "in lower case"),
    ("MaxPool2d", "maxpool", "in lower case, without '2d'"),
    ("BatchNorm2d", "batchnorm", "in lower case, without '2d'"),
    ("Dropout", "dropout", "in lower case"),
])
@pytest.mark.parametrize("form", ["mapping", "word"])
def test_a_kind_from_another_framework_gets_cnncalcs_name(tmp_path, word, kind, why, form):
    layer = f"{word}: {{}}" if form == "mapping" else word  # `- ReLU: {}` or `- ReLU`
    path, result = check(tmp_path, f"input: [3, 8, 8]\nlayers:\n  - {layer}\n")
    assert result.exit_code == 1  # still an error: the foreign word is not accepted
    assert f"{path}:3:5: error: unknown layer kind" in result.stdout
    assert f"'{word}'; did you mean '{kind}'? (" in result.stdout and why in result.stdout
    assert kind in REGISTRY  # the name offered is a kind cnncalc knows


@pytest.mark.parametrize("written, fix", [("5x5", "[5, 5] (one per spatial dim) or 5"),
                                          ("3 x 5", "[3, 5] (one per spatial dim)"),
                                          ("3×3", "[3, 3] (one per spatial dim) or 3")])
def test_a_kernel_written_5x5_says_how_to_write_it(tmp_path, written, fix):
    path, result = check(tmp_path, f"input: [1, 28, 28]\nlayers:\n  - conv: {{filters: 6, kernel: {written}}}\n")
    assert result.exit_code == 1
    assert f"{path}:3:32: error: conv 'kernel' must be a whole number, not the text '{written}'; write {fix}" \
        in result.stdout


def test_an_activation_inside_a_conv_is_its_own_layer(tmp_path):
    path, result = check(tmp_path, "input: [1, 28, 28]\nlayers:\n  - conv: {filters: 6, kernel: 5, activation: tanh}\n")
    assert result.exit_code == 1
    assert ("conv has no parameter 'activation': cnncalc writes activations as their own layers: add `- tanh` after "
            "the conv") in result.stdout
    assert "did you mean 'dilation'" not in result.stdout
    _, beside = check(tmp_path, "input: [1, 28, 28]\nlayers:\n  - {conv: {filters: 6, kernel: 5}, activation: ReLU}\n",
                      "beside.yaml")  # written beside the kind, as a layer key
    assert ("unknown layer kind or key 'activation': cnncalc writes activations as their own layers: add `- relu` "
            "after the layer") in beside.stdout
    fixed = check(tmp_path, "input: [1, 28, 28]\nlayers:\n  - conv: {filters: 6, kernel: 5}\n  - tanh\n", "fixed.yaml")[1]
    assert fixed.exit_code == 0


@pytest.mark.parametrize("shape, guess", [([32, 32, 1], [1, 32, 32]), ([224, 224, 3], [3, 224, 224])])
def test_a_channels_last_input_is_named(tmp_path, shape, guess):
    path, result = check(tmp_path, f"input: {shape}\nlayers:\n  - conv: {{filters: 6, kernel: 5}}\n")
    assert result.exit_code == 1
    assert f"; input is [C, H, W], channels first: did you mean {guess}?" in result.stdout
    assert check(tmp_path, f"input: {guess}\nlayers:\n  - conv: {{filters: 6, kernel: 5}}\n", "fixed.yaml")[1].exit_code == 0


def test_channels_first_inputs_get_no_such_hint(tmp_path):
    _, result = check(tmp_path, "input: [1, 4, 4]\nlayers:\n  - conv: {filters: 6, kernel: 5}\n")
    assert result.exit_code == 1 and "channels first" not in result.stdout  # [1, 4, 4]: the first two differ


def _window(n: int, k: int, s: int, p: int) -> float:
    return (n + 2 * p - k) / s + 1  # the lecture's formula, by hand


def test_a_stride_that_does_not_fit_offers_what_the_user_most_likely_wants(tmp_path):
    # 3×3/2, p1 on 32: (32 − 3 + 2)/2 + 1 = 16.5; no padding fits (29 + 2P is odd)
    assert _window(32, 3, 2, 1) == 16.5
    path, result = check(tmp_path, "input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: 1}\n")
    assert result.exit_code == 1
    message = result.stdout
    floor, bigger, same = int(_window(32, 3, 2, 1)), int(_window(33, 3, 2, 1)), -(-32 // 2)
    assert (f"PyTorch floors it to {floor}: write 'round: floor' on the layer (or pass --floor) to do the same; "
            f"an input of 33 gives {bigger}; 'padding: same' gives {same}; stride 1 gives 32") in message
    # and each way offered gives what it says
    for fixed, size in [("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: 1, "
                         "round: floor}\n", floor),
                        ("input: [3, 33, 33]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: 1}\n", bigger),
                        ("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2, padding: same}\n",
                         same)]:
        path = tmp_path / "fixed.yaml"
        path.write_text(fixed, encoding="utf-8")
        shaped = run(["shapes", "--format", "json", str(path)])
        assert shaped.exit_code == 0
        assert json.loads(shaped.stdout)["layers"][-1]["output"] == [8, size, size]


def test_pytorch_floors_the_usual_stride_2_conv_as_the_hint_says():
    torch = __import__("tests.conftest", fromlist=["torch_or_skip"]).torch_or_skip()
    conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert conv(torch.zeros(1, 3, 32, 32)).shape[-1] == 16 and conv(torch.zeros(1, 3, 33, 33)).shape[-1] == 17


def test_an_error_in_a_block_used_several_times_names_the_use_that_failed(tmp_path):
    # 12 → 6 → 3 → 1.5: the third use of the block fails, at the conv its definition writes
    path, result = check(tmp_path, "input: [3, 12, 12]\nblocks:\n  down:\n    layers:\n"
                                   "      - conv: {filters: 8, kernel: 2, stride: 2}\n"
                                   "layers:\n  - down\n  - down\n  - down\n")
    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert line.startswith(f"{path}:5:9: error: conv 'down3.conv1': (3 − 2 + 2·0)/2 + 1 = 1.5")  # the definition
    assert line.endswith(f"; block 'down' as used at {path}:9:5")  # and the third use, line 9


def test_layers_names_cnncalcs_kind_for_another_frameworks():
    result = run(["layers", "Linear"])
    assert result.exit_code == 2
    assert "unknown layer kind 'Linear'; did you mean 'fc'? (cnncalc calls a fully connected layer fc)" in result.output


def test_a_block_argument_that_fails_names_the_use_that_gave_it(tmp_path):
    # the third use passes f: 0; its error is found at `$f` in the definition, and names the use (line 10)
    path, result = check(tmp_path, "input: [3, 12, 12]\nblocks:\n  down:\n    params: {f: null}\n    layers:\n"
                                   "      - conv: {filters: $f, kernel: 1}\n"
                                   "layers:\n  - down: {f: 4}\n  - down: {f: 8}\n  - down: {f: 0}\n")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:6:25: error: conv 'filters' must be positive, got 0; "
                                    f"block 'down' as used at {path}:10:5\n")
