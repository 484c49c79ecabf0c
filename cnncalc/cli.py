"""The command line: argument parsing and exit codes only; the work is done by the other modules."""

from __future__ import annotations

import gc
import io
import os
import sys

import click

from . import __version__
from .problems import Problem, SpecError, SpecReadError
from .render import CHECK_FORMATS
from .spec import DTYPE_BYTES, Spec

EXIT_OK = 0  # every spec valid
EXIT_INVALID = 1  # a spec is invalid: its problems are printed as file:line:col: error: message
EXIT_USAGE = 2  # bad command line: unknown option, missing file (click's own code)
EXIT_INTERNAL = 3  # a bug in cnncalc: please report it
EXIT_NO_ANSWER = 4  # a valid question without an answer: nothing fits the memory budget, no layer solves it
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (`| head`): 128 + SIGPIPE, as other tools exit
MAX_BATCH = 10**9

SPEC_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True)


class _Group(click.Group):
    """Turns an unexpected exception (a bug) into one line and exit code 3; --debug shows the traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        # A command builds one large acyclic structure and exits: the cycle collector would only rescan it,
        # again and again as it grows (40% of a 100,000-layer check). Off for the command.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `cnncalc shapes big.yaml | head`: not a bug, nobody is reading any more
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if ctx.params.get("debug"):
                import traceback

                traceback.print_exc()
            click.echo(f"cnncalc: internal error ({type(exc).__name__}: {exc}); this is a bug in cnncalc, "
                       "please report it with the spec and command that caused it"
                       + ("" if ctx.params.get("debug") else " (add --debug for the details)"), err=True)
            ctx.exit(EXIT_INTERNAL)
        finally:
            if collecting:
                gc.enable()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test runner's buffer)
        pass


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[f"cnncalc.{param.name}"] = True  # meta is shared by the group's and the command's contexts


def terminal_options(command):
    """--no-color and --ascii, accepted before the command (for every command) and after it."""
    command = click.option("--ascii", is_flag=True, expose_value=False, callback=_remember,
                           help="Plain ASCII: no box drawing, x for ×, * for ·, - for −.")(command)
    return click.option("--no-color", is_flag=True, expose_value=False, callback=_remember,
                        help="No colours (a set NO_COLOR does the same).")(command)


def terminal_flag(name: str) -> bool:
    """Whether --no-color ('no_color') or --ascii ('ascii') was given, before or after the command."""
    return bool(click.get_current_context().meta.get(f"cnncalc.{name}"))


def echo_text(text: str, err: bool = False) -> None:
    """Human-readable text (problem lines), in ASCII under --ascii."""
    if terminal_flag("ascii"):
        from .render.ascii import to_ascii

        text = to_ascii(text)
    click.echo(text, err=err, nl=False)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cnncalc")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@terminal_options
def main(debug: bool) -> None:
    """Layer-by-layer arithmetic of convolutional networks written as YAML specs.

    Exit codes: 0 ok, 1 invalid spec, 2 usage error, 3 internal error (a bug),
    4 no answer (fit: not even batch 1 fits; solve: no solution within the bounds).
    """


def load(path: str) -> Spec:
    from .compose import MAX_SPEC_BYTES
    from .parser import parse_bytes, parse_file

    if path == "-":
        return parse_bytes(sys.stdin.buffer.read(MAX_SPEC_BYTES + 1), "<stdin>")  # more is refused unread
    return parse_file(path)


def _fail(problems: tuple[Problem, ...], code: int = EXIT_INVALID) -> None:
    from .render.problems import render_problem_lines

    echo_text(render_problem_lines(problems), err=True)
    raise SystemExit(code)


@main.command()
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
    from .engine import analyze

    try:
        parsed = load(spec)
        if dtype:
            parsed = parsed._replace(dtype=dtype)
        report = analyze(parsed, floor=floor, batch=batch)
    except SpecError as error:
        _fail(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)
        return
    if fmt == "table":
        from .render.table import render_table

        render_table(report, si=si, color=False if terminal_flag("no_color") else None, depth=depth,
                     ascii=terminal_flag("ascii"))
    elif fmt == "json":
        from .render.json_ import render_json

        click.echo(render_json(report), nl=False)
    elif fmt == "csv":
        from .render.csv_ import render_csv

        click.echo(render_csv(report), nl=False)
    else:
        from .render.markdown import render_markdown

        click.echo(render_markdown(report, si=si, depth=depth), nl=False)


@main.group()
def export() -> None:
    """Translate a spec into a framework's source code (printed; no file is written)."""


