"""The GitHub Action (action.yml): its steps' shell commands run here as a runner runs them (bash, the step's
env with the inputs filled in, GITHUB_STEP_SUMMARY pointing at a temp file), on a git repository with a
pull request's changes, so that the action cannot rot. The install step installs cnncalc from a copy of this
checkout into a fresh virtual environment (no index: the test's own packages stand in for PyPI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, SPECS

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def test_the_action_is_composite_with_the_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"specs", "args", "diff-against", "python-version"}
    assert ACTION["inputs"]["specs"]["default"] == "specs/"
    assert all(i["description"] for i in ACTION["inputs"].values())
    (setup,) = [s for s in STEPS if "uses" in s]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"


def test_scripts_take_inputs_through_the_environment_only():
    """A `${{ }}` in a script is pasted in before bash reads it: an input could inject commands."""
    assert any("run" in step for step in STEPS)  # the action runs scripts: there is something to check
    for step in STEPS:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A copy of the action's checkout and a fresh virtual environment; the install step is run in the test."""
    if shutil.which("git") is None or shutil.which("bash") is None:
        pytest.skip("git and bash are needed to run the action's steps")
    base = tmp_path_factory.mktemp("action")
    action = base / "cnncalc-action"
    shutil.copytree(ROOT / "cnncalc", action / "cnncalc", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "action.yml"):
        shutil.copy(ROOT / name, action / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; "
                                   "print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                                  text=True).stdout.strip())
    # this environment's packages (pip, setuptools, click, rich, pyyaml) stand in for the index
    (purelib / "test-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    temp = base / "runner-temp"
    temp.mkdir()
    done = run_steps(action, venv, base, temp, {}, "push", only="Install cnncalc")
    assert done["Install cnncalc"].returncode == 0, done["Install cnncalc"].stderr
    return action, venv


def run_steps(action: Path, venv: Path, workspace: Path, temp: Path, inputs: dict[str, str], event: str,
              only: str = "") -> dict[str, subprocess.CompletedProcess]:
    """Run the action's `run:` steps in order as a runner does (bash --noprofile --norc -eo pipefail), until one
    fails (the install step only when `only` names it, the others always); the results by step name."""
    values = {f"inputs.{name}": str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({f"inputs.{name}": value for name, value in inputs.items()})
    summary = temp / "summary.md"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "PIP_", "PYTHON"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", GITHUB_ACTION_PATH=str(action),
               GITHUB_STEP_SUMMARY=str(summary), GITHUB_EVENT_NAME=event, RUNNER_TEMP=str(temp),
               GITHUB_WORKSPACE=str(workspace), VIRTUAL_ENV=str(venv),
               PIP_NO_INDEX="1", PIP_NO_DEPS="1", PIP_NO_BUILD_ISOLATION="0")  # pip reads "0" as --no-build-isolation
    done = {}
    for step in STEPS:
        if "run" not in step or (step["name"] == "Install cnncalc") != (only == "Install cnncalc"):
            continue
        step_env = dict(env)
        for key, value in step.get("env", {}).items():
            step_env[key] = EXPRESSION.sub(lambda m: values[m[1]], str(value))
        script = temp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        done[step["name"]] = result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                                     cwd=workspace, env=step_env, capture_output=True, text=True,
                                                     timeout=600)
        if result.returncode != 0:
            break
    return done


OLD = "name: net\ninput: [3, 32, 32]\nlayers:\n  - conv: {filters: 8, kernel: 3, padding: 1}\n  - relu\n  - fc: 10\n"
NEW = OLD.replace("filters: 8", "filters: 16")


@pytest.fixture
def workspace(tmp_path):
    """A repository whose `base` branch has specs/net.yaml and specs/same.yaml; the pull request changes net.yaml,
    adds specs/sub/new.yml, and has a hidden folder and a non-spec file that must be left alone."""
    repo = tmp_path / "repo"
    (repo / "specs" / "sub").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "specs" / "net.yaml").write_text(OLD, encoding="utf-8")
    shutil.copy(SPECS / "lenet5.yaml", repo / "specs" / "same.yaml")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "pr")
    (repo / "specs" / "net.yaml").write_text(NEW, encoding="utf-8")
    (repo / "specs" / "sub" / "new.yml").write_text(OLD, encoding="utf-8")
    (repo / "specs" / ".hidden").mkdir()
    (repo / "specs" / ".hidden" / "broken.yaml").write_text("not: a spec\n", encoding="utf-8")
    (repo / "specs" / "notes.txt").write_text("not yaml\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pr")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    return repo, temp


def test_a_pull_request_is_checked_and_its_diff_is_the_step_summary(installed, workspace):
    action, venv = installed
    repo, temp = workspace
    done = run_steps(action, venv, repo, temp, {"diff-against": "base"}, "pull_request")
    assert list(done) == ["List the specs", "Diff against the base", "Check the specs"]
    assert all(result.returncode == 0 for result in done.values()), {k: r.stderr for k, r in done.items()}
    assert (venv / "bin" / "cnncalc").exists()  # installed by the action's install step from its checkout
    assert f"{venv}" in shutil.which("cnncalc", path=str(venv / "bin"))
    assert "3 spec(s) to check" in done["List the specs"].stdout  # net, same, sub/new; not .hidden, not notes.txt
    assert done["Check the specs"].stderr.startswith("checked 3 specs: 3 valid, 0 invalid")
    summary = (temp / "summary.md").read_text(encoding="utf-8")
    assert "### cnncalc diff: git:base:specs/net.yaml → specs/net.yaml" in summary
    conv = (3 * 3 * 3 * 8 + 8, 3 * 3 * 3 * 16 + 16)
    assert f"| conv1 | changed | conv 3×3/1, p1, 8 → conv 3×3/1, p1, 16 | 32×32×8 → 32×32×16 | {conv[0]:,} → " \
           f"{conv[1]:,} |" in summary
    assert "`specs/sub/new.yml` is new" in summary
    assert "same.yaml" not in summary


def test_a_budget_in_args_fails_the_check_with_an_annotation(installed, workspace):
    action, venv = installed
    repo, temp = workspace
    done = run_steps(action, venv, repo, temp, {"args": "--max-params 1k --strict", "specs": "specs/*.yaml"}, "push")
    check = done["Check the specs"]
    assert check.returncode == 1
    params = 3 * 3 * 3 * 16 + 16 + 16 * 32 * 32 * 10 + 10  # net.yaml in the pull request: conv, then fc over 16·32·32
    line = f"::error file=specs/net.yaml,line=1,col=1,title=cnncalc::budget exceeded: params {params:,} > 1,000 (+"
    assert any(l.startswith(line) for l in check.stdout.splitlines()), check.stdout
    assert not (temp / "summary.md").exists()  # not a pull request: no diff


def test_no_spec_found_is_an_error_annotation(installed, workspace):
    action, venv = installed
    repo, temp = workspace
    done = run_steps(action, venv, repo, temp, {"specs": "models/"}, "pull_request")
    listing = done["List the specs"]
    assert listing.returncode == 1 and "::error title=cnncalc::no spec found in 'models/'" in listing.stdout
    assert "Check the specs" not in done


def test_a_base_missing_from_the_checkout_is_a_warning_not_a_failure(installed, workspace):
    action, venv = installed
    repo, temp = workspace
    done = run_steps(action, venv, repo, temp, {"diff-against": "origin/main"}, "pull_request")
    assert done["Diff against the base"].returncode == 0
    assert "origin/main is not in this checkout" in done["Diff against the base"].stdout
    assert done["Check the specs"].returncode == 0
