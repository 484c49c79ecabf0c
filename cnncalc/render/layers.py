"""`cnncalc layers`: the layer registry as a reference (table, JSON, Markdown). Read from REGISTRY, never copied.

Every kind with its summary, parameters (type, default, meaning), shape rule, parameter formula and MAC
formula. All kinds: one row each; named kinds: every detail of each.
"""

from __future__ import annotations

import json
import re
from typing import Any, Sequence, TextIO

from ..kinds.base import CHOICE, LayerKind, Param
from ..kinds.params import PARAM_TYPES


def default_text(param: Param) -> str:
    """'required'; the default as YAML writes it (true, 0, 1e-5); or, for a default of None, what the
    description's '(default: ...)' says ('the kernel size'), else 'optional'."""
    if param.required:
        return "required"
    value = param.default
    if value is None:
        described = re.search(r"\(default: ([^)]+)\)", param.description)
        return described[1] if described else "optional"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}".replace("e-0", "e-")
    return str(value)


def type_text(param: Param) -> str:
    """'positive int', ...; a choice lists its words: 'exact or floor'."""
    if param.type == CHOICE:
        return ", ".join(param.choices[:-1]) + " or " + param.choices[-1] if len(param.choices) > 1 else param.choices[0]
    return PARAM_TYPES[param.type].text


def params_text(kind: LayerKind) -> str:
    """'filters, kernel, stride (1), ...': required ones bare, the others with their default."""
    return ", ".join(p.name if p.required else f"{p.name} ({default_text(p)})" for p in kind.params)


def scalar_form(kind: LayerKind) -> str:
    """The parameter a scalar sets (`fc: 4096`), when the kind may be written that way."""
    required = [p.name for p in kind.params if p.required]
    return kind.main_param if kind.main_param and required in ([], [kind.main_param]) else ""


def kind_dict(kind: LayerKind) -> dict[str, Any]:
    return {
        "name": kind.name,
        "category": kind.category,
        "summary": kind.summary,
        "params": [
            {"name": p.name, "type": p.type, "required": p.required, "default": None if p.required else p.default,
             "description": p.description}
            for p in kind.params
        ],
        "main_param": kind.main_param,
        "in_place": kind.in_place,
        "auto_name": kind.auto_prefix,
        "shape_rule": kind.shape_rule,
        "param_rule": kind.param_rule,
        "mac_rule": kind.mac_rule,
    }


def render_layers_json(kinds: Sequence[LayerKind]) -> str:
    return json.dumps({"kinds": [kind_dict(k) for k in kinds]}, indent=2, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def written_forms(kind: LayerKind) -> list[str]:
    """How a spec may write the kind: '- relu', '- conv: {filters: ..., kernel: ...}', '- fc: N (sets units)'."""
    required = [p.name for p in kind.params if p.required]
    forms = [] if required else [f"- {kind.name}"]
    if kind.params:
        example = ", ".join(f"{name}: ..." for name in required or [kind.params[0].name])
        forms.append(f"- {kind.name}: {{{example}}}")
    if scalar_form(kind):
        forms.append(f"- {kind.name}: N (sets {scalar_form(kind)})")
    return forms


def _detail_lines(kind: LayerKind) -> list[str]:
    """The lines under a kind's parameters: its rules, how it is written and named."""
    return [
        f"shape: {kind.shape_rule}",
        f"params: {kind.param_rule}",
        f"MACs: {kind.mac_rule}",
        "written: " + " or ".join(written_forms(kind)),
        f"names: {kind.auto_prefix}1, {kind.auto_prefix}2, ..." + ("; in place (no new tensor)" if kind.in_place else ""),
    ]


def render_layers_markdown(kinds: Sequence[LayerKind], detail: bool = False) -> str:
    if not detail:
        lines = ["| kind | parameters (default) | shape rule | params | MACs |", "|---|---|---|---|---|"]
        lines += [f"| `{k.name}` | {_md(params_text(k)) or 'none'} | {_md(k.shape_rule)} | {_md(k.param_rule)} | "
                  f"{_md(k.mac_rule)} |" for k in kinds]
        return "\n".join(lines) + "\n"
    blocks = []
    for kind in kinds:
        lines = [f"### `{kind.name}`", "", _md(kind.summary), ""]
        if kind.params:
            lines += ["| parameter | type | default | meaning |", "|---|---|---|---|"]
            lines += [f"| `{p.name}` | {_md(type_text(p))} | {default_text(p)} | {_md(p.description)} |"
                      for p in kind.params]
            lines.append("")
        lines += [f"- {_md(line)}" for line in _detail_lines(kind)]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


SUMMARY_KEYS = ["kind", "parameters", "shape", "params", "macs"]
DETAIL_KEYS = ["parameter", "type", "default", "meaning"]


def render_layers_table(kinds: Sequence[LayerKind], options=None, detail: bool = False, out: TextIO | None = None) -> None:
    from .console import TableOptions, show
    from .layout import BOLD, DIM, LABEL, NOTE, NUMBER, Block, Cell, Column, Para, Row, Table

    options = options or TableOptions()
    blocks: list[Block] = []
    if not detail:
        columns = [Column("kind", "kind", LABEL, 100, right=False),
                   Column("parameters", "parameters (default)", NOTE, 80, right=False),
                   Column("shape", "shape rule", NOTE, 70, right=False), Column("params", "params", NOTE, 60, right=False),
                   Column("macs", "MACs", NOTE, 50, right=False)]
        rows = [Row((Cell(kind.name, mark=BOLD), params_text(kind) or "none", kind.shape_rule, kind.param_rule,
                     kind.mac_rule)) for kind in kinds]
        show([Table(columns, rows), Para("cnncalc layers KIND shows one kind's parameters in full.", DIM)], options, out)
        return
    for i, kind in enumerate(kinds):
        if i:
            blocks.append(Para(""))
        blocks.append(Para(f"{kind.name}: {kind.summary}", BOLD))
        if kind.params:
            columns = [Column("parameter", "parameter", LABEL, 100, right=False),
                       Column("type", "type", NOTE, 60, right=False), Column("default", "default", NOTE, 70, right=False),
                       Column("meaning", "meaning", NOTE, 80, right=False)]
            blocks.append(Table(columns, [Row((p.name, type_text(p), default_text(p), p.description))
                                          for p in kind.params]))
        blocks += [Para(line) for line in _detail_lines(kind)]
    show(blocks, options, out)