@export.command("torch")
@click.argument("spec", type=SPEC_PATH)
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (PyTorch floors them), as warnings.")
def export_torch(spec: str, floor: bool) -> None:
    """Print a PyTorch nn.Module equivalent to SPEC: one attribute per layer, named like the layer."""
    from .export.torch import torch_export
    from .render.problems import render_problem_lines

    try:
        exported = torch_export(load(spec), floor=floor)
    except SpecError as error:
        _fail(error.problems)
        return
    click.echo(render_problem_lines(exported.warnings), err=True, nl=False)
    click.echo(exported.source, nl=False)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(CHECK_FORMATS)), default="text", show_default=True,
              help="text: file:line:col: severity: message per line; github: GitHub Actions annotations; "
                   "json: every file's problems.")
@click.option("--floor", is_flag=True, help="Accept non-integer sizes (floored), as warnings.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@terminal_options
def check(specs: tuple[str, ...], fmt: str, floor: bool, strict: bool) -> None:
    """Validate specs; report every problem in every file. Exit 1 if any is invalid, 2 if any cannot be read.

    A file that cannot be read (missing, a directory, no permission) is reported like an invalid one
    and the others are still checked.
    """
    import importlib

    from .engine import analyze

    results: list[tuple[str, tuple[Problem, ...]]] = []
    unreadable = 0
    for path in specs:
        try:
            report = analyze(load(path), floor=floor)
            problems = report.warnings
        except SpecReadError as error:
            problems = error.problems
            unreadable += 1
        except SpecError as error:
            problems = error.problems
        if strict:
            problems = tuple(p._replace(severity="error") for p in problems)
        results.append(("<stdin>" if path == "-" else path, problems))
    renderer = importlib.import_module(f".render.{CHECK_FORMATS[fmt]}", __package__)
    if fmt == "text":
        echo_text(renderer.render_check(results))
    else:
        click.echo(renderer.render_check(results), nl=False)
    if fmt != "json":
        from .render.problems import check_summary

        click.echo(check_summary(results), err=True)
    invalid = any(p.is_error for _, problems in results for p in problems)
    raise SystemExit(EXIT_USAGE if unreadable else EXIT_INVALID if invalid else EXIT_OK)


@main.command()
def schema() -> None:
    """Print the spec format's JSON Schema, for editors.

    Completion, hover text and inline errors in editors that use the YAML language server; see the README.
    """
    from .schema import render_schema

    click.echo(render_schema(), nl=False)


def _complete_kind(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from .kinds import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


@main.command()
@click.argument("kinds", nargs=-1, metavar="[KIND]...", shell_complete=_complete_kind)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="Output format.")
@terminal_options
def layers(kinds: tuple[str, ...], fmt: str) -> None:
    """List the layer kinds with their parameters and formulas.

    Every kind's parameters and defaults, shape rule, parameter formula and MAC formula; with KIND names,
    every detail of those kinds.
    """
    from .kinds import REGISTRY

    unknown = [k for k in kinds if k not in REGISTRY]
    if unknown:
        from .parser import did_you_mean

        raise click.UsageError(f"unknown layer kind '{unknown[0]}'{did_you_mean(unknown[0], REGISTRY)}; "
                               f"known kinds: {', '.join(REGISTRY)}")
    chosen = [REGISTRY[k] for k in kinds] if kinds else list(REGISTRY.values())
    if fmt == "json":
        from .render.layers import render_layers_json

        click.echo(render_layers_json(chosen), nl=False)
    elif fmt == "markdown":
        from .render.layers import render_layers_markdown

        click.echo(render_layers_markdown(chosen, detail=bool(kinds)), nl=False)
    else:
        from .render.layers import render_layers_table

        render_layers_table(chosen, sys.stdout, detail=bool(kinds), color=False if terminal_flag("no_color") else None,
                            ascii=terminal_flag("ascii"))


_STACK_OPTIONS = ("channels", "stride", "dilation", "bias", "input_size", "padding")


def _is_spec_argument(argument: str) -> bool:
    """An existing file, or a name ending in .yaml/.yml, is a spec; anything else is part of an expression."""
    return os.path.isfile(argument) or argument.lower().endswith((".yaml", ".yml"))


@main.command(context_settings={"max_content_width": 100})
@click.argument("items", nargs=-1, required=True, metavar="STACK [vs STACK]... | SPEC...")
@click.option("--channels", type=click.IntRange(min=1), default=None,
              help="Channels C into each stack (default: symbolic, params as a formula in C). Needed for @.")
@click.option("--stride", type=click.IntRange(min=1), default=1, show_default=True,
              help="Stride of each stack's first layer.")
@click.option("--dilation", type=click.IntRange(min=1), default=1, show_default=True,
              help="Dilation of every layer.")
@click.option("--bias/--no-bias", default=False, show_default=True, help="One bias per filter.")
@click.option("--input", "input_size", type=click.IntRange(min=1), default=None, metavar="N",
              help="An N×N input: output sizes, total MACs and activations.")
@click.option("--padding", type=click.Choice(["same", "valid"]), default="same", show_default=True,
              help="With --input: 'same' keeps ceil(N/S), 'valid' pads nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="Output format.")
@click.option("--si", is_flag=True, help="Decimal byte units for specs (MB = 10⁶).")
@terminal_options
@click.pass_context
def compare(ctx: click.Context, items: tuple[str, ...], channels: int | None, stride: int, dilation: int, bias: bool,
            input_size: int | None, padding: str, fmt: str, si: bool) -> None:
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
      (an existing file, or a name ending in .yaml/.yml, is a spec; ratios are
      against the first). Mixing specs and stacks is a usage error.
    """
    no_color = terminal_flag("no_color")
    arguments = [item for item in items if item.lower() != "vs"]
    specs = [item for item in arguments if _is_spec_argument(item)]
    if specs and len(specs) != len(arguments):
        other = next(item for item in arguments if not _is_spec_argument(item))
        raise click.UsageError(f"cannot compare specs with layer stacks: '{specs[0]}' is a spec, '{other}' is not; "
                               "compare specs with specs or stacks with stacks")
    if specs:
        given = [name for name in _STACK_OPTIONS
                 if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if given:
            option = {"input_size": "input", "bias": "bias/--no-bias"}.get(given[0], given[0])
            raise click.UsageError(f"--{option} applies to layer stacks, not to specs")
        _compare_specs(specs, fmt, si, no_color)
    else:
        _compare_stacks(" ".join(items), channels, stride, dilation, bias, input_size, padding, fmt, no_color)


def _compare_specs(paths: list[str], fmt: str, si: bool, no_color: bool) -> None:
    from .compare import compare_reports
    from .engine import analyze
    from .render import compare as render

    for path in paths:
        if not os.path.isfile(path):
            raise click.UsageError(f"spec '{path}' {'is not a file' if os.path.exists(path) else 'does not exist'}")
    reports, problems = [], []
    for path in paths:
        try:
            reports.append((path, analyze(load(path))))
        except SpecError as error:
            problems.extend(error.problems)
    if problems:
        _fail(tuple(problems))
    comparison = compare_reports(reports)
    if fmt == "json":
        click.echo(render.render_specs_json(comparison), nl=False)
        return
    headers, rows = render.spec_rows(comparison, si)
    if fmt == "markdown":
        click.echo(render.render_rows_markdown(render.SPEC_TITLE, headers, rows, [], render.SPEC_LEGEND), nl=False)
    else:
        render.render_rows_table(render.SPEC_TITLE, headers, rows, [], render.SPEC_LEGEND,
                                 color=False if no_color else None, ascii=terminal_flag("ascii"))


def _compare_stacks(expression: str, channels: int | None, stride: int, dilation: int, bias: bool,
                    input_size: int | None, padding: str, fmt: str, no_color: bool) -> None:
    from .compare import ExpressionError, StackError, StackSettings, compare_stacks, parse_expression
    from .render import compare as render

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
    if fmt == "json":
        click.echo(render.render_stacks_json(comparison), nl=False)
        return
    headers, rows = render.stack_rows(comparison)
    title, footer = render.settings_text(settings), render.stack_footer(comparison)
    if fmt == "markdown":
        click.echo(render.render_rows_markdown(title, headers, rows, footer, render.STACK_LEGEND), nl=False)
    else:
        render.render_rows_table(title, headers, rows, footer, render.STACK_LEGEND, color=False if no_color else None,
                                 ascii=terminal_flag("ascii"))


# --- sizing: memory, fit, solve -----------------------------------------------------------------

def _analyzed(spec: str, floor: bool):
    """The engine's report for a spec file, or exit 1 with its problems."""
    from .engine import analyze

    try:
        return analyze(load(spec), floor=floor)
    except SpecError as error:
        _fail(error.problems)
        raise  # pragma: no cover - _fail exits


def _settings(report, dtype: str | None, mixed: bool, optimizer: str):
    """The training settings; a dtype that cannot train, or --mixed with a 32/64-bit dtype, is a usage error."""
    from .sizing import HALF_DTYPES, TRAINING_DTYPES, Settings

    if dtype is None:
        if report.dtype in TRAINING_DTYPES and (not mixed or report.dtype in HALF_DTYPES):
            dtype = report.dtype
        elif mixed:
            dtype = "float16"
        else:
            raise click.UsageError(f"the spec's dtype {report.dtype} is not a training dtype; "
                                   f"pass --dtype {'|'.join(TRAINING_DTYPES)}")
    if mixed and dtype not in HALF_DTYPES:
        raise click.BadParameter(f"--mixed keeps float32 master weights for 16-bit training: use --dtype "
                                 f"{' or '.join(HALF_DTYPES)}, not {dtype}", param_hint="'--dtype'")
    return Settings(dtype=dtype, mixed=mixed, optimizer=optimizer)


def _training_options(command):
    from .training import OPTIMIZERS, TRAINING_DTYPES  # not .sizing: this runs when the CLI is imported

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
    return terminal_options(command)


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True, help="Output format.")
@click.option("--batch", type=click.IntRange(min=1, max=MAX_BATCH), default=1, show_default=True,
              help="Samples per batch (at most 10^9).")
@_training_options
@click.option("--summary", is_flag=True, help="Only the breakdown, without the per-layer table of kept tensors.")
def memory(spec: str, fmt: str, batch: int, dtype: str | None, mixed: bool, optimizer: str, floor: bool, si: bool,
           summary: bool) -> None:
    """Training and inference memory: parameters, gradients, optimizer state, activations kept for
    backward, the inference peak and the totals, each with its arithmetic."""
    from .sizing import memory_report

    report = _analyzed(spec, floor)
    result = memory_report(report, _settings(report, dtype, mixed, optimizer), batch)
    from .render import sizing as render

    if fmt == "table":
        render.render_memory_table(result, si=si, color=False if terminal_flag("no_color") else None,
                                   layers=not summary, ascii=terminal_flag("ascii"))
    elif fmt == "json":
        click.echo(render.render_memory_json(result), nl=False)
    elif fmt == "csv":
        click.echo(render.render_memory_csv(result), nl=False)
    else:
        click.echo(render.render_memory_markdown(result, si=si, layers=not summary), nl=False)


class SizeType(click.ParamType):
    """A byte count: 24GiB, 24GB, 24000MB, 1.5GiB or plain bytes."""

    name = "size"

    def convert(self, value, param, ctx):  # type: ignore[override]
        from .sizing import parse_size

        if isinstance(value, int):
            return value
        try:
            size = parse_size(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if size <= 0:
            self.fail(f"'{value}' is not a positive size", param, ctx)
        return size


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--memory", "budget", type=SizeType(), required=True,
              help="Device memory: 24GiB (2³⁰ bytes), 24GB (10⁹ bytes), 24000MB or plain bytes.")
@click.option("--reserve", default="10%", show_default=True,
              help="Memory kept free for what the estimate leaves out: a size or a percentage of --memory.")
@click.option("--dataset", type=click.IntRange(min=1), default=None,
              help="Samples in the training set: iterations per epoch at the batch found.")
@click.option("--inference", is_flag=True, help="The largest batch for inference instead of training.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@_training_options
def fit(spec: str, budget: int, reserve: str, dataset: int | None, inference: bool, fmt: str, dtype: str | None,
        mixed: bool, optimizer: str, floor: bool, si: bool) -> None:
    """The largest batch whose memory fits --memory minus --reserve, exact and as a power of two.

    Exit 4 when not even batch 1 fits (the output says how much is missing).
    """
    from .sizing import fit as fit_batch
    from .sizing import parse_reserve

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
    from .render import sizing as render

    if fmt == "json":
        click.echo(render.render_fit_json(result), nl=False)
    else:
        render.render_fit_table(result, si=si, color=False if terminal_flag("no_color") else None,
                                ascii=terminal_flag("ascii"))
    raise SystemExit(EXIT_OK if result.batch else EXIT_NO_ANSWER)


@main.command()
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
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@terminal_options
def solve(input_size: int, output_size: int, layer: str | None, kernel: int | None, stride: int | None,
          padding: int | None, dilation: int | None, output_padding: int | None, max_kernel: int, max_stride: int,
          max_padding: int, max_dilation: int, fmt: str) -> None:
    """Every kernel, stride, padding and dilation that takes --input to --output exactly, most common first.

    Exit 4 when there is none within the bounds.
    """
    from .solve import CONV, Bounds, Pins, TooWide
    from .solve import solve as solve_sizes

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
    from .render import solve as render

    if fmt == "json":
        click.echo(render.render_solve_json(solved), nl=False)
    elif fmt == "csv":
        click.echo(render.render_solve_csv(solved), nl=False)
    else:
        render.render_solve_table(solved, color=False if terminal_flag("no_color") else None,
                                  ascii=terminal_flag("ascii"))
    if not solved.solutions:
        hint = "raise the --max-* bounds or drop a pin"
        if output_size > input_size and layer != "deconv":
            hint = f"a {layer} grows a size only through padding: raise --max-padding, or try --deconv"
        click.echo(f"cnncalc: no {layer} within the bounds takes {input_size} to {output_size}; {hint}", err=True)
        raise SystemExit(EXIT_NO_ANSWER)
