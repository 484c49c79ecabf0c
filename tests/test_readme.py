"""The README's quoted outputs are what cnncalc prints, so the documentation cannot drift."""

from __future__ import annotations

import re

from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import ROOT


def test_quoted_stride_error_is_real():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"`(tests/specs/bad_stride\.yaml:\d+:\d+: error: [^`]+)`", readme).group(1)
    result = CliRunner().invoke(main, ["check", "tests/specs/bad_stride.yaml"], catch_exceptions=False)
    assert result.exit_code == 1
    assert quoted in result.output
