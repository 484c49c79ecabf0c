"""`cnncalc diff OLD NEW`: totals against published figures and hand arithmetic, layers matched by name, the
Markdown of a pull-request comment (escaped), JSON, exit codes, and `git:REV:PATH` read with git show."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import SPECS

RESNET18_PARAMS, RESNET34_PARAMS = 11_689_512, 21_797_672  # torchvision, published
VGG16_PARAMS, VGG19_PARAMS = 138_357_544, 143_667_240


def vgg_rf(convs_per_block: tuple[int, ...]) -> int:
    """The receptive field after the last pool of a VGG: 3×3 convs (stride 1) and 2×2 pools (stride 2)."""
    size, jump = 1, 1
    for convs in convs_per_block:
        size += convs * 2 * jump
        size += jump
        jump *= 2
    return size


OLD = """\
name: net
input: [3, 32, 32]
layers:
  - conv: {filters: 8, kernel: 3, padding: 1}
  - relu
  - {name: side, conv: {filters: 8, kernel: 1}}
  - maxpool: 2
  - flatten
  - fc: 10
"""
NEW = """\
name: net
input: [3, 32, 32]
layers:
  - conv: {filters: 16, kernel: 3, padding: 1}
  - relu
  - conv: {filters: 16, kernel: 3, padding: 1}
  - maxpool: 2
  - flatten
  - fc: 10
