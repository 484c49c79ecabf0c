"""`cnncalc shapes`: every layer's shape, counts and receptive field, as a table, JSON, CSV or Markdown."""

from __future__ import annotations

import click

from ..problems import SpecError, SpecReadError
from ..spec import DTYPE_BYTES
from . import EXIT_INVALID, EXIT_USAGE, MAX_BATCH, SPEC_PATH, exit_with_problems, load, table_options, table_settings


COLUMN_KEYS = ["index", "name", "layer", "output", "activations", "params", "macs", "rf"]  # render/table.py's


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "csv", "markdown"]), default="table",
              show_default=True, help="Output format: table (text is the same table without colour, even on a terminal).")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Images per batch, for the memory totals (at most 10^9).")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Bytes per value (overrides the spec's dtype).")
@click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do, and list the layers that drop pixels.")
@click.option("--si", is_flag=True, help="Decimal byte units (MB = 10⁶) instead of binary (MiB = 1024²).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Collapse groups nested deeper than N into one row with subtotals (default: show every layer).")
@table_options
def shapes(spec: str, fmt: str, batch: int, dtype: str | None, floor: bool, si: bool, depth: int | None, exact: bool,
           wide: bool, columns: str | None, width: int | None) -> None:
    """Print every layer's output shape, params, activations, MACs and receptive field.

    Columns (--columns): index, name, layer, output, activations, params, macs, rf.
    """
    from ..engine import analyze

    options = table_settings(fmt, exact, wide, columns, width, COLUMN_KEYS)
    try:
        parsed = load(spec)
        if dtype:
            parsed = parsed._replace(dtype=dtype)
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
    else:
        from ..render.markdown import render_markdown

        click.echo(render_markdown(report, si=si, depth=depth, exact=exact), nl=False)
