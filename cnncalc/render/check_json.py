"""`check --format json`: every file's problems, for CI systems and tools that read JSON."""

from __future__ import annotations

import json
from typing import Any

from ..problems import Problem
from ..rules import rule_id
from .problems import CheckResults, Verdicts
from .safe import json_text


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.location.file,
        "line": problem.location.line,
        "column": problem.location.column,
        "severity": problem.severity,
        "layer": problem.layer,
        "message": problem.message,
        "rule": rule_id(problem),
    }


def verdict_dict(verdict) -> dict[str, Any]:
    """One budget: its limit, the figure, whether it is met, where the limit was written and by whom."""
    limit = verdict.limit
    figure = verdict.figure
    return {
        "budget": limit.key,
        "rule": limit.rule,
        "kind": "minimum" if limit.is_minimum else "maximum",
        "limit": limit.value,
        "written": limit.written,
        "value": int(figure) if figure == int(figure) else float(figure),
        "met": verdict.met,
        "measure": verdict.measure,
        "origin": limit.origin,
        "overrides": limit.replaced or None,
        "memory": limit.memory._asdict() if limit.memory else None,
        "contributors": [{"name": c.name, "value": c.value, "share": float(c.share)} for c in verdict.contributors],
        "file": limit.location.file,
        "line": limit.location.line,
        "column": limit.location.column,
        "error": verdict.error or None,
    }


def render_check(results: CheckResults, verdicts: Verdicts | None = None) -> str:
    verdicts = verdicts or {}
    files = [
        {
            "file": path,
            "valid": not any(p.is_error for p in problems),
            "problems": [problem_dict(p) for p in problems],
            "budgets": [verdict_dict(v) for v in verdicts.get(path, ())],
        }
        for path, problems in results
    ]
    return json_text(json.dumps({"valid": all(f["valid"] for f in files), "files": files}, indent=2,
                                ensure_ascii=False)) + "\n"
