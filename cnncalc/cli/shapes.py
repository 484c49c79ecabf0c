"""`cnncalc shapes`: every layer's shape, counts and receptive field, as a table, JSON, CSV or Markdown."""

from __future__ import annotations

import click

from ..problems import SpecError, SpecReadError
from ..spec import DTYPE_BYTES
from . import EXIT_INVALID, EXIT_USAGE, MAX_BATCH, SPEC_PATH, exit_with_problems, load, terminal_flag, terminal_options


@click.command()
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
@terminal_options
def shapes(spec: str, fmt: str, batch: int, dtype: str | None, floor: bool, si: bool, depth: int | None) -> None:
    """Print every layer's output shape, params, activations, MACs and receptive field."""
    from ..engine import analyze

    try:
        parsed = load(spec)
        if dtype:
            parsed = parsed._replace(dtype=dtype)
        report = analyze(parsed, floor=floor, batch=batch)
    except SpecError as error:
        exit_with_problems(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)
        return
    if fmt == "table":
        from ..render.table import render_table

        render_table(report, si=si, color=False if terminal_flag("no_color") else None, depth=depth,
                     ascii=terminal_flag("ascii"))
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

        click.echo(render_markdown(report, si=si, depth=depth), nl=False)