"""


def run(*args: str, **kwargs):
    return CliRunner().invoke(main, ["diff", *args], **kwargs)


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_totals_side_by_side_with_deltas():
    result = run(str(SPECS / "vgg16.yaml"), str(SPECS / "vgg19.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    totals = {row["key"]: row for row in json.loads(result.stdout)["totals"]}
    assert (totals["params"]["old"], totals["params"]["new"]) == (VGG16_PARAMS, VGG19_PARAMS)
    assert totals["params"]["delta"] == VGG19_PARAMS - VGG16_PARAMS
    assert totals["params"]["ratio"] == pytest.approx((VGG19_PARAMS - VGG16_PARAMS) / VGG16_PARAMS)
    assert (totals["rf"]["old"], totals["rf"]["new"]) == (vgg_rf((2, 2, 3, 3, 3)), vgg_rf((2, 2, 4, 4, 4)))
    text = run(str(SPECS / "resnet18.yaml"), str(SPECS / "resnet34.yaml")).stdout
    delta = RESNET34_PARAMS - RESNET18_PARAMS
    percent = round(100 * delta / RESNET18_PARAMS, 1)
    (line,) = [line for line in text.splitlines() if line.startswith("params ")]
    assert line.split() == ["params", f"{RESNET18_PARAMS:,}", f"{RESNET34_PARAMS:,}", f"+{delta:,}", f"(+{percent}%)"]


def test_memory_row_is_what_memory_prints():
    both = []
    for spec in ("resnet18.yaml", "resnet34.yaml"):
        shown = CliRunner().invoke(main, ["memory", str(SPECS / spec), "--batch", "8", "--optimizer", "adam",
                                          "--format", "json"])
        both.append(json.loads(shown.stdout))
    result = run(str(SPECS / "resnet18.yaml"), str(SPECS / "resnet34.yaml"), "--batch", "8", "--optimizer", "adam",
                 "--format", "json")
    (memory,) = [row for row in json.loads(result.stdout)["totals"] if row["key"] == "memory"]
    assert (memory["old"], memory["new"]) == (both[0]["training"]["total"], both[1]["training"]["total"])
    assert memory["label"] == "training memory at batch 8 (adam)"
    result = run(str(SPECS / "resnet18.yaml"), str(SPECS / "resnet34.yaml"), "--batch", "8", "--inference",
                 "--format", "json")
    (memory,) = [row for row in json.loads(result.stdout)["totals"] if row["key"] == "memory"]
    assert memory["old"] == both[0]["inference"]["total"]


def test_layers_matched_by_name_added_removed_changed(tmp_path):
    result = run(write(tmp_path, "old.yaml", OLD), write(tmp_path, "new.yaml", NEW), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    changes = [(c["name"], c["change"]) for c in data["layers"]]
    # conv1 has 16 filters now; 'side' is gone and conv2 is new; relu1 keeps its kind but its output grew;
    # pool1, flatten1 and fc1 see more channels too (fc1: 16·16·16·10 + 10 weights and biases)
    assert changes == [("conv1", "changed"), ("relu1", "changed"), ("side", "removed"), ("conv2", "added"),
                       ("pool1", "changed"), ("flatten1", "changed"), ("fc1", "changed")]
    conv1 = data["layers"][0]
    assert (conv1["old"]["params"], conv1["new"]["params"]) == (3 * 3 * 3 * 8 + 8, 3 * 3 * 3 * 16 + 16)
    assert data["layers"][-1]["new"]["params"] == 16 * 16 * 16 * 10 + 10
    assert data["unchanged_layers"] == 0
    assert data["layers"][2]["new"] is None and data["layers"][3]["old"] is None


def test_markdown_is_a_pull_request_comment_with_details(tmp_path):
    result = run(write(tmp_path, "old.yaml", OLD), write(tmp_path, "new.yaml", NEW), "--format", "markdown")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("### cnncalc diff: ")
    table = text.index("| | old | new | change |")
    details = text.index("<details><summary>")
    assert table < details < text.index("</details>")
    assert f"| params | {3*3*3*8 + 8 + 8*8 + 8 + 8*16*16*10 + 10:,} |" in text


def test_markdown_escapes_names_from_the_spec(tmp_path):
    hostile = "a|b<img_src=x_onerror=alert(1)>*[link](javascript:x)"
    hostile = hostile.replace(":", "")  # ':' cannot be in a name
    new = NEW.replace("  - relu\n", f"  - {{name: '{hostile}', relu: }}\n", 1)
    result = run(write(tmp_path, "old.yaml", OLD), write(tmp_path, "new.yaml", new), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "<img" not in result.stdout
    assert not re.search(r"(?<!\\)\]\(", result.stdout)  # no link: every ']' before '(' is escaped
    (row,) = [line for line in result.stdout.splitlines() if "img" in line]
    assert row.startswith("| a\\|b&lt;img\\_src=x\\_onerror=alert(1)&gt;\\*\\[link\\](javascriptx) | added |")


def test_exit_0_whatever_the_difference_1_when_a_spec_is_invalid_2_when_unreadable(tmp_path):
    assert run(str(SPECS / "lenet5.yaml"), str(SPECS / "vgg16.yaml")).exit_code == 0
    same = run(str(SPECS / "lenet5.yaml"), str(SPECS / "lenet5.yaml"))
    assert same.exit_code == 0 and "0 layers differ" in same.stdout
    bad = write(tmp_path, "bad.yaml", "input: [3, 8, 8]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n")
    result = run(str(SPECS / "lenet5.yaml"), bad)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"{bad}:3:5: error: conv 'conv1': (8 − 3 + 2·0)/2 + 1 = 3.5 is not an integer")
    assert run(str(tmp_path / "missing.yaml"), bad).exit_code == 2


# -- git:REV:PATH ------------------------------------------------------------------------------------------

def git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "specs").mkdir()
    write(tmp_path / "specs", "net.yaml", OLD)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "old")
    write(tmp_path / "specs", "net.yaml", NEW)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_old_from_git_show_without_a_second_checkout(repo):
    result = run("git:HEAD:specs/net.yaml", "specs/net.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["old"] == {"source": "git:HEAD:specs/net.yaml", "name": "net"}
    assert ("side", "removed") in [(c["name"], c["change"]) for c in data["layers"]]
    assert (repo / "specs" / "net.yaml").read_text(encoding="utf-8") == NEW  # the working copy is untouched


def test_paths_are_relative_to_the_working_directory(repo, monkeypatch):
    monkeypatch.chdir(repo / "specs")
    assert run("git:HEAD:net.yaml", "net.yaml").exit_code == 0


@pytest.mark.parametrize("argument, message", [
    ("git:--output=evil:specs/net.yaml", "starts with '-', which git would read as an option"),
    ("git:-p:specs/net.yaml", "starts with '-'"),
    ("git:HEAD:specs/missing.yaml", "no file specs/missing.yaml at HEAD"),
    ("git:HEAD:specs/*.yaml", "no file specs/*.yaml at HEAD"),  # a literal path, not a pattern
    ("git:HEAD:specs", "specs at HEAD is not a file"),
    ("git:no-such-rev:specs/net.yaml", "git cannot read it: "),
    ("git:HEAD", "write a file at a git revision as git:REV:PATH"),
])
def test_git_mistakes_are_refused_with_a_reason(repo, argument, message):
    result = run(argument, "specs/net.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{argument}:1:1: error: ") and message in result.stderr
    assert not (repo / "evil").exists()


def test_a_spec_too_large_is_refused_before_git_show_reads_it(repo):
    from cnncalc.loader import MAX_SPEC_BYTES

    (repo / "specs" / "big.yaml").write_bytes(b"#" * (MAX_SPEC_BYTES + 1))
    git(repo, "add", "specs/big.yaml")
    git(repo, "commit", "-qm", "big")
    result = run("git:HEAD:specs/big.yaml", "specs/net.yaml")
    assert result.exit_code == 2 and f"the spec is {MAX_SPEC_BYTES + 1:,} bytes" in result.stderr


def test_every_spec_command_reads_git_paths(repo):
    result = CliRunner().invoke(main, ["check", "git:HEAD:specs/net.yaml"])
    assert result.exit_code == 0 and result.stderr.startswith("checked 1 spec: 1 valid")


def test_the_docs_quote_what_diff_prints():
    import shlex

    from .conftest import ROOT

    page = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    command, printed = re.search(r"```text\n\$ (cnncalc diff [^\n]+)\n(.*?)\.\.\.\n```", page, re.S).group(1, 2)
    result = CliRunner().invoke(main, shlex.split(command)[1:])
    assert result.exit_code == 0
    shown = result.stdout.splitlines()[:len(printed.splitlines())]
    # the memory line follows `cnncalc memory`'s model (checked against it above), not the page
    keep = [i for i, line in enumerate(printed.splitlines()) if not line.startswith("training memory")]
    assert [shown[i] for i in keep] == [printed.splitlines()[i] for i in keep]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_table_fits_the_width_and_keeps_the_change(width):
    result = run(str(SPECS / "resnet50.yaml"), str(SPECS / "resnet152.yaml"), "--width", str(width))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    delta = 60_192_808 - 25_557_032  # torchvision's resnet152 and resnet50, published
    assert any(line.startswith("params") and f"+{delta:,}" in line for line in lines)
