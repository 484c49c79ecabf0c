"""The command line: argument parsing and exit codes only; the work is done by the other modules."""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import traceback

import click

from . import __version__
from .problems import Problem, SpecError, SpecReadError
from .spec import DTYPE_BYTES, Spec

EXIT_OK = 0  # every spec valid
EXIT_INVALID = 1  # a spec is invalid: its problems are printed as file:line:col: error: message
EXIT_USAGE = 2  # bad command line: unknown option, missing file (click's own code)
EXIT_INTERNAL = 3  # a bug in cnncalc: please report it
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (`| head`): 128 + SIGPIPE, as other tools exit
MAX_BATCH = 10**9

SPEC_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True)


class _Group(click.Group):
    """Turns an unexpected exception (a bug) into one line and exit code 3; --debug shows the traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `cnncalc shapes big.yaml | head`: not a bug, nobody is reading any more
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(f"cnncalc: internal error ({type(exc).__name__}: {exc}); this is a bug in cnncalc, "
                       "please report it with the spec and command that caused it"
                       + ("" if ctx.params.get("debug") else " (add --debug for the details)"), err=True)
            ctx.exit(EXIT_INTERNAL)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test runner's buffer)
        pass


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
def main(debug: bool) -> None:
    """Layer-by-layer arithmetic of convolutional networks written as YAML specs.

    Exit codes: 0 ok, 1 invalid spec, 2 usage error, 3 internal error (a bug).
    """


def load(path: str) -> Spec:
    from .compose import MAX_SPEC_BYTES
    from .parser import parse_bytes, parse_file

    if path == "-":
        return parse_bytes(sys.stdin.buffer.read(MAX_SPEC_BYTES + 1), "<stdin>")  # more is refused unread
    return parse_file(path)


def _fail(problems: tuple[Problem, ...], code: int = EXIT_INVALID) -> None:
    from .render.problems import render_problem_lines

    click.echo(render_problem_lines(problems), err=True, nl=False)
    raise SystemExit(code)


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True, help="Output format.")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Images per batch, for the memory totals (at most 10^9).")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Bytes per value (overrides the spec's dtype).")
@click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do, and list the layers that drop pixels.")
@click.option("--si", is_flag=True, help="Decimal byte units (MB = 10⁶) instead of binary (MiB = 1024²).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Collapse groups nested deeper than N into one row with subtotals (default: show every layer).")
@click.option("--no-color", is_flag=True, help="No colours (NO_COLOR is respected too).")
def shapes(spec: str, fmt: str, batch: int, dtype: str | None, floor: bool, si: bool, depth: int | None,
           no_color: bool) -> None:
    """Print every layer's output shape, params, activations, MACs and receptive field."""
    from .engine import analyze

    try:
        parsed = load(spec)
        if dtype:
            parsed = dataclasses.replace(parsed, dtype=dtype)
        report = analyze(parsed, floor=floor, batch=batch)
    except SpecError as error:
        _fail(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)
        return
    if fmt == "table":
        from .render.table import render_table

        render_table(report, si=si, color=False if no_color else None, depth=depth)
    elif fmt == "json":
        from .render.json_ import render_json

        click.echo(render_json(report), nl=False)
    elif fmt == "csv":
        from .render.csv_ import render_csv

        click.echo(render_csv(report), nl=False)
    else:
        from .render.markdown import render_markdown

        click.echo(render_markdown(report, si=si, depth=depth), nl=False)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; json: every file's problems.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid, 2 if any cannot be read.

    A file that cannot be read (missing, a directory, no permission) is reported like an invalid one
    and the others are still checked.
    """
    from .engine import analyze

    results: list[tuple[str, tuple[Problem, ...]]] = []
    unreadable = 0
    for path in specs:
        try:
            report = analyze(load(path), floor=floor)
            problems = report.warnings
        except SpecReadError as error:
            problems = error.problems
            unreadable += 1
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
    raise SystemExit(EXIT_USAGE if unreadable else EXIT_INVALID if invalid else EXIT_OK)
