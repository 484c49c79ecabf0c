"""Problems as text lines (file:line:col: severity: message) or JSON, for `check` and errors."""

from __future__ import annotations

from typing import Any, Sequence

from ..problems import Problem


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.location.file,
        "line": problem.location.line,
        "column": problem.location.column,
        "severity": problem.severity,
        "layer": problem.layer,
        "message": problem.message,
    }


def render_problem_lines(problems: Sequence[Problem]) -> str:
    return "".join(f"{p}\n" for p in problems)


def render_check_json(results: Sequence[tuple[str, Sequence[Problem]]]) -> str:
    import json  # here, not at the top: the text lines of `check` do without it

    files = [
        {
            "file": path,
            "valid": not any(p.is_error for p in problems),
            "problems": [problem_dict(p) for p in problems],
        }
        for path, problems in results
    ]
    return json.dumps({"valid": all(f["valid"] for f in files), "files": files}, indent=2, ensure_ascii=False) + "\n"
