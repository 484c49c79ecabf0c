"""`check --format junit`: well-formed JUnit XML, a case per spec and per budget, failures with rule types."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from click.testing import CliRunner

from cnncalc.cli import main

from .conftest import SPECS, TEST_SPECS


def test_cases_per_spec_and_budget(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [3, 8, 8]\nbudget: {params: 1k, macs: 1G}\nlayers:\n  - conv: {filters: 64, kernel: 3}\n"
                    "  - relu\n", encoding="utf-8")
    bad = str(TEST_SPECS / "bad_stride.yaml")
    result = CliRunner().invoke(main, ["check", "--format", "junit", str(SPECS / "vgg16.yaml"), bad, str(spec)])
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    (suite,) = root
    cases = {(c.get("classname"), c.get("name")): c for c in suite}
    assert set(cases) == {("cnncalc.check", str(SPECS / "vgg16.yaml")), ("cnncalc.check", bad),
                          ("cnncalc.check", str(spec)), ("cnncalc.budget", f"{spec}: params"),
                          ("cnncalc.budget", f"{spec}: macs")}
    assert (root.get("tests"), root.get("failures")) == ("5", "2")  # bad_stride, and the params budget
    (failure,) = cases[("cnncalc.check", bad)]
    assert failure.get("type") == "non-integer-size" and failure.text.startswith(f"{bad}:4:5: error: conv 'conv1'")
    (budget,) = cases[("cnncalc.budget", f"{spec}: params")]
    params = 3 * 3 * 3 * 64 + 64
    assert budget.get("type") == "budget-params" and budget.get("message").startswith(f"params {params:,} > 1,000")
    assert list(cases[("cnncalc.budget", f"{spec}: macs")]) == []
    assert list(cases[("cnncalc.check", str(spec))]) == []  # its budget is its own case


def test_control_characters_from_a_spec_keep_the_xml_well_formed():
    text = 'input: [3, 8, 8]\nlayers:\n  - "\\x1b[31m\\ud800\\x00"\n'
    result = CliRunner().invoke(main, ["check", "--format", "junit", "-"], input=text)
    assert result.exit_code == 1
    (failure,) = ET.fromstring(result.stdout.encode("utf-8")).iter("failure")
    assert "\\x1b[31m" in failure.get("message") and "\x1b" not in result.stdout
