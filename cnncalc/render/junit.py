"""`check --format junit`: JUnit XML, which most CI systems (GitLab, Jenkins, Azure) show as test results.

One test case per spec (failed by its errors, each a <failure> with the rule as its type) and one per budget
of a spec (failed when not met). Warnings go to the spec's <system-out>. Text from the spec passes through
`printable`, so a control character cannot make the XML invalid.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..rules import rule_id
from .problems import CheckResults, Verdicts, printable


def render_check(results: CheckResults, verdicts: Verdicts | None = None) -> str:
    from ..budget import verdict_text

    verdicts = verdicts or {}
    suite = ET.Element("testsuite", name="cnncalc check")
    tests = failures = 0
    for path, problems in results:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=printable(path))
        errors = [p for p in problems if p.is_error and not p.rule.startswith("budget-")]  # budgets: their own cases
        for problem in errors:
            failure = ET.SubElement(case, "failure", message=printable(problem.message), type=rule_id(problem))
            failure.text = printable(str(problem))
        failures += bool(errors)
        warnings = [p for p in problems if not p.is_error]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(printable(str(p)) for p in warnings)
        for verdict in verdicts.get(path, ()):
            tests += 1
            case = ET.SubElement(suite, "testcase", classname="cnncalc.budget",
                                 name=f"{printable(path)}: {verdict.limit.key}")
            if not verdict.met:
                failures += 1
                ET.SubElement(case, "failure", message=printable(verdict_text(verdict)), type=verdict.limit.rule)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites", name="cnncalc", tests=str(tests), failures=str(failures), errors="0")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
