"""Drive every command of the CLI generically, so that commands added later are held to the same rules
(no traceback, no internal error, never a write to the spec) without new tests.

For each command the spec path goes wherever an argument takes a path or text, required options get a
plausible value from their type, and there is one invocation per choice of each choice option and one
per flag, so every output format is exercised.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner, Result

from cnncalc.cli import EXIT_INVALID, EXIT_NO_ANSWER, EXIT_OK, EXIT_USAGE, main

SAFE_EXIT_CODES = {EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_NO_ANSWER}  # 3 is a bug in cnncalc


def documented_commands() -> set[str]:
    """The command names `cnncalc --help` lists under "Commands:" (what the CLI documents)."""
    text = CliRunner().invoke(main, ["--help"]).output
    listed = text[text.index("Commands:"):].splitlines()[1:]
    return {line.split()[0] for line in listed if line.startswith("  ") and line.split()}


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command as (words to type, command), subcommand groups included.

    The group is asked as click asks it (list_commands, get_command), so commands loaded lazily are
    found; at the top level, fewer commands than `cnncalc --help` lists is an error of the harness."""
    ctx = click.Context(group, info_name=" ".join(("cnncalc",) + prefix))
    found = []
    names = group.list_commands(ctx)
    for name in sorted(names):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        if isinstance(command, click.Group):
            found.extend(commands(command, prefix + (name,)))
        else:
            found.append((prefix + (name,), command))
    if not prefix:
        documented = documented_commands()
        reached = {words[0] for words, _ in found}
        missing = documented - reached
        if not found or missing or len(reached) < len(documented):
            raise AssertionError(f"the harness reaches {sorted(reached)} but cnncalc --help lists {sorted(documented)}")
    return found


def _value(param: click.Parameter, spec: str, out_dir: Path) -> str:
    """A plausible value for a parameter, from its type alone."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        low = kind.min if kind.min is not None else 1
        return str(max(low, 1) if kind.max is None or kind.max >= 1 else kind.max)
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "1"
    names = " ".join(param.opts).lower() if isinstance(param, click.Option) else str(param.name)
    if any(word in names for word in ("out", "dest", "dir")):
        return str(out_dir / "out")
    return spec


def takes_a_spec(command: click.Command) -> bool:
    return any(isinstance(p, click.Argument) for p in command.params)


def invocations(command: click.Command, spec: str, out_dir: Path, variants: bool = True) -> list[list[str]]:
    """Argument lists for `command` with `spec` as its spec(s): the plain call, then one per choice and flag."""
    base: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            count = param.nargs if param.nargs > 0 else 1
            base.extend(_value(param, spec, out_dir) for _ in range(count))
        elif isinstance(param, click.Option) and param.required:
            base.extend([param.opts[0], _value(param, spec, out_dir)])
    calls = [base]
    if not variants:
        return calls
    for param in command.params:
        if not isinstance(param, click.Option) or param.required or param.hidden:
            continue
        if param.is_flag and not param.count:
            calls.append(base + [param.opts[0]])
        elif isinstance(param.type, click.Choice):
            calls.extend(base + [param.opts[0], str(choice)] for choice in param.type.choices)
    return calls


def run(args: list[str], stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, args, input=stdin)


def assert_no_crash(result: Result, args: list[str]) -> None:
    """An answer or a located error: exit 0, 1, 2 or 4, never a traceback or the internal-error line."""
    where = f"cnncalc {' '.join(args)[:200]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{where} raised {result.exception!r}"
    assert result.exit_code in SAFE_EXIT_CODES, f"{where} exited {result.exit_code}: {result.output[-500:]}"
    assert "Traceback" not in result.output, f"{where} printed a traceback"
    assert "internal error" not in result.output, f"{where}: {result.output[-500:]}"
