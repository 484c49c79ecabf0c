"""The command line: argument parsing and exit codes only; the work is done by the other modules.

Each command lives in a module of this package, imported only when that command runs: building
click's options for every command cost more than checking VGG16 (`cnncalc --help` imports them all).
"""

from __future__ import annotations

import errno
import gc
import io
import os
import sys
from typing import TYPE_CHECKING

import click

from .. import __version__

if TYPE_CHECKING:
    from ..problems import Problem, SpecError
    from ..spec import Spec

EXIT_OK = 0  # every spec valid
EXIT_INVALID = 1  # a spec is invalid: its problems are printed as file:line:col: error: message
EXIT_USAGE = 2  # bad command line: unknown option, missing file (click's own code)
EXIT_INTERNAL = 3  # a bug in cnncalc: please report it
EXIT_NO_ANSWER = 4  # a valid question without an answer: nothing fits the memory budget, no layer solves it
EXIT_OUTPUT = 5  # the output could not be written (disk full, standard output closed): the environment, not a bug
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (`| head`): 128 + SIGPIPE, as other tools exit
MAX_BATCH = 10**9

SPEC_PATH = click.Path(exists=True, dir_okay=False, allow_dash=True)


# command name → (module of this package, function): imported when the command runs or help lists it
COMMANDS = {
    "check": ("check", "check"),
    "compare": ("compare", "compare"),
    "diff": ("diff", "diff"),
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

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        """click's, with "did you mean" for a mistyped command, as click gives for a mistyped option."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=2, cutoff=0.6)
            if close:
                ctx.fail(f"No such command '{name}'. (Did you mean "
                         + (f"'{close[0]}'" if len(close) == 1 else "one of: " + ", ".join(f"'{c}'" for c in close))
                         + "?)")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        # A command builds one large acyclic structure and exits: the cycle collector would only rescan it,
        # again and again as it grows (40% of a 100,000-layer check). Off for the command.
        collecting = gc.isenabled()
        gc.disable()
        _freeze_at_exit()
        stdout_closed = sys.stdout is None  # `cnncalc ... >&-`: Python gives no stream at all
        if stdout_closed:
            sys.stdout = _ClosedOutput()
        from ..suggest import run

        try:
            try:
                with run():  # one budget of "did you mean" hints for every spec the command reads
                    return super().invoke(ctx)
            finally:  # what the command wrote must really have gone out, whichever way it ended
                _flush_output()
        except BrokenPipeError:  # `cnncalc shapes big.yaml | head`: not a bug, nobody is reading any more
            _silence_stdout(stdout_closed)
            ctx.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRORS:
                return self._internal_error(ctx, exc)
            _silence_stdout(stdout_closed)
            click.echo(f"cnncalc: cannot write the output: {exc.strerror or exc}", err=True)
            ctx.exit(EXIT_OUTPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            return self._internal_error(ctx, exc)
        finally:
            if collecting:
                gc.enable()

    @staticmethod
    def _internal_error(ctx: click.Context, exc: Exception) -> None:
        """One line and exit code 3 for a bug; --debug shows the traceback."""
        if ctx.params.get("debug"):
            import traceback

            traceback.print_exc()
        click.echo(f"cnncalc: internal error ({type(exc).__name__}: {exc}); this is a bug in cnncalc, "
                   "please report it with the spec and command that caused it"
                   + ("" if ctx.params.get("debug") else " (add --debug for the details)"), err=True)
        ctx.exit(EXIT_INTERNAL)


_freezing = False


def _freeze_at_exit() -> None:
    """At exit the interpreter looks for cycles once more among every object alive, cnncalc's and its libraries'
    (a fifteenth of `cnncalc check specs/vgg16.yaml`'s instructions). What a command leaves holds no cycle with
    anything to finalize (files are closed by `with` blocks, the output is flushed before that collection), so the
    first command a process runs has the objects alive at exit frozen out of it (gc.freeze, at exit)."""
    global _freezing
    if not _freezing:
        _freezing = True
        import atexit

        atexit.register(gc.freeze)


_OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EPIPE,
                  errno.ENXIO}


class _ClosedOutput(io.TextIOBase):
    """Standard output when it was closed: every write fails as writing to a closed descriptor does."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self) -> bool:
        return False


def _flush_output() -> None:
    """Flush standard output, and raise BrokenPipeError when its reader has gone: a pipe's write may have
    gone out only in part, without an error (the kernel reports a short count, not EPIPE)."""
    stream = sys.stdout
    if stream is None:
        return
    stream.flush()
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test runner's buffer)
        return
    try:
        import stat

        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        import select

        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        events = poller.poll(0)
    except (OSError, ValueError, AttributeError):  # no poll on this system
        return
    if any(mask & select.POLLERR for _, mask in events):  # a pipe without readers
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def _silence_stdout(closed: bool = False) -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    if closed:  # descriptor 1 may now be a file cnncalc opened: leave it alone
        sys.stdout = None  # type: ignore[assignment]
        return
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


def table_options(command):
    """--exact, --wide, --columns, --width, and the terminal options, for every command that prints tables."""
    for option in reversed((
        click.option("--exact", is_flag=True, help="Every count as its whole integer (3,211,264), not 3.21M."),
        click.option("--wide", is_flag=True, help="Every column whole, even when the table is wider than the terminal."),
        click.option("--columns", metavar="NAME,...", default=None,
                     help="The columns to show, in this order (the label column always); names in --help's list."),
        click.option("--width", type=click.IntRange(min=20, max=100_000), default=None,
                     help="Lay tables out for N columns (default: the terminal's width; no limit when piped)."),
    )):
        command = option(command)
    return terminal_options(command)


def table_settings(fmt: str, exact: bool, wide: bool, columns: str | None, width: int | None,
                   keys: list[str] | None):
    """The TableOptions of a command's table options; an unknown --columns name is a usage error (keys None:
    checked later, by check_columns, once the columns are known)."""
    from ..render.console import TableOptions

    chosen = None
    if columns is not None:
        chosen = tuple(name.strip() for name in columns.split(",") if name.strip())
        if keys is not None:
            check_columns(chosen, keys)
    return TableOptions(ascii=terminal_flag("ascii"), color=False if terminal_flag("no_color") else None, exact=exact,
                        wide=wide, columns=chosen, width=width, text=fmt == "text")


def check_columns(chosen: tuple[str, ...] | None, keys: list[str]) -> None:
    """A usage error unless every --columns name is one of `keys`."""
    if chosen is None:
        return
    unknown = [name for name in chosen if name not in keys]
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(map(repr, unknown)) or 'nothing'}: the columns are {','.join(keys)}",
                                 param_hint="'--columns'")


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
    4 no answer (fit: not even batch 1 fits; solve: no solution within the bounds),
    5 the output could not be written (disk full, standard output closed), 141 the output pipe was closed.
    """


def load(path: str, input_shape: tuple[int, ...] | None = None, allow_unknown: bool = False) -> Spec:
    """The spec at `path` (`-`: standard input; `git:REV:PATH`: a file at a git revision), parsed; raises
    SpecError. An ONNX model or a Caffe prototxt (told by its content) is imported; `input_shape` and
    `allow_unknown` are for those."""
    from ..loader import MAX_SPEC_BYTES
    from ..importers import MAX_STDIN_MODEL_BYTES, is_model, read_spec
    from ..parser import parse_bytes, parse_file
    from ..problems import SpecError

    if path == "-":
        data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)  # more is refused unread, unless it is a model
        if is_model("<stdin>", data):
            data += sys.stdin.buffer.read(MAX_STDIN_MODEL_BYTES)
            return read_spec("<stdin>", data, input_shape, allow_unknown)
        return parse_bytes(data, "<stdin>")
    if path.startswith("git:"):
        from ..gitsource import is_git_path, read_git_bytes

        if is_git_path(path):
            return parse_bytes(read_git_bytes(path), path)
    try:
        model = os.path.isfile(path) and is_model(path)  # only a regular file is looked into; the reader refuses others
    except SpecError:
        model = False
    if model:
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
        if not 1 <= len(parts) <= 4 or not all(p.strip().isascii() and p.strip().isdigit() and len(p.strip()) <= 12
                                               and int(p) > 0 for p in parts):
            self.fail(f"'{str(value)[:40]}' is not a shape such as 3x224x224 (channels, then 1 to 3 spatial sizes, "
                      "positive whole numbers of at most 12 digits)", param, ctx)
        return tuple(int(p) for p in parts)


def model_options(command):
    """--input and --allow-unknown: for ONNX models and Caffe prototxt files given instead of a spec."""
    command = click.option("--allow-unknown", is_flag=True,
                           help="Models: read past operators cnncalc does not know, with the model's own shapes "
                                "for them; their params and MACs are left out of the totals.")(command)
    return click.option("--input", "input_shape", type=ShapeType(), default=None,
                        help="Models: the input shape per sample, e.g. 3x224x224, when the model leaves it open.")(command)


def exit_with_error(error: SpecError) -> None:
    """Print a SpecError's problems and exit: 2 when a file could not be read (as click does for a missing
    one), 1 when a spec is invalid. One rule for every command."""
    from ..problems import SpecReadError

    exit_with_problems(error.problems, EXIT_USAGE if isinstance(error, SpecReadError) else EXIT_INVALID)


def exit_with_problems(problems: tuple[Problem, ...], code: int = EXIT_INVALID) -> None:
    """Print the problems (file:line:column: severity: message) to standard error and exit with `code`."""
    from ..render.problems import render_problem_lines

    echo_text(render_problem_lines(problems), err=True)
    raise SystemExit(code)
