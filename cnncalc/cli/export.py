"""`cnncalc export torch`: a spec as PyTorch source."""

from __future__ import annotations

import click

from ..problems import SpecError
from . import SPEC_PATH, exit_with_error, load


@click.group()
def export() -> None:
    """Translate a spec into a framework's source code (printed; no file is written)."""


@export.command("torch")
@click.argument("spec", type=SPEC_PATH)
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (PyTorch floors them), as warnings.")
def export_torch(spec: str, floor: bool) -> None:
    """Print a PyTorch nn.Module equivalent to SPEC: one attribute per layer, named like the layer."""
    import sys

    from ..export.torch import torch_pieces
    from ..render.problems import render_problem_lines

    try:
        warnings, pieces = torch_pieces(load(spec), floor=floor)
    except SpecError as error:
        exit_with_error(error)
        return
    click.echo(render_problem_lines(warnings), err=True, nl=False)
    write = sys.stdout.write  # piece by piece: the source of 1,000,000 layers is never one string
    for piece in pieces:
        write(piece)
