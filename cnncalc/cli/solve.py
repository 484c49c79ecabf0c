"""`cnncalc solve`: the layer settings that take one size to another."""

from __future__ import annotations

import click

from . import EXIT_NO_ANSWER, table_options, table_settings


@click.command()
@click.option("--input", "input_size", type=click.IntRange(min=1), required=True, help="Input size N (one spatial dim).")
@click.option("--output", "output_size", type=click.IntRange(min=1), required=True, help="Output size wanted.")
@click.option("--pool", "layer", flag_value="pool", help="Solve for a pool (no dilation, padding ≤ kernel/2).")
@click.option("--deconv", "layer", flag_value="deconv",
              help="Solve for a transposed conv: (N − 1)·S − 2P + D·(F − 1) + output_padding + 1.")
@click.option("--kernel", type=click.IntRange(min=1), default=None, help="Pin the kernel size.")
@click.option("--stride", type=click.IntRange(min=1), default=None, help="Pin the stride.")
@click.option("--padding", type=click.IntRange(min=0), default=None, help="Pin the padding.")
@click.option("--dilation", type=click.IntRange(min=1), default=None, help="Pin the dilation.")
@click.option("--output-padding", type=click.IntRange(min=0), default=None, help="Pin the output padding (--deconv).")
@click.option("--max-kernel", type=click.IntRange(min=1), default=11, show_default=True)
@click.option("--max-stride", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-padding", type=click.IntRange(min=0), default=5, show_default=True)
@click.option("--max-dilation", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Solutions shown in the table, most common first (JSON and CSV list every one).")
@table_options
def solve(input_size: int, output_size: int, layer: str | None, kernel: int | None, stride: int | None,
          padding: int | None, dilation: int | None, output_padding: int | None, max_kernel: int, max_stride: int,
          max_padding: int, max_dilation: int, fmt: str, top: int, exact: bool, wide: bool, columns: str | None,
          width: int | None) -> None:
    """Every kernel, stride, padding and dilation that takes --input to --output exactly, most common first.

    Exit 4 when there is none within the bounds.
    """
    from ..solve import CONV, Bounds, Pins, TooWide
    from ..solve import solve as solve_sizes

    layer = layer or CONV
    if layer == "pool" and dilation not in (None, 1):
        raise click.BadParameter("pools have no dilation", param_hint="'--dilation'")
    if layer != "deconv" and output_padding is not None:
        raise click.BadParameter("output padding is for transposed convs: add --deconv", param_hint="'--output-padding'")
    try:
        solved = solve_sizes(layer, input_size, output_size, Bounds(max_kernel, max_stride, max_padding, max_dilation),
                             Pins(kernel, stride, padding, dilation, output_padding))
    except TooWide as error:
        raise click.UsageError(str(error)) from None
    from ..render import solve as render

    if fmt == "json":
        click.echo(render.render_solve_json(solved), nl=False)
    elif fmt == "csv":
        click.echo(render.render_solve_csv(solved), nl=False)
    else:
        render.render_solve_table(solved, table_settings(fmt, exact, wide, columns, width, render.SOLVE_KEYS), top=top)
    if not solved.solutions:
        hint = "raise the --max-* bounds or drop a pin"
        if output_size > input_size and layer != "deconv":
            hint = (f"a {layer} grows a size only through padding: "
                    + ("unpin --padding" if padding is not None else "raise --max-padding") + ", or try --deconv")
        click.echo(f"cnncalc: no {layer} within the bounds takes {input_size} to {output_size}; {hint}", err=True)
        raise SystemExit(EXIT_NO_ANSWER)
