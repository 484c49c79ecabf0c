"""The documentation: the quoted outputs are what cnncalc prints, every link leads to a page that exists,
and the pages build as a site (`mkdocs build --strict`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import DOCS, ROOT, doc

README_LIMIT = 300  # lines: the README introduces, docs/ explains


def test_quoted_stride_error_is_real():
    quoted = re.search(r"`(tests/specs/bad_stride\.yaml:\d+:\d+: error: [^`]+)`", doc("conventions.md")).group(1)
    result = CliRunner().invoke(main, ["check", "tests/specs/bad_stride.yaml"], catch_exceptions=False)
    assert result.exit_code == 1
    assert quoted in result.output


def test_branching_examples_compute():
    """The three examples of 'Branching networks', each completed into a spec, give what their comments say."""
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_text

    page = doc("spec-format.md")
    section = page[page.index("## Branching networks"):]
    concat, modules, block = re.findall(r"```yaml\n(.*?)```", section, re.S)[:3]

    def layers(text):
        return {layer.name: layer for layer in analyze(parse_text(text, "spec-format.md")).layers}

    skip = layers("input: [64, 16, 16]\nlayers:\n  - {name: enc3, conv: {filters: 64, kernel: 1}}\n"
                  "  - {name: up3, conv: {filters: 64, kernel: 1}}\n" + concat)["skip3"]
    assert skip.output_shape == (128, 16, 16)
    found = layers("input: [192, 28, 28]\nlayers:\n" + modules)
    assert found["inception3a.concat"].output_shape == (256, 28, 28)
    assert found["add1"].inputs == ("bn2", "inception3a.concat")
    identity_bottleneck = ("  bottleneck:\n    params: {filters: null}\n    layers:\n      - branches:\n"
                           "          - [conv: {filters: $filters * 4, kernel: 1}]\n          - []\n        merge: add\n")
    found = layers("input: [256, 56, 56]\n" + block.replace("layers:\n  - name: layer2",
                                                             identity_bottleneck + "layers:\n  - name: layer2"))
    assert found["layer2.bottleneck_down1.conv2"].output_shape == (128, 28, 28)  # the stride on the 3×3
    assert found["layer2.bottleneck3.add1"].output_shape == (512, 28, 28)


def test_readme_spec_example_is_valid(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    spec = tmp_path / "small.yaml"
    spec.write_text(re.findall(r"```yaml\n(.*?)```", readme, re.S)[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(spec)])
    assert result.exit_code == 0, result.output


def test_readme_is_short_and_its_sample_starts_at_the_input():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_LIMIT
    sample = readme.split("$ cnncalc shapes specs/vgg16.yaml\n", 1)[1].split("```", 1)[0].splitlines()
    rows = [line.split() for line in sample if re.match(r"\s*\d+\s", line)]
    assert rows[0][:2] == ["0", "input"]


def _links(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code blocks are examples
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _pages():
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def test_every_relative_link_leads_to_a_file_and_heading_that_exist():
    checked = 0
    for page in _pages():
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            assert path.exists(), f"{page.relative_to(ROOT)}: {link}"
            if anchor and path.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S),
                                      re.M)
                slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{page.relative_to(ROOT)}: {link} (headings: {sorted(slugs)})"
            checked += 1
    assert checked >= 30


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if f" {p.relative_to(DOCS).as_posix()}" not in nav]
    assert missing == []


def test_site_builds_strictly(tmp_path):
    """`mkdocs build --strict` fails on a broken link or a page outside the navigation."""
    mkdocs = shutil.which("mkdocs") or shutil.which("mkdocs", path=os.path.dirname(sys.executable))
    if mkdocs is None:
        if os.environ.get("CNNCALC_REQUIRE_DOCS") == "1":
            pytest.fail("CNNCALC_REQUIRE_DOCS=1 but mkdocs is not installed; pip install mkdocs==1.6.1")
        pytest.skip("mkdocs is not installed; pip install mkdocs==1.6.1 to build the documentation site")
    done = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "commands" / "shapes" / "index.html").exists()
