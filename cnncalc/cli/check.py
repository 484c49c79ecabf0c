"""`cnncalc check`: validate specs for editors, pre-commit and CI (text, GitHub annotations, JSON)."""

from __future__ import annotations

import click

from ..problems import NOTE, Problem, SpecError, SpecReadError
from ..render import CHECK_FORMATS
from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE, echo_text, load, model_options, terminal_options


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(allow_dash=True, readable=False))
@click.option("--format", "fmt", type=click.Choice(list(CHECK_FORMATS)), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; github: GitHub Actions annotations; "
                   "json: every file's problems.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@model_options
@terminal_options
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool, input_shape: tuple[int, ...] | None,
          allow_unknown: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid, 2 if any cannot be read.

    A file that cannot be read (missing, a directory, no permission) is reported like an invalid one
    and the others are still checked.
    """
    import importlib

    from ..engine import analyze

    results: list[tuple[str, tuple[Problem, ...]]] = []
    unreadable = 0
    for path in specs:
        try:
            report = analyze(load(path, input_shape, allow_unknown), floor=floor)
            problems = report.warnings
        except SpecReadError as error:
            problems = error.problems
            unreadable += 1
        except SpecError as error:
            problems = error.problems
        if strict:
            problems = tuple(p._replace(severity="error") if p.severity != NOTE else p for p in problems)
        results.append(("<stdin>" if path == "-" else path, problems))
    renderer = importlib.import_module(f"..render.{CHECK_FORMATS[fmt]}", __package__)
    if fmt == "text":
        echo_text(renderer.render_check(results))
    else:
        click.echo(renderer.render_check(results), nl=False)
    if fmt != "json":
        from ..render.problems import check_summary

        click.echo(check_summary(results), err=True)
    invalid = any(p.is_error for _, problems in results for p in problems)
    raise SystemExit(EXIT_USAGE if unreadable else EXIT_INVALID if invalid else EXIT_OK)
