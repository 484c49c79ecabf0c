"""`cnncalc layers`: the layer kinds, their parameters and formulas."""

from __future__ import annotations

import sys

import click

from . import table_options, table_settings


def _complete_kind(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ..kinds import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


@click.command()
@click.argument("kinds", nargs=-1, metavar="[KIND]...", shell_complete=_complete_kind)
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "markdown"]), default="table",
              show_default=True, help="Output format (text: the table without colour, even on a terminal).")
@table_options
def layers(kinds: tuple[str, ...], fmt: str, exact: bool, wide: bool, columns: str | None, width: int | None) -> None:
    """List the layer kinds with their parameters and formulas.

    Every kind's parameters and defaults, shape rule, parameter formula and MAC formula; with KIND names,
    every detail of those kinds.
    """
    from ..kinds import REGISTRY

    unknown = [k for k in kinds if k not in REGISTRY]
    if unknown:
        from ..newcomer import kind_hint
        from ..parser import did_you_mean

        hint = kind_hint(unknown[0], REGISTRY) or did_you_mean(unknown[0], REGISTRY)
        raise click.UsageError(f"unknown layer kind '{unknown[0]}'{hint}; known kinds: {', '.join(REGISTRY)}")
    chosen = [REGISTRY[k] for k in kinds] if kinds else list(REGISTRY.values())
    if fmt == "json":
        from ..render.layers import render_layers_json

        click.echo(render_layers_json(chosen), nl=False)
    elif fmt == "markdown":
        from ..render.layers import render_layers_markdown

        click.echo(render_layers_markdown(chosen, detail=bool(kinds)), nl=False)
    else:
        from ..render.layers import DETAIL_KEYS, SUMMARY_KEYS, render_layers_table

        options = table_settings(fmt, exact, wide, columns, width, DETAIL_KEYS if kinds else SUMMARY_KEYS)
        render_layers_table(chosen, options, detail=bool(kinds))
