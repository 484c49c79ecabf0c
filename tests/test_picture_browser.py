"""The pictures in a real browser (Debian's Chromium, driven by Playwright) and Graphviz's dot: every zoo report
loads without a console error, its groups open on click, no label overflows its box as the browser measures it
(getBBox), and VGG16's and ResNet-50's reports are kept as screenshots in pytest's temporary directory.

Skipped without chromium or playwright (and dot); CNNCALC_REQUIRE_BROWSER=1 makes a skip a failure."""

from __future__ import annotations

import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from cnncalc.engine import analyze
from cnncalc.parser import parse_bytes, parse_file
from cnncalc.render.dot import render_dot
from cnncalc.render.html import render_html
from cnncalc.render.svg import render_svg

from .conftest import SPECS, browser_or_skip, dot_or_skip
from .test_picture import HOSTILE_SPEC, ZOO

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

# Every text inside a box (or a bar's cell) as the browser lays it out: its measured box against the box it
# was given. A text's data-width is the width the layout gave it (the monospace metric): the browser's
# measurement must not exceed it.
OVERFLOWS = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.getBoundingClientRect().height === 0) continue;  // inside a closed group
    for (const box of svg.querySelectorAll('g.box')) {
      const rect = box.querySelector('rect').getBBox();
      for (const text of box.querySelectorAll('text')) {
        if (getComputedStyle(text).display === 'none') continue;
        const b = text.getBBox();
        if (b.x < rect.x || b.x + b.width > rect.x + rect.width || b.y < rect.y || b.y + b.height > rect.y + rect.height)
          found.push(`${text.textContent}: text ${b.x},${b.y} ${b.width}×${b.height} outside box ${rect.x},${rect.y} ${rect.width}×${rect.height}`);
      }
    }
    for (const text of svg.querySelectorAll('text[data-width]')) {
      if (getComputedStyle(text).display === 'none') continue;
      const width = text.getBBox().width, given = parseFloat(text.dataset.width);
      if (width > given + 0.5) found.push(`${text.textContent}: ${width} wide, given ${given}`);
    }
  }
  return found;
}"""


# Every text of the memory page's timeline plot inside the plot's own area, as the browser lays it out.
OUTSIDE_PLOT = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.timeline')) {
    const width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height;
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBBox();
      if (b.x < 0 || b.y < 0 || b.x + b.width > width || b.y + b.height > height)
        found.push(`${text.textContent}: ${b.x},${b.y} ${b.width}×${b.height} outside ${width}×${height}`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def browser():
    path = browser_or_skip()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(profile, executable_path=path, args=FLAGS,
                                                                headless=True, offline=True)
        yield context
        context.close()


def _open(browser, path):
    """The page at `path`, with every console error and uncaught exception collected."""
    page = browser.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    return tmp_path_factory.mktemp("pictures")


@pytest.mark.parametrize("spec", ZOO)
def test_zoo_report_in_the_browser(browser, artifacts, spec):
    report = analyze(parse_file(str(SPECS / spec)))
    path = artifacts / spec.replace(".yaml", ".html")
    path.write_text(render_html(report), encoding="utf-8")
    page, errors = _open(browser, path)
    try:
        assert page.evaluate(OVERFLOWS) == []  # closed: the groups' boxes with their subtotals
        closed = page.locator("details:not([open]) > summary")
        if report.structure:
            assert closed.count() > 0
            details = page.locator("details").first
            assert details.get_attribute("open") is None
            details.locator("> summary").click()
            assert details.get_attribute("open") is not None
            inner = details.locator(":scope > :nth-child(2)")  # after the summary: a row, or a group inside
            assert inner.bounding_box()["height"] > 0  # shown
            details.locator("> summary").click()
            assert details.get_attribute("open") is None
        page.click("#open-all")
        assert page.locator("details:not([open])").count() == 0
        assert page.evaluate(OVERFLOWS) == []  # open: every layer
        box = page.locator("g.box[tabindex]").nth(1)
        box.focus()
        assert report.layers[0].name in page.inner_text("#info")  # its arithmetic, for the keyboard too
        page.click("#close-all")
        assert not page.is_visible("#info")  # shown only while a box is hovered or focused
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert page.locator("details:not([open])").count() == 0  # open in print
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        if spec in ("vgg16.yaml", "resnet50.yaml"):
            page.screenshot(path=str(artifacts / spec.replace(".yaml", ".png")), full_page=True)
            assert (artifacts / spec.replace(".yaml", ".png")).stat().st_size > 10_000
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("spec", ["vgg16.yaml", "resnet50.yaml", "googlenet.yaml"])
def test_svg_in_the_browser(browser, artifacts, spec):
    path = artifacts / spec.replace(".yaml", ".svg")
    path.write_text(render_svg(analyze(parse_file(str(SPECS / spec)))), encoding="utf-8")
    page, errors = _open(browser, path)
    try:
        assert page.evaluate(OVERFLOWS) == []
        assert errors == []
    finally:
        page.close()


def test_compare_memory_and_hostile_pages_in_the_browser(browser, artifacts):
    from click.testing import CliRunner

    from cnncalc.cli import main

    runner = CliRunner()
    hostile = artifacts / "hostile.yaml"
    hostile.write_bytes(HOSTILE_SPEC)
    pages = {
        "compare.html": ["compare", str(SPECS / "vgg16.yaml"), str(SPECS / "resnet50.yaml"), "--format", "html"],
        "memory.html": ["memory", str(SPECS / "resnet50.yaml"), "--format", "html", "--optimizer", "adam"],
        "memory-vgg16.html": ["memory", str(SPECS / "vgg16.yaml"), "--format", "html", "--batch", "32"],
        "hostile.html": ["shapes", str(hostile), "--format", "html"],
    }
    for name, arguments in pages.items():
        result = runner.invoke(main, arguments)
        assert result.exit_code == 0, result.output
        (artifacts / name).write_text(result.output, encoding="utf-8")
        page, errors = _open(browser, artifacts / name)
        try:
            assert page.evaluate("() => window.alerted === undefined")
            assert errors == []
            if name.startswith("memory"):
                assert page.locator("svg.timeline").count() == 1
                assert "during the" in page.text_content("svg.timeline .peak-label")
                assert page.evaluate(OVERFLOWS) == []  # each text within the width it was given
                assert page.evaluate(OUTSIDE_PLOT) == []
                page.locator("svg.timeline").screenshot(path=str(artifacts / name.replace(".html", "-timeline.png")))
            if name == "hostile.html":
                page.click("#open-all")
                assert page.evaluate(OVERFLOWS) == []
                assert "<script>alert(2)<.script>" in page.inner_text("body") or page.locator(
                    "text=<script>alert(2)<.script>").count() > 0
        finally:
            page.close()


@pytest.mark.parametrize("spec", ZOO)
def test_zoo_dot_renders_with_graphviz(spec, tmp_path):
    dot = dot_or_skip()
    text = render_dot(analyze(parse_file(str(SPECS / spec))))
    result = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    root = ET.fromstring(result.stdout)
    assert root.tag.endswith("svg")


def test_hostile_dot_renders_the_names_as_written():
    dot = dot_or_skip()
    report = analyze(parse_bytes(HOSTILE_SPEC, "hostile.yaml"))
    result = subprocess.run([dot, "-Tsvg"], input=render_dot(report).encode(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    texts = {"".join(t.itertext()) for t in ET.fromstring(result.stdout).iter("{http://www.w3.org/2000/svg}text")}
    for layer in report.layers:
        assert layer.name in texts


def test_the_notebook_frame_in_the_browser(browser, artifacts):
    """A report's _repr_html_ as a notebook shows it: the HTML report inside its frame, its script working there."""
    report = analyze(parse_file(str(SPECS / "vgg16.yaml")))
    path = artifacts / "notebook.html"
    path.write_text(f"<!DOCTYPE html><html><body><h1>a notebook</h1>{report._repr_html_()}</body></html>",
                    encoding="utf-8")
    page, errors = _open(browser, path)
    try:
        frame = page.frame_locator("iframe.cnncalc-report")
        assert "138,357,544" in frame.locator("ul.totals").inner_text()
        frame.locator("#open-all").click()
        assert frame.locator("details:not([open])").count() == 0
        assert page.evaluate("() => getComputedStyle(document.body).fontFamily") != \
            frame.locator("body").evaluate("b => getComputedStyle(b).fontFamily")  # its style stays inside
        assert errors == []
    finally:
        page.close()
