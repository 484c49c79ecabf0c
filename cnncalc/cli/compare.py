"""`cnncalc compare`: layer stacks (3x3x3 vs 7x7) or specs side by side."""

from __future__ import annotations

import os

import click

from ..problems import SpecError, SpecReadError
from . import (EXIT_INVALID, EXIT_USAGE, ShapeType, check_columns, exit_with_problems, load, table_options,
               table_settings)

_STACK_OPTIONS = ("channels", "stride", "dilation", "bias", "input_size", "padding")


def _is_spec_argument(argument: str) -> bool:
    """An existing file, or a name ending in .yaml/.yml, is a spec; anything else is part of an expression."""
    return argument == "-" or os.path.isfile(argument) or argument.lower().endswith((".yaml", ".yml", ".onnx", ".prototxt"))


def _unglobbed(items: tuple[str, ...]) -> list[str]:
    """The words as typed, files the shell put in place of a '*' replaced by '*' again (once per run)."""
    words: list[str] = []
    for item in items:
        if os.path.exists(item):
            if not words or words[-1] != "*":
                words.append("*")
        else:
            words.append(item)
    return words


@click.command(context_settings={"max_content_width": 100})
@click.argument("items", nargs=-1, required=True, metavar="STACK [vs STACK]... | SPEC...")
@click.option("--channels", type=click.IntRange(min=1), default=None,
              help="Channels C into each stack (default: symbolic, params as a formula in C). Needed for @.")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="Stride of each stack's first layer.")
@click.option("--dilation", type=click.IntRange(min=1), default=1, show_default=True,
              help="Dilation of every layer.")
@click.option("--bias/--no-bias", default=False, show_default=True, help="One bias per filter.")
@click.option("--input", "input_size", default=None, metavar="N",
              help="An N×N input: output sizes, total MACs and activations. With models (ONNX, prototxt): their "
                   "input shape, e.g. 3x224x224, when they leave it open.")
@click.option("--allow-unknown", is_flag=True,
              help="Models: read past operators cnncalc does not know; their params and MACs are left out.")
@click.option("--padding", type=click.Choice(["same", "valid"]), default="same", show_default=True,
              help="With --input: 'same' keeps ceil(N/S), 'valid' pads nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "csv", "markdown", "html"]),
              default="table", show_default=True,
              help="Output format (csv: one row per spec or stack; html: specs only, their layers' bars side by side).")
