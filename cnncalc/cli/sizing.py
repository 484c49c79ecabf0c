"""`cnncalc memory` and `cnncalc fit`: training memory and the largest batch that fits."""

from __future__ import annotations

import click

from ..problems import SpecError
from . import EXIT_NO_ANSWER, EXIT_OK, MAX_BATCH, SPEC_PATH, exit_with_error, load, table_options, table_settings


def _analyzed(spec: str, floor: bool):
    """The engine's report for a spec file, or exit 1 with its problems."""
    from ..engine import analyze

    try:
        return analyze(load(spec), floor=floor)
    except SpecError as error:
        exit_with_error(error)
        raise  # pragma: no cover - exit_with_error exits


def _settings(report, dtype: str | None, mixed: bool, optimizer: str):
    """The training settings; a dtype that cannot train, or --mixed with a 32/64-bit dtype, is a usage error."""
    from ..sizing import HALF_DTYPES, TRAINING_DTYPES, Settings
    from ..training import default_training_dtype

    if dtype is None:
        dtype = default_training_dtype(report.dtype, mixed)
        if dtype is None:
            raise click.UsageError(f"the spec's dtype {report.dtype} is not a training dtype; "
                                   f"pass --dtype {'|'.join(TRAINING_DTYPES)}")
    if mixed and dtype not in HALF_DTYPES:
        raise click.BadParameter(f"--mixed keeps float32 master weights for 16-bit training: use --dtype "
                                 f"{' or '.join(HALF_DTYPES)}, not {dtype}", param_hint="'--dtype'")
    return Settings(dtype=dtype, mixed=mixed, optimizer=optimizer)


def _training_options(command):
    from ..training import OPTIMIZERS, TRAINING_DTYPES  # not .sizing: this runs when the CLI is imported

    for option in reversed((
        click.option("--dtype", type=click.Choice(list(TRAINING_DTYPES)), default=None,
                     help="Bytes per value of weights, gradients and activations (default: the spec's)."),
        click.option("--mixed", is_flag=True, help="Mixed precision: 16-bit weights, gradients and activations "
                     "(--dtype float16 or bfloat16), float32 master weights and optimizer state."),
        click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default="sgd", show_default=True,
                     help="sgd keeps no state; momentum, nesterov and rmsprop one copy of the parameters; "
                          "adam and adamw two."),
        click.option("--floor", is_flag=True, help="Floor non-integer sizes as frameworks do."),
        click.option("--si", is_flag=True, help="Decimal byte units (MB = 10⁶) instead of binary (MiB = 1024²)."),
    )):
        command = option(command)
    return table_options(command)


MEMORY_KEYS = ["index", "name", "layer", "keeps", "bytes", "component", "arithmetic", "bar", "share", "note"]


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json", "csv", "markdown", "html"]),
              default="table", show_default=True,
              help="Output format (text: the table without colour, even on a terminal; html: a self-contained page "
                   "with stacked bars).")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Samples per batch (at most 10^9).")
@_training_options
@click.option("--summary", is_flag=True, help="Only the breakdown, without the per-layer table of kept tensors.")
def memory(spec: str, fmt: str, batch: int, dtype: str | None, mixed: bool, optimizer: str, floor: bool, si: bool,
           summary: bool, exact: bool, wide: bool, columns: str | None, width: int | None) -> None:
    """Training and inference memory: parameters, gradients, optimizer state, activations kept for
    backward, the inference peak and the totals, each with its arithmetic.

    Columns (--columns): index, name, layer, keeps, bytes (kept tensors); component, arithmetic, bytes, bar,
    share, note (the breakdowns).
    """
    from ..sizing import memory_report

    options = table_settings(fmt, exact, wide, columns, width, MEMORY_KEYS)
    report = _analyzed(spec, floor)
    result = memory_report(report, _settings(report, dtype, mixed, optimizer), batch)
    from ..render import sizing as render

    if fmt in ("table", "text"):
        render.render_memory_table(result, options, si=si, layers=not summary)
    elif fmt == "json":
        click.echo(render.render_memory_json(result), nl=False)
    elif fmt == "csv":
        click.echo(render.render_memory_csv(result), nl=False)
    elif fmt == "html":
        from ..render.html_pages import render_memory_html

        click.echo(render_memory_html(result, si=si), nl=False)
    else:
        click.echo(render.render_memory_markdown(result, si=si, layers=not summary), nl=False)


class SizeType(click.ParamType):
    """A byte count: 24GiB, 24GB, 24000MB, 1.5GiB or plain bytes."""

    name = "size"

    def convert(self, value, param, ctx):  # type: ignore[override]
        from ..sizing import parse_size

        if isinstance(value, int):
            return value
        try:
            size = parse_size(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if size <= 0:
            self.fail(f"'{value}' is not a positive size", param, ctx)
        return size


@click.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--memory", "budget", type=SizeType(), required=True,
              help="Device memory: 24GiB (2³⁰ bytes), 24GB (10⁹ bytes), 24000MB or plain bytes.")
@click.option("--reserve", default="10%", show_default=True,
              help="Memory kept free for what the estimate leaves out: a size or a percentage of --memory.")
@click.option("--dataset", type=click.IntRange(min=1), default=None,
              help="Samples in the training set: iterations per epoch at the batch found.")
@click.option("--inference", is_flag=True, help="The largest batch for inference instead of training.")
@click.option("--format", "fmt", type=click.Choice(["table", "text", "json"]), default="table", show_default=True,
              help="Output format (text: the lines without colour, even on a terminal).")
@_training_options
def fit(spec: str, budget: int, reserve: str, dataset: int | None, inference: bool, fmt: str, dtype: str | None,
        mixed: bool, optimizer: str, floor: bool, si: bool, exact: bool, wide: bool, columns: str | None,
        width: int | None) -> None:
    """The largest batch whose memory fits --memory minus --reserve, exact and as a power of two.

    Exit 4 when not even batch 1 fits (the output says how much is missing).
    """
    from ..sizing import fit as fit_batch
    from ..sizing import parse_reserve

    options = table_settings(fmt, exact, wide, columns, width, [])
    try:
        reserved = parse_reserve(reserve, budget)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--reserve'") from None
    if reserved >= budget:
        raise click.BadParameter(f"the reserve ({reserved:,} bytes) leaves nothing of --memory ({budget:,} bytes)",
                                 param_hint="'--reserve'")
    report = _analyzed(spec, floor)
    result = fit_batch(report, _settings(report, dtype, mixed, optimizer), budget, reserved, inference=inference,
                       dataset=dataset)
    from ..render import sizing as render

    if fmt == "json":
        click.echo(render.render_fit_json(result), nl=False)
    else:
        render.render_fit_table(result, options, si=si)
    raise SystemExit(EXIT_OK if result.batch else EXIT_NO_ANSWER)
