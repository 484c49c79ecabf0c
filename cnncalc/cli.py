"""The command line: argument parsing and exit codes only; the work is done by the other modules."""

from __future__ import annotations

import dataclasses
import gc
import sys

import click

from . import __version__
from .problems import Problem, SpecError
from .spec import DTYPE_BYTES, Spec

EXIT_OK = 0  # every spec valid
EXIT_INVALID = 1  # a spec is invalid: its problems are printed as file:line:col: error: message
EXIT_USAGE = 2  # bad command line: unknown option, missing file (click's own code)
EXIT_INTERNAL = 3  # a bug in cnncalc: please report it

SPEC_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True)


class _Group(click.Group):
    """Turns an unexpected exception (a bug) into one line and exit code 3; --debug shows the traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        # A command builds one large acyclic structure and exits: the cycle collector would only rescan it,
        # again and again as it grows (40% of a 100,000-layer check). Off for the command.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if ctx.params.get("debug"):
                import traceback

                traceback.print_exc()
            click.echo(f"cnncalc: internal error ({type(exc).__name__}: {exc}); this is a bug in cnncalc, "
                       "please report it with the spec and command that caused it"
                       + ("" if ctx.params.get("debug") else " (add --debug for the details)"), err=True)
            ctx.exit(EXIT_INTERNAL)
        finally:
            if collecting:
                gc.enable()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
def main(debug: bool) -> None:
    """Layer-by-layer arithmetic of convolutional networks written as YAML specs.

    Exit codes: 0 ok, 1 invalid spec, 2 usage error, 3 internal error (a bug).
    """


def load(path: str) -> Spec:
    from .parser import parse_bytes, parse_file

    if path == "-":
        return parse_bytes(sys.stdin.buffer.read(), "<stdin>")
    return parse_file(path)


def _fail(problems: tuple[Problem, ...]) -> None:
    from .render.problems import render_problem_lines

    click.echo(render_problem_lines(problems), err=True, nl=False)
    raise SystemExit(EXIT_INVALID)


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True, help="Output format.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Images per batch, for the memory totals.")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Bytes per value (overrides the spec's dtype).")
@click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do, and list the layers that drop pixels.")
@click.option("--si", is_flag=True, help="Decimal byte units (MB = 10⁶) instead of binary (MiB = 1024²).")
@click.option("--no-color", is_flag=True, help="No colours (NO_COLOR is respected too).")
def shapes(spec: str, fmt: str, batch: int, dtype: str | None, floor: bool, si: bool, no_color: bool) -> None:
    """Print every layer's output shape, params, activations, MACs and receptive field."""
    from .engine import analyze

    try:
        parsed = load(spec)
        if dtype:
            parsed = dataclasses.replace(parsed, dtype=dtype)
        report = analyze(parsed, floor=floor, batch=batch)
    except SpecError as error:
        _fail(error.problems)
        return
    if fmt == "table":
        from .render.table import render_table

        render_table(report, si=si, color=False if no_color else None)
    elif fmt == "json":
        from .render.json_ import render_json

        click.echo(render_json(report), nl=False)
    elif fmt == "csv":
        from .render.csv_ import render_csv

        click.echo(render_csv(report), nl=False)
    else:
        from .render.markdown import render_markdown

        click.echo(render_markdown(report, si=si), nl=False)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; json: every file's problems.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid."""
    from .engine import analyze

    results: list[tuple[str, tuple[Problem, ...]]] = []
    for path in specs:
        try:
            report = analyze(load(path), floor=floor)
            problems = report.warnings
        except SpecError as error:
            problems = error.problems
        if strict:
            problems = tuple(dataclasses.replace(p, severity="error") for p in problems)
        results.append(("<stdin>" if path == "-" else path, problems))
    invalid = sum(1 for _, problems in results if any(p.is_error for p in problems))
    if fmt == "json":
        from .render.problems import render_check_json

        click.echo(render_check_json(results), nl=False)
    else:
        from .render.problems import render_problem_lines

        click.echo("".join(render_problem_lines(problems) for _, problems in results), nl=False)
        errors = sum(1 for _, problems in results for p in problems if p.is_error)
        click.echo(f"checked {len(results)} spec{'s' if len(results) != 1 else ''}: "
                   f"{len(results) - invalid} valid, {invalid} invalid ({errors} error{'s' if errors != 1 else ''})",
                   err=True)
    raise SystemExit(EXIT_INVALID if invalid else EXIT_OK)
