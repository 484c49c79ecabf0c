"""The pre-commit hook: its entry, run as pre-commit runs it (entry + file names), on good and bad specs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT, SPECS, TEST_SPECS

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def hook(hook_id: str) -> dict:
    (found,) = [h for h in HOOKS if h["id"] == hook_id]
    return found


def console_script(name: str) -> str:
    """The `module:function` that pyproject.toml installs as the command `name`."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    scripts = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    match = re.search(rf'^{re.escape(name)}\s*=\s*"([\w.]+):(\w+)"', scripts, re.M)
    assert match, f"pyproject.toml installs no command {name!r}"
    return f"{match[1]}:{match[2]}"


def run_entry(entry: str, files: list[str]) -> subprocess.CompletedProcess:
    """Run `entry FILE...` as pre-commit does; the command is the installed console script, called in-process
    through its target so that the test needs no install."""
    command, *args = shlex.split(entry)
    module, function = console_script(command).split(":")
    code = f"import sys; from {module} import {function} as f; sys.argv[0] = {command!r}; f()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *args, *files], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)


def test_hook_is_declared_for_python_and_checks():
    h = hook("cnncalc-check")
    assert h["language"] == "python"
    assert shlex.split(h["entry"])[:2] == ["cnncalc", "check"]
    assert h.get("pass_filenames", True) is True


@pytest.mark.parametrize("path, matched", [
    ("specs/vgg16.yaml", True),
    ("tests/specs/bad_stride.yaml", True),
    ("models/specs/net.yml", True),
    ("specs/sub/net.yaml", True),
    (".github/workflows/ci.yaml", False),
    ("config.yaml", False),
    ("specs/README.md", False),
    ("myspecs/net.yaml", False),
])
def test_files_pattern(path, matched):
    # pre-commit matches `files` with re.search against the path relative to the repository root
    assert bool(re.search(hook("cnncalc-check")["files"], path)) is matched


def test_entry_passes_a_good_spec():
    done = run_entry(hook("cnncalc-check")["entry"], [str((SPECS / "vgg16.yaml").relative_to(ROOT))])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_entry_fails_a_bad_spec_and_points_at_its_line():
    bad = str((TEST_SPECS / "bad_stride.yaml").relative_to(ROOT))
    good = str((SPECS / "vgg16.yaml").relative_to(ROOT))
    done = run_entry(hook("cnncalc-check")["entry"], [good, bad])
    assert done.returncode == 1
    assert done.stdout.startswith(f"{bad}:4:5: error: conv 'conv1'")
