"""`cnncalc check`: validate specs for editors, pre-commit and CI (text, GitHub annotations, JSON)."""

from __future__ import annotations

import click

from ..problems import Problem, SpecError, SpecReadError
from ..render import CHECK_FORMATS
from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE, echo_text, load, terminal_options


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(allow_dash=True, readable=False))
@click.option("--format", "fmt", type=click.Choice(list(CHECK_FORMATS)), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; github: GitHub Actions annotations; "
                   "json: every file's problems.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@terminal_options
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid, 2 if any cannot be read.

    A folder stands for every *.yaml and *.yml file under it (recursively, sorted, hidden folders
    skipped); a folder without any is an error (exit 1). A file that cannot be read (missing, no
    permission) is reported like an invalid one and the others are still checked.
    """
    import importlib

    from ..engine import analyze

    results: list[tuple[str, tuple[Problem, ...]]] = []
    unreadable = 0
    empty_folders: list[str] = []
    for path in _expand_folders(specs, empty_folders):
        try:
            report = analyze(load(path), floor=floor)
            problems = report.warnings
        except SpecReadError as error:
            problems = error.problems
            unreadable += 1
        except SpecError as error:
            problems = error.problems
        if strict:
            problems = tuple(p._replace(severity="error") for p in problems)
        results.append(("<stdin>" if path == "-" else path, problems))
    renderer = importlib.import_module(f"..render.{CHECK_FORMATS[fmt]}", __package__)
    if fmt == "text":
        echo_text(renderer.render_check(results))
    else:
        click.echo(renderer.render_check(results), nl=False)
    if fmt != "json":
        from ..render.problems import check_summary

        click.echo(check_summary(results), err=True)
    for folder in empty_folders:
        click.echo(f"{folder}: no *.yaml or *.yml file in this folder or below it (hidden folders skipped)",
                   err=True)
    invalid = any(p.is_error for _, problems in results for p in problems)
    raise SystemExit(EXIT_USAGE if unreadable else EXIT_INVALID if invalid or empty_folders else EXIT_OK)


def _expand_folders(paths: tuple[str, ...], empty: list[str]) -> list[str]:
    """Each folder replaced by the *.yaml and *.yml files under it, recursively and sorted, hidden
    folders and files skipped (as yamllint and check-jsonschema do); a folder without any goes to `empty`."""
    import os

    found: list[str] = []
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            found.append(path)
            continue
        files = []
        for folder, folders, names in os.walk(path):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            files += [os.path.join(folder, name) for name in names
                      if name.lower().endswith((".yaml", ".yml")) and not name.startswith(".")]
        if not files:
            empty.append(path)
        found += sorted(files)
    return found
