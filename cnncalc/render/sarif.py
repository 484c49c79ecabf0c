"""`check --format sarif`: SARIF 2.1.0, the format GitHub code scanning and other analysis tools read.

One run of the tool `cnncalc`; one result per problem with its rule id (cnncalc/rules.py), level (error,
warning or note), message and physical location: the file's URI relative to the working directory (against the base
id SRCROOT, the working directory) and the start line and column, counted in Unicode code points as
cnncalc counts them (`columnKind`). The rules the results use are described in the tool's driver.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..problems import ERROR, NOTE, WARNING, Problem
from ..rules import rule_description, rule_id
from .github import STDIN
from .problems import CheckResults, Verdicts

VERSION = "2.1.0"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE_ID = "SRCROOT"
LEVELS = {ERROR: "error", WARNING: "warning", NOTE: "note"}  # cnncalc's severities as SARIF's result levels


def artifact_uri(path: str, root: Path) -> tuple[str, bool]:
    """The file as a URI reference: relative to `root` (percent-encoded, '/'-separated) when it lies under it,
    else an absolute file: URI. The flag says whether it is relative."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return absolute.as_uri(), False
    return quote(relative.as_posix()), True


def _result(problem: Problem, rules: dict[str, int], root: Path) -> dict[str, Any]:
    rule = rule_id(problem)
    index = rules.setdefault(rule, len(rules))
    result: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": index,
        "level": LEVELS.get(problem.severity, "warning"),
        "message": {"text": problem.message},
    }
    where = problem.location
    if where.file != STDIN:
        uri, relative = artifact_uri(where.file, root)
        artifact = {"uri": uri, **({"uriBaseId": BASE_ID} if relative else {})}
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": artifact,
            "region": {"startLine": where.line, "startColumn": where.column},
        }}]
    if problem.layer:
        result["properties"] = {"layer": problem.layer}
    return result


def sarif_log(results: CheckResults, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log of a check, as a JSON-ready dict."""
    root = Path(os.path.abspath(root or os.getcwd()))
    rules: dict[str, int] = {}
    found = [_result(p, rules, root) for _, problems in results for p in problems]
    return {
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "cnncalc",
                "version": __version__,
                "rules": [{"id": rule, "shortDescription": {"text": rule_description(rule)}} for rule in rules],
            }},
            "originalUriBaseIds": {BASE_ID: {"uri": root.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": found,
        }],
    }


def render_check(results: CheckResults, verdicts: Verdicts | None = None) -> str:
    """The log as JSON, ASCII-escaped (a lone surrogate from a spec cannot break the output's encoding)."""
    return json.dumps(sarif_log(results), indent=2) + "\n"
