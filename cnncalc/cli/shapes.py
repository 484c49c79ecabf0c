"""`cnncalc shapes`: every layer's shape, counts and receptive field, as a table, JSON, CSV or Markdown, or the
network's picture as HTML, SVG or Graphviz DOT."""

from __future__ import annotations

import click

from ..problems import SpecError, SpecReadError
from ..spec import DTYPE_BYTES
from . import (EXIT_INVALID, EXIT_USAGE, MAX_BATCH, SPEC_PATH, exit_with_problems, load, model_options, table_options,
               table_settings)


COLUMN_KEYS = ["index", "name", "layer", "output", "activations", "params", "macs", "rf"]  # render/table.py's


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt",
              type=click.Choice(["table", "text", "json", "csv", "markdown", "html", "svg", "dot"]), default="table",
              show_default=True, help="Output format: table (text is the same table without colour, even on a "
                                      "terminal); html: a self-contained report with the network's picture, svg: the "
                                      "picture, dot: the graph for Graphviz.")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Samples per batch, for the memory totals (at most 10^9).")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Bytes per value (overrides the spec's dtype).")
@click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do, and list the layers that drop pixels.")
@click.option("--si", is_flag=True, help="Decimal byte units (MB = 10⁶) instead of binary (MiB = 1024²).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Collapse groups nested deeper than N into one row with subtotals (default: show every layer).")
@model_options
@table_options
def shapes(spec: str, fmt: str, batch: int, dtype: str | None, floor: bool, si: bool, depth: int | None, exact: bool,
           wide: bool, columns: str | None, width: int | None, input_shape: tuple[int, ...] | None = None,
           allow_unknown: bool = False) -> None:
    """Print every layer's output shape, params, activations, MACs and receptive field.

    Columns (--columns): index, name, layer, output, activations, params, macs, rf.
    """
    from ..engine import analyze

    options = table_settings(fmt, exact, wide, columns, width, COLUMN_KEYS)
    try:
        parsed = load(spec, input_shape, allow_unknown)
        if dtype:
            parsed = parsed._replace(dtype=dtype)
        if fmt in ("html", "svg"):
            _picture_fits(len(parsed.layers))  # before the arithmetic: a spec too large is refused at once
        report = analyze(parsed, floor=floor, batch=batch)
    except SpecError as error:
        exit_with_problems(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)
        return
    if fmt in ("table", "text"):
        from ..render.table import render_table

        render_table(report, options, depth=depth, si=si)
    elif fmt in ("json", "csv"):  # written layer by layer: the whole text is never in memory
        import sys

        if fmt == "json":
            from ..render.json_ import iter_json as pieces
        else:
            from ..render.csv_ import iter_csv as pieces
        write = sys.stdout.write
        for piece in pieces(report):
            write(piece)
    elif fmt in ("html", "svg", "dot"):
        _picture(report, fmt)
    else:
        from ..render.markdown import render_markdown

        click.echo(render_markdown(report, si=si, depth=depth, exact=exact), nl=False)


def _picture_fits(layers: int) -> None:
    from ..render.graph_layout import PictureTooLarge, check_size

    try:
        check_size(layers)
    except PictureTooLarge as error:
        click.echo(f"cnncalc shapes: error: {error}", err=True)
        raise SystemExit(EXIT_USAGE)


def _picture(report, fmt: str) -> None:
    """The picture formats; a spec too large to draw is refused with the limit (exit 2)."""
    from ..render.graph_layout import PictureTooLarge

    try:
        if fmt == "dot":
            from ..render.dot import render_dot

            text = render_dot(report)
        elif fmt == "svg":
            from ..render.svg import render_svg

            text = render_svg(report)
        else:
            from ..render.html import render_html

            text = render_html(report)
    except PictureTooLarge as error:
        click.echo(f"cnncalc shapes: error: {error}", err=True)
        raise SystemExit(EXIT_USAGE)
    click.echo(text, nl=False)
