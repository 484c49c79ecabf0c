"""`memory --format html`: the training step's timeline as an inline SVG plot beside the components' stacked bar,
its peak marked and labelled with the moment the JSON report names, bounded in size however deep the network."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import SPECS
from .test_picture import HOSTILE_SPEC


class _Timeline(HTMLParser):
    """The elements inside <svg class="timeline">: (tag, attributes, text) each, text for <text> and <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # > 0 inside the timeline's svg
        self.elements: list[list] = []
        self.open_text: list | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg" and attributes.get("class") == "timeline":
            self.depth = 1
            self.elements.append([tag, attributes, ""])
            return
        if self.depth:
            if tag == "svg":
                self.depth += 1
            self.elements.append([tag, attributes, ""])
            if tag in ("text", "title"):
                self.open_text = self.elements[-1]

    def handle_endtag(self, tag):
        if self.depth and tag == "svg":
            self.depth -= 1
        if tag in ("text", "title"):
            self.open_text = None

    def handle_data(self, data):
        if self.open_text is not None:
            self.open_text[2] += data


def _run(arguments: list[str]) -> str:
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return result.output


def _expected_peak(moments: list[dict]) -> tuple[int, str]:
    """The first moment with the most bytes, and how the report words it."""
    peak = max(range(len(moments)), key=lambda i: (moments[i]["bytes"], -i))
    moment = moments[peak]
    if moment["phase"] == "step":
        return peak, "during the optimizer's step"
    return peak, f"during the {moment['phase']} of {moment['layer']}"


def _points(points: str) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in pair.split(",")) for pair in points.split()]


@pytest.mark.parametrize("arguments", [
    [str(SPECS / "vgg16.yaml"), "--batch", "32"],
    [str(SPECS / "resnet50.yaml"), "--optimizer", "adam"],
    [str(SPECS / "resnet18.yaml"), "--batch", "8", "--optimizer", "adam"],
])
def test_memory_html_plots_the_step_with_its_peak_labelled(arguments):
    data = json.loads(_run(["memory", *arguments, "--format", "json"]))
    moments = data["timeline"]["moments"]
    peak, words = _expected_peak(moments)
    page = _run(["memory", *arguments, "--format", "html"])
    parsed = _Timeline()
    parsed.feed(page)
    elements = parsed.elements
    assert elements and elements[0][0] == "svg"
    labels = [text for tag, attributes, text in elements if tag == "text" and "peak-label" in attributes.get("class", "")]
    assert len(labels) == 1 and labels[0].endswith(words)
    assert page.index('class="stacked"') < page.index('class="timeline"')  # beside the components' bar

    # one filled area per category that holds bytes at some moment, named as the categories are
    polygons = [(attributes, text) for tag, attributes, text in elements if tag == "polygon"]
    titles = [text for tag, attributes, text in elements if tag == "title"][1:]  # after the svg's own title
    held = {name for k, name in enumerate(data["timeline"]["categories"]) if any(m["parts"][k] for m in moments)}
    from cnncalc.timeline import LABELS

    assert sorted(titles) == sorted(LABELS[name] for name in held) and len(polygons) == len(held)
    # the peak's marker is the highest point drawn: no area rises above it
    (circle,) = [attributes for tag, attributes, text in elements if tag == "circle"]
    top = min(y for attributes, _ in polygons for _, y in _points(attributes["points"]))
    assert float(circle["cy"]) == pytest.approx(top, abs=0.11)
    # the moments run left to right: the peak's x divides the plot as its index divides the moments
    xs = sorted({x for attributes, _ in polygons for x, _ in _points(attributes["points"])})
    left, right = xs[0], xs[-1]
    assert float(circle["cx"]) == pytest.approx(left + (right - left) * peak / (len(moments) - 1), abs=0.11)


def test_memory_html_of_a_deep_network_stays_small_and_keeps_its_peak(tmp_path):
    spec = tmp_path / "deep.yaml"
    spec.write_text("name: deep\ninput: [8, 32, 32]\nlayers:\n"
                    "  - repeat: 3000\n    layers:\n      - conv: {filters: 8, kernel: 3, padding: 1}\n      - relu\n"
                    "  - globalavgpool\n  - fc: 10\n", encoding="utf-8")
    data = json.loads(_run(["memory", str(spec), "--format", "json"]))
    moments = data["timeline"]["moments"]
    assert len(moments) > 12_000
    _, words = _expected_peak(moments)
    page = _run(["memory", str(spec), "--format", "html"])
    assert len(page.encode()) < 200_000
    parsed = _Timeline()
    parsed.feed(page)
    labels = [text for tag, attributes, text in parsed.elements if "peak-label" in attributes.get("class", "")]
    assert len(labels) == 1 and labels[0].endswith(words)
    polygons = [attributes for tag, attributes, _ in parsed.elements if tag == "polygon"]
    assert polygons  # the timeline's bands
    for attributes in polygons:
        assert len(attributes["points"].split()) <= 2 * 400


def test_memory_html_escapes_the_peak_layer_name(tmp_path):
    spec = tmp_path / "hostile.yaml"
    spec.write_bytes(HOSTILE_SPEC)
    page = _run(["memory", str(spec), "--format", "html", "--batch", "64"])
    assert "<script>alert" not in page and "<.text><svg-onload" not in page
    parsed = _Timeline()
    parsed.feed(page)
    data = json.loads(_run(["memory", str(spec), "--format", "json", "--batch", "64"]))
    _, words = _expected_peak(data["timeline"]["moments"])
    labels = [text for tag, attributes, text in parsed.elements if "peak-label" in attributes.get("class", "")]
    assert len(labels) == 1 and labels[0].endswith(words)
