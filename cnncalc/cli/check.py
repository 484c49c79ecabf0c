"""`cnncalc check`: validate specs for editors, pre-commit and CI (text, GitHub annotations, JSON, SARIF),
and hold them to their budgets (the spec's `budget:` key, or the --max-* flags)."""

from __future__ import annotations

import click

from ..problems import NOTE, Problem, SpecError, SpecReadError
from ..render import CHECK_FORMATS
from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE, MAX_BATCH, echo_text, load, model_options, terminal_options


class _Limit(click.ParamType):
    """A count (25M, 5G: K/M/G/T are 10³…10¹²) or a byte size (16GiB, 100MB), kept with its text."""

    def __init__(self, size: bool):
        self.size = size
        self.name = "size" if size else "count"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, tuple):
            return value
        from ..budget import parse_count
        from ..sizing import parse_size

        try:
            number = parse_size(value) if self.size else parse_count(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if number <= 0:
            self.fail(f"'{value}' is not positive", param, ctx)
        return number, value


def _budget_options(command):
    from ..training import OPTIMIZERS

    for option in reversed((
        click.option("--max-params", type=_Limit(False), help="Most parameters: 25M, 1.5G, 25000000."),
        click.option("--max-macs", type=_Limit(False), help="Most multiply-accumulates per sample: 5G."),
        click.option("--max-activations", type=_Limit(True),
                     help="Most activation memory per sample, forward (every layer's output): 100MiB, 100MB."),
        click.option("--max-memory", type=_Limit(True),
                     help="Most training memory (as `cnncalc memory` computes it) at --batch with --optimizer; "
                          "with --inference, forward only: 16GiB, 16GB."),
        click.option("--min-rf", type=click.IntRange(min=1), help="The least receptive field, in input pixels "
                     "(per spatial dim, at the last layer with spatial dims)."),
        click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=None,
                     help="Samples per batch for the memory limit (default: the spec's budget, else 1)."),
        click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default=None,
                     help="Optimizer for the memory limit (default: the spec's budget, else sgd)."),
        click.option("--inference", is_flag=True, help="The memory limit bounds inference (forward only)."),
    )):
        command = option(command)
    return command


def _flag_limits(given: dict, min_rf: int | None, batch: int | None, optimizer: str | None, inference: bool):
    from ..budget import FlagLimits

    return FlagLimits(**{key: value[0] if value else None for key, value in given.items()}, rf=min_rf, batch=batch,
                      optimizer=optimizer, inference=inference,
                      written=tuple((key, value[1]) for key, value in given.items() if value)
                      + ((("rf", str(min_rf)),) if min_rf else ()))


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(allow_dash=True, readable=False))
@click.option("--format", "fmt", type=click.Choice(list(CHECK_FORMATS)), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; github: GitHub Actions annotations; "
                   "json: every file's problems and budgets; sarif: SARIF 2.1.0 for code scanning; junit: JUnit XML.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@_budget_options
@model_options
@terminal_options
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool, max_params, max_macs, max_activations,
          max_memory, min_rf: int | None, batch: int | None, optimizer: str | None, inference: bool,
          input_shape: tuple[int, ...] | None, allow_unknown: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid or over its budget,
    2 if any cannot be read.

    A folder stands for every *.yaml and *.yml file under it (recursively, sorted, hidden folders
    skipped); a folder without any is an error (exit 1). A file that cannot be read (missing, no
    permission) is reported like an invalid one and the others are still checked. Budgets come from
    the spec's `budget:` key; a flag overrides it.
    """
    import importlib

    from ..engine import analyze

    given = {"params": max_params, "macs": max_macs, "activations": max_activations, "memory": max_memory}
    flags = None  # the budget flags, read when a spec has a budget or a flag is given (budget is not imported else)
    if any(given.values()) or min_rf or batch or optimizer or inference:
        flags = _flag_limits(given, min_rf, batch, optimizer, inference)
    results: list[tuple[str, tuple[Problem, ...]]] = []
    verdicts: dict = {}  # file → its budgets' verdicts
    unreadable = 0
    empty_folders: list[str] = []
    for path in _expand_folders(specs, empty_folders):
        shown = "<stdin>" if path == "-" else path
        try:
            spec = load(path, input_shape, allow_unknown)
            report = analyze(spec, floor=floor)
            problems = report.warnings
            if spec.budget or flags:
                from .. import budget as budgets

                flags = flags or _flag_limits(given, min_rf, batch, optimizer, inference)
                limits = budgets.merge(spec.budget, flags, spec.location)
                if limits:
                    verdicts[shown] = budgets.verdicts(report, limits)
                    problems += budgets.problems(verdicts[shown])
        except SpecReadError as error:
            problems = error.problems
            unreadable += 1
        except SpecError as error:
            problems = error.problems
        if strict:
            problems = tuple(p._replace(severity="error") if p.severity != NOTE else p for p in problems)
        results.append((shown, problems))
    renderer = importlib.import_module(f"..render.{CHECK_FORMATS[fmt]}", __package__)
    if fmt == "text":
        echo_text(renderer.render_check(results, verdicts))
    else:
        click.echo(renderer.render_check(results, verdicts), nl=False)
    if fmt in ("text", "github"):
        from ..render.problems import budget_summary, check_summary

        click.echo(check_summary(results) + budget_summary(verdicts), err=True)
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
