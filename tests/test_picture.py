"""The network's picture (--format svg, html, dot) without a browser: valid XML, every name drawn as text,
no two texts overlapping in the layout, hostile names escaped, nothing fetched, large specs bounded."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.engine import analyze
from cnncalc.parser import parse_bytes, parse_file
from cnncalc.render.dot import quote, render_dot
from cnncalc.render.graph_layout import (BOX_HEIGHT, BOX_TOP, MAX_PICTURE_LAYERS, MONO_EM, ROW, TOP,
                                         PictureTooLarge, heading_texts, layout, row_texts, text_width)
from cnncalc.render.html import render_html
from cnncalc.render.svg import render_svg

from .conftest import ROOT, SPECS

SVG = "{http://www.w3.org/2000/svg}"
ZOO = sorted(p.name for p in SPECS.glob("*.yaml"))
HOSTILE_SPEC = b"""name: "<script>alert(1)</script> & \\" onload=\\"x"
input: [3, 32, 32]
layers:
  - {name: "<script>alert(2)<.script>", conv: {filters: 8, kernel: 3}}
  - {name: "\\"onload=\\"alert(3)", relu: }
  - {name: "a\\\\N\\\\G{}\\"];x->y;", conv: {filters: 4, kernel: 3}}
  - {name: "<g>&amp;", branches: [[{name: "<.text><svg-onload=alert(4)>", conv: {filters: 4, kernel: 1}}], []],
     merge: add}