@click.option("--si", is_flag=True, help="Decimal byte units for specs (MB = 10⁶).")
@table_options
@click.pass_context
def compare(ctx: click.Context, items: tuple[str, ...], channels: int | None, stride: int, dilation: int, bias: bool,
            input_size: str | None, padding: str, fmt: str, si: bool, exact: bool, wide: bool, columns: str | None,
            width: int | None, allow_unknown: bool = False) -> None:
    """Compare layer stacks (3x3x3 vs 7x7) or specs side by side.

    \b
    Layer stacks are 2-D convs, C channels in; a non-linearity follows each:
      cnncalc compare 3x3x3 vs 7x7
      cnncalc compare 3x3x3 vs 5x5x2 vs 7x7 --input 224
      cnncalc compare --channels 256 1x1@64,3x3,1x1@256 vs 3x3
    \b
    Grammar (spaces between tokens are ignored; x may be written × or X):
      comparison = stack { "vs" stack }
      stack      = layer { "," layer }
      layer      = [N "*"] Kh "x" Kw ["x" N] ["@" C_out]
    \b
      3x3 is one 3×3 conv, 3x1 one 3×1 conv; 3x3x3 = 3*3x3 = three 3×3 convs.
      "x N" repeats only a square kernel: 3x1x2 is refused as ambiguous (write 2*3x1).
      @C_out sets that layer's output channels (needs --channels); a layer
      without @ keeps its input's channels.
    \b
    Specs: cnncalc compare specs/vgg16.yaml specs/vgg11.yaml
      (an existing file, or a name ending in .yaml/.yml/.onnx/.prototxt, is a
      spec; ONNX models and Caffe prototxt files are read as specs; ratios are
      against the first). Mixing specs and stacks is a usage error.
    """
    options = table_settings(fmt, exact, wide, columns, width, None)  # the columns are the specs or the stacks
    arguments = [item for item in items if item.lower() != "vs"]
    specs = [item for item in arguments if _is_spec_argument(item)]
    if specs and len(specs) != len(arguments):
        other = next(item for item in arguments if not _is_spec_argument(item))
        if any(not item.lower().endswith((".yaml", ".yml")) for item in specs):  # `3 * 3x3`: the shell's glob
            raise click.UsageError(
                f"'{next(i for i in specs if not i.lower().endswith(('.yaml', '.yml')))}' is a file among layer "
                "stacks: the shell probably expanded '*' into the names of the files here; quote the expression: "
                f"cnncalc compare '{' '.join(_unglobbed(items))}'")
        raise click.UsageError(f"cannot compare specs with layer stacks: '{specs[0]}' is a spec, '{other}' is not; "
                               "compare specs with specs or stacks with stacks")
    if specs:
        from ..importers import is_model

        models = {path for path in specs if os.path.isfile(path) and is_model(path)}
        given = [name for name in _STACK_OPTIONS if (name != "input_size" or not models)
                 and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if given:
            option = {"input_size": "input", "bias": "bias/--no-bias"}.get(given[0], given[0])
            raise click.UsageError(f"--{option} applies to layer stacks, not to specs")
        shape = ShapeType().convert(input_size, None, ctx) if input_size is not None else None
        _compare_specs(specs, fmt, si, options, models, shape, allow_unknown)
    else:
        if allow_unknown:
            raise click.UsageError("--allow-unknown applies to models (ONNX, prototxt), not to layer stacks")
        if input_size is None and ctx.get_parameter_source("padding") is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError("--padding applies with --input N (the size it keeps or shrinks): add --input")
        size = None
        if input_size is not None:
            param = next(p for p in ctx.command.params if p.name == "input_size")
            size = click.IntRange(min=1).convert(input_size, param, ctx)
        _compare_stacks(" ".join(items), channels, stride, dilation, bias, size, padding, fmt, options)


def _compare_specs(paths: list[str], fmt: str, si: bool, options, models: set[str] = frozenset(),
                   input_shape: tuple[int, ...] | None = None, allow_unknown: bool = False) -> None:
    from ..compare import compare_reports
    from ..engine import analyze
    from ..render import compare as render

    if paths.count("-") > 1:
        raise click.UsageError("standard input ('-') can be read once: give one spec as '-', the others as files")
    for path in paths:
        if not os.path.exists(path) and path != "-":
            raise click.UsageError(f"spec '{path}' does not exist")
    reports, problems, unreadable = [], [], False
    for path in paths:
        try:
            if path in models:
                reports.append((path, analyze(load(path, input_shape, allow_unknown))))
            else:
                reports.append((path, analyze(load(path))))
        except SpecError as error:
            problems.extend(error.problems)
            unreadable = unreadable or isinstance(error, SpecReadError)
    if problems:  # a file that cannot be read is a usage error (2), as in shapes and check
        exit_with_problems(tuple(problems), EXIT_USAGE if unreadable else EXIT_INVALID)
    comparison = compare_reports(reports)
    if fmt in ("json", "csv"):
        click.echo((render.render_specs_json if fmt == "json" else render.render_specs_csv)(comparison), nl=False)
        return
    if fmt == "html":
        from ..render.graph_layout import PictureTooLarge
        from ..render.html_pages import render_compare_html

        try:
            text = render_compare_html(comparison, si)
        except PictureTooLarge as error:
            click.echo(f"cnncalc compare: error: {error}", err=True)
            raise SystemExit(EXIT_USAGE)
        click.echo(text, nl=False)
        return
    headers, rows = render.spec_rows(comparison, si, options.exact)
    check_columns(options.columns, render.column_keys(headers))
    if fmt == "markdown":
        click.echo(render.render_rows_markdown(render.SPEC_TITLE, headers, rows, [], render.SPEC_LEGEND), nl=False)
    else:
        render.render_rows_table(render.SPEC_TITLE, headers, rows, [], render.SPEC_LEGEND, options)


def _compare_stacks(expression: str, channels: int | None, stride: int, dilation: int, bias: bool,
                    input_size: int | None, padding: str, fmt: str, options) -> None:
    from ..compare import ExpressionError, StackError, StackSettings, compare_stacks, parse_expression
    from ..render import compare as render

    if fmt == "html":
        raise click.UsageError("--format html compares specs; for layer stacks use table, json or markdown")
    try:
        stacks = parse_expression(expression, channels_allowed=channels is not None)
    except ExpressionError as error:
        click.echo(render.expression_error_text(error), err=True, nl=False)
        raise SystemExit(EXIT_USAGE)
    settings = StackSettings(channels=channels, stride=stride, dilation=dilation, bias=bias, input_size=input_size,
                             padding=padding)
    try:
        comparison = compare_stacks(stacks, settings)
    except StackError as error:
        click.echo(f"cnncalc compare: error: {error}", err=True)
        raise SystemExit(EXIT_USAGE)
    if fmt in ("json", "csv"):
        click.echo((render.render_stacks_json if fmt == "json" else render.render_stacks_csv)(comparison), nl=False)
        return
    headers, rows = render.stack_rows(comparison)
    title, footer = render.settings_text(settings), render.stack_footer(comparison)
    check_columns(options.columns, render.column_keys(headers))
    if fmt == "markdown":
        click.echo(render.render_rows_markdown(title, headers, rows, footer, render.STACK_LEGEND), nl=False)
    else:
        render.render_rows_table(title, headers, rows, footer, render.STACK_LEGEND, options)
