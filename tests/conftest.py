"""Shared fixtures: paths to the shipped specs and to the test specs under tests/specs/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
TEST_SPECS = Path(__file__).resolve().parent / "specs"
DOCS = ROOT / "docs"


def doc(page: str) -> str:
    """The text of a documentation page under docs/ (`doc("commands/fit.md")`)."""
    return (DOCS / page).read_text(encoding="utf-8")


def torch_or_skip():
    """Import torch, or skip the test; under CI (CNNCALC_REQUIRE_TORCH=1) a missing torch fails instead."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CNNCALC_REQUIRE_TORCH") == "1":
            pytest.fail("CNNCALC_REQUIRE_TORCH=1 but torch is not importable; pip install torch==2.13.0")
        pytest.skip("torch is not installed; pip install torch==2.13.0 to run the PyTorch cross-checks")
    return torch


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ from cnncalc's output (then read the diff)")


CHROMIUM = "/usr/bin/chromium"


def browser_or_skip() -> str:
    """Debian's Chromium with Playwright to drive it, or skip; under CI (CNNCALC_REQUIRE_BROWSER=1) a missing
    one fails instead. Returns the browser's path."""
    import shutil

    missing = []
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        missing.append("chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright==1.65.2)")
    if missing:
        if os.environ.get("CNNCALC_REQUIRE_BROWSER") == "1":
            pytest.fail("CNNCALC_REQUIRE_BROWSER=1 but " + " and ".join(missing) + " missing")
        pytest.skip("the browser tests need " + " and ".join(missing))
    return path


def dot_or_skip() -> str:
    """Graphviz's dot, or skip; under CI (CNNCALC_REQUIRE_BROWSER=1) a missing dot fails instead."""
    import shutil

    path = shutil.which("dot")
    if path is None:
        if os.environ.get("CNNCALC_REQUIRE_BROWSER") == "1":
            pytest.fail("CNNCALC_REQUIRE_BROWSER=1 but graphviz's dot is missing; apt-get install graphviz")
        pytest.skip("graphviz's dot is not installed (apt-get install graphviz)")
    return path
