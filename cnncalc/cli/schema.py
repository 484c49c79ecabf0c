"""`cnncalc schema`: the spec format's JSON Schema."""

from __future__ import annotations

import click


@click.command()
def schema() -> None:
    """Print the spec format's JSON Schema, for editors.

    Completion, hover text and inline errors in editors that use the YAML language server; see docs/ci.md.
    """
    from ..schema import render_schema

    click.echo(render_schema(), nl=False)
