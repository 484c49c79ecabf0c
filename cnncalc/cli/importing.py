"""`cnncalc import`: an ONNX model or a Caffe prototxt as a readable YAML spec."""

from __future__ import annotations

import os
import sys

import click

from ..problems import SpecError, SpecReadError
from . import EXIT_INVALID, EXIT_USAGE, exit_with_problems, model_options, terminal_options


@click.command("import")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the spec to this file instead of standard output.")
@click.option("--force", is_flag=True, help="With -o: overwrite the file if it exists.")
@model_options
@terminal_options
def import_model(model: str, output: str | None, force: bool, input_shape: tuple[int, ...] | None,
                 allow_unknown: bool) -> None:
    """Print an ONNX model or a Caffe prototxt as a cnncalc YAML spec (the model's names, cnncalc's kinds)."""
    from ..importers import MAX_STDIN_MODEL_BYTES, read_network
    from ..importers.emit import to_yaml

    if output is not None and os.path.exists(output) and not force:
        raise click.UsageError(f"'{output}' exists; cnncalc does not overwrite it unless you add --force")
    if model != "-" and not os.path.isfile(model):
        raise click.UsageError(f"'{model}' is not a regular file; cnncalc imports model files, and standard input "
                               "as '-'")
    data = sys.stdin.buffer.read(MAX_STDIN_MODEL_BYTES) if model == "-" else None
    source = "<stdin>" if model == "-" else model
    try:
        network = read_network(source, data, input_shape, allow_unknown)
    except SpecError as error:
        exit_with_problems(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)
        return
    text = to_yaml(network)
    if output is None:
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    if network.notes:
        from ..render.problems import render_problem_lines

        click.echo(render_problem_lines(network.notes), err=True, nl=False)