"""
HOSTILE_NAMES = ("<script>alert(2)<.script>", '"onload="alert(3)', 'a\\N\\G{}"];x->y;', "<.text><svg-onload=alert(4)>")
HOSTILE_TITLE = '<script>alert(1)</script> & " onload="x'


def report_of(name: str):
    return analyze(parse_file(str(SPECS / name)))


def hostile_report():
    return analyze(parse_bytes(HOSTILE_SPEC, "hostile.yaml"))


def svg_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("spec", ZOO)
def test_svg_is_xml_with_every_layer_name_as_text(spec):
    report = report_of(spec)
    root = ET.fromstring(render_svg(report).encode())
    assert root.tag == f"{SVG}svg"
    texts = set(svg_texts(root))
    missing = [layer.name for layer in report.layers if layer.name not in texts]
    assert not missing
    assert report.name in " ".join(texts)


def _boxes(picture):
    """Every text of the picture with its box in picture coordinates: (left, top, right, bottom, text)."""
    boxes = [(t.x, t.y, t.x + t.width, t.y + t.height, t.text) for t in heading_texts(picture)]
    for r in range(len(picture.rows)):
        y = TOP + r * ROW
        boxes.extend((t.x, y + t.y, t.x + t.width, y + t.y + t.height, t.text) for t in row_texts(picture, r))
    return boxes


@pytest.mark.parametrize("collapsible", [False, True])
@pytest.mark.parametrize("spec", ZOO)
def test_no_two_texts_overlap_and_each_fits_its_box(spec, collapsible):
    picture = layout(report_of(spec), collapsible=collapsible)
    boxes = sorted(_boxes(picture), key=lambda box: (box[1], box[0]))
    assert len(boxes) > 2 * len(picture.rows)
    for i, (left, top, right, bottom, text) in enumerate(boxes):  # sweep down the picture
        for other in boxes[i + 1:]:
            if other[1] >= bottom:
                break
            assert not (other[0] < right and left < other[2]), f"{text!r} overlaps {other[4]!r}"
    for r, row in enumerate(picture.rows):  # a box's two lines inside the box, the numbers inside the picture
        box_left = picture.box_left(row.lane)
        for t in row_texts(picture, r):
            if t.role in ("name", "detail"):
                assert box_left < t.x and t.x + t.width < box_left + picture.box_width, t.text
                assert BOX_TOP < t.y and t.y + t.height <= BOX_TOP + BOX_HEIGHT, t.text
            assert t.x + t.width <= picture.width


def test_monospace_metric_counts_wide_characters_twice():
    assert text_width("abcd", 10) == pytest.approx(4 * 10 * MONO_EM)
    assert text_width("畳み込み", 10) == pytest.approx(8 * 10 * MONO_EM)


def test_resnet50_shortcuts_are_edges_beside_the_main_path():
    """He et al.'s bottleneck: every `add` takes the block's input over a shortcut, drawn in a lane of its own."""
    picture = layout(report_of("resnet50.yaml"))
    adds = [r for r, row in enumerate(picture.rows) if row.layer is not None and row.layer.kind == "add"]
    assert len(adds) == 3 + 4 + 6 + 3  # blocks per stage, table 1 of the paper
    for r in adds:
        incoming = [e for e in picture.edges if e.target == r]
        assert len(incoming) == 2
        lanes = {e.lane for e in incoming} | {picture.rows[e.source].lane for e in incoming}
        assert len(lanes) == 2  # the shortcut runs beside the residual branch, not through it
        assert any(e.source < r - 1 for e in incoming)  # and skips over it


def test_googlenet_branches_side_by_side_joined_at_their_concat():
    """Inception: four branches from one input, concatenated (Szegedy et al., figure 2b)."""
    picture = layout(report_of("googlenet.yaml"))
    concats = [r for r, row in enumerate(picture.rows) if row.layer is not None and row.layer.kind == "concat"]
    assert len(concats) == 9  # 3a, 3b, 4a-4e, 5a, 5b
    for r in concats:
        incoming = [e for e in picture.edges if e.target == r]
        assert len({picture.rows[e.source].lane for e in incoming}) == 4


def test_vgg16_repeats_are_groups_with_their_counts():
    """Configuration D: convs of 64, 128, 256, 512, 512 filters, 2, 2, 3, 3, 3 of each (Simonyan & Zisserman)."""
    picture = layout(report_of("vgg16.yaml"))
    repeats = [node for node in picture.nodes if node.span.kind == "repeat"]
    assert [node.span.count for node in repeats] == [2, 2, 3, 3, 3]
    assert [node.output_shape[0] for node in repeats] == [64, 128, 256, 512, 512]
    assert all(node.label.startswith(f"×{node.span.count}: conv, relu") for node in repeats)


def test_hostile_names_are_text_in_svg():
    text = render_svg(hostile_report())
    root = ET.fromstring(text.encode())  # an unescaped name would break the XML or add elements
    assert {t.tag for t in root.iter()} <= {f"{SVG}{tag}" for tag in ("svg", "title", "style", "rect", "text", "g",
                                                                     "path")}
    texts = svg_texts(root)
    for layer in hostile_report().layers:
        assert layer.name in texts
    for name in HOSTILE_NAMES:
        assert any(name in t for t in texts)
    assert "<script" not in text and "<svg-onload" not in text and "<.text>" not in text


def test_hostile_names_are_text_in_html():
    from html.parser import HTMLParser

    text = render_html(hostile_report())

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.attributes, self.data = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attributes.extend(name for name, _ in attrs)

        def handle_data(self, data):
            self.data.append(data)

    parser = Tags()
    parser.feed(text)
    assert parser.tags.count("script") == 1  # the page's own
    assert not [a for a in parser.attributes if a.startswith("on")]
    data = "".join(parser.data)
    for name in [layer.name for layer in hostile_report().layers] + [HOSTILE_TITLE]:
        assert name in data


def _dot_strings(text: str) -> list[str]:
    """The quoted strings of DOT text, read as graphviz reads them (a backslash escapes the next character in
    labels; \\n is a line break; an entity is its character)."""
    strings = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"', text):
        unquoted = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), match.group(1))
        strings.append(html.unescape(unquoted))
    return strings


def test_hostile_names_are_quoted_in_dot():
    text = render_dot(hostile_report())
    assert quote('a"b\\c&amp;') == '"a\\"b\\\\c&amp;amp;"'
    lines = set()
    for string in _dot_strings(text):
        lines.update(string.split("\n"))
    for name in [layer.name for layer in hostile_report().layers] + [HOSTILE_TITLE]:
        assert name in lines
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # what is left outside strings: DOT's own syntax only
    assert "->y" not in outside and "x->" not in outside and "alert" not in outside


def test_dot_has_every_input_as_an_edge_and_blocks_as_clusters():
    """ResNet-50: 174 layers, each with one input but the 16 adds, which take two; 4 stages, 16 blocks and 4
    repeats of blocks (torchvision's layer1-layer4 of [3, 4, 6, 3] bottlenecks)."""
    text = render_dot(report_of("resnet50.yaml"))
    assert len(re.findall(r"^\s*n\d+ -> n\d+", text, re.M)) == 174 + 16
    assert len(re.findall(r"subgraph cluster_", text)) == 4 + 16 + 4


def test_html_is_self_contained():
    text = render_html(report_of("resnet50.yaml"))
    assert "http" not in text and "//" not in re.sub(r"<script>.*?</script>", "", text, flags=re.S)
    assert not re.search(r"\b(src|href)\s*=|url\(|@import", text)
    assert text.count("<script>") == 1 and "fetch(" not in text and "XMLHttpRequest" not in text


@pytest.mark.parametrize("spec", ["resnet152.yaml", "densenet121.yaml"])
def test_html_of_large_zoo_specs_stays_small_and_collapsed(spec):
    text = render_html(report_of(spec))
    assert len(text.encode()) < 1_000_000
    assert "<details open" not in text and text.count("<details") > 10


def test_a_spec_beyond_the_limit_is_refused_by_name(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - repeat: 100000\n    layers: [relu]\n")
    runner = CliRunner()
    for fmt in ("html", "svg"):
        result = runner.invoke(main, ["shapes", str(spec), "--format", fmt])
        assert result.exit_code == 2
        assert f"at most {MAX_PICTURE_LAYERS:,}" in result.output and "100,000 layers" in result.output
    spec.write_text(f"input: [3, 8, 8]\nlayers:\n  - repeat: {MAX_PICTURE_LAYERS + 1}\n    layers: [relu]\n")
    with pytest.raises(PictureTooLarge):
        layout(analyze(parse_file(str(spec))))
    result = runner.invoke(main, ["compare", str(SPECS / "vgg16.yaml"), str(spec), "--format", "html"])
    assert result.exit_code == 2 and f"at most {MAX_PICTURE_LAYERS:,}" in result.output


def test_cli_formats(tmp_path):
    runner = CliRunner()
    vgg, resnet = str(SPECS / "vgg16.yaml"), str(SPECS / "resnet50.yaml")
    svg = runner.invoke(main, ["shapes", vgg, "--format", "svg"])
    assert svg.exit_code == 0 and ET.fromstring(svg.output.encode()).tag == f"{SVG}svg"
    dot = runner.invoke(main, ["shapes", vgg, "--format", "dot"])
    assert dot.exit_code == 0 and dot.output.startswith('digraph "VGG16"')
    html = runner.invoke(main, ["shapes", vgg, "--format", "html"])
    assert html.exit_code == 0 and html.output.startswith("<!DOCTYPE html>")
    compared = runner.invoke(main, ["compare", vgg, resnet, "--format", "html"])
    assert compared.exit_code == 0 and "VGG16" in compared.output and "ResNet-50" in compared.output
    assert "http" not in compared.output
    stacks = runner.invoke(main, ["compare", "3x3x3", "vs", "7x7", "--format", "html"])
    assert stacks.exit_code == 2 and "compares specs" in stacks.output
    memory = runner.invoke(main, ["memory", vgg, "--format", "html", "--optimizer", "adam"])
    assert memory.exit_code == 0 and "optimizer state" in memory.output and "http" not in memory.output


def test_docs_pictures_are_current():
    """docs/picture.md shows the pictures cnncalc draws now, with the commands that draw them."""
    import importlib.util

    loader = importlib.util.spec_from_file_location("pictures", ROOT / "docs" / "pictures.py")
    pictures = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(pictures)
    assert pictures.stale() == [], "run python docs/pictures.py"
    page = (ROOT / "docs" / "picture.md").read_text(encoding="utf-8")
    assert pictures.PICTURES  # docs/picture.md shows at least one
    for name, spec in pictures.PICTURES.items():
        assert f"]({name})" in page and f"cnncalc shapes {spec} --format svg" in page
        assert (ROOT / "docs" / name).read_text(encoding="utf-8") == render_svg(report_of(spec.split("/")[-1]))
