"""The Python API (cnncalc.load, analyze, memory, SpecError): published totals, hand arithmetic, and the same
numbers and problems as the command line."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main

from .conftest import ROOT, SPECS, TEST_SPECS, doc

SMALL = TEST_SPECS / "small_cnn.yaml"
SMALL_PARAMS = (3 * 9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 8 * 8 * 10 + 10)  # conv1, conv2, fc: by hand


def test_vgg16_totals_are_the_published_ones():
    """Simonyan & Zisserman's VGG16: 138,357,544 parameters; 15.47 G multiply-accumulates (224×224)."""
    report = cnncalc.analyze(cnncalc.load(SPECS / "vgg16.yaml"))
    assert report.totals.params == 138_357_544
    assert report.totals.macs == 15_470_264_320
    assert report.layers[0].output_shape == (64, 224, 224)  # 3×3, padding 1: (224 − 3 + 2)/1 + 1
    assert report.layers[0].output == (64, 224, 224)  # the short name the API promises
    assert report.layers[-1].output_shape == (1000,)


def test_the_api_page_example_runs_and_its_values_are_true(monkeypatch):
    """docs/api.md's first example, run line by line: a line whose comment is a Python value must evaluate to it."""
    import ast
    import re

    block = re.search(r"```python\n(.*?)```", doc("api.md"), re.S)
    assert block, "docs/api.md has no python example"
    monkeypatch.chdir(ROOT)  # the example names specs/ from the project's root
    scope: dict = {}
    checked = 0
    for line in block.group(1).splitlines():
        code, _, comment = line.partition("#")
        if not code.strip():
            continue
        try:
            expected = ast.literal_eval(comment.strip())
        except (SyntaxError, ValueError):  # words, not a value
            exec(code, scope)
            continue
        assert eval(code, scope) == expected, line
        checked += 1
    assert checked >= 3  # the totals and the first layer's name and output


def test_load_takes_a_path_a_text_or_bytes():
    text = SMALL.read_text(encoding="utf-8")
    for source in (SMALL, str(SMALL), text, SMALL.read_bytes()):
        assert cnncalc.analyze(cnncalc.load(source)).totals.params == SMALL_PARAMS, type(source)
    flow = "{input: [3, 8, 8], layers: [{fc: 2}]}"
    assert cnncalc.analyze(flow).totals.params == 3 * 8 * 8 * 2 + 2  # analyze loads what load takes


def test_errors_are_located_problems():
    """(32 − 3)/2 + 1 = 15.5: the conv at line 3, column 5 does not fit."""
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze("input: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, stride: 2}\n")
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column, problem.severity) == (3, 5, "error")
    assert "(32 − 3 + 2·0)/2 + 1 = 15.5 is not an integer" in problem.message
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.load(TEST_SPECS / "no_such_spec.yaml")
    assert caught.value.problems[0].message.startswith("cannot read")


def test_floor_and_batch_reach_the_engine():
    report = cnncalc.analyze(TEST_SPECS / "bad_stride.yaml", floor=True, batch=3)
    assert report.warnings and report.totals.batch_macs == 3 * report.totals.macs


