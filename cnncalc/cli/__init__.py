"""The command line: argument parsing and exit codes only; the work is done by the other modules.

Each command lives in a module of this package, imported only when that command runs: building
click's options for every command cost more than checking VGG16 (`cnncalc --help` imports them all).
"""

from __future__ import annotations

import gc
import io
import os
import sys
from typing import TYPE_CHECKING

import click

from .. import __version__

if TYPE_CHECKING:
    from ..problems import Problem
    from ..spec import Spec

EXIT_OK = 0  # every spec valid
EXIT_INVALID = 1  # a spec is invalid: its problems are printed as file:line:col: error: message
EXIT_USAGE = 2  # bad command line: unknown option, missing file (click's own code)
EXIT_INTERNAL = 3  # a bug in cnncalc: please report it
EXIT_NO_ANSWER = 4  # a valid question without an answer: nothing fits the memory budget, no layer solves it
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (`| head`): 128 + SIGPIPE, as other tools exit
MAX_BATCH = 10**9

SPEC_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True)


# command name → (module of this package, function): imported when the command runs or help lists it
COMMANDS = {
    "check": ("check", "check"),
    "compare": ("compare", "compare"),
    "export": ("export", "export"),
    "fit": ("sizing", "fit"),
    "import": ("importing", "import_model"),
    "layers": ("layers", "layers"),
    "memory": ("sizing", "memory"),
    "schema": ("schema", "schema"),
    "shapes": ("shapes", "shapes"),
    "solve": ("solve", "solve"),
}


class _Group(click.Group):
    """Loads each command from its module when it is asked for (COMMANDS). Turns an unexpected
    exception (a bug) into one line and exit code 3; --debug shows the traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        import importlib

        module, function = COMMANDS[name]
        return getattr(importlib.import_module(f".{module}", __name__), function)

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
        from ..render.ascii import to_ascii

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


def load(path: str, input_shape: tuple[int, ...] | None = None, allow_unknown: bool = False) -> Spec:
    """The spec at `path` (`-`: standard input), parsed; raises SpecError. An ONNX model or a Caffe prototxt
    (told by its content) is imported; `input_shape` and `allow_unknown` are for those."""
    from ..compose import MAX_SPEC_BYTES
    from ..importers import MAX_STDIN_MODEL_BYTES, is_model, read_spec
    from ..parser import parse_bytes, parse_file

    if path == "-":
        data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)  # more is refused unread, unless it is a model
        if is_model("<stdin>", data):
            data += sys.stdin.buffer.read(MAX_STDIN_MODEL_BYTES)
            return read_spec("<stdin>", data, input_shape, allow_unknown)
        return parse_bytes(data, "<stdin>")
    if is_model(path):
        return read_spec(path, None, input_shape, allow_unknown)
    if input_shape is not None:
        raise click.UsageError(f"--input is for ONNX models and Caffe prototxt files; '{path}' is a YAML spec, "
                               "whose 'input:' gives the shape")
    return parse_file(path)


class ShapeType(click.ParamType):
    """An input shape: 3x224x224 (channels, then 1 to 3 spatial sizes)."""

    name = "CxHxW"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, tuple):
            return value
        parts = str(value).lower().replace("×", "x").split("x")
        if not 1 <= len(parts) <= 4 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            self.fail(f"'{value}' is not a shape such as 3x224x224 (channels, then 1 to 3 spatial sizes, "
                      "positive whole numbers)", param, ctx)
        return tuple(int(p) for p in parts)


def model_options(command):
    """--input and --allow-unknown: for ONNX models and Caffe prototxt files given instead of a spec."""
    command = click.option("--allow-unknown", is_flag=True,
                           help="Models: read past operators cnncalc does not know, with the model's own shapes "
                                "for them; their params and MACs are left out of the totals.")(command)
    return click.option("--input", "input_shape", type=ShapeType(), default=None,
                        help="Models: the input shape per sample, e.g. 3x224x224, when the model leaves it open.")(command)


def exit_with_problems(problems: tuple[Problem, ...], code: int = EXIT_INVALID) -> None:
    """Print the problems (file:line:column: severity: message) to standard error and exit with `code`."""
    from ..render.problems import render_problem_lines

    echo_text(render_problem_lines(problems), err=True)
    raise SystemExit(code)
