"""`cnncalc diff OLD NEW`: what a change did to a network, for pull requests. A report: exit 0 whatever the
difference, 1 when either spec is invalid, 2 when either cannot be read."""

from __future__ import annotations

import click

from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE, MAX_BATCH, echo_text, load, model_options, table_options, table_settings


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="text; markdown: a pull-request comment (summary table, then the layers in <details>); json.")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Samples per batch for the memory total.")
@click.option("--optimizer", default="sgd", show_default=True, help="Optimizer for the training memory total.",
              type=click.Choice(["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]))
@click.option("--inference", is_flag=True, help="Compare inference memory (forward only) instead of training.")
@click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do.")
@table_options
@model_options
def diff(old: str, new: str, fmt: str, batch: int, optimizer: str, inference: bool, floor: bool, exact: bool,
         wide: bool, columns: str | None, width: int | None, input_shape: tuple[int, ...] | None = None,
         allow_unknown: bool = False) -> None:
    """Compare OLD and NEW: totals side by side with deltas (params, MACs, activations, memory at --batch,
    receptive field), then the layers added, removed or changed, matched by name.

    OLD or NEW may be git:REV:PATH, a file at a git revision of the current repository
    (git:origin/main:specs/net.yaml), read with git show. Either may be an ONNX model or a Caffe prototxt
    (cnncalc diff model.onnx specs/net.yaml): --input and --allow-unknown apply to the models.
    """
    import os

    from ..importers import is_model

    from ..budget import INFERENCE, TRAINING, MemorySetting
    from ..diff import diff_reports
    from ..engine import analyze
    from ..problems import SpecError, SpecReadError
    from ..render.diff import DIFF_KEYS
    from ..render.problems import render_problem_lines

    options = table_settings("table", exact, wide, columns, width, DIFF_KEYS)  # text: through rich on a terminal

    reports = []
    problems = []
    code = EXIT_OK
    models = set()
    for path in (old, new):
        try:
            if path != "-" and not path.startswith("git:") and os.path.isfile(path) and is_model(path):
                models.add(path)
        except SpecError:
            pass  # unreadable: said when it is loaded
    for path in (old, new):
        try:  # --input is for the models; with none, the YAML spec refuses it and says why
            shape = input_shape if path in models or not models else None
            reports.append(analyze(load(path, shape, allow_unknown), floor=floor))
        except SpecReadError as error:
            problems += error.problems
            code = EXIT_USAGE
        except SpecError as error:
            problems += error.problems
            code = max(code, EXIT_INVALID) if code != EXIT_USAGE else code
    if problems:
        echo_text(render_problem_lines(problems), err=True)
        raise SystemExit(code)
    setting = MemorySetting(mode=INFERENCE if inference else TRAINING, batch=batch, optimizer=optimizer)
    result = diff_reports(old, reports[0], new, reports[1], setting)
    from ..render import diff as render

    if fmt == "json":
        click.echo(render.render_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.render_markdown(result), nl=False)
    else:
        from ..render.console import show

        show(render.text_blocks(result), options)
    raise SystemExit(EXIT_OK)