def test_memory_is_what_the_command_reports():
    result = CliRunner().invoke(main, ["memory", str(SPECS / "vgg16.yaml"), "--batch", "32", "--optimizer", "adam",
                                       "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    command = json.loads(result.stdout)
    memory = cnncalc.memory(cnncalc.load(SPECS / "vgg16.yaml"), batch=32, optimizer="adam")
    assert memory.training.total == command["training"]["total"]
    assert memory.inference.total == command["inference"]["total"]
    # Adam keeps two states per parameter; at its step, with weights and all gradients, four float32
    # copies of 138,357,544
    step = memory.timeline.moments[-1].parts(32)
    assert step["parameters"] + step["gradients"] + step["optimizer_state"] == 4 * 4 * 138_357_544


def test_memory_refuses_settings_that_cannot_train():
    spec = cnncalc.load(SMALL)
    for settings in ({"optimizer": "lbfgs"}, {"dtype": "int8"}, {"mixed": True, "dtype": "float32"}, {"batch": 0}):
        with pytest.raises(ValueError):
            cnncalc.memory(spec, **settings)


def test_the_report_reads_as_a_table():
    """One line per layer with its shape, parameters and MACs, then the totals, worked by hand."""
    text = repr(cnncalc.analyze(SMALL))
    lines = text.splitlines()
    assert lines[0] == "Report 'SmallCNN': input 3×32×32, float32, 7 layers"
    assert lines[2].split() == ["conv1", "conv", "16×32×32", "448", f"{32 * 32 * 16 * 27:,}"]
    assert lines[-2].split() == ["fc1", "fc", "10", f"{32 * 8 * 8 * 10 + 10:,}", f"{32 * 8 * 8 * 10:,}"]
    assert lines[-1].startswith(f"  total: {SMALL_PARAMS:,} params")
    assert len(lines) == 1 + 1 + 7 + 1


def test_the_api_is_imported_only_when_used():
    import subprocess
    import sys

    code = "import sys, cnncalc; assert 'cnncalc.api' not in sys.modules and 'yaml' not in sys.modules; cnncalc.load"
    subprocess.run([sys.executable, "-c", code], check=True)


class _Elements(HTMLParser):
    """Every element's tag and attributes (values unescaped), and the text of each <h1>, <li> and <text>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {"h1": [], "li": [], "text": []}
        self.inside: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in self.texts:
            self.texts[tag].append("")
            self.inside.append(tag)

    def handle_endtag(self, tag):
        if self.inside and self.inside[-1] == tag:
            self.inside.pop()

    def handle_data(self, data):
        if self.inside:
            self.texts[self.inside[-1]][-1] += data


def _framed(report) -> _Elements:
    """The page a report's _repr_html_ frames: the notebook's cell holds one iframe, the page in its srcdoc."""
    outer = _Elements()
    outer.feed(report._repr_html_())
    assert [tag for tag, _ in outer.tags] == ["iframe"]
    inner = _Elements()
    inner.feed(outer.tags[0][1]["srcdoc"])
    return inner


def test_the_report_shows_in_a_notebook_as_the_html_report():
    """VGG16's published totals (138,357,544 params; 15,470,264,320 MACs) and every layer by name."""
    report = cnncalc.analyze(SPECS / "vgg16.yaml")
    page = _framed(report)
    assert any(line.startswith("Params: 138,357,544 ") for line in page.texts["li"])
    assert any(line.startswith("MACs: 15,470,264,320 ") for line in page.texts["li"])
    drawn = set(page.texts["text"])
    names = [layer.name for layer in report.layers]
    assert len(names) == 13 + 13 + 5 + 3 + 2 + 2 + 1  # convs, their relus, pools, fcs, their relus, dropouts, flatten
    assert [name for name in names if name not in drawn] == []
    assert all(attributes.get("src", "") == "" for _, attributes in page.tags)  # nothing fetched


def test_the_notebook_frame_escapes_hostile_names_and_gives_way_beyond_the_picture_limit():
    from .test_picture import HOSTILE_SPEC, HOSTILE_TITLE

    report = cnncalc.analyze(HOSTILE_SPEC)
    page = _framed(report)  # one iframe and nothing else: the names cannot break out of its attributes
    assert page.texts["h1"] == [HOSTILE_TITLE]
    assert "<script>alert(2)<.script>" in page.texts["text"]
    assert [tag for tag, _ in page.tags].count("script") == 1  # the page's own script, no other
    deep = cnncalc.analyze("input: [4, 8, 8]\nlayers:\n  - repeat: 2600\n    layers: [relu, {conv: {filters: 4, "
                           "kernel: 3, padding: 1}}]\n")
    assert len(deep.layers) == 5200 and deep._repr_html_() is None  # the plain-text repr shows instead
    assert repr(deep).startswith("Report ")
