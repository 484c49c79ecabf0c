"""The spec format as a JSON Schema (draft 2020-12), generated from the layer registry the parser and engine use.

Editors read it (yaml-language-server: VS Code, Neovim, JetBrains, Helix) for completion, hover text and inline
errors. It is built from REGISTRY on demand, so a new kind or parameter is in it as soon as it is in the
registry. The parser stays the authority: every spec the parser accepts validates, and the schema catches the
mistakes of structure (an unknown key or kind, a boolean where a count belongs, a missing parameter); arithmetic
(a stride that does not fit) and cross-references (unique names) are the parser's and the engine's.
"""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .kinds import REGISTRY
from .kinds.base import (
    BOOL,
    COUNT,
    NUMBER,
    PADDING,
    POOL_PADDING,
    POSITIVE_NUMBER,
    PROBABILITY,
    SIZE,
    LayerKind,
    Param,
)
from .parser import MAX_SPATIAL_DIMS
from .spec import DEFAULT_DTYPE, DTYPE_BYTES, INPUT_NAME

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


# -- parameter types: one schema per Param type of cnncalc/kinds/base.py -------------------------------------
def _sizes(minimum: int) -> Schema:
    """An int, or one int per spatial dim (a list of 1 to 3)."""
    whole = {"type": "integer", "minimum": minimum}
    return {"anyOf": [whole, {"type": "array", "items": whole, "minItems": 1, "maxItems": MAX_SPATIAL_DIMS}]}


PARAM_TYPES: dict[str, Schema] = {
    COUNT: {"type": "integer", "minimum": 1},
    SIZE: _sizes(1),
    PADDING: {"anyOf": [*_sizes(0)["anyOf"], {"enum": ["same", "valid"]}]},
    POOL_PADDING: _sizes(0),
    BOOL: {"type": "boolean"},
    PROBABILITY: {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
    NUMBER: {"type": "number"},
    POSITIVE_NUMBER: {"type": "number", "exclusiveMinimum": 0},
}


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def param_schema(param: Param) -> Schema:
    """The parameter's type, its description and its default (a default of None is described, not given)."""
    schema: Schema = {"description": param.description, **PARAM_TYPES[param.type]}
    if not param.required and param.default is not None:
        schema["default"] = _json_value(param.default)
    return schema


def kind_description(kind: LayerKind) -> str:
    """The hover text of a kind key: what it does and its three rules."""
    return (f"{kind.summary}\n\nShape: {kind.shape_rule}\nParams: {kind.param_rule}\nMACs: {kind.mac_rule}")


def kind_value_schema(kind: LayerKind) -> Schema:
    """What may follow `kind:`: a mapping of its parameters; its main parameter alone when that is the only
    one required (`fc: 4096`); nothing when none is required (`relu:`)."""
    required = [p.name for p in kind.params if p.required]
    mapping: Schema = {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in kind.params},
        "additionalProperties": False,
    }
    if required:
        mapping["required"] = required
    choices = [mapping]
    if kind.main_param is not None and required in ([], [kind.main_param]):
        main = kind.param(kind.main_param)
        assert main is not None
        choices.append(param_schema(main))
    if not required:
        choices.append({"type": "null"})
    return {"description": kind_description(kind), "anyOf": choices}


def kinds_defs() -> Schema:
    return {f"kind_{name}": kind_value_schema(kind) for name, kind in REGISTRY.items()}


# == Structure outside the layer kinds ======================================================================
# The one place to extend when the spec format grows: root keys, the keys a layer may carry besides its kind,
# and the shapes a `layers:` item may take. Kinds and their parameters come from REGISTRY (above) and need no
# change here. tests/test_schema.py checks these keys against the parser's own lists.

LAYER_NAME: Schema = {
    "description": "The layer's name (default: its kind's prefix and a number, conv1, fc2, ...); unique. "
                   "Inside a repeat the iteration is appended (block_1, block_2).",
    "type": "string",
    "minLength": 1,
    "pattern": r"^[^/:\s]+$",
    "not": {"const": INPUT_NAME},
}

# Keys a layer mapping may have besides its one kind key.
LAYER_KEYS: dict[str, Schema] = {
    "name": _ref("layer_name"),
}


def structure_defs() -> Schema:
    """The $defs of everything that is not a kind."""
    bare = sorted(name for name, kind in REGISTRY.items() if not any(p.required for p in kind.params))
    return {
        "layer_name": LAYER_NAME,
        "layers": {
            "description": "The layers in order; each takes the previous one's output.",
            "type": "array",
            "minItems": 1,
            "items": _ref("layer"),
        },
        "layer": {
            "description": "A kind name (relu), a mapping with one kind key (conv: {filters: 64, kernel: 3}), "
                           "or a repeat block.",
            "anyOf": [_ref("bare_layer"), _ref("kind_layer"), _ref("repeat_block")],
        },
        "bare_layer": {
            "description": "A kind written alone takes its default parameters.",
            "enum": bare,
        },
        "kind_layer": {
            "type": "object",
            "properties": {**LAYER_KEYS, **{name: _ref(f"kind_{name}") for name in REGISTRY}},
            "additionalProperties": False,
            "oneOf": [{"required": [name]} for name in REGISTRY],  # exactly one kind per layer
        },
        "repeat_block": {
            "description": "Its layers, unrolled `repeat` times.",
            "type": "object",
            "properties": {
                "repeat": {"description": "How many times.", "type": "integer", "minimum": 1},
                "layers": _ref("layers"),
                "name": {**LAYER_NAME, "description": "Names the block (in messages and the JSON 'block' path)."},
            },
            "required": ["repeat", "layers"],
            "additionalProperties": False,
        },
    }


def root_schema() -> Schema:
    """The spec's top-level mapping."""
    return {
        "type": "object",
        "properties": {
            "name": {"description": "The network's name (default: the file name).",
                     "anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]},
            "input": {
                "description": "The input shape, channels first: [C], [C, L], [C, H, W] or [C, D, H, W].",
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 1 + MAX_SPATIAL_DIMS,
            },
            "dtype": {"description": "Bytes per value for the memory totals.", "enum": list(DTYPE_BYTES),
                      "default": DEFAULT_DTYPE},
            "layers": _ref("layers"),
        },
        "required": ["input", "layers"],
        "additionalProperties": False,
    }
# == end of the structure ===================================================================================


def spec_schema() -> Schema:
    """The whole schema, as a JSON-ready dict."""
    return {
        "$schema": DIALECT,
        "title": "cnncalc spec",
        "description": "A convolutional network for cnncalc: the input shape and the layers in order.",
        "$comment": f"Generated from cnncalc {__version__}'s layer registry by `cnncalc schema`.",
        **root_schema(),
        "$defs": {**structure_defs(), **kinds_defs()},
    }


def render_schema() -> str:
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
