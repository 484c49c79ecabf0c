"""`check --format json`: every file's problems, for CI systems and tools that read JSON."""

from __future__ import annotations

import json
from typing import Any

from ..problems import Problem
from .problems import CheckResults
from .safe import json_text


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.location.file,
        "line": problem.location.line,
        "column": problem.location.column,
        "severity": problem.severity,
        "layer": problem.layer,
        "message": problem.message,
    }


def render_check(results: CheckResults) -> str:
    files = [
        {
            "file": path,
            "valid": not any(p.is_error for p in problems),
            "problems": [problem_dict(p) for p in problems],
        }
        for path, problems in results
    ]
    return json_text(json.dumps({"valid": all(f["valid"] for f in files), "files": files}, indent=2,
                                ensure_ascii=False)) + "\n"
